"""``twin drill --script``: the drill folder, and ``twin run drill.yaml`` reproducing it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

SCENARIO = {
    "name": "small drill", "city": {"builtin": {"seed": 7, "scale": 0.2}}, "horizon_h": 72,
    "output_step_h": 2, "realizations": 2, "seed": 11, "workers": 1,
    "crews": {"power": 2, "water": 1, "roads": 1},
    "hazards": [{"type": "damage_map", "events": [
        {"time_h": 2, "assets": ["P-SUB-001"], "damage_state": "extensive"},
        {"time_h": 3, "area": {"circle": [761000, 2460600, 800]}, "damage_state": "moderate",
         "probability": 0.1}]}],
}
STEPS = {"steps": [
    {"advance_h": 6},
    {"fail": {"assets": ["W-WTP-1"], "damage_state": "moderate"}},
    {"hold_crews": {"utility": "power", "count": 1, "duration_h": 12}},
    {"advance_h": 6},
    {"backup_power": {"assets": ["W-PS-01"], "hours": 24}},
    {"branch": {"name": "no-hold", "undo": ["hold_crews"]}},
    {"advance_to": "end"},
]}


def twin(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=900, cwd=cwd)


@pytest.fixture(scope="module")
def drill_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("drill")
    (d / "s.yaml").write_text(yaml.safe_dump(SCENARIO))
    (d / "steps.yaml").write_text(yaml.safe_dump(STEPS))
    r = twin("drill", d / "s.yaml", "--script", d / "steps.yaml", "--out", d / "out", "-q")
    assert r.returncode == 0, r.stderr
    return d


def test_scripted_drill_writes_the_drill_folder(drill_dir):
    out = drill_dir / "out"
    for f in ("drill.yaml", "branches/no-hold.yaml", "report.html"):
        assert (out / f).is_file(), f
    for d in ("run", "baseline"):
        for f in ("curves.parquet", "events.parquet", "metrics.parquet", "summary.json",
                  "replay.npz", "recovery.png"):
            assert (out / d / f).is_file(), (d, f)
    doc = yaml.safe_load((out / "drill.yaml").read_text())
    assert [(iv["time_h"], iv["action"]) for iv in doc["interventions"]] == [
        (6.0, "fail"), (6.0, "hold_crews"), (12.0, "backup_power")]
    branch = yaml.safe_load((out / "branches/no-hold.yaml").read_text())
    assert [iv["action"] for iv in branch["interventions"]] == ["fail", "backup_power"]
    # the drill's decisions changed the outcome against the baseline
    a = pd.read_parquet(out / "run/metrics.parquet")
    b = pd.read_parquet(out / "baseline/metrics.parquet")
    assert not a.customer_hours_lost.equals(b.customer_hours_lost)


def test_twin_run_drill_yaml_reproduces_the_drill(drill_dir, tmp_path):
    out = drill_dir / "out"
    r = twin("run", out / "drill.yaml", "--out", tmp_path / "again", "-q")
    assert r.returncode == 0, r.stderr
    for f in ("curves", "loss", "events", "metrics"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / "run" / f"{f}.parquet"),
                                      pd.read_parquet(tmp_path / "again" / f"{f}.parquet"),
                                      check_exact=True)


def test_report_is_self_contained_and_has_every_section(drill_dir):
    text = (drill_dir / "out/report.html").read_text(encoding="utf-8")
    import re

    assert "<script" not in text and "<link" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)  # nothing fetched
    for heading in ("Timeline of injects and decisions", "Metrics against the baseline",
                    "Maps at key moments", "What each decision changed", "Weak points (N-1)"):
        assert f">{heading}<" in text, heading
    assert "hold_crews(utility=power, count=1, duration_h=12.0)" in text
    assert "<td>1 power crew(s) held until 18 h</td>" in text  # what it did, in English
    assert "<figcaption>6 h: fail(" in text  # a map at a decision
    assert "data:image/png;base64," in text and "<svg" in text
    # the branch is drawn beside the drill and the baseline
    assert "no-hold" in text


def test_report_in_chinese(drill_dir, tmp_path):
    r = twin("drill", drill_dir / "s.yaml", "--script", drill_dir / "steps.yaml", "--out",
             tmp_path / "zh", "--lang", "zh", "-q", "-n", "1")
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "zh/report.html").read_text(encoding="utf-8")
    assert "演练总结报告" in text and "薄弱环节（N-1）" in text and "lang='zh-CN'" in text
    # what each decision did, in Chinese too (the notes are catalogue messages)
    for note in ("1 个设施中 1 个现为中度损坏", "1 支电力抢修队待命至 18 小时",
                 "已在 W-PS-01 部署发电机，燃料可用 24 小时"):
        assert f"<td>{note}</td>" in text, note
    assert "crew(s)" not in text and "asset(s)" not in text
    # the curves' Chinese labels stay text in the SVG (the reader's browser has the CJK
    # fonts; matplotlib's DejaVu has none, and glyph paths would be empty boxes)
    svg = text[text.index("<svg"):text.index("</svg>")]
    assert re.search(r"<text[^>]*>电力</text>", svg)
    assert "missing from font" not in r.stderr
    assert "<figcaption>6 小时：fail(" in text and "<td class='num'>6 小时</td>" in text
    # notes are not inputs: the saved drill is the same in either language
    en = yaml.safe_load((drill_dir / "out/drill.yaml").read_text())
    zh = yaml.safe_load((tmp_path / "zh/drill.yaml").read_text())
    assert zh["interventions"] == en["interventions"]
    assert {k: v for k, v in zh.items() if k != "realizations"} == {
        k: v for k, v in en.items() if k != "realizations"}


def test_i18n_catalogue_is_complete():
    from twin.drill.i18n import CATALOGUE, tr

    for key, (en, zh) in CATALOGUE.items():  # see also tests/drill/test_i18n.py
        assert en and zh, key
        assert en.count("{") == zh.count("{"), key
    assert tr("people_hours", "zh", net=tr("power", "zh")) == "电力中断人·小时"
    src = "".join(p.read_text() for p in Path(__file__).parents[2].joinpath(
        "twin/drill").glob("*.py"))
    import re

    used = set(re.findall(r"""tr\(["']([a-z0-9_]+)["']""", src))
    assert used and used <= set(CATALOGUE), used - set(CATALOGUE)
    page = Path(__file__).parents[2].joinpath("twin/drill/console.html").read_text()
    keys = set(re.findall(r"\bT\.([a-z0-9_]+)", page))
    keys |= set(re.findall(r'\["[a-z0-9-]+", "([a-z0-9_]+)"\]', page))  # [element id, key]
    assert {"clock", "flood", "download_report"} <= keys and keys <= set(CATALOGUE), (
        keys - set(CATALOGUE))
