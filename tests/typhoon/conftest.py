"""Fixtures of the typhoon tests: synthetic tracks built in code, the shipped track files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hazards.typhoon import geo
from hazards.typhoon.track import Track

TRACKS_DIR = Path(__file__).resolve().parents[2] / "data" / "tracks"


def _make_track(*, lat0: float = 20.0, lon0: float = 130.0, speed_mps: float = 0.0,
               bearing_deg: float = 0.0, hours: int = 24, pc_hpa: float = 950.0,
               penv_hpa: float = 1010.0, vmax_mps: float = 50.0, rmw_m: float = 30e3,
               basin: str = "WP") -> Track:
    """A storm moving at constant speed and bearing (or standing still), hourly rows."""
    t = np.datetime64("2020-09-01T00:00", "s") + np.arange(hours + 1) * np.timedelta64(3600, "s")
    dist = speed_mps * 3600.0 * np.arange(hours + 1)
    lat, lon = geo.destination(np.full(hours + 1, lat0), np.full(hours + 1, lon0),
                               np.full(hours + 1, bearing_deg), dist)
    n = hours + 1
    return Track(times=t, lat=lat, lon=lon, vmax_mps=np.full(n, vmax_mps),
                 pc_hpa=np.full(n, pc_hpa), penv_hpa=np.full(n, penv_hpa),
                 rmw_m=np.full(n, rmw_m), basin=basin, id="SYN01", name="SYNTH", season=2020)


@pytest.fixture
def tracks_dir() -> Path:
    return TRACKS_DIR


@pytest.fixture
def make_track():
    """Factory of synthetic tracks (see :func:`_make_track`)."""
    return _make_track


@pytest.fixture
def zhuhai_city(tiny, tmp_path):
    """The tiny city moved to Zhuhai (its fixture stands at the UTM zone's origin)."""
    import dataclasses

    from pyproj import Transformer

    from networks.io import save_city

    dx, dy = Transformer.from_crs("EPSG:4326", tiny.crs, always_xy=True).transform(113.6, 22.3)
    graphs = {}
    for kind, g in tiny.graphs.items():
        h = g.copy()
        for _, a in h.nodes(data=True):
            a["x_m"] += dx
            a["y_m"] += dy
        for *_, a in h.edges(data=True):
            if a.get("coords") is not None:
                a["coords"] = a["coords"] + (dx, dy)
        graphs[kind] = h
    pop = tiny.population
    if pop is not None:
        pop = dataclasses.replace(pop, x_m=pop.x_m + dx, y_m=pop.y_m + dy)
    moved = dataclasses.replace(tiny, graphs=graphs, population=pop)
    return save_city(moved, tmp_path / "tiny.gpkg")
