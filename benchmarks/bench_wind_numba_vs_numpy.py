"""Typhoon wind field: the numba kernel against the vectorised numpy implementation of the
same equations, both timed in this one run.

    python benchmarks/bench_wind_numba_vs_numpy.py           # 1,000,000 sites x 100 steps
    python benchmarks/bench_wind_numba_vs_numpy.py --quick   # 100,000 sites x 20 steps

A synthetic typhoon (950 hPa, 30 km radius of maximum wind, 2 m/s north-westward, 20-25N)
and sites spread uniformly within +-3 deg of the middle of its path, so that nearly every
site-step lies inside the 500 km evaluation radius (the costly branch). The numba time
excludes compilation (one warm-up call on a few sites). Prints both times, their ratio
(goal >= 5x on 2 cores) and site-steps per second; checks that both agree to 1e-5.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hazards.typhoon import geo  # noqa: E402
from hazards.typhoon.track import Track  # noqa: E402
from hazards.typhoon.wind import storm_steps, wind_at_sites, wind_at_sites_numpy  # noqa: E402


def synthetic_steps(n_steps: int):
    hours = 60
    t = np.datetime64("2020-09-01T00:00", "s") + np.arange(hours + 1) * np.timedelta64(3600, "s")
    lat, lon = geo.destination(np.full(hours + 1, 20.0), np.full(hours + 1, 118.0),
                               np.full(hours + 1, 315.0), 2.0 * 3600 * np.arange(hours + 1))
    n = hours + 1
    track = Track(times=t, lat=lat, lon=lon, vmax_mps=np.full(n, 55.0), pc_hpa=np.full(n, 950.0),
                  penv_hpa=np.full(n, 1008.0), rmw_m=np.full(n, 30e3), basin="WP", id="BENCH",
                  name="BENCH", season=2020)
    span = (t[-1] - t[0]).astype(np.int64)
    times = t[0] + np.linspace(0, span, n_steps).astype(np.int64).astype("timedelta64[s]")
    return storm_steps(track, times), float(lat[hours // 2]), float(lon[hours // 2])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 sites x 20 steps")
    ap.add_argument("--sites", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    a = ap.parse_args(argv)
    n_sites = a.sites or (100_000 if a.quick else 1_000_000)
    n_steps = a.steps or (20 if a.quick else 100)
    steps, lat0, lon0 = synthetic_steps(n_steps)
    rng = np.random.default_rng(20230901)
    lat = rng.uniform(lat0 - 3.0, lat0 + 3.0, n_sites)
    lon = rng.uniform(lon0 - 3.0, lon0 + 3.0, n_sites)
    fac = rng.uniform(0.6, 1.0, n_sites)
    gust = rng.uniform(1.1, 1.5, n_sites)

    wind_at_sites(steps, lat[:64], lon[:64], site_factor=fac[:64], site_gust=gust[:64])  # JIT

    t0 = time.perf_counter()
    s_nb, g_nb = wind_at_sites(steps, lat, lon, site_factor=fac, site_gust=gust)
    t_nb = time.perf_counter() - t0
    t0 = time.perf_counter()
    s_np, g_np = wind_at_sites_numpy(steps, lat, lon, site_factor=fac, site_gust=gust)
    t_np = time.perf_counter() - t0

    err = float(np.max(np.abs(s_nb - s_np) / np.maximum(1.0, np.abs(s_np))))
    inside = float(np.mean(s_np > 0))
    work = n_sites * n_steps
    print(f"typhoon wind field, {n_sites:,} sites x {n_steps} steps "
          f"({inside:.0%} of site-steps within 500 km), {os.cpu_count()} CPUs, "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    print(f"  numba kernel : {t_nb:8.3f} s  {work / t_nb:12.3e} site-steps/s")
    print(f"  numpy (same) : {t_np:8.3f} s  {work / t_np:12.3e} site-steps/s")
    print(f"  ratio numpy/numba: {t_np / t_nb:.1f}x (goal >= 5x)")
    print(f"  max relative difference: {err:.2e}")
    if err > 1e-5:
        print("  MISMATCH between numba and numpy", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
