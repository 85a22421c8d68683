"""Forecast uncertainty (issue #11.3): members perturbed with errors growing with lead time."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

import hazards.typhoon as ty
from hazards.typhoon import cli, geo
from hazards.typhoon.ensemble import ErrorGrowth, draws, ensemble


@pytest.fixture
def mangkhut(tracks_dir):
    return ty.load_track(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt", "MANGKHUT:2018")


def _spread_km(track, members, k):
    return np.array([float(geo.haversine_m(m.lat[k], m.lon[k], track.lat[k], track.lon[k]))
                     for m in members]) / 1000.0


def test_spread_grows_with_lead_time_as_the_error_table(mangkhut):
    issue = 20  # 6-hourly rows: row 20 + 4 per day
    members = ensemble(mangkhut, mangkhut.times[issue], 400, seed=11)
    before = _spread_km(mangkhut, members, issue - 2)
    assert np.all(before < 1e-6)  # no error before the issue time
    means = [_spread_km(mangkhut, members, issue + 4 * d).mean() for d in (1, 2, 3)]
    assert means[0] < means[1] < means[2]
    table = ErrorGrowth.from_constants()
    expected = np.interp([24, 48, 72], table.lead_h, table.position_mean_m) / 1000.0
    np.testing.assert_allclose(means, expected, rtol=0.12)
    v = np.array([m.vmax_mps[issue + 12] for m in members])
    v1 = np.array([m.vmax_mps[issue + 4] for m in members])
    assert v.std() > v1.std() > 0.0  # intensity spread grows too


def test_members_are_reproducible_from_the_seed(mangkhut):
    a = ensemble(mangkhut, mangkhut.times[10], 5, seed=3)
    b = ensemble(mangkhut, mangkhut.times[10], 8, seed=3)
    c = ensemble(mangkhut, mangkhut.times[10], 5, seed=4)
    for x, y in zip(a, b[:5], strict=True):  # the first members do not depend on N
        np.testing.assert_array_equal(x.lat, y.lat)
        np.testing.assert_array_equal(x.vmax_mps, y.vmax_mps)
    assert not np.array_equal(a[0].lat, c[0].lat)
    np.testing.assert_array_equal(draws(3, 9), draws(3, 9))


def test_size_errors_scale_the_wind_radii(mangkhut):
    m = ensemble(mangkhut, mangkhut.times[0], 30, seed=5)
    k = 30
    r = np.array([x.radii_m["r30_long"][k] for x in m])
    assert np.nanstd(r) > 0.0
    d = np.array([x.radii_m["r30_dir_deg"][k] for x in m])  # directions are not scaled
    assert np.all((d == mangkhut.radii_m["r30_dir_deg"][k]) | np.isnan(d))


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin wind")
    cli.configure_parser(p)
    return p.parse_args(list(argv))


def test_twin_wind_members_write_percentiles(tmp_path, tracks_dir):
    sites = tmp_path / "sites.csv"
    sites.write_text("site,lon,lat\ncity,113.58,22.26\nhk,114.17,22.30\nfar,118.0,26.0\n")

    def run(out):
        cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                      "--storm", "MANGKHUT:2018", "--sites", str(sites), "--members", "20",
                      "--seed", "7", "--issue-time", "2018-09-13T06:00Z", "--step-min", "60",
                      "--out", str(out)))
        return pd.read_csv(out / "sites.csv")

    a, b = run(tmp_path / "a"), run(tmp_path / "b")
    pd.testing.assert_frame_equal(a, b)  # reproducible from the seed
    assert {"max_gust_mps_p05", "max_gust_mps_p50", "max_gust_mps_p95"} <= set(a.columns)
    assert (a.max_gust_mps_p05 <= a.max_gust_mps_p50).all()
    assert (a.max_gust_mps_p50 <= a.max_gust_mps_p95).all()
    assert (a.max_gust_mps_p95 > a.max_gust_mps_p05 + 1.0)[:2].all()  # spread at the city


def test_a_scenario_can_run_one_forecast_member(tracks_dir):
    from pyproj import Transformer

    from hazards.base import HazardContext, IntensityMeasure, Sites
    from hazards.typhoon import TyphoonConfig, TyphoonHazard

    CITY, crs = (113.6, 22.3), "EPSG:32649"
    SUST = IntensityMeasure.SUSTAINED_WIND_MPS
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*CITY)

    def make_sites(_):
        one = np.array([x]), np.array([y])
        return Sites(ids=np.array(["a"], dtype=object), asset_class=np.array(["substation"]),
                     x_m=one[0], y_m=one[1], is_edge=np.array([False]), length_m=np.zeros(1),
                     line_offsets=np.array([0, 1]), line_x=one[0], line_y=one[1], crs=crs)

    def context(base, horizon_h):
        return HazardContext(crs=crs, terrain=None, base_dir=base, horizon_h=horizon_h)

    def field(forecast):
        cfg = TyphoonConfig.model_validate({
            "track": {"file": "jma_rsmc_tokyo_bst_2015_2021.txt", "storm": "MANGKHUT:2018"},
            "step_min": 60, "city_lonlat": list(CITY), "forecast": forecast})
        hz = TyphoonHazard.from_config(cfg, context(tracks_dir, horizon_h=96))
        return hz, hz.compute(make_sites([CITY])).intensity[SUST]

    _, base = field(None)
    h1, m1 = field({"issue_time_utc": "2018-09-13T06:00:00Z", "member": 1, "seed": 2})
    h2, m2 = field({"issue_time_utc": "2018-09-13T06:00:00Z", "member": 2, "seed": 2})
    assert not np.array_equal(m1, base) and not np.array_equal(m1, m2)
    assert h1.cache_key() != h2.cache_key()
    assert "forecast member" in h1.timeline(CITY).track.notes[-1]


def test_member_errors_survive_a_shift_onto_the_city(tracks_dir):
    """The forecast errors act after the transforms: with shift_to_lonlat every member
    would otherwise be moved back over the city (no cross-track spread at all)."""
    from hazards.base import HazardContext
    from hazards.typhoon import TyphoonConfig, TyphoonHazard

    city = (113.578, 22.215)

    def timeline(member):
        cfg = TyphoonConfig.model_validate({
            "track": {"file": "jma_rsmc_tokyo_bst_2015_2021.txt", "storm": "MANGKHUT:2018"},
            "transforms": [{"shift_to_lonlat": list(city)}], "lead_time_h": 24,
            "city_lonlat": list(city), "forecast": None if member is None else {
                "issue_time_utc": "2018-09-13T18:00:00Z", "member": member, "seed": 5}})
        hz = TyphoonHazard.from_config(cfg, HazardContext(
            crs="EPSG:32649", terrain=None, base_dir=tracks_dir, horizon_h=96))
        return hz.timeline(city)

    official = timeline(None)
    assert official.closest_approach_m < 1000.0  # the shift puts the eye over the city
    members = [timeline(m) for m in range(6)]
    misses = np.array([m.closest_approach_m for m in members])
    # ~72 h of lead: mean position errors of a few hundred km (wind_constants.yaml)
    assert np.median(misses) > 30_000.0, misses
    # one clock for all members: the forecast's own, not each member's arrival
    assert all(m.t0 == official.t0 for m in members)
