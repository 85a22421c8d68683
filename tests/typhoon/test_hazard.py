"""TyphoonHazard: the protocol, sites and edges, warnings, cache key, grids, rain, surge."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydantic
import pytest
from pyproj import Transformer

from common.errors import HazardError
from hazards.base import Hazard, HazardContext, IntensityMeasure, Sites
from hazards.typhoon import TyphoonConfig, TyphoonHazard, TyphoonWarning, rcliper_rate_mmh
from networks.model import Terrain

CRS = "EPSG:32649"
CITY = (113.6, 22.3)
GUST, SUST = IntensityMeasure.GUST_MPS, IntensityMeasure.SUSTAINED_WIND_MPS


def _xy(lon, lat):
    return Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)


def make_sites(lonlat_nodes, edge_lonlat=None) -> Sites:
    xs, ys, offs, ids = [], [], [0], []
    for k, (lon, lat) in enumerate(lonlat_nodes):
        x, y = _xy(lon, lat)
        xs.append(x), ys.append(y), offs.append(offs[-1] + 1), ids.append(f"n{k}")
    is_edge = [False] * len(ids)
    if edge_lonlat is not None:
        for lon, lat in edge_lonlat:
            x, y = _xy(lon, lat)
            xs.append(x), ys.append(y)
        offs.append(offs[-1] + len(edge_lonlat))
        ids.append("e0")
        is_edge.append(True)
    n = len(ids)
    lx, ly = np.array(xs), np.array(ys)
    first = np.array(offs[:-1])
    return Sites(ids=np.array(ids, dtype=object), asset_class=np.array(["substation"] * n),
                 x_m=lx[first], y_m=ly[first], is_edge=np.array(is_edge),
                 length_m=np.zeros(n), line_offsets=np.array(offs, dtype=np.int64),
                 line_x=lx, line_y=ly, crs=CRS)


def context(tracks_dir: Path, *, terrain=None, horizon_h=120.0, meta=None) -> HazardContext:
    return HazardContext(crs=CRS, terrain=terrain, base_dir=tracks_dir, horizon_h=horizon_h,
                         meta=meta or {"anchor_lon": CITY[0], "anchor_lat": CITY[1]})


def saola_config(**extra) -> TyphoonConfig:
    block = {"type": "typhoon",
             "track": {"file": "ibtracs_usa_jtwc_selected_storms.csv", "storm": "SAOLA:2023"},
             "transforms": [{"shift_to_lonlat": list(CITY)}], "step_min": 30,
             "profile": "holland2008"}  # Saola's IBTrACS extract has no wind radii
    block.update(extra)
    return TyphoonConfig.model_validate(block)


def test_protocol_and_compute_on_sites(tracks_dir):
    hz = TyphoonHazard.from_config(saola_config(), context(tracks_dir))
    assert isinstance(hz, Hazard) and hz.kind == "typhoon"
    sites = make_sites([CITY, (113.9, 22.5), (112.0, 21.0)])
    f = hz.compute(sites)
    assert f.times_h[0] == 0.0 and np.all(np.diff(f.times_h) == 0.5)
    for m in (GUST, SUST):
        assert f.intensity[m].shape == (len(f.times_h), 3)
        assert f.intensity[m].dtype == np.float32
    g, s = f.intensity[GUST], f.intensity[SUST]
    assert np.all(g >= s)
    # the eye passes over the city 48 h after t0: the peak comes near t = 48 h
    k = int(np.argmax(g[:, 0]))
    assert abs(f.times_h[k] - 48.0) <= 3.0
    assert g[:, 0].max() > 40.0 and g[:, 2].max() < g[:, 0].max()
    assert f.meta["closest_approach_km"] < 1.0
    assert f.t0_utc < f.meta["closest_approach_utc"]
    assert f.warnings == ()


def test_edge_reports_the_maximum_along_the_line(tracks_dir):
    hz = TyphoonHazard.from_config(saola_config(), context(tracks_dir))
    line = [(113.2, 22.3), (113.6, 22.3), (114.0, 22.3)]
    f_edge = hz.compute(make_sites([CITY], edge_lonlat=line))
    # the same vertices and midpoints as point sites
    dense = [(lon, 22.3) for lon in np.linspace(113.2, 114.0, 81)]
    f_pts = hz.compute(make_sites(dense))
    e = f_edge.intensity[GUST][:, 1]
    pts = f_pts.intensity[GUST]
    assert np.all(e >= pts.max(axis=1) - 0.05)           # sampled densely along the line
    assert np.all(e <= pts.max(axis=1) + 1.0)            # and no more than its maximum
    assert np.all(e >= f_edge.intensity[GUST][:, 0] - 1e-4)


def test_far_track_warns_and_records_it(tracks_dir):
    cfg = TyphoonConfig.model_validate({"track": {"file": "hurdat2_atlantic_2004_2018.txt",
                                                  "storm": "IKE:2008"}})
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir))
    with pytest.warns(TyphoonWarning, match="never comes within 300 km") as rec:
        f = hz.compute(make_sites([CITY]))
    assert len(rec) == 1  # once per compute (it was issued twice)
    assert len(f.warnings) == 1 and "IKE:2008" in f.warnings[0]
    assert f.intensity[GUST].max() == 0.0
    with pytest.warns(TyphoonWarning) as rec:
        hz.check(make_sites([CITY]))  # twin validate
    assert len(rec) == 1


def test_city_fallback_is_computed_once(tracks_dir, monkeypatch):
    """Without city_lonlat or an anchor the city is the sites' centroid: found once per
    compute, and the timeline is built once per city (it was computed twice)."""
    import hazards.typhoon.hazard as hz_mod

    calls = []
    real = hz_mod.build_timeline
    monkeypatch.setattr(hz_mod, "build_timeline", lambda *a: calls.append(a[2]) or real(*a))
    hz = TyphoonHazard.from_config(saola_config(), context(tracks_dir, meta={}))
    sites = make_sites([(113.55, 22.25), (113.65, 22.35)])
    hz.compute(sites)
    hz.compute(sites)
    assert len(calls) == 1 and calls[0] == pytest.approx((113.6, 22.3), abs=1e-3)


def test_cache_key_is_stable_and_covers_inputs(tracks_dir):
    a = TyphoonHazard.from_config(saola_config(), context(tracks_dir)).cache_key()
    b = TyphoonHazard.from_config(saola_config(), context(tracks_dir)).cache_key()
    c = TyphoonHazard.from_config(saola_config(transforms=[{"shift_km": [10, 0]}]),
                                  context(tracks_dir)).cache_key()
    d = TyphoonHazard.from_config(saola_config(), context(tracks_dir, horizon_h=24)).cache_key()
    assert a == b and len({a, c, d}) == 3 and a.startswith("typhoon-")


def test_config_is_strict(tracks_dir):
    with pytest.raises(pydantic.ValidationError):
        saola_config(unknown_option=1)
    with pytest.raises(pydantic.ValidationError, match="exactly one"):
        saola_config(transforms=[{"shift_km": [1, 0], "rotate_deg": 5}])
    with pytest.raises(HazardError, match="not found"):
        TyphoonHazard.from_config(saola_config(track={"file": "nope.csv", "storm": "X:1"}),
                                  context(tracks_dir))


def test_start_time_and_horizon(tracks_dir):
    cfg = saola_config(start_time_utc="2023-08-31T00:00:00Z", step_min=60)
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir, horizon_h=30))
    f = hz.compute(make_sites([CITY]))
    assert f.t0_utc == "2023-08-31T00:00:00Z"
    assert f.times_h[-1] == 30.0 and len(f.times_h) == 31


def test_terrain_gives_a_decimated_gust_grid_and_land_mask(tracks_dir):
    x0, y0 = _xy(113.3, 22.6)
    elev = np.full((120, 150), 5.0)
    elev[60:, :] = -2.0  # southern half is sea
    terr = Terrain(elev, (500.0, 0.0, x0, 0.0, -500.0, y0), CRS)
    cfg = saola_config(grid_max_cells=2000, roughness={"source": "dem_land_mask", "z0_m": 0.3})
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir, terrain=terr))
    f = hz.compute(make_sites([CITY]))
    gs = f.grids[GUST]
    assert gs.values.shape[0] == len(f.times_h) and gs.values[0].size <= 2000
    assert gs.values.dtype == np.float32 and gs.crs == CRS
    assert gs.transform[0] == 500.0 * 3  # stride 3 for 18,000 cells -> 2,000
    # land (z0 0.3) vs sea points at the same place
    xs = np.array([x0 + 10e3, x0 + 10e3])
    z0 = hz.z0_at(xs, np.array([y0 - 10e3, y0 - 50e3]), CRS)
    assert z0[0] == 0.3 and z0[1] == pytest.approx(0.0002)


def test_rain_series_on_a_grid(tracks_dir):
    hz = TyphoonHazard.from_config(saola_config(step_min=60), context(tracks_dir))
    x0, y0 = _xy(113.2, 22.7)
    grid = ((1000.0, 0.0, x0, 0.0, -1000.0, y0), (80, 80), CRS)
    rain = hz.rain_series(grid)
    assert rain.rain_mmh.shape == (len(rain.times_s), 80, 80)
    assert rain.rain_mmh.dtype == np.float32
    np.testing.assert_allclose(np.diff(rain.times_s), 3600.0)
    assert rain.rain_mmh.max() > 5.0 and rain.rain_mmh.min() >= 0.0
    k = int(np.argmax(rain.rain_mmh.max(axis=(1, 2))))
    assert abs(rain.times_s[k] / 3600 - 48) <= 4


def test_rcliper_profile_values():
    # U = 1 at 35 kt: T0 = 2.86 in/day at the eye, Tm = 3.2 in/day at rm = 51 km
    r = np.array([0.0, 51.0, 51.0 + 134.0])
    rate = rcliper_rate_mmh(r, 35 * 0.514444)
    np.testing.assert_allclose(rate[:2], np.array([2.86, 3.2]) * 25.4 / 24, rtol=1e-5)
    assert rate[2] == pytest.approx(3.2 * 25.4 / 24 / np.e, rel=1e-5)


def test_surge_parametric_and_from_file(tracks_dir, tmp_path):
    cfg = saola_config(surge={"lonlat": [113.6, 22.2], "shore_normal_deg": 0.0,
                              "shelf_width_km": 60, "shelf_depth_m": 20})
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir))
    t, stage = hz.surge_series()
    assert stage.shape == t.shape and stage.max() > 0.3
    assert abs(t[int(np.argmax(stage))] / 3600 - 48) <= 4
    p = tmp_path / "stage.csv"
    p.write_text("time_utc,stage_m\n2023-08-30T00:00Z,0.0\n2023-09-03T00:00Z,4.0\n")
    cfg = saola_config(surge={"file": str(p)})
    t2, s2 = TyphoonHazard.from_config(cfg, context(tracks_dir)).surge_series()
    assert np.all(np.diff(s2) >= 0) and 0 < s2[0] < s2[-1] == 4.0  # held beyond the file


def test_sites_centroid_is_the_city_without_anchor(tracks_dir):
    cfg = saola_config()
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir, meta={}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = hz.compute(make_sites([(113.55, 22.25), (113.65, 22.35)]))
    assert f.meta["city_lonlat"] == pytest.approx([113.6, 22.3], abs=1e-3)


def test_chunked_evaluation_equals_one_pass(tracks_dir, monkeypatch):
    import hazards.typhoon.hazard as hz_mod

    hz = TyphoonHazard.from_config(saola_config(), context(tracks_dir))
    sites = make_sites([(113.6 + 0.01 * k, 22.3) for k in range(30)],
                       edge_lonlat=[(113.2, 22.3), (114.0, 22.4)])
    one = hz.compute(sites).intensity[GUST]
    monkeypatch.setattr(hz_mod, "POINT_STEPS_PER_CHUNK", 500)  # many small chunks
    np.testing.assert_array_equal(hz.compute(sites).intensity[GUST], one)


def test_landuse_raster_roughness(tracks_dir, tmp_path):
    import rasterio

    x0, y0 = _xy(113.5, 22.4)
    codes = np.full((10, 10), 50, dtype=np.uint8)  # built-up
    codes[5:, :] = 80                               # water
    codes[0, 0] = 77                                # not a WorldCover class
    path = tmp_path / "lu.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=10, count=1, dtype="uint8",
                       crs=CRS, transform=rasterio.Affine(1000, 0, x0, 0, -1000, y0)) as dst:
        dst.write(codes, 1)
    cfg = saola_config(roughness={"source": "landuse", "landuse_raster": str(path)})
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir))
    z0 = hz.z0_at(np.array([x0 + 2500, x0 + 2500, x0 - 5000]),
                  np.array([y0 - 2500, y0 - 7500, y0]), CRS)
    np.testing.assert_allclose(z0, [1.0, 0.0002, 0.03])  # built-up, water, outside -> z0_m
    with pytest.raises(HazardError, match=r"land-use codes \[77\]"):
        hz.z0_at(np.array([x0 + 500]), np.array([y0 - 500]), CRS)


def test_track_without_radii_falls_back_with_a_warning_and_a_flag(tracks_dir):
    hz = TyphoonHazard.from_config(saola_config(profile="auto"), context(tracks_dir))
    with pytest.warns(TyphoonWarning, match="reports no wind radii") as rec:
        f = hz.compute(make_sites([CITY]))
    assert len(rec) == 1
    assert f.meta["profile"] == "holland2008" and f.meta["size_from_wind_radii"] is False
    assert any("no wind radii" in w for w in f.warnings)
    with pytest.raises(HazardError, match="reports no wind radii"):
        TyphoonHazard.from_config(saola_config(profile="holland2010_radii"),
                                  context(tracks_dir))


def test_track_with_radii_is_fitted_and_not_cut_inside_its_size(tracks_dir):
    """Mangkhut 2018 (JMA) passed ~100 km south of Hong Kong with 30-kt winds out to
    350 n mi: the fitted storm reaches the city, nothing is cut at 500 km."""
    cfg = TyphoonConfig.model_validate({
        "track": {"file": "jma_rsmc_tokyo_bst_2015_2021.txt", "storm": "MANGKHUT:2018"},
        "step_min": 60})
    hz = TyphoonHazard.from_config(cfg, context(tracks_dir, horizon_h=96))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = hz.compute(make_sites([CITY, (113.6, 27.8)]))  # the city; 610 km north of it
    assert f.meta["profile"] == "holland2010_radii" and f.meta["size_from_wind_radii"]
    assert f.intensity[SUST][:, 1].max() > 5.0  # beyond 500 km, inside the storm's R30


def test_topographic_speed_up_from_the_city_dem(tracks_dir):
    from hazards.typhoon.topography import hill_multiplier

    x0, y0 = _xy(113.55, 22.35)
    xs = (np.arange(600) + 0.5) * 10.0
    elev = np.tile(np.maximum(0.0, 100.0 * (1 - np.abs(xs - 3000.0) / 1000.0)), (600, 1))
    tr = (10.0, 0.0, x0, 0.0, -10.0, y0)
    terr = Terrain(elev, tr, CRS)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    crest = to_ll.transform(x0 + 3005.0, y0 - 3000.0)
    sites = make_sites([crest])
    plain = TyphoonHazard.from_config(saola_config(grid_max_cells=100),
                                      context(tracks_dir, terrain=terr)).compute(sites)
    hill = TyphoonHazard.from_config(saola_config(grid_max_cells=100, topography="as_nzs_1170_2"),
                                     context(tracks_dir, terrain=terr)).compute(sites)
    mh = hill_multiplier(elev, tr, np.array([x0 + 3005.0]), np.array([y0 - 3000.0]))[0]
    assert mh > 1.1
    np.testing.assert_allclose(hill.intensity[SUST].max(), plain.intensity[SUST].max() * mh,
                               rtol=1e-3)
