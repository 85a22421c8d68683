"""How the engine carries out each action: one function per record type, in a table.

Each handler checks the action against the twin and the state of the run first
(asset ids exist and are of the right kind, enough crews are free, ...) and raises
:class:`~twin.actions.ActionError` before changing anything; then it changes the
state and returns a short note of what it did (for the decision log). Notes and
refusals are :class:`~common.i18n.Message` records (a catalogue key with its
arguments), so the drill shows them in its language; ``str()`` is the English.
Handlers run at the moment the engine applies the decision (see the engine's
docstring on when a decision acts).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from common.errors import InputError
from common.i18n import Message
from networks.schema import AssetClass, NetworkKind
from twin.actions import (
    Action,
    ActionError,
    BackupPower,
    CloseRoad,
    Decision,
    Deenergise,
    Fail,
    HoldCrews,
    MutualAid,
    OpenRoad,
    Pin,
    Preposition,
    Reenergise,
    Refuel,
    ReleaseCrews,
    SetPolicy,
    did_you_mean,
    utility_name,
)
from twin.compile import CLASS_INDEX, CLASSES, NET_INDEX, Twin
from twin.crews import Crew, CrewStatus
from twin.policies import make_policy

if TYPE_CHECKING:
    from twin.engine import Engine

ROADS = NET_INDEX[NetworkKind.ROADS]
POWER = NET_INDEX[NetworkKind.POWER]
_ROAD_LINKS = {CLASS_INDEX[AssetClass.ROAD_SEGMENT], CLASS_INDEX[AssetClass.BRIDGE]}
_POWER_LINES = {CLASS_INDEX[AssetClass.FEEDER_SEGMENT], CLASS_INDEX[AssetClass.TRANSMISSION_LINE]}


# ---------------------------------------------------------------- shared checks
def lookup(eng: Engine, ids: Sequence[str], where: str) -> np.ndarray:
    """Twin indices of asset ids; an unknown id is refused with the closest matches."""
    index = eng.twin.index
    out = []
    for a in ids:
        i = index.get(a)
        if i is None:
            close = difflib.get_close_matches(a, index.keys(), n=3, cutoff=0.7)
            msg = (Message("err_no_such_asset_close", asset=a, city=eng.twin.name,
                           close=", ".join(close)) if close
                   else Message("err_no_such_asset", asset=a, city=eng.twin.name))
            raise ActionError(msg, where=where)
        out.append(i)
    return np.asarray(out, dtype=np.int64)


def _kind(eng: Engine, i: int) -> str:
    t = eng.twin
    return f"{t.network_of(i).value} {CLASSES[t.asset_class[i]].value}"


def _road_nodes(eng: Engine, ids: Sequence[str], where: str) -> list[int]:
    idx = lookup(eng, ids, where)
    t = eng.twin
    for i in idx:
        if t.network[i] != ROADS or t.is_edge[i]:
            raise ActionError(Message("err_not_road_node", asset=t.ids[i],
                                      kind=_kind(eng, int(i))), where=where)
    return [int(i) for i in idx]


def _links(eng: Engine, ids: Sequence[str], classes: set[int], what: Message,
           where: str) -> np.ndarray:
    idx = lookup(eng, ids, where)
    for i in idx:
        if int(eng.twin.asset_class[i]) not in classes:
            raise ActionError(Message("err_wrong_link", asset=eng.twin.ids[i],
                                      kind=_kind(eng, int(i)), what=what), where=where)
    return idx


def _utility(eng: Engine, name: str, where: str) -> int:
    """The kind index of a utility the city has (a record only checks the name)."""
    k = NET_INDEX[NetworkKind(name)]
    if k not in eng.twin.kinds:
        raise ActionError(Message("err_no_network", utility=utility_name(name),
                                  city=eng.twin.name), where=where)
    return k


def _crews_of(eng: Engine, k: int) -> list[Crew]:
    return [c for c in eng.crews if c.utility == k]


def _after_change(eng: Engine) -> None:
    eng._recompute()
    eng._notify()


# ---------------------------------------------------------------- handlers
def _class_mask(eng: Engine, classes: Sequence[str]) -> np.ndarray:
    t = eng.twin
    names = [c.value for c in CLASSES]
    keep = np.zeros(t.n, dtype=bool)
    for c in classes:
        if c not in names:
            raise ActionError(Message("err_unknown_class", value=c, hint=did_you_mean(c, names)),
                              where="fail.asset_classes")
        keep |= t.asset_class == names.index(c)
    return keep


def _fail_targets(eng: Engine, a: Fail) -> np.ndarray:
    t = eng.twin
    if a.assets:
        return lookup(eng, a.assets, "fail.assets")
    sel = a.area.contains(t.x_m, t.y_m)
    if a.asset_classes:
        sel &= _class_mask(eng, a.asset_classes)
    idx = np.nonzero(sel)[0].astype(np.int64)
    if not len(idx):
        key = "err_area_no_assets_of_classes" if a.asset_classes else "err_area_no_assets"
        raise ActionError(Message(key, area=a.area.to_record()), where="fail.area")
    return idx


def _powered(eng: Engine, ids: Sequence[str]) -> np.ndarray:
    """Assets that can take a generator: they depend on power."""
    idx = lookup(eng, ids, "backup_power.assets")
    t = eng.twin
    for i in idx:
        sup = t.dep_supplier[t.dep_indptr[i]:t.dep_indptr[i + 1]]
        if not np.any(t.network[sup] == POWER):
            raise ActionError(Message("err_no_power_dependency", asset=t.ids[i],
                                      kind=_kind(eng, int(i))), where="backup_power.assets")
    return idx


def fail(eng: Engine, a: Fail) -> Message:
    from common.names import DS_INDEX

    idx = _fail_targets(eng, a)
    ds = DS_INDEX[a.damage_state]
    worse = int(np.sum(eng.state.damage[idx] < ds))
    eng._damage(idx, np.full(len(idx), ds, np.int8))
    _after_change(eng)
    state = Message(f"ds_{a.damage_state}")
    if worse == len(idx):
        return Message("note_fail", worse=worse, n=len(idx), state=state)
    return Message("note_fail_worse", worse=worse, n=len(idx), state=state,
                   same=len(idx) - worse)


def _hold(eng: Engine, k: int, reqs: list, duration_h: float):
    """A hold: its slots wait for crews to finish their job, then keep them for the
    duration (counted from the decision), unless released earlier."""
    pool = eng.crew_res[k]
    end = eng.env.now + duration_h
    yield eng.env.all_of(reqs)
    if end > eng.env.now:
        yield eng.env.timeout(end - eng.env.now)
    for r in reqs:
        if r in eng.holds[k]:
            eng.holds[k].remove(r)
            pool.release(r)


def hold_crews(eng: Engine, a: HoldCrews) -> Message:
    k = _utility(eng, a.utility, "hold_crews.utility")
    total, held = len(_crews_of(eng, k)), eng.held(k)
    if a.count > total - held:
        raise ActionError(Message("err_too_many_held", count=a.count,
                                  utility=utility_name(a.utility), total=total, held=held),
                          where="hold_crews.count")
    pool = eng.crew_res[k]
    reqs = [pool.request(priority=0) for _ in range(a.count)]
    eng.holds[k].extend(reqs)
    eng.env.process(_hold(eng, k, reqs, a.duration_h))
    return Message("note_held", count=a.count, utility=utility_name(a.utility),
                   until=eng.now + a.duration_h)


def release_crews(eng: Engine, a: ReleaseCrews) -> Message:
    k = _utility(eng, a.utility, "release_crews.utility")
    held = eng.held(k)
    if held == 0:
        raise ActionError(Message("err_none_held", utility=utility_name(a.utility)),
                          where="release_crews")
    n = held if a.count is None else a.count
    if n > held:
        raise ActionError(Message("err_release_too_many", count=n,
                                  utility=utility_name(a.utility), held=held),
                          where="release_crews.count")
    pool = eng.crew_res[k]
    for r in eng.holds[k][:n]:
        if r.triggered:
            pool.release(r)
        else:
            r.cancel()  # still waiting for a crew to finish: withdraw the hold
    del eng.holds[k][:n]
    eng._notify()
    return Message("note_released", count=n, utility=utility_name(a.utility))


def _aid(eng: Engine, k: int, utility: str, count: int, nodes: list[int], after_h: float):
    if after_h > 0:
        yield eng.env.timeout(after_h)
    have = len(_crews_of(eng, k))
    pool = eng.crew_res[k]
    # a pool without crews was opened with one idle slot (simpy needs capacity >= 1)
    pool.add(count - (1 if have == 0 and pool.capacity == 1 else 0))
    first = sum(c.name.startswith(f"{utility}-aid-") for c in eng.crews)
    for j in range(count):
        crew = Crew(f"{utility}-aid-{first + j + 1:02d}", k, nodes[j % len(nodes)], staged=True,
                    status=CrewStatus.IDLE)
        eng.add_crew(crew, arrived=True)
    eng._notify()


def mutual_aid(eng: Engine, a: MutualAid) -> Message:
    k = _utility(eng, a.utility, "mutual_aid.utility")
    nodes = _road_nodes(eng, a.assets, "mutual_aid.assets")
    if eng.now + a.after_h > eng.horizon_h:
        raise ActionError(Message("err_arrival_past_horizon", t=eng.now + a.after_h,
                                  horizon=eng.horizon_h), where="mutual_aid.after_h")
    eng.env.process(_aid(eng, k, a.utility, a.count, nodes, a.after_h))
    return Message("note_aid", count=a.count, utility=utility_name(a.utility),
                   t=eng.now + a.after_h, nodes=", ".join(a.assets))


def pin(eng: Engine, a: Pin) -> Message:
    idx = lookup(eng, a.assets, "pin.assets")
    new = [int(i) for i in idx if int(i) not in eng.pinned]
    if not new:
        raise ActionError(Message("err_already_pinned", assets=", ".join(a.assets)),
                          where="pin.assets")
    eng.pinned.extend(new)
    eng._notify()
    intact = [eng.twin.ids[i] for i in new if eng.state.damage[i] == 0]
    if intact:
        return Message("note_pinned_intact", n=len(new), intact=", ".join(intact))
    return Message("note_pinned", n=len(new))


def set_policy(eng: Engine, a: SetPolicy) -> Message:
    if eng.policy.name == a.policy:
        raise ActionError(Message("err_same_policy", policy=a.policy), where="set_policy")
    old = eng.policy.name
    eng.policy = make_policy(a.policy)
    eng._notify()
    return Message("note_policy", old=old, new=a.policy)


def _fuel(eng: Engine, idx: np.ndarray, hours: float) -> None:
    st = eng.state
    st.backup_left[idx] += hours
    for i in idx[st.on_backup[idx]]:  # already on backup: the fuel now lasts longer
        eng.env.process(eng._fuel_out(int(i), st.backup_since[i] + st.backup_left[i]))
    _after_change(eng)


def backup_power(eng: Engine, a: BackupPower) -> Message:
    idx = _powered(eng, a.assets)
    eng.generator[idx] = True
    _fuel(eng, idx, a.hours)
    return Message("note_generator", hours=a.hours, assets=", ".join(a.assets))


def refuel(eng: Engine, a: Refuel) -> Message:
    idx = lookup(eng, a.assets, "refuel.assets")
    none = [eng.twin.ids[i] for i in idx if not eng.generator[i]]
    if none:
        raise ActionError(Message("err_no_generator", assets=", ".join(none)),
                          where="refuel.assets")
    _fuel(eng, idx, a.hours)
    return Message("note_refuel", hours=a.hours, assets=", ".join(a.assets))


#: What a switch does, by (what it switches, on or off): the note's key, and the
#: refusal's key when an asset is already so (off) or was not switched off (on).
_SWITCH_KEYS = {("road", True): ("note_closed", "err_already_closed"),
                ("road", False): ("note_reopened", "err_not_closed"),
                ("power", True): ("note_deenergised", "err_already_deenergised"),
                ("power", False): ("note_reenergised", "err_not_deenergised")}


def _switch(eng: Engine, idx: np.ndarray, off: bool, what: str, where: str) -> Message:
    note, refusal = _SWITCH_KEYS[what, off]
    st = eng.state
    t = eng.twin
    wrong = [t.ids[i] for i in idx if st.switched_off[i] == off]
    if wrong:
        raise ActionError(Message(refusal, assets=", ".join(wrong)), where=where)
    st.switched_off[idx] = off
    if off:
        eng._log(idx[st.damage[idx] == 0], "outage")
    else:
        eng._log(idx[st.up(eng.now)[idx]], "restored")
    _after_change(eng)
    return Message(note, n=len(idx))


_ROAD = Message("what_road_link")
_LINE = Message("what_power_line")
#: The switching actions: the links they take and the word for one, whether they
#: switch off, and what they switch (the key of ``_SWITCH_KEYS``).
_SWITCHING: dict[type[Action], tuple[set[int], Message, bool, str]] = {
    CloseRoad: (_ROAD_LINKS, _ROAD, True, "road"),
    OpenRoad: (_ROAD_LINKS, _ROAD, False, "road"),
    Deenergise: (_POWER_LINES, _LINE, True, "power"),
    Reenergise: (_POWER_LINES, _LINE, False, "power"),
}


def _switch_targets(eng: Engine, a: Action) -> np.ndarray:
    links, word, _, _ = _SWITCHING[type(a)]
    return _links(eng, a.assets, links, word, f"{a.name}.assets")


def switch_links(eng: Engine, a: Action) -> Message:
    """close_road, open_road, deenergise, reenergise."""
    _, _, off, what = _SWITCHING[type(a)]
    return _switch(eng, _switch_targets(eng, a), off, what, f"{a.name}.assets")


def preposition(eng: Engine, a: Preposition) -> Message:
    k = _utility(eng, a.utility, "preposition.utility")
    nodes = _road_nodes(eng, a.assets, "preposition.assets")
    if eng.first_damage.triggered:
        raise ActionError(Message("err_crews_out"), where="preposition")
    free = [c for c in _crews_of(eng, k) if not c.staged]
    if a.count > len(free):
        raise ActionError(Message("err_too_many_staged", count=a.count,
                                  utility=utility_name(a.utility), free=len(free)),
                          where="preposition.count")
    for j, c in enumerate(free[:a.count]):
        c.location = nodes[j % len(nodes)]
        c.staged = True
    return Message("note_staged", count=a.count, utility=utility_name(a.utility),
                   nodes=", ".join(a.assets))


#: The dispatch table: action record type -> handler.
HANDLERS: dict[type[Action], Callable[[Engine, Action], Message]] = {
    Fail: fail, HoldCrews: hold_crews, ReleaseCrews: release_crews, MutualAid: mutual_aid,
    Pin: pin, SetPolicy: set_policy, BackupPower: backup_power, Refuel: refuel,
    Preposition: preposition, **dict.fromkeys(_SWITCHING, switch_links),
}


class _TwinOnly:
    """What the static checks may read of an engine: its twin (no state, no clock)."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin


#: What can be checked on the twin alone, before a run: asset ids and their kinds.
STATIC_CHECKS: dict[type[Action], Callable[[Any, Any], object]] = {
    Fail: _fail_targets,
    MutualAid: lambda e, a: (_utility(e, a.utility, "mutual_aid.utility"),
                             _road_nodes(e, a.assets, "mutual_aid.assets")),
    Preposition: lambda e, a: (_utility(e, a.utility, "preposition.utility"),
                               _road_nodes(e, a.assets, "preposition.assets")),
    HoldCrews: lambda e, a: _utility(e, a.utility, "hold_crews.utility"),
    ReleaseCrews: lambda e, a: _utility(e, a.utility, "release_crews.utility"),
    **dict.fromkeys(_SWITCHING, _switch_targets),
    BackupPower: lambda e, a: _powered(e, a.assets),
    Refuel: lambda e, a: lookup(e, a.assets, "refuel.assets"),
    Pin: lambda e, a: lookup(e, a.assets, "pin.assets"),
}


def check_on_twin(twin: Twin, action: Action) -> None:
    """Refuse, before a run, an action whose assets do not exist or are of the wrong
    kind (what depends on the run's state is checked when it applies)."""
    check = STATIC_CHECKS.get(type(action))
    if check is not None:
        check(_TwinOnly(twin), action)


def checked_decisions(twin: Twin, interventions) -> list[Decision]:
    """A config's ``interventions`` (records or :class:`Decision`) as decisions, each
    checked on the twin alone; a problem names ``interventions.<i>``."""
    out = []
    for i, iv in enumerate(interventions):
        where = f"interventions.{i}"
        d = iv if isinstance(iv, Decision) else Decision.from_record(iv, where=where)
        try:
            check_on_twin(twin, d.action)
        except InputError as e:
            raise ActionError(e.text, where=where) from None
        out.append(d)
    return out
