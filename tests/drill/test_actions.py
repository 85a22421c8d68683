"""Typed actions: each is validated with a one-line message, and each does what it says."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from common.errors import InputError
from twin.actions import (
    ACTIONS,
    ActionError,
    Area,
    BackupPower,
    CloseRoad,
    Decision,
    Deenergise,
    Fail,
    HoldCrews,
    MutualAid,
    OpenRoad,
    Pin,
    Preposition,
    Reenergise,
    Refuel,
    ReleaseCrews,
    SetPolicy,
    action_from_record,
)
from twin.engine import EV

#: a damage map that damages nothing (LA slightly, at the horizon)
QUIET = [{"type": "damage_map", "events": [{"time_h": 95, "assets": ["LA"],
                                           "damage_state": "slight"}]}]


def test_every_action_has_a_handler_and_round_trips_as_a_record():
    from twin.action_handlers import HANDLERS

    assert set(HANDLERS) == set(ACTIONS.values())
    samples = [Fail(("SUB",), "moderate"), Fail(area=Area("circle", (1.0, 2.0, 3.0)),
                                               asset_classes=("pipe",)),
               HoldCrews("water", 1, 5.0), ReleaseCrews("water"), MutualAid("power", 2, ("R2_2",),
                                                                          3.0),
               Pin(("F2", "F3")), SetPolicy("nearest_first"), BackupPower(("PS",), 4.0),
               Refuel(("PS",), 2.0), CloseRoad(("RE00-10",)), OpenRoad(("RE00-10",)),
               Deenergise(("F2",)), Reenergise(("F2",)), Preposition("roads", 1, ("R1_1",))]
    assert {type(a) for a in samples} == set(ACTIONS.values())
    for a in samples:
        d = Decision(7.5, a)
        assert Decision.from_record(d.to_record()) == Decision(7.5, a, "scenario")


@pytest.mark.parametrize("record, message", [
    ({"action": "hold_crew", "utility": "water", "count": 1, "duration_h": 2},
     "unknown action 'hold_crew' (did you mean 'hold_crews'?)"),
    ({"action": "fail", "assets": ["SUB"], "damage_state": "ruined"},
     "fail.damage_state: unknown damage state 'ruined' (allowed: slight, moderate, extensive, "
     "complete)"),
    ({"action": "hold_crews", "utility": "sewer", "count": 1, "duration_h": 2},
     "hold_crews.utility: unknown utility 'sewer' (allowed: power, water, roads, gas, "
     "telecom)"),
    ({"action": "hold_crews", "utility": "water", "count": 0, "duration_h": 2},
     "hold_crews.count: must be a whole number >= 1 (got 0)"),
    ({"action": "hold_crews", "utility": "water", "count": 1, "duration_h": float("nan")},
     "hold_crews.duration_h: must be a finite number of hours > 0"),
    ({"action": "hold_crews", "utility": "water", "count": 1},
     "hold_crews: needs duration_h"),
    ({"action": "backup_power", "assets": ["PS"], "hour": 3},
     "backup_power: field 'hour' does not apply to backup_power (did you mean 'hours'?)"),
    ({"action": "set_policy", "policy": "nearest"},
     "set_policy.policy: unknown policy 'nearest' (did you mean 'nearest_first'?)"),
    ({"action": "fail", "area": {"circle": [0, 0, -5]}}, "fail.area: circle [0, 0, -5] is empty"),
    ({"action": "fail"}, "fail: give either assets or an area"),
])
def test_records_refuse_bad_fields_with_one_line(record, message):
    with pytest.raises(ActionError) as e:
        action_from_record(record, where="interventions.0")
    assert message in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith("interventions.0: ")


def test_scenario_interventions_use_the_same_records(tiny_prep):
    with pytest.raises(ValidationError, match="did you mean 'backup_power'"):
        tiny_prep(interventions=[{"time_h": 0, "action": "backup_powr", "assets": ["PS"]}])
    prep = tiny_prep(interventions=[{"time_h": 3, "action": "close_road",
                                     "assets": ["RE00-10"]}])
    iv = prep.spec.interventions[0]
    assert iv.to_action() == Decision(3.0, CloseRoad(("RE00-10",)), "scenario")


def test_hold_more_crews_than_the_utility_has_is_refused(engine):
    eng = engine()
    eng.run(until=24)
    with pytest.raises(ActionError, match=r"^at 24 h: hold_crews.count: 99 water crews asked, "
                                          r"water has 1 \(0 already held\)$"):
        eng.hold_crews("water", 99, 12)
    assert eng.decisions == []  # refused: nothing recorded, nothing held
    eng.hold_crews("power", 2, 12)
    with pytest.raises(ActionError, match="1 power crews asked, power has 2 \\(2 already held"):
        eng.hold_crews("power", 1, 1)


def test_run_backwards_or_past_the_horizon_is_refused(engine):
    eng = engine()
    eng.run(until=24)
    with pytest.raises(ActionError, match=r"run: until=10 h is before the current time 24 h"):
        eng.run(until=10)
    with pytest.raises(ActionError, match=r"run: until=500 h is past the horizon 96 h"):
        eng.run(until=500)
    with pytest.raises(ActionError, match="finite"):
        eng.run(until=float("nan"))
    assert eng.now == 24


def test_unknown_asset_suggests_close_matches(engine):
    eng = engine()
    with pytest.raises(InputError, match=r"asset 'SUBB' does not exist in city '.*' \(did you "
                                         r"mean SUB\?\)"):
        eng.fail("SUBB", "moderate")
    with pytest.raises(ActionError, match="'LA' is a power power_load, not a road segment"):
        eng.apply(CloseRoad(("LA",)))
    with pytest.raises(ActionError, match="'RE00-10' is a roads road_segment, not a road node"):
        eng.apply(MutualAid("power", 1, ("RE00-10",)))


def test_held_crews_can_be_released_early(engine):
    eng = engine(crews={"power": 1, "water": 1, "roads": 1})
    eng.hold_crews("power", 1, 48)
    with pytest.raises(ActionError, match="2 power crews to release, only 1 held"):
        eng.apply(ReleaseCrews("power", 2))
    eng.run(until=10)
    eng.apply(ReleaseCrews("power"))
    with pytest.raises(ActionError, match="no power crews are held"):
        eng.apply(ReleaseCrews("power"))
    eng.run()
    res = eng.result()
    first = min(t for t, y, w in zip(res.ev_time_h, res.ev_type, res.ev_crew, strict=True)
                if y == EV["crew_dispatched"] and res.crew_names[w].startswith("power"))
    assert first == pytest.approx(10.0)


def test_mutual_aid_crews_arrive_and_work(engine):
    eng = engine(crews={"power": 0, "water": 1, "roads": 1})
    eng.run(until=5)
    eng.apply(MutualAid("power", 2, ("R2_3",), after_h=3))
    eng.run()
    res = eng.result()
    assert res.crew_names[-2:] == ("power-aid-01", "power-aid-02")
    disp = [t for t, y, w in zip(res.ev_time_h, res.ev_type, res.ev_crew, strict=True)
            if y == EV["crew_dispatched"] and res.crew_names[w].startswith("power-aid")]
    assert min(disp) == pytest.approx(8.0)
    assert res.served[-1, 0] == pytest.approx(1.0)


def test_pin_puts_a_job_first(engine):
    def power_order(pin):
        eng = engine(crews={"power": 1, "water": 1, "roads": 1}, hazards=[
            {"type": "damage_map", "events": [
                {"time_h": 1, "assets": ["F2", "F3", "SUB"], "damage_state": "slight"}]}])
        if pin:
            eng.apply(Pin(("F3",)))
        eng.run()
        r = eng.result()
        return [eng.twin.ids[c] for c, y, w in zip(r.ev_comp, r.ev_type, r.ev_crew, strict=True)
                if y == EV["crew_dispatched"] and r.crew_names[w].startswith("power")]

    assert power_order(False)[0] == "SUB"  # critical first
    assert power_order(True)[0] == "F3"


def test_set_policy_changes_the_order_and_refuses_the_same_policy(engine):
    eng = engine()
    with pytest.raises(ActionError, match="already 'critical_first'"):
        eng.apply(SetPolicy("critical_first"))
    eng.apply(SetPolicy("nearest_first"))
    assert eng.policy.name == "nearest_first"


def test_close_and_open_a_road(engine):
    eng = engine(hazards=QUIET)
    eng.run(until=1)
    full = eng.snapshot().served["roads"]
    eng.apply(CloseRoad(("RE00-10", "RE00-01")))  # the depot's two streets: cut off
    assert eng.snapshot().served["roads"] < full
    with pytest.raises(ActionError, match="RE00-10 already closed by a decision"):
        eng.apply(CloseRoad(("RE00-10",)))
    eng.run(until=2)
    eng.apply(OpenRoad(("RE00-10", "RE00-01")))
    assert eng.snapshot().served["roads"] == full
    with pytest.raises(ActionError, match="RE00-10 not closed by a decision"):
        eng.apply(OpenRoad(("RE00-10",)))


def test_deenergise_a_feeder_darkens_its_loads_until_reenergised(engine):
    eng = engine(hazards=QUIET)
    eng.apply(Deenergise(("F3",)))
    assert eng.snapshot().served["power"] == pytest.approx(1 - 200 / 600)
    with pytest.raises(ActionError, match="not a power line"):
        eng.apply(Deenergise(("PS",)))
    eng.run(until=3)
    eng.apply(Reenergise(("F3",)))
    assert eng.snapshot().served["power"] == pytest.approx(1.0)


def test_generator_needs_a_power_dependency_and_refuel_a_generator(engine):
    eng = engine(hazards=[{"type": "damage_map", "events": [
        {"time_h": 1, "assets": ["LC", "P6"], "damage_state": "complete"}]}],
        crews={"power": 0, "water": 0, "roads": 0})
    with pytest.raises(ActionError, match="'J1' .* does not depend on power"):
        eng.apply(BackupPower(("J1",), 5))
    with pytest.raises(ActionError, match="no generator at PS"):
        eng.apply(Refuel(("PS",), 5))
    eng.apply(BackupPower(("PS",), 5))  # until t = 6
    eng.run(until=4)
    eng.apply(Refuel(("PS",), 10))  # until t = 16
    eng.run(until=15)
    assert eng.snapshot().served["water"] == 1.0
    eng.run(until=17)
    assert eng.snapshot().served["water"] == 0.0


def test_fail_an_area_by_class_and_report_what_changed(engine):
    eng = engine(hazards=QUIET)
    with pytest.raises(ActionError, match="unknown asset class 'pipes' \\(did you mean 'pipe'"):
        eng.apply(Fail(area=Area("circle", (300, 50, 80)), asset_classes=("pipes",)))
    with pytest.raises(ActionError, match="holds no assets"):
        eng.apply(Fail(area=Area("circle", (9e5, 9e5, 1)), damage_state="slight"))
    note = eng.apply(Fail(area=Area("circle", (300, 50, 80)), asset_classes=("pipe",),
                          damage_state="moderate"))
    dmg = {eng.twin.ids[i] for i in np.nonzero(eng.state.damage)[0]}
    assert dmg and all(eng.twin.ids[i].startswith("P") for i in np.nonzero(eng.state.damage)[0])
    assert str(note).startswith(f"{len(dmg)} of {len(dmg)} asset(s) now moderate")
    assert str(eng.fail(sorted(dmg)[0], "slight")).endswith("1 already as bad or worse")


def test_preposition_only_before_the_first_damage(engine):
    eng = engine()
    eng.run(until=5)
    with pytest.raises(ActionError, match="crews are already out"):
        eng.apply(Preposition("power", 1, ("R1_1",)))


def test_every_decision_is_logged_with_its_time(engine):
    eng = engine()
    eng.run(until=6)
    eng.hold_crews("water", 1, 4)
    eng.run(until=8.5)
    eng.apply(Pin(("P2",)), by="facilitator")
    assert [(d.time_h, d.action.name, d.by) for d in eng.decisions] == [
        (6.0, "hold_crews", "api"), (8.5, "pin", "facilitator")]
    assert len(eng.notes) == 2 and "held until 10 h" in str(eng.notes[0])
