"""Repair policies: which damaged asset a free crew takes next.

A policy ranks candidate jobs for one crew; lower score goes first. It sees
arrays only (the candidates, their travel times from the crew, expected repair
hours and the twin), so policies are cheap and easy to add: register a class in
:data:`POLICIES`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from networks.schema import CLASS_SPECS
from twin.compile import CLASSES, Twin

_CRITICALITY = np.array([CLASS_SPECS[c].criticality for c in CLASSES], dtype=float)


class RepairPolicy(Protocol):
    name: str

    def scores(self, twin: Twin, jobs: np.ndarray, travel_h: np.ndarray,
               repair_h: np.ndarray, impact: np.ndarray) -> np.ndarray:
        """Score per job (lower first). ``impact`` = customers that depend on each job."""
        ...


class CriticalFirst:
    """Critical facilities first (sources, substations, pumps, hospitals), then the
    assets that more customers depend on, then the nearest."""

    name = "critical_first"

    def scores(self, twin, jobs, travel_h, repair_h, impact):
        rank = _CRITICALITY[twin.asset_class[jobs]] - 3.0 * twin.critical[jobs]
        # lexicographic: class rank, then customers (more first), then travel time
        return rank * 1e12 - np.minimum(impact, 1e9) * 1e2 + np.minimum(travel_h, 1e2)


class CustomersPerCrewHour:
    """Most customers restored per crew-hour (travel plus expected repair)."""

    name = "customers_per_crew_hour"

    def scores(self, twin, jobs, travel_h, repair_h, impact):
        return -(impact + 1e-3) / (travel_h + repair_h + 1e-6)


class NearestFirst:
    """The nearest job by current travel time."""

    name = "nearest_first"

    def scores(self, twin, jobs, travel_h, repair_h, impact):
        return travel_h.astype(float)


POLICIES: dict[str, type] = {p.name: p for p in (CriticalFirst, CustomersPerCrewHour,
                                                 NearestFirst)}


def make_policy(name: str) -> RepairPolicy:
    return POLICIES[name]()
