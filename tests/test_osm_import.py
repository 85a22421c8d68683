"""OpenStreetMap import: the twin's roads against OSMnx/pyrosm read directly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
OSM = ROOT / "data" / "osm"
EXTRACTS = ["helsinki_center.osm.pbf", "pyrosm_test_kotka_area.osm.pbf", "west_oakland.osm.bz2"]

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def direct(path: Path):
    """The same extract read the way a user of pyrosm/OSMnx would, undirected."""
    import osmnx as ox

    if path.suffix == ".pbf":
        import pyrosm

        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="driving", nodes=True)
        g = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True)
    else:
        from networks.importers.osm import _read_xml_roads

        g = _read_xml_roads(path)
    g = ox.truncate.largest_component(g, strongly=True)
    return g, ox.convert.to_undirected(g)


@pytest.fixture(scope="module", params=EXTRACTS)
def imported(request):
    from networks.importers.osm import read_osm_roads

    path = OSM / request.param
    return path, read_osm_roads(path), *direct(path)


def test_counts_lengths_and_classes_match_osmnx(imported):
    _, part, _, und = imported
    g, meta = part.graph, part.meta
    split = meta["split_parallel"]  # a parallel way is split in two at a new mid node
    assert g.number_of_nodes() == und.number_of_nodes() + split
    assert g.number_of_edges() == und.number_of_edges() + split
    total = sum(a["length_m"] for *_, a in g.edges(data=True))
    assert total == pytest.approx(sum(a["length"] for *_, a in und.edges(data=True)), rel=1e-6)
    bridges = sum(1 for *_, a in und.edges(data=True)
                  if any(str(b) not in ("no", "nan", "None") for b in
                         (a.get("bridge") if isinstance(a.get("bridge"), list)
                          else [a.get("bridge")]) if b is not None))
    bridged_twin = sum(1 for *_, a in g.edges(data=True) if a["asset_class"] == "bridge")
    assert bridged_twin >= bridges  # split bridges count twice
    assert {a["asset_class"] for *_, a in g.edges(data=True)} <= {"road_segment", "bridge",
                                                                  "tunnel"}
    assert sum(1 for _, a in g.nodes(data=True) if a["asset_class"] == "depot") == 1
    assert part.crs.startswith("EPSG:326")  # the local UTM zone (north)
    assert "OpenStreetMap contributors" in meta["attribution"]


def test_oneway_streets_stay_one_way(imported):
    _, part, dg, _ = imported
    oneway = [(u, v, a) for u, v, a in part.graph.edges(data=True) if a["oneway"]]
    n_dir = sum(1 for *_, a in dg.edges(data=True) if a.get("oneway"))
    assert len(oneway) >= n_dir > 0 or (n_dir == 0 and not oneway)
    for u, v, a in oneway:
        c = a["coords"]
        pu = part.graph.nodes[u]
        # the polyline runs the way traffic goes: it starts at one end of the edge
        ends = [(pu["x_m"], pu["y_m"]), (part.graph.nodes[v]["x_m"], part.graph.nodes[v]["y_m"])]
        assert min(np.hypot(*(c[0] - e)) for e in ends) < 1.0


def test_a_oneway_street_is_driven_one_way_in_the_twin(tmp_path):
    from networks.importers import city_from_parts
    from networks.importers.osm import read_osm_roads
    from twin.compile import compile_twin
    from twin.kernels.routing import travel_times

    roads = read_osm_roads(OSM / "helsinki_center.osm.pbf")
    g = roads.graph
    some = next(n for n in g if g.nodes[n]["asset_class"] == "intersection")
    import networkx as nx

    power = nx.Graph()
    x, y = g.nodes[some]["x_m"], g.nodes[some]["y_m"]
    power.add_node("GS", asset_class="grid_supply", x_m=x, y_m=y, capacity_mw=10.0)
    power.add_node("LD", asset_class="power_load", x_m=x + 50, y_m=y, demand_mw=1.0,
                   customers=10.0)
    power.add_edge("GS", "LD", id="F", asset_class="feeder_segment", length_m=50.0)
    city = city_from_parts(power=power, roads=roads, crs=roads.crs, name="hel")
    t = compile_twin(city)
    eid, (u, v, a) = next((a["id"], (u, v, a)) for u, v, a in g.edges(data=True)
                          if a["oneway"] and not str(a["id"]).endswith("~2"))
    e = t.index[eid]
    start_is_u = np.hypot(*(a["coords"][0] - (g.nodes[u]["x_m"], g.nodes[u]["y_m"]))) < 1.0
    frm, to = (u, v) if start_is_u else (v, u)
    i, j = t.index[frm], t.index[to]
    nbr = lambda k: {(int(t.adj_node[m]), int(t.adj_edge[m]))  # noqa: E731
                     for m in range(t.adj_indptr[k], t.adj_indptr[k + 1])}
    assert (j, e) in nbr(i)
    assert (i, e) not in nbr(j)
    # and routing agrees: closing every other way, j cannot reach i over e
    passable = np.ones(t.n, dtype=bool)
    target = np.zeros(t.n, dtype=bool)
    target[i] = True
    only = np.full(t.n, np.inf)
    only[e] = 0.1
    assert np.isfinite(travel_times(i, passable, only, t.adj_indptr, t.adj_node, t.adj_edge,
                                    ~target, 0)[j])
    assert not np.isfinite(travel_times(j, passable, only, t.adj_indptr, t.adj_node,
                                        t.adj_edge, target, 1)[i])


def test_maxspeed_30_gives_30_kmh():
    from networks.importers.osm import read_osm_roads

    path = OSM / "helsinki_center.osm.pbf"  # the extract that tags maxspeed=30
    part, (dg, _) = read_osm_roads(path), direct(path)
    tagged = {a.get("osmid") if not isinstance(a.get("osmid"), list) else a["osmid"][0]
              for *_, a in dg.edges(data=True) if str(a.get("maxspeed")) == "30"}
    assert len(tagged) > 10
    got = [a["speed_kmh"] for *_, a in part.graph.edges(data=True)
           if int(str(a["id"]).split("-")[-1].split("~")[0]) in tagged]
    assert got and all(s == 30.0 for s in got)


def test_untagged_speed_comes_from_the_class():
    from networks.importers.osm import CLASS_SPEED_KMH, read_osm_roads

    part = read_osm_roads(OSM / "west_oakland.osm.bz2")
    speeds = {a["speed_kmh"] for *_, a in part.graph.edges(data=True)}
    assert speeds and all(0 < s <= max(CLASS_SPEED_KMH.values()) for s in speeds)


def twin_cli(*args):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_cli_import_osm_with_epanet_round_trips(tmp_path):
    out = tmp_path / "kotka.gpkg"
    r = twin_cli("import", "--osm", OSM / "pyrosm_test_kotka_area.osm.pbf", "--epanet",
                 ROOT / "data" / "networks" / "Net3.inp", "--crs", "EPSG:32635", "--scale",
                 "auto", "--anchor", "494500", "6710000", "--out", out)
    assert r.returncode == 0, r.stderr
    from networks.io import load_city

    net = load_city(out)
    roads = net.graphs["roads"]
    assert roads.number_of_nodes() > 200
    assert any(a.get("oneway") for *_, a in roads.edges(data=True))
    assert "OpenStreetMap" in str(net.meta["roads"])


@pytest.mark.parametrize("content, name, needle", [
    (b"\x00garbage" * 100, "broken.osm.pbf", "cannot read the OSM extract"),
    (b"<osm></osm>", "empty.osm", "no drivable roads"),
    (b"x", "city.shp", "not an OpenStreetMap extract"),
])
def test_broken_extracts_are_one_line(tmp_path, content, name, needle):
    p = tmp_path / name
    p.write_bytes(content)
    r = twin_cli("import", "--osm", p, "--out", tmp_path / "x.gpkg")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "x.gpkg").exists()
