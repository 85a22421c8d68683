"""FloodHazard behind the hazard protocol: sampling at sites, grids, cache keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hazards.base import Hazard, HazardContext, HazardField, IntensityMeasure, Sites
from hazards.flood import FloodConfig, FloodHazard
from hazards.flood.hazard import FloodWarning
from networks.model import Terrain

CRS = "EPSG:32650"
X0, Y0 = 500000.0, 3400000.0  # west and north edges of the conftest DEMs (10 m cells)


def _sites(lines: dict[str, list[tuple[float, float]]]) -> Sites:
    ids = list(lines)
    offsets = np.cumsum([0] + [len(v) for v in lines.values()])
    lx = np.array([p[0] for v in lines.values() for p in v])
    ly = np.array([p[1] for v in lines.values() for p in v])
    is_edge = np.array([len(v) > 1 for v in lines.values()])
    mid_x = np.array([np.mean([p[0] for p in v]) for v in lines.values()])
    mid_y = np.array([np.mean([p[1] for p in v]) for v in lines.values()])
    return Sites(ids=np.array(ids, dtype=object), asset_class=np.array(["junction"] * len(ids)),
                 x_m=mid_x, y_m=mid_y, is_edge=is_edge, length_m=np.zeros(len(ids)),
                 line_offsets=offsets.astype(np.int64), line_x=lx, line_y=ly, crs=CRS)


def _ctx(tmp_path: Path, terrain: Terrain | None = None) -> HazardContext:
    return HazardContext(crs=CRS, terrain=terrain, base_dir=tmp_path, horizon_h=2.0)


def _config(**kw) -> FloodConfig:
    base = dict(dem="valley.tif", duration_h=0.5, output_step_h=0.1, outflow_edges=["S"],
                inflows=[{"name": "creek", "point": [X0 + 195.0, Y0 - 15.0],
                          "hydrograph": [[0, 2.0], [0.5, 6.0]]}])
    base.update(kw)
    return FloodConfig.model_validate(base)


def test_compute_samples_nodes_and_the_maximum_along_edges(tmp_path, valley_dem):
    hz = FloodHazard.from_config(_config(), _ctx(tmp_path))
    assert isinstance(hz, Hazard) and hz.kind == "flood"
    channel_x = X0 + 195.0  # the valley floor (column 19.5 of 40)
    sites = _sites({
        "n_channel": [(channel_x, Y0 - 255.0)],
        "n_hill": [(X0 + 15.0, Y0 - 255.0)],
        "n_outside": [(X0 - 500.0, Y0 - 100.0)],
        "e_across": [(X0 + 15.0, Y0 - 205.0), (X0 + 385.0, Y0 - 205.0)],
        "e_half_out": [(X0 - 300.0, Y0 - 105.0), (channel_x, Y0 - 105.0)],
    })
    with pytest.warns(FloodWarning, match=r"covers 4 of the city's 5 sites; 20.0 % lie outside"):
        field = hz.compute(sites)
    assert isinstance(field, HazardField)
    assert field.warnings and all(isinstance(w, str) for w in field.warnings)
    depth = field.intensity[IntensityMeasure.FLOOD_DEPTH_M]
    np.testing.assert_allclose(field.times_h, [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert depth.shape == (6, 5) and depth.dtype == np.float32
    assert np.all(np.isnan(depth[:, 2]))          # outside the DEM
    assert depth[-1, 0] > 0.05                     # the channel floods
    assert depth[-1, 1] < 0.01 * depth[-1, 0]      # the hillside does not
    # the edge reads the maximum over the cells it crosses: recompute it from the grid
    grid = field.grids[IntensityMeasure.FLOOD_DEPTH_M]
    assert field.meta["grid_decimation"] == 1
    frame = grid.values[-1]
    a, _, c, _, e, f = grid.transform
    xs = np.linspace(X0 + 15.0, X0 + 385.0, 400)
    cols = np.floor((xs - c) / a).astype(int)
    row = int(np.floor((Y0 - 205.0 - f) / e))
    assert depth[-1, 3] == pytest.approx(float(frame[row, cols].max()), rel=1e-6)
    assert depth[-1, 3] > depth[-1, 1]
    assert depth[-1, 4] > 0 and np.isfinite(depth[:, 4]).all()   # the inside part counts
    assert abs(field.meta["volume_ledger_m3"]["error"]) < 1e-6


def test_site_inside_a_building_reads_the_water_around_it(tmp_path, dem_writer):
    import geopandas as gpd
    from shapely.geometry import box

    dem_writer(tmp_path / "flat.tif", np.zeros((20, 20)))
    gpd.GeoDataFrame(geometry=[box(X0 + 80, Y0 - 120, X0 + 120, Y0 - 80)], crs=CRS).to_file(
        tmp_path / "bldg.geojson")
    cfg = FloodConfig(dem="flat.tif", duration_h=0.2, output_step_h=0.1, obstacles="bldg.geojson",
                      stage_boundaries=[{"edge": "W", "stage": [[0, 0.5]]}])
    hz = FloodHazard.from_config(cfg, _ctx(tmp_path))
    assert hz.model.wall.sum() == 16
    field = hz.compute(_sites({"substation": [(X0 + 100.0, Y0 - 100.0)]}))
    d = field.intensity[IntensityMeasure.FLOOD_DEPTH_M]
    assert d[-1, 0] > 0.1


def test_terrain_of_the_city_is_used_without_a_dem(tmp_path, valley_z):
    z = valley_z()
    terrain = Terrain(z, (10.0, 0.0, X0, 0.0, -10.0, Y0), CRS)
    cfg = _config(dem=None)
    hz = FloodHazard.from_config(cfg, _ctx(tmp_path, terrain))
    field = hz.compute(_sites({"n": [(X0 + 195.0, Y0 - 255.0)]}))
    assert field.intensity[IntensityMeasure.FLOOD_DEPTH_M][-1, 0] > 0.05


def test_cache_key_changes_with_every_input(tmp_path, valley_dem, valley_z, dem_writer):
    ctx = _ctx(tmp_path)
    key = FloodHazard.from_config(_config(), ctx).cache_key()
    assert len(key) == 64
    assert FloodHazard.from_config(_config(), ctx).cache_key() == key
    # same bytes elsewhere: the key follows contents, not paths
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(valley_dem, other / "valley.tif")
    assert FloodHazard.from_config(_config(), _ctx(other)).cache_key() == key
    changed = [
        _config(rain=[[0, 10.0]]),
        _config(manning=0.05),
        _config(duration_h=0.6),
        _config(outflow_edges=["N"]),
        _config(inflows=[{"point": [X0 + 195.0, Y0 - 15.0], "hydrograph": [[0, 2.5]]}]),
    ]
    keys = {FloodHazard.from_config(c, ctx).cache_key() for c in changed}
    assert key not in keys and len(keys) == len(changed)
    z = valley_z()
    z[5, 5] += 1.0
    dem_writer(valley_dem, z)  # same path, one cell changed
    assert FloodHazard.from_config(_config(), ctx).cache_key() != key
    # the city's terrain instead of a file: its array is part of the key
    t1 = Terrain(valley_z(), (10.0, 0.0, X0, 0.0, -10.0, Y0), CRS)
    t2 = Terrain(z, (10.0, 0.0, X0, 0.0, -10.0, Y0), CRS)
    k1 = FloodHazard.from_config(_config(dem=None), _ctx(tmp_path, t1)).cache_key()
    k2 = FloodHazard.from_config(_config(dem=None), _ctx(tmp_path, t2)).cache_key()
    assert k1 != k2


def test_grids_are_decimated_to_the_budget(tmp_path, valley_dem):
    hz = FloodHazard.from_config(_config(grid_frames_max_mb=0.01), _ctx(tmp_path))
    field = hz.compute(_sites({"n": [(X0 + 195.0, Y0 - 255.0)]}))
    g = field.grids[IntensityMeasure.FLOOD_DEPTH_M]
    k = field.meta["grid_decimation"]
    assert k > 1 and g.values.nbytes <= 0.01 * 2**20
    assert g.values.shape[1:] == (-(-30 // k), -(-40 // k))
    assert g.transform[0] == 10.0 * k
    full = FloodHazard.from_config(_config(), _ctx(tmp_path)).compute(
        _sites({"n": [(X0 + 195.0, Y0 - 255.0)]})).grids[IntensityMeasure.FLOOD_DEPTH_M]
    # block maxima: the decimated frame keeps the deepest water of each block
    assert np.nanmax(g.values[-1]) == pytest.approx(np.nanmax(full.values[-1]))


def test_a_cached_field_repeats_the_coverage_warning(tmp_path, valley_dem, monkeypatch):
    from types import SimpleNamespace

    from twin.run import hazard_field

    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path / "cache"))
    sites = _sites({"in": [(X0 + 195.0, Y0 - 255.0)], "out": [(X0 - 500.0, Y0 - 100.0)]})
    twin = SimpleNamespace(sites=sites)
    hz = FloodHazard.from_config(_config(duration_h=0.2), _ctx(tmp_path))
    with pytest.warns(UserWarning, match=r"covers 1 of the city's 2 sites; 50.0 %"):
        hazard_field(hz, twin)

    def recompute(_sites):
        raise AssertionError("a cache hit must not recompute")

    monkeypatch.setattr(hz, "compute", recompute)
    with pytest.warns(UserWarning, match=r"covers 1 of the city's 2 sites; 50.0 %"):
        hazard_field(hz, twin)  # from the cache: the same one-line warning
