"""The drill console in a real headless Chromium: advance, inject a failure by id, hold
crews, fork, finish, download the report; the curves and the log change, and the page
logs no errors. Also the JSON API's refusals and ``--port`` checks."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

SCENARIO = {
    "name": "console drill", "city": {"builtin": {"seed": 7, "scale": 0.2}}, "horizon_h": 72,
    "output_step_h": 2, "realizations": 2, "seed": 5, "workers": 1,
    "crews": {"power": 2, "water": 1, "roads": 1},
    "hazards": [{"type": "damage_map", "events": [
        {"time_h": 2, "assets": ["P-SUB-001"], "damage_state": "extensive"}]}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def console(tmp_path, request):
    """A console server (``--lang`` from an indirect parameter, default English)."""
    lang = getattr(request, "param", "en")
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "drill", tmp_path / "s.yaml",
                             "--port", str(port), "--no-browser", "--out", tmp_path / "out",
                             "--lang", lang],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail("console exited: " + proc.stderr.read())
            try:
                urllib.request.urlopen(base + "/", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        yield base, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_api_refuses_with_one_line(console):
    base, _ = console
    code, body = api(base, "/api/act", {"action": "hold_crews", "utility": "water",
                                        "count": 99, "duration_h": 12})
    assert code == 400 and body["error"] == (
        "at 0 h: hold_crews.count: 99 water crews asked, water has 1 (0 already held)")
    code, body = api(base, "/api/advance", {"hours": 5})
    assert code == 200 and body["clock"]["t_h"] == 5
    code, body = api(base, "/api/advance", {"to": 2})
    assert code == 400 and "before the current time 5 h" in body["error"]
    code, body = api(base, "/api/act", {"action": "fail", "assets": ["W-WTP-9"]})
    assert code == 400 and "did you mean W-WTP-1" in body["error"]
    code, body = api(base, "/report.html")
    assert code == 404
    code, body = api(base, "/api/act", ["fail"])
    assert code == 400 and body["error"] == "the request body must be an object"
    req = urllib.request.Request(base + "/api/advance", data=b"{not json",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400 and json.loads(e.value.read())["error"] == (
        "the request body is not JSON")
    code, body = api(base, "/api/branch", {"name": ""})
    assert code == 400 and "branch name '' is empty or taken" in body["error"]
    code, body = api(base, "/api/switch", {"name": "nope"})
    assert code == 400 and "unknown branch 'nope' (branches: main)" in body["error"]
    code, body = api(base, "/api/act", {"action": "teleport"})
    assert code == 400 and "unknown action 'teleport'" in body["error"]


@pytest.mark.parametrize("console", ["zh"], indirect=True)
def test_console_in_chinese_notes_and_refusals(console):
    """With --lang zh the decision log's notes and the refusals are Chinese; what is saved
    (the decisions) is the same as in English."""
    base, _ = console
    code, body = api(base, "/api/act", {"action": "hold_crews", "utility": "water",
                                        "count": 99, "duration_h": 12})
    assert code == 400 and body["error"] == (
        "0 小时：hold_crews.count: 要求 99 支供水抢修队，供水共有 1 支（已待命 0 支）")
    code, body = api(base, "/api/advance", {"hours": 5})
    assert code == 200
    code, body = api(base, "/api/act", {"action": "fail", "assets": ["W-WTP-1"],
                                        "damage_state": "extensive"})
    assert code == 200 and body["note"] == "1 个设施中 1 个现为严重损坏"
    code, body = api(base, "/api/act", {"action": "hold_crews", "utility": "power",
                                        "count": 1, "duration_h": 12})
    assert code == 200 and body["note"] == "1 支电力抢修队待命至 17 小时"
    code, state = api(base, "/api/state")
    assert [(x["what"].split("(")[0], x["note"]) for x in state["log"]] == [
        ("fail", "1 个设施中 1 个现为严重损坏"), ("hold_crews", "1 支电力抢修队待命至 17 小时")]
    code, body = api(base, "/api/advance", {"to": 2})
    assert code == 400 and body["error"] == (
        "run: until=2 小时早于当前时间 5 小时（请从更早的时间创建分支）")
    code, body = api(base, "/api/act", {"action": "fail", "assets": ["W-WTP-9"]})
    assert code == 400 and "不存在设施 'W-WTP-9'（是否指 W-WTP-1" in body["error"]
    code, body = api(base, "/api/act", {"action": "teleport"})
    assert code == 400 and body["error"].startswith("console: action: 未知的行动 'teleport'（")
    code, body = api(base, "/api/switch", {"name": "nope"})
    assert code == 400 and body["error"] == "未知的分支 'nope'（现有分支：main）"


def test_port_in_use_is_one_line(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(SCENARIO))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "twin.cli", "drill", tmp_path / "s.yaml",
                            "--port", str(port), "--no-browser", "--out", tmp_path / "o"],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr


NEEDS_CHROMIUM = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="chromium / chromedriver binary not installed (apt-get install chromium "
           "chromium-driver)")


def chromium():
    """A headless Chromium that keeps the page's console log."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--window-size=1400,900"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def waiter(d):
    def wait(cond, what, timeout=120):
        for _ in range(int(timeout * 10)):
            if d.execute_script(f"return {cond}"):
                return
            time.sleep(0.1)
        pytest.fail(f"{what}: " + d.find_element("id", "error").text)
    return wait


@NEEDS_CHROMIUM
def test_console_drives_a_drill_in_headless_chromium(console):
    from selenium.webdriver.support.ui import Select

    base, tmp_path = console
    d = chromium()
    wait = waiter(d)

    def click(id_):
        before = d.execute_script("return document.body.dataset.time")
        n = d.execute_script("return document.querySelectorAll('#log tr').length")
        d.find_element("id", id_).click()
        return before, n

    try:
        d.get(base + "/")
        wait("document.body.dataset.ready === '1'", "console not ready")
        assert "Drill: console drill" in d.find_element("id", "title").text
        click("plus6")
        wait("document.body.dataset.time === '6'", "+6 h")
        assert "6.0 h" in d.find_element("id", "clock").text
        # inject the loss of a treatment plant by id
        Select(d.find_element("id", "action")).select_by_value("fail")
        f = d.find_element("id", "fields")
        f.clear()
        f.send_keys('{"assets": ["W-WTP-1"], "damage_state": "complete"}')
        d.find_element("id", "apply").click()
        wait("document.querySelectorAll('#log tr').length === 2", "fail not logged")
        assert "W-WTP-1" in d.find_element("id", "damaged").text
        # hold the water crew
        Select(d.find_element("id", "action")).select_by_value("hold_crews")
        f.clear()
        f.send_keys('{"utility": "water", "count": 1, "duration_h": 24}')
        d.find_element("id", "apply").click()
        wait("document.querySelectorAll('#log tr').length === 3", "hold not logged")
        # a refused decision shows its one-line message and changes nothing
        f.clear()
        f.send_keys('{"utility": "water", "count": 5, "duration_h": 24}')
        d.find_element("id", "apply").click()
        wait("document.getElementById('error').textContent.includes('5 water crews asked')",
             "no error shown")
        assert d.execute_script("return document.querySelectorAll('#log tr').length") == 3
        # fork: what if we had not held the crew?
        d.find_element("id", "branch-name").send_keys("no-hold")
        Select(d.find_element("id", "undo")).select_by_value("hold_crews")
        d.find_element("id", "fork").click()
        wait("document.querySelectorAll('#branch-select option').length === 2", "no fork")
        # the 3D scene of the branch so far opens in a new tab
        d.find_element("id", "scene").click()
        wait("document.body.dataset.scene === '1'", "no 3D scene")
        with urllib.request.urlopen(base + "/scene.html", timeout=60) as r:
            assert b'<script id="payload" type="application/json">{' in r.read()
        d.switch_to.window(d.window_handles[0])
        d.find_element("id", "end").click()
        wait("document.body.dataset.time === '72'", "to the end")
        Select(d.find_element("id", "branch-select")).select_by_value("main")
        wait("document.querySelector('#branch-select').value === 'main' && "
             "document.body.dataset.time === '6'", "switch")
        d.find_element("id", "end").click()
        wait("document.body.dataset.time === '72'", "main to the end")
        # the curves: two branches and the baseline, and the drill's differ from the baseline
        paths = d.execute_script(
            "return [...document.querySelectorAll('svg[data-net=water] path')]"
            ".map(p => p.getAttribute('d'))")
        assert len(paths) == 3 and paths[0] != paths[1]
        d.find_element("id", "finish").click()
        wait("document.getElementById('report-link').style.display === ''", "no report",
             timeout=300)
        code, state = api(base, "/api/state")
        assert [(x["branch"], x["what"].split("(")[0]) for x in state["log"]] == [
            ("main", "fail"), ("main", "hold_crews"), ("no-hold", "fail")]
        with urllib.request.urlopen(base + "/report.html", timeout=60) as r:
            report = r.read().decode()
        assert "After-action report: console drill" in report and "no-hold" in report
        with urllib.request.urlopen(base + "/replay.html", timeout=60) as r:
            replay = r.read()
        # the 3D replay of the drill, its data filled in
        assert b'<script id="payload" type="application/json">{' in replay
        assert b"__PAYLOAD__" not in replay
        out = tmp_path / "out"
        assert (out / "drill.yaml").is_file() and (out / "run" / "curves.parquet").is_file()
        # no script error, no failed load; the one refused decision was answered 400 on purpose
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and not (
            "/api/act" in e["message"] and "400 (Bad Request)" in e["message"])]
        assert not errors, errors
    finally:
        d.quit()


@NEEDS_CHROMIUM
@pytest.mark.parametrize("console", ["zh"], indirect=True)
def test_console_in_chinese_shows_a_chinese_note_in_the_decision_log(console):
    from selenium.webdriver.support.ui import Select

    base, _ = console
    d = chromium()
    wait = waiter(d)
    try:
        d.get(base + "/")
        wait("document.body.dataset.ready === '1'", "console not ready")
        assert "演练：console drill" in d.find_element("id", "title").text
        d.find_element("id", "plus6").click()
        wait("document.body.dataset.time === '6'", "+6 h")
        Select(d.find_element("id", "action")).select_by_value("fail")
        f = d.find_element("id", "fields")
        f.clear()
        f.send_keys('{"assets": ["W-WTP-1"], "damage_state": "complete"}')
        d.find_element("id", "apply").click()
        wait("document.querySelectorAll('#log tr').length === 2", "fail not logged")
        row = [c.text for c in d.find_elements("css selector", "#log tr:last-child td")]
        assert row[-1] == "1 个设施中 1 个现为完全损坏", row
        assert d.find_element("id", "note").text == "1 个设施中 1 个现为完全损坏"
        # a refused decision: its message in Chinese, the log unchanged
        Select(d.find_element("id", "action")).select_by_value("hold_crews")
        f.clear()
        f.send_keys('{"utility": "water", "count": 5, "duration_h": 24}')
        d.find_element("id", "apply").click()
        wait("document.getElementById('error').textContent.includes('要求 5 支供水抢修队')",
             "no Chinese error shown")
        assert d.find_element("id", "error").text.startswith("错误: 6 小时：hold_crews.count: ")
        assert d.execute_script("return document.querySelectorAll('#log tr').length") == 2
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and not (
            "/api/act" in e["message"] and "400 (Bad Request)" in e["message"])]
        assert not errors, errors
    finally:
        d.quit()


def test_console_page_in_chinese_has_no_external_resources(tmp_path):
    from twin.drill.server import _page

    page = _page("zh")
    assert "演练：{name}" in page and 'lang="zh-CN"' in page
    assert "http://" not in page and "https://" not in page
    assert 'src="' not in page and '<link rel="icon" href="data:,">' in page
