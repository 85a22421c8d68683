"""The simpy engine: determinism, drills (pause / inject / continue), crews, cascades, storage."""

import numpy as np
import pytest

from twin.engine import Engine, RunConfig
from twin.run import prepare, realization_rng, run_monte_carlo
from twin.scenario import ScenarioSpec


def _spec(**kw):
    doc = {"name": "t", "city": {"builtin": {}}, "horizon_h": 96, "realizations": 3,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["SUB", "P2", "RE10-20"], "damage_state": "moderate"},
               {"time_h": 2, "area": {"circle": [300, 100, 60]}, "damage_state": "slight",
                "probability": 0.5}]}],
           "crews": {"power": 1, "water": 1, "roads": 1}}
    doc.update(kw)
    return ScenarioSpec.model_validate(doc)


def _engine(tiny, spec, r=0):
    prep = prepare(spec, net=tiny)
    return Engine(prep.twin, prep.fields, prep.models, prep.config,
                  realization_rng(spec.seed, r)), prep


def _same(a, b):
    for f in ("times_h", "served", "cost_times_h", "cost_usd", "ev_time_h", "ev_comp",
              "ev_type", "ev_crew"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f


def test_same_seed_same_bytes_in_loop_and_pool(tiny):
    prep = prepare(_spec(), net=tiny)
    loop = run_monte_carlo(prep, workers=1)
    again = run_monte_carlo(prep, workers=1)
    pool = run_monte_carlo(prep, workers=2)
    for a, b, c in zip(loop, again, pool, strict=True):
        _same(a, b)
        _same(a, c)
    # realizations differ from each other (probabilistic damage, random repair times)
    assert loop[0].times_h.tobytes() != loop[1].times_h.tobytes()


def test_different_seed_differs(tiny):
    a = run_monte_carlo(prepare(_spec(seed=1), net=tiny), workers=1)[0]
    b = run_monte_carlo(prepare(_spec(seed=2), net=tiny), workers=1)[0]
    assert a.ev_time_h.tobytes() != b.ev_time_h.tobytes()


def test_damage_cascades_and_recovers(tiny):
    eng, prep = _engine(tiny, _spec(horizon_h=24 * 30))
    eng.run(until=1.5)
    snap = eng.snapshot()
    assert snap.served["power"] == 0.0  # SUB out: all dark
    assert 0 < snap.served["water"] < 1  # pumps and treatment dark, the tank still feeds
    assert {"SUB", "P2", "RE10-20"} <= set(snap.damaged)
    eng.run(until=8.0)  # the 6-h tank ran dry at t = 7
    assert eng.snapshot().served["water"] == 0.0
    eng.run()
    res = eng.result()
    assert res.served[-1] == pytest.approx([1, 1, 1, 1])
    ev = {(prep.twin.ids[c], y) for c, y in zip(res.ev_comp, res.ev_type, strict=True)}
    from twin.engine import EV
    assert ("TP", EV["cascade_failed"]) in ev and ("PS", EV["cascade_failed"]) in ev
    assert ("SUB", EV["restored"]) in ev
    # the tank's dry spell is in the events (the views read it, not the storage rule)
    tank = {EV["ran_dry"]: [], EV["refilled"]: []}
    for c, y, tm in zip(res.ev_comp, res.ev_type, res.ev_time_h, strict=True):
        if prep.twin.ids[c] == "T1" and y in tank:
            tank[y].append(float(tm))
    assert tank[EV["ran_dry"]] == [pytest.approx(7.0)]
    assert all(tm > 7.0 for tm in tank[EV["refilled"]])


def test_a_repair_inside_an_outage_is_logged_as_still_out(tiny):
    """A flooded substation repaired while its outage lasts stays out of function, and
    its events say so (restored, then outage, at the same time; restored at its end)."""
    from twin.engine import EV

    eng, prep = _engine(tiny, _spec(horizon_h=200))
    t = prep.twin
    sub = t.index["SUB"]
    eng.run(until=1.5)
    eng.state.outage_until[sub] = 500.0  # as if still flooded until after the repair
    eng.run()
    res = eng.result()
    ev = [(int(y), float(tm)) for c, y, tm in zip(res.ev_comp, res.ev_type, res.ev_time_h,
                                                   strict=True) if c == sub]
    done = [tm for y, tm in ev if y == EV["restored"]]
    assert done and (EV["outage"], done[0]) in ev  # repaired, and still out


def test_step_by_step_drill_inject_and_continue(tiny):
    spec = _spec(horizon_h=200)
    base, _ = _engine(tiny, spec)
    base.run()
    eng, _ = _engine(tiny, spec)
    eng.run(until=50)
    before = eng.snapshot()
    eng.fail("TP", "complete")  # a planner injects the loss of the treatment plant
    eng.hold_crews("water", 1, 48.0)
    assert "TP" in eng.snapshot().damaged
    eng.run()
    a, b = base.result(), eng.result()
    assert before.time_h == 50
    # same history up to the injection, worse water service after it
    k = np.searchsorted(a.times_h, 50, side="right")
    assert np.array_equal(a.served[:k], b.served[:k])
    la = np.trapezoid(a.served[:, 1], a.times_h)
    lb = np.trapezoid(b.served[:, 1], b.times_h)
    assert lb < la


def test_held_crews_delay_repairs(tiny):
    free = run_monte_carlo(prepare(_spec(horizon_h=300), net=tiny), workers=1)[0]
    held = run_monte_carlo(prepare(_spec(horizon_h=300, interventions=[
        {"time_h": 0, "action": "hold_crews", "utility": "power", "count": 1,
         "duration_h": 48}]), net=tiny), workers=1)[0]
    from twin.engine import EV

    def first_power_dispatch(res):
        return min(t for t, y, w in zip(res.ev_time_h, res.ev_type, res.ev_crew, strict=True)
                   if y == EV["crew_dispatched"] and res.crew_names[w].startswith("power"))

    assert first_power_dispatch(free) == pytest.approx(1.0)
    assert first_power_dispatch(held) == pytest.approx(48.0)


def test_crews_route_around_blocked_roads(tiny):
    from twin.compile import compile_twin
    from twin.kernels.routing import travel_times

    t = compile_twin(tiny)
    passable = np.ones(t.n, bool)
    d0 = travel_times(t.index["R0_0"], passable, t.travel_h, t.adj_indptr, t.adj_node,
                      t.adj_edge, np.zeros(t.n, bool), 0)
    assert d0[t.index["R4_0"]] == pytest.approx(400 / 1000 / 30)
    passable[t.index["RE10-20"]] = False  # block the direct street: detour via row 1
    d1 = travel_times(t.index["R0_0"], passable, t.travel_h, t.adj_indptr, t.adj_node,
                      t.adj_edge, np.zeros(t.n, bool), 0)
    assert d1[t.index["R4_0"]] == pytest.approx(600 / 1000 / 30)
    passable[t.index["R2_0"]] = False  # a blocked node is reachable to its doorstep only
    passable[[t.index["RE20-21"], t.index["RE11-21"], t.index["RE21-31"]]] = False
    d2 = travel_times(t.index["R0_0"], passable, t.travel_h, t.adj_indptr, t.adj_node,
                      t.adj_edge, np.zeros(t.n, bool), 0)
    assert np.isfinite(d2[t.index["R2_0"]]) and np.isfinite(d2[t.index["R4_0"]])
    # stopping once the targets are settled gives them the same (final) times
    tgt = np.zeros(t.n, bool)
    tgt[[t.index["R2_0"], t.index["R1_1"]]] = True
    d3 = travel_times(t.index["R0_0"], passable, t.travel_h, t.adj_indptr, t.adj_node,
                      t.adj_edge, tgt, 2)
    assert d3[t.index["R2_0"]] == d2[t.index["R2_0"]] and d3[t.index["R1_1"]] == d2[
        t.index["R1_1"]]
    assert np.isinf(d3[t.index["R4_4"]])  # not searched that far


def test_tank_keeps_water_for_its_storage_then_runs_dry(tiny):
    spec = _spec(horizon_h=40, hazards=[{"type": "damage_map", "events": [
        {"time_h": 1, "assets": ["P1"], "damage_state": "complete"}]}],
        crews={"power": 0, "water": 0, "roads": 0})
    eng, prep = _engine(tiny, spec)
    eng.run(until=2)
    q_early = eng.snapshot().served["water"]
    eng.run(until=10)  # storage_h = 6 h: the tank is empty by t = 7
    q_late = eng.snapshot().served["water"]
    assert q_early > 0.5 and q_late == 0.0
    res = eng.result()
    drop = res.times_h[np.nonzero(res.served[:, 1] == 0)[0][0]]
    assert drop == pytest.approx(7.0)


def test_backup_power_keeps_pump_running_for_its_fuel(tiny):
    # LC feeds the pump; with 10 h of generator fuel the pump runs until t = 11
    spec = _spec(horizon_h=40, hazards=[{"type": "damage_map", "events": [
        {"time_h": 1, "assets": ["LC", "P6"], "damage_state": "complete"}]}],
        crews={"power": 0, "water": 0, "roads": 0},
        interventions=[{"time_h": 0, "action": "backup_power", "assets": ["PS"], "hours": 10}])
    eng, prep = _engine(tiny, spec)
    eng.run(until=5)
    assert eng.snapshot().served["water"] == 1.0
    eng.run(until=12)
    assert eng.snapshot().served["water"] == 0.0


@pytest.mark.parametrize("policy", ["critical_first", "customers_per_crew_hour",
                                    "nearest_first"])
def test_every_policy_restores_everything(tiny, policy):
    res = run_monte_carlo(prepare(_spec(horizon_h=24 * 40, policy=policy), net=tiny),
                          workers=1)
    for r in res:
        assert r.served[-1] == pytest.approx([1, 1, 1, 1])


def test_policies_order_jobs_differently(tiny):
    spec = dict(horizon_h=24 * 40, crews={"power": 1, "water": 1, "roads": 1},
                hazards=[{"type": "damage_map", "events": [
                    {"time_h": 1, "assets": ["F2", "F3", "F4", "SUB"],
                     "damage_state": "slight"}]}])
    from twin.engine import EV

    def order(policy):
        prep = prepare(_spec(policy=policy, **spec), net=tiny)
        r = run_monte_carlo(prep, workers=1)[0]
        return [prep.twin.ids[c] for c, y in zip(r.ev_comp, r.ev_type, strict=True)
                if y == EV["crew_dispatched"] and prep.twin.network[c] == 0]

    crit = order("critical_first")
    assert crit[0] == "SUB"  # the substation before the feeders
    assert order("customers_per_crew_hour") != order("nearest_first") or crit != order(
        "nearest_first")


def test_engine_config_is_hours(tiny):
    eng, _ = _engine(tiny, _spec())
    assert isinstance(eng.config, RunConfig) and eng.now == 0.0


def test_prepositioned_crews_start_at_once_from_their_staging_node(tiny):
    base = dict(horizon_h=200, crews={"power": 1, "water": 1, "roads": 1, "mobilisation_h": 12})
    late = run_monte_carlo(prepare(_spec(**base), net=tiny), workers=1)[0]
    staged = run_monte_carlo(prepare(_spec(**base, interventions=[
        {"time_h": 0, "action": "preposition", "utility": "power", "count": 1,
         "assets": ["R2_3"]}]), net=tiny), workers=1)[0]
    from twin.engine import EV

    def first(res, who):
        return min(t for t, y, w in zip(res.ev_time_h, res.ev_type, res.ev_crew, strict=True)
                   if y == EV["crew_dispatched"] and res.crew_names[w].startswith(who))

    assert first(late, "power") == pytest.approx(13.0)  # damage at 1 h + 12 h mobilisation
    assert first(staged, "power") == pytest.approx(1.0)
    assert first(staged, "water") == pytest.approx(13.0)  # only the staged utility


def test_damaged_asset_is_repaired_once_dry_even_after_the_hazard_ends(tiny):
    """A flooded-and-damaged substation waits for the water to recede, then a crew comes."""
    from hazards.base import HazardField, IntensityMeasure

    spec = _spec(horizon_h=24 * 60, hazards=[{"type": "damage_map", "events": [
        {"time_h": 0.5, "assets": ["LA"], "damage_state": "slight"}]}])
    prep = prepare(spec, net=tiny)
    t = prep.twin
    depth = np.zeros((3, t.n), np.float32)
    depth[0:2, t.index["SUB"]] = 0.7  # water at t = 1 and 2 h, dry at 3 h
    # the hazard's last step is at 3 h; the only crew is busy on LA for hours, so the
    # substation is repaired after the hazard ended
    flood = HazardField(np.array([1.0, 2.0, 3.0]), {IntensityMeasure.FLOOD_DEPTH_M: depth})
    eng = Engine(t, (*prep.fields, flood), prep.models, prep.config, realization_rng(0, 0))
    eng.run()
    res = eng.result()
    from twin.engine import EV
    sub = t.index["SUB"]
    kinds = [EV_name for c, y in zip(res.ev_comp, res.ev_type, strict=True) if c == sub
             for EV_name in [y]]
    assert EV["damaged"] in kinds  # 0.7 m at a substation: above the moderate median
    disp = [tt for c, y, tt in zip(res.ev_comp, res.ev_type, res.ev_time_h, strict=True)
            if c == sub and y == EV["crew_dispatched"]]
    assert disp and disp[0] >= 3.0  # not while under water, and not never
    assert EV["restored"] in kinds
    assert res.served[-1, 0] == pytest.approx(1.0)


def test_outages_end_when_the_hazard_field_ends(tiny):
    """A road still under water in the field's last frame reopens one step later."""
    from hazards.base import HazardField, IntensityMeasure

    spec = _spec(horizon_h=48, hazards=[{"type": "damage_map", "events": [
        {"time_h": 0.5, "assets": ["LA"], "damage_state": "slight"}]}])
    prep = prepare(spec, net=tiny)
    t = prep.twin
    depth = np.zeros((3, t.n), np.float32)
    depth[1:, t.index["RE10-20"]] = 0.5  # closed at 2 h and still at the last frame (3 h)
    flood = HazardField(np.array([1.0, 2.0, 3.0]), {IntensityMeasure.FLOOD_DEPTH_M: depth})
    eng = Engine(t, (*prep.fields, flood), prep.models, prep.config, realization_rng(0, 0))
    eng.run(until=3.5)
    assert eng.state.outage_until[t.index["RE10-20"]] == np.inf
    eng.run(until=4.5)  # field over at 3 h + one 1-h step; roads reopen without delay
    assert eng.state.outage_until[t.index["RE10-20"]] == pytest.approx(4.0)
    assert eng._up()[t.index["RE10-20"]]
