"""A plain CSV track (``time, lat, lon, wind_mps|wind_kt, pressure_hpa, ...``) whose wind
averaging period is declared by the user."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from common.errors import HazardError
from hazards.typhoon.constants import load_constants
from hazards.typhoon.readers.rows import Rows, averaging_factor, finish, num
from hazards.typhoon.track import Track


def read_csv_track(path: str | Path, *, wind_averaging: str | None, basin: str = "",
                   storm_id: str | None = None, name: str | None = None) -> Track:
    """One storm from a plain CSV: ``time, lat, lon, wind_mps|wind_kt, pressure_hpa``
    and optionally ``rmw_km|rmw_m``, ``penv_hpa``, ``basin``. Times are UTC (ISO 8601;
    a time zone, if given, is honoured). ``wind_averaging`` must be declared."""
    path = str(path)
    fac = averaging_factor(wind_averaging, path)
    c = load_constants()
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader)]
            body = [(ln, r) for ln, r in enumerate(reader, start=2) if any(x.strip() for x in r)]
    except (OSError, StopIteration, UnicodeDecodeError) as ex:
        raise HazardError(f"cannot read track CSV: {ex}", where=path) from None
    col = {h: i for i, h in enumerate(header)}
    for need in ("time", "lat", "lon"):
        if need not in col:
            raise HazardError(f"missing column '{need}' (have: {', '.join(header)})", where=path)
    wcol = "wind_mps" if "wind_mps" in col else "wind_kt" if "wind_kt" in col else None
    pcol = "pressure_hpa" if "pressure_hpa" in col else "pc_hpa" if "pc_hpa" in col else None
    if wcol is None and pcol is None:
        raise HazardError("need a wind column (wind_mps or wind_kt) or pressure_hpa", where=path)
    wscale = 1.0 if wcol == "wind_mps" else c.knot_mps
    rcol = "rmw_km" if "rmw_km" in col else "rmw_m" if "rmw_m" in col else None
    rscale = 1000.0 if rcol == "rmw_km" else 1.0
    stem = Path(path).stem
    rows = Rows(id=storm_id or stem, name=(name or stem).upper(), season=0, basin=basin)
    for ln, r in body:
        if len(r) < len(header):
            raise HazardError(f"row has {len(r)} fields, header has {len(header)}",
                              where=f"{path}:{ln}")
        try:
            ts = pd.Timestamp(r[col["time"]].strip())
        except ValueError:
            raise HazardError(f"time {r[col['time']]!r} is not a date-time",
                              where=f"{path}:{ln}") from None
        if ts is pd.NaT:
            raise HazardError("missing time", where=f"{path}:{ln}")
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        w = num(r[col[wcol]], path, ln, wcol) * wscale * fac if wcol else np.nan
        p = num(r[col[pcol]], path, ln, pcol) if pcol else np.nan
        rows.add(ln, np.datetime64(ts.to_datetime64(), "s"),
                 num(r[col["lat"]], path, ln, "lat"), num(r[col["lon"]], path, ln, "lon"),
                 w, p,
                 penv=num(r[col["penv_hpa"]], path, ln, "penv_hpa") if "penv_hpa" in col
                 else np.nan,
                 rmw_m=num(r[col[rcol]], path, ln, rcol) * rscale if rcol else np.nan)
        if not rows.basin and "basin" in col:
            rows.basin = r[col["basin"]].strip()
    if len(rows.lines) < 2:
        raise HazardError("a track needs at least 2 rows", where=path)
    rows.season = int(rows.times[0].astype("datetime64[Y]").astype(int) + 1970)
    return finish(rows, path)
