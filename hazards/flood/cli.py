"""``twin flood``: run the flood solver on a DEM and write maps and probe series.

``run`` raises :class:`~common.errors.HazardError` (an ``InputError``) for every
problem the user can fix; the caller prints it as one line and exits with 2.
Outputs go to a temporary folder beside ``--out`` that is renamed into place
only when complete (:func:`twin.output.atomic_dir`, shared with ``twin run``), so
``--out`` is never half written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

_EPILOG = """\
examples:
  # 2 h of 40 mm/h rain on the shipped lon/lat DEM (probe in lon/lat), water
  # leaves through the east edge
  twin flood --dem data/dem/SRTMGL3_40.09_-105.55_40.21_-105.35.asc --hours 2 \\
      --rain-mmh 40 --outflow-edges E --probe=-105.39,40.115 --out runs/flood_rain

  # a river inflow of 300 m3/s, buildings as walls, hyetograph from a file
  twin flood --dem city.tif --hours 6 --inflow 512300,3378100,300 \\
      --rain rain.csv --obstacles buildings.geojson --manning 0.035 --out runs/river

  # storm surge: stage series on the south edge (YAML: {edge: S, stage: surge.csv})
  twin flood --dem coast.tif --hours 12 --stage-boundary surge.yaml --out runs/surge

files:
  --rain FILE            CSV with header time_h,rain_mmh (regular time step; the
                         intensity of a row holds until the next row)
  --stage-boundary FILE  YAML: one mapping or a list of {edge: N|E|S|W} or
                         {line: [[x, y], ...] | FILE}, with stage: [[time_h, m], ...]
                         or a CSV time_h,stage_m (paths relative to the YAML file)
  coordinates (X,Y, polygons without a CRS) are in the DEM file's CRS; a DEM in
  lon/lat is reprojected to its UTM zone and the output rasters are in that CRS.

outputs in DIR: max_depth.tif (m), max_speed.tif (m/s), arrival_time.tif (h since
start that the depth first reached --wet-depth-m), probes.csv (time_h, probe, x, y,
depth_m, stage_m). NaN marks walls (NoData, buildings) and cells never wet.
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``twin flood`` options to ``parser``."""
    parser.description = ("Run the local-inertial flood solver on a DEM and write maximum "
                          "depth, maximum speed, arrival time and probe series.")
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--dem", required=True, type=Path, metavar="FILE",
                        help="DEM (GeoTIFF or ESRI ASCII with .prj), projected or lon/lat")
    parser.add_argument("--hours", required=True, type=float, metavar="H",
                        help="simulated duration in hours")
    rain = parser.add_mutually_exclusive_group()
    rain.add_argument("--rain-mmh", type=float, metavar="R", help="uniform rain, mm/h")
    rain.add_argument("--rain", type=Path, metavar="FILE", help="hyetograph CSV time_h,rain_mmh")
    parser.add_argument("--inflow", action="append", default=[], metavar="X,Y,Q_M3S",
                        help="constant inflow at a point (repeatable)")
    parser.add_argument("--inflow-area", action="append", default=[],
                        metavar="POLYGON_FILE:Q_M3S",
                        help="constant inflow spread over the cells of polygons (repeatable)")
    parser.add_argument("--stage-boundary", action="append", default=[], type=Path,
                        metavar="FILE", help="YAML stage boundary (repeatable)")
    man = parser.add_mutually_exclusive_group()
    man.add_argument("--manning", type=float, metavar="N", help="Manning's n (default 0.03)")
    man.add_argument("--manning-raster", type=Path, metavar="FILE",
                     help="raster of Manning's n")
    parser.add_argument("--obstacles", type=Path, metavar="POLYGON_FILE",
                        help="building footprints, treated as walls")
    parser.add_argument("--outflow-edges", default="", metavar="N,E,S,W",
                        help="domain edges where water leaves freely (others are walls)")
    parser.add_argument("--probe", action="append", default=[], metavar="X,Y",
                        help="record depth and stage here (repeatable)")
    parser.add_argument("--output-step-h", type=float, default=0.1, metavar="H",
                        help="probe sampling interval in hours (default 0.1)")
    parser.add_argument("--nodata", choices=("wall", "nearest"), default="wall",
                        help="DEM NoData cells: walls (default) or nearest-valid elevation")
    parser.add_argument("--wet-depth-m", type=float, default=None, metavar="M",
                        help="depth that counts as flooded for arrival time and speed "
                             "(default 0.01)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="output folder (must not exist unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing DIR")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _floats(text: str, n: int, *, flag: str) -> list[float]:
    from common.errors import HazardError

    parts = text.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != n or not all(np.isfinite(vals)):
        raise HazardError(f"{flag} {text!r}: expected {n} comma-separated numbers")
    return vals


def _stage_entries(path: Path) -> list[dict]:
    import yaml

    from common.digest import regular_file_problem
    from common.errors import HazardError

    if not path.exists():
        raise HazardError("stage boundary file not found", where=str(path))
    problem = regular_file_problem(path)
    if problem:
        raise HazardError(f"stage boundary file: {problem}", where=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise HazardError(f"not valid YAML ({' '.join(str(exc).split())})",
                          where=str(path)) from None
    entries = data if isinstance(data, list) else [data]
    out = []
    for e in entries:
        if not isinstance(e, dict):
            raise HazardError("expected a mapping {edge|line, stage} or a list of them",
                              where=str(path))
        e = dict(e)
        for key in ("line", "stage"):
            if isinstance(e.get(key), str):
                p = Path(e[key])
                e[key] = p if p.is_absolute() else (path.parent / p).resolve()
        out.append(e)
    return out


def _build_config(args: argparse.Namespace):
    from pydantic import ValidationError

    from common.errors import HazardError
    from hazards.flood.config import FloodConfig

    if not args.hours > 0:
        raise HazardError(f"--hours {args.hours}: must be > 0")
    inflows = []
    for text in args.inflow:
        x, y, q = _floats(text, 3, flag="--inflow")
        if q < 0:
            raise HazardError(f"--inflow {text}: discharge {q:g} m3/s must be >= 0")
        inflows.append({"name": f"inflow{len(inflows) + 1}", "point": (x, y),
                        "hydrograph": [(0.0, q)]})
    for text in args.inflow_area:
        file, sep, qtext = text.rpartition(":")
        if not sep or not file:
            raise HazardError(f"--inflow-area {text!r}: expected POLYGON_FILE:Q_M3S")
        (q,) = _floats(qtext, 1, flag="--inflow-area")
        if q < 0:
            raise HazardError(f"--inflow-area {text}: discharge {q:g} m3/s must be >= 0")
        inflows.append({"name": f"area{len(inflows) + 1}", "area": Path(file).resolve(),
                        "hydrograph": [(0.0, q)]})
    stages = [e for p in args.stage_boundary for e in _stage_entries(p)]
    edges = [e.strip().upper() for e in args.outflow_edges.split(",") if e.strip()]
    for e in edges:
        if e not in ("N", "E", "S", "W"):
            raise HazardError(f"--outflow-edges {args.outflow_edges!r}: {e!r} is not N, E, S or W")
    data: dict = {
        "dem": args.dem.resolve(), "duration_h": args.hours,
        "output_step_h": min(args.output_step_h, args.hours), "inflows": inflows,
        "stage_boundaries": stages, "outflow_edges": edges, "nodata": args.nodata,
    }
    if args.rain_mmh is not None:
        data["rain"] = [(0.0, args.rain_mmh)]
    elif args.rain is not None:
        data["rain"] = args.rain.resolve()
    if args.manning is not None:
        data["manning"] = args.manning
    elif args.manning_raster is not None:
        data["manning"] = {"raster": args.manning_raster.resolve()}
    if args.obstacles is not None:
        data["obstacles"] = args.obstacles.resolve()
    if args.wet_depth_m is not None:
        data["wet_depth_m"] = args.wet_depth_m
    try:
        return FloodConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise HazardError(f"{loc}: {msg}" if loc else msg, where="twin flood") from None


def _write_tif(path: Path, data: np.ndarray, grid) -> None:
    import rasterio
    from affine import Affine

    with rasterio.open(path, "w", driver="GTiff", width=grid.shape[1], height=grid.shape[0],
                       count=1, dtype="float32", crs=grid.crs,
                       transform=Affine(*grid.transform), nodata=float("nan"),
                       compress="deflate") as dst:
        dst.write(data.astype(np.float32), 1)


def run(args: argparse.Namespace) -> int:
    """Run ``twin flood``; returns 0 on success, raises HazardError on bad input."""
    from common.errors import HazardError
    from hazards.flood.config import CoordTransform, build_model
    from hazards.flood.hazard import output_times_h
    from twin.output import atomic_dir, check_output

    out = Path(args.out)
    check_output(out, overwrite=args.overwrite)  # before the solver runs, not after
    config = _build_config(args)
    model = build_model(config)
    grid = model.grid
    probes = [_floats(t, 2, flag="--probe") for t in args.probe]
    probe_xy = np.asarray(probes, dtype=np.float64).reshape(-1, 2)
    work_xy = CoordTransform(grid.source_crs, grid.crs)(probe_xy)
    pr, pc, inside = grid.cell_of(work_xy[:, 0], work_xy[:, 1])
    if not inside.all():
        bad = int(np.argmin(inside))
        xmin, ymin, xmax, ymax = grid.bounds()
        raise HazardError(f"--probe {args.probe[bad]} is outside the DEM "
                          f"(x {xmin:.1f}..{xmax:.1f}, y {ymin:.1f}..{ymax:.1f} in {grid.crs})")

    solver = model.solver(track_maxima=True)
    times_h = output_times_h(config.duration_h, config.output_step_h)
    rows: list[tuple] = []

    def sample(t_h: float) -> None:
        for k in range(len(probes)):
            r, c = pr[k], pc[k]
            wall = bool(model.wall[r, c])
            depth = np.nan if wall else float(solver.h[r, c])
            stage = np.nan if wall else float(solver.z[r, c] + solver.h[r, c])
            rows.append((t_h, f"p{k + 1}", probe_xy[k, 0], probe_xy[k, 1], depth, stage))

    from tqdm import tqdm

    bar = tqdm(total=round(config.duration_h, 6), unit="h", file=sys.stderr,
               disable=bool(args.no_progress), desc="flood",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} h "
                          "[{elapsed}<{remaining}]")

    def tick(s) -> None:
        if s.n_steps % 50 == 0:
            bar.n = round(s.time_s / 3600.0, 6)
            bar.refresh()

    try:
        for t_h in times_h:
            solver.advance_to(float(t_h) * 3600.0, on_step=tick)
            sample(float(t_h))
            bar.n = round(float(t_h), 6)
            bar.refresh()
    finally:
        bar.close()
    solver.finish_maxima()

    with atomic_dir(out, overwrite=args.overwrite) as tmp:
        wall = model.wall
        _write_tif(tmp / "max_depth.tif", np.where(wall, np.nan, solver.max_depth_m), grid)
        _write_tif(tmp / "max_speed.tif", np.where(wall, np.nan, solver.max_speed_mps), grid)
        _write_tif(tmp / "arrival_time.tif",
                   np.where(wall, np.nan, solver.arrival_time_s / 3600.0), grid)
        with open(tmp / "probes.csv", "w", encoding="utf-8", newline="") as fh:
            fh.write("time_h,probe,x,y,depth_m,stage_m\n")
            for t_h, name, x, y, d, s in rows:
                fh.write(f"{t_h:.6g},{name},{x:.3f},{y:.3f},{d:.6g},{s:.6g}\n")
    print(solver.ledger.summary())
    print(f"wrote {out}/max_depth.tif, max_speed.tif, arrival_time.tif, probes.csv "
          f"({grid.shape[0]} x {grid.shape[1]} cells of {grid.dx_m:.1f} x {grid.dy_m:.1f} m in "
          f"{grid.crs}; {solver.n_steps} steps)")
    return 0
