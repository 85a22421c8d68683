"""Service by physics on the built-in city: one 7-day realization, side by side.

Runs realization 0 of the demo scenario (built-in city, damage map, 7 days) with
``service: connectivity`` (the default) and with ``service: {power: powerflow, water:
pressure_driven}`` in the same process, and prints the wall time of each, their
ratio, how many islands were solved, reused or fell back, and the service each
reports. Goal: the physics realization in under 60 s on the 2-core machine.

    python benchmarks/bench_physics.py [--scenario scenarios/demo.yaml]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from twin.run import prepare, run_realization
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
PHYSICS = {"power": "powerflow", "water": "pressure_driven"}


def _one(scenario: Path, service: dict | None) -> tuple[float, object]:
    spec = load_scenario(scenario, horizon_h=168.0, realizations=1, service=service)
    prep = prepare(spec)
    t0 = time.perf_counter()
    res = run_realization(prep, 0)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "demo.yaml")
    a = ap.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)  # pandapower's own notices
    _one(a.scenario, None)  # warm the JIT caches (service kernel, pandapower's numba NR)
    walls, results = {}, {}
    for label, service in (("connectivity", None), ("physics", PHYSICS)):
        walls[label], results[label] = _one(a.scenario, service)
    stats = results["physics"].extra.get("service")
    if not stats:
        raise SystemExit("the engine did not call the physics backend (service not wired)")
    for label, res in results.items():
        q = res.served
        print(f"{label:>12}: 7-day realization in {walls[label]:6.2f} s; lowest service "
              f"power {q[:, 0].min():.3f}, water {q[:, 1].min():.3f}, system "
              f"{q[:, 3].min():.3f}; {len(res.times_h)} service changes")
    print("physics islands: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    print(f"physics / connectivity: {walls['physics'] / walls['connectivity']:.0f}x; "
          f"physics realization {walls['physics']:.1f} s (goal < 60 s): "
          f"{'OK' if walls['physics'] < 60 else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
