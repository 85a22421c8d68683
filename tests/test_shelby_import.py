"""Shelby County import (networks.importers.shelby, issue 13.3) and its earthquake scenario.

Counts and links are checked against the CSV files read with the csv module, not
against the table reader the importer uses; the downstream set of a gas gate
station is computed with networkx on the gas graph.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import yaml

from networks.schema import DependencyKind, NetworkKind

ROOT = Path(__file__).resolve().parents[1]
CSV_DIR = ROOT / "data" / "shelby" / "Extended_Shelby_County"
PROB_DIR = ROOT / "data" / "shelby" / "INDP_2015_failure_probabilities"
SCENARIO = ROOT / "scenarios" / "shelby_earthquake.yaml"
CITY = ROOT / "data" / "cities" / "shelby" / "shelby.gpkg"
STEM = {"power": "Power", "water": "Water", "gas": "Gas", "telecom": "Telecommunication"}
PREFIX = {"power": "P", "water": "W", "gas": "G", "telecom": "T"}
BY_STEM = {v: k for k, v in STEM.items()}


@pytest.fixture(scope="module")
def city():
    from networks.importers.shelby import from_shelby

    return from_shelby(CSV_DIR)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(f)]


def _arc_ids(g: nx.Graph) -> set[str]:
    return {eid for _, _, eid in g.edges(data="id")}


# ------------------------------------------------------------------------------ network


def test_node_and_arc_counts_match_the_csvs(city):
    for net, stem in STEM.items():
        g = city.graph(net)
        nodes = _rows(CSV_DIR / f"{stem}Nodes.csv")
        arcs = _rows(CSV_DIR / f"{stem}Arcs.csv")
        p = PREFIX[net]
        # every CSV node and arc is an asset, with the CSV ID in its id
        assert {n for n in g if "~" not in n} == {f"{p}:{r['ID']}" for r in nodes}
        assert {e for e in _arc_ids(g) if "~" not in e} == {f"{p}A:{r['ID']}" for r in arcs}
        for r in arcs:  # each arc joins the CSV's ends (a split arc through its mid node)
            u, v = f"{p}:{r['Start Node']}", f"{p}:{r['End Node']}"
            eid = f"{p}A:{r['ID']}"
            assert g.has_edge(u, v) and g.edges[u, v]["id"] == eid or (
                g.has_edge(u, f"{eid}~mid") and g.has_edge(f"{eid}~mid", v)), eid
    # the one parallel pair of the data (power 40 and 41, both 5-64) keeps both circuits
    pg = city.graph("power")
    assert pg.number_of_nodes() == 75 + 1 and pg.number_of_edges() == 93 + 1
    assert pg.edges["P:5", "P:64"]["id"] == "PA:40"
    assert pg.edges["PA:41~mid", "P:64"]["id"] == "PA:41~2"
    assert city.meta["shelby"]["rules"]["parallel_arcs"] == {"power": ["PA:41"]}
    assert city.graph("roads").number_of_nodes() > 0  # the grid proxy, so crews can travel


def test_classes_units_and_customers_follow_the_rules(city):
    rules = city.meta["shelby"]["rules"]
    for net, stem in STEM.items():
        g = city.graph(net)
        for r in _rows(CSV_DIR / f"{stem}Nodes.csv"):
            a = g.nodes[f"{PREFIX[net]}:{r['ID']}"]
            b = float(r["Demand"])
            if net == "telecom" and b < 0:
                assert a["asset_class"] == "central_office"
            else:
                assert a["asset_class"] == rules["node_classes"][net][r["Node Type"]]
            cap = a.get("capacity_mw", a.get("capacity_m3h"))
            if cap is not None:
                assert cap == pytest.approx(b)
            demand = a.get("demand_mw", a.get("demand_m3h"))
            if demand is not None:
                assert demand == pytest.approx(-b)
            if "customers" in a:
                assert a["customers"] == float(r["population"])
    # one central office: telecom node 9, the only sink of the inverted telecom Demand
    offices = [n for n, a in city.graph("telecom").nodes(data=True)
               if a["asset_class"] == "central_office"]
    assert offices == ["T:9"]
    # tanks deliver their supply rate (volume / storage_h) for storage_h hours
    for _, a in city.graph("water").nodes(data=True):
        if a["asset_class"] == "tank":
            assert a["volume_m3"] / a["storage_h"] > 0
    # population blocks: one per power load, the county's census population
    pop = city.population
    loads = [n for n, a in city.graph("power").nodes(data=True) if a["asset_class"] == "power_load"]
    assert len(pop) == len(loads) == 42
    assert pop.population.sum() == pytest.approx(924339)
    for kind in (NetworkKind.WATER, NetworkKind.GAS, NetworkKind.TELECOM, NetworkKind.ROADS):
        assert all(n in city.graph(kind) for n in pop.node_of(kind))


def test_every_interdependency_is_a_dependency(city):
    rows = _rows(CSV_DIR / "Interdep.csv")
    assert len(rows) == 73
    kind = {("power", "Physical"): DependencyKind.POWER_SUPPLY,
            ("water", "Physical"): DependencyKind.COOLING_WATER,
            ("gas", "Physical"): DependencyKind.GAS_SUPPLY,
            ("telecom", "Cyber"): DependencyKind.COMMUNICATION}
    deps = {(d.dependent, d.supplier, d.kind) for d in city.dependencies}
    for r in rows:
        dependee, depender = BY_STEM[r["Dependee Network"]], BY_STEM[r["Depender Network"]]
        want = (f"{PREFIX[depender]}:{r['Depender Node']}", f"{PREFIX[dependee]}:"
                f"{r['Dependee Node']}", kind[dependee, r["Type"]])
        assert want in deps, r
    functional = [d for d in city.dependencies if d.kind != DependencyKind.ROAD_ACCESS]
    assert len(functional) == 73  # nothing added by proximity: the data gives them all
    # every asset reaches the road proxy
    road = {d.dependent for d in city.dependencies if d.kind == DependencyKind.ROAD_ACCESS}
    for net in STEM:
        assert set(city.graph(net)) <= road


def _engine(net):
    from twin.engine import Engine
    from twin.run import prepare, realization_rng
    from twin.scenario import ScenarioSpec

    doc = {"name": "shelby", "city": {"builtin": {}}, "horizon_h": 48, "realizations": 1,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 47, "assets": ["RX:0_0"], "damage_state": "slight"}]}],
           "crews": {"power": 0, "water": 0, "roads": 0, "gas": 0, "telecom": 0}}
    prep = prepare(ScenarioSpec.model_validate(doc), net=net, use_cache=False)
    return Engine(prep.twin, prep.fields, prep.models, prep.config, realization_rng(0, 0)), prep


@pytest.mark.parametrize("gate", ["G:0", "G:1", "G:2"])
def test_a_gate_station_failure_takes_out_exactly_the_gas_downstream(city, gate):
    from twin.actions import Fail

    eng, prep = _engine(city)
    t = prep.twin
    eng.run(until=1.0)
    before = eng.state.served.copy()
    assert (before[~t.is_edge] > 0).all()  # the intact city serves every node
    eng.apply(Fail(assets=(gate,), damage_state="complete"))
    eng.run(until=2.0)
    out = {str(t.ids[i]) for i in np.nonzero((before > 0) & (eng.state.served <= 0)
                                              & ~t.is_edge)[0]}
    # expected: the gate and every gas node no longer joined to another gate station
    g = city.graph("gas")
    h = g.copy()
    h.remove_node(gate)
    gates = [n for n, a in g.nodes(data=True) if a["asset_class"] == "gate_station"]
    fed = set().union(*(nx.node_connected_component(h, o) for o in gates if o != gate))
    downstream = {gate} | (set(h) - fed)
    assert {n for n in out if n.startswith("G:")} == downstream
    # and, through Interdep.csv, the power plants burning that gas (gas_supply), then the
    # telecom nodes those plants power; the rest of the power grid still has sources
    deps = city.dependencies
    plants = {d.dependent for d in deps
              if d.kind == DependencyKind.GAS_SUPPLY and d.supplier in downstream}
    powered = {d.dependent for d in deps
               if d.kind == DependencyKind.POWER_SUPPLY and d.supplier in plants}
    assert out - downstream == plants | powered
    if gate == "G:0":  # the west gate feeds regulator 3 and node 9, which fuel P:2 and P:0
        assert downstream == {"G:0", "G:3", "G:9"} and plants == {"P:0", "P:2"}


# ---------------------------------------------------------------------------------- CLI


def test_import_cli_writes_a_city_that_loads(tmp_path, capsys):
    from networks.io import load_city
    from twin.cli import main

    out = tmp_path / "shelby.gpkg"
    assert main(["import", "--shelby", str(CSV_DIR), "--out", str(out)]) == 0
    assert "telecom 27 nodes/36 edges" in capsys.readouterr().out
    c = load_city(out)
    assert c.crs == "EPSG:32616"
    assert {k: c.graph(k).number_of_nodes() for k in STEM} == {
        "power": 76, "water": 49, "gas": 16, "telecom": 27}
    assert len([d for d in c.dependencies if d.kind != DependencyKind.ROAD_ACCESS]) == 73
    assert c.meta["shelby"]["rules"]["node_classes"]["gas"]["Regulator Station"] == "gas_node"
    assert len(c.population) == 42


def test_import_cli_attaches_a_dem(tmp_path):
    from networks.io import load_city
    from twin.cli import main

    dem = ROOT / "data" / "dem" / "SRTMGL3_40.09_-105.55_40.21_-105.35.asc"
    out = tmp_path / "shelby.gpkg"
    assert main(["import", "--shelby", str(CSV_DIR), "--dem", str(dem), "--out", str(out)]) == 0
    assert (tmp_path / "shelby_dem.tif").is_file()
    assert load_city(out).terrain is not None


def _broken_copy(tmp_path: Path) -> Path:
    d = tmp_path / "shelby"
    shutil.copytree(CSV_DIR, d)
    return d


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("GasNodes.csv", "3,Regulator Station,-89.98803481", "3,Regulator Station,abc",
     "GasNodes.csv, row 4 (line 5), field 'X': 'abc' is not a number"),
    ("WaterArcs.csv", "0,30773.49646,9.380,0,16,", "0,30773.49646,9.380,0,99,",
     "WaterArcs.csv, row 1 (line 2), field 'End Node'"),
    ("PowerNodes.csv", "Intersections point", "Windmill",
     "PowerNodes.csv, row 52 (line 53), field 'Node Type': unknown Node Type 'Windmill'"),
    ("Interdep.csv", "Telecommunication,Power,Cyber", "Telecommunication,Power,Social",
     "Interdep.csv, row"),
])
def test_a_broken_csv_is_one_line_and_exit_2(tmp_path, capsys, file, old, new, message):
    from twin.cli import main

    d = _broken_copy(tmp_path)
    p = d / file
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "x.gpkg"
    assert main(["import", "--shelby", str(d), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("twin: error:"), err
    assert message in err
    assert not out.exists()


def test_shelby_stands_alone_and_a_missing_folder_is_one_line(tmp_path, capsys):
    from twin.cli import main

    assert main(["import", "--shelby", str(CSV_DIR), "--epanet", "x.inp",
                 "--out", str(tmp_path / "x.gpkg")]) == 2
    assert "do not combine" in capsys.readouterr().err
    assert main(["import", "--shelby", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "x.gpkg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not a folder" in err


# ---------------------------------------------------------------------------- earthquake


def _events() -> pd.DataFrame:
    doc = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    (hz,) = doc["hazards"]
    return doc, pd.DataFrame([(e["assets"][0], e["probability"], e["damage_state"], e["time_h"])
                              for e in hz["events"]], columns=["asset", "p", "ds", "time_h"])


def test_the_scenario_probabilities_are_the_generators(city):
    """Every probability of the scenario is a row of the CSV and what the generator computes:
    water and gas from probM8 (2015 number = CSV ID + 1), power and telecom stand-ins."""
    from networks.importers.shelby import nearest_stand_in
    from networks.importers.shelby_tables import (
        probabilities_by_csv_id,
        read_failure_probabilities,
        read_shelby_tables,
    )

    tables = read_shelby_tables(CSV_DIR)
    probs = read_failure_probabilities(PROB_DIR / "probM8.txt")
    fresh = nearest_stand_in(city, tables, probs)
    shipped = pd.read_csv(ROOT / "data" / "shelby" / "earthquake_M8_probabilities.csv")
    assert list(shipped["asset"]) == list(fresh["asset"])
    np.testing.assert_allclose(shipped["p"], fresh["p"], rtol=1e-5)
    assert list(shipped["basis"]) == list(fresh["basis"])
    doc, ev = _events()
    assert doc["horizon_h"] == 720 and doc["realizations"] >= 10
    assert list(ev["asset"]) == list(shipped["asset"])
    np.testing.assert_allclose(ev["p"], shipped["p"], rtol=1e-5)
    assert set(ev["time_h"]) == {0}
    # water and gas: the 2015 values themselves
    for net, p in (("water", "W"), ("gas", "G")):
        nodes, arcs = probabilities_by_csv_id(probs, tables, net)
        got = shipped.set_index("asset")["p"]
        for i, v in nodes.items():
            assert got[f"{p}:{i}"] == pytest.approx(v, rel=1e-5)
        for i, v in arcs.items():
            assert got[f"{p}A:{i}"] == pytest.approx(v, rel=1e-5)
    # stand-ins only where the 2015 files have nothing, and they say so
    stand = shipped[shipped["stand_in"]]
    assert set(stand["network"]) == {"power", "telecom"}
    assert stand["basis"].str.startswith("stand-in").all()
    assert not shipped[~shipped["stand_in"]]["network"].isin(["power", "telecom"]).any()
    assert ((shipped["p"] > 0) & (shipped["p"] < 1)).all()
    # an arc's stand-in uses the nearest pipe's rate per km, so it follows its length
    pa = shipped[(shipped["network"] == "power") & (shipped["element"] == "arc")]
    assert len(pa) == 93
    assert "STAND-IN" in SCENARIO.read_text(encoding="utf-8")


def test_the_shipped_city_is_the_import(city):
    from networks.io import load_city

    shipped = load_city(CITY)
    for k in STEM:
        assert set(shipped.graph(k)) == set(city.graph(k))
        assert _arc_ids(shipped.graph(k)) == _arc_ids(city.graph(k))
    assert set(shipped.dependencies) == set(city.dependencies)


def test_the_shelby_scenario_runs_end_to_end(tmp_path, capsys):
    from twin.cli import main

    out = tmp_path / "run"
    assert main(["validate", str(SCENARIO)]) == 0
    assert main(["run", str(SCENARIO), "--out", str(out), "-n", "2", "-w", "1", "-q",
                 "--no-cache"]) == 0
    curves = pd.read_parquet(out / "curves.parquet")
    assert set(curves["network"]) == {"power", "water", "roads", "gas", "telecom", "system"}
    assert (out / "recovery.png").is_file()
    first = curves[curves["time_h"] == 0].set_index(["realization", "network"])["served_fraction"]
    assert (first.xs("power", level="network") < 1).all()  # the earthquake hits at t = 0
    events = pd.read_parquet(out / "events.parquet")
    assert {"damaged", "restored", "cascade_failed"} <= set(events["event"])
