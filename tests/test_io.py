"""Loading and saving cities as GeoPackage / GeoJSON / Shapefile layers."""

import geopandas as gpd
import numpy as np
import pytest

from common.errors import NetworkError
from networks.io import LAYERS, load_city, save_city
from twin.compile import compile_twin


def test_geopackage_round_trip(tiny, tmp_path):
    p = save_city(tiny, tmp_path / "tiny.gpkg")
    net = load_city(p)
    for kind in LAYERS:
        a, b = tiny.graph(kind), net.graph(kind)
        assert set(a.nodes) == set(b.nodes)
        assert {d["id"] for *_, d in a.edges(data=True)} == {d["id"] for *_, d in
                                                             b.edges(data=True)}
        for n, attrs in a.nodes(data=True):
            for k, v in attrs.items():
                assert b.nodes[n][k] == pytest.approx(v) if isinstance(v, float) else \
                    b.nodes[n][k] == v, (n, k)
    assert set(tiny.dependencies) == set(net.dependencies)
    assert net.meta["generator"] == "tests.fixtures.tiny_city"  # provenance survives
    t1, t2 = compile_twin(tiny), compile_twin(net)
    assert t1.n == t2.n and np.isclose(t1.customers.sum(), t2.customers.sum())


def _export_dir(tiny, tmp_path, driver="GeoJSON", ext=".geojson"):
    gpkg = save_city(tiny, tmp_path / "src.gpkg")
    out = tmp_path / "layers"
    out.mkdir()
    import pyogrio
    for name, *_ in pyogrio.list_layers(gpkg):
        df = gpd.read_file(gpkg, layer=name)
        if name in ("dependencies", "meta"):
            df.drop(columns="geometry", errors="ignore").to_csv(out / f"{name}.csv",
                                                                 index=False)
        else:
            if ext == ".shp":
                df = df.rename(columns={"capacity_mw": "cap_mw", "capacity_mva": "cap_mva",
                                        "capacity_m3h": "cap_m3h"})
            df.to_file(out / f"{name}{ext}", driver=driver)
    return out


def test_geojson_directory(tiny, tmp_path):
    net = load_city(_export_dir(tiny, tmp_path))
    assert net.graphs[next(iter(LAYERS))].number_of_nodes() == 7


def test_shapefile_directory_with_truncated_names(tiny, tmp_path):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns that it truncates field names
        d = _export_dir(tiny, tmp_path, driver="ESRI Shapefile", ext=".shp")
    net = load_city(d)
    assert net.graph("power").nodes["GS"]["capacity_mw"] == 10.0  # 'capacity_m' in the .shp


def test_geographic_crs_is_reprojected(tiny, tmp_path):
    d = _export_dir(tiny, tmp_path)
    for f in d.glob("*.geojson"):
        g = gpd.read_file(f)
        g.to_crs("EPSG:4326").to_file(f, driver="GeoJSON")
    net = load_city(d)
    assert net.crs.startswith("EPSG:32")  # a UTM zone, metres
    a, b = net.graph("power").nodes["SUB"], net.graph("power").nodes["GS"]
    assert np.hypot(a["x_m"] - b["x_m"], a["y_m"] - b["y_m"]) == pytest.approx(
        np.hypot(200, 100), rel=5e-3)  # a neighbouring UTM zone's scale error


def _broken(tiny, tmp_path, layer, fn):
    d = _export_dir(tiny, tmp_path)
    f = d / f"{layer}.geojson"
    g = gpd.read_file(f)
    g = fn(g)
    f.unlink()
    g.to_file(f, driver="GeoJSON")
    return d


@pytest.mark.parametrize("layer, fn, match", [
    ("power_edges", lambda g: g.assign(to_id=g.to_id.where(g.id != "F2", "NOWHERE")),
     "asset 'F2'.*dangling edge: endpoint 'NOWHERE'"),
    ("water_nodes", lambda g: g.assign(id=g.id.where(g.id != "J2", "J1")),
     "asset 'J1'.*duplicate asset id"),
    ("power_nodes", lambda g: g.assign(asset_class=g.asset_class.where(g.id != "SUB", "substn")),
     "asset 'SUB'.*unknown asset class 'substn'"),
    ("power_nodes", lambda g: g.assign(capacity_mw=g.capacity_mw.where(g.id != "GS", -3.0)),
     "'GS'.*'capacity_mw' must be >= 0"),
    ("road_edges", lambda g: g.assign(speed_kmh=g.speed_kmh.astype(object).where(
        g.id != "RE00-10", "fast")), "'RE00-10'.*'speed_kmh' must be float"),
])
def test_broken_files_name_file_layer_asset_field(tiny, tmp_path, layer, fn, match):
    d = _broken(tiny, tmp_path, layer, fn)
    with pytest.raises(NetworkError, match=match) as e:
        load_city(d)
    assert "\n" not in str(e.value) and "layers" in str(e.value)


def test_layer_without_crs(tiny, tmp_path):
    import warnings
    d = _export_dir(tiny, tmp_path)
    g = gpd.read_file(d / "road_nodes.geojson")
    (d / "road_nodes.geojson").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.set_crs(None, allow_override=True).to_file(d / "road_nodes.shp")  # no .prj
    with pytest.raises(NetworkError, match="layer 'road_nodes' has no CRS"):
        load_city(d)


def test_dependency_on_missing_asset(tiny, tmp_path):
    d = _export_dir(tiny, tmp_path)
    with open(d / "dependencies.csv", "a") as f:
        f.write("PS,GHOST,power_supply\n")
    with pytest.raises(NetworkError, match="supplier asset 'GHOST' does not exist"):
        load_city(d)


def test_missing_layer(tmp_path, tiny):
    d = _export_dir(tiny, tmp_path)
    (d / "water_edges.geojson").unlink()
    with pytest.raises(NetworkError, match=r"missing layer\(s\) \['water_edges'\]"):
        load_city(d)


def test_builtin_city_saves_and_loads_like_a_real_city(tmp_path):
    import subprocess
    import sys

    from networks.builtin import build_builtin_city

    r = subprocess.run([sys.executable, "-m", "twin.cli", "city", "--scale", "0.3", "--out",
                        str(tmp_path / "sub" / "city.gpkg")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    loaded = load_city(tmp_path / "sub" / "city.gpkg")
    built = build_builtin_city(7, scale=0.3)
    a, b = compile_twin(built), compile_twin(loaded)
    assert sorted(a.ids) == sorted(b.ids)
    order = np.argsort(a.ids)
    border = np.argsort(b.ids)
    np.testing.assert_allclose(a.customers[order], b.customers[border])
    np.testing.assert_allclose(a.length_m[order], b.length_m[border], rtol=1e-9)
    assert loaded.terrain is not None and loaded.terrain.shape == built.terrain.shape
    assert loaded.meta["seed"] == 7 and loaded.meta["anchor_lon"] == 113.52
