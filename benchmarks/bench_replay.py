"""Replay speed and size on the built-in city.

Renders the run's scene offscreen at 1280x720 for ``--frames`` frames (default 120)
and encodes an MP4 (goal: 120 frames in < 30 s, people-without-service layer
included), then writes the self-contained HTML viewer (goal: < 30 MB with the
service layer). Printed: scene build time, the block-service rebuild, frames per
second for render-only and for render + encode (the encoder is the peer measured
in the same run: encode-only fps of the same frames), MP4 and HTML sizes.

Run: ``python benchmarks/bench_replay.py [RUN_DIR] [--frames N] [--size WxH]``.
Without RUN_DIR it runs ``scenarios/demo.yaml`` with 2 realizations into a
temporary folder first (about a minute).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", nargs="?", type=Path)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    tmp = tempfile.TemporaryDirectory(prefix="bench_replay_")
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = Path(tmp.name) / "demo"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "twin.cli", "run",
                        str(ROOT / "scenarios/demo.yaml"), "--out", str(run_dir), "-n", "2",
                        "-q"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        print(f"twin run demo (2 realizations): {time.perf_counter() - t0:.1f} s")

    import imageio.v2 as iio2
    import numpy as np

    from viz.html import write_html
    from viz.offscreen import use_offscreen
    from viz.replay import frame_times
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    use_offscreen()
    run = RunData.from_dir(run_dir)
    print(f"run: {run.title}: {run.n} components, {len(run.events)} events")
    times = frame_times(run, args.frames, pace="event")
    t0 = time.perf_counter()
    scene = Scene(run, SceneOptions(size=(w, h)))
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    scene.prepare(times)
    t_service = time.perf_counter() - t0
    frames = []
    t0 = time.perf_counter()
    c0 = time.process_time()
    for t in times:
        scene.update(float(t))
        frames.append(scene.screenshot())
    t_render = time.perf_counter() - t0
    c_render = time.process_time() - c0
    scene.close()
    mp4 = Path(tmp.name) / "bench.mp4"
    t0 = time.perf_counter()
    wr = iio2.get_writer(mp4, format="FFMPEG", mode="I", fps=12, codec="libx264", quality=7,
                         macro_block_size=2, pixelformat="yuv420p",
                         output_params=["-preset", "veryfast"])
    for f in frames:
        wr.append_data(f)
    wr.close()
    t_encode = time.perf_counter() - t0
    n = len(frames)
    total = t_build + t_service + t_render + t_encode
    print(f"scene build            {t_build:6.2f} s")
    print(f"block service rebuild  {t_service:6.2f} s  "
          f"({'with' if scene.services is not None else 'no'} population blocks)")
    print(f"render {n} frames      {t_render:6.2f} s  ({n / t_render:5.1f} fps; "
          f"CPU {c_render:.1f} s: "
          f"wall > CPU means the machine is shared)")
    print(f"encode {n} frames (peer) {t_encode:6.2f} s  ({n / t_encode:5.1f} fps)")
    print(f"MP4 total              {total:6.2f} s  ({n / total:5.1f} fps end to end; goal "
          f"120 frames < 30 s -> {'OK' if total * 120 / n < 30 else 'MISSED'})  "
          f"{mp4.stat().st_size / 1e6:.1f} MB")
    html = Path(tmp.name) / "bench.html"
    t0 = time.perf_counter()
    size = write_html(run, html, frames=args.frames, pace="event")
    print(f"HTML                   {time.perf_counter() - t0:6.2f} s  {size / 1e6:.2f} MB "
          f"(goal < 30 MB -> {'OK' if size < 30e6 else 'MISSED'})")
    assert np.mean(np.abs(frames[0].astype(int) - frames[-1].astype(int))) >= 0
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
