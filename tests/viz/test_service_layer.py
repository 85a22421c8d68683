"""People without service: rebuilt from a real (tiny) run's events, drawn on the map."""

import numpy as np
import pytest

from common.names import NETWORKS
from twin.scenario import ScenarioSpec


@pytest.fixture(scope="module")
def tiny_real_run(tmp_path_factory):
    """The tiny city: the substation fails at 1 h (every block loses power; the pumps
    and the treatment plant with it, so the tank drains for its 6 h) and is repaired."""
    from fixtures import tiny_city

    from twin.run import prepare, run_monte_carlo, write_run

    spec = ScenarioSpec.model_validate({
        "name": "tiny substation loss", "city": {"builtin": {}}, "horizon_h": 40,
        "realizations": 2, "hazards": [{"type": "damage_map", "events": [
            {"time_h": 1, "assets": ["SUB"], "damage_state": "extensive"}]}],
        "crews": {"power": 1, "water": 1, "roads": 1, "mobilisation_h": 4}})
    prep = prepare(spec, net=tiny_city(), use_cache=False)
    out = tmp_path_factory.mktemp("svc") / "run"
    write_run(out, prep, run_monte_carlo(prep))
    return out


def test_block_service_matches_the_recorded_curves(tiny_real_run):
    from viz.rundata import RunData
    from viz.service import block_service, check_against_curves

    run = RunData.from_dir(tiny_real_run)
    times = np.unique(run.curves.time_h.to_numpy())
    for r in run.realizations:
        bs = block_service(run, int(r), times)
        assert check_against_curves(run, bs, int(r)) < 1e-6
        # and one frame alone gives the same as the whole series (tanks drain on time)
        k = int(np.argmin(np.abs(times - 9.0)))
        one = block_service(run, int(r), times[k:k + 1])
        assert np.array_equal(one.served[0], bs.served[k])
    # the substation is out at 3 h: all 600 people lack power
    bs = block_service(run, 0, np.array([0.5, 3.0]))
    assert bs.people_without()[0].tolist() == [0] * len(NETWORKS)  # absent kinds: 0
    assert bs.people_without()[1, 0] == 600


def _dark(px):
    return px.astype(int).sum(axis=-1)


def test_block_without_power_is_shaded_where_the_events_say(tiny_real_run):
    from viz.look import NO_POWER_RGB
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    run = RunData.from_dir(tiny_real_run)
    sc = Scene(run, SceneOptions(size=(400, 300), camera="top", realization=0))
    try:
        def block_px(t):
            sc.update(t)
            img = sc.screenshot()
            r, c = sc.world_to_pixel(125.0, 75.0, z=0.0)  # inside block B1, off the roads
            return img[r - 1:r + 2, c - 1:c + 2].reshape(-1, 3)

        before = block_px(0.5)
        during = block_px(3.0)
        assert "people without power: 600" in sc.top_line.GetInput()
        # darker, and towards the "no power" colour
        assert _dark(during).mean() < _dark(before).mean() - 60
        d_before = np.abs(before.astype(int) - NO_POWER_RGB).sum(axis=1).mean()
        d_during = np.abs(during.astype(int) - NO_POWER_RGB).sum(axis=1).mean()
        assert d_during < d_before - 60
    finally:
        sc.close()


def test_html_payload_has_blocks_people_and_the_same_outcome_in_the_gauge(tiny_real_run):
    from viz.html import build_payload
    from viz.rundata import RunData

    run = RunData.from_dir(tiny_real_run)
    p = build_payload(run, frames=41, pace="even")  # a frame every hour
    assert p["blocks"]["n"] == 3
    assert p["blocks"]["without"][3][0] == 600  # t = 3 h
    r = p["realization"]
    assert p["service"][3] == pytest.approx(run.service_at(3.0, r))


def test_poster_shows_the_worst_moment(tiny_real_run, tmp_path):
    import imageio.v3 as iio

    from viz.poster import worst_time, write_poster
    from viz.rundata import RunData
    from viz.scene import SceneOptions

    run = RunData.from_dir(tiny_real_run)
    t = worst_time(run, 0)
    # the worst moment: everyone without power (the substation is out from 1 h)
    from viz.service import block_service

    assert block_service(run, 0, np.array([t])).people_without_any()[0] == 600
    out = tmp_path / "poster.png"
    assert write_poster(run, out, options=SceneOptions(realization=0)) == t
    img = iio.imread(out)
    assert img.shape[0] > 800 and img.shape[1] > 1000 and img[..., :3].std() > 20
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_event_pace_spends_frames_where_things_happen(tiny_real_run):
    from viz.replay import frame_times
    from viz.rundata import RunData

    run = RunData.from_dir(tiny_real_run)
    even = frame_times(run, 41, pace="even")
    paced = frame_times(run, 41, pace="event", realization=0)
    assert paced[0] == 0 and paced[-1] == run.horizon_h
    assert np.all(np.diff(paced) > 0)
    ev = run.events[(run.events.realization == 0) & (run.events.event != "crew_dispatched")]
    lo, hi = ev.time_h.min() - 1, ev.time_h.max() + 1
    busy = lambda t: int(((t >= lo) & (t <= hi)).sum())  # noqa: E731
    assert busy(paced) > busy(even)


def test_side_by_side_panels_are_labelled_with_the_difference(tiny_real_run):
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    run = RunData.from_dir(tiny_real_run)
    a = Scene(run, SceneOptions(size=(640, 360), realization=0, panel_label="baseline"))
    b = Scene(run, SceneOptions(size=(640, 360), realization=1, panel_label="more crews"))
    try:
        labels = [act.GetInput() for act in a.p.renderer.GetViewProps()
                  if hasattr(act, "GetInput")]
        assert "baseline" in labels
        for s in (a, b):
            s.update(3.0)
        assert a.people_out == b.people_out == 600
    finally:
        a.close()
        b.close()


def test_html_toggles_the_homes_without_power_in_a_browser(tiny_real_run, tmp_path):
    import base64

    from browser import open_viewer

    from viz.html import write_html
    from viz.rundata import RunData

    out = tmp_path / "r.html"
    write_html(RunData.from_dir(tiny_real_run), out, frames=41, realization=0, pace="even")
    d = open_viewer(out, size="900,600")
    try:
        d.execute_script("twinViewer.camera.el = 1.5; twinViewer.setFrame(3)")  # t = 3 h

        def pixels():
            url = d.execute_script("return document.getElementById('c').toDataURL()")
            return base64.b64decode(url.split(",", 1)[1])

        assert "people without power: 600" in d.find_element("id", "info").text
        shaded = pixels()
        d.find_element("id", "tg0").click()  # stop shading homes without power
        d.execute_script("twinViewer.setFrame(3)")
        assert pixels() != shaded
        d.find_element("id", "tg0").click()
        d.execute_script("twinViewer.setFrame(3)")
        assert pixels() == shaded
    finally:
        d.quit()


def test_a_rebuild_that_strays_from_the_run_says_so(tiny_real_run, tmp_path):
    """A run whose recorded service differs (physics-based service) gets a one-line
    warning instead of a silently different map."""
    import shutil

    import pandas as pd

    from viz.rundata import RunData
    from viz.service import ServiceRebuildWarning, block_service, warn_if_different

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_real_run, run_dir)
    run = RunData.from_dir(run_dir)
    times = np.unique(run.curves.time_h.to_numpy())
    bs = block_service(run, 0, times)
    assert warn_if_different(run, bs, 0) < 1e-6  # the same run: no warning
    c = pd.read_parquet(run_dir / "curves.parquet")
    c.loc[c.network == "system", "served_fraction"] *= 0.5
    c.to_parquet(run_dir / "curves.parquet")
    with pytest.warns(ServiceRebuildWarning, match="connectivity"):
        warn_if_different(RunData.from_dir(run_dir), bs, 0)
