"""Importers of real networks: EPANET (Net3) and pandapower (mv_oberrhein) into a city."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from common.errors import NetworkError
from networks.importers import ImportedPart, city_from_parts, from_epanet, from_pandapower
from networks.schema import DependencyKind, NetworkKind

DATA = Path(__file__).resolve().parents[1] / "data" / "networks"
NET3 = DATA / "Net3.inp"
OBERRHEIN = DATA / "mv_oberrhein.json"
CRS = "EPSG:32632"


@pytest.fixture(scope="module")
def wn():
    import wntr

    return wntr.network.WaterNetworkModel(str(NET3))


@pytest.fixture(scope="module")
def ppnet():
    import pandapower as pp

    return pp.from_json(str(OBERRHEIN))


@pytest.fixture(scope="module")
def power(ppnet) -> ImportedPart:
    return from_pandapower(ppnet)


@pytest.fixture(scope="module")
def water(power) -> ImportedPart:
    xy = np.array([(a["x_m"], a["y_m"]) for _, a in power.graph.nodes(data=True)])
    return from_epanet(NET3, crs=power.crs, scale="auto", anchor_xy=tuple(xy.mean(axis=0)))


@pytest.fixture(scope="module")
def city(power, water):
    return city_from_parts(power=power, water=water, name="net3_oberrhein")


def _classes(g):
    out: dict[str, int] = {}
    for _, a in g.nodes(data=True):
        out[a["asset_class"]] = out.get(a["asset_class"], 0) + 1
    return out


# ---------------------------------------------------------------- EPANET

def test_net3_counts(water, wn):
    g = water.graph
    c = _classes(g)
    assert c["junction"] == len(wn.junction_name_list) == 92
    assert c["tank"] == len(wn.tank_name_list) == 3
    assert c["treatment_plant"] == len(wn.reservoir_name_list) == 2
    assert c["pump_station"] == len(wn.pump_name_list) == 2
    # every pipe kept (330 is closed but operated by a control), each pump as two pipes
    pipe_ids = {i for _, _, i in g.edges(data="id")}
    assert {f"WL:{p}" for p in wn.pipe_name_list} <= pipe_ids
    assert len(pipe_ids) == 117 + 2 * 2
    assert water.meta["dropped_links"]["closed"] == []


def test_net3_demand_lengths_and_geometry(water, wn):
    g = water.graph
    total = sum(j.base_demand for _, j in wn.junctions()) * 3600.0
    got = sum(a.get("demand_m3h", 0.0) for _, a in g.nodes(data=True))
    assert got == pytest.approx(total, rel=1e-9) and total > 600
    # 200 L/person/day -> 120 people per m3/h
    cust = sum(a.get("customers", 0.0) for _, a in g.nodes(data=True))
    assert cust == pytest.approx(120.0 * total)
    for _, _, a in g.edges(data=True):
        assert a["length_m"] > 0 and a["diameter_m"] > 0, a["id"]
    p = wn.get_link("101")
    e = next(a for _, _, a in g.edges(data=True) if a["id"] == "WL:101")
    assert e["length_m"] == pytest.approx(p.length) and e["diameter_m"] == pytest.approx(
        p.diameter)
    # the pump station sits between the pump's ends, joined to both
    assert set(g["WPS:335"]) == {"WN:60", "WN:61"}
    assert g.nodes["WPS:335"]["capacity_m3h"] == pytest.approx(
        wn.get_link("335").get_design_flow() * 3600)
    # tank volume from geometry; storage_h = total tank volume / total demand
    t = wn.get_node("1")
    vol = math.pi / 4 * t.diameter ** 2 * (t.max_level - t.min_level)
    assert g.nodes["WN:1"]["volume_m3"] == pytest.approx(vol)
    total_vol = sum(a["volume_m3"] for _, a in g.nodes(data=True) if a["asset_class"] == "tank")
    assert g.nodes["WN:1"]["storage_h"] == pytest.approx(total_vol / total)


def test_net3_scale_auto_and_anchor(water, power):
    g = water.graph
    xy = np.array([(a["x_m"], a["y_m"]) for n, a in g.nodes(data=True) if n.startswith("WN:")])
    pxy = np.array([(a["x_m"], a["y_m"]) for _, a in power.graph.nodes(data=True)])
    assert np.allclose(xy.mean(axis=0), pxy.mean(axis=0))
    # scaled straight distances are of the order of the pipe lengths
    ratio = [a["length_m"] / math.dist((g.nodes[u]["x_m"], g.nodes[u]["y_m"]),
                                       (g.nodes[v]["x_m"], g.nodes[v]["y_m"]))
             for u, v, a in g.edges(data=True) if a["id"].startswith("WL:") and "~" not in a["id"]]
    assert 0.9 < float(np.median(ratio)) < 1.1


def test_epanet_errors(tmp_path):
    text = NET3.read_text()
    i = text.index("[COORDINATES]")
    j = text.index("[", i + 5)
    nocoord = tmp_path / "nocoord.inp"
    nocoord.write_text(text[:i] + text[j:])
    with pytest.raises(NetworkError, match=r"nocoord.inp: nodes '10' and \d+ more have no coord"):
        from_epanet(nocoord, crs=CRS)
    with pytest.raises(NetworkError, match="not found"):
        from_epanet(tmp_path / "missing.inp", crs=CRS)
    with pytest.raises(NetworkError, match="unknown CRS"):
        from_epanet(NET3, crs="EPSG:99999")
    with pytest.raises(NetworkError, match="not projected"):
        from_epanet(NET3, crs="EPSG:4326")
    broken = tmp_path / "broken.inp"
    broken.write_text(text.replace("[PIPES]\n", "[PIPES]\n bad 1 2\n", 1))
    with pytest.raises(NetworkError, match="broken.inp: cannot read EPANET file") as e:
        from_epanet(broken, crs=CRS)
    assert "\n" not in str(e.value)


def test_unparseable_rules_are_stripped(tmp_path):
    # WNTR 1.5 rejects clock times like "6 AM" (Micropolis); the topology survives
    text = NET3.read_text().replace(
        "[RULES]", "[RULES]\nRULE 1\nIF SYSTEM CLOCKTIME >= 6 AM\nTHEN PUMP 10 STATUS IS OPEN\n")
    p = tmp_path / "rules.inp"
    p.write_text(text)
    part = from_epanet(p, crs=CRS)
    assert part.meta["stripped_sections"] == ["CONTROLS", "RULES"]
    assert _classes(part.graph)["pump_station"] == 2


# ---------------------------------------------------------------- pandapower

def test_oberrhein_loads_and_open_switches(power, ppnet):
    g = power.graph
    c = _classes(g)
    assert c["power_load"] == len(ppnet.load) == 147
    assert c["grid_supply"] == len(ppnet.ext_grid) == 2
    assert c["substation"] == len(ppnet.trafo) == 2
    demand = sum(a.get("demand_mw", 0.0) for _, a in g.nodes(data=True))
    assert demand == pytest.approx(ppnet.load.p_mw.sum())
    open_lines = set(ppnet.switch[(ppnet.switch.et == "l") & ~ppnet.switch.closed].element)
    assert len(open_lines) == 6
    ids = {i for _, _, i in g.edges(data="id")}
    # lines behind open switches are kept, as normally open ties
    assert {f"PL:{i}" for i in ppnet.line.index} <= ids
    sw = {a["id"]: a for _, _, a in g.edges(data=True) if a.get("switch")}
    assert {i for i, a in sw.items() if a["normally_open"]} == {f"PL:{i}" for i in open_lines}
    assert all(sw[f"PL:{i}"]["switch"] == "tie" for i in open_lines)
    closed = set(ppnet.switch[(ppnet.switch.et == "l") & ppnet.switch.closed].element)
    assert {f"PL:{i}" for i in closed - open_lines} <= set(sw)
    assert not any(a["automated"] for a in sw.values())
    # operated radially: without the open ties a forest, one grid supply per tree
    op = g.edge_subgraph([(u, v) for u, v, a in g.edges(data=True)
                          if not a.get("normally_open")]).copy()
    op.add_nodes_from(g.nodes(data=True))
    assert nx.is_forest(op)
    for comp in nx.connected_components(op):
        assert sum(g.nodes[n]["asset_class"] == "grid_supply" for n in comp) == 1
    # overhead flag from the line type; length from length_km
    for i, r in ppnet.line.iterrows():
        e = next(a for _, _, a in g.edges(data=True) if a["id"] == f"PL:{i}")
        assert e["overhead"] == (r["type"] == "ol")
        assert e["length_m"] == pytest.approx(r["length_km"] * 1000)


def test_oberrhein_every_load_reaches_a_supply(power):
    g = power.graph
    g = g.edge_subgraph([(u, v) for u, v, a in g.edges(data=True)
                         if not a.get("normally_open")]).copy()  # as operated
    g.add_nodes_from(power.graph.nodes(data=True))
    sources = [n for n, a in g.nodes(data=True) if a["asset_class"] == "grid_supply"]
    reach = set().union(*(nx.node_connected_component(g, s) for s in sources))
    loads = [n for n, a in g.nodes(data=True) if a["asset_class"] == "power_load"]
    assert loads and set(loads) <= reach
    # capacities cover the peak load of each supply's tree (grid_margin 1.2)
    for s in sources:
        comp = nx.node_connected_component(g, s)
        load = sum(g.nodes[n].get("demand_mw", 0.0) for n in comp)
        assert g.nodes[s]["capacity_mw"] == pytest.approx(1.2 * load)
    # projected to UTM 32N around Lahr
    assert power.crs == "EPSG:32632"
    x, y = g.nodes["PT:114"]["x_m"], g.nodes["PT:114"]["y_m"]
    assert 400_000 < x < 430_000 and 5_350_000 < y < 5_375_000


def test_closed_bus_switch_merges_and_open_switch_is_honoured(ppnet):
    import copy

    net = copy.deepcopy(ppnet)
    # a closed bus-bus switch between the two ends of line 0 merges them: the line is dropped
    fb, tb = int(net.line.at[0, "from_bus"]), int(net.line.at[0, "to_bus"])
    net.switch.loc[len(net.switch) + 1000] = {"bus": fb, "element": tb, "et": "b",
                                              "type": "CB", "closed": True, "name": "x",
                                              "z_ohm": 0.0, "in_ka": np.nan}
    part = from_pandapower(net)
    assert 0 in part.meta["dropped_lines"]["merged_ends"]
    assert "PL:0" not in {i for _, _, i in part.graph.edges(data="id")}
    with pytest.raises(NetworkError, match="pandapower file not found"):
        from_pandapower("/nonexistent/net.json")


# ---------------------------------------------------------------- city, engine, CLI

def test_city_validates_and_links(city):
    assert city.crs == "EPSG:32632"
    roads = city.graph(NetworkKind.ROADS)
    assert _classes(roads)["depot"] == 1
    assert city.meta["roads"]["kind"].startswith("grid proxy")
    deps = {(d.dependent, d.kind): d.supplier for d in city.dependencies}
    for n, a in city.graph(NetworkKind.WATER).nodes(data=True):
        if a["asset_class"] in ("pump_station", "treatment_plant"):
            sup = deps[(n, DependencyKind.POWER_SUPPLY)]
            assert city.graph(NetworkKind.POWER).nodes[sup]["asset_class"] in (
                "power_load", "distribution_node")
        assert deps[(n, DependencyKind.ROAD_ACCESS)] in roads


def test_water_only_city_gets_power_proxy(water):
    c = city_from_parts(water=water)
    pg = c.graph(NetworkKind.POWER)
    assert _classes(pg) == {"grid_supply": 4}  # 2 pumps + 2 treatment plants
    assert c.graph(NetworkKind.ROADS).number_of_nodes() > 100


def test_compiles_and_runs(city):
    from twin.compile import compile_twin
    from twin.run import prepare, run_monte_carlo
    from twin.scenario import ScenarioSpec

    t = compile_twin(city)
    assert t.n == city.n_components()
    spec = ScenarioSpec.model_validate({
        "name": "import smoke", "city": {"path": "unused.gpkg"}, "horizon_h": 240,
        "realizations": 2, "seed": 1, "workers": 1,
        "crews": {"power": 2, "water": 2, "roads": 1},
        "hazards": [{"type": "damage_map", "events": [
            {"time_h": 1, "assets": ["PT:114", "WL:101"], "damage_state": "slight"}]}]})
    res = run_monte_carlo(prepare(spec, net=city, use_cache=False), workers=1)
    assert len(res) == 2
    for r in res:
        assert r.served[0, 0] == pytest.approx(1.0) and r.served[0, 1] == pytest.approx(1.0)
        assert r.served[:, 0].min() < 0.8  # one of two substations out
        assert r.served[-1, 0] == pytest.approx(1.0)  # crews restore it


def test_cli_writes_gpkg_that_loads(tmp_path):
    from networks.io import load_city

    out = tmp_path / "city.gpkg"
    cmd = [sys.executable, "-c", "import sys, argparse; from networks.importers.cli import "
           "add_import; p = argparse.ArgumentParser(prog='twin'); add_import("
           "p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))",
           "import", "--epanet", NET3, "--crs", CRS, "--scale", "auto", "--pandapower",
           OBERRHEIN, "--anchor-to-power", "--out", out]
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300,
                       cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 0, r.stderr
    c = load_city(out)
    assert c.crs == "EPSG:32632"
    assert _classes(c.graph(NetworkKind.WATER))["junction"] == 92
    assert _classes(c.graph(NetworkKind.POWER))["power_load"] == 147
    demand = sum(a.get("demand_mw", 0.0) for _, a in c.graph(NetworkKind.POWER).nodes(data=True))
    assert demand == pytest.approx(61.86)


def test_cli_bad_input_is_one_line_error(tmp_path):
    import argparse

    from networks.importers.cli import add_import

    p = argparse.ArgumentParser(prog="twin")
    add_import(p.add_subparsers())
    a = p.parse_args(["import", "--epanet", str(NET3), "--out", str(tmp_path / "c.gpkg")])
    with pytest.raises(NetworkError, match="give --crs"):
        a.func(a)
    a = p.parse_args(["import", "--epanet", str(NET3), "--crs", "EPSG:nope",
                      "--out", str(tmp_path / "c.gpkg")])
    with pytest.raises(NetworkError, match="Net3.inp: unknown CRS"):
        a.func(a)
    assert not list(tmp_path.iterdir())


def test_switches_compile_and_survive_a_saved_city(city, ppnet, tmp_path):
    from networks.fragility import AssetModels
    from networks.io import load_city, save_city
    from twin.compile import compile_twin
    from twin.engine import Engine, RunConfig

    t = compile_twin(city)
    sw = t.switches
    open_lines = set(ppnet.switch[(ppnet.switch.et == "l") & ~ppnet.switch.closed].element)
    assert set(sw.ids[sw.normally_open]) == {f"PL:{i}" for i in open_lines}
    # an open tie carries nothing from the start, and every load is still served
    eng = Engine(t, [], AssetModels.defaults(), RunConfig(horizon_h=1.0),
                 np.random.default_rng(0))
    assert not eng.state.up(0.0)[sw.edge[sw.normally_open]].any()
    assert eng.recorder.served_now[0] == pytest.approx(1.0)
    path = save_city(city, tmp_path / "c.gpkg")
    back = compile_twin(load_city(path)).switches
    order = np.argsort(back.ids)
    mine = np.argsort(sw.ids)
    assert list(back.ids[order]) == list(sw.ids[mine])
    assert np.array_equal(back.normally_open[order], sw.normally_open[mine])
    assert np.array_equal(back.kind[order], sw.kind[mine])


def test_flisr_transfers_an_imported_feeder_through_its_open_tie(city):
    """mv_oberrhein: PT:114 lost. Its two feeders' breakers open on loss of voltage; at
    peak load PT:142 (25 MVA for ~31 MW) cannot take a feeder more, so the ties stay
    open; with a larger station there they close and fewer people are without power."""
    from twin.engine import EVENTS
    from twin.run import prepare, run_realization
    from twin.scenario import ScenarioSpec

    doc = {"name": "import flisr", "city": {"path": "unused.gpkg"}, "horizon_h": 48,
           "realizations": 1, "seed": 1, "workers": 1,
           "crews": {"power": 1, "water": 1, "roads": 1},
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["PT:114"], "damage_state": "slight"}]}]}

    def lost(net, healing):  # power service lost (hours) and the switches that closed
        d = dict(doc, self_healing=healing) if healing else doc
        prep = prepare(ScenarioSpec.model_validate(d), net=net, use_cache=False)
        res = run_realization(prep, 0)
        t = np.append(res.times_h, 48.0)
        closed = set()
        if res.ev_state is not None:
            sw = (res.ev_type == EVENTS.index("switched")) & (res.ev_state == 0)
            closed = {str(i) for i in prep.twin.ids[res.ev_comp[sw]]}
        return float(np.sum((1 - res.served[:, 0]) * np.diff(t))), closed

    ties = {f"PL:{i}" for i in (31, 23, 88, 188, 66, 8)}  # the open line switches
    plain, _ = lost(city, None)
    peak, closed = lost(city, {"automated_share": 1.0})
    assert peak == pytest.approx(plain) and not closed & ties
    g = city.graph(NetworkKind.POWER).copy()
    g.nodes["PT:142"]["capacity_mva"] = 100.0
    big = type(city)(city.name, {**city.graphs, NetworkKind.POWER: g}, city.dependencies,
                     city.crs, city.population, city.terrain, city.meta)
    healed, closed = lost(big, {"automated_share": 1.0})
    assert closed & ties
    assert healed < plain
