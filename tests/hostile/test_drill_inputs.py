"""Hostile inputs to ``twin drill``: each ends in one line on stderr, exit code 2, and no
drill folder (nothing half-written)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

SCENARIO = {
    "name": "hostile drill", "city": {"builtin": {"seed": 7, "scale": 0.2}}, "horizon_h": 48,
    "output_step_h": 4, "realizations": 1, "seed": 1, "workers": 1,
    "crews": {"power": 2, "water": 8, "roads": 1},
    "hazards": [{"type": "damage_map", "events": [
        {"time_h": 2, "assets": ["P-SUB-001"], "damage_state": "extensive"}]}],
}


def twin(*args):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def run_steps(tmp_path, steps, scenario=None):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario or SCENARIO))
    path = tmp_path / "steps.yaml"
    path.write_text(steps if isinstance(steps, str) else yaml.safe_dump({"steps": steps}))
    return twin("drill", tmp_path / "s.yaml", "--script", path, "--out", tmp_path / "out", "-q")


def one_line_exit_2(r, tmp_path, *needles):
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    # one error line, last (``twin run`` says "preparing ..." before it)
    errors = [x for x in lines if x.startswith("twin: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], r.stderr
    assert len(lines) == 1 or lines[0].startswith("preparing "), r.stderr
    for n in needles:
        assert n in lines[-1], lines[-1]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))  # no temporary sibling left


@pytest.mark.parametrize("steps, needles", [
    ([{"advance_h": 24}, {"hold_crews": {"utility": "water", "count": 99, "duration_h": 12}}],
     ["steps.1: at 24 h: hold_crews.count: 99 water crews asked, water has 8"]),
    ([{"advance_to": 24}, {"advance_to": 10}],
     ["steps.1: run: until=10 h is before the current time 24 h"]),
    ([{"fail": {"assets": ["W-WTP-1"], "damage_state": "broken"}}],
     ["steps.0", "unknown damage state 'broken' (allowed: slight, moderate, extensive, "
      "complete)"]),
    ([{"fail": {"assets": ["W-WTP-9"]}}],
     ["steps.0", "asset 'W-WTP-9' does not exist", "did you mean W-WTP-1"]),
    ([{"advnce_h": 3}], ["steps.0: unknown step 'advnce_h' (did you mean 'advance_h'?)"]),
    ([{"advance_h": float("nan")}], ["advance_h must be a finite number of hours > 0"]),
    ([{"advance_to": 500}], ["until=500 h is past the horizon 48 h"]),
    ([{"advance_to": "end"}, {"advance_h": 1}], ["steps.1: branch 'main' is at the horizon "
                                                  "(48 h): fork from an earlier time"]),
    ([{"branch": {"name": "b", "undo": ["hold_crews"]}}],
     ["no hold_crews decision was taken in branch 'main'"]),
    ([{"switch": "nowhere"}], ["unknown branch 'nowhere' (branches: main)"]),
    ([{"close_road": {"assets": ["P-SUB-001"]}}], ["is a power substation, not a road"]),
    ([{"release_crews": {"utility": "power"}}], ["no power crews are held"]),
    ([{"set_policy": {"policy": "fastest"}}], ["unknown policy 'fastest'"]),
    ("steps: []\n", ["'steps' must be a non-empty list"]),
    ("steps:\n  - advance_h: 1\n    fail: {assets: [P-SUB-001]}\n",
     ["steps.0: each step is a mapping with one key"]),
    ("stepz: []\n", ["unknown field 'stepz'"]),
    ("steps: [\n", ["not valid YAML"]),
])
def test_bad_steps_are_one_line_and_write_nothing(tmp_path, steps, needles):
    one_line_exit_2(run_steps(tmp_path, steps), tmp_path, *needles)


def test_bad_intervention_in_the_scenario(tmp_path):
    bad = {**SCENARIO, "interventions": [{"time_h": 1, "action": "hold_crews",
                                          "utility": "water", "count": 1, "hours": 3}]}
    r = run_steps(tmp_path, [{"advance_h": 1}], scenario=bad)
    one_line_exit_2(r, tmp_path, "interventions.0", "field 'hours' does not apply to hold_crews")


def test_missing_steps_file_and_missing_out(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO))
    r = twin("drill", tmp_path / "s.yaml", "--script", tmp_path / "nope.yaml", "--out",
             tmp_path / "out")
    one_line_exit_2(r, tmp_path, "nope.yaml")
    r = twin("drill", tmp_path / "s.yaml", "--script", tmp_path / "nope.yaml")
    one_line_exit_2(r, tmp_path, "a scripted drill needs --out DIR")


def test_existing_out_is_refused_before_the_drill(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    r = run_steps(tmp_path, [{"advance_h": 1}])
    assert r.returncode == 2 and "exists; pass --overwrite" in r.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("command", ["run", "drill"])
def test_intervention_of_the_wrong_kind_is_refused_before_the_run(tmp_path, command):
    bad = {**SCENARIO, "interventions": [{"time_h": 30, "action": "mutual_aid",
                                          "utility": "power", "count": 2,
                                          "assets": ["P-SUB-001"]}]}
    if command == "drill":
        r = run_steps(tmp_path, [{"advance_h": 1}], scenario=bad)
    else:
        (tmp_path / "s.yaml").write_text(yaml.safe_dump(bad))
        r = twin("run", tmp_path / "s.yaml", "--out", tmp_path / "out", "-q")
    one_line_exit_2(r, tmp_path, "interventions.0: mutual_aid.assets: 'P-SUB-001' is a power "
                    "substation, not a road node")
