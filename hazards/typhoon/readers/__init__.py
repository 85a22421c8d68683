"""Readers of tropical-cyclone best tracks (one module per format family), and selection.

Formats read
------------
``hurdat2``
    NHC HURDAT2 (Landsea & Franklin 2013): header ``AL092008, IKE, 62,`` then rows
    ``date, time, record, status, lat, lon, vmax kt (1-min), pmin hPa`` and the 34/50/64-kt
    wind radii (n mi, NE/SE/SW/NW), plus the radius of maximum wind (n mi) in releases
    from 2021 on. ``-999`` (and ``-99`` for wind) is missing; record ``L`` is a landfall.
``jma``
    RSMC Tokyo ``bst_all.txt`` fixed-width format: header ``66666 IIII  NNN ...  NAME``,
    rows ``YYMMDDHH 002 G LLL OOOO PPPP     WWW     ...`` with 10-min winds in kt and
    the 50/30-kt radii (n mi); column 72 ``#`` marks landfall or passage.
``ibtracs``
    IBTrACS v04 CSV: either the documented layout (``SID, SEASON, ..., ISO_TIME, LAT,
    LON, WMO_WIND, WMO_PRES, WMO_AGENCY, ..., USA_WIND, USA_PRES, USA_RMW, USA_POCI,
    ...`` with its units row), or the reduced layout of the project's extracts
    (``track_id[, name], season, basin, time, lat, lon[, status], wind, slp[, sshs_cat]``).
``csv``
    a plain table ``time, lat, lon, wind_mps | wind_kt, pressure_hpa[, rmw_km | rmw_m]
    [, penv_hpa]`` whose wind averaging period (1 or 10 min) must be declared.

Rules (applied by every reader, documented here once)
------------------------------------------------------
* Winds are converted to **1-min sustained** at 10 m: 10-min winds are divided by the
  WMO at-sea factor 0.93 (Harper et al. 2010, ``one_to_ten_minute`` in
  ``wind_constants.yaml``). IBTrACS WMO winds use the averaging period of the reporting
  agency; winds of 2- and 3-min agencies (CMA, New Delhi) are not converted but
  re-estimated from the pressure (next rule) unless an averaging period is declared.
* Times must strictly increase; latitude in [-90, 90], longitude in [-180, 360)
  (stored in [-180, 180)). A row breaking these, or a field that is not a number,
  raises :class:`~common.errors.HazardError` naming the file and line.
* A missing central pressure is estimated from the wind and position, a missing wind
  from the pressure, with CLIMADA's linear fits over IBTrACS 1980-2019. Rows missing
  both are interpolated in time between valid rows; leading and trailing rows missing
  both are dropped. Each estimate is listed in ``Track.notes``. A storm left with fewer
  than 2 usable rows is skipped (listed in ``TrackList.skipped``); selecting it raises.
* The environmental pressure is the agency's outer closed isobar (POCI) where given,
  else the basin default (CLIMADA); if it is not above the central pressure it is set
  to ``pc + 1 hPa``.
* The radius of maximum wind is kept where the agency gives it (IBTrACS ``*_RMW``,
  HURDAT2 from 2021, the CSV's ``rmw``); the wind model fills gaps with a regression.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from common.errors import HazardError
from hazards.typhoon.readers.hurdat2 import HURDAT_HEADER, read_hurdat2
from hazards.typhoon.readers.ibtracs import read_ibtracs
from hazards.typhoon.readers.jma import read_jma
from hazards.typhoon.readers.table import read_csv_track
from hazards.typhoon.track import Track, TrackList

FORMATS = ("auto", "hurdat2", "jma", "ibtracs", "csv")
__all__ = ["FORMATS", "detect_format", "load_track", "read_csv_track", "read_hurdat2",
           "read_ibtracs", "read_jma", "read_tracks", "select_storm"]


def detect_format(path: str | Path) -> str:
    """Guess the format of a track file from its first non-empty line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = next((ln for ln in fh if ln.strip()), "")
    except OSError as ex:
        raise HazardError(f"cannot read track file: {ex}", where=str(path)) from None
    if HURDAT_HEADER.match(first):
        return "hurdat2"
    if first.startswith("66666"):
        return "jma"
    head = {h.strip().lower() for h in first.split(",")}
    if {"sid", "iso_time"} <= head or {"track_id", "time"} <= head:
        return "ibtracs"
    if {"time", "lat", "lon"} <= head:
        return "csv"
    raise HazardError("unknown track format (expected HURDAT2, JMA bst, IBTrACS CSV or a CSV "
                      "with time, lat, lon); give the format explicitly", where=str(path))


def read_tracks(path: str | Path, *, fmt: str = "auto", wind_averaging: str | None = None,
                wind_source: str = "usa") -> TrackList:
    """Every usable storm of a track file, in file order (see :class:`TrackList`)."""
    p = Path(path)
    if not p.is_file():
        raise HazardError("track file not found", where=str(p))
    if fmt not in FORMATS:
        raise HazardError(f"unknown track format {fmt!r} (known: {', '.join(FORMATS)})",
                          where=str(p))
    if fmt == "auto":
        fmt = detect_format(p)
    if fmt == "hurdat2":
        tracks = read_hurdat2(p)
    elif fmt == "jma":
        tracks = read_jma(p)
    elif fmt == "ibtracs":
        tracks = read_ibtracs(p, wind_source=wind_source, wind_averaging=wind_averaging)
    else:
        tracks = TrackList([read_csv_track(p, wind_averaging=wind_averaging)])
    if wind_averaging is not None and fmt in ("hurdat2", "jma"):
        declared = "1min" if fmt == "hurdat2" else "10min"
        if wind_averaging != declared:
            raise HazardError(f"{fmt} winds are {declared} averages by definition; "
                              f"wind_averaging {wind_averaging!r} contradicts it", where=str(p))
    if not tracks:
        why = "; ".join(sorted(set(tracks.skipped.values())))
        raise HazardError(f"no usable storm in track file{': ' + why if why else ''}",
                          where=str(p))
    return tracks


def select_storm(tracks: Sequence[Track], selector: str, *, where: str = "track") -> Track:
    """The storm named by ``selector``: an id (IBTrACS SID, HURDAT2 ``AL122005``, JMA
    international number ``1713``), ``NAME:SEASON`` or a unique ``NAME``."""
    sel = selector.strip()
    if not sel:
        raise HazardError("empty storm selector", where=where)
    skipped = getattr(tracks, "skipped", {})
    for label, why in skipped.items():
        if label.upper() == sel.upper():
            raise HazardError(f"storm {sel!r} cannot be used: {why}", where=where)
    by_id = [t for t in tracks if t.id.upper() == sel.upper()]
    if by_id:
        return by_id[0]
    if ":" in sel:
        nm, _, season = sel.rpartition(":")
        if not season.strip().isdigit():
            raise HazardError(f"storm selector {sel!r}: season must be a year (NAME:SEASON)",
                              where=where)
        hits = [t for t in tracks
                if t.name.upper() == nm.strip().upper() and t.season == int(season)]
    else:
        hits = [t for t in tracks if t.name.upper() == sel.upper()]
        if len(hits) > 1:
            seasons = ", ".join(sorted({str(t.season) for t in hits}))
            raise HazardError(f"storm name {sel!r} is ambiguous (seasons {seasons}); "
                              f"use NAME:SEASON", where=where)
    if hits:
        return hits[0]
    labels = sorted({t.selector for t in tracks} | {t.id for t in tracks})
    close = difflib.get_close_matches(sel.upper(), [x.upper() for x in labels], n=5, cutoff=0.5)
    hint = f"; close: {', '.join(close)}" if close else ""
    raise HazardError(f"storm {sel!r} not found among {len(tracks)} storms{hint}", where=where)


def load_track(path: str | Path, storm: str | None = None, *, fmt: str = "auto",
               wind_averaging: str | None = None, wind_source: str = "usa") -> Track:
    """Read ``path`` and select ``storm`` (see :func:`select_storm`); an empty selector
    is allowed for a file holding a single storm."""
    tracks = read_tracks(path, fmt=fmt, wind_averaging=wind_averaging, wind_source=wind_source)
    if not storm:
        if len(tracks) == 1:
            return tracks[0]
        some = ", ".join(t.selector for t in tracks[:5])
        raise HazardError(f"the file holds {len(tracks)} storms; choose one by ID or "
                          f"NAME:SEASON (e.g. {some})", where=str(path))
    return select_storm(tracks, storm, where=str(path))
