"""NHC HURDAT2 best tracks (Landsea & Franklin 2013): 1-min winds, 34/50/64-kt radii."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from common.errors import HazardError
from hazards.typhoon.constants import load_constants
from hazards.typhoon.readers.rows import Rows, append_announced, num
from hazards.typhoon.track import TrackList

HURDAT_HEADER = re.compile(r"^\s*([A-Z]{2}\d{6})\s*,\s*([^,]*?)\s*,\s*(\d+)\s*,?\s*$")


def _latlon_hemi(text: str, path: str, line: int) -> float:
    t = text.strip()
    if not t or t[-1] not in "NSEW":
        raise HazardError(f"coordinate {t!r} lacks a hemisphere letter N/S/E/W",
                          where=f"{path}:{line}")
    v = num(t[:-1], path, line, "coordinate")
    return -v if t[-1] in "SW" else v


def read_hurdat2(path: str | Path) -> TrackList:
    """All storms of a HURDAT2 file (1-min winds; radii in m; landfall records kept)."""
    path = str(path)
    c = load_constants()
    kt, nm = c.knot_mps, c.nautical_mile_m
    quads = ("ne", "se", "sw", "nw")
    out = TrackList()
    rows: Rows | None = None
    expected = 0
    header_line = 0

    def close() -> None:
        append_announced(out, rows, path, expected=expected, header_line=header_line)

    with open(path, encoding="utf-8", errors="replace") as fh:
        for ln, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            m = HURDAT_HEADER.match(raw)
            if m:
                close()
                sid, name, n = m.group(1), m.group(2).strip(), int(m.group(3))
                basin = {"AL": "NA", "EP": "EP", "CP": "EP"}.get(sid[:2], sid[:2])
                rows = Rows(id=sid, name=name.upper(), season=int(sid[4:8]), basin=basin)
                expected, header_line = n, ln
                continue
            if rows is None:
                raise HazardError("data row before any storm header", where=f"{path}:{ln}")
            f = [x.strip() for x in raw.rstrip("\n").split(",")]
            if f and f[-1] == "":
                f = f[:-1]
            if len(f) < 8:
                raise HazardError(f"expected at least 8 comma-separated fields, found {len(f)}",
                                  where=f"{path}:{ln}")
            date, hhmm = f[0], f[1].zfill(4)
            if not (re.fullmatch(r"\d{8}", date) and re.fullmatch(r"\d{4}", hhmm)):
                raise HazardError(f"bad date/time {f[0]!r} {f[1]!r}", where=f"{path}:{ln}")
            try:
                t = np.datetime64(f"{date[:4]}-{date[4:6]}-{date[6:]}T{hhmm[:2]}:{hhmm[2:]}", "s")
            except ValueError:
                raise HazardError(f"bad date/time {f[0]!r} {f[1]!r}",
                                  where=f"{path}:{ln}") from None
            lat = _latlon_hemi(f[4], path, ln)
            lon = _latlon_hemi(f[5], path, ln)
            w = num(f[6], path, ln, "wind")
            p = num(f[7], path, ln, "pressure")
            radii = {}
            for k, thr in enumerate((34, 50, 64)):
                for q, quad in enumerate(quads):
                    idx = 8 + 4 * k + q
                    v = num(f[idx], path, ln, "wind radius") if idx < len(f) else np.nan
                    radii[f"r{thr}_{quad}"] = np.nan if v < 0 else v * nm
            rmw = num(f[20], path, ln, "radius of maximum wind") if len(f) > 20 else np.nan
            rows.add(ln, t, lat, lon, np.nan if w < 0 else w * kt, np.nan if p < 0 else p,
                     rmw_m=np.nan if not rmw > 0 else rmw * nm, landfall=(f[2] == "L"),
                     radii=radii)
    close()
    return out
