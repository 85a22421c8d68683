"""Scenario files (YAML or TOML), validated once into a :class:`ScenarioSpec`.

Unknown or misspelled fields are errors (``extra="forbid"``), reported as one
line naming the file and the field, with a suggestion for near misses.
"""

from __future__ import annotations

import difflib
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from common.documents import parse_yaml, read_text
from common.errors import InputError, ScenarioError
from common.names import DamageStateName, NetworkName
from networks.kinds import kind_spec
from twin.self_healing import ISOLATE_MIN, MANUAL_DISPATCH_MIN, RESTORE_MIN, SelfHealing
from twin.stand_down import DEFAULT_STAND_DOWN_MPS

#: Upper bounds on sizes a user controls, checked before any work (issue: a typo such
#: as ``output_step_h: 1e-9`` must be a clear refusal, not an exhausted machine).
MAX_CREWS = 100_000
#: realizations x output steps: each row of the curve and loss tables is ~100 bytes
MAX_TABLE_ROWS = 50_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuiltinCity(_Strict):
    seed: int = 7
    scale: float = Field(1.0, ge=0.2, le=10)
    feeder_automation: float | None = Field(
        None, ge=0, le=1, description="null: no switches (the city as it always was); a "
        "share: breakers, 3-5 sections per feeder, ties, and this share of the "
        "sectionalizers and ties automated (networks.builtin)")


class CitySpec(_Strict):
    """Exactly one of ``builtin`` (the generated city) or ``path`` (a saved/real city)."""

    builtin: BuiltinCity | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CitySpec:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("give exactly one of 'builtin' or 'path'")
        return self


class CrewSpec(_Strict):
    """Crews per utility (simpy resources) and how fast they start."""

    # one field per network kind (networks.kinds: the default there); a kind the city
    # does not have gets no crews whatever is written here
    power: int = Field(kind_spec("power").default_crews, ge=0, le=MAX_CREWS)
    water: int = Field(kind_spec("water").default_crews, ge=0, le=MAX_CREWS)
    roads: int = Field(kind_spec("roads").default_crews, ge=0, le=MAX_CREWS)
    gas: int = Field(kind_spec("gas").default_crews, ge=0, le=MAX_CREWS)
    telecom: int = Field(kind_spec("telecom").default_crews, ge=0, le=MAX_CREWS)
    mobilisation_h: float = Field(
        0.0, ge=0, description="delay before crews start after the first damage")
    stand_down_wind_mps: float | None = Field(
        DEFAULT_STAND_DOWN_MPS, gt=0, le=100,
        description="crews wait and pause while the sustained wind at their site is at or "
        "above this (m/s); null: no stand-down (twin.stand_down)")


class Intervention(_Strict):
    """A planner's inject or decision at ``time_h``: one of the typed actions of
    :mod:`twin.actions` (the one definition of each action and its fields), written
    flat. Which fields an action takes, and their checks, come from its record."""

    time_h: float = Field(ge=0, allow_inf_nan=False)
    action: str
    assets: list[str] | None = None
    damage_state: DamageStateName | None = None
    area: dict[str, list[float]] | None = None
    asset_classes: list[str] | None = None
    utility: NetworkName | None = None
    count: int | None = Field(None, ge=1)
    duration_h: float | None = Field(None, gt=0, allow_inf_nan=False)
    hours: float | None = Field(None, gt=0, allow_inf_nan=False,
                                description="generator fuel, for backup_power and refuel")
    after_h: float | None = Field(None, ge=0, allow_inf_nan=False,
                                  description="mutual aid: arrival after the request")
    policy: str | None = None

    @model_validator(mode="after")
    def _fields(self) -> Intervention:
        from twin.actions import action_from_record

        action_from_record(self.model_dump())  # raises ActionError: one line, names the field
        return self

    def to_action(self):
        """The typed record (:class:`twin.actions.Decision`) of this entry."""
        from twin.actions import Decision

        return Decision.from_record(self.model_dump())


class StageSpec(_Strict):
    """Stage ``count`` crews of ``utility`` at the ``sites`` road nodes where the forecast
    puts the most customers at risk, or the most assets (:mod:`twin.warning`)."""

    utility: NetworkName
    count: int = Field(ge=1, le=MAX_CREWS)
    sites: int = Field(ge=1, le=1000)
    rank: Literal["customers_at_risk", "assets_at_risk"] = Field(
        "customers_at_risk", description="assets_at_risk: expected damaged assets, for crews "
        "whose jobs cut off few customers each (tree clearing on a meshed street grid)")


class WarningSpec(_Strict):
    """A warning issued ahead of the storm: crews are staged on what the forecast shows
    at ``issue_time_utc`` (an ensemble of ``members`` tracks perturbed from hazard
    ``hazard``'s track, seeded), not on the storm that then comes; the run itself meets
    the hazard as its block says. See :mod:`twin.warning`."""

    hazard: int = Field(0, ge=0, description="index in 'hazards' of the forecast hazard")
    issue_time_utc: datetime
    members: int = Field(20, ge=1, le=1000)
    seed: int = Field(0, ge=0)
    time_h: float = Field(0.0, ge=0, allow_inf_nan=False,
                          description="scenario hour at which the staging is in place")
    stage: list[StageSpec] = Field(min_length=1)


class ServiceSpec(_Strict):
    """How service is computed per network: ``connectivity`` (the default, fast) or by
    physics, ``power: powerflow`` (AC power flow with load shedding) and ``water:
    pressure_driven`` (WNTR pressure-dependent demand). The limits and their sources
    are in :mod:`twin.physics.settings`."""

    power: Literal["connectivity", "powerflow"] = "connectivity"
    water: Literal["connectivity", "pressure_driven"] = "connectivity"
    vm_min_pu: float = Field(0.90, gt=0.5, lt=1.0, description="lowest bus voltage (p.u.)")
    vm_max_pu: float = Field(1.10, gt=1.0, lt=1.5, description="highest bus voltage (p.u.)")
    max_loading_percent: float = Field(100.0, gt=0, le=1000,
                                       description="line and transformer loading limit")
    shed_step: float = Field(0.1, gt=0, le=1, description="share of candidate loads shed "
                                                          "per step")
    required_pressure_m: float = Field(20.0, gt=0, le=500,
                                       description="pressure for full demand")
    minimum_pressure_m: float = Field(0.0, ge=0, le=500, description="pressure below which "
                                                                      "nothing is delivered")

    @model_validator(mode="after")
    def _pressures(self) -> ServiceSpec:
        if self.minimum_pressure_m >= self.required_pressure_m:
            raise ValueError("service.minimum_pressure_m must be below required_pressure_m")
        return self

    def settings(self):
        """The plain settings the physics backends read (:class:`twin.physics.settings.
        ServiceSettings`)."""
        from twin.physics.settings import ServiceSettings

        return ServiceSettings(**self.model_dump())


class SelfHealingSpec(_Strict):
    """Feeder automation (FLISR, :mod:`twin.flisr`): a fault trips its feeder's breaker;
    automated switches isolate the faulted section within ``isolate_min`` and restore
    the other sections (reclosing upstream, ties downstream) within ``restore_min``;
    manual switches wait for a crew that is dispatched after ``manual_dispatch_min``
    and drives there on the current roads. Defaults and their sources in
    :mod:`twin.flisr`."""

    enabled: bool = True
    automated_share: float | None = Field(
        None, ge=0, le=1, description="share of sectionalizers and ties automated (the "
        "same stable choice as the built-in city's); null: as the city declares")
    isolate_min: float = Field(ISOLATE_MIN, ge=0, le=600, allow_inf_nan=False)
    restore_min: float = Field(RESTORE_MIN, ge=0, le=600, allow_inf_nan=False)
    manual_dispatch_min: float = Field(MANUAL_DISPATCH_MIN, ge=0, le=24 * 60,
                                       allow_inf_nan=False)

    @model_validator(mode="after")
    def _order(self) -> SelfHealingSpec:
        if self.restore_min < self.isolate_min:
            raise ValueError("self_healing.restore_min must not be below isolate_min")
        return self

    def settings(self):
        """The plain settings the engine reads (:class:`twin.self_healing.SelfHealing`)."""
        return SelfHealing(**self.model_dump())


class ScenarioSpec(_Strict):
    """A validated scenario. Times are hours since the scenario start."""

    name: str
    description: str = ""
    city: CitySpec
    hazards: list[dict[str, Any]] = Field(min_length=1)
    horizon_h: float = Field(168.0, gt=0, le=24 * 365)
    output_step_h: float = Field(1.0, gt=0)
    realizations: int = Field(20, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)
    workers: int = Field(0, ge=0, le=4096, description="processes; 0 = all cores")
    crews: CrewSpec = CrewSpec()
    policy: Literal["critical_first", "customers_per_crew_hour", "nearest_first"] = (
        "critical_first")
    fragility: list[dict[str, Any]] = Field(default_factory=list)
    outages: list[dict[str, Any]] = Field(default_factory=list)
    restoration: dict[str, Any] = Field(default_factory=dict)
    repair_costs: dict[str, Any] = Field(default_factory=dict)
    interventions: list[Intervention] = Field(default_factory=list)
    warning: WarningSpec | None = None
    service: ServiceSpec = ServiceSpec()
    system_kinds: list[NetworkName] | None = Field(
        None, description="the network kinds whose service makes a population block's "
                          "system service (default: every kind that serves the block)")
    #: feeder automation (FLISR); absent: none (faults only cut what lies behind them)
    self_healing: SelfHealingSpec | None = None

    # where the file lives, for relative paths (not a user field)
    base_dir: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _hazard_configs(self) -> ScenarioSpec:
        from hazards.registry import hazard_class

        for i, h in enumerate(self.hazards):
            if not isinstance(h, dict) or "type" not in h:
                raise ValueError(f"hazards.{i}: each hazard needs a 'type'")
            cls = hazard_class(h["type"], where=f"hazards.{i}.type")
            try:
                cls.Config.model_validate(h)
            except ValidationError as e:
                raise ScenarioError(_first_error(e, prefix=f"hazards.{i}.",
                                                 model=cls.Config)) from None
        if self.output_step_h > self.horizon_h:
            raise ValueError("output_step_h must not exceed horizon_h")
        if self.warning is not None:
            self._check_warning(self.warning)
        rows = self.realizations * (self.horizon_h / self.output_step_h + 1)
        if rows > MAX_TABLE_ROWS:
            raise ValueError(
                f"realizations x (horizon_h / output_step_h) = {rows:,.0f} table rows, more "
                f"than {MAX_TABLE_ROWS:,} (~{MAX_TABLE_ROWS * 100 / 2**30:.0f} GiB); use a "
                f"larger output_step_h or fewer realizations")
        return self

    def _check_warning(self, w: WarningSpec) -> None:
        from hazards.registry import hazard_class

        if w.hazard >= len(self.hazards):
            raise ScenarioError(f"hazard {w.hazard} does not exist ({len(self.hazards)} "
                                "hazard(s), counted from 0)", where="warning.hazard")
        kind = self.hazards[w.hazard]["type"]
        if not hasattr(hazard_class(kind).Config, "forecast_configs"):
            raise ScenarioError(f"hazard {w.hazard} is a {kind}, which has no forecast "
                                "ensemble (a typhoon has)", where="warning.hazard")
        for u in {s.utility for s in w.stage}:
            want = sum(s.count for s in w.stage if s.utility == u)
            have = getattr(self.crews, u)
            if want > have:
                raise ScenarioError(f"{want} {u} crews to stage, the scenario has {have}",
                                    where="warning.stage")

    def hazard_configs(self) -> list[BaseModel]:
        from hazards.registry import hazard_class

        return [hazard_class(h["type"]).Config.model_validate(h) for h in self.hazards]


def _suggest(bad: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    names = list(model.model_fields)
    close = difflib.get_close_matches(bad, names, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(names)})"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for suggestions)."""
    import typing

    m: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or m is None:
            continue
        f = m.model_fields.get(part) if hasattr(m, "model_fields") else None
        if f is None:
            return None
        ann = f.annotation
        m = None
        for cand in (ann, *typing.get_args(ann), *[a for t in typing.get_args(ann)
                                                   for a in typing.get_args(t)]):
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                m = cand
                break
    return m if isinstance(m, type) and issubclass(m, BaseModel) else None


def _first_error(e: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None
                 ) -> str:
    errs = e.errors()
    # a misspelt field shows up as "unknown" and "missing": the unknown one says more
    err = next((x for x in errs if x["type"] == "extra_forbidden"), errs[0])
    loc = tuple(err["loc"])
    dotted = (prefix + ".".join(str(p) for p in loc)).rstrip(".")
    if err["type"] == "extra_forbidden":
        owner = _model_at(model, loc) if model is not None else None
        return f"unknown field '{dotted}'{_suggest(str(loc[-1]), owner)}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "missing":
        return f"field '{dotted}' is required"
    inp = err.get("input")
    shown = f" (got {inp!r})" if inp is not None and not isinstance(inp, dict | list) else ""
    return f"field '{dotted}': {msg}{shown}" if dotted else msg


def read_document(path: Path, *, what: str = "scenario file") -> dict[str, Any]:
    """Parse a YAML or TOML file into a dict; errors name the file (and line)."""
    path = Path(path)
    try:
        text = read_text(path, what=what)
        if path.suffix.lower() == ".toml":
            try:
                doc = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                raise ScenarioError(f"not valid TOML: {e}", where=str(path)) from None
        else:
            doc = parse_yaml(text, where=str(path))
    except ScenarioError:
        raise
    except InputError as e:
        raise ScenarioError(str(e)) from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"a {what} must be a mapping of fields", where=str(path))
    return doc


def inputs_digest(spec: ScenarioSpec) -> str:
    """sha256 of everything a run of ``spec`` reads except its seed: the validated
    fields (after overrides such as realizations), the bytes of every file it names
    (relative to the scenario's folder, with a shapefile's sidecars) and the package
    version. Two runs with the same digest and seed give the same results."""
    import hashlib
    import json

    from common.digest import file_digest
    from twin import __version__

    h = hashlib.sha256(__version__.encode())
    # a field left empty (None) is a field not given: optional blocks added later leave
    # the digest of a scenario without them as it was
    fields = spec.model_dump(mode="json", exclude={"seed"}, exclude_none=True)
    h.update(json.dumps(fields, sort_keys=True).encode())

    def files(value: Any) -> Any:
        if isinstance(value, dict):
            for v in value.values():
                yield from files(v)
        elif isinstance(value, list):
            for v in value:
                yield from files(v)
        elif isinstance(value, str) and 0 < len(value) < 4096 and "\n" not in value:
            path = spec.base_dir / value
            try:
                if path.is_file():
                    yield value, path
            except OSError:  # a name too long or otherwise not a path
                return

    for name, path in sorted(set(files(fields))):
        h.update(f"{name}={file_digest(path)}".encode())
    return h.hexdigest()


def load_scenario(path: Path | str, **overrides: Any) -> ScenarioSpec:
    """Read and validate a scenario file; ``overrides`` replace top-level fields."""
    path = Path(path)
    doc = read_document(path)
    doc.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ScenarioSpec.model_validate({**doc, "base_dir": path.resolve().parent})
    except ValidationError as e:
        raise ScenarioError(_first_error(e, model=ScenarioSpec), where=str(path)) from None
    except ScenarioError as e:
        raise ScenarioError(str(e), where=str(path)) from None
