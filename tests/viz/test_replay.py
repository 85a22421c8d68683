"""Replays of the tiny run: MP4/GIF frames, the self-contained HTML in headless Chromium."""

import base64
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from common.errors import InputError

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _args(run_dir, **kw):
    import argparse

    d = dict(run_dir=run_dir, mp4=None, gif=None, html=None, png=None, time=None, fps=6,
             size=(320, 240), camera="oblique", realization=None, frames=8, exaggeration=3.0)
    d.update(kw)
    return argparse.Namespace(**d)


def test_mp4_and_gif_of_a_tiny_run_are_fast_and_change_over_time(tiny_run, tmp_path):
    import imageio.v3 as iio

    from viz.cli import cmd_replay

    t0 = time.perf_counter()
    rc = cmd_replay(_args(tiny_run, mp4=tmp_path / "a.mp4", gif=tmp_path / "a.gif",
                          realization=0, frames=12))
    assert rc == 0
    assert time.perf_counter() - t0 < 20
    frames = iio.imread(tmp_path / "a.gif")
    assert frames.shape[0] == 12 and frames.shape[1:3] == (240, 320)
    # the flood arrives at 2 h: early and late frames differ
    assert np.abs(frames[0].astype(int) - frames[6].astype(int)).mean() > 0.5
    vid = iio.imread(tmp_path / "a.mp4", plugin="pyav") if _has_pyav() else None
    assert (tmp_path / "a.mp4").stat().st_size > 1000
    if vid is not None:
        assert vid.shape[0] == 12
    assert not list(tmp_path.glob(".a.*"))  # no temporary leftovers


def _has_pyav():
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def test_replay_user_errors(tiny_run, tmp_path):
    from viz.cli import cmd_replay

    with pytest.raises(InputError, match="nothing to write"):
        cmd_replay(_args(tiny_run))
    with pytest.raises(InputError, match="realization 7"):
        cmd_replay(_args(tiny_run, html=tmp_path / "x.html", realization=7))
    with pytest.raises(InputError, match="not found"):
        cmd_replay(_args(tmp_path / "nope", html=tmp_path / "x.html"))
    with pytest.raises(InputError, match="output folder"):
        cmd_replay(_args(tiny_run, html=tmp_path / "no" / "x.html"))
    (tiny_run / "replay.npz").unlink()
    with pytest.raises(InputError, match="replay.npz"):
        cmd_replay(_args(tiny_run, html=tmp_path / "x.html"))


def test_html_is_self_contained(tiny_run, tmp_path):
    from viz.html import write_html
    from viz.rundata import RunData

    out = tmp_path / "r.html"
    size = write_html(RunData.from_dir(tiny_run), out, frames=10)
    text = out.read_text()
    assert size == out.stat().st_size < 30e6
    # nothing is fetched: no URLs to load scripts, styles or data from
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", text)
    assert "http://" not in text and "https://" not in text
    payload = json.loads(re.search(r'<script id="payload" type="application/json">(.*?)'
                                   r"</script>", text, re.S).group(1))
    assert len(payload["times_h"]) == 10 and payload["flood"]["nx"] == 40


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason="chromium / chromedriver binary not installed "
                           "(apt-get install chromium chromium-driver)")
def test_html_plays_in_headless_chromium(tiny_run, tmp_path):
    from browser import open_viewer

    from viz.html import write_html
    from viz.rundata import RunData

    out = tmp_path / "r.html"
    write_html(RunData.from_dir(tiny_run), out, frames=24, realization=0)
    d = open_viewer(out, log=True)
    try:
        def pixels():
            url = d.execute_script("return document.getElementById('c').toDataURL('image/png')")
            return base64.b64decode(url.split(",", 1)[1])

        first = pixels()
        d.find_element("id", "play").click()
        for _ in range(60):
            time.sleep(0.1)
            if d.execute_script("return twinViewer.frame()") >= 8:
                break
        assert d.execute_script("return twinViewer.frame()") >= 8
        d.find_element("id", "play").click()  # pause
        later = pixels()
        assert hashlib.sha1(first).digest() != hashlib.sha1(later).digest()
        # scrubbing back to the start gives the first picture again
        d.execute_script("const s = document.getElementById('slider'); s.value = 0;"
                         "s.dispatchEvent(new Event('input'));")
        time.sleep(0.3)
        assert pixels() == first
        assert "0.0 h after the start" in d.find_element("id", "clock").text
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        d.quit()


def test_compare_writes_a_side_by_side_replay(tiny_run, tmp_path):
    import argparse
    import shutil as sh

    import imageio.v3 as iio

    from viz.cli import cmd_compare

    other = tmp_path / "other"
    sh.copytree(tiny_run, other)
    out = tmp_path / "cmp"
    rc = cmd_compare(argparse.Namespace(run_dirs=[tiny_run, other], out=out, labels="a,b",
                                        mp4=out / "side.mp4", frames=4, fps=4, size=(640, 240)))
    assert rc == 0
    frame = iio.imread(out / "side.mp4", index=2)
    assert frame.shape[:2] == (240, 640)
    left, right = frame[:, :320].astype(int), frame[:, 320:].astype(int)
    # the same run on both sides: the halves show the same picture
    assert np.abs(left - right).mean() < 3.0
    assert (out / "metrics.csv").is_file()


def test_crews_appear_in_the_default_replay_of_any_realization(tiny_run):
    """The default outcome here is realization 1 (the lower median): its crew must show."""
    from viz.html import build_payload
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    run = RunData.from_dir(tiny_run)
    assert run.default_realization() == 1
    p = build_payload(run, frames=13)  # frames at every hour of the 12-h horizon
    assert p["crews"]["names"] == ["power-crew-01"]
    sc = Scene(run, SceneOptions(size=(640, 360), camera="top"))
    try:
        sc.update(6.0)  # repairing SUB from 5 to 8 h
        assert sc.crew_names == ["power-crew-01"]
        assert sc.crews.points[0, 2] > -1e4  # on the map, not parked out of sight
        assert tuple(sc.crews.point_data["rgb"][0]) == (20, 20, 20)  # repairing: dark core
        # and in the picture: a dark core inside a white halo where the crew works
        img = sc.screenshot().astype(int)
        r, c = sc.world_to_pixel(*run.access_xy[list(run.ids).index("SUB")], z=0.0)
        core = img[r - 1:r + 2, c - 1:c + 2].reshape(-1, 3)
        assert (core.sum(axis=1) < 120).all()
        ring = np.concatenate([img[r - 8:r - 6, c - 2:c + 3].reshape(-1, 3),
                               img[r + 7:r + 9, c - 2:c + 3].reshape(-1, 3)])
        assert (ring.min(axis=1) > 200).mean() > 0.5
        sc.update(4.0)  # on the way
        assert tuple(sc.crews.point_data["rgb"][0]) == (255, 255, 255)
    finally:
        sc.close()


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason="chromium / chromedriver binary not installed")
def test_html_shades_homes_by_every_kind_of_the_city(tmp_path):
    """A five-kind city: one toggle, one legend row and one count per kind; a block
    without gas is shaded in the gas colour."""
    from browser import open_viewer

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from fixtures import five_kind_city

    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import ScenarioSpec
    from viz import look
    from viz.html import write_html
    from viz.rundata import RunData

    doc = {"name": "five", "city": {"builtin": {}}, "horizon_h": 48, "realizations": 1,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["GG"], "damage_state": "complete"}]}],
           "crews": {"power": 1, "water": 1, "roads": 1, "gas": 0, "telecom": 1}}
    prep = prepare(ScenarioSpec.model_validate(doc), net=five_kind_city())
    write_run(tmp_path / "run", prep, run_monte_carlo(prep, workers=1))
    out = tmp_path / "r.html"
    write_html(RunData.from_dir(tmp_path / "run"), out, frames=12, realization=0)
    d = open_viewer(out, log=True)
    try:
        toggles = d.find_element("id", "toggles").text
        for word in ("power", "water", "road access", "gas", "telecom"):
            assert word in toggles
        d.execute_script("const s = document.getElementById('slider'); s.value = 6;"
                         "s.dispatchEvent(new Event('input'));")
        time.sleep(0.3)
        info = d.find_element("id", "info").text
        assert "gas: 300" in info and "telecom: 0" in info, info  # GN1 + GN2 blocks
        legend = d.find_element("id", "legend").get_attribute("innerHTML")
        assert "telecom" in legend
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        d.quit()
    assert look.block_rgba(np.array([[1, 1, 1, 0, 1.0]]))[0, :3].tolist() == list(
        look.NO_GAS_RGB)
