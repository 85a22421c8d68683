"""How the engine carries out each action: one function per record type, in a table.

Each handler checks the action against the twin and the state of the run first
(asset ids exist and are of the right kind, enough crews are free, ...) and raises
:class:`~twin.actions.ActionError` before changing anything; then it changes the
state and returns a short note of what it did (for the decision log). Handlers
run at the moment the engine applies the decision (see the engine's docstring on
when a decision acts).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from networks.schema import AssetClass, NetworkKind
from twin.actions import (
    Action,
    ActionError,
    BackupPower,
    CloseRoad,
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
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ActionError(f"asset {a!r} does not exist in city '{eng.twin.name}'{hint}",
                              where=where)
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
            raise ActionError(f"{t.ids[i]!r} is a {_kind(eng, int(i))}, not a road node",
                              where=where)
    return [int(i) for i in idx]


def _links(eng: Engine, ids: Sequence[str], classes: set[int], what: str,
           where: str) -> np.ndarray:
    idx = lookup(eng, ids, where)
    for i in idx:
        if int(eng.twin.asset_class[i]) not in classes:
            raise ActionError(f"{eng.twin.ids[i]!r} is a {_kind(eng, int(i))}, not {what}",
                              where=where)
    return idx


def _utility(name: str) -> int:
    return NET_INDEX[NetworkKind(name)]


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
            close = difflib.get_close_matches(c, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(names)}"
            raise ActionError(f"unknown asset class {c!r} ({hint})",
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
        raise ActionError(f"the area {a.area.to_record()} holds no assets"
                          + (" of those classes" if a.asset_classes else ""), where="fail.area")
    return idx


def _powered(eng: Engine, ids: Sequence[str]) -> np.ndarray:
    """Assets that can take a generator: they depend on power."""
    idx = lookup(eng, ids, "backup_power.assets")
    t = eng.twin
    for i in idx:
        sup = t.dep_supplier[t.dep_indptr[i]:t.dep_indptr[i + 1]]
        if not np.any(t.network[sup] == POWER):
            raise ActionError(f"{t.ids[i]!r} ({_kind(eng, int(i))}) does not depend on power:"
                              " a generator does nothing there", where="backup_power.assets")
    return idx


def fail(eng: Engine, a: Fail) -> str:
    from common.names import DS_INDEX

    idx = _fail_targets(eng, a)
    ds = DS_INDEX[a.damage_state]
    worse = int(np.sum(eng.state.damage[idx] < ds))
    eng._damage(idx, np.full(len(idx), ds, np.int8))
    _after_change(eng)
    return (f"{worse} of {len(idx)} asset(s) now {a.damage_state}"
            + ("" if worse == len(idx) else f"; {len(idx) - worse} already as bad or worse"))


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


def hold_crews(eng: Engine, a: HoldCrews) -> str:
    k = _utility(a.utility)
    total, held = len(_crews_of(eng, k)), eng.held(k)
    if a.count > total - held:
        raise ActionError(f"{a.count} {a.utility} crews asked, {a.utility} has {total}"
                          f" ({held} already held)", where="hold_crews.count")
    pool = eng.crew_res[k]
    reqs = [pool.request(priority=0) for _ in range(a.count)]
    eng.holds[k].extend(reqs)
    eng.env.process(_hold(eng, k, reqs, a.duration_h))
    return f"{a.count} {a.utility} crew(s) held until {eng.now + a.duration_h:g} h"


def release_crews(eng: Engine, a: ReleaseCrews) -> str:
    k = _utility(a.utility)
    held = eng.held(k)
    if held == 0:
        raise ActionError(f"no {a.utility} crews are held", where="release_crews")
    n = held if a.count is None else a.count
    if n > held:
        raise ActionError(f"{n} {a.utility} crews to release, only {held} held",
                          where="release_crews.count")
    pool = eng.crew_res[k]
    for r in eng.holds[k][:n]:
        if r.triggered:
            pool.release(r)
        else:
            r.cancel()  # still waiting for a crew to finish: withdraw the hold
    del eng.holds[k][:n]
    eng._notify()
    return f"{n} {a.utility} crew(s) released"


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


def mutual_aid(eng: Engine, a: MutualAid) -> str:
    k = _utility(a.utility)
    nodes = _road_nodes(eng, a.assets, "mutual_aid.assets")
    if eng.now + a.after_h > eng.horizon_h:
        raise ActionError(f"arrival at {eng.now + a.after_h:g} h is past the horizon "
                          f"{eng.horizon_h:g} h", where="mutual_aid.after_h")
    eng.env.process(_aid(eng, k, a.utility, a.count, nodes, a.after_h))
    return (f"{a.count} {a.utility} crew(s) arrive at {eng.now + a.after_h:g} h at "
            f"{', '.join(a.assets)}")


def pin(eng: Engine, a: Pin) -> str:
    idx = lookup(eng, a.assets, "pin.assets")
    new = [int(i) for i in idx if int(i) not in eng.pinned]
    if not new:
        raise ActionError(f"{', '.join(a.assets)} already pinned", where="pin.assets")
    eng.pinned.extend(new)
    eng._notify()
    intact = [eng.twin.ids[i] for i in new if eng.state.damage[i] == 0]
    return (f"{len(new)} asset(s) first in their utility's queue"
            + (f" ({', '.join(intact)} not damaged now)" if intact else ""))


def set_policy(eng: Engine, a: SetPolicy) -> str:
    if eng.policy.name == a.policy:
        raise ActionError(f"the repair policy is already {a.policy!r}", where="set_policy")
    old = eng.policy.name
    eng.policy = make_policy(a.policy)
    eng._notify()
    return f"policy {old} -> {a.policy}"


def _fuel(eng: Engine, idx: np.ndarray, hours: float) -> None:
    st = eng.state
    st.backup_left[idx] += hours
    for i in idx[st.on_backup[idx]]:  # already on backup: the fuel now lasts longer
        eng.env.process(eng._fuel_out(int(i), st.backup_since[i] + st.backup_left[i]))
    _after_change(eng)


def backup_power(eng: Engine, a: BackupPower) -> str:
    idx = _powered(eng, a.assets)
    eng.generator[idx] = True
    _fuel(eng, idx, a.hours)
    return f"generator(s) with {a.hours:g} h of fuel at {', '.join(a.assets)}"


def refuel(eng: Engine, a: Refuel) -> str:
    idx = lookup(eng, a.assets, "refuel.assets")
    none = [eng.twin.ids[i] for i in idx if not eng.generator[i]]
    if none:
        raise ActionError(f"no generator at {', '.join(none)} (send one with backup_power)",
                          where="refuel.assets")
    _fuel(eng, idx, a.hours)
    return f"{a.hours:g} h more fuel at {', '.join(a.assets)}"


def _switch(eng: Engine, idx: np.ndarray, off: bool, what: str, where: str) -> str:
    st = eng.state
    t = eng.twin
    wrong = [t.ids[i] for i in idx if st.switched_off[i] == off]
    if wrong:
        state = "already" if off else "not"
        raise ActionError(f"{', '.join(wrong)} {state} {what} by a decision", where=where)
    st.switched_off[idx] = off
    if off:
        eng._log(idx[st.damage[idx] == 0], "outage")
    else:
        eng._log(idx[st.up(eng.now)[idx]], "restored")
    _after_change(eng)
    return f"{len(idx)} asset(s) {what}"


def close_road(eng: Engine, a: CloseRoad) -> str:
    idx = _links(eng, a.assets, _ROAD_LINKS, "a road segment or bridge", "close_road.assets")
    return _switch(eng, idx, True, "closed", "close_road.assets")


def open_road(eng: Engine, a: OpenRoad) -> str:
    idx = _links(eng, a.assets, _ROAD_LINKS, "a road segment or bridge", "open_road.assets")
    return _switch(eng, idx, False, "closed", "open_road.assets").replace("closed", "reopened")


def deenergise(eng: Engine, a: Deenergise) -> str:
    idx = _links(eng, a.assets, _POWER_LINES, "a power line", "deenergise.assets")
    return _switch(eng, idx, True, "de-energised", "deenergise.assets")


def reenergise(eng: Engine, a: Reenergise) -> str:
    idx = _links(eng, a.assets, _POWER_LINES, "a power line", "reenergise.assets")
    return _switch(eng, idx, False, "de-energised", "reenergise.assets").replace(
        "de-energised", "re-energised")


def preposition(eng: Engine, a: Preposition) -> str:
    k = _utility(a.utility)
    nodes = _road_nodes(eng, a.assets, "preposition.assets")
    if eng.first_damage.triggered:
        raise ActionError("crews are already out (the first damage has happened): send "
                          "mutual_aid or pin jobs instead", where="preposition")
    free = [c for c in _crews_of(eng, k) if not c.staged]
    if a.count > len(free):
        raise ActionError(f"{a.count} {a.utility} crews to stage, {len(free)} not staged yet",
                          where="preposition.count")
    for j, c in enumerate(free[:a.count]):
        c.location = nodes[j % len(nodes)]
        c.staged = True
    return f"{a.count} {a.utility} crew(s) staged at {', '.join(a.assets)}"


#: The dispatch table: action record type -> handler.
HANDLERS: dict[type[Action], Callable[[Engine, Action], str]] = {
    Fail: fail, HoldCrews: hold_crews, ReleaseCrews: release_crews, MutualAid: mutual_aid,
    Pin: pin, SetPolicy: set_policy, BackupPower: backup_power, Refuel: refuel,
    CloseRoad: close_road, OpenRoad: open_road, Deenergise: deenergise,
    Reenergise: reenergise, Preposition: preposition,
}


class _TwinOnly:
    """What the static checks may read of an engine: its twin (no state, no clock)."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin


_ROAD = "a road segment or bridge"
#: What can be checked on the twin alone, before a run: asset ids and their kinds.
STATIC_CHECKS: dict[type[Action], Callable[[Any, Any], object]] = {
    Fail: _fail_targets,
    MutualAid: lambda e, a: _road_nodes(e, a.assets, "mutual_aid.assets"),
    Preposition: lambda e, a: _road_nodes(e, a.assets, "preposition.assets"),
    CloseRoad: lambda e, a: _links(e, a.assets, _ROAD_LINKS, _ROAD, "close_road.assets"),
    OpenRoad: lambda e, a: _links(e, a.assets, _ROAD_LINKS, _ROAD, "open_road.assets"),
    Deenergise: lambda e, a: _links(e, a.assets, _POWER_LINES, "a power line",
                                    "deenergise.assets"),
    Reenergise: lambda e, a: _links(e, a.assets, _POWER_LINES, "a power line",
                                    "reenergise.assets"),
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
