"""Hostile inputs to the damage map and the hazard cache: one line, exit 2, nothing
half-written; a damaged cache entry is a miss; a shapefile's sidecars are in the key.

Each case was a hang, a traceback or a stale answer (issue #8): an area ``file:
/dev/zero`` read forever while hashing, a truncated cache entry escaped the
recompute path as ``BadZipFile``, an edited ``.dbf``/``.prj`` left a stale field.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from common.errors import HazardError

CITY_CRS = "EPSG:32649"
#: The built-in city at scale 0.2 (seed 7) lies inside x 758774..763184, y 2458340..2462360.
CITY_BOX = (758774.0, 2458340.0, 763184.0, 2462360.0)


def twin(*args, env=None):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


def one_line_exit_2(r: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 2, exactly one error line (the last), no traceback."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == errors[0]
    for n in needles:
        assert n in errors[0], errors[0]


def scenario(tmp_path: Path, hazard: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(f"""
name: hostile damage map
city: {{builtin: {{seed: 7, scale: 0.2}}}}
horizon_h: 24
output_step_h: 2
realizations: 1
seed: 1
workers: 1
hazards:
  - type: damage_map
{hazard}
""")
    return p


def area_event(file: Path | str) -> str:
    return f"    events:\n      - {{time_h: 1, area: {{file: '{file}'}}, damage_state: slight}}"


def polygons(path: Path, geoms, *, crs: str | None = CITY_CRS, driver: str | None = None):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"name": [f"a{i}" for i in range(len(geoms))]}, geometry=geoms,
                           crs=crs)
    gdf.to_file(path, driver=driver) if driver else gdf.to_file(path)
    return path


def centre_box(frac: float = 0.2):
    from shapely.geometry import box

    x0, y0, x1, y1 = CITY_BOX
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * frac, (y1 - y0) * frac
    return box(cx - w, cy - h, cx + w, cy + h)


# ---------------------------------------------------------------- area files


def test_area_file_dev_zero_is_refused_by_validate_and_run(tmp_path):
    s = scenario(tmp_path, area_event("/dev/zero"))
    one_line_exit_2(twin("validate", s), "/dev/zero", "not a regular file")
    out = tmp_path / "run"
    one_line_exit_2(twin("run", s, "--out", out, "-q"), "/dev/zero", "not a regular file")
    assert not out.exists() and not list(tmp_path.glob(".run*"))


def test_area_file_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "zones").mkdir()
    one_line_exit_2(twin("validate", scenario(tmp_path, area_event(tmp_path / "zones"))),
                    "found a folder")


def test_area_file_that_is_not_vector_data_is_refused(tmp_path):
    junk = tmp_path / "zones.geojson"
    junk.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "run"
    r = twin("run", scenario(tmp_path, area_event(junk)), "--out", out, "-q")
    one_line_exit_2(r, "not a vector file GDAL can read", str(junk))
    assert not out.exists()


def test_area_file_with_a_raster_inside_is_refused(tmp_path):
    import rasterio
    from affine import Affine

    tif = tmp_path / "zones.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8",
                       crs=CITY_CRS, transform=Affine(1, 0, 760000, 0, -1, 2460000)) as dst:
        dst.write(np.ones((2, 2), dtype=np.uint8), 1)
    r = twin("validate", scenario(tmp_path, area_event(tif)))
    one_line_exit_2(r, str(tif))


def test_area_file_of_points_is_refused(tmp_path):
    from shapely.geometry import Point

    f = polygons(tmp_path / "pts.geojson", [Point(760000, 2460000)], driver="GeoJSON")
    one_line_exit_2(twin("validate", scenario(tmp_path, area_event(f))),
                    "expected polygons, found ['Point']")


def test_area_file_without_crs_is_refused(tmp_path):
    f = polygons(tmp_path / "nocrs.shp", [centre_box()], crs=None)
    one_line_exit_2(twin("validate", scenario(tmp_path, area_event(f))), "no CRS")


# ---------------------------------------------------------------- raster


@pytest.mark.parametrize("what", ["device", "text"])
def test_bad_raster_is_refused(tmp_path, what):
    path = Path("/dev/zero") if what == "device" else tmp_path / "depth.tif"
    if what == "text":
        path.write_text("depth,1\n")
    s = scenario(tmp_path, f"    raster: {{path: '{path}', time_h: 1}}")
    needle = "not a regular file" if what == "device" else "not a raster GDAL can read"
    one_line_exit_2(twin("validate", s), needle, str(path))


# ---------------------------------------------------------------- cache


def _prepared(tmp_path: Path, hazard_yaml: str):
    import yaml

    from hazards.base import HazardContext
    from hazards.damage_map import DamageMapConfig, DamageMapHazard
    from networks.builtin import build_builtin_city
    from twin.compile import compile_twin

    net = build_builtin_city(7, scale=0.2)
    tw = compile_twin(net)
    ctx = HazardContext(crs=tw.crs, terrain=net.terrain, base_dir=tmp_path, horizon_h=24.0)
    cfg = DamageMapConfig.model_validate(yaml.safe_load(hazard_yaml))
    return tw, lambda: DamageMapHazard(cfg, ctx)


def test_editing_a_shapefile_prj_gives_a_fresh_field_not_a_stale_one(tmp_path, monkeypatch):
    from twin.run import hazard_field

    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path / "cache"))
    shp = polygons(tmp_path / "zone.shp", [centre_box()])
    tw, make = _prepared(tmp_path, "events: [{time_h: 1, area: {file: zone.shp}}]")
    first = hazard_field(make(), tw)
    assert len(first.forced.site) > 0
    # the same coordinates read in another CRS (UTM 50N) lie far from the city
    import pyproj

    key_before = make().cache_key()
    shp.with_suffix(".prj").write_text(pyproj.CRS("EPSG:32650").to_wkt("WKT1_ESRI"))
    assert make().cache_key() != key_before
    with pytest.raises(HazardError, match="contains no asset"):
        hazard_field(make(), tw)


def test_editing_a_shapefile_dbf_changes_the_cache_key(tmp_path):
    import geopandas as gpd

    shp = polygons(tmp_path / "zone.shp", [centre_box()])
    _, make = _prepared(tmp_path, "events: [{time_h: 1, area: {file: zone.shp}}]")
    before = make().cache_key()
    gdf = gpd.read_file(shp)
    gdf["name"] = ["edited"]
    gdf.to_file(shp)
    assert make().cache_key() != before


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "wrong_shape"])
def test_a_damaged_cache_entry_is_a_miss_recomputed_and_replaced(tmp_path, monkeypatch,
                                                                 damage):
    from hazards.base import HazardField
    from twin.run import hazard_field

    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path / "cache"))
    tw, make = _prepared(tmp_path, "events: [{time_h: 1, area: {circle: "
                                   f"[{(CITY_BOX[0] + CITY_BOX[2]) / 2}, "
                                   f"{(CITY_BOX[1] + CITY_BOX[3]) / 2}, 800]}}}}]")
    good = hazard_field(make(), tw)
    (entry,) = (tmp_path / "cache" / "hazards").glob("*.npz")
    data = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        HazardField(np.array([0.0, 1.0]), {next(iter(_intensity_measures())):
                                           np.zeros((2, 3), np.float32)}).save(entry)
    with pytest.warns(UserWarning, match=rf"cache entry {entry.name} is damaged"):
        again = hazard_field(make(), tw)
    np.testing.assert_array_equal(again.forced.site, good.forced.site)
    # replaced atomically: the entry loads again, and nothing temporary is left beside it
    HazardField.load(entry, n_sites=len(tw.sites))
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hazard_field(make(), tw)  # a hit: no warning


def _intensity_measures():
    from common.intensity import IntensityMeasure

    return list(IntensityMeasure)


def test_truncated_cache_entry_in_a_cli_run_is_one_warning_and_success(tmp_path):
    import os

    env = dict(os.environ, TWIN_CACHE_DIR=str(tmp_path / "cache"))
    s = scenario(tmp_path, "    events:\n      - {time_h: 1, area: {circle: "
                           "[760979, 2460350, 800]}, damage_state: moderate}")
    r = twin("run", s, "--out", tmp_path / "a", "-q", env=env)
    assert r.returncode == 0, r.stderr
    (entry,) = (tmp_path / "cache" / "hazards").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])
    r = twin("run", s, "--out", tmp_path / "b", "-q", env=env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warn = [ln for ln in r.stderr.splitlines() if "damaged" in ln]
    assert len(warn) == 1 and warn[0].startswith("twin: warning:"), r.stderr
    assert (tmp_path / "a" / "curves.parquet").read_bytes() == (
        tmp_path / "b" / "curves.parquet").read_bytes()
