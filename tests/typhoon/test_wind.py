"""The parametric wind field: profile, asymmetry, decay, numba == numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants
from hazards.typhoon.wind import (
    holland2008_bs,
    peak_wind_at_sites,
    rmw_regression_m,
    storm_steps,
    wind_at_sites,
    wind_at_sites_numpy,
    wind_on_grid,
)


def _radial_sites(lat0, lon0, bearing, r_m):
    return geo.destination(np.full(r_m.shape, lat0), np.full(r_m.shape, lon0),
                           np.full(r_m.shape, bearing), r_m)


@pytest.mark.parametrize("profile", ["holland2008", "holland1980"])
def test_peak_at_rmw_equals_model_vmax_without_translation(profile, make_track):
    tr = make_track(speed_mps=0.0, rmw_m=30e3)
    steps = storm_steps(tr, tr.times[5:6], profile=profile, coriolis=False)
    r = np.arange(1000.0, 200e3, 50.0)
    lat, lon = _radial_sites(tr.lat[5], tr.lon[5], 90.0, r)
    sust, _ = wind_at_sites(steps, lat, lon)
    k = int(np.argmax(sust[0]))
    assert abs(r[k] - 30e3) <= 200.0
    assert sust[0, k] == pytest.approx(steps.vmax_model_mps[0], rel=1e-4)
    if profile == "holland1980":  # the gradient inversion reproduces the track's wind
        assert sust[0, k] == pytest.approx(50.0, rel=1e-4)


def test_peak_with_coriolis_is_close_to_rmw_and_vmax(make_track):
    tr = make_track(speed_mps=0.0, rmw_m=30e3)
    steps = storm_steps(tr, tr.times[5:6])
    r = np.arange(1000.0, 200e3, 50.0)
    lat, lon = _radial_sites(tr.lat[5], tr.lon[5], 0.0, r)
    sust, _ = wind_at_sites(steps, lat, lon)
    k = int(np.argmax(sust[0]))
    assert abs(r[k] - 30e3) < 0.05 * 30e3
    assert sust[0, k] == pytest.approx(steps.vmax_model_mps[0], rel=0.02)
    assert sust[0, k] < steps.vmax_model_mps[0]  # Coriolis lowers the gradient wind


def test_field_decays_outward_beyond_rmw(make_track):
    tr = make_track(speed_mps=0.0)
    steps = storm_steps(tr, tr.times[3:4])
    r = np.linspace(35e3, 480e3, 200)
    for bearing in (0.0, 120.0, 250.0):
        lat, lon = _radial_sites(tr.lat[3], tr.lon[3], bearing, r)
        s, _ = wind_at_sites(steps, lat, lon)
        assert np.all(np.diff(s[0]) < 0)
    # beyond the cut-off radius the wind is 0
    lat, lon = _radial_sites(tr.lat[3], tr.lon[3], 0.0, np.array([510e3]))
    assert wind_at_sites(steps, lat, lon, max_distance_km=500)[0][0, 0] == 0.0


def _max_bearing(lat0, lon0, steps):
    b = np.arange(0.0, 360.0, 2.0)
    lat, lon = geo.destination(np.full(b.shape, lat0), np.full(b.shape, lon0), b,
                               np.full(b.shape, steps.rmw_m[0]))
    s, _ = wind_at_sites(steps, lat, lon)
    return b[int(np.argmax(s[0]))], s[0]


@pytest.mark.parametrize("lat0, expected", [(20.0, 90.0), (-20.0, 270.0)])
def test_translation_maximum_right_in_north_left_in_south(lat0, expected, make_track):
    # moving north at 8 m/s: right of the motion is east (90), left is west (270)
    tr = make_track(lat0=lat0, speed_mps=8.0, bearing_deg=0.0)
    steps = storm_steps(tr, tr.times[10:11])
    bmax, s = _max_bearing(steps.lat[0], steps.lon[0], steps)
    assert abs((bmax - expected + 180) % 360 - 180) <= 10.0
    # right-left difference is twice the translation speed at r = rmw
    vt = math.hypot(steps.vt_east[0], steps.vt_north[0])
    assert vt == pytest.approx(8.0, rel=0.01)
    assert s.max() - s.min() == pytest.approx(2 * vt, rel=0.05)


def test_stationary_storm_is_symmetric(make_track):
    tr = make_track(speed_mps=0.0)
    steps = storm_steps(tr, tr.times[10:11], coriolis=False)
    _, s = _max_bearing(steps.lat[0], steps.lon[0], steps)
    assert s.max() - s.min() < 0.01 * s.max()


@pytest.mark.parametrize("inflow", [0.0, 22.0])
def test_numba_matches_numpy_reference(inflow, make_track):
    # a track crossing the antimeridian, sites on both sides
    tr = make_track(lat0=25.0, lon0=178.0, speed_mps=9.0, bearing_deg=80.0, hours=30)
    steps = storm_steps(tr, tr.resample(20).times)
    rng = np.random.default_rng(7)
    lat = rng.uniform(18.0, 32.0, 3000)
    lon = geo.wrap_lon(rng.uniform(170.0, 195.0, 3000))
    fac = rng.uniform(0.5, 1.0, 3000)
    gust = rng.uniform(1.1, 1.5, 3000)
    a = wind_at_sites(steps, lat, lon, site_factor=fac, site_gust=gust, inflow_deg=inflow)
    b = wind_at_sites_numpy(steps, lat, lon, site_factor=fac, site_gust=gust, inflow_deg=inflow)
    assert a[0].max() > 30.0  # the comparison covers strong winds
    np.testing.assert_allclose(a[0], b[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=1e-5)
    peak, step = peak_wind_at_sites(steps, lat, lon, site_factor=fac, inflow_deg=inflow)
    np.testing.assert_allclose(peak, b[0].max(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(b[0][step, np.arange(3000)], b[0].max(axis=0))


def test_roughness_lowers_sustained_and_raises_gust_factor():
    c = load_constants()
    z0 = np.array([c.z0_sea_m, 0.03, 0.3, 1.0])
    f = c.sustained_roughness_factor(z0)
    g = c.gust_factor_for(z0)
    assert f[0] == pytest.approx(1.0)
    assert np.all(np.diff(f) < 0) and np.all(np.diff(g) >= 0)
    assert g[0] == pytest.approx(1.11) and g[-1] == pytest.approx(1.49)
    assert 0.75 < f[1] < 0.9  # open terrain keeps ~80 % of the marine wind


def test_holland2008_bs_matches_the_published_formula():
    # Holland (2008) eq. 11 by hand at dp = 60 hPa, dp/dt = -1 hPa/h, lat 20, vt = 5 m/s
    x = 0.6 * (1 - 60 / 215)
    expect = -4.4e-5 * 3600 + 0.6 - 0.03 - 0.28 + 0.15 * 5**x + 1.0
    assert holland2008_bs(60.0, -1.0, 20.0, 5.0) == pytest.approx(expect)


def test_rmw_regression_vickery_wadhera():
    r = rmw_regression_m(np.array([60.0]), np.array([25.0]), np.array([950.0]))
    assert r[0] / 1000 == pytest.approx(math.exp(3.015 - 6.291e-5 * 3600 + 0.0337 * 25))


def test_wind_on_grid_shape_and_projection(make_track):
    tr = make_track(lat0=22.0, lon0=113.5, speed_mps=5.0)
    steps = storm_steps(tr, tr.times[:3])
    transform = (1000.0, 0.0, 760000.0, 0.0, -1000.0, 2480000.0)  # UTM 49N near 22.4N 113.5E
    s, g = wind_on_grid(steps, transform, (40, 50), "EPSG:32649", z0_m=0.03)
    assert s.shape == g.shape == (3, 40, 50) and s.dtype == np.float32
    assert np.all(g >= s) and s.max() > 10


def test_kernel_polynomial_exp_log_accuracy():
    # the branch-free exp / log of the vectorised wind kernel against numpy's
    from hazards.typhoon.wind_kernels import _exp64, _expf, _log64

    y = np.linspace(-87.0, 88.0, 20001)
    got = np.array([_expf(np.float32(v)) for v in y.astype(np.float32)], dtype=float)
    ref = np.exp(y.astype(np.float32).astype(float))
    assert np.max(np.abs(got / ref - 1.0)) < 5e-7
    got = np.array([_exp64(v) for v in np.linspace(-300.0, 300.0, 20001)])
    assert np.max(np.abs(got / np.exp(np.linspace(-300.0, 300.0, 20001)) - 1.0)) < 1e-9
    x = np.exp(np.linspace(-60.0, 60.0, 20001))
    got = np.array([_log64(v) for v in x])
    assert np.max(np.abs(got - np.log(x))) < 1e-8


def test_a_sites_wind_does_not_depend_on_its_neighbours_or_threads(make_track):
    """Issue #8: a site's value must not depend on where it falls in a SIMD block (vector
    body or scalar remainder), on how the sites are chunked, or on the thread count."""
    import numba

    tr = make_track(speed_mps=5.0, bearing_deg=300.0, rmw_m=25e3)
    steps = storm_steps(tr, tr.times[3:9])
    rng = np.random.default_rng(8)
    n = 4099  # two full blocks of 2048 and a ragged tail
    lat = tr.lat[5] + rng.uniform(-2.0, 2.0, n)
    lon = tr.lon[5] + rng.uniform(-2.0, 2.0, n)
    fac = rng.uniform(0.6, 1.0, n)
    s_all, g_all = wind_at_sites(steps, lat, lon, site_factor=fac, site_gust=1.4)
    assert np.count_nonzero(s_all) > n  # most site-steps are inside the storm
    for start in (1, 3, 7, 13, 2047):  # every site moves to another lane
        s, g = wind_at_sites(steps, lat[start:], lon[start:], site_factor=fac[start:],
                             site_gust=1.4)
        np.testing.assert_array_equal(s, s_all[:, start:])
        np.testing.assert_array_equal(g, g_all[:, start:])
    for k in (1, 5, 31):  # single sites and short runs: all scalar remainder, if any
        s, _ = wind_at_sites(steps, lat[k:k + 1], lon[k:k + 1], site_factor=fac[k:k + 1],
                             site_gust=1.4)
        np.testing.assert_array_equal(s[:, 0], s_all[:, k])
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        s1, _ = wind_at_sites(steps, lat, lon, site_factor=fac, site_gust=1.4)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(s1, s_all)
