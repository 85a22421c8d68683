"""Image checks on offscreen renders of the tiny synthetic run: content, not existence."""

import numpy as np
import pytest
from viz_synthetic import WET_COLS, WET_ROWS, xy_of

pv = pytest.importorskip("pyvista")


def _blue(px):
    px = px.astype(int)
    return (px[..., 2] > px[..., 0] + 60) & (px[..., 2] > px[..., 1] + 20)


def _red(px):
    px = px.astype(int)
    return (px[..., 0] > 150) & (px[..., 1] < 90) & (px[..., 2] < 90)


@pytest.fixture
def scene(tiny_run):
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    sc = Scene(RunData.from_dir(tiny_run), SceneOptions(size=(400, 300), camera="top",
                                                        realization=0))
    yield sc
    sc.close()


def _patch(scene, img, rows, cols):
    """Pixels of the image inside the DEM cells rows x cols (a margin of one cell)."""
    (r0, c0) = scene.world_to_pixel(*xy_of(rows[0] + 1, cols[0] + 1), z=0)
    (r1, c1) = scene.world_to_pixel(*xy_of(rows[1] - 1, cols[1] - 1), z=0)
    return img[min(r0, r1):max(r0, r1), min(c0, c1):max(c0, c1)]


def test_flood_water_is_blue_where_the_grid_is_wet_and_only_there(scene):
    scene.update(3.0)
    img = scene.screenshot()
    wet = _patch(scene, img, WET_ROWS, WET_COLS)
    assert wet.size and _blue(wet).mean() > 0.8
    dry = _patch(scene, img, (18, 28), (22, 36))  # same columns, south of the patch
    assert dry.size and _blue(dry).mean() < 0.05
    # before the flood arrives the same patch is dry
    scene.update(0.5)
    before = _patch(scene, scene.screenshot(), WET_ROWS, WET_COLS)
    assert _blue(before).mean() < 0.05


def test_failed_asset_glyph_has_the_failed_colour(scene):
    from viz.scene import STATE_RGB

    def at_sub(img):
        r, c = scene.world_to_pixel(*xy_of(24, 8))
        return img[r - 2:r + 3, c - 2:c + 3].reshape(-1, 3)

    scene.update(0.5)
    assert not _red(at_sub(scene.screenshot())).any()  # working: not red
    scene.update(3.0)
    px = at_sub(scene.screenshot())
    assert _red(px).mean() > 0.5
    # and it is the failed colour (lighting changes brightness only a little)
    assert np.abs(px.astype(int) - STATE_RGB[1].astype(int)).sum(axis=1).min() < 90
    scene.update(6.0)  # under repair: yellow
    px = at_sub(scene.screenshot()).astype(int)
    assert ((px[:, 0] > 170) & (px[:, 1] > 150) & (px[:, 2] < 100)).mean() > 0.5


def test_service_gauge_follows_the_curve(scene):
    scene.update(0.5)
    full = scene._gauge["fill"][0].GetPoint(1)[0]
    scene.update(3.0)
    low = scene._gauge["fill"][0].GetPoint(1)[0]
    x0, _, x1, _ = scene._gauge_box
    assert full == pytest.approx(x1)
    assert low == pytest.approx(x0 + 0.4 * (x1 - x0))  # realization 0 serves 40 %
