"""Scaling: compile + one realization of the built-in city at 10k, 100k and 1M components.

Each size runs in its own process so its peak memory (max RSS) is its own. The
city is the built-in generator at a scale chosen for the component count; the
hazard is a damage map hitting 10 % of feeders, pipes and streets in the central
third of the city. Goal: 1M components fit in 8 GB.

    python benchmarks/bench_scaling.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

BASE_COMPONENTS = 28_500  # the built-in city at scale 1.0


def one(target: int) -> dict:
    from networks.builtin import build_builtin_city
    from twin.run import prepare, run_realization
    from twin.scenario import ScenarioSpec

    scale = math.sqrt(target / BASE_COMPONENTS)
    t0 = time.perf_counter()
    net = build_builtin_city(7, scale=scale)
    t_build = time.perf_counter() - t0
    xs = [a["x_m"] for _, a in net.graph("roads").nodes(data=True)]
    ys = [a["y_m"] for _, a in net.graph("roads").nodes(data=True)]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    r = (max(xs) - min(xs)) / 6
    spec = ScenarioSpec.model_validate({
        "name": f"scaling {target}", "city": {"builtin": {"seed": 7, "scale": scale}},
        "horizon_h": 168, "realizations": 1,
        "crews": {"power": max(6, target // 5000), "water": max(4, target // 8000),
                  "roads": max(4, target // 8000)},
        "hazards": [{"type": "damage_map", "events": [{
            "time_h": 1, "area": {"circle": [cx, cy, r]},
            "asset_classes": ["feeder_segment", "pipe", "road_segment"],
            "damage_state": "moderate", "probability": 0.1}]}]})
    t0 = time.perf_counter()
    prep = prepare(spec, net=net, use_cache=False)
    t_compile = time.perf_counter() - t0
    run_realization(prep, 0)  # JIT warm (cached on disk after the first size)
    t0 = time.perf_counter()
    res = run_realization(prep, 1)
    t_run = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GiB (ru_maxrss in KiB)
    return {"target": target, "components": prep.twin.n, "scale": round(scale, 2),
            "build_s": round(t_build, 1), "compile_s": round(t_compile, 1),
            "realization_s": round(t_run, 2), "events": int(len(res.ev_time_h)),
            "peak_rss_gib": round(peak, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one)))
        return
    print(f"{'components':>11} {'build s':>8} {'compile s':>10} {'1 run s':>8} "
          f"{'events':>7} {'peak GiB':>9}")
    for n in a.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True,
                             text=True)
        if out.returncode != 0:
            print(f"{n:>11} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        d = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{d['components']:>11} {d['build_s']:>8} {d['compile_s']:>10} "
              f"{d['realization_s']:>8} {d['events']:>7} {d['peak_rss_gib']:>9}"
              + ("  (goal <= 8 GiB: " + ("OK)" if d["peak_rss_gib"] <= 8 else "ABOVE)")
                 if n >= 1_000_000 else ""))


if __name__ == "__main__":
    main()
