"""Hostile inputs to the flood: one line on stderr, exit code 2, nothing half-written.

Each case was a crash, a hang or a silent wrong answer (issue #8): unbounded
sizes (``--hours inf``, ``output_step_h: 1e-9``), a stage of 1e300 m that froze
the solver, a DEM beside the city that gave 100 % service without a word.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from common.errors import HazardError

CITY_CRS = "EPSG:32649"
#: The built-in city at scale 0.2 (seed 7) lies inside x 758774..763184, y 2458340..2462360.
CITY_X0, CITY_Y1 = 758774.0, 2462360.0


def twin(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300, env=env)


def one_line_exit_2(r: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2 with exactly one error line (progress lines such as "preparing ..." may
    come before it) and no traceback."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == errors[0]
    for n in needles:
        assert n in errors[0], errors[0]


def write_dem(path: Path, z: np.ndarray, *, x0: float, y1: float, dx: float = 50.0,
              crs: str = CITY_CRS) -> Path:
    import rasterio
    from affine import Affine

    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=crs, nodata=-9999.0,
                       transform=Affine(dx, 0, x0, 0, -dx, y1)) as dst:
        dst.write(np.asarray(z, dtype=np.float32), 1)
    return path


@pytest.fixture
def small_dem(tmp_path) -> Path:
    y, x = np.mgrid[0:20, 0:20].astype(float)
    return write_dem(tmp_path / "dem.tif", 10.0 + 0.1 * y + 0.05 * x, x0=500000.0,
                     y1=3400000.0, crs="EPSG:32650")


def scenario(tmp_path: Path, flood_block: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"""
name: hostile flood
city: {{builtin: {{seed: 7, scale: 0.2}}}}
horizon_h: 24
output_step_h: 1
realizations: 1
seed: 1
workers: 1
hazards:
  - type: flood
{flood_block}
""")
    return p


# ---------------------------------------------------------------- twin flood: sizes


@pytest.mark.parametrize("hours, needle", [
    ("inf", "finite number"), ("nan", "must be > 0"), ("-3", "must be > 0"),
    ("100000", "exceeds 8784 h"),
])
def test_flood_cli_refuses_unbounded_hours(tmp_path, small_dem, hours, needle):
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, f"--hours={hours}", "--out", out)
    one_line_exit_2(r, needle)
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_flood_cli_refuses_a_tiny_output_step(tmp_path, small_dem):
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, "--hours", "12", "--output-step-h", "1e-9",
             "--out", out)
    one_line_exit_2(r, "output times", "larger output_step_h")
    assert not out.exists()


def test_flood_cli_refuses_a_device_as_dem(tmp_path):
    out = tmp_path / "out"
    r = twin("flood", "--dem", "/dev/zero", "--hours", "1", "--out", out)
    one_line_exit_2(r, "/dev/zero", "not a regular file")
    assert not out.exists()


# ---------------------------------------------------------------- absurd forcings


def test_stage_of_1e300_is_refused_in_one_line(tmp_path, small_dem):
    (tmp_path / "surge.yaml").write_text("{edge: S, stage: [[0, 1.0e300], [1, 1.0e300]]}\n")
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, "--hours", "1", "--stage-boundary",
             tmp_path / "surge.yaml", "--out", out)
    one_line_exit_2(r, "beyond any water level")
    assert not out.exists()


def test_stage_far_above_the_dem_is_refused(tmp_path, small_dem):
    (tmp_path / "surge.yaml").write_text("{edge: S, stage: [[0, 0.5], [1, 5000]]}\n")
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, "--hours", "1", "--stage-boundary",
             tmp_path / "surge.yaml", "--out", out)
    one_line_exit_2(r, "above the DEM's highest cell")
    assert not out.exists()


def test_stage_file_with_absurd_value_names_file_and_line(tmp_path, small_dem):
    from hazards.flood.forcing import read_series_csv

    p = tmp_path / "stage.csv"
    p.write_text("time_h,stage_m\n0,1\n1,1e300\n")
    with pytest.raises(HazardError, match=rf"{p}:3: stage 1e\+300 m is beyond"):
        read_series_csv(p, kind="stage")


def test_absurd_inflow_is_refused(tmp_path, small_dem):
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, "--hours", "1", "--inflow",
             "500500,3399500,1e9", "--out", out)
    one_line_exit_2(r, "wrong units")
    assert not out.exists()


def test_solver_cannot_loop_forever_on_an_absurd_stage():
    """Forcings built by code skip the config's checks: the step floor stops the run."""
    from hazards.flood.forcing import StageBoundary, TimeSeries
    from hazards.flood.solver import FloodSolver

    s = FloodSolver(np.zeros((5, 5)), dx_m=10.0,
                    stages=[StageBoundary("sea", TimeSeries.constant(1e300), edge="S")])
    with pytest.raises(HazardError, match="time step fell to"):
        s.advance_to(3600.0)


def test_solver_stops_on_a_non_finite_state():
    from hazards.flood.solver import FloodSolver

    s = FloodSolver(np.zeros((4, 4)), dx_m=10.0)
    s.h[1, 1] = np.inf
    s._hmax = np.inf  # as a blown-up step would leave it
    with pytest.raises(HazardError, match="time step fell to nan"):
        s.advance_to(60.0)


# ---------------------------------------------------------------- scenarios


def test_scenario_output_step_of_1e9_is_caught_by_validate(tmp_path):
    s = scenario(tmp_path, "    duration_h: 12\n    output_step_h: 1.0e-9")
    r = twin("validate", s)
    one_line_exit_2(r, "output times")


def test_scenario_infinite_duration_is_caught_by_validate(tmp_path):
    s = scenario(tmp_path, "    duration_h: .inf")
    r = twin("validate", s)
    one_line_exit_2(r, "duration_h")


def test_outputs_that_do_not_fit_in_memory_are_refused_before_work(tmp_path, small_dem,
                                                                    monkeypatch):
    """The site series and the depth frames are checked against the free memory (a huge
    ``grid_frames_max_mb`` on a real grid), by ``check`` (validate) as by ``compute``."""
    from site_fixtures import line_sites

    import common.rasters as rasters
    from hazards.base import HazardContext
    from hazards.flood import FloodConfig, FloodHazard

    ctx = HazardContext(crs="EPSG:32650", terrain=None, base_dir=tmp_path, horizon_h=10.0)
    sites = line_sites([[(500100.0, 3399900.0)]], crs="EPSG:32650")
    hz = FloodHazard.from_config(FloodConfig(dem=small_dem, duration_h=10.0,
                                             output_step_h=0.001, grid_frames_max_mb=1e6), ctx)
    monkeypatch.setattr(rasters, "available_memory_bytes", lambda: 10_000_000)
    with pytest.raises(HazardError, match=r"stack of depth frames .* grid_frames_max_mb"):
        hz.check(sites)
    with pytest.raises(HazardError, match=r"stack of depth frames"):
        hz.compute(sites)
    many = line_sites([[(500100.0, 3399900.0)]] * 2000, crs="EPSG:32650")
    small = FloodHazard.from_config(FloodConfig(dem=small_dem, duration_h=10.0,
                                                output_step_h=0.001), ctx)
    with pytest.raises(HazardError, match=r"output_step_h: .* depth at sites"):
        small.check(many)


def test_dem_that_misses_the_city_is_an_error(tmp_path, small_dem):
    s = scenario(tmp_path, f"    dem: {small_dem}\n    duration_h: 1")
    for cmd in (("validate", s), ("run", s, "--out", tmp_path / "run", "-q")):
        r = twin(*cmd)
        one_line_exit_2(r, "covers none of the city's")
    assert not (tmp_path / "run").exists()


def test_dem_that_covers_part_of_the_city_warns_with_the_share_outside(tmp_path):
    # the west half of the city's box only
    dem = write_dem(tmp_path / "west.tif", np.full((80, 44), 5.0), x0=CITY_X0 - 10.0,
                    y1=CITY_Y1 + 10.0)
    s = scenario(tmp_path, f"    dem: {dem}\n    duration_h: 1")
    r = twin("validate", s)
    assert r.returncode == 0, r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(warn) == 1 and "covers" in warn[0] and "% lie outside it" in warn[0], r.stderr
    share = float(warn[0].split("; ")[-1].split(" %")[0])
    assert 10.0 < share < 90.0


@pytest.mark.parametrize("flag", ["--rain", "--obstacles", "--manning-raster",
                                  "--stage-boundary"])
def test_flood_cli_refuses_a_device_as_any_input_file(tmp_path, small_dem, flag):
    out = tmp_path / "out"
    r = twin("flood", "--dem", small_dem, "--hours", "1", flag, "/dev/zero", "--out", out)
    one_line_exit_2(r, "/dev/zero", "not a regular file")
    assert not out.exists()


def test_scenario_cell_size_beyond_the_dem_is_refused(tmp_path):
    s = scenario(tmp_path, "    duration_h: 1\n    cell_size_m: 1.0e300")
    one_line_exit_2(twin("validate", s), "cell_size_m", "larger than the DEM")


def test_absurdly_long_inflow_line_is_refused_not_allocated(small_dem):
    from hazards.flood import FloodConfig
    from hazards.flood.config import build_model

    cfg = FloodConfig(dem=small_dem, duration_h=1, inflows=[
        {"line": [[500000.0, 3399950.0], [1e15, 3399950.0]], "hydrograph": [[0, 5]]}])
    with pytest.raises(HazardError, match=r"flood line .*: sampling every 25 m makes"):
        build_model(cfg)
