"""``twin drill``: the drill console in the browser, or a scripted drill (``--script``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """examples:
  twin drill scenarios/demo.yaml                          console on http://127.0.0.1:8765
  twin drill scenarios/demo.yaml --port 9000 --no-browser --lang zh
  twin drill scenarios/demo.yaml --script scenarios/drill_demo_steps.yaml --out runs/drill
"""


def add_drill(sub) -> None:
    p = sub.add_parser(
        "drill", help="run a drill: browser console, or a scripted drill with --script",
        description="Step a scenario, inject events and take decisions, branch, and end with "
        "DIR/drill.yaml (the scenario that replays the drill), DIR/run/, DIR/baseline/ and "
        "DIR/report.html.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=Path, help="scenario file (.yaml or .toml)")
    p.add_argument("--script", type=Path, help="steps file: run the drill without a browser")
    p.add_argument("--out", type=Path, help="drill folder (written atomically)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("-n", "--realizations", type=int, help="override the scenario's realizations")
    p.add_argument("-w", "--workers", type=int, default=1, help="processes for the runs")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="console/report language")
    p.add_argument("--port", type=int, default=8765, help="console port")
    p.add_argument("--host", default="127.0.0.1", help="console address")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_drill)


def cmd_drill(args) -> int:
    from common.errors import InputError
    from twin.drill.session import DrillSession
    from twin.output import check_output

    if args.script is None:
        from twin.drill.server import serve

        return serve(args)
    if args.out is None:
        raise InputError("a scripted drill needs --out DIR", where="--out")
    from twin.drill.outputs import write_drill
    from twin.drill.steps import read_steps, run_steps

    steps = read_steps(args.script)
    check_output(args.out, overwrite=args.overwrite)  # before the long work
    session = DrillSession.from_file(args.scenario, realizations=args.realizations)

    def say(text: str) -> None:
        if not args.quiet:
            print(f"drill: {text}", file=sys.stderr)

    run_steps(session, steps, source=str(args.script),
              on_step=lambda i, note: say(f"step {i} at {session.now:g} h: {note}"))
    from viz.plots import write_run_figures  # the views sit above the engine

    write_drill(args.out, session, lang=args.lang, overwrite=args.overwrite,
                workers=args.workers, figures=write_run_figures, progress=say)
    print(f"wrote {args.out}/ (drill.yaml, run/, baseline/, report.html)")
    return 0
