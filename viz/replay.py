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

from viz import story
from viz.rundata import RunData, RunDirError
from viz.scene import Scene, SceneOptions

#: how much slower than even pacing the busiest stretch of a replay may run
MAX_SLOWDOWN = 5.0


def frame_times(run: RunData, frames: int, *, pace: str = "even",
                realization: int | None = None) -> np.ndarray:
    """``frames`` times (hours) from 0 to the horizon.

    ``even``: evenly spaced. ``event``: time runs slower where many state changes of
    the shown realization happen (up to :data:`MAX_SLOWDOWN` times slower than
    even), so the storm's hours get more frames than the quiet days after it.
    """
    if frames < 2:
        raise RunDirError("--frames must be at least 2")
    horizon = run.horizon_h
    if pace == "even" or horizon <= 0:
        return np.linspace(0.0, horizon, frames)
    if pace != "event":
        raise RunDirError(f"unknown pace '{pace}'; use event or even")
    r = run.default_realization() if realization is None else realization
    ev = run.events[(run.events["realization"] == r)
                    & ~run.events["event"].isin(["crew_dispatched"])]
    t = ev["time_h"].to_numpy(float)
    grid = np.linspace(0.0, horizon, 1001)
    if not len(t):
        return np.linspace(0.0, horizon, frames)
    dens, _ = np.histogram(np.clip(t, 0, horizon), bins=grid)
    # smooth over ~2 % of the horizon so a burst slows the minutes around it too
    width = max(1, int(round(0.02 * len(dens))))
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    dens = np.convolve(dens.astype(float), kernel / kernel.sum(), mode="same")
    w = 1.0 + (MAX_SLOWDOWN - 1.0) * dens / max(dens.max(), 1e-12)
    cum = np.concatenate([[0.0], np.cumsum(w)])
    out = np.interp(np.linspace(0.0, cum[-1], frames), cum, grid)
    out[0], out[-1] = 0.0, horizon
    return out


def check_new_file(path: Path, *, overwrite: bool = False) -> None:
    """Refuse to replace an existing ``path`` unless ``overwrite`` (check before long work)."""
    path = Path(path)
    if not path.parent.resolve().is_dir():
        raise RunDirError("the output folder does not exist", where=str(path.parent))
    if path.exists() and not overwrite:
        raise RunDirError("exists; pass --overwrite to replace it", where=str(path))
    if path.is_dir():
        raise RunDirError("is a directory, not a file", where=str(path))


@contextmanager
def atomic_file(path: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed to it when the block succeeds.

    The file gets the user's normal permissions (``0666`` less the umask), not the
    private ``0600`` of :func:`tempfile.mkstemp`: replays are made to be shared.
    """
    path = Path(path)
    check_new_file(path, overwrite=overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_frames(run: RunData, times: np.ndarray, options: SceneOptions,
                  on_frame: Callable[[int, np.ndarray], None]) -> None:
    """Render the scene at each time and hand each frame (h, w, 3 uint8) to ``on_frame``."""
    from viz.offscreen import use_offscreen

    use_offscreen()
    scene = Scene(run, options)
    try:
        scene.prepare(times)
        for k, t in enumerate(times):
            scene.update(float(t))
            on_frame(k, scene.screenshot())
    finally:
        scene.close()


def write_video(run: RunData, *, mp4: Path | None = None, gif: Path | None = None,
                fps: int = 12, frames: int = 120, options: SceneOptions | None = None,
                progress: Callable[[int, int], None] | None = None,
                pace: str = "even") -> None:
    """Render ``frames`` frames once and write them to an MP4 and/or a GIF."""
    import imageio.v2 as iio2

    options = options or SceneOptions()
    w, h = options.size
    if mp4 is not None and (w % 2 or h % 2):
        raise RunDirError(f"MP4 needs an even width and height, got {w}x{h}")
    times = frame_times(run, frames, pace=pace, realization=options.realization)
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
                       progress: Callable[[int, int], None] | None = None,
                       labels: list[str] | None = None) -> None:
    """One MP4 with the runs' scenes side by side at the same scenario times.

    Each run gets an equal share of the width (same camera and options) and its
    label on top, so a planner sees the baseline and the alternative fail and
    recover in step; with population blocks each panel also says how many more (or
    fewer) people are without service than in the first run."""
    import dataclasses

    import imageio.v2 as iio2

    from viz.offscreen import use_offscreen

    use_offscreen()
    options = options or SceneOptions()
    w, h = options.size
    each = (w // len(runs)) // 2 * 2
    if each < 160 or h % 2:
        raise RunDirError(f"--size {w}x{h} is too small for {len(runs)} runs side by side")
    horizon = min(r.horizon_h for r in runs)
    times = np.linspace(0.0, horizon, frames)
    opt = dataclasses.replace(options, size=(each, h))
    labels = list(labels) if labels else [r.path.name for r in runs]
    scenes = [Scene(r, dataclasses.replace(opt, panel_label=lb))
              for r, lb in zip(runs, labels, strict=True)]
    try:
        for s in scenes:
            s.prepare(times)
        with atomic_file(mp4) as tmp:
            wr = iio2.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                 quality=7, macro_block_size=2, pixelformat="yuv420p",
                                 output_params=["-preset", "veryfast"])
            try:
                for k, t in enumerate(times):
                    imgs = []
                    for s in scenes:
                        s.update(float(t))
                    base = scenes[0].people_out
                    for s in scenes:
                        if base is not None and s is not scenes[0] and s.people_out is not None:
                            d = s.people_out - base
                            sign = "\u2212" if d < 0 else "+"
                            s.set_panel_note(f"{sign}{story.people(abs(d))} people without "
                                             f"service vs {labels[0]}")
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
    """GIFs get large: keep them at most ``max_width`` wide (area-averaged, so the
    legend's small text stays legible)."""
    h, w = img.shape[:2]
    if w <= max_width:
        return img
    from PIL import Image

    size = (max_width, max(1, round(h * max_width / w)))
    return np.asarray(Image.fromarray(img[..., :3]).resize(size, Image.Resampling.BOX))


@contextmanager
def _maybe(path: Path | None):
    if path is None:
        yield None
    else:
        with atomic_file(path) as tmp:
            yield tmp
