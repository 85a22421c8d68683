"""Results as tables (pandas/Arrow) and metrics as small dataclasses.

No plotting here: :mod:`viz` reads these tables.

Definitions (per series: power, water, roads, system; Q(t) = served fraction):

- ``min_service``: the minimum of Q over the horizon;
- ``time_to_{50,90,99}_h``: hours from the first time Q fell below the level until
  it is back at or above it for the rest of the horizon (0 if it never fell
  below; null if it is not back by the horizon); :func:`common.stats.time_to_level`;
- ``resilience_loss_h``: the Bruneau loss of resilience ∫(1 − Q) dt over the
  horizon, in hours (Q as a fraction; ×100 gives the %-hours of Bruneau 2003);
- ``customer_hours_lost``: ∫(1 − Q) dt × customers of the series;
- ``repair_cost_usd``: repair cost of all damage (from ``networks/data/repair_costs.yaml``),
  booked when the damage happens.

Bands across realizations (``summary.json``) use the one median and quantile rule
of :mod:`common.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from common.names import NETWORKS, series_of
from common.stats import quantile, time_to_level
from twin.compile import Twin
from twin.engine import EVENTS, RealizationResult

LEVELS = (0.5, 0.9, 0.99)


def step_values(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Right-continuous step function through (times, values) sampled at ``grid``."""
    k = np.searchsorted(times, grid, side="right") - 1
    return values[np.clip(k, 0, len(times) - 1)]


def step_integral(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """∫_0^g of the step function, for each g in ``grid`` (exact)."""
    t = np.append(times, np.inf)
    widths = np.diff(t)
    cum = np.concatenate([[0.0], np.cumsum(values[:-1] * widths[:-1])])  # at each times[i]
    k = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 1)
    return cum[k] + values[k] * (grid - times[k])


def customers_per_series(twin: Twin) -> np.ndarray:
    """Customers behind each series of the twin (:meth:`Twin.series`, same order)."""
    tot = twin.total_customers()[list(twin.kinds)]
    sys_pop = twin.block_population.sum() if len(twin.block_population) else tot.max()
    return np.array([*tot, sys_pop])


@dataclass(frozen=True)
class RunTables:
    """The tables of a Monte Carlo run (one row per realization x time x series)."""

    curves: pd.DataFrame
    loss: pd.DataFrame
    events: pd.DataFrame
    metrics: pd.DataFrame  # realization x series metrics


def build_tables(twin: Twin, results: Sequence[RealizationResult], *, horizon_h: float,
                 output_step_h: float) -> RunTables:
    grid = np.round(np.arange(0.0, horizon_h + 1e-9, output_step_h), 9)
    if grid[-1] < horizon_h - 1e-9:
        grid = np.append(grid, horizon_h)
    cust = customers_per_series(twin)
    net_of = np.array(NETWORKS)[twin.network]
    curves, loss, events, metrics = [], [], [], []
    for r, res in enumerate(results):
        t, q = res.times_h, res.served
        for s, name in twin.series():
            curves.append(pd.DataFrame({"realization": np.int32(r), "time_h": grid,
                                        "network": name,
                                        "served_fraction": step_values(t, q[:, s], grid)}))
            lost = step_integral(t, 1.0 - q[:, s], np.array([horizon_h]))[0]
            row = {"realization": r, "network": name,
                   "min_service": float(q[:, s].min()),
                   "resilience_loss_h": float(lost),
                   "customer_hours_lost": float(lost * cust[s])}
            for lv in LEVELS:
                row[f"time_to_{round(lv * 100)}_h"] = time_to_level(t, q[:, s], lv)
            metrics.append(row)
        chl = {name: step_integral(t, 1.0 - q[:, s], grid) * cust[s]
               for s, name in twin.series()}
        cost_t = np.asarray(res.cost_times_h)
        cum_cost = np.cumsum(res.cost_usd) if len(cost_t) else np.zeros(0)
        k = np.searchsorted(cost_t, grid, side="right") - 1
        repair = np.where(k >= 0, cum_cost[np.clip(k, 0, None)] if len(cum_cost) else 0.0, 0.0)
        metrics_cost = float(cum_cost[-1]) if len(cum_cost) else 0.0
        for m in metrics[-len(twin.series()):]:
            m["repair_cost_usd"] = metrics_cost
        loss.append(pd.DataFrame({
            "realization": np.int32(r), "time_h": grid,
            "customer_hours_lost": chl["system"],
            "repair_cost": repair,
            **{f"customer_hours_lost_{n}": chl[n] for n in twin.kind_names()},
        }))
        crew = np.array([*res.crew_names, ""], dtype=object)
        events.append(pd.DataFrame({
            "realization": np.int32(r), "time_h": res.ev_time_h,
            "asset_id": twin.ids[res.ev_comp].astype(str),
            "network": net_of[res.ev_comp],
            "event": pd.Categorical.from_codes(res.ev_type.astype(int), categories=list(EVENTS)),
            "crew_id": crew[res.ev_crew.astype(int)].astype(str),
        }))
    ev = pd.concat(events, ignore_index=True)
    ev["event"] = ev["event"].astype(str)
    if any(res.ev_state is not None for res in results):
        # switching (twin.flisr): which way each 'switched' event went; empty otherwise
        st = np.concatenate([res.ev_state if res.ev_state is not None
                             else np.full(len(res.ev_time_h), -1, dtype=np.int8)
                             for res in results])
        ev["switch_state"] = np.array(["", "closed", "open"], dtype=object)[st + 1]
    return RunTables(pd.concat(curves, ignore_index=True), pd.concat(loss, ignore_index=True),
                     ev, pd.DataFrame(metrics))


def _band(x: np.ndarray) -> dict:
    """Median and 5-95 % across realizations by the one rule of :mod:`common.stats`."""
    x = np.asarray(x, dtype=float)
    ok = x[np.isfinite(x)]
    n = len(x)
    out = {"median": None, "p05": None, "p95": None, "not_reached_fraction": float(
        1 - len(ok) / n) if n else 0.0}
    if len(ok):
        # quantiles over all realizations, counting "not reached" as +inf
        for key, qq in (("median", 0.5), ("p05", 0.05), ("p95", 0.95)):
            v = quantile(x, qq)
            out[key] = v if np.isfinite(v) else None
    return out


def summarize(tables: RunTables, *, scenario: str, horizon_h: float, realizations: int,
              seed: int, customers: np.ndarray) -> dict:
    """The ``summary.json`` document."""
    m = tables.metrics
    per = {}
    for s, name in enumerate(series_of(m.network.unique())):  # the city's kinds, system
        g = m[m.network == name]
        per[name] = {
            "customers": float(customers[s]),
            "min_service": _band(g.min_service.to_numpy()),
            **{f"time_to_{round(lv * 100)}_h": _band(g[f"time_to_{round(lv * 100)}_h"].to_numpy())
               for lv in LEVELS},
            "customer_hours_lost": _band(g.customer_hours_lost.to_numpy()),
            "resilience_loss_h": _band(g.resilience_loss_h.to_numpy()),
            "resilience_index": _band(1.0 - g.resilience_loss_h.to_numpy() / horizon_h),
            "repair_cost_usd": _band(g.repair_cost_usd.to_numpy()),
        }
    sysm = m[m.network == "system"]
    return {
        "scenario": scenario, "horizon_h": horizon_h, "realizations": realizations,
        "seed": seed, "networks": per,
        "loss_exceedance": {
            "repair_cost_usd": exceedance_curve(sysm.repair_cost_usd.to_numpy()),
            "customer_hours_lost": exceedance_curve(sysm.customer_hours_lost.to_numpy()),
        },
        "definitions": {
            "time_to_X_h": "hours from the first drop below X until back at or above X for "
                           "good; null if not back by the horizon",
            "resilience_loss_h": "integral of (1 - served fraction) over the horizon, hours",
            "band": "median and 5-95 % across realizations (lower median: the inverted "
                    "empirical CDF, always one realization's value; see common.stats)",
        },
    }


def exceedance_curve(losses: np.ndarray) -> list[dict]:
    """Empirical exceedance: P(L >= loss) across realizations, one point per distinct loss."""
    x = np.sort(np.asarray(losses, dtype=float))
    n = len(x)
    vals, first = np.unique(x, return_index=True)
    return [{"loss": float(v), "exceedance_probability": float((n - i) / n)}
            for v, i in zip(vals, first, strict=True)]
