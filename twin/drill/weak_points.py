"""N-1 weak points: the assets whose loss alone costs the most people-hours.

For each candidate asset the service is computed on the twin with that asset out
(the numba service kernel, dependencies and island capacity included; storage
and generators ignored: a long outage outlasts them), and the people cut off
(population blocks losing power, water or road access) are multiplied by the
asset's expected repair time in the ``complete`` damage state. Every component
is tried (island capacity can make an asset matter that disconnects no one); one
service computation takes well under a millisecond on the built-in city, so the
full ranking of its 28,494 components takes seconds (``benchmarks/bench_drill.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from networks.fragility import AssetModels
from twin.compile import CLASSES, Twin
from twin.kernels.service import compute_service


@dataclass(frozen=True)
class WeakPoint:
    """One asset of the ranking: people cut off, repair hours, their product."""

    asset_id: str
    asset_class: str
    people_cut: float
    repair_h: float
    people_hours: float


def _people_served(twin: Twin, served: np.ndarray) -> float:
    if len(twin.block_population):
        return float(twin.block_served(served) @ twin.block_population)
    return float(served @ twin.customers)


def rank_weak_points(twin: Twin, models: AssetModels, *, top: int = 20,
                     candidates: int | None = None) -> list[WeakPoint]:
    """The ``top`` assets by people-hours lost when each alone fails (see module doc)."""
    n = twin.n
    tank = np.array([c.value == "tank" for c in CLASSES])[twin.asset_class]
    primary = twin.is_source & ~tank
    source_ok = np.ones(n, dtype=bool)
    exempt = np.zeros(n, dtype=bool)

    def served_with(up: np.ndarray) -> np.ndarray:
        return compute_service(up, source_ok, exempt, twin.is_source, twin.is_edge, twin.edge_u,
                               twin.edge_v, twin.adj_indptr, twin.adj_node, twin.adj_edge,
                               twin.dep_indptr, twin.dep_supplier, twin.capacity, twin.demand,
                               1000, primary)[0]

    up = np.ones(n, dtype=bool)
    full = _people_served(twin, served_with(up))
    # the statically most impactful first (twin.impact), so a cut-off list keeps the worst
    order = np.argsort(-twin.impact, kind="stable")[:candidates]
    repair = np.array([models.repair[c].mean_h[-1] for c in CLASSES])
    out = []
    for i in order:
        up[i] = False
        cut = max(full - _people_served(twin, served_with(up)), 0.0)
        up[i] = True
        if cut <= 0:
            continue
        rh = float(repair[twin.asset_class[i]])
        out.append(WeakPoint(str(twin.ids[i]), CLASSES[twin.asset_class[i]].value, cut, rh,
                             cut * rh))
    out.sort(key=lambda w: (-w.people_hours, w.asset_id))
    return out[:top]
