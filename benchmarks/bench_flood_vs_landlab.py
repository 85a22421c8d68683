"""Flood solver vs Landlab's OverlandFlow on the same grid, forcing and duration.

Two cases on a synthetic 1000 x 1000 valley (10 m cells; ``--quick``: 300 x 300):

- ``inflow``: 60 m3/s enters across 5 cells at the head of the valley (a local flood);
- ``rain``: 60 mm/h on the whole grid (every cell is wet).

Both solvers use the same scheme parameters (alpha 0.7, theta 0.8, n 0.03),
closed boundaries, and track the maximum depth every step. Printed per case:
simulated seconds per wall second for each solver and their ratio (goals:
>= 10x for the inflow case, >= 3x for rain on the whole grid), agreement of the
maximum depth (RMSE and 95th percentile of |diff| over cells wet in either
run), and our cell updates per second next to the memory bandwidth of a numpy
copy measured in the same run.

Run: ``python benchmarks/bench_flood_vs_landlab.py [--quick]`` (a few minutes
by default on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hazards.flood.forcing import Hyetograph, Inflow, TimeSeries  # noqa: E402
from hazards.flood.solver import FloodSolver  # noqa: E402

MANNING = 0.03
DX = 10.0


def valley(n: int) -> np.ndarray:
    """A valley draining south: 0.2% down-valley, 3% side slopes, 0.1 m of roughness."""
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:n, 0:n].astype(float)
    return (0.002 * (n - y) * DX + 0.03 * np.abs(x - n / 2) * DX
            + rng.normal(0.0, 0.1, (n, n)))


def copy_bandwidth_gbs() -> float:
    """Bytes moved per second by a large numpy copy (read + write), best of 5."""
    a = np.random.default_rng(0).random(32 * 2**20 // 8 * 4)  # 128 MiB
    b = np.empty_like(a)
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t)
    return 2 * a.nbytes / best / 1e9


def run_ours(z, wall, *, duration_s, rain_mmh, inflow_cell, q_m3s):
    rain = [Hyetograph.constant(rain_mmh)] if rain_mmh else []
    inflows = []
    if q_m3s:
        r, c = inflow_cell
        cols = np.arange(c - 2, c + 3)
        inflows = [Inflow("head", np.full(5, r), cols, np.full(5, 0.2),
                          TimeSeries.constant(q_m3s))]
    s = FloodSolver(z, dx_m=DX, wall=wall, manning=MANNING, rain=rain, inflows=inflows,
                    track_maxima=True)
    t = time.perf_counter()
    s.advance_to(duration_s)
    s.finish_maxima()
    wall_s = time.perf_counter() - t
    return s.max_depth_m, wall_s, s.n_steps, s.cell_updates, s.ledger


def run_landlab(z, *, duration_s, rain_mmh, inflow_cell, q_m3s):
    from landlab import RasterModelGrid
    from landlab.components.overland_flow import OverlandFlow

    n = z.shape[0]
    grid = RasterModelGrid((n, n), xy_spacing=DX)
    grid.add_field("topographic__elevation", z.ravel().copy(), at="node")
    grid.add_zeros("surface_water__depth", at="node")
    grid.set_closed_boundaries_at_grid_edges(True, True, True, True)
    of = OverlandFlow(grid, mannings_n=MANNING, rainfall_intensity=rain_mmh / 3.6e6)
    h = grid.at_node["surface_water__depth"]
    hmax = np.zeros_like(h)
    nodes = inflow_cell[0] * n + np.arange(inflow_cell[1] - 2, inflow_cell[1] + 3)
    t_sim, steps = 0.0, 0
    t = time.perf_counter()
    while t_sim < duration_s:
        dt = min(of.calc_time_step(), 10.0, duration_s - t_sim)  # same 10 s cap as ours
        of.run_one_step(dt)
        if q_m3s:
            h[nodes] += 0.2 * q_m3s * dt / (DX * DX)
        np.maximum(hmax, h, out=hmax)
        t_sim += dt
        steps += 1
    wall_s = time.perf_counter() - t
    return hmax.reshape(n, n), wall_s, steps


def compare(name, n, duration_s, rain_mmh, q_m3s, bandwidth):
    z = valley(n)
    wall = np.zeros((n, n), bool)
    wall[0] = wall[-1] = wall[:, 0] = wall[:, -1] = True  # Landlab's closed perimeter
    cell = (5, n // 2)
    ours, w_o, st_o, upd_o, led = run_ours(z, wall, duration_s=duration_s, rain_mmh=rain_mmh,
                                           inflow_cell=cell, q_m3s=q_m3s)
    ll, w_l, st_l = run_landlab(z, duration_s=duration_s, rain_mmh=rain_mmh, inflow_cell=cell,
                                q_m3s=q_m3s)
    ll = np.where(wall, 0.0, ll)
    ll = ll - 1e-5  # Landlab starts every node with a 1e-5 m film (h_init)
    wet = (ours > 0.01) | (ll > 0.01)
    diff = np.abs(ours - ll)[wet]
    rate_o, rate_l = duration_s / w_o, duration_s / w_l
    print(f"\n== {name}: {n} x {n} cells of {DX:.0f} m, {duration_s:.0f} s simulated")
    print(f"  ours    : {st_o:6d} steps in {w_o:7.2f} s -> {rate_o:8.2f} sim s / wall s")
    print(f"  landlab : {st_l:6d} steps in {w_l:7.2f} s -> {rate_l:8.2f} sim s / wall s")
    print(f"  speed-up: {rate_o / rate_l:.1f}x")
    print(f"  max depth over {int(wet.sum())} wet cells: RMSE {np.sqrt(np.mean(diff ** 2)):.4f} m, "
          f"p95 |diff| {np.percentile(diff, 95):.4f} m, peak ours {ours.max():.3f} m / "
          f"landlab {ll.max():.3f} m")
    cups_o = upd_o / w_o
    cups_l = st_l * (n - 2) ** 2 / w_l
    print(f"  cell updates/s: ours {cups_o:.3g} (visited cells only; {upd_o / (st_o * n * n):.0%} "
          f"of the grid per step), landlab {cups_l:.3g}")
    print(f"  ours at {bandwidth:.2f} GB/s copy bandwidth: {bandwidth * 1e9 / cups_o:.0f} bytes "
          f"of copy traffic per cell update")
    print(f"  ours: {led.summary()}")
    return rate_o / rate_l


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 x 300 grid, shorter runs")
    args = parser.parse_args(argv)
    n, dur = (300, 300.0) if args.quick else (1000, 600.0)
    print(f"threads: numba {os.environ.get('NUMBA_NUM_THREADS', 'default')}, "
          f"cores {os.cpu_count()}")
    # compile (or load the cached) kernels outside the timed runs
    warm = FloodSolver(np.zeros((8, 8)), dx_m=DX, rain=[Hyetograph.constant(10.0)],
                       inflows=[Inflow("w", np.array([2]), np.array([2]), np.array([1.0]),
                                       TimeSeries.constant(1.0))], track_maxima=True)
    warm.advance_to(60.0)
    # ... and the parallel step, used once the wet region passes PARALLEL_MIN_CELLS
    big = FloodSolver(np.zeros((520, 520)), dx_m=DX, rain=[Hyetograph.constant(10.0)],
                      track_maxima=True)
    big.advance_to(2.0)
    bw = copy_bandwidth_gbs()
    print(f"numpy copy bandwidth: {bw:.2f} GB/s (read + write)")
    r1 = compare("inflow-driven flood", n, dur, 0.0, 60.0, bw)
    r2 = compare("rain on the whole grid", n, dur, 60.0, 0.0, bw)
    print(f"\nsummary: inflow {r1:.1f}x (goal >= 10x), rain {r2:.1f}x (goal >= 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
