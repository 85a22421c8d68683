"""Subcommands ``replay``, ``view``, ``plot`` and ``compare`` (mounted by :mod:`twin.cli`).

Each ``add_*`` adds one subparser; its ``func`` takes the parsed ``args`` and returns
an exit code. User errors raise :class:`common.errors.InputError` subclasses.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from viz.errors import RunDirError

_FMT = argparse.RawDescriptionHelpFormatter
#: memory a GIF's frames may take before they are written (bytes)
GIF_MAX_BYTES = 2e9
#: component states an HTML replay may embed (frames x components, one byte each)
HTML_MAX_STATES = 5e8


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT (e.g. 1280x720), got "
                                         f"'{text}'") from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is out of range (16..7680 x 16..4320)")
    return w, h


# ---------------------------------------------------------------------- replay
def add_replay(sub) -> None:
    from viz.options import CAMERAS, PACES

    p = sub.add_parser(
        "replay", formatter_class=_FMT,
        help="render a run as MP4 / GIF video and/or a self-contained interactive HTML",
        description="Render a run directory (from `twin run`) as a video (offscreen) and/or a "
                    "single-file interactive HTML viewer (orbit, zoom, scrub, play; no "
                    "network access).",
        epilog="examples:\n"
               "  twin replay runs/demo --mp4 demo.mp4                 120 frames, 1280x720\n"
               "  twin replay runs/demo --html demo.html               open in any browser\n"
               "  twin replay runs/flood --gif f.gif --size 640x360 --camera top --frames 60\n"
               "  twin replay runs/demo --png t48.png --time 48        one still frame\n"
               "  twin replay runs/demo --poster brief.png             map, curves, key numbers")
    p.add_argument("run_dir", type=Path, help="run directory written by `twin run`")
    p.add_argument("--mp4", type=Path, help="write an MP4 video (H.264)")
    p.add_argument("--gif", type=Path, help="write an animated GIF (at most 720 px wide)")
    p.add_argument("--html", type=Path, help="write a self-contained interactive HTML viewer")
    p.add_argument("--png", type=Path, help="write one still frame at --time")
    p.add_argument("--poster", type=Path, help="write a still poster PNG: the map at the worst "
                   "moment, the recovery curves and the key numbers")
    p.add_argument("--time", type=float, default=None, help="hours, for --png (default: "
                   "a quarter of the horizon)")
    p.add_argument("--fps", type=int, default=12, help="frames per second (default 12)")
    p.add_argument("--size", type=_size, default=(1280, 720), help="WxH pixels (default "
                   "1280x720)")
    p.add_argument("--camera", choices=CAMERAS, default="oblique", help="camera preset")
    p.add_argument("--realization", type=int, default=None,
                   help="simulated outcome to show (default: the one with the median system "
                        "loss)")
    p.add_argument("--frames", type=int, default=120, help="frames over the horizon (default "
                   "120)")
    p.add_argument("--pace", choices=PACES, default="event",
                   help="event: time runs slower when much happens (default); even: the same "
                        "scenario time between frames")
    p.add_argument("--exaggeration", type=float, default=3.0, help="vertical exaggeration "
                   "(default 3)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=cmd_replay)


def _check_time(t: float | None, horizon_h: float, where: str) -> None:
    if t is not None and not (math.isfinite(t) and 0.0 <= t <= horizon_h):
        raise RunDirError(f"--time must be a number of hours in 0..{horizon_h:g}, got {t}",
                          where=where)


def cmd_replay(args) -> int:
    from viz.replay import check_new_file
    from viz.rundata import RunData
    from viz.scene import SceneOptions

    outs = [o for o in (args.mp4, args.gif, args.html, args.png, getattr(args, "poster", None))
            if o is not None]
    if not outs:
        raise RunDirError("nothing to write: give --mp4, --gif, --html, --png and/or --poster")
    if args.fps < 1 or args.fps > 120:
        raise RunDirError(f"--fps must be 1..120, got {args.fps}")
    if args.frames < 2 or args.frames > 5000:
        raise RunDirError(f"--frames must be 2..5000, got {args.frames}")
    if not (0 < args.exaggeration <= 100):
        raise RunDirError(f"--exaggeration must be in (0, 100], got {args.exaggeration}")
    if args.time is not None and not math.isfinite(args.time):
        raise RunDirError(f"--time must be a finite number of hours, got {args.time}")
    if len({o.resolve() for o in outs}) < len(outs):
        raise RunDirError("two outputs name the same file")
    for out in outs:
        check_new_file(out, overwrite=getattr(args, "overwrite", False))
    if args.gif is not None:
        # GIF frames are kept in memory until written (at most 720 px wide)
        w, h = args.size
        gw, gh = min(w, 720), round(h * min(w, 720) / w)
        need = args.frames * gw * gh * 3
        if need > GIF_MAX_BYTES:
            raise RunDirError(f"a GIF of {args.frames} frames at {gw}x{gh} needs "
                              f"{need / 1e9:.1f} GB of memory (limit "
                              f"{GIF_MAX_BYTES / 1e9:g} GB); use fewer --frames or --mp4")
    run = RunData.from_dir(args.run_dir)
    run.check_realization(args.realization)
    _check_time(args.time, run.horizon_h, str(args.run_dir))
    if args.html is not None and args.frames * run.n > HTML_MAX_STATES:
        raise RunDirError(f"an HTML replay of {args.frames} frames x {run.n:,} components "
                          f"holds {args.frames * run.n / 1e9:.1f} G states (limit "
                          f"{HTML_MAX_STATES / 1e9:g} G); use fewer --frames")
    pace = getattr(args, "pace", "event")
    opt = SceneOptions(size=args.size, exaggeration=args.exaggeration, camera=args.camera,
                       realization=args.realization)
    if args.html:
        from viz.html import write_html

        size = write_html(run, args.html, frames=args.frames, realization=args.realization,
                          exaggeration=args.exaggeration, pace=pace)
        print(f"wrote {args.html} ({size / 1e6:.1f} MB)")
    if args.png:
        from viz.replay import atomic_file
        from viz.scene import render_png

        t = run.horizon_h / 4 if args.time is None else args.time
        with atomic_file(args.png) as tmp:
            render_png(run, t, tmp, opt)
        print(f"wrote {args.png} (t = {t:g} h)")
    if getattr(args, "poster", None):
        from viz.poster import write_poster

        t = write_poster(run, args.poster, options=opt, time_h=args.time)
        print(f"wrote {args.poster} (worst moment t = {t:g} h)")
    if args.mp4 or args.gif:
        from viz.replay import write_video

        def progress(k: int, n: int) -> None:
            if sys.stderr.isatty():
                print(f"\rrendering frame {k}/{n}", end="" if k < n else "\n", file=sys.stderr)

        write_video(run, mp4=args.mp4, gif=args.gif, fps=args.fps, frames=args.frames,
                    options=opt, progress=progress, pace=pace)
        for out in (args.mp4, args.gif):
            if out:
                print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {args.frames} frames)")
    return 0


# ---------------------------------------------------------------------- view
def add_view(sub) -> None:
    p = sub.add_parser("view", help="interactive 3D window with a time slider (needs a display)",
                       description="Open a run in an interactive pyvista window with a time "
                                   "slider. Without a display use `twin replay --html`.")
    p.add_argument("run_dir", type=Path, help="run directory written by `twin run`")
    p.add_argument("--realization", type=int, default=None, help="realization to show")
    p.add_argument("--exaggeration", type=float, default=3.0, help="vertical exaggeration")
    p.add_argument("--camera", default="oblique", help="camera preset")
    p.set_defaults(func=cmd_view)


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_view(args) -> int:
    if not has_display():
        print(f"twin view needs a display (no $DISPLAY); try `twin replay {args.run_dir} "
              f"--html replay.html` and open it in a browser", file=sys.stderr)
        return 2
    from viz.rundata import RunData
    from viz.scene import Scene, SceneOptions

    run = RunData.from_dir(args.run_dir)
    run.check_realization(args.realization)
    scene = Scene(run, SceneOptions(size=(1280, 800), exaggeration=args.exaggeration,
                                    camera=args.camera, realization=args.realization),
                  off_screen=False)
    scene.update(0.0)
    scene.p.add_slider_widget(lambda t: scene.update(t), [0.0, run.horizon_h], value=0.0,
                              title="time (h)", pointa=(0.35, 0.06), pointb=(0.75, 0.06),
                              style="modern", fmt="%.0f")
    # the window writes nothing, so a SIGTERM may end it at once: the CLI turns TERM into
    # an interrupt for the outputs' sake, which VTK's event loop would never deliver
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    scene.p.show(title=f"twin view - {run.title}")
    return 0


# ---------------------------------------------------------------------- plot
def add_plot(sub) -> None:
    p = sub.add_parser(
        "plot", formatter_class=_FMT, help="write recovery, loss, damage-map and crew plots",
        description="Write PNG plots of a run: recovery curves, loss curves and loss "
                    "exceedance, a 2D damage map at a chosen time and a crew timeline.",
        epilog="example:\n  twin plot runs/demo --time 24 --out runs/demo/plots")
    p.add_argument("run_dir", type=Path, help="run directory written by `twin run`")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: RUN_DIR)")
    p.add_argument("--time", type=float, default=None,
                   help="hours, for the damage map (default: when the most people lack a service)")
    p.add_argument("--realization", type=int, default=None,
                   help="realization for the map and the timeline (default: median loss)")
    p.set_defaults(func=cmd_plot)


def cmd_plot(args) -> int:
    from viz.plots import write_plots
    from viz.rundata import RunData

    if args.time is not None and not math.isfinite(args.time):
        raise RunDirError(f"--time must be a finite number of hours, got {args.time}")
    run = RunData.from_dir(args.run_dir, need_replay=False)
    run.check_realization(args.realization)
    _check_time(args.time, run.horizon_h, str(args.run_dir))
    out = args.out or args.run_dir
    out.mkdir(parents=True, exist_ok=True)
    files = write_plots(run, out, time_h=args.time, realization=args.realization)
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


# ---------------------------------------------------------------------- compare
def add_compare(sub) -> None:
    p = sub.add_parser(
        "compare", formatter_class=_FMT, help="overlay the curves of runs and tabulate metrics",
        description="Overlay the median recovery and loss curves of two or more runs and "
                    "write a metric table (CSV and PNG).",
        epilog="example:\n  twin compare runs/baseline runs/more_crews --out runs/cmp")
    p.add_argument("run_dirs", type=Path, nargs="+", help="run directories (two or more)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--labels", default=None, help="comma-separated labels (default: folder "
                   "names)")
    p.add_argument("--mp4", type=Path, help="also write a side-by-side replay of the runs")
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--fps", type=int, default=12)
    p.add_argument("--size", type=_size, default=(1920, 540),
                   help="WxH pixels of the whole side-by-side video (default 1920x540)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --mp4")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    from viz.plots import write_compare
    from viz.rundata import RunData

    if len(args.run_dirs) < 2:
        raise RunDirError("compare needs two or more run directories")
    labels = args.labels.split(",") if args.labels else [d.name or str(d) for d in args.run_dirs]
    if len(labels) != len(args.run_dirs):
        raise RunDirError(f"--labels has {len(labels)} names for {len(args.run_dirs)} runs")
    labels = [lb.strip() for lb in labels]
    if any(not lb for lb in labels):
        raise RunDirError("--labels has an empty name")
    mp4 = getattr(args, "mp4", None)
    if mp4 is not None:
        from viz.replay import check_new_file

        if args.frames < 2 or args.frames > 5000 or not 1 <= args.fps <= 120:
            raise RunDirError("--frames must be 2..5000 and --fps 1..120")
        if mp4.parent.resolve() != args.out.resolve():
            check_new_file(mp4, overwrite=getattr(args, "overwrite", False))
        elif mp4.exists() and not getattr(args, "overwrite", False):
            raise RunDirError("exists; pass --overwrite to replace it", where=str(mp4))
    runs = [RunData.from_dir(d, need_replay=mp4 is not None) for d in args.run_dirs]
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"cannot create the output folder: {e.strerror}",
                          where=str(args.out)) from None
    files = write_compare(runs, labels, args.out)
    if mp4 is not None:
        from viz.replay import write_side_by_side
        from viz.scene import SceneOptions

        write_side_by_side(runs, mp4, fps=args.fps, frames=args.frames,
                           options=SceneOptions(size=args.size), labels=labels)
        files.append(mp4)
    print("wrote " + ", ".join(str(f) for f in files))
    return 0
