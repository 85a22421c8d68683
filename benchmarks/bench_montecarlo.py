"""Monte Carlo throughput on the built-in city: 7-day horizon, 100 realizations.

Runs the demo scenario's realizations with 1 and with 2 worker processes in one
run (JIT cache warmed first) and prints realizations per second and the speed-up.
Goal: 100 realizations in <= 60 s wall on the 2-core machine.

    python benchmarks/bench_montecarlo.py [--realizations 100] [--scenario scenarios/demo.yaml]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from twin.run import prepare, run_monte_carlo, run_realization
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "demo.yaml")
    ap.add_argument("--realizations", "-n", type=int, default=100)
    a = ap.parse_args()
    t0 = time.perf_counter()
    spec = load_scenario(a.scenario, horizon_h=168.0)
    prep = prepare(spec)
    t_prep = time.perf_counter() - t0
    run_realization(prep, 0)  # warm the JIT cache
    print(f"city: {prep.twin.n} components; prepare (build + compile + hazard) {t_prep:.1f} s")
    walls = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        res = run_monte_carlo(prep, realizations=a.realizations, workers=workers)
        walls[workers] = time.perf_counter() - t0
        assert len(res) == a.realizations
        print(f"{workers} worker(s): {a.realizations} realizations in {walls[workers]:6.1f} s "
              f"= {a.realizations / walls[workers]:5.2f} realizations/s")
    print(f"speed-up 2 vs 1 workers: {walls[1] / walls[2]:.2f}x")
    best = min(walls.values()) + t_prep
    print(f"best wall incl. prepare: {best:.1f} s (goal <= 60 s): "
          f"{'OK' if best <= 60 else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
