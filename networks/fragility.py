"""Fragility, temporary outages, restoration durations and repair costs (the asset side).

All defaults live in ``networks/data/*.yaml`` with their sources; a scenario may
override any entry. Keys are typed (:class:`AssetClass` x :class:`IntensityMeasure`),
never strings glued into column names.

Damage states are integers: 0 none, 1 slight, 2 moderate, 3 extensive, 4 complete.
Any damage state >= 1 makes an asset non-functional until a crew repairs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.special import ndtr

from common.errors import DataFileError
from common.intensity import IntensityMeasure
from common.names import DAMAGE_STATES, DS_INDEX
from networks.schema import AssetClass

__all__ = ["DAMAGE_STATES", "DS_INDEX"]  # re-exported for callers of the fragility API


@dataclass(frozen=True)
class FragilityCurve:
    """Lognormal fragility of one asset class for one intensity measure.

    ``P(DS >= states[k] | im) = Phi(ln(im / median[k]) / beta[k])``. With
    ``per_length_m`` the curve is per unit length of a line asset.
    """

    asset_class: AssetClass
    measure: IntensityMeasure
    states: tuple[int, ...]  # damage states (1..4), increasing
    median: tuple[float, ...]
    beta: tuple[float, ...]
    per_length_m: float | None = None
    overhead_only: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.states)
        if n == 0 or len(self.median) != n or len(self.beta) != n:
            raise DataFileError("states, median and beta must have the same non-zero length",
                                where=f"fragility {self.asset_class.value}/{self.measure.value}")
        if any(m <= 0 for m in self.median) or any(b <= 0 for b in self.beta):
            raise DataFileError("medians and betas must be > 0",
                                where=f"fragility {self.asset_class.value}/{self.measure.value}")
        ordered = list(self.states) == sorted(set(self.states))
        if not ordered or not all(1 <= s <= 4 for s in self.states):
            raise DataFileError("damage states must be increasing within slight..complete",
                                where=f"fragility {self.asset_class.value}/{self.measure.value}")

    def exceedance(self, intensity: np.ndarray, length_m: np.ndarray | None = None) -> np.ndarray:
        """Probabilities of reaching each listed damage state, shape ``(n, len(states))``.

        NaN or non-positive intensity gives probability 0. Monotone non-decreasing in
        intensity (and in length for per-length curves).
        """
        im = np.asarray(intensity, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(im > 0, im, np.nan))[:, None] - np.log(self.median)) / np.array(
                self.beta
            )
        p = np.nan_to_num(ndtr(z), nan=0.0)
        if self.per_length_m is not None and length_m is not None:
            units = np.maximum(np.asarray(length_m, dtype=np.float64), 0.0) / self.per_length_m
            p = 1.0 - np.power(1.0 - p, units[:, None])
        # several states with different betas could cross; keep exceedance ordered
        return np.minimum.accumulate(p, axis=1)


@dataclass(frozen=True)
class OutageRule:
    """Temporary loss of function: out while ``im >= threshold``; back after
    ``restore_delay_h`` once below (drying, inspection) unless damaged."""

    asset_class: AssetClass
    measure: IntensityMeasure
    threshold: float
    restore_delay_h: float
    source: str = ""


@dataclass(frozen=True)
class RepairDuration:
    """Normal(mean, sd) repair duration per damage state 1..4, in hours."""

    mean_h: tuple[float, float, float, float]
    sd_h: tuple[float, float, float, float]
    source: str = ""


@dataclass(frozen=True)
class RepairCost:
    replacement_usd: float
    per_km: bool
    damage_ratio: tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class AssetModels:
    """Everything the asset side says about damage, outage, repair time and cost."""

    curves: Mapping[tuple[AssetClass, IntensityMeasure], FragilityCurve]
    outages: Mapping[tuple[AssetClass, IntensityMeasure], OutageRule]
    repair: Mapping[AssetClass, RepairDuration]
    cost: Mapping[AssetClass, RepairCost]

    @classmethod
    def defaults(cls) -> AssetModels:
        """The packaged defaults (``networks/data/*.yaml``)."""
        return cls.from_documents(
            _packaged("fragility.yaml"), _packaged("restoration.yaml"),
            _packaged("repair_costs.yaml"))

    @classmethod
    def from_documents(cls, fragility: tuple[str, dict], restoration: tuple[str, dict],
                       costs: tuple[str, dict]) -> AssetModels:
        fname, fdoc = fragility
        curves = {(c.asset_class, c.measure): c
                  for c in _parse_curves(fdoc.get("curves", []), fname)}
        outages = {(o.asset_class, o.measure): o
                   for o in _parse_outages(fdoc.get("outages", []), fname)}
        repair = _parse_restoration(*restoration)
        cost = _parse_costs(*costs)
        missing = [c.value for c in AssetClass if c not in repair or c not in cost]
        if missing:
            raise DataFileError(f"no restoration/cost entry for classes {missing}")
        return cls(curves, outages, repair, cost)

    def with_overrides(self, *, curves: Iterable[dict] = (), outages: Iterable[dict] = (),
                       repair: Mapping[str, dict] | None = None,
                       cost: Mapping[str, dict] | None = None,
                       where: str = "scenario") -> AssetModels:
        """A copy with scenario entries replacing the defaults of the same key."""
        c = dict(self.curves)
        c.update({(x.asset_class, x.measure): x for x in _parse_curves(curves, where)})
        o = dict(self.outages)
        o.update({(x.asset_class, x.measure): x for x in _parse_outages(outages, where)})
        r = dict(self.repair)
        r.update(_parse_restoration(where, dict(repair or {})))
        k = dict(self.cost)
        k.update(_parse_costs(where, dict(cost or {})))
        return AssetModels(c, o, r, k)


def _packaged(name: str) -> tuple[str, dict]:
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    return f"networks/data/{name}", yaml.safe_load(text) or {}


def load_yaml(path: Path) -> tuple[str, dict]:
    try:
        return str(path), yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise DataFileError(f"cannot read: {e}", where=str(path)) from None


def _enum(enum_type, value, where: str, what: str):
    try:
        return enum_type(value)
    except ValueError:
        known = ", ".join(m.value for m in enum_type)
        raise DataFileError(f"unknown {what} {value!r} (known: {known})", where=where) from None


def _parse_curves(items: Iterable[dict], where: str) -> list[FragilityCurve]:
    out = []
    for i, d in enumerate(items):
        w = f"{where}: fragility curve #{i + 1}"
        allowed = {"asset_class", "measure", "damage_states", "median", "beta", "per_length_m",
                   "overhead_only", "source"}
        extra = set(d) - allowed
        if extra:
            raise DataFileError(f"unknown field(s) {sorted(extra)}", where=w)
        for key in ("asset_class", "measure", "median", "beta"):
            if key not in d:
                raise DataFileError(f"field {key!r} is required", where=w)
        ac = _enum(AssetClass, d["asset_class"], w, "asset class")
        im = _enum(IntensityMeasure, d["measure"], w, "intensity measure")
        try:
            med = tuple(float(x) for x in d["median"])
            beta = tuple(float(x) for x in d["beta"])
        except (TypeError, ValueError):
            raise DataFileError("median and beta must be lists of numbers", where=w) from None
        names = d.get("damage_states") or ["complete"] * len(med)
        states = tuple(_enum_ds(n, w) for n in names)
        plm = d.get("per_length_m")
        out.append(FragilityCurve(ac, im, states, med, beta,
                                  None if plm is None else float(plm),
                                  bool(d.get("overhead_only", False)), str(d.get("source", ""))))
    return out


def _enum_ds(name: str, where: str) -> int:
    if name not in DS_INDEX or name == "none":
        raise DataFileError(f"unknown damage state {name!r} (slight, moderate, extensive, "
                            "complete)", where=where)
    return DS_INDEX[name]


def _parse_outages(items: Iterable[dict], where: str) -> list[OutageRule]:
    out = []
    for i, d in enumerate(items):
        w = f"{where}: outage rule #{i + 1}"
        extra = set(d) - {"asset_class", "measure", "threshold", "restore_delay_h", "source"}
        if extra:
            raise DataFileError(f"unknown field(s) {sorted(extra)}", where=w)
        try:
            rule = OutageRule(_enum(AssetClass, d["asset_class"], w, "asset class"),
                              _enum(IntensityMeasure, d["measure"], w, "intensity measure"),
                              float(d["threshold"]), float(d.get("restore_delay_h", 0.0)),
                              str(d.get("source", "")))
        except KeyError as e:
            raise DataFileError(f"field {e.args[0]!r} is required", where=w) from None
        if rule.threshold <= 0 or rule.restore_delay_h < 0:
            raise DataFileError("threshold must be > 0 and restore_delay_h >= 0", where=w)
        out.append(rule)
    return out


def _four(v, w: str, name: str) -> tuple[float, float, float, float]:
    try:
        t = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        raise DataFileError(f"'{name}' must be 4 numbers", where=w) from None
    if len(t) != 4 or any(x < 0 for x in t):
        raise DataFileError(f"'{name}' must be 4 non-negative numbers (slight..complete)", where=w)
    return t  # type: ignore[return-value]


def _parse_restoration(where: str, doc: dict) -> dict[AssetClass, RepairDuration]:
    out = {}
    for k, d in doc.items():
        w = f"{where}: restoration '{k}'"
        ac = _enum(AssetClass, k, w, "asset class")
        if not isinstance(d, dict) or set(d) - {"mean_days", "sd_days", "source"}:
            raise DataFileError("expects mean_days, sd_days (and source)", where=w)
        mean = _four(d.get("mean_days"), w, "mean_days")
        sd = _four(d.get("sd_days"), w, "sd_days")
        out[ac] = RepairDuration(tuple(24 * x for x in mean), tuple(24 * x for x in sd),
                                 str(d.get("source", "")))
    return out


def _parse_costs(where: str, doc: dict) -> dict[AssetClass, RepairCost]:
    out = {}
    for k, d in doc.items():
        w = f"{where}: repair cost '{k}'"
        ac = _enum(AssetClass, k, w, "asset class")
        if not isinstance(d, dict) or set(d) - {"replacement_usd", "unit", "damage_ratio",
                                               "source"}:
            raise DataFileError("expects replacement_usd, unit, damage_ratio", where=w)
        unit = d.get("unit", "each")
        if unit not in ("each", "per_km"):
            raise DataFileError(f"unit must be 'each' or 'per_km', got {unit!r}", where=w)
        val = float(d.get("replacement_usd", -1))
        if val < 0:
            raise DataFileError("replacement_usd must be >= 0", where=w)
        out[ac] = RepairCost(val, unit == "per_km", _four(d.get("damage_ratio"), w,
                                                          "damage_ratio"))
    return out


def sample_damage_states(exceedance: np.ndarray, states: tuple[int, ...],
                         u: np.ndarray) -> np.ndarray:
    """Damage state per asset given exceedance probabilities and one uniform per asset.

    Using the *same* uniform ``u`` for every state (and every time step) makes the
    sampled state monotone in intensity: an asset never "un-damages" as the hazard
    grows, and a stronger hazard never yields a lower state for the same draw.
    """
    ds = np.zeros(exceedance.shape[0], dtype=np.int8)
    for k, s in enumerate(states):
        ds = np.where(u < exceedance[:, k], np.int8(s), ds)
    return ds
