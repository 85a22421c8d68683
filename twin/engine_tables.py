"""Tables an engine derives once from the twin and the asset models (read-only in a run).

They depend on the city and the models only, never on the state of a run: the
served-fraction weights of each network, the repair cost of each component per
damage state, the repair-time table, the crews' depots, and for each hazard field
the fragility curves and outage rules that apply to which components.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazards.base import HazardField, IntensityMeasure
from networks.fragility import AssetModels
from networks.schema import AssetClass, NetworkKind
from twin.compile import CLASS_INDEX, CLASSES, NET_INDEX, NETWORKS, Twin


@dataclass(frozen=True, eq=False)
class EngineTables:
    """Per-run constants (see module docstring); arrays are indexed like the twin.

    ``repair_mean_h``/``repair_sd_h``: (classes, 4) hours per damage state 1..4;
    ``cost_usd``: (n, 5) repair cost per damage state 0..4; ``weights``: per network,
    the share of each component in the network's served fraction; ``depots``: the
    crews' start node per utility; ``has_dep``: components with a functional
    supplier.
    """

    repair_mean_h: np.ndarray
    repair_sd_h: np.ndarray
    cost_usd: np.ndarray
    weights: tuple[np.ndarray, ...]
    depots: tuple[int, ...]
    has_dep: np.ndarray

    @classmethod
    def build(cls, twin: Twin, models: AssetModels) -> EngineTables:
        return cls(np.array([models.repair[c].mean_h for c in CLASSES]),
                   np.array([models.repair[c].sd_h for c in CLASSES]),
                   cost_table(twin, models), tuple(series_weights(twin)),
                   tuple(crew_depots(twin)), np.diff(twin.dep_indptr) > 0)


def series_weights(twin: Twin) -> list[np.ndarray]:
    t = twin
    out = []
    for k in range(len(NETWORKS)):
        w = np.where(t.network == k, t.customers, 0.0)
        if w.sum() <= 0:  # no customers declared: every consumer node counts once
            w = ((t.network == k) & ~t.is_edge & ~t.is_source).astype(float)
        out.append(w / max(w.sum(), 1e-12))
    return out


def cost_table(twin: Twin, models: AssetModels) -> np.ndarray:
    """Repair cost (USD) per component per damage state 0..4."""
    t = twin
    cost = np.zeros((t.n, 5))
    for ci, c in enumerate(CLASSES):
        m = t.asset_class == ci
        if not m.any():
            continue
        rc = models.cost[c]
        base = rc.replacement_usd * (t.length_m[m] / 1000.0 if rc.per_km
                                     else np.ones(int(m.sum())))
        cost[m, 1:] = base[:, None] * np.array(rc.damage_ratio)[None, :]
    return cost


def crew_depots(twin: Twin) -> list[int]:
    """Crew start node per utility: the depot nearest the utility's sources."""
    t = twin
    depots = np.nonzero(t.asset_class == CLASS_INDEX[AssetClass.DEPOT])[0]
    if len(depots) == 0:
        depots = np.nonzero((t.network == NET_INDEX[NetworkKind.ROADS]) & ~t.is_edge)[0]
    out = []
    for k in range(len(NETWORKS)):
        src = np.nonzero((t.network == k) & t.is_source)[0]
        if len(src) == 0 or k == NET_INDEX[NetworkKind.ROADS]:
            out.append(int(depots[0]))
            continue
        cx, cy = t.x_m[src].mean(), t.y_m[src].mean()
        d = np.hypot(t.x_m[depots] - cx, t.y_m[depots] - cy)
        out.append(int(depots[np.argmin(d)]))
    return out


def hazard_plan(twin: Twin, models: AssetModels, f: HazardField
                ) -> dict[IntensityMeasure, list]:
    """Per measure: the fragility curves and outage rules that apply, with their assets."""
    t = twin
    plan: dict[IntensityMeasure, list] = {}
    for m in f.intensity:
        items = []
        for (ac, im), curve in models.curves.items():
            if im != m:
                continue
            sel = t.asset_class == CLASS_INDEX[ac]
            if curve.overhead_only:
                sel &= t.overhead
            idx = np.nonzero(sel)[0]
            if len(idx):
                items.append(("curve", curve, idx))
        for (ac, im), rule in models.outages.items():
            if im != m:
                continue
            idx = np.nonzero(t.asset_class == CLASS_INDEX[ac])[0]
            if len(idx):
                items.append(("outage", rule, idx))
        plan[m] = items
    return plan
