"""RSMC Tokyo (JMA) best tracks, ``bst_all.txt``: 10-min winds, 50/30-kt radii."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.errors import HazardError
from hazards.typhoon.constants import load_constants
from hazards.typhoon.readers.rows import Rows, append_announced, num
from hazards.typhoon.track import TrackList


def read_jma(path: str | Path) -> TrackList:
    """All storms of an RSMC Tokyo best-track file (10-min winds converted to 1-min)."""
    path = str(path)
    c = load_constants()
    kt, nm = c.knot_mps, c.nautical_mile_m
    to1 = 1.0 / c.one_to_ten_minute
    out = TrackList()
    rows: Rows | None = None
    expected = header_line = 0

    def close() -> None:
        append_announced(out, rows, path, expected=expected, header_line=header_line)

    with open(path, encoding="ascii", errors="replace") as fh:
        for ln, raw in enumerate(fh, start=1):
            s = raw.rstrip("\r\n")
            if not s.strip():
                continue
            if s.startswith("66666"):
                close()
                intl = s[6:10].strip()
                n = s[12:15].strip()
                if not n.isdigit():
                    raise HazardError("header lacks the number of data lines (cols 13-15)",
                                      where=f"{path}:{ln}")
                name = s[30:50].strip() or intl
                yy = int(intl[:2]) if intl[:2].isdigit() else 0
                rows = Rows(id=intl, name=name.upper(), season=(1900 if yy >= 50 else 2000) + yy,
                             basin="WP")
                expected, header_line = int(n), ln
                continue
            if rows is None:
                raise HazardError("data row before any 66666 header", where=f"{path}:{ln}")
            stamp = s[0:8]
            if not stamp.isdigit() or s[9:12] != "002":
                raise HazardError(f"not a JMA data row (time {stamp!r}, indicator {s[9:12]!r})",
                                  where=f"{path}:{ln}")
            yy = int(stamp[:2])
            year = (1900 if yy >= 50 else 2000) + yy
            try:
                t = np.datetime64(f"{year}-{stamp[2:4]}-{stamp[4:6]}T{stamp[6:8]}:00", "s")
            except ValueError:
                raise HazardError(f"bad time {stamp!r}", where=f"{path}:{ln}") from None
            lat = num(s[15:18], path, ln, "latitude") / 10.0
            lon = num(s[19:23], path, ln, "longitude") / 10.0
            p = num(s[24:28], path, ln, "pressure")
            w = num(s[33:36], path, ln, "wind") if len(s) > 33 else np.nan
            radii = {}
            for key, a, b in (("r50_long", 42, 46), ("r50_short", 47, 51),
                              ("r30_long", 53, 57), ("r30_short", 58, 62)):
                v = num(s[a:b], path, ln, "wind radius") if len(s) > a else np.nan
                radii[key] = v * nm
            # direction of the long radius: 1 NE, 2 E, ..., 8 N (45 deg steps clockwise
            # from north); 9 (or blank) = no preferred direction (JMA bst format notes)
            for key, col in (("r50_dir_deg", 41), ("r30_dir_deg", 52)):
                code = s[col] if len(s) > col else " "
                radii[key] = 45.0 * int(code) if code in "12345678" else np.nan
            rows.add(ln, t, lat, lon, np.nan if not w > 0 else w * kt * to1,
                     p, landfall=(len(s) > 71 and s[71] == "#"), radii=radii)
    close()
    return out
