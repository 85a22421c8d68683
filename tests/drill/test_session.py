"""Branching, the decision log as a scenario, and scripted drills."""

from __future__ import annotations

import pytest

from twin.actions import CloseRoad, Pin
from twin.drill.session import DrillError, DrillSession
from twin.drill.steps import StepsError, run_steps
from twin.run import run_realization


def same_bytes(a, b):
    for f in ("times_h", "served", "cost_times_h", "cost_usd", "ev_time_h", "ev_comp",
              "ev_type", "ev_crew"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f
    assert a.crew_names == b.crew_names


def _decided(engine):
    eng = engine(crews={"power": 2, "water": 1, "roads": 1})
    eng.run(until=6)
    eng.hold_crews("power", 1, 20)
    eng.run(until=12.5)
    eng.apply(Pin(("F3",)))
    eng.apply(CloseRoad(("RE00-01",)))
    eng.run(until=30)
    return eng


def test_a_fork_continued_without_changes_equals_the_original(engine):
    for at in (30.0, 12.5, 9.0, 0.0):  # now, at a decision, between decisions, the start
        a = _decided(engine)
        b = a.fork(at)
        assert b.now == at
        a.run()
        b.run()
        same_bytes(a.result(), b.result())
        assert [(d.time_h, d.action) for d in a.decisions] == [
            (d.time_h, d.action) for d in b.decisions]


def test_a_fork_can_take_another_decision(engine):
    a = _decided(engine)
    b = a.fork(30)
    b.fail("TP", "complete")
    a.run()
    b.run()
    ra, rb = a.result(), b.result()
    k = int((ra.times_h <= 30).sum())
    assert ra.served[:k].tobytes() == rb.served[:k].tobytes()  # same past
    assert ra.served.tobytes() != rb.served.tobytes()  # another future


def test_fork_outside_the_past_is_refused(engine):
    a = _decided(engine)
    with pytest.raises(Exception, match="can fork only between 0 and now \\(30 h\\)"):
        a.fork(31)


def _session(tiny_prep, **kw):
    prep = tiny_prep(**kw)
    doc = prep.spec.model_dump(mode="json", exclude={"base_dir", "interventions"})
    return DrillSession(prep, doc)


def test_the_decision_log_is_a_scenario_that_replays_the_drill(tiny_prep):
    s = _session(tiny_prep, interventions=[{"time_h": 2, "action": "backup_power",
                                            "assets": ["PS"], "hours": 6}])
    run_steps(s, [{"advance_h": 5}, {"fail": {"assets": ["TP"], "damage_state": "extensive"}},
                  {"hold_crews": {"utility": "water", "count": 1, "duration_h": 10}},
                  {"next_event": None}, {"close_road": {"assets": ["RE10-11"]}},
                  {"advance_to": 40}, {"open_road": {"assets": ["RE10-11"]}},
                  {"advance_to": "end"}])
    doc = s.scenario_doc()
    assert [iv["action"] for iv in doc["interventions"]] == [
        "backup_power", "fail", "hold_crews", "close_road", "open_road"]
    replay = s.prepared()  # the scenario document, validated again
    assert replay.spec.interventions[1].to_action().action.name == "fail"
    same_bytes(s.result(), run_realization(replay, 0))


def test_branch_without_a_decision_and_compare(tiny_prep):
    s = _session(tiny_prep, crews={"power": 1, "water": 1, "roads": 1})
    run_steps(s, [{"hold_crews": {"utility": "power", "count": 1, "duration_h": 30}},
                  {"advance_h": 10},
                  {"branch": {"name": "no-hold", "undo": ["hold_crews"]}},
                  {"advance_to": "end"}])
    assert s.current == "no-hold" and s.branches["main"].now == 10
    s.finish()
    held, free = s.result("main"), s.result("no-hold")
    assert free.served[:, 0].mean() > held.served[:, 0].mean()
    assert [d.action.name for d in s.decisions("no-hold")] == []
    with pytest.raises(DrillError, match="branch name 'no-hold' is empty or taken"):
        s.branch("no-hold")
    with pytest.raises(DrillError, match="no hold_crews decision was taken in branch"):
        s.branch("x", undo=["hold_crews"])


def test_steps_errors_name_the_step(tiny_prep):
    s = _session(tiny_prep)
    with pytest.raises(StepsError, match=r"^steps: steps.1: at 24 h: hold_crews.count: 99 water"
                                         r" crews asked, water has 1 \(0 already held\)$"):
        run_steps(s, [{"advance_h": 24},
                      {"hold_crews": {"utility": "water", "count": 99, "duration_h": 12}}])
    with pytest.raises(StepsError, match=r"steps.0: run: until=10 h is before the current"):
        run_steps(s, [{"advance_to": 10}])


def test_drill_yaml_keeps_working_away_from_the_scenario(tmp_path):
    from twin.drill.session import _absolute_paths

    (tmp_path / "dem.asc").write_text("x")
    doc = {"city": {"path": "dem.asc"}, "hazards": [{"type": "flood", "dem": "./dem.asc",
                                                     "note": "not a file.txt"}], "name": "a.b"}
    out = _absolute_paths(doc, tmp_path)
    assert out["city"]["path"] == str((tmp_path / "dem.asc").resolve())
    assert out["hazards"][0]["dem"] == str((tmp_path / "dem.asc").resolve())
    assert out["hazards"][0]["note"] == "not a file.txt" and out["name"] == "a.b"
