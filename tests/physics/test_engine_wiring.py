"""The scenario's ``service`` block reaches the engine, and its counters the run's metadata."""

from __future__ import annotations

import json

import pytest

from networks.schema import NetworkKind


def _spec(service: dict | None):
    from twin.scenario import ScenarioSpec

    doc = {"name": "physics wiring", "city": {"path": "unused.gpkg"}, "horizon_h": 24,
           "realizations": 1, "seed": 1, "workers": 1,
           "crews": {"power": 1, "water": 1, "roads": 1},
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 2, "assets": ["P3"], "damage_state": "extensive"}]}]}
    if service is not None:
        doc["service"] = service
    return ScenarioSpec.model_validate(doc)


def _city():
    from fixtures import tiny_city

    city = tiny_city()
    # the feeder head carries three 1 MW loads but is rated for about one
    city.graphs[NetworkKind.POWER].edges["SUB", "D1"]["max_i_ka"] = 0.1
    return city


def test_a_run_with_physics_sheds_load_and_reports_its_islands(tmp_path):
    from twin.run import prepare, run_realization, write_run

    topo = run_realization(prepare(_spec(None), net=_city(), use_cache=False), 0)
    prep = prepare(_spec({"power": "powerflow", "water": "pressure_driven"}), net=_city(),
                   use_cache=False)
    res = run_realization(prep, 0)
    assert topo.served[0, 0] == pytest.approx(1.0)
    # only the critical load LA (100 of 600 customers) is kept on the overloaded feeder
    assert res.served[0, 0] == pytest.approx(100 / 600)
    stats = res.extra["service"]
    assert stats["power_solves"] >= 1 and stats["water_solves"] >= 1
    assert stats["power_fallbacks"] == 0 and stats["water_fallbacks"] == 0
    assert "service" not in topo.extra
    summary = write_run(tmp_path / "run", prep, [res])
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["service"] == summary["service"]
    assert saved["service"]["power"] == "powerflow"
    assert saved["service"]["power_shed_loads"] == stats["power_shed_loads"] > 0


def test_a_fork_keeps_the_service_model():
    from twin.engine import Engine
    from twin.run import prepare, realization_rng

    prep = prepare(_spec({"power": "powerflow"}), net=_city(), use_cache=False)
    eng = Engine(prep.twin, prep.fields, prep.models, prep.config, realization_rng(1, 0))
    eng.run(until=4)
    other = eng.fork()
    assert other.config.service.power == "powerflow"
    assert other.snapshot().served["power"] == pytest.approx(eng.snapshot().served["power"])
