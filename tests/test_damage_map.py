"""The damage map samples areas and rasters along the sites with the shared sampler."""

from __future__ import annotations

import numpy as np
import pytest
from site_fixtures import line_sites

from hazards.base import HazardContext, IntensityMeasure
from hazards.damage_map import DamageMapConfig, DamageMapHazard

CRS = "EPSG:32650"
X0, Y1 = 500000.0, 3400000.0


def _raster(path, z, *, dx=10.0):
    import rasterio
    from affine import Affine

    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=CRS, nodata=-9999.0,
                       transform=Affine(dx, 0, X0, 0, -dx, Y1)) as dst:
        dst.write(np.asarray(z, dtype=np.float32), 1)
    return path


def _hazard(tmp_path, block: dict) -> DamageMapHazard:
    ctx = HazardContext(crs=CRS, terrain=None, base_dir=tmp_path, horizon_h=24.0)
    return DamageMapHazard(DamageMapConfig.model_validate(block), ctx)


def test_raster_reads_the_worst_cell_a_line_crosses_between_its_vertices(tmp_path):
    z = np.zeros((10, 10))
    z[5, 5] = 2.5  # one deep cell, crossed by the line but under none of its vertices
    z[0, 0] = -9999.0
    _raster(tmp_path / "depth.tif", z)
    sites = line_sites([
        [(X0 + 5.0, Y1 - 55.0), (X0 + 95.0, Y1 - 55.0)],   # crosses row 5
        [(X0 + 5.0, Y1 - 5.0)],                              # on NoData
        [(X0 + 500.0, Y1 - 5.0)],                            # outside
        [(X0 + 15.0, Y1 - 15.0)],                            # a dry node
    ], crs=CRS)
    hz = _hazard(tmp_path, {"raster": {"path": "depth.tif", "time_h": 2.0, "duration_h": 6}})
    field = hz.compute(sites)
    depth = field.intensity[IntensityMeasure.FLOOD_DEPTH_M]
    np.testing.assert_array_equal(field.times_h, [2.0, 8.0])
    assert depth[0, 0] == pytest.approx(2.5)
    assert np.isnan(depth[0, 1]) and np.isnan(depth[0, 2]) and depth[0, 3] == 0.0
    assert np.isnan(depth[1]).all()  # after duration_h the raster no longer applies


def test_area_hits_a_site_with_any_vertex_inside(tmp_path):
    sites = line_sites([[(0.0, 0.0), (100.0, 0.0)], [(200.0, 0.0)], [(50.0, 500.0)]], crs=CRS)
    hz = _hazard(tmp_path, {"events": [{"time_h": 1, "area": {"bbox": [90, -10, 210, 10]},
                                        "damage_state": "moderate"}]})
    field = hz.compute(sites)
    assert field.forced.site.tolist() == [0, 1]
    assert field.forced.damage_state.tolist() == [2, 2]


def test_cache_key_follows_the_raster_bytes(tmp_path):
    p = _raster(tmp_path / "depth.tif", np.zeros((4, 4)))
    hz = _hazard(tmp_path, {"raster": {"path": "depth.tif"}})
    before = hz.cache_key()
    _raster(p, np.ones((4, 4)))
    assert hz.cache_key() != before
