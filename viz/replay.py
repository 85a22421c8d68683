"""Replays of a run: MP4 / GIF frames rendered offscreen with pyvista.

Frames are evenly spaced over the horizon; every output is written to a temporary
sibling and renamed when complete, so a failed replay leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from viz.rundata import RunData, RunDirError
from viz.scene import Scene, SceneOptions


def frame_times(run: RunData, frames: int) -> np.ndarray:
    """``frames`` times (hours) evenly spaced from 0 to the horizon."""
    if frames < 2:
        raise RunDirError("--frames must be at least 2")
    return np.linspace(0.0, run.horizon_h, frames)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed to it when the block succeeds."""
    path = Path(path)
    if not path.parent.is_dir():
        raise RunDirError("the output folder does not exist", where=str(path.parent))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_frames(run: RunData, times: np.ndarray, options: SceneOptions,
                  on_frame: Callable[[int, np.ndarray], None]) -> None:
    """Render the scene at each time and hand each frame (h, w, 3 uint8) to ``on_frame``."""
    import pyvista as pv

    pv.OFF_SCREEN = True
    scene = Scene(run, options)
    try:
        for k, t in enumerate(times):
            scene.update(float(t))
            on_frame(k, scene.screenshot())
    finally:
        scene.close()


def write_video(run: RunData, *, mp4: Path | None = None, gif: Path | None = None,
                fps: int = 12, frames: int = 120, options: SceneOptions | None = None,
                progress: Callable[[int, int], None] | None = None) -> None:
    """Render ``frames`` frames once and write them to an MP4 and/or a GIF."""
    import imageio.v2 as iio2

    options = options or SceneOptions()
    w, h = options.size
    if mp4 is not None and (w % 2 or h % 2):
        raise RunDirError(f"MP4 needs an even width and height, got {w}x{h}")
    times = frame_times(run, frames)
    with _maybe(mp4) as tmp_mp4, _maybe(gif) as tmp_gif:
        writers = []
        if tmp_mp4 is not None:
            writers.append(iio2.get_writer(tmp_mp4, format="FFMPEG", mode="I", fps=fps,
                                           codec="libx264", quality=7, macro_block_size=2,
                                           pixelformat="yuv420p",
                                           output_params=["-preset", "veryfast"]))
        gif_frames: list[np.ndarray] = []

        def on_frame(k: int, img: np.ndarray) -> None:
            for wr in writers:
                wr.append_data(img)
            if tmp_gif is not None:
                gif_frames.append(_gif_frame(img))
            if progress is not None:
                progress(k + 1, len(times))

        try:
            render_frames(run, times, options, on_frame)
        finally:
            for wr in writers:
                wr.close()
        if tmp_gif is not None:
            import imageio.v3 as iio

            iio.imwrite(tmp_gif, np.stack(gif_frames), extension=".gif",
                        duration=int(1000 / fps), loop=0)


def write_side_by_side(runs: list[RunData], mp4: Path, *, fps: int = 12, frames: int = 120,
                       options: SceneOptions | None = None,
                       progress: Callable[[int, int], None] | None = None) -> None:
    """One MP4 with the runs' scenes side by side at the same scenario times.

    Each run gets an equal share of the width (same camera and options), so a planner
    sees the baseline and the alternative fail and recover in step."""
    import dataclasses

    import imageio.v2 as iio2
    import pyvista as pv

    pv.OFF_SCREEN = True
    options = options or SceneOptions()
    w, h = options.size
    each = (w // len(runs)) // 2 * 2
    if each < 160 or h % 2:
        raise RunDirError(f"--size {w}x{h} is too small for {len(runs)} runs side by side")
    horizon = min(r.horizon_h for r in runs)
    times = np.linspace(0.0, horizon, frames)
    opt = dataclasses.replace(options, size=(each, h))
    scenes = [Scene(r, opt) for r in runs]
    try:
        with atomic_file(mp4) as tmp:
            wr = iio2.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                 quality=7, macro_block_size=2, pixelformat="yuv420p",
                                 output_params=["-preset", "veryfast"])
            try:
                for k, t in enumerate(times):
                    imgs = []
                    for s in scenes:
                        s.update(float(t))
                        imgs.append(s.screenshot()[:, :, :3])
                    wr.append_data(np.concatenate(imgs, axis=1))
                    if progress is not None:
                        progress(k + 1, len(times))
            finally:
                wr.close()
    finally:
        for s in scenes:
            s.close()


def _gif_frame(img: np.ndarray, max_width: int = 720) -> np.ndarray:
    """GIFs get large: keep them at most ``max_width`` wide (nearest-pixel downscale)."""
    h, w = img.shape[:2]
    if w <= max_width:
        return img
    s = int(np.ceil(w / max_width))
    return img[::s, ::s]


@contextmanager
def _maybe(path: Path | None):
    if path is None:
        yield None
    else:
        with atomic_file(path) as tmp:
            yield tmp
