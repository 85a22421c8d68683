"""Staging on the forecast: where a warning puts the crews, from what the forecast shows.

A planner 72 h ahead has a forecast, not the best track. The scenario's ``warning``
block names the forecast (issue time, members, seed) of one of its hazards; the
hazard's forecast hook (``Config.forecast_configs``) gives the member configurations,
whose fields are computed (and cached) like any hazard's. From them:

1. **Risk per asset**: for each member, the probability that the asset is damaged
   (its fragility curves at the member's largest intensity, lowest listed damage state)
   or put out of function (its outage rules: the largest intensity at or above the
   threshold); several curves and rules combine as independent causes,
   ``1 - prod(1 - p)``. The risk is the mean over the members: the ensemble's
   probability.
2. **Expected customers at risk per road node**: risk x the customers behind the asset
   (its static impact, :mod:`twin.impact`), summed over the assets whose crews reach
   them at that road node (``access_node``). With ``rank: assets_at_risk`` the sum is of
   the risk alone (expected damaged assets): on a meshed street grid one blocked street
   cuts off almost nobody, yet tree-clearing teams are needed where most will fall.
3. **Staging**: each ``stage`` entry stages its crews, round-robin, at the ``sites``
   road nodes of its utility with the highest sums. The entries
   become ordinary ``preposition`` interventions at ``time_h``; the plan (nodes, their
   expected customers, the assets behind them) goes into the run's summary.

The storm the run then meets is the hazard as its block says (the best track, in the
shipped warning scenario): staging decided on the forecast, damage done by the storm.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from common.errors import InputWarning
from hazards.base import HazardField
from networks.fragility import AssetModels
from twin.compile import Twin
from twin.engine_tables import hazard_plan
from twin.scenario import WarningSpec

#: assets listed per staging site in the summary (the largest contributions)
ASSETS_PER_SITE = 5


@dataclass(frozen=True)
class StagingSite:
    """One road node where crews are staged, and why."""

    utility: str
    road_node: str
    rank: str  # what ``score`` sums: customers_at_risk or assets_at_risk
    score: float
    assets: tuple[str, ...]  # the assets behind it that contribute most

    def to_record(self) -> dict:
        return {"utility": self.utility, "road_node": self.road_node,
                self.rank: round(self.score, 2), "assets": list(self.assets)}


def member_risk(twin: Twin, models: AssetModels, f: HazardField) -> np.ndarray:
    """P(damaged or out of function) of every component under one member's field."""
    survive = np.ones(twin.n, dtype=np.float64)
    for m, items in hazard_plan(twin, models, f).items():
        peak = np.nan_to_num(np.max(f.intensity[m], axis=0), nan=0.0)
        for kind, obj, idx in items:
            if kind == "curve":
                p = obj.exceedance(peak[idx], twin.length_m[idx])[:, 0]
            else:
                p = (peak[idx] >= obj.threshold).astype(np.float64)
            survive[idx] *= 1.0 - p
    return 1.0 - survive


def forecast_risk(twin: Twin, models: AssetModels, fields: Sequence[HazardField]
                  ) -> np.ndarray:
    """The ensemble's probability that each component is damaged or out."""
    return np.mean([member_risk(twin, models, f) for f in fields], axis=0)


def staging_sites(twin: Twin, risk: np.ndarray, utility: str, sites: int,
                  rank: str = "customers_at_risk") -> list[StagingSite]:
    """The ``sites`` road nodes of ``utility``'s assets with the most expected customers
    (or assets) at risk, best first; fewer when fewer are threatened at all."""
    comps = np.nonzero(twin.mask(network=utility) & (risk > 0) & (twin.access_node >= 0))[0]
    value = twin.impact[comps] if rank == "customers_at_risk" else 1.0
    score = risk[comps] * value
    node = twin.access_node[comps]
    total = np.bincount(node, weights=score, minlength=twin.n)
    # ties (equal scores) fall to the lower component index: deterministic
    order = np.lexsort((np.arange(twin.n), -total))
    out = []
    for j in order[:sites]:
        if total[j] <= 0:
            break
        mine = comps[node == j]
        best = mine[np.lexsort((mine, -score[node == j]))][:ASSETS_PER_SITE]
        out.append(StagingSite(utility, str(twin.ids[j]), rank, float(total[j]),
                               tuple(str(twin.ids[i]) for i in best)))
    return out


def stage_on_forecast(w: WarningSpec, twin: Twin, models: AssetModels,
                      member_fields: Sequence[HazardField]) -> tuple[list[dict], dict]:
    """The ``preposition`` interventions of the warning and the plan for the summary."""
    risk = forecast_risk(twin, models, member_fields)
    interventions: list[dict] = []
    plan: list[dict] = []
    for s in w.stage:
        where = staging_sites(twin, risk, s.utility, s.sites, s.rank)
        if not where:
            warnings.warn(f"the warning's forecast puts no {s.utility} asset at risk; its "
                          f"{s.count} crews are not staged", InputWarning, stacklevel=2)
            continue
        interventions.append({"time_h": w.time_h, "action": "preposition",
                              "utility": s.utility, "count": s.count,
                              "assets": [x.road_node for x in where]})
        plan.extend(x.to_record() for x in where)
    summary = {"issue_time_utc": w.issue_time_utc.isoformat().replace("+00:00", "Z"),
               "members": w.members, "seed": w.seed, "time_h": w.time_h,
               "staged": plan}
    return interventions, summary


def warning_fields(w: WarningSpec, config, make_field: Callable[[object], HazardField]
                   ) -> list[HazardField]:
    """The fields of the forecast's members (``make_field`` builds and caches one)."""
    return [make_field(c) for c in config.forecast_configs(w.issue_time_utc, w.members,
                                                           w.seed)]
