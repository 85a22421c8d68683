"""One raster opener (common.rasters): one-line errors, NoData never a number, CRS rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import HazardError, NetworkError
from common.rasters import open_raster, read_band, read_onto_grid, read_raster, sample_grid

CRS = "EPSG:32650"


def write(path: Path, z, *, crs: str | None = CRS, nodata: float | None = -9999.0,
          dx: float = 10.0, origin=(500000.0, 3400000.0)) -> Path:
    import rasterio
    from affine import Affine

    z = np.asarray(z, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(dx, 0, origin[0], 0, -dx, origin[1])) as dst:
        dst.write(z, 1)
    return path


def test_nodata_nan_and_inf_become_nan(tmp_path):
    p = write(tmp_path / "a.tif", [[1.0, -9999.0], [np.inf, 4.0]])
    with open_raster(p, "DEM") as src:
        z = read_band(src, what="DEM")
    assert z.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(z), [[False, True], [True, False]])


def test_all_nodata_is_an_error(tmp_path):
    p = write(tmp_path / "a.tif", [[-9999.0, -9999.0]])
    with pytest.raises(HazardError, match="no valid cell"):
        read_raster(p, "DEM", error=HazardError)


@pytest.mark.parametrize("case, message", [
    ("missing", "DEM file not found"),
    ("folder", "found a folder"),
    ("device", "not a regular file"),
    ("text", "not a raster GDAL can read"),
    ("nocrs", "DEM has no CRS; fix it"),
])
def test_bad_files_give_one_line_of_the_callers_class(tmp_path, case, message):
    p = {"missing": tmp_path / "none.tif", "folder": tmp_path, "device": Path("/dev/zero"),
         "text": tmp_path / "t.tif", "nocrs": tmp_path / "n.tif"}[case]
    if case == "text":
        p.write_text("hello")
    if case == "nocrs":
        write(p, [[1.0]], crs=None)
    with pytest.raises(NetworkError, match=message) as err:
        read_raster(p, "DEM", error=NetworkError, crs_hint="fix it")
    assert "\n" not in str(err.value) and str(p) in str(err.value)


def test_crs_mismatch_is_reprojected_or_refused(tmp_path):
    p = write(tmp_path / "a.tif", np.arange(100.0).reshape(10, 10))
    r = read_raster(p, "raster", target_crs="EPSG:32651")
    assert r.crs == "EPSG:32651" and r.source_crs == CRS
    assert np.isfinite(r.values).any()
    with pytest.raises(HazardError, match="differs from EPSG:32651"):
        read_raster(p, "raster", target_crs="EPSG:32651", on_mismatch="error",
                    error=HazardError)
    same = read_raster(p, "raster", target_crs=CRS, on_mismatch="error")
    np.testing.assert_array_equal(same.values, np.arange(100.0).reshape(10, 10))


def test_geographic_raster_goes_to_its_utm_zone_when_projected_is_required(tmp_path):
    p = write(tmp_path / "g.tif", np.ones((20, 20)), crs="EPSG:4326", dx=0.001,
              origin=(117.0, 30.0))
    r = read_raster(p, "DEM", projected=True)
    assert r.crs == "EPSG:32650"
    with pytest.raises(HazardError, match="not projected"):
        read_raster(p, "DEM", projected=True, target_crs="EPSG:4326", error=HazardError)


def test_band_out_of_range(tmp_path):
    p = write(tmp_path / "a.tif", [[1.0]])
    with pytest.raises(HazardError, match="1 band"):
        read_raster(p, "depth raster", band=2, error=HazardError)


def test_sample_and_resample_onto_a_grid(tmp_path):
    z = np.arange(12.0).reshape(3, 4)
    p = write(tmp_path / "a.tif", z)
    r = read_raster(p, "raster")
    x = np.array([500005.0, 500035.0, 499000.0, np.nan])
    y = np.array([3399995.0, 3399975.0, 3399995.0, 3399995.0])
    np.testing.assert_array_equal(r.sample(x, y), [0.0, 11.0, np.nan, np.nan])
    np.testing.assert_array_equal(sample_grid(z, r.transform, x, y), r.sample(x, y))
    out = read_onto_grid(p, "raster", transform=(20.0, 0, 500000.0, 0, -20.0, 3400000.0),
                         shape=(3, 3), crs=CRS)
    assert out.shape == (3, 3) and np.isnan(out[2]).all() and np.isfinite(out[0, :2]).all()


def test_huge_raster_is_refused_before_reading(tmp_path, monkeypatch):
    import common.rasters as R

    p = write(tmp_path / "a.tif", np.ones((50, 50)))
    monkeypatch.setattr(R, "available_memory_bytes", lambda: 1000)
    with pytest.raises(HazardError, match="GiB"):
        read_raster(p, "DEM", error=HazardError)
