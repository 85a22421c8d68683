"""A tiny synthetic run directory for the view tests (built in code, no simulation).

Layout (city CRS metres, DEM 40 x 30 cells of 30 m, origin at (500000, 4000000) top-left):

- a west-east road along y = y0 - 450 and a north-south power line along x = x0 + 900;
- point assets: ``SUB`` (substation, fails at t = 1 h, repaired 5..8 h), ``TANK``
  (water tank, never fails), ``PUMP`` (pump station, cascade-fails at t = 1 h);
- flood grid (same cells as the DEM): a wet patch, rows 5..14 x cols 22..35, 0.8 m deep
  from t = 2 h; dry before;
- events: one crew dispatched at 3 h from nowhere, repair 5..8 h.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from viz_synthetic import make_run  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _offscreen():
    os.environ.pop("DISPLAY", None)
    import pyvista as pv

    pv.OFF_SCREEN = True


@pytest.fixture
def tiny_run(tmp_path):
    return make_run(tmp_path / "run")

