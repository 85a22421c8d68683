"""HazardField: typed facts (clock, track, warnings) survive the on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from common.intensity import IntensityMeasure
from hazards.base import HazardField, StormTrack


def field(**kw) -> HazardField:
    times = np.array([0.0, 1.0, 2.0])
    gust = np.arange(6, dtype=np.float32).reshape(3, 2)
    return HazardField(times, {IntensityMeasure.GUST_MPS: gust}, meta={"kind": "test"}, **kw)


def test_typed_facts_round_trip(tmp_path):
    track = StormTrack(np.array([-6.0, 0.0, 6.0]),
                       np.array([[114.0, 21.0], [113.6, 22.3], [113.0, 23.5]]))
    f = field(t0_utc="2018-09-16T00:00:00Z", track=track, warnings=("far track", "no radii"))
    f.save(tmp_path / "f.npz")
    g = HazardField.load(tmp_path / "f.npz", n_sites=2)
    assert g.t0_utc == "2018-09-16T00:00:00Z"
    assert g.warnings == ("far track", "no radii")
    np.testing.assert_array_equal(g.track.lonlat, track.lonlat)
    np.testing.assert_array_equal(g.track.times_h, track.times_h)
    assert g.meta == {"kind": "test"}


def test_no_clock_no_track_by_default(tmp_path):
    field().save(tmp_path / "f.npz")
    g = HazardField.load(tmp_path / "f.npz")
    assert g.t0_utc is None and g.track is None and g.warnings == ()


def test_a_track_of_the_wrong_shape_is_a_damaged_entry(tmp_path):
    bad = StormTrack(np.array([0.0, 1.0]), np.array([[1.0, 2.0, 3.0]]))
    field(track=bad).save(tmp_path / "f.npz")
    with pytest.raises(ValueError, match="track has shape"):
        HazardField.load(tmp_path / "f.npz")
