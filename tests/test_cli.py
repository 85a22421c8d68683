"""The `twin` command: outputs on success; one line, exit 2, nothing written on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from networks.io import save_city

SCENARIO = """
name: tiny drill
city: {{path: {city}}}
horizon_h: 120
output_step_h: 2
realizations: 4
seed: 3
workers: 1
crews: {{power: 1, water: 1, roads: 1}}
hazards:
  - type: damage_map
    events:
      - {{time_h: 1, assets: [SUB, P2], damage_state: moderate}}
      - {{time_h: 2, area: {{circle: [300, 100, 60]}}, damage_state: slight, probability: 0.5}}
"""


@pytest.fixture
def city(tiny, tmp_path):
    return save_city(tiny, tmp_path / "tiny.gpkg")


def twin(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_run_writes_all_outputs(city, tmp_path):
    s = write(tmp_path, SCENARIO.format(city=city))
    out = tmp_path / "run"
    r = twin("run", s, "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert "system" in r.stdout and "min served" in r.stdout
    curves = pd.read_parquet(out / "curves.parquet")
    assert list(curves.columns) == ["realization", "time_h", "network", "served_fraction"]
    assert set(curves.network) == {"power", "water", "roads", "system"}
    assert curves.served_fraction.between(0, 1).all()
    assert len(curves) == 4 * 4 * 61
    loss = pd.read_parquet(out / "loss.parquet")
    assert {"realization", "time_h", "customer_hours_lost", "repair_cost"} <= set(loss.columns)
    for _, g in loss.groupby("realization"):
        assert g.customer_hours_lost.is_monotonic_increasing
        assert g.repair_cost.is_monotonic_increasing
    ev = pd.read_parquet(out / "events.parquet")
    assert list(ev.columns) == ["realization", "time_h", "asset_id", "network", "event",
                                "crew_id"]
    assert {"damaged", "cascade_failed", "crew_dispatched", "repair_started", "restored"} <= set(
        ev.event)
    summ = json.loads((out / "summary.json").read_text())
    sysm = summ["networks"]["system"]
    assert sysm["min_service"]["median"] < 0.5
    assert {"median", "p05", "p95"} <= set(sysm["time_to_90_h"])
    assert summ["loss_exceedance"]["repair_cost_usd"][0]["exceedance_probability"] == 1.0
    assert (out / "recovery.png").stat().st_size > 10_000
    assert (out / "loss.png").stat().st_size > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


def test_validate_ok(city, tmp_path):
    r = twin("validate", write(tmp_path, SCENARIO.format(city=city)))
    assert r.returncode == 0 and r.stdout.startswith("ok:")


BAD = [
    ("crwes: {power: 1}\n", "unknown field 'crwes' (did you mean 'crews'?)"),
    ("horizon_h: lots\n", "field 'horizon_h'"),
    ("realizations: 0\n", "field 'realizations'"),
    ("policy: fastest\n", "field 'policy'"),
    ("interventions: [{time_h: 1, action: hold_crews, utility: power}]\n",
     "needs count, duration_h"),
    ("interventions: [{time_h: 1, action: fail, assets: [NOPE]}]\n",
     "interventions.0.assets: asset 'NOPE' does not exist"),
]


@pytest.mark.parametrize("extra, message", BAD)
def test_bad_scenarios_are_one_line_exit_2(city, tmp_path, extra, message):
    key = extra.split(":", 1)[0]  # replace the field (a key given twice is its own error)
    base = "".join(line for line in SCENARIO.format(city=city).splitlines(keepends=True)
                   if not line.startswith(key + ":"))
    s = write(tmp_path, base + extra)
    out = tmp_path / "never"
    r = twin("run", s, "--out", out, "-q")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("twin: error: ") and message in lines[-1], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s.replace("assets: [SUB, P2]", "assets: [SUBB]"), "asset 'SUBB' does not exist"),
    (lambda s: s.replace("type: damage_map", "type: earthquake"), "unknown hazard type"),
    (lambda s: s.replace("time_h: 1,", "time_hour: 1,"), "hazards.0.events.0.time_hour"),
    (lambda s: s.replace("{circle: [300, 100, 60]}", "{circle: [9e6, 9e6, 5]}"),
     "contains no asset"),
    (lambda s: s.replace("path: ", "path: missing-"), "city file not found"),
    (lambda s: s + "  - [unclosed\n", "not valid YAML"),
])
def test_bad_hazards_and_inputs(city, tmp_path, mutate, message):
    s = write(tmp_path, mutate(SCENARIO.format(city=city)))
    out = tmp_path / "never"
    r = twin("run", s, "--out", out, "-q")
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2  # "preparing ..." + the error line
    assert not out.exists()


def test_broken_network_file(city, tmp_path):
    import geopandas as gpd

    g = gpd.read_file(city, layer="power_edges")
    g.loc[g.id == "F2", "to_id"] = "NOWHERE"
    g.to_file(city, layer="power_edges", driver="GPKG")
    r = twin("run", write(tmp_path, SCENARIO.format(city=city)), "--out", tmp_path / "o")
    assert r.returncode == 2 and "dangling edge: endpoint 'NOWHERE'" in r.stderr
    assert "asset 'F2'" in r.stderr and not (tmp_path / "o").exists()


def test_existing_output_needs_overwrite(city, tmp_path):
    s = write(tmp_path, SCENARIO.format(city=city).replace("realizations: 4", "realizations: 1"))
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    r = twin("run", s, "--out", out, "-q")
    assert r.returncode == 2 and "--overwrite" in r.stderr
    assert (out / "keep.txt").exists()
    r = twin("run", s, "--out", out, "-q", "--overwrite")
    assert r.returncode == 0 and not (out / "keep.txt").exists()
    assert (out / "summary.json").exists()


def test_toml_scenario(city, tmp_path):
    toml = f"""
name = "toml drill"
horizon_h = 48
realizations = 2
workers = 1
[city]
path = "{city}"
[[hazards]]
type = "damage_map"
[[hazards.events]]
time_h = 1
assets = ["SUB"]
"""
    r = twin("run", write(tmp_path, toml, "s.toml"), "--out", tmp_path / "t", "-q")
    assert r.returncode == 0, r.stderr
    assert Path(tmp_path / "t" / "curves.parquet").exists()


def test_validate_checks_inputs_without_computing_hazards(monkeypatch, capsys):
    import twin.run
    from twin.cli import main

    def boom(*a, **k):
        raise AssertionError("validate must not compute hazard fields")

    monkeypatch.setattr(twin.run, "hazard_field", boom)
    root = Path(__file__).resolve().parents[1]
    assert main(["validate", str(root / "scenarios" / "flood.yaml")]) == 0
    assert "hazards: flood" in capsys.readouterr().out
    # a bad asset in a damage map is still caught (cheap check)
    assert main(["validate", str(root / "scenarios" / "demo.yaml")]) == 0


def test_far_typhoon_track_warns_in_one_line(tmp_path):
    root = Path(__file__).resolve().parents[1]
    text = (root / "scenarios" / "typhoon.yaml").read_text()
    text = text.replace("shift_to_lonlat: [113.578, 22.215]", "shift_to_lonlat: [150.0, 40.0]")
    text = text.replace("../data/tracks", str(root / "data" / "tracks"))
    assert "150.0, 40.0" in text
    r = twin("validate", write(tmp_path, text))
    assert r.returncode == 0
    assert r.stderr.startswith("twin: warning: track SAOLA:2023 never comes within 300 km")
    assert "Traceback" not in r.stderr and "hazard.check" not in r.stderr
