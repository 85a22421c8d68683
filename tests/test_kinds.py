"""Network kinds as data: five kinds through the twin, the engine, the tables and the plots."""

from __future__ import annotations

import numpy as np
import pytest

from common.names import NETWORKS, SERIES
from networks.kinds import KINDS, kind_spec
from networks.schema import CLASS_SPECS, AssetClass

FIVE = ("power", "water", "roads", "gas", "telecom")


@pytest.fixture(scope="module")
def five():
    from fixtures import five_kind_city

    return five_kind_city()


def test_the_kinds_are_declared_once():
    assert tuple(k.name for k in KINDS) == NETWORKS == FIVE
    assert (*FIVE, "system") == SERIES
    for c in AssetClass:  # every class belongs to a declared kind
        assert CLASS_SPECS[c].network in {k.kind for k in KINDS}
    for k in KINDS:
        assert k.source_classes(), k.name  # something serves each kind
        assert k.edge_classes() and k.consumer_classes(), k.name
    assert kind_spec("gas").source_classes() == (AssetClass.GATE_STATION,)
    assert kind_spec("telecom").source_classes() == (AssetClass.CENTRAL_OFFICE,)


def _engine(net, **scenario):
    from twin.engine import Engine
    from twin.run import prepare, realization_rng
    from twin.scenario import ScenarioSpec

    doc = {"name": "five", "city": {"builtin": {}}, "horizon_h": 48, "realizations": 2,
           # an event after the tests' horizon of interest (a damage map needs one)
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 47, "assets": ["RE00-01"], "damage_state": "slight"}]}],
           "crews": {"power": 1, "water": 1, "roads": 1, "gas": 1, "telecom": 1}, **scenario}
    prep = prepare(ScenarioSpec.model_validate(doc), net=net)
    return Engine(prep.twin, prep.fields, prep.models, prep.config,
                  realization_rng(0, 0)), prep


def test_a_gate_station_failure_takes_out_exactly_the_gas_downstream(five):
    from twin.actions import Fail

    eng, prep = _engine(five, crews={"power": 1, "water": 1, "roads": 1, "gas": 0,
                                     "telecom": 1})
    t = prep.twin
    assert t.kind_names() == FIVE and t.block_nodes.shape == (3, 5)
    eng.run(until=1.0)
    served_before = eng.state.served.copy()
    eng.apply(Fail(assets=("GG",), damage_state="complete"))
    eng.run(until=2.0)
    out = {str(t.ids[i]) for i in np.nonzero((served_before > 0) & (eng.state.served <= 0)
                                              & ~t.is_edge)[0]}
    assert out == {"GG", "RG", "GN1", "GN2"}  # GN3 hangs on the second gate station
    snap = eng.snapshot()
    assert snap.served["gas"] == pytest.approx(300 / 600)  # GN3's 300 of 600 customers
    assert snap.served["power"] == 1.0 and snap.served["telecom"] == 1.0
    # the system: blocks 1 and 2 lost gas, block 3 (300 of 600 people) has everything
    assert snap.served["system"] == pytest.approx(300 / 600)


def test_telecom_rides_a_blackout_on_its_batteries(five):
    from twin.actions import Fail

    eng, prep = _engine(five, crews={"power": 0, "water": 1, "roads": 1, "gas": 1,
                                     "telecom": 1})
    t = prep.twin
    eng.run(until=1.0)
    eng.apply(Fail(assets=("SUB",), damage_state="complete"))  # every power load dark
    eng.run(until=3.0)
    tn = [t.index[x] for x in ("TN1", "TN2", "TN3")]
    # TN3 has no battery: out at once; TN1 and TN2 run 4 h on theirs
    assert list(eng.state.served[tn] > 0) == [True, True, False]
    eng.run(until=6.0)
    assert not (eng.state.served[tn] > 0).any()


def test_a_gas_fired_plant_needs_its_gas(five):
    from twin.actions import Fail

    eng, prep = _engine(five)
    t = prep.twin
    eng.run(until=1.0)
    eng.apply(Fail(assets=("GG2",), damage_state="complete"))
    eng.run(until=1.5)
    assert not eng.state.working[t.index["PP"]]  # no gas from GN3: the plant stops


def test_system_kinds_narrow_the_system_service(five):
    from twin.actions import Fail

    eng, _ = _engine(five, system_kinds=["power", "water"])
    eng.run(until=1.0)
    eng.apply(Fail(assets=("GG",), damage_state="complete"))
    eng.run(until=2.0)
    snap = eng.snapshot()
    assert snap.served["gas"] < 1.0 and snap.served["system"] == 1.0


def test_utility_actions_refuse_a_kind_the_city_lacks(tiny):
    from twin.actions import ActionError, HoldCrews

    eng, _ = _engine(tiny)
    with pytest.raises(ActionError, match="city 'tiny' has no gas network"):
        eng.apply(HoldCrews("gas", 1, 2.0))


def test_a_three_kind_city_has_three_kind_results(tiny):
    from twin.results import build_tables
    from twin.run import prepare, run_monte_carlo
    from twin.scenario import ScenarioSpec

    doc = {"name": "t", "city": {"builtin": {}}, "horizon_h": 24, "realizations": 1,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["SUB"], "damage_state": "moderate"}]}]}
    prep = prepare(ScenarioSpec.model_validate(doc), net=tiny)
    res = run_monte_carlo(prep, workers=1)
    assert res[0].served.shape[1] == 4
    assert not any(n.startswith(("gas", "telecom")) for n in res[0].crew_names)
    tables = build_tables(prep.twin, res, horizon_h=24, output_step_h=1)
    assert set(tables.curves.network) == {"power", "water", "roads", "system"}
    assert not [c for c in tables.loss.columns if "gas" in c or "telecom" in c]


def test_five_kind_results_tables_and_plots(five, tmp_path):
    import json

    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import ScenarioSpec
    from viz.plots import write_run_figures

    doc = {"name": "five", "city": {"builtin": {}}, "horizon_h": 240, "realizations": 3,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["GG", "FL2", "SUB"], "damage_state": "moderate"}]}],
           "crews": {"power": 1, "water": 1, "roads": 1, "gas": 1, "telecom": 1}}
    prep = prepare(ScenarioSpec.model_validate(doc), net=five)
    res = run_monte_carlo(prep, workers=1)
    summary = write_run(tmp_path / "run", prep, res, figures=write_run_figures)
    import pandas as pd

    curves = pd.read_parquet(tmp_path / "run" / "curves.parquet")
    assert list(pd.unique(curves.network)) == [*FIVE, "system"]
    loss = pd.read_parquet(tmp_path / "run" / "loss.parquet")
    assert {f"customer_hours_lost_{k}" for k in FIVE} <= set(loss.columns)
    metrics = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    assert len(metrics) == 3 * 6
    assert set(summary["networks"]) == {*FIVE, "system"}
    assert summary["networks"]["gas"]["customers"] == 600.0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["networks"]["telecom"]
    # every kind lost service, and the crews brought each back
    last = curves[curves.time_h == 240].groupby("network").served_fraction.min()
    first = curves[curves.time_h == 2].groupby("network").served_fraction.max()
    for k in ("power", "gas", "telecom"):
        assert first[k] < 1.0 and last[k] == 1.0, k
    from PIL import Image

    img = Image.open(tmp_path / "run" / "recovery.png")
    assert img.size[0] > img.size[1]  # six panels: three columns, two rows
    ev = pd.read_parquet(tmp_path / "run" / "events.parquet")
    assert {"gas", "telecom"} <= set(ev.network)


def test_a_five_kind_city_round_trips_through_a_geopackage(five, tmp_path):
    from networks.io import load_city, save_city

    p = save_city(five, tmp_path / "five.gpkg")
    back = load_city(p)
    for k in FIVE:
        a, b = five.graph(k), back.graph(k)
        assert set(a.nodes) == set(b.nodes) and a.number_of_edges() == b.number_of_edges()
    assert set(five.dependencies) == set(back.dependencies)
    for k in FIVE:
        np.testing.assert_array_equal(back.population.node_of(k).astype(str),
                                      five.population.node_of(k).astype(str))


def test_replays_follow_the_scenarios_system_kinds(five, tmp_path):
    """With system_kinds [power, water], losing gas leaves the system whole: the
    replay's rebuilt system service agrees with the recorded curve."""
    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import ScenarioSpec
    from viz.rundata import RunData
    from viz.service import block_service, check_against_curves

    doc = {"name": "five", "city": {"builtin": {}}, "horizon_h": 24, "realizations": 1,
           "system_kinds": ["power", "water"],
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["GG"], "damage_state": "complete"}]}],
           "crews": {"power": 1, "water": 1, "roads": 1, "gas": 0, "telecom": 1}}
    prep = prepare(ScenarioSpec.model_validate(doc), net=five)
    write_run(tmp_path / "run", prep, run_monte_carlo(prep, workers=1))
    run = RunData.from_dir(tmp_path / "run")
    bs = block_service(run, 0, np.array([0.5, 2.0, 12.0]))
    assert bs.people_without()[1, FIVE.index("gas")] == 300  # GN1 and GN2's blocks
    assert bs.system_fraction()[1] == 1.0  # gas does not count here
    assert check_against_curves(run, bs, 0) < 1e-9


def test_validate_refuses_an_action_on_a_kind_the_city_lacks(tmp_path):
    import subprocess
    import sys

    import yaml

    doc = {"name": "no gas here", "city": {"builtin": {"scale": 0.3}}, "horizon_h": 24,
           "realizations": 1, "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["P-SUB-001"], "damage_state": "moderate"}]}],
           "interventions": [{"time_h": 2, "action": "hold_crews", "utility": "gas",
                              "count": 1, "duration_h": 3}]}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "twin.cli", "validate", str(p)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    assert "interventions.0: hold_crews.utility: city" in r.stderr
    assert "has no gas network" in r.stderr and len(r.stderr.strip().splitlines()) == 1
