"""Self-healing feeders (FLISR) on the built-in city: realizations with and without it.

Two realizations of the built-in city with feeder automation (``feeder_automation:
0.5``), each run in the same process with its ``self_healing`` block and without it,
alternating, median wall time per realization:

- ``typhoon``: ``scenarios/typhoon.yaml`` (Saola on the city, one week) with the
  compound flood left out (wind only, so the preparation takes seconds), feeder
  automation on, ``self_healing`` with its defaults (automated share as the city has
  it). The goal: FLISR adds under 10 % to this realization.
- ``squall``: ``scenarios/self_healing.yaml`` (two bursts of feeder faults, one week).
  A light realization (two hazard steps, ~30 service computations): every switching
  step is one more service computation, so the relative cost is higher here.

It prints both ratios and the customer-minutes of power interruption of each run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_flisr.py [--realizations 4]

(one BLAS thread: on a busy 2-core machine a threaded dot product in the engine's
service bookkeeping can cost milliseconds of spinning per call and swamp the timing)
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from twin.run import prepare, run_realization
from twin.scenario import BuiltinCity, CitySpec, SelfHealingSpec, load_scenario

ROOT = Path(__file__).resolve().parents[1]


def customer_minutes(prep, res, horizon_h: float) -> float:
    """Customer-minutes without power: the integral of (1 - served) x customers."""
    t = np.append(res.times_h, horizon_h)
    lost = float(np.sum((1.0 - res.served[:, 0]) * np.diff(t)))
    return lost * prep.twin.total_customers()[0] * 60.0


def typhoon_spec(realizations: int):
    """scenarios/typhoon.yaml, wind only, on the city with feeder automation, FLISR on."""
    spec = load_scenario(ROOT / "scenarios" / "typhoon.yaml", realizations=realizations)
    hazards = [{k: v for k, v in h.items()
                if k not in ("flood", "flood_start_h", "flood_recession_h")}
               for h in spec.hazards]
    spec = load_scenario(ROOT / "scenarios" / "typhoon.yaml", realizations=realizations,
                         hazards=hazards)
    return spec.model_copy(update={
        "city": CitySpec(builtin=BuiltinCity(seed=7, scale=1.0, feeder_automation=0.5)),
        "self_healing": SelfHealingSpec()})


def compare(label: str, spec, realizations: int) -> float:
    with_ = prepare(spec)
    without = prepare(spec.model_copy(update={"self_healing": None}))
    for p in (with_, without):  # warm the JIT caches
        run_realization(p, 0)
    walls: dict[str, list[float]] = {"with FLISR": [], "without": []}
    cmi: dict[str, list[float]] = {"with FLISR": [], "without": []}
    for r in range(realizations):
        for name, p in (("without", without), ("with FLISR", with_)):
            t0 = time.perf_counter()
            res = run_realization(p, r)
            walls[name].append(time.perf_counter() - t0)
            cmi[name].append(customer_minutes(p, res, spec.horizon_h))
    for name in walls:
        print(f"{label:>8} {name:>11}: median {statistics.median(walls[name]) * 1000:8.1f} ms "
              f"per {spec.horizon_h:g}-h realization; customer-minutes without power "
              f"(median) {statistics.median(cmi[name]):.3g}")
    ratio = statistics.median(walls["with FLISR"]) / statistics.median(walls["without"])
    print(f"{label:>8} with / without FLISR: {ratio:.2f}")
    return ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realizations", type=int, default=4)
    a = ap.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the track's no-wind-radii notice
    ratio = compare("typhoon", typhoon_spec(a.realizations), a.realizations)
    squall = load_scenario(ROOT / "scenarios" / "self_healing.yaml", horizon_h=168.0,
                           realizations=3 * a.realizations)
    compare("squall", squall, 3 * a.realizations)
    print(f"FLISR on the typhoon realization: x{ratio:.2f} (goal < 1.10): "
          f"{'OK' if ratio < 1.10 else 'ABOVE GOAL'}")


if __name__ == "__main__":
    main()
