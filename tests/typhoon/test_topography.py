"""Sites as they stand (issue #11.2): height, own roughness and the topographic speed-up."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from hazards.typhoon import cli
from hazards.typhoon.topography import hill_multiplier

CELL = 10.0
TR = (CELL, 0.0, 0.0, 0.0, -CELL, 8000.0)
XS = (np.arange(800) + 0.5) * CELL


def ridge(height: float = 100.0, half_width: float = 1000.0) -> np.ndarray:
    """A triangular ridge running north-south along x = 4000 m (Lu = half_width / 2)."""
    return np.tile(np.maximum(0.0, height * (1 - np.abs(XS - 4000.0) / half_width)), (800, 1))


def published(h: float, lu: float, z: float = 10.0, x: float = 0.0) -> float:
    """AS/NZS 1170.2:2011 cl. 4.4.2, 0.05 <= H/(2 Lu) < 0.45."""
    l1 = max(0.36 * lu, 0.4 * h)
    return 1.0 + h / (3.5 * (z + l1)) * max(0.0, 1.0 - abs(x) / (4.0 * l1))


def test_flat_ground_has_no_speed_up():
    m = hill_multiplier(np.zeros((800, 800)), TR, np.array([1000.0, 4000.0]),
                        np.array([4000.0, 2000.0]))
    np.testing.assert_array_equal(m, 1.0)


def test_ridge_crest_and_slope_rise_by_the_published_amount():
    el = ridge()  # H = 100 m, Lu = 500 m: H / (2 Lu) = 0.1
    x = np.array([4005.0, 3705.0, 1500.0])  # crest (cell centre), 300 m upwind, far away
    m = hill_multiplier(el, TR, x, np.full(3, 4000.0))
    assert m[0] == pytest.approx(published(100.0, 500.0), rel=0.01)
    assert m[1] == pytest.approx(published(100.0, 500.0, x=300.0), rel=0.02)
    assert m[2] == 1.0
    # higher above ground, less speed-up
    m50 = hill_multiplier(el, TR, x[:1], np.full(1, 4000.0), height_m=50.0)
    assert 1.0 < m50[0] < m[0]
    # a steep ridge (H / (2 Lu) >= 0.45) takes the standard's 1 + 0.71
    steep = hill_multiplier(ridge(300.0, 300.0), TR, x[:1], np.full(1, 4000.0))
    assert steep[0] == pytest.approx(1.71, rel=0.01)


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin wind")
    cli.configure_parser(p)
    return p.parse_args(list(argv))


def test_twin_wind_honours_site_height_roughness_and_dem(tmp_path, tracks_dir):
    import rasterio
    from pyproj import Transformer

    crs = "EPSG:32649"
    x0, y0 = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(113.55, 22.30)
    dem = tmp_path / "ridge.tif"
    with rasterio.open(dem, "w", driver="GTiff", height=800, width=800, count=1,
                       dtype="float32", crs=crs,
                       transform=rasterio.Affine(CELL, 0, x0, 0, -CELL, y0)) as dst:
        dst.write(ridge().astype(np.float32), 1)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    crest = to_ll.transform(x0 + 4005.0, y0 - 4000.0)
    flat = to_ll.transform(x0 + 500.0, y0 - 4000.0)
    sites = tmp_path / "sites.csv"
    sites.write_text("site,lon,lat,height_m,z0_m\n"
                     f"crest,{crest[0]},{crest[1]},10,0.03\n"
                     f"flat,{flat[0]},{flat[1]},10,0.03\n"
                     f"flat_50m,{flat[0]},{flat[1]},50,0.03\n"
                     f"flat_rough,{flat[0]},{flat[1]},10,0.5\n")
    out = tmp_path / "out"
    cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"), "--storm",
                  "HATO:2017", "--sites", str(sites), "--dem", str(dem), "--step-min", "30",
                  "--out", str(out)))
    s = pd.read_csv(out / "sites.csv").set_index("site")
    assert s.loc["flat", "topographic_multiplier"] == 1.0
    assert s.loc["crest", "topographic_multiplier"] == pytest.approx(
        published(100.0, 500.0), rel=0.01)
    assert s.loc["crest", "elevation_m"] > 95.0
    v = s.max_sustained_mps
    assert v["crest"] > v["flat"] * 1.1  # the two sites are 3.5 km apart: same storm wind
    assert v["flat_50m"] > v["flat"] > v["flat_rough"]
