"""Fragility curves: lognormal exceedance, per-length scaling, monotone sampling, overrides."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import lognorm

from common.errors import DataFileError
from hazards.base import IntensityMeasure
from networks.fragility import AssetModels, FragilityCurve, sample_damage_states
from networks.schema import AssetClass

CURVE = FragilityCurve(AssetClass.SUBSTATION, IntensityMeasure.FLOOD_DEPTH_M, (1, 2, 3, 4),
                       (0.3, 0.6, 1.0, 1.5), (0.4, 0.4, 0.5, 0.6))


def test_exceedance_matches_scipy_lognormal():
    same_beta = FragilityCurve(AssetClass.SUBSTATION, IntensityMeasure.FLOOD_DEPTH_M,
                               (1, 2, 3, 4), (0.3, 0.6, 1.0, 1.5), (0.4,) * 4)
    im = np.array([0.1, 0.3, 0.8, 2.0])
    p = same_beta.exceedance(im)
    for k, m in enumerate(same_beta.median):
        np.testing.assert_allclose(p[:, k], lognorm(s=0.4, scale=m).cdf(im), rtol=1e-12)
    assert p[1, 0] == pytest.approx(0.5)


def test_crossing_curves_are_kept_ordered():
    # CURVE's wider beta for 'complete' crosses 'extensive' at low intensity
    im = np.array([0.1])
    raw = [lognorm(s=b, scale=m).cdf(0.1) for m, b in zip(CURVE.median, CURVE.beta, strict=True)]
    assert raw[3] > raw[2]
    p = CURVE.exceedance(im)[0]
    assert p[3] == pytest.approx(raw[2]) and p[2] == pytest.approx(raw[2])


@given(st.lists(st.floats(0, 20), min_size=2, max_size=30))
def test_exceedance_monotone_in_intensity_and_states(values):
    im = np.sort(np.array(values))
    p = CURVE.exceedance(im)
    assert np.all(np.diff(p, axis=0) >= -1e-15)  # more intensity, more damage
    assert np.all(np.diff(p, axis=1) <= 1e-15)  # higher states less likely
    assert np.all((p >= 0) & (p <= 1))


@given(st.floats(0.01, 5), st.floats(0, 1))
def test_sampled_state_never_falls_as_intensity_rises(im, u):
    lo = sample_damage_states(CURVE.exceedance(np.array([im])), CURVE.states, np.array([u]))
    hi = sample_damage_states(CURVE.exceedance(np.array([im * 1.5])), CURVE.states,
                              np.array([u]))
    assert hi[0] >= lo[0]


def test_per_length_curves_expose_long_lines_more():
    pole = FragilityCurve(AssetClass.FEEDER_SEGMENT, IntensityMeasure.GUST_MPS, (4,), (58.0,),
                          (0.13,), per_length_m=50.0)
    p = pole.exceedance(np.full(3, 55.0), np.array([50.0, 500.0, 5000.0]))[:, 0]
    p1 = lognorm(s=0.13, scale=58.0).cdf(55.0)
    np.testing.assert_allclose(p, [p1, 1 - (1 - p1) ** 10, 1 - (1 - p1) ** 100])


def test_nan_and_zero_intensity_do_no_damage():
    assert np.all(CURVE.exceedance(np.array([np.nan, 0.0, -1.0])) == 0)


def test_defaults_cover_every_class_and_override():
    m = AssetModels.defaults()
    assert m.repair[AssetClass.SUBSTATION].mean_h[3] == pytest.approx(30 * 24)
    m2 = m.with_overrides(curves=[{"asset_class": "substation", "measure": "flood_depth_m",
                                   "median": [2.0], "beta": [0.3]}],
                          repair={"pipe": {"mean_days": [1, 1, 1, 1], "sd_days": [0, 0, 0, 0]}})
    c = m2.curves[(AssetClass.SUBSTATION, IntensityMeasure.FLOOD_DEPTH_M)]
    assert c.median == (2.0,) and c.states == (4,)
    assert m2.repair[AssetClass.PIPE].mean_h == (24.0,) * 4
    assert m.curves[(AssetClass.SUBSTATION, IntensityMeasure.FLOOD_DEPTH_M)].median[0] == 0.3


@pytest.mark.parametrize("entry, match", [
    ({"asset_class": "substaton", "measure": "flood_depth_m", "median": [1], "beta": [1]},
     "unknown asset class"),
    ({"asset_class": "substation", "measure": "depth", "median": [1], "beta": [1]},
     "unknown intensity measure"),
    ({"asset_class": "substation", "measure": "flood_depth_m", "median": [-1], "beta": [1]},
     "must be > 0"),
    ({"asset_class": "substation", "measure": "flood_depth_m", "median": [1], "beta": [1],
      "colour": "red"}, "unknown field"),
])
def test_bad_overrides_are_one_line_errors(entry, match):
    with pytest.raises(DataFileError, match=match):
        AssetModels.defaults().with_overrides(curves=[entry])
