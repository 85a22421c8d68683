"""Typhoon wind field: the profile fitted to wind radii (Holland et al. 2010, issue #11)
against the Holland (2008) pressure profile, both timed in this one run.

    python benchmarks/bench_wind_radii_vs_holland2008.py          # 1,000,000 sites x 100 steps
    python benchmarks/bench_wind_radii_vs_holland2008.py --quick  # 100,000 sites x 20 steps

The synthetic typhoon of bench_wind_numba_vs_numpy.py, given R34/R50/R64 radii per
quadrant (asymmetric); sites spread within +-3 deg of the middle of its path. Both paths
run the same numba blocks; the fitted one adds the knots along each site's azimuth. Each
path is timed ``--repeat`` times, alternating, and the best times are compared (goal:
fitted / Holland 2008 <= 1.5).
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
from hazards.typhoon.wind import storm_steps, wind_at_sites  # noqa: E402


def synthetic_track() -> Track:
    hours = 60
    t = np.datetime64("2020-09-01T00:00", "s") + np.arange(hours + 1) * np.timedelta64(3600, "s")
    lat, lon = geo.destination(np.full(hours + 1, 20.0), np.full(hours + 1, 118.0),
                               np.full(hours + 1, 315.0), 2.0 * 3600 * np.arange(hours + 1))
    n = hours + 1
    radii = {}
    for thr, base in ((34, 300e3), (50, 150e3), (64, 70e3)):
        for q, f in zip(("ne", "se", "sw", "nw"), (1.2, 1.0, 0.7, 0.9), strict=True):
            radii[f"r{thr}_{q}"] = np.full(n, base * f)
    return Track(times=t, lat=lat, lon=lon, vmax_mps=np.full(n, 55.0), pc_hpa=np.full(n, 950.0),
                 penv_hpa=np.full(n, 1008.0), rmw_m=np.full(n, 30e3), basin="WP", id="BENCH",
                 name="BENCH", season=2020, radii_m=radii)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 sites x 20 steps")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    n_sites, n_steps = (100_000, 20) if a.quick else (1_000_000, 100)
    track = synthetic_track()
    span = (track.times[-1] - track.times[0]).astype(np.int64)
    times = track.times[0] + np.linspace(0, span, n_steps).astype(np.int64).astype(
        "timedelta64[s]")
    h08 = storm_steps(track, times, profile="holland2008")
    fit = storm_steps(track, times, profile="holland2010_radii")
    rng = np.random.default_rng(20230901)
    lat0, lon0 = float(track.lat[30]), float(track.lon[30])
    lat = rng.uniform(lat0 - 3.0, lat0 + 3.0, n_sites)
    lon = rng.uniform(lon0 - 3.0, lon0 + 3.0, n_sites)
    fac = rng.uniform(0.6, 1.0, n_sites)
    gust = rng.uniform(1.1, 1.5, n_sites)
    for s in (h08, fit):  # compile
        wind_at_sites(s, lat[:64], lon[:64], site_factor=fac[:64], site_gust=gust[:64])
    best = {"holland2008": np.inf, "holland2010_radii": np.inf}
    for _ in range(a.repeat):
        for name, s in (("holland2008", h08), ("holland2010_radii", fit)):
            t0 = time.perf_counter()
            wind_at_sites(s, lat, lon, site_factor=fac, site_gust=gust)
            best[name] = min(best[name], time.perf_counter() - t0)
    work = n_sites * n_steps
    print(f"typhoon wind field, {n_sites:,} sites x {n_steps} steps, {os.cpu_count()} CPUs, "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
          f"best of {a.repeat}")
    for name, t in best.items():
        print(f"  {name:18s}: {t:8.3f} s  {work / t:12.3e} site-steps/s")
    ratio = best["holland2010_radii"] / best["holland2008"]
    print(f"  ratio fitted/holland2008: {ratio:.2f}x (goal <= 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
