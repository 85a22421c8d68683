"""The scenario's ``service`` block reaches the engine, and its counters the run's metadata."""

from __future__ import annotations

import json

import numpy as np
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


def test_the_engine_recomputes_when_a_tank_runs_dry_between_events():
    """Pressure-driven water: the tank drains by the hydraulics; the engine must look
    again when it reaches its minimum level, not wait for the next event."""
    from twin.actions import Fail
    from twin.engine import Engine
    from twin.run import prepare, realization_rng

    spec = _spec({"water": "pressure_driven"}).model_copy(update={"horizon_h": 96.0})
    prep = prepare(spec, net=_city(), use_cache=False)
    cfg = prep.config.__class__(**{**prep.config.__dict__, "crews": (0, 0, 0, 0, 0),
                                   "interventions": ()})
    eng = Engine(prep.twin, [], prep.models, cfg, realization_rng(1, 0))
    eng.run(until=1.0)
    eng.apply(Fail(assets=("TP",), damage_state="complete"))  # the tank feeds the zone
    eng.run(until=1.0 + 1e-6)
    dry_at = eng.service.next_change_h()
    assert 1.0 < dry_at < 96.0
    eng.run()
    t = eng.result().times_h
    assert np.any(np.abs(t - dry_at) < 1e-6)  # service was recomputed when it ran dry


def test_a_shed_load_cuts_what_depends_on_it():
    """The power flow sheds LB and LC on the overloaded feeder; the treatment plant (on
    LB) and the pump (on LC) lose their supply, as they would if the feeder were cut."""
    from twin.engine import EV, Engine
    from twin.run import prepare, realization_rng

    prep = prepare(_spec({"power": "powerflow"}), net=_city(), use_cache=False)
    eng = Engine(prep.twin, prep.fields, prep.models, prep.config, realization_rng(1, 0))
    eng.run(until=0.5)
    t = prep.twin
    for a in ("TP", "PS"):
        assert not eng.state.working[t.index[a]], a
    assert eng.service.stats["physics_cascades"] >= 2
    topo = prepare(_spec(None), net=_city(), use_cache=False)
    eng0 = Engine(topo.twin, topo.fields, topo.models, topo.config, realization_rng(1, 0))
    eng0.run(until=0.5)
    assert eng0.state.working[t.index["TP"]]  # by connectivity the feeder serves them
    res = eng.result()
    cascaded = {str(t.ids[c]) for c, e in zip(res.ev_comp, res.ev_type, strict=True)
                if e == EV["cascade_failed"]}
    assert {"TP", "PS"} <= cascaded
