"""Typed actions: the injects and decisions of a drill, one small frozen record each.

A scenario's ``interventions``, the Python API (:meth:`twin.engine.Engine.apply`)
and the drill console all speak these records, so a drill's decision log *is* a
scenario and a scenario replays a drill. Each record checks what it can on its
own when it is built (names, counts, hours); the engine checks the rest against
the twin and the state of the run when it applies it (asset ids, crews
available). Either way a problem is an :class:`ActionError`, one line naming
the action and the field. Its message is a :class:`~common.i18n.Message` (a key
of the one catalogue with its arguments): English in ``str()``, the CLI and the
files; rendered in the console's language by the drill.

The records know nothing of the engine: the engine dispatches them by type
through a table (:data:`twin.engine.HANDLERS`), and :data:`ACTIONS` maps the
names used in files to the record classes.

================ ============================================ =====================
name             what                                         fields
================ ============================================ =====================
``fail``         damage assets, or those of some classes in   ``assets`` or
                 an area, to a damage state                   ``area``, ...
``hold_crews``   keep crews back (they finish their job)      utility, count,
                                                              duration_h
``release_crews`` end holds early (all, or ``count`` crews)   utility [, count]
``mutual_aid``   crews from elsewhere arrive ``after_h`` later utility, count,
                 at a road node                               assets, after_h
``pin``          put assets at the top of their utility's     assets
                 repair queue (in the given order)
``set_policy``   change the repair policy                     policy
``backup_power`` a mobile generator at each asset with        assets, hours
                 ``hours`` of fuel
``refuel``       more fuel for generators already there       assets, hours
``close_road``   take road segments out of service            assets
``open_road``    put closed roads back                        assets
``deenergise``   switch feeders/lines off pre-emptively       assets
``reenergise``   switch them back on                          assets
``preposition``  stage crews at road nodes before the hazard  utility, count,
                                                              assets
================ ============================================ =====================
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from common.errors import InputError
from common.i18n import Message
from common.names import DAMAGE_STATES, NETWORKS


class ActionError(InputError):
    """An inject or decision that cannot be applied (what, where, and why)."""


def _where(action: str, field_name: str | None = None) -> str:
    return f"{action}.{field_name}" if field_name else action


def did_you_mean(value: Any, allowed: Any, *, n: int = 1) -> Message:
    """The hint of a refused name: the closest allowed one, or all of them."""
    allowed = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(value), allowed, n=n)
    if close:
        return Message("hint_did_you_mean", close=close[0])
    return Message("hint_allowed", allowed=", ".join(allowed))


def utility_name(utility: str) -> Message:
    """A utility's name (``power``, ``water``, ``roads``) in a note or message."""
    return Message(f"net_{utility}")


def _utility(action: str, value: Any) -> str:
    if value not in NETWORKS:
        raise ActionError(Message("err_unknown_utility", value=value, hint=Message(
            "hint_allowed", allowed=", ".join(NETWORKS))), where=_where(action, "utility"))
    return str(value)


def _count(action: str, value: Any, name: str = "count") -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or value < 1:
        raise ActionError(Message("err_whole_number", value=value), where=_where(action, name))
    return int(value)


def _hours(action: str, value: Any, name: str, *, zero_ok: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero_ok):
        bound = ">= 0" if zero_ok else "> 0"
        raise ActionError(Message("err_hours", bound=bound, value=value),
                          where=_where(action, name))
    return float(value)


def _ids(action: str, value: Any, *, required: bool = True) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ActionError(Message("err_asset_ids", value=value), where=_where(action, "assets"))
    if required and not value:
        raise ActionError(Message("err_no_asset_ids"), where=_where(action, "assets"))
    return tuple(value)


@dataclass(frozen=True)
class Area:
    """A circle ``(x, y, radius)`` or a box ``(xmin, ymin, xmax, ymax)`` in the city CRS (m)."""

    kind: str
    values: tuple[float, ...]

    SIZES: ClassVar[dict[str, int]] = {"circle": 3, "bbox": 4}

    def __post_init__(self) -> None:
        n = self.SIZES.get(self.kind)
        if n is None:
            raise ActionError(Message("err_area_kind", kind=self.kind), where="fail.area")
        v = self.values
        if len(v) != n or not all(isinstance(x, int | float) and math.isfinite(x) for x in v):
            raise ActionError(Message("err_area_size", kind=self.kind, n=n, values=list(v)),
                              where="fail.area")
        if (self.kind == "circle" and v[2] <= 0) or (self.kind == "bbox" and (
                v[0] >= v[2] or v[1] >= v[3])):
            raise ActionError(Message("err_area_empty", kind=self.kind, values=list(v)),
                              where="fail.area")

    @classmethod
    def from_record(cls, value: Any) -> Area:
        if not isinstance(value, Mapping) or len(value) != 1:
            raise ActionError(Message("err_area_record", value=value), where="fail.area")
        (kind, v), = value.items()
        if not isinstance(v, list | tuple):
            raise ActionError(Message("err_area_numbers", kind=kind, value=v), where="fail.area")
        return cls(str(kind), tuple(v))

    def to_record(self) -> dict[str, list[float]]:
        return {self.kind: list(self.values)}

    def contains(self, x, y):
        """Boolean mask of the points inside (arrays in, array out)."""
        v = self.values
        if self.kind == "circle":
            return (x - v[0]) ** 2 + (y - v[1]) ** 2 <= v[2] ** 2
        return (x >= v[0]) & (x <= v[2]) & (y >= v[1]) & (y <= v[3])


class Action:
    """Base of the action records: ``name`` is the spelling in files and the console."""

    name: ClassVar[str]

    def to_record(self) -> dict[str, Any]:
        """The record as a scenario ``interventions`` entry (without ``time_h``)."""
        out: dict[str, Any] = {"action": self.name}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is None or v == () or (f.name == "after_h" and v == 0):
                continue
            out[f.name] = v.to_record() if isinstance(v, Area) else (
                list(v) if isinstance(v, tuple) else v)
        return out

    def describe(self) -> str:
        """A short human line (the English fallback of the console's log)."""
        rec = self.to_record()
        rec.pop("action")
        args = ", ".join(f"{k}={v}" for k, v in rec.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class Fail(Action):
    """Damage ``assets`` (ids), or the assets in ``area`` (of ``asset_classes``, if given)."""

    name: ClassVar[str] = "fail"
    assets: tuple[str, ...] = ()
    damage_state: str = "complete"
    area: Area | None = None
    asset_classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _ids(self.name, self.assets, required=False))
        if bool(self.assets) == (self.area is not None):
            raise ActionError(Message("err_assets_or_area"), where=self.name)
        if self.damage_state not in DAMAGE_STATES[1:]:
            raise ActionError(Message("err_damage_state", value=self.damage_state, hint=Message(
                "hint_allowed", allowed=", ".join(DAMAGE_STATES[1:]))),
                where=_where(self.name, "damage_state"))
        if self.asset_classes and self.area is None:
            raise ActionError(Message("err_classes_need_area"),
                              where=_where(self.name, "asset_classes"))


@dataclass(frozen=True)
class HoldCrews(Action):
    """Hold ``count`` crews of ``utility`` back for ``duration_h`` (they finish their job)."""

    name: ClassVar[str] = "hold_crews"
    utility: str
    count: int
    duration_h: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "utility", _utility(self.name, self.utility))
        object.__setattr__(self, "count", _count(self.name, self.count))
        object.__setattr__(self, "duration_h", _hours(self.name, self.duration_h, "duration_h"))


@dataclass(frozen=True)
class ReleaseCrews(Action):
    """Release held crews of ``utility`` now: ``count`` of them, or all when omitted."""

    name: ClassVar[str] = "release_crews"
    utility: str
    count: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "utility", _utility(self.name, self.utility))
        if self.count is not None:
            object.__setattr__(self, "count", _count(self.name, self.count))


@dataclass(frozen=True)
class MutualAid(Action):
    """``count`` crews of ``utility`` from elsewhere reach road node ``assets[0]`` (spread
    over the nodes given, round-robin) ``after_h`` hours after the request."""

    name: ClassVar[str] = "mutual_aid"
    utility: str
    count: int
    assets: tuple[str, ...]
    after_h: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "utility", _utility(self.name, self.utility))
        object.__setattr__(self, "count", _count(self.name, self.count))
        object.__setattr__(self, "assets", _ids(self.name, self.assets))
        object.__setattr__(self, "after_h", _hours(self.name, self.after_h, "after_h",
                                                   zero_ok=True))


@dataclass(frozen=True)
class Pin(Action):
    """Put ``assets`` at the top of their utility's repair queue, in this order."""

    name: ClassVar[str] = "pin"
    assets: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _ids(self.name, self.assets))


@dataclass(frozen=True)
class SetPolicy(Action):
    """Change the repair policy (how free crews rank the jobs) from now on."""

    name: ClassVar[str] = "set_policy"
    policy: str

    def __post_init__(self) -> None:
        from twin.policies import POLICIES

        if self.policy not in POLICIES:
            raise ActionError(Message("err_unknown_policy", value=self.policy,
                                      hint=did_you_mean(self.policy, POLICIES)),
                              where=_where(self.name, "policy"))


@dataclass(frozen=True)
class BackupPower(Action):
    """A mobile generator at each asset, with ``hours`` of fuel."""

    name: ClassVar[str] = "backup_power"
    assets: tuple[str, ...]
    hours: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _ids(self.name, self.assets))
        object.__setattr__(self, "hours", _hours(self.name, self.hours, "hours"))


@dataclass(frozen=True)
class Refuel(Action):
    """``hours`` more fuel for the generators already at ``assets``."""

    name: ClassVar[str] = "refuel"
    assets: tuple[str, ...]
    hours: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _ids(self.name, self.assets))
        object.__setattr__(self, "hours", _hours(self.name, self.hours, "hours"))


@dataclass(frozen=True)
class _Switch(Action):
    assets: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _ids(self.name, self.assets))


@dataclass(frozen=True)
class CloseRoad(_Switch):
    """Close road segments or bridges (crews route around them; road access is lost)."""

    name: ClassVar[str] = "close_road"


@dataclass(frozen=True)
class OpenRoad(_Switch):
    """Reopen roads closed by a decision."""

    name: ClassVar[str] = "open_road"


@dataclass(frozen=True)
class Deenergise(_Switch):
    """Switch power lines (feeders, transmission lines) off pre-emptively."""

    name: ClassVar[str] = "deenergise"


@dataclass(frozen=True)
class Reenergise(_Switch):
    """Switch lines de-energised by a decision back on."""

    name: ClassVar[str] = "reenergise"


@dataclass(frozen=True)
class Preposition(Action):
    """Stage ``count`` crews of ``utility`` at road nodes ``assets`` (round-robin): they
    start from there and skip the mobilisation delay. Only before the first damage."""

    name: ClassVar[str] = "preposition"
    utility: str
    count: int
    assets: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "utility", _utility(self.name, self.utility))
        object.__setattr__(self, "count", _count(self.name, self.count))
        object.__setattr__(self, "assets", _ids(self.name, self.assets))


#: Action records by the name used in scenario files, steps files and the console.
ACTIONS: dict[str, type[Action]] = {c.name: c for c in (
    Fail, HoldCrews, ReleaseCrews, MutualAid, Pin, SetPolicy, BackupPower, Refuel,
    CloseRoad, OpenRoad, Deenergise, Reenergise, Preposition)}


def action_fields(cls: type[Action]) -> dict[str, bool]:
    """Field name -> required, for one action class."""
    from dataclasses import MISSING

    return {f.name: f.default is MISSING and f.default_factory is MISSING  # type: ignore
            for f in fields(cls)}


def action_from_record(record: Mapping[str, Any], *, where: str = "") -> Action:
    """Build an action from a mapping ``{"action": name, field: value, ...}``.

    ``None`` values count as absent (a flat table of optional fields, as the
    scenario model dumps it). Unknown actions and fields are refused with a
    suggestion; the message is prefixed with ``where`` (e.g. ``interventions.3``).
    """
    rec = {k: v for k, v in record.items() if v is not None and k != "time_h"}
    name = rec.pop("action", None)
    try:
        if name not in ACTIONS:
            raise ActionError(Message("err_unknown_action", value=name,
                                      hint=did_you_mean(name, ACTIONS)), where="action")
        cls = ACTIONS[name]
        spec = action_fields(cls)
        for k in rec:
            if k not in spec:
                close = difflib.get_close_matches(k, list(spec), n=1)
                hint = (Message("hint_did_you_mean", close=close[0]) if close
                        else Message("hint_takes", action=name, fields=", ".join(spec)))
                raise ActionError(Message("err_unknown_field", field=k, action=name, hint=hint),
                                  where=name)
        missing = [k for k, req in spec.items() if req and k not in rec]
        if missing:
            raise ActionError(Message("err_missing_fields", fields=", ".join(missing)),
                              where=name)
        if "area" in rec:
            rec["area"] = Area.from_record(rec["area"])
        for k in ("assets", "asset_classes"):
            if k in rec and isinstance(rec[k], list):
                rec[k] = tuple(rec[k])
        return cls(**rec)
    except ActionError as e:
        raise ActionError(e.text, where=where or None) from None


#: the ``by`` of a scenario file's interventions, and of what its warning block stages
SCENARIO_BY = "scenario"
STAGED_BY = "warning"
#: decision makers whose decisions come with the scenario file, not from a drill's players
PRESET_BY = (SCENARIO_BY, STAGED_BY)


@dataclass(frozen=True)
class Decision:
    """An action taken at ``time_h`` (hours since the scenario start) by ``by``
    (``scenario``, ``warning``, ``api``, ``facilitator``, a player's name)."""

    time_h: float
    action: Action
    by: str = "api"

    def to_record(self) -> dict[str, Any]:
        """A scenario ``interventions`` entry."""
        return {"time_h": self.time_h, **self.action.to_record()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, where: str = "",
                    by: str = SCENARIO_BY) -> Decision:
        t = record.get("time_h")
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) \
                or t < 0:
            raise ActionError(Message("err_time_h", value=t), where=where or None)
        return cls(float(t), action_from_record(record, where=where), by)
