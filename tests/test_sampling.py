"""The one sampler of hazards along sites (hazards.sampling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from site_fixtures import line_sites

from common.errors import HazardError
from hazards.base import Sites
from hazards.sampling import sample_sites, site_max


def make_sites(lines: list[list[tuple[float, float]]], crs: str = "EPSG:32650") -> Sites:
    return line_sites(lines, crs=crs)


def test_nodes_give_one_point_and_edges_are_densified_in_order():
    s = make_sites([[(0.0, 0.0)], [(0.0, 0.0), (10.0, 0.0), (10.0, 5.0)], [(3.0, 4.0)]])
    p = sample_sites(s, 2.0)
    assert p.owner.tolist() == [0] + [1] * 9 + [2]
    edge = p.owner == 1
    np.testing.assert_allclose(p.x[edge], [0, 2, 4, 6, 8, 10, 10, 10, 10])
    np.testing.assert_allclose(p.y[edge], [0, 0, 0, 0, 0, 0, 5 / 3, 10 / 3, 5])
    # spacing never exceeds the step along the line
    d = np.hypot(np.diff(p.x[edge]), np.diff(p.y[edge]))
    assert d.max() <= 2.0 + 1e-12
    assert (p.x[~edge], p.y[~edge]) == (pytest.approx([0.0, 3.0]), pytest.approx([0.0, 4.0]))


def test_infinite_step_keeps_the_vertices_only():
    s = make_sites([[(0.0, 0.0), (100.0, 0.0)], [(1.0, 1.0)]])
    p = sample_sites(s, math.inf)
    assert p.x.tolist() == [0.0, 100.0, 1.0]
    assert p.owner.tolist() == [0, 0, 1]


def test_site_without_vertex_uses_its_representative_point():
    s = make_sites([[(0.0, 0.0), (4.0, 0.0)], [], [(7.0, 7.0)]])
    p = sample_sites(s)
    assert p.owner.tolist() == [0, 0, 1, 2]
    assert p.x[2] == s.x_m[1]


def test_site_max_ignores_nan_and_keeps_all_nan_sites_nan():
    owner = np.array([0, 0, 1, 1, 3])
    v = np.array([[1.0, 5.0, np.nan, np.nan, 2.0], [7.0, np.nan, 1.0, np.nan, np.nan]],
                 dtype=np.float32)
    out = site_max(v, owner, 4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0], [5.0, np.nan, np.nan, 2.0])
    np.testing.assert_array_equal(out[1], [7.0, 1.0, np.nan, np.nan])


def test_site_max_of_booleans_is_any():
    owner = np.array([0, 0, 1])
    assert site_max(np.array([False, True, False]), owner, 2).tolist() == [1.0, 0.0]


def test_a_worst_point_between_vertices_is_seen_only_when_densified():
    s = make_sites([[(0.0, 0.0), (100.0, 0.0)]])
    hot = lambda x, y: np.where(np.abs(x - 50) < 3, 9.0, 0.0)  # noqa: E731 - a field
    coarse = sample_sites(s)
    fine = sample_sites(s, 5.0)
    assert coarse.site_max(hot(coarse.x, coarse.y))[0] == 0.0
    assert fine.site_max(hot(fine.x, fine.y))[0] == 9.0


@pytest.mark.parametrize("step", [0.0, -1.0, float("nan")])
def test_bad_step_is_refused(step):
    with pytest.raises(HazardError, match="must be > 0"):
        sample_sites(make_sites([[(0.0, 0.0)]]), step)


def test_too_many_points_are_refused_before_allocating():
    s = make_sites([[(0.0, 0.0), (1e9, 0.0)]])
    with pytest.raises(HazardError, match="coarser spacing"):
        sample_sites(s, 1e-3)


def test_to_crs_moves_points_and_keeps_owners():
    s = make_sites([[(500000.0, 3400000.0), (500100.0, 3400000.0)]])
    p = sample_sites(s, 50.0).to_crs("EPSG:4326")
    assert p.crs == "EPSG:4326" and p.owner.tolist() == [0, 0, 0]
    assert 116 < p.x[0] < 118 and 30 < p.y[0] < 31
    assert sample_sites(s).to_crs("EPSG:32650") is not None
