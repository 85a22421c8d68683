"""Honest hazards: the flood recedes as stored, the track line has its points."""

import numpy as np
import pytest
from viz_synthetic import WET_COLS, WET_ROWS, xy_of

from common.intensity import IntensityMeasure


def test_recession_frames_follow_the_sites_depths():
    from hazards.base import GridSeries, HazardField
    from twin.replay_store import _with_recession

    grid = np.full((2, 4, 4), 0.8, np.float32)
    gt = np.array([0.0, 2.0])
    ft = np.array([0.0, 2.0, 26.0])  # recedes linearly over 24 h after the last frame
    site = np.array([[0.8, 0.8], [0.8, 0.8], [0.0, 0.0]], np.float32)
    f = HazardField(ft, {IntensityMeasure.FLOOD_DEPTH_M: site}, grids={
        IntensityMeasure.FLOOD_DEPTH_M: GridSeries(IntensityMeasure.FLOOD_DEPTH_M, gt, grid,
                                                   (1.0, 0, 0, 0, -1.0, 4.0), "EPSG:32650")})
    vals, times = _with_recession(grid, gt, f)
    assert times[2:].tolist() == pytest.approx(np.linspace(2, 26, 13)[1:].tolist())
    assert vals[-1].max() == 0.0
    k = int(np.argmin(np.abs(times - 14.0)))  # half-way: half the depth
    assert vals[k].max() == pytest.approx(0.4, abs=1e-6)
    # a field that holds its depths adds no frames
    held = HazardField(ft, {IntensityMeasure.FLOOD_DEPTH_M: np.full((3, 2), 0.8, np.float32)},
                       grids=f.grids)
    assert len(_with_recession(grid, gt, held)[1]) == 2


def test_flood_pixels_decrease_after_the_last_hazard_frame(tiny_run):
    """The synthetic flood holds 0.8 m to 6 h; add a recession to dry at 12 h."""
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    with np.load(tiny_run / "replay.npz") as z:
        a = {k: z[k] for k in z.files}
    v, t = a["grid__flood_depth_m__values"], a["grid__flood_depth_m__times_h"]
    rt = np.array([8.0, 10.0, 12.0])
    a["grid__flood_depth_m__values"] = np.concatenate(
        [v, v[-1][None] * np.array([4, 2, 0], np.float32)[:, None, None] / 6])
    a["grid__flood_depth_m__times_h"] = np.concatenate([t, rt])
    np.savez(tiny_run / "replay.npz", **a)
    sc = Scene(RunData.from_dir(tiny_run), SceneOptions(size=(400, 300), camera="top",
                                                        realization=0))

    def blue_darkness(time_h):
        sc.update(time_h)
        img = sc.screenshot()
        (r0, c0) = sc.world_to_pixel(*xy_of(WET_ROWS[0] + 1, WET_COLS[0] + 1), z=0)
        (r1, c1) = sc.world_to_pixel(*xy_of(WET_ROWS[1] - 1, WET_COLS[1] - 1), z=0)
        px = img[min(r0, r1):max(r0, r1), min(c0, c1):max(c0, c1)].astype(int)
        blue = (px[..., 2] > px[..., 0] + 40) & (px[..., 2] > px[..., 1] + 10)
        return blue.mean(), 255 - px[..., 0][blue].mean() if blue.any() else 0.0

    try:
        wet6, deep6 = blue_darkness(6.0)
        wet9, deep9 = blue_darkness(9.0)  # 0.53 m: one class lighter
        wet12, _ = blue_darkness(12.0)  # dry
    finally:
        sc.close()
    assert wet6 > 0.8 and wet12 < 0.05
    assert deep9 < deep6  # shallower water is drawn lighter


def test_track_line_has_points_in_the_html_payload(tiny_run):
    from pyproj import Transformer

    from viz.html import build_payload
    from viz.rundata import RunData

    tr = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    x, y = xy_of(15, 20)
    # a straight track from 300 km south-west to 300 km north-east, fixes every 6 h
    xs = x + np.linspace(-3e5, 3e5, 9)
    ys = y + np.linspace(-3e5, 3e5, 9)
    lon, lat = tr.transform(xs, ys)
    with np.load(tiny_run / "replay.npz") as z:
        a = {k: z[k] for k in z.files}
    a["track_lonlat"] = np.column_stack([lon, lat])
    a["track_times_h"] = np.linspace(-18.0, 30.0, 9)
    np.savez(tiny_run / "replay.npz", **a)
    p = build_payload(RunData.from_dir(tiny_run), frames=5)
    assert len(p["track"]["line"]) >= 2
    assert len(p["track"]["line_t"]) == len(p["track"]["line"])
    assert all(e is not None for e in p["track"]["eye"])  # the storm is on its track 0..12 h
