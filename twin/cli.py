"""The ``twin`` command line.

Every user-input problem ends as one line on stderr and exit code 2, never a
traceback and never a half-written output directory.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from common.errors import InputError

EPILOG = """examples:
  twin run scenarios/demo.yaml --out runs/demo          run the built-in city with a damage map
  twin run scenarios/demo.yaml --out runs/x -n 200 -w 2 200 realizations on 2 processes
  twin validate scenarios/demo.yaml                     check a scenario and its inputs
  twin city --seed 7 --out mycity.gpkg                  save the built-in city to edit or inspect
"""


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run a scenario (Monte Carlo) and write results",
                       description="Run a scenario's realizations and write curves.parquet, "
                       "loss.parquet, events.parquet, summary.json and recovery.png to --out.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=Path, help="scenario file (.yaml or .toml)")
    p.add_argument("--out", type=Path, required=True, help="output directory (written atomically)")
    p.add_argument("-n", "--realizations", type=int, help="override the scenario's realizations")
    p.add_argument("-w", "--workers", type=int, help="processes (0 = all cores)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--no-cache", action="store_true", help="recompute hazard fields")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


def _add_validate(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario and its inputs without running")
    p.add_argument("scenario", type=Path)
    p.set_defaults(func=cmd_validate)


def _add_city(sub) -> None:
    p = sub.add_parser("city", help="save the built-in city as a GeoPackage (+ DEM)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--out", type=Path, required=True, help="GeoPackage path (.gpkg)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(func=cmd_city)


def _add_batch(sub) -> None:
    p = sub.add_parser(
        "batch", help="run scenarios x seeds on this machine or a Dask cluster (resumable)",
        description="Run every scenario with every seed; each job writes OUT/<scenario>/"
        "seed-<seed>/ atomically on its worker, so finished results survive a lost worker or "
        "a killed batch, and the same command resumes. Tables: OUT/index.parquet (one row per "
        "job) and OUT/metrics.parquet (every realization of every job).",
        epilog="examples:\n  twin batch scenarios/demo.yaml scenarios/flood.yaml --seeds 0-9 "
        "--out runs/batch\n  twin batch scenarios/demo.yaml --seeds 0-999 -n 20 "
        "--scheduler tcp://10.0.0.5:8786 --out /shared/runs/sweep",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", type=Path, nargs="+")
    p.add_argument("--seeds", default="0", help="e.g. 0-9 or 1,4,7 (default 0)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("-n", "--realizations", type=int, help="override each scenario's realizations")
    p.add_argument("-w", "--workers", type=int, default=0,
                   help="local worker processes (0 = all cores)")
    p.add_argument("--scheduler", help="address of a Dask scheduler (default: a local cluster)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_batch)


def cmd_batch(args) -> int:
    from tqdm import tqdm

    from twin.batch import parse_seeds, plan, run_batch

    jobs = plan(args.scenarios, parse_seeds(args.seeds), args.out,
                realizations=args.realizations)
    bar = tqdm(total=len(jobs), desc="jobs", unit="job", disable=args.quiet, file=sys.stderr)
    idx = run_batch(jobs, args.out, realizations=args.realizations, scheduler=args.scheduler,
                    workers=args.workers, on_done=lambda r: bar.update(1))
    bar.close()
    failed = idx[idx.status != "done"]
    print(f"{int((idx.status == 'done').sum())} of {len(idx)} jobs done; tables: "
          f"{args.out}/index.parquet, {args.out}/metrics.parquet")
    for r in failed.itertuples():
        print(f"twin: job {r.scenario} seed {r.seed} failed: {r.error}", file=sys.stderr)
    return 1 if len(failed) else 0


def _add_flood(sub) -> None:
    from hazards.flood import cli as flood_cli

    p = sub.add_parser("flood", help="2D flood (local-inertial) on a DEM, without a city twin",
                       description=flood_cli.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    flood_cli.configure_parser(p)
    p.set_defaults(func=flood_cli.run)


def _add_wind(sub) -> None:
    from hazards.typhoon import cli as wind_cli

    p = sub.add_parser("wind", help="typhoon wind at sites/grid from a best track",
                       description=wind_cli.__doc__, epilog=wind_cli.EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    wind_cli.configure_parser(p)
    p.set_defaults(func=wind_cli.run)


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end as one line and a hint, like every other input error."""

    def error(self, message: str):  # type: ignore[override]
        cmd = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        self.exit(2, f"{self.prog}: error: {message} (see 'twin {cmd}--help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="twin", description="Digital-twin resilience simulator for city lifelines.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_validate(sub)
    _add_city(sub)
    _add_batch(sub)
    from networks.importers.cli import add_import

    add_import(sub)
    _add_flood(sub)
    _add_wind(sub)
    from viz.cli import add_compare, add_plot, add_replay, add_view

    add_replay(sub)
    add_view(sub)
    add_plot(sub)
    add_compare(sub)
    from twin.drill.cli import add_drill

    add_drill(sub)
    return parser


def cmd_validate(args) -> int:
    from twin.run import prepare
    from twin.scenario import load_scenario

    spec = load_scenario(args.scenario)
    prep = prepare(spec, compute_hazards=False)
    t = prep.twin
    kinds = ", ".join(h["type"] for h in spec.hazards)
    print(f"ok: {args.scenario}: city '{t.name}' with {t.n} components, "
          f"hazards: {kinds}; {spec.realizations} realization(s) of {spec.horizon_h:g} h")
    return 0


def cmd_city(args) -> int:
    from networks.builtin import build_builtin_city
    from networks.io import save_city

    if args.out.suffix.lower() != ".gpkg":
        raise InputError("the city is saved as a GeoPackage: use a .gpkg path", where=str(args.out))
    from twin.output import check_output

    check_output(args.out, overwrite=args.overwrite, is_dir=False)
    net = build_builtin_city(args.seed, scale=args.scale)
    save_city(net, args.out)
    print(f"wrote {args.out} ({net.n_components()} components)")
    return 0


def cmd_run(args) -> int:
    from tqdm import tqdm

    from twin.output import check_output
    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import load_scenario

    t0 = time.perf_counter()
    spec = load_scenario(args.scenario, realizations=args.realizations, seed=args.seed,
                         workers=args.workers)
    check_output(args.out, overwrite=args.overwrite)  # before the long work
    print(f"preparing '{spec.name}' ...", file=sys.stderr)
    prep = prepare(spec, use_cache=not args.no_cache)
    bar = tqdm(total=spec.realizations, desc="realizations", unit="run", disable=args.quiet,
               file=sys.stderr, dynamic_ncols=True)
    results = run_monte_carlo(prep, workers=spec.workers, on_done=lambda r: bar.update(1))
    bar.close()
    from viz.plots import write_run_figures  # the views sit above the engine

    summary = write_run(args.out, prep, results, overwrite=args.overwrite, started=t0,
                        figures=write_run_figures)
    print(summary_table(summary))
    print(f"wrote {args.out}/ (curves, loss, events, metrics .parquet; summary.json; "
          f"recovery.png, loss.png; replay.npz) in {summary['wall_time_s']:.1f} s")
    return 0


def summary_table(summary: dict) -> str:
    def fmt(b, scale=1.0, unit=""):
        v = b["median"]
        return "never" if v is None else f"{v * scale:.1f}{unit}"

    rows = [("network", "min served", "t50", "t90", "t99", "R loss (h)", "cust-h lost")]
    for name, s in summary["networks"].items():
        rows.append((name, fmt(s["min_service"], 100, " %"), fmt(s["time_to_50_h"], 1, " h"),
                     fmt(s["time_to_90_h"], 1, " h"), fmt(s["time_to_99_h"], 1, " h"),
                     fmt(s["resilience_loss_h"]),
                     f"{s['customer_hours_lost']['median']:.3g}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    cost = summary["networks"]["system"]["repair_cost_usd"]["median"]
    lines.append(f"median repair cost: ${cost:,.0f}   (medians over {summary['realizations']} "
                 "realizations)")
    return "\n".join(lines)


_WARNED: set[str] = set()


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # once per message: a forecast's members (or a cache hit per member) repeat the
    # same warning about the same track
    text = str(message)
    if text not in _WARNED:
        _WARNED.add(text)
        print(f"twin: warning: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.showwarning = _one_line_warning  # user-facing warnings, not source lines
    _WARNED.clear()  # once per message and command
    parser = build_parser()
    args = parser.parse_args(argv)
    _terminate_as_interrupt()
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"twin: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # unreadable input, unwritable output, full disk: the user's to fix
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"twin: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twin: interrupted; nothing was written", file=sys.stderr)
        return 130


def _terminate_as_interrupt() -> None:
    """SIGTERM (``kill``, a batch system's time limit) unwinds like Ctrl-C.

    The default action ends the process at once, so ``finally`` blocks never run
    and a half-written temporary output folder stays behind.
    """
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (embedded use)
        signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
