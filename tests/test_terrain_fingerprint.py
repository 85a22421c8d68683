"""Terrain is fingerprinted once (common.terrain.Terrain.fingerprint)."""

from __future__ import annotations

import numpy as np

from common.terrain import Terrain

T = (10.0, 0.0, 500000.0, 0.0, -10.0, 3400000.0)


def test_fingerprint_follows_every_defining_part():
    z = np.arange(12.0).reshape(3, 4)
    base = Terrain(z, T, "EPSG:32650").fingerprint()
    assert Terrain(z.copy(), T, "EPSG:32650").fingerprint() == base
    z2 = z.copy()
    z2[1, 1] = np.nan
    assert Terrain(z2, T, "EPSG:32650").fingerprint() != base
    assert Terrain(z.astype(np.float32), T, "EPSG:32650").fingerprint() != base
    assert Terrain(z.reshape(4, 3), T, "EPSG:32650").fingerprint() != base
    assert Terrain(z, (20.0, *T[1:]), "EPSG:32650").fingerprint() != base
    assert Terrain(z, T, "EPSG:32651").fingerprint() != base
