"""Bad inputs raise HazardError with a one-line message that says what and where."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import common.rasters as rasters_mod
from common.errors import HazardError, InputError
from hazards.flood.config import FloodConfig, build_model
from hazards.flood.dem import load_dem
from hazards.flood.forcing import RainfallRaster, read_series_csv

ROOT = Path(__file__).resolve().parents[2]
LHC = ROOT / "data" / "dem" / "SRTMGL3_40.09_-105.55_40.21_-105.35.asc"


def _csv(tmp_path: Path, text: str, name: str = "rain.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_dem_without_crs_is_refused(tmp_path):
    asc = _csv(tmp_path, "ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 10\n"
                         "NODATA_value -9999\n1 2 3\n4 5 6\n", "nocrs.asc")
    with pytest.raises(HazardError, match="no CRS") as e:
        load_dem(asc)
    assert str(asc) in str(e.value) and "\n" not in str(e.value)
    assert isinstance(e.value, InputError)


def test_geographic_dem_is_reprojected_to_utm():
    grid = load_dem(LHC)
    assert grid.source_crs == "EPSG:4326"
    assert grid.crs == "EPSG:32613"  # Colorado, 105.45 W
    assert grid.dx_m == pytest.approx(grid.dy_m)
    assert 60 < grid.dx_m < 100
    valid = grid.elevation_m[np.isfinite(grid.elevation_m)]
    assert valid.min() > 1900 and valid.max() < 3300  # no NoData read as 0 m


def test_nodata_becomes_walls_or_nearest_never_zero(tmp_path, dem_writer):
    z = np.full((6, 8), 50.0)
    z[2:4, 3:5] = -9999.0
    path = dem_writer(tmp_path / "holes.tif", z)
    cfg = FloodConfig(dem=path, duration_h=1)
    model = build_model(cfg)
    assert model.wall[2:4, 3:5].all() and model.wall.sum() == 4
    model = build_model(FloodConfig(dem=path, duration_h=1, nodata="nearest"))
    assert not model.wall.any()
    assert np.all(model.elevation_m == 50.0)


def test_dem_too_large_for_memory(tmp_path, dem_writer, monkeypatch):
    path = dem_writer(tmp_path / "dem.tif", np.zeros((50, 50)))
    monkeypatch.setattr(rasters_mod, "available_memory_bytes", lambda: 100_000)
    with pytest.raises(HazardError, match=r"50 x 50 DEM needs .* available"):
        load_dem(path)


@pytest.mark.parametrize("text, line, message", [
    ("time_h,rain_mmh\n0,5\n1,\n2,3\n", 3, "missing rain_mmh value: gap"),
    ("time_h,rain_mmh\n0,5\n1,4\n\n2,3\n", 4, "empty line between records"),
    ("time_h,rain_mmh\n0,5\n1,4\n3,3\n", 4, "differs from the record's step"),
    ("time_h,rain_mmh\n0,5\n1,nan\n", 3, "not finite"),
    ("time_min,rain_mm\n0,5\n", 1, "expected 'time_h,rain_mmh'"),
    ("time_h,rain_mmh\n0,5\n1,2500\n", 3, "wrong units"),
    ("time_h,rain_mmh\n0,5\n1,-1\n", 3, "negative"),
    ("time_h,rain_mmh\n0,5\n0,4\n", 3, "does not increase"),
])
def test_bad_rain_files_name_file_and_line(tmp_path, text, line, message):
    p = _csv(tmp_path, text)
    with pytest.raises(HazardError, match=message) as e:
        read_series_csv(p, kind="rain")
    assert f"{p}:{line}:" in str(e.value)




def test_rain_file_round_trip(tmp_path):
    p = _csv(tmp_path, "# gauge 7\ntime_h,rain_mmh\n0,0\n0.5,12.5\n1.0,40\n1.5,0\n\n")
    t, r = read_series_csv(p, kind="rain")
    np.testing.assert_array_equal(t, [0, 0.5, 1.0, 1.5])
    np.testing.assert_array_equal(r, [0, 12.5, 40, 0])


def test_negative_inflow_is_refused(tmp_path, valley_dem):
    with pytest.raises(HazardError, match="discharge must be >= 0"):
        build_model(FloodConfig(dem=valley_dem, duration_h=1, inflows=[
            {"point": [500100.0, 3399900.0], "hydrograph": [[0, 5], [1, -2]]}]))
    p = _csv(tmp_path, "time_h,q_m3s\n0,1\n2,-3\n", "q.csv")
    with pytest.raises(HazardError, match=rf"{p}:3: discharge -3 m3/s is negative"):
        build_model(FloodConfig(dem=valley_dem, duration_h=1, inflows=[
            {"point": [500100.0, 3399900.0], "hydrograph": p}]))


def test_inflow_outside_the_dem_is_refused(valley_dem):
    with pytest.raises(HazardError, match=r"inflows\[0\].*outside the DEM"):
        build_model(FloodConfig(dem=valley_dem, duration_h=1, inflows=[
            {"point": [400000.0, 3399900.0], "hydrograph": [[0, 5]]}]))


def test_rain_raster_shape_is_checked():
    with pytest.raises(HazardError, match=r"expected \(T, 10, 12\)"):
        RainfallRaster.from_frames([0.0], np.zeros((1, 10, 11)), shape=(10, 12))
    with pytest.raises(HazardError, match="wrong units"):
        RainfallRaster.from_frames([0.0], np.full((1, 10, 12), 1e3), shape=(10, 12))


def test_config_forbids_unknown_keys_and_double_boundaries(valley_dem):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="extra"):
        FloodConfig(dem=valley_dem, duration_h=1, rainfall=[[0, 1]])
    with pytest.raises(ValidationError, match="two boundary conditions"):
        FloodConfig(dem=valley_dem, duration_h=1, outflow_edges=["S"],
                    stage_boundaries=[{"edge": "S", "stage": [[0, 1]]}])
