"""Coarsened DEMs, line inflows, hot-started seas, the progress bar, and the serial kernel."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import HazardError
from hazards.base import HazardContext, IntensityMeasure, Sites
from hazards.flood import FloodConfig, FloodHazard
from hazards.flood import solver as solver_mod
from hazards.flood.dem import FloodGrid, coarsen
from networks.model import Terrain

CRS = "EPSG:32650"
X0, Y0 = 500000.0, 3400000.0


def _sites(points: dict[str, tuple[float, float]]) -> Sites:
    n = len(points)
    xs = np.array([p[0] for p in points.values()])
    ys = np.array([p[1] for p in points.values()])
    return Sites(ids=np.array(list(points), dtype=object), asset_class=np.array(["junction"] * n),
                 x_m=xs, y_m=ys, is_edge=np.zeros(n, dtype=bool), length_m=np.zeros(n),
                 line_offsets=np.zeros(n + 1, dtype=np.int64), line_x=np.zeros(0),
                 line_y=np.zeros(0), crs=CRS)


def _terrain(ny: int = 60, nx: int = 80, dx: float = 10.0) -> Terrain:
    """A valley draining south to a sea below 0 m along the south edge."""
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    z = 0.02 * (ny - 8 - y) * dx + 0.04 * np.abs(x - (nx - 1) / 2.0) * dx
    z[-8:, :] = -2.0 - 0.1 * (y[-8:, :] - (ny - 8))  # the sea, deepening southwards
    return Terrain(z.astype(np.float32), (dx, 0.0, X0, 0.0, -dx, Y0), CRS)


def test_coarsen_keeps_block_means_nodata_and_the_origin():
    z = np.arange(5 * 7, dtype=float).reshape(5, 7)
    z[0, 0] = np.nan
    z[3:5, 6] = np.nan
    g = FloodGrid(z, (10.0, 0.0, 100.0, 0.0, -10.0, 900.0), CRS, CRS, "t")
    c, k = coarsen(g, 20.0)
    assert k == 2 and c.shape == (3, 4)
    assert c.transform == (20.0, 0.0, 100.0, 0.0, -20.0, 900.0)
    assert c.elevation_m[0, 0] == pytest.approx(np.nanmean(z[0:2, 0:2]))  # NaN left out
    assert c.elevation_m[1, 1] == pytest.approx(z[2:4, 2:4].mean())
    assert c.elevation_m[2, 0] == pytest.approx(z[4, 0:2].mean())          # partial edge block
    assert np.isnan(c.elevation_m[2, 3])                                   # all NoData
    # block means keep the volume under a level surface above every cell
    zf = np.random.default_rng(1).uniform(0, 5, (6, 8))
    cf, _ = coarsen(FloodGrid(zf, (10.0, 0.0, 0.0, 0.0, -10.0, 0.0), CRS, CRS, "t"), 20.0)
    assert np.sum(10.0 - zf) * 100.0 == pytest.approx(np.sum(10.0 - cf.elevation_m) * 400.0)
    assert coarsen(g, 12.0)[1] == 1
    with pytest.raises(HazardError, match="finer than the DEM"):
        coarsen(g, 5.0)


def test_compute_on_a_coarsened_terrain_with_a_line_inflow_shows_progress(tmp_path, capsys):
    terrain = _terrain()
    cfg = FloodConfig.model_validate(dict(
        cell_size_m=20.0, duration_h=0.5, output_step_h=0.1, rain=[[0, 0], [0.1, 40], [0.3, 0]],
        inflows=[{"name": "creek", "line": [[X0 + 305.0, Y0 - 25.0], [X0 + 495.0, Y0 - 25.0]],
                  "hydrograph": [[0, 5.0], [0.25, 20.0], [0.5, 5.0]]}],
        stage_boundaries=[{"edge": "S", "initial_fill": True, "stage": [[0, 0.2], [0.5, 0.6]]}]))
    ctx = HazardContext(crs=CRS, terrain=terrain, base_dir=tmp_path, horizon_h=1.0)
    hz = FloodHazard.from_config(cfg, ctx)
    m = hz.model
    assert m.coarsening == 2 and m.grid.shape == (30, 40) and m.grid.dx_m == 20.0
    (inflow,) = m.inflows
    assert inflow.rows.size == 10 and np.all(inflow.rows == 1)   # 190 m of line across 20 m cells
    # the sea starts at rest at the first stage: 0.2 m above its bed, dry land stays dry
    sea = m.elevation_m < 0.2
    np.testing.assert_allclose(m.initial_depth_m[sea], 0.2 - m.elevation_m[sea])
    assert np.all(m.initial_depth_m[~sea] == 0)
    sites = _sites({"valley": (X0 + 395.0, Y0 - 205.0), "hill": (X0 + 15.0, Y0 - 205.0)})
    field = hz.compute(sites, progress=True)
    err = capsys.readouterr().err
    assert "flood 30x40 cells of 20 m" in err and "0.50/0.50 h simulated" in err
    d = field.intensity[IntensityMeasure.FLOOD_DEPTH_M]
    assert d.shape == (6, 2) and d[-1, 0] > 0.05 and d[-1, 0] > 10 * d[-1, 1]
    led = field.meta["volume_ledger_m3"]
    assert led["initial"] == pytest.approx(float(m.initial_depth_m.sum()) * 400.0)
    assert led["inflow"] == pytest.approx(3600 * (0.25 * 12.5 + 0.25 * 12.5))
    moved = led["initial"] + led["rain"] + led["inflow"] + led["boundary_in"]
    assert abs(led["error"]) < 1e-9 * moved
    assert field.meta["dem_coarsening"] == 2
    # no bar when asked not to
    hz.compute(sites, progress=False)
    assert "simulated" not in capsys.readouterr().err


def test_serial_fused_kernel_matches_the_parallel_passes(tmp_path, monkeypatch):
    terrain = _terrain()
    cfg = FloodConfig.model_validate(dict(
        duration_h=0.2, output_step_h=0.1, rain=[[0, 30]],
        inflows=[{"line": [[X0 + 300.0, Y0 - 25.0], [X0 + 500.0, Y0 - 25.0]],
                  "hydrograph": [[0, 10.0]]}],
        stage_boundaries=[{"edge": "S", "initial_fill": True, "stage": [[0, 0.2], [0.2, 0.5]]}]))
    ctx = HazardContext(crs=CRS, terrain=terrain, base_dir=tmp_path, horizon_h=1.0)
    model = FloodHazard.from_config(cfg, ctx).model
    runs = {}
    for name, limit in (("serial", 10**9), ("parallel", 0)):
        monkeypatch.setattr(solver_mod, "PARALLEL_MIN_CELLS", limit)
        s = model.solver(track_maxima=True)
        s.advance_to(0.2 * 3600.0)
        runs[name] = s
    a, b = runs["serial"], runs["parallel"]
    assert a.n_steps == b.n_steps > 10
    np.testing.assert_array_equal(a.h, b.h)
    np.testing.assert_array_equal(a.qx, b.qx)
    np.testing.assert_array_equal(a.qy, b.qy)
    np.testing.assert_array_equal(a.max_speed_mps, b.max_speed_mps)
    assert abs(a.ledger.error_m3) < 1e-9 * a.ledger.storage_m3
