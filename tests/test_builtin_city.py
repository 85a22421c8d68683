"""Tests of the built-in PRD coastal city generator (networks.builtin)."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from scipy.spatial import cKDTree

from common.errors import InputError
from networks.builtin import CRS, build_builtin_city
from networks.model import LifelineNetwork
from networks.schema import (
    CLASS_SPECS,
    REQUIRED_DEPENDENCIES,
    SUPPLIER_NETWORK,
    AssetClass,
    DependencyKind,
    NetworkKind,
)
from networks.validate import validate_network

POWER, WATER, ROADS = NetworkKind.POWER, NetworkKind.WATER, NetworkKind.ROADS
SOURCES = {c.value for c, s in CLASS_SPECS.items() if s.is_source}


@pytest.fixture(scope="module")
def small() -> LifelineNetwork:
    return build_builtin_city(7, scale=0.3)


@pytest.fixture(scope="module")
def automated() -> LifelineNetwork:
    return build_builtin_city(7, scale=0.3, feeder_automation=0.5)


@pytest.fixture(scope="module")
def city() -> LifelineNetwork:
    return build_builtin_city(7, scale=1.0)


def class_counts(net: LifelineNetwork) -> Counter:
    c: Counter = Counter()
    for g in net.graphs.values():
        c.update(a for _, a in g.nodes(data="asset_class"))
        c.update(a for _, _, a in g.edges(data="asset_class"))
    return c


def nodes_of(g: nx.Graph, *classes: str) -> list[str]:
    return [n for n, c in g.nodes(data="asset_class") if c in classes]


def xy(g: nx.Graph, n: str) -> np.ndarray:
    return np.array([g.nodes[n]["x_m"], g.nodes[n]["y_m"]])


def assert_same_attrs(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            np.testing.assert_array_equal(a[k], b[k])
        else:
            assert a[k] == b[k] and type(a[k]) is type(b[k]), k


def assert_identical(n1: LifelineNetwork, n2: LifelineNetwork) -> None:
    assert n1.name == n2.name and n1.crs == n2.crs and dict(n1.meta) == dict(n2.meta)
    for kind in NetworkKind:
        g1, g2 = n1.graph(kind), n2.graph(kind)
        assert list(g1.nodes) == list(g2.nodes)
        for n in g1.nodes:
            assert_same_attrs(g1.nodes[n], g2.nodes[n])
        e1, e2 = list(g1.edges(data=True)), list(g2.edges(data=True))
        assert [(u, v) for u, v, _ in e1] == [(u, v) for u, v, _ in e2]
        for (_, _, d1), (_, _, d2) in zip(e1, e2, strict=True):
            assert_same_attrs(d1, d2)
    assert n1.dependencies == n2.dependencies
    p1, p2 = n1.population, n2.population
    for f in ("ids", "x_m", "y_m", "population"):
        np.testing.assert_array_equal(getattr(p1, f), getattr(p2, f))
    for k in ("power", "water", "roads"):
        np.testing.assert_array_equal(p1.node_of(k), p2.node_of(k))
    np.testing.assert_array_equal(n1.terrain.elevation_m, n2.terrain.elevation_m)
    assert n1.terrain.transform == n2.terrain.transform


def digest(net: LifelineNetwork) -> str:
    """SHA-256 over every attribute of the city (exact float reprs, array bytes)."""
    h = hashlib.sha256()

    def val(v: object) -> object:
        return (v.dtype.str, v.shape, v.tobytes()) if isinstance(v, np.ndarray) else v

    for kind in NetworkKind:
        g = net.graph(kind)
        for n, a in g.nodes(data=True):
            h.update(repr((n, sorted((k, val(v)) for k, v in a.items()))).encode())
        for u, v, a in g.edges(data=True):
            h.update(repr((u, v, sorted((k, val(x)) for k, x in a.items()))).encode())
    h.update(repr(net.dependencies).encode())
    p = net.population
    for f in ("ids", "x_m", "y_m", "population"):
        h.update(repr(val(np.ascontiguousarray(getattr(p, f)))).encode())
    for k in ("power", "water", "roads"):  # ids as text (object arrays hold pointers)
        h.update(repr(val(np.asarray(p.node_of(k), dtype=str))).encode())
    h.update(net.terrain.elevation_m.tobytes() + repr(net.terrain.transform).encode())
    h.update(repr(sorted(net.meta.items())).encode())
    return h.hexdigest()


# -- determinism ---------------------------------------------------------------------


def test_same_seed_gives_identical_networks(small):
    assert_identical(small, build_builtin_city(7, scale=0.3))


def test_same_seed_identical_across_processes():
    """No hidden state: a fresh interpreter with another hash seed builds the same city."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from test_builtin_city import digest;"
            "from networks.builtin import build_builtin_city;"
            "print(digest(build_builtin_city(5, scale=0.2)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    here = Path(__file__).resolve().parent
    out = subprocess.run([sys.executable, "-c", code, str(here)], env=env, cwd=here.parent,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(build_builtin_city(5, scale=0.2))


def test_different_seeds_give_different_cities(small):
    other = build_builtin_city(8, scale=0.3)
    assert not np.array_equal(other.terrain.elevation_m, small.terrain.elevation_m)
    pos = {n: (a["x_m"], a["y_m"]) for n, a in small.graph(ROADS).nodes(data=True)}
    pos2 = {n: (a["x_m"], a["y_m"]) for n, a in other.graph(ROADS).nodes(data=True)}
    assert pos != pos2
    assert not np.array_equal(small.population.population[:50], other.population.population[:50])


def test_bad_arguments_are_input_errors():
    for kwargs in ({"scale": 0.1}, {"scale": 10.5}, {"scale": float("nan")}):
        with pytest.raises(InputError, match="scale"):
            build_builtin_city(7, **kwargs)
    with pytest.raises(InputError, match="seed"):
        build_builtin_city(1.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="seed"):
        build_builtin_city(-1)


# -- size -----------------------------------------------------------------------------


def test_scale_one_sizes(city):
    c = class_counts(city)
    road_nodes = city.graph(ROADS).number_of_nodes()
    assert road_nodes >= 5000
    assert 10_000 <= city.n_components() <= 40_000
    assert c["power_plant"] == 1 and c["grid_supply"] == 2
    assert 10 <= c["substation"] <= 16
    assert 1 <= c["treatment_plant"] <= 2
    assert c["pump_station"] >= 3 and c["tank"] >= 2
    assert c["bridge"] >= 3 and 3 <= c["depot"] <= 8
    assert 300_000 <= city.population.population.sum() <= 600_000


def test_small_scale_builds_fast_and_small():
    t0 = time.perf_counter()
    net = build_builtin_city(3, scale=0.3)
    assert time.perf_counter() - t0 < 5.0
    assert 500 <= net.n_components() <= 5000
    tiny = build_builtin_city(3, scale=0.2)
    assert tiny.n_components() < net.n_components()
    for g in tiny.graphs.values():
        assert nx.is_connected(g)


@pytest.mark.slow
def test_scale_three_is_about_ten_times_bigger(city):
    big = build_builtin_city(7, scale=3.0)
    assert 6 * city.n_components() <= big.n_components() <= 14 * city.n_components()
    for g in big.graphs.values():
        assert nx.is_connected(g)


# -- schema ------------------------------------------------------------------------------


SWITCH_FIELDS = ("switch", "normally_open", "automated")


def check_fields(kind: NetworkKind, asset: str, attrs: dict, *, is_edge: bool) -> None:
    cls = AssetClass(attrs["asset_class"])
    spec = CLASS_SPECS[cls]
    assert spec.network == kind and spec.is_edge == is_edge, asset
    for f in spec.fields:
        if f.name in SWITCH_FIELDS and "switch" not in attrs:
            continue  # only switched lines carry them (feeder_automation)
        assert f.name in attrs, (asset, f.name)
        val = attrs[f.name]
        if f.kind is str:
            assert val in f.choices, (asset, f.name, val)
            continue
        if f.kind is bool:
            assert type(val) is bool, (asset, f.name, val)
            continue
        assert type(val) is f.kind, (asset, f.name, type(val))
        assert math.isfinite(val), (asset, f.name)
        if f.minimum is not None:
            assert val >= f.minimum, (asset, f.name, val)
        if f.maximum is not None:
            assert val <= f.maximum, (asset, f.name, val)


@pytest.mark.parametrize("which", ["small", "city", "automated"])
def test_every_asset_has_its_declared_fields_in_range(which, request):
    net = request.getfixturevalue(which)
    for kind, g in net.graphs.items():
        for n, a in g.nodes(data=True):
            assert isinstance(n, str)
            assert type(a["x_m"]) is float and type(a["y_m"]) is float
            check_fields(kind, n, a, is_edge=False)
        for _, _, a in g.edges(data=True):
            assert isinstance(a["id"], str)
            check_fields(kind, a["id"], a, is_edge=True)
            assert a["length_m"] > 0.0


@pytest.mark.parametrize("which", ["small", "city", "automated"])
def test_passes_schema_validation(which, request):
    validate_network(request.getfixturevalue(which))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.2, 0.25, 0.4]))
def test_any_seed_gives_a_valid_connected_city(seed, scale):
    net = build_builtin_city(seed, scale=scale)
    validate_network(net)
    for kind, consumer, source in ((POWER, "power_load", {"power_plant", "grid_supply"}),
                                   (WATER, "junction", {"treatment_plant"}),
                                   (ROADS, "intersection", {"depot"})):
        g = net.graph(kind)
        assert nx.is_connected(g)
        assert nodes_of(g, *source) and nodes_of(g, consumer)
    assert net.population.population.sum() > 0


def test_asset_ids_unique_and_readable(city):
    prefixes = {POWER: "P-", WATER: "W-", ROADS: "R-"}
    seen: set[str] = set()
    total = 0
    for kind, g in city.graphs.items():
        ids = list(g.nodes) + [e for _, _, e in g.edges(data="id")]
        total += len(ids)
        seen.update(ids)
        assert all(i.startswith(prefixes[kind]) for i in ids)
    assert len(seen) == total == city.n_components()
    assert "P-SUB-001" in city.graph(POWER) and "W-WTP-1" in city.graph(WATER)


def test_edge_lengths_follow_geometry(small):
    for g in small.graphs.values():
        for u, v, a in g.edges(data=True):
            if "coords" in a:
                c = a["coords"]
                assert c.ndim == 2 and c.shape[1] == 2 and c.dtype == float
                np.testing.assert_allclose(c[0], xy(g, u), atol=1e-6)
                np.testing.assert_allclose(c[-1], xy(g, v), atol=1e-6)
                geom = np.hypot(*np.diff(c, axis=0).T).sum()
            else:
                geom = np.hypot(*(xy(g, u) - xy(g, v)))
            assert a["length_m"] == pytest.approx(geom, rel=1e-6, abs=1e-6)


# -- topology ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "city"])
def test_each_network_is_connected(which, request):
    net = request.getfixturevalue(which)
    for g in net.graphs.values():
        assert nx.is_connected(g)


@pytest.mark.parametrize("which", ["small", "city"])
def test_consumers_reach_a_source_in_the_intact_network(which, request):
    net = request.getfixturevalue(which)
    for kind, consumer, source in ((POWER, "power_load", {"power_plant", "grid_supply"}),
                                   (WATER, "junction", {"treatment_plant"}),
                                   (ROADS, "intersection", {"depot"})):
        g = net.graph(kind)
        reach: set[str] = set()
        for s in nodes_of(g, *source):
            reach |= nx.node_connected_component(g, s)
        assert set(nodes_of(g, consumer)) <= reach


@pytest.mark.parametrize("which", ["small", "city"])
def test_feeders_are_radial_trees_one_substation_each(which, request):
    net = request.getfixturevalue(which)
    g = net.graph(POWER)
    feeders = nx.Graph()
    feeders.add_edges_from((u, v) for u, v, c in g.edges(data="asset_class")
                           if c == "feeder_segment")
    loads = set(nodes_of(g, "power_load"))
    assert loads <= set(feeders)
    for comp in nx.connected_components(feeders):
        sub = feeders.subgraph(comp)
        assert nx.is_tree(sub)
        assert sum(g.nodes[n]["asset_class"] == "substation" for n in comp) == 1
    # feeders end at loads, and feeder nodes sit a few metres off an intersection
    leaves = [n for n in feeders if feeders.degree(n) == 1
              and g.nodes[n]["asset_class"] != "substation"]
    assert all(g.nodes[n]["asset_class"] == "power_load" for n in leaves)
    roads = net.graph(ROADS)
    tree = cKDTree(np.array([xy(roads, n) for n in roads]))
    fn = nodes_of(g, "distribution_node", "power_load")
    d, _ = tree.query(np.array([xy(g, n) for n in fn]))
    assert d.max() < 15.0 and d.min() > 1.0


def test_transmission_mesh_survives_any_single_line_outage(city):
    g = city.graph(POWER)
    t = nx.Graph()
    t.add_edges_from((u, v) for u, v, c in g.edges(data="asset_class")
                     if c == "transmission_line")
    assert set(nodes_of(g, "substation", "power_plant", "grid_supply")) == set(t)
    assert nx.is_connected(t) and not list(nx.bridges(t))
    kv = {a["voltage_kv"] for _, _, a in g.edges(data=True)
          if a["asset_class"] == "transmission_line"}
    assert kv <= {110.0, 220.0} and 220.0 in kv


def test_roads_arterials_bridges_and_depots(city):
    g = city.graph(ROADS)
    segs = [a for _, _, a in g.edges(data=True) if a["asset_class"] == "road_segment"]
    art = [a for a in segs if a["lanes"] >= 4]
    loc = [a for a in segs if a["lanes"] < 4]
    assert 0.1 < len(art) / len(segs) < 0.6
    assert min(a["speed_kmh"] for a in art) > max(a["speed_kmh"] for a in loc)
    assert {a["speed_kmh"] for a in loc} <= {30.0, 40.0}
    # bridges span the river channel: the terrain under their middle is below sea level
    z = city.terrain.sample
    for u, v, a in g.edges(data=True):
        if a["asset_class"] == "bridge":
            m = 0.5 * (xy(g, u) + xy(g, v))
            assert z(np.array([m[0]]), np.array([m[1]]))[0] < 0.0
    # no street runs through the sea or the river
    for u, v, a in g.edges(data=True):
        if a["asset_class"] == "road_segment":
            m = 0.5 * (xy(g, u) + xy(g, v))
            assert z(np.array([m[0]]), np.array([m[1]]))[0] > 0.0
    assert len(nodes_of(g, "depot")) >= 2


def test_water_mains_are_looped_and_pumps_matter(city):
    g = city.graph(WATER)
    # looped: far more independent cycles than a tree would have
    assert g.number_of_edges() - g.number_of_nodes() + 1 > 100
    pumps = nodes_of(g, "pump_station")
    cut = g.copy()
    cut.remove_nodes_from(pumps)
    from_plants: set[str] = set()
    for s in nodes_of(g, "treatment_plant"):
        from_plants |= nx.node_connected_component(cut, s)
    from_tanks: set[str] = set()
    for s in nodes_of(g, "tank"):
        from_tanks |= nx.node_connected_component(cut, s)
    served = [n for n in nodes_of(g, "junction") if g.nodes[n]["customers"] > 0]
    # without pumps, no customer gets water from a plant; tanks carry part of the
    # city for a while, the rest is dry at once
    assert not set(served) & from_plants
    on_tanks = set(served) & from_tanks
    assert 0 < len(on_tanks) < len(served)
    backup = sorted(g.nodes[p]["backup_h"] for p in pumps)
    assert backup.count(6.0) >= 2 and backup[0] == 0.0
    # hill tanks sit on high ground
    tz = [city.terrain.sample(np.array([g.nodes[t]["x_m"]]), np.array([g.nodes[t]["y_m"]]))[0]
          for t in nodes_of(g, "tank")]
    assert max(tz) > 30.0


def test_sources_cover_demand(city):
    p, w = city.graph(POWER), city.graph(WATER)
    supply = sum(a["capacity_mw"] for _, a in p.nodes(data=True)
                 if a["asset_class"] in ("power_plant", "grid_supply"))
    demand = sum(a["demand_mw"] for _, a in p.nodes(data=True) if a["asset_class"] == "power_load")
    assert 200.0 < demand < supply
    wsup = sum(a["capacity_m3h"] for _, a in w.nodes(data=True)
               if a["asset_class"] == "treatment_plant")
    wdem = sum(a["demand_m3h"] for _, a in w.nodes(data=True) if a["asset_class"] == "junction")
    assert 1000.0 < wdem < wsup
    assert any(a.get("critical") for _, a in p.nodes(data=True))
    assert any(a.get("critical") for _, a in w.nodes(data=True))
    under = [a["overhead"] for _, _, a in p.edges(data=True)
             if a["asset_class"] == "feeder_segment"]
    assert 0.5 < np.mean(under) < 0.98  # mostly overhead, some underground


# -- dependencies ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "city"])
def test_dependencies_reference_assets_of_the_right_network(which, request):
    net = request.getfixturevalue(which)
    where = {n: k for k, g in net.graphs.items() for n in g.nodes}
    cls = {n: a for g in net.graphs.values() for n, a in g.nodes(data="asset_class")}
    have: dict[str, set[DependencyKind]] = {}
    for d in net.dependencies:
        assert d.dependent in where and d.supplier in where
        assert where[d.supplier] == SUPPLIER_NETWORK[d.kind]
        assert where[d.dependent] != where[d.supplier]
        have.setdefault(d.dependent, set()).add(d.kind)
        if d.kind == DependencyKind.POWER_SUPPLY:
            assert cls[d.supplier] in ("distribution_node", "power_load")
        if d.kind == DependencyKind.COOLING_WATER:
            assert cls[d.dependent] == "power_plant" and cls[d.supplier] == "junction"
    for n, c in cls.items():
        for kind in REQUIRED_DEPENDENCIES.get(AssetClass(c), ()):
            assert kind in have.get(n, set()), (n, kind)
    must_have_road = {"substation", "pump_station", "treatment_plant", "tank", "power_plant",
                      "grid_supply"}
    for n, c in cls.items():
        if c in must_have_road:
            assert DependencyKind.ROAD_ACCESS in have.get(n, set()), n
    plants = nodes_of(net.graph(POWER), "power_plant")
    assert all(DependencyKind.COOLING_WATER in have[p] for p in plants)
    # exactly one dependency of each kind per dependent
    assert len({(d.dependent, d.kind) for d in net.dependencies}) == len(net.dependencies)


# -- population -----------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "city"])
def test_population_blocks_and_customers_agree(which, request):
    net = request.getfixturevalue(which)
    pb = net.population
    n = len(pb)
    for f in ("ids", "x_m", "y_m", "population"):
        assert len(getattr(pb, f)) == n
    assert all(len(pb.node_of(k)) == n for k in (POWER, WATER, ROADS))
    assert len(set(pb.ids.tolist())) == n and (pb.population > 0).all()
    for kind, arr, classes in ((POWER, pb.node_of(POWER), {"power_load"}),
                               (WATER, pb.node_of(WATER), {"junction"}),
                               (ROADS, pb.node_of(ROADS), {"intersection", "depot"})):
        g = net.graph(kind)
        assert all(g.nodes[x]["asset_class"] in classes for x in set(arr.tolist()))
        served: Counter = Counter()
        for node, people in zip(arr.tolist(), pb.population.tolist(), strict=True):
            served[node] += people
        for node, a in g.nodes(data=True):
            if a["asset_class"] in classes:
                assert a["customers"] == pytest.approx(served.get(node, 0.0)), node
    # blocks are served by a node nearby
    g = net.graph(POWER)
    pn = pb.node_of(POWER)
    d = [np.hypot(pb.x_m[i] - g.nodes[pn[i]]["x_m"],
                  pb.y_m[i] - g.nodes[pn[i]]["y_m"]) for i in range(0, n, 7)]
    assert max(d) < 600.0


# -- geo-reference and terrain ------------------------------------------------------------


@pytest.mark.parametrize("which", ["small", "city"])
def test_crs_and_anchor_in_the_pearl_river_delta(which, request):
    net = request.getfixturevalue(which)
    assert net.crs == CRS == "EPSG:32649" and net.terrain.crs == CRS
    m = net.meta
    assert 21.5 <= m["anchor_lat"] <= 23.5 and 112.5 <= m["anchor_lon"] <= 114.5
    assert {"seed", "scale", "generator_version"} <= set(m)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(m["anchor_x_m"], m["anchor_y_m"])
    assert lon == pytest.approx(m["anchor_lon"], abs=1e-6)
    assert lat == pytest.approx(m["anchor_lat"], abs=1e-6)
    xmin, ymin, xmax, ymax = net.terrain.bounds()
    for g in net.graphs.values():
        p = np.array([(a["x_m"], a["y_m"]) for _, a in g.nodes(data=True)])
        assert (p[:, 0] > xmin).all() and (p[:, 0] < xmax).all()
        assert (p[:, 1] > ymin).all() and (p[:, 1] < ymax).all()
        lon, lat = to_ll.transform(p[:, 0], p[:, 1])
        assert ((lat >= 21.5) & (lat <= 23.5)).all()
        assert ((lon >= 112.5) & (lon <= 114.5)).all()


@pytest.mark.parametrize("which", ["small", "city"])
def test_terrain_sea_south_hills_north(which, request):
    net = request.getfixturevalue(which)
    t = net.terrain
    z = t.elevation_m
    assert z.dtype == np.float32 and t.cell_size_m == pytest.approx(30.0)
    assert not np.isnan(z).any()
    ny = z.shape[0]
    south, north = z[-ny // 10:], z[: ny // 3]
    assert (south < 0).mean() > 0.8  # sea along the south edge
    assert north.mean() > 20.0 + np.median(z[ny // 3: 2 * ny // 3])  # higher ground north
    assert north.max() > (100.0 if net.meta["scale"] >= 1.0 else 40.0)
    # the river reaches far inland as a below-sea-level channel
    rows_with_water = (z[: 2 * ny // 3] < 0).any(axis=1).mean()
    assert rows_with_water > 0.9
    # every street, plant and junction stands on dry land
    for kind in (ROADS, WATER):
        g = net.graph(kind)
        p = np.array([(a["x_m"], a["y_m"]) for _, a in g.nodes(data=True)])
        assert (t.sample(p[:, 0], p[:, 1]) > 0.0).all()


def test_city_has_a_low_floodplain_near_the_coast(city):
    # roads within ~2 km of the coast include many on ground below 5 m: floodable
    g = city.graph(ROADS)
    p = np.array([(a["x_m"], a["y_m"]) for _, a in g.nodes(data=True)])
    z = city.terrain.sample(p[:, 0], p[:, 1])
    south = p[:, 1] < p[:, 1].min() + 2000.0
    assert (z[south] < 5.0).mean() > 0.3
    assert 0.1 < (z < 10.0).mean() < 0.9
