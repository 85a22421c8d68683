"""Tropical-cyclone best tracks: readers, selection, validation, interpolation, what-ifs.

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

import csv
import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from common.errors import HazardError
from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants

FORMATS = ("auto", "hurdat2", "jma", "ibtracs", "csv")
WIND_AVERAGING = ("1min", "10min")

#: averaging period (minutes) of the winds each IBTrACS WMO agency reports
#: (IBTrACS v04 technical documentation; CLIMADA IBTRACS_AGENCY_1MIN_WIND_FACTOR)
IBTRACS_AGENCY_AVERAGING_MIN = {
    "hurdat_atl": 1, "hurdat_epa": 1, "cphc": 1, "atcf": 1, "tcvitals": 1, "nhc_working_bt": 1,
    "tokyo": 10, "hko": 10, "reunion": 10, "bom": 10, "nadi": 10, "wellington": 10,
    "newdelhi": 3, "cma": 2,
}
#: WMO-designated agency per basin, for the reduced WMO extracts (IBTrACS documentation)
WMO_BASIN_AVERAGING_MIN = {"NA": 1, "EP": 1, "WP": 10, "SI": 10, "SP": 10, "NI": 3, "SA": 1}


class UnusableStormError(HazardError):
    """A storm whose rows are well-formed but too incomplete to make a track."""


class TrackList(list):
    """The storms of a file, plus ``skipped``: selector -> why a storm is unusable."""

    def __init__(self, tracks=(), skipped: Mapping[str, str] | None = None) -> None:
        super().__init__(tracks)
        self.skipped: dict[str, str] = dict(skipped or {})


@dataclass(frozen=True, eq=False)
class Track:
    """One storm's best track, in SI units.

    Invariants: all arrays have the same length (>= 1; readers give >= 2); ``times``
    (``datetime64[s]``, UTC) strictly increase; ``lat`` in [-90, 90]; ``lon`` in
    [-180, 180); ``vmax_mps`` is the **1-min** sustained wind at 10 m over water (>= 0);
    ``pc_hpa`` < ``penv_hpa``; ``rmw_m`` holds the agency radius of maximum wind or NaN.
    """

    times: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    vmax_mps: np.ndarray
    pc_hpa: np.ndarray
    penv_hpa: np.ndarray
    rmw_m: np.ndarray
    basin: str
    id: str
    name: str
    season: int
    source: str = ""
    radii_m: Mapping[str, np.ndarray] = field(default_factory=dict)
    landfall: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.times)
        for k in ("lat", "lon", "vmax_mps", "pc_hpa", "penv_hpa", "rmw_m"):
            if len(getattr(self, k)) != n:
                raise ValueError(f"Track.{k} has {len(getattr(self, k))} values, times has {n}")
        if n < 1:
            raise ValueError("a track needs at least 1 point")
        if np.any(np.diff(self.times.astype("datetime64[s]").astype(np.int64)) <= 0):
            raise ValueError("Track.times must strictly increase")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def selector(self) -> str:
        return f"{self.name}:{self.season}"

    def hours_since(self, t0: np.datetime64) -> np.ndarray:
        """Hours from ``t0`` to each track time."""
        return (self.times - np.datetime64(t0, "s")).astype(np.int64) / 3600.0

    def replace(self, **changes: object) -> Track:
        return dataclasses.replace(self, **changes)

    # ---------------------------------------------------------------- interpolation
    def interpolate(self, times: np.ndarray) -> Track:
        """The track at ``times`` (inside its span): great-circle positions, linear scalars.

        Positions move along the great circle between the bracketing rows (so a track
        crossing the antimeridian does not jump); intensity, pressures and radii are
        linear in time (NaN where a bracketing value is NaN).
        """
        tq = np.asarray(times, dtype="datetime64[s]").astype(np.int64).astype(float)
        ts = self.times.astype("datetime64[s]").astype(np.int64).astype(float)
        if tq.size == 0 or tq.min() < ts[0] or tq.max() > ts[-1]:
            raise ValueError("interpolation times lie outside the track")
        j = np.clip(np.searchsorted(ts, tq, side="right") - 1, 0, len(ts) - 2)
        frac = (tq - ts[j]) / (ts[j + 1] - ts[j])
        lat, lon = geo.slerp(self.lat[j], self.lon[j], self.lat[j + 1], self.lon[j + 1], frac)

        def lin(a: np.ndarray) -> np.ndarray:
            return a[j] + (a[j + 1] - a[j]) * frac

        radii = {k: lin(v) for k, v in self.radii_m.items()}
        landfall = None
        if self.landfall is not None:
            landfall = np.where(frac < 0.5, self.landfall[j], self.landfall[j + 1])
        return dataclasses.replace(
            self, times=np.asarray(times, dtype="datetime64[s]"), lat=lat, lon=lon,
            vmax_mps=lin(self.vmax_mps), pc_hpa=lin(self.pc_hpa), penv_hpa=lin(self.penv_hpa),
            rmw_m=lin(self.rmw_m), radii_m=radii, landfall=landfall)

    def resample(self, step_min: float) -> Track:
        """The track every ``step_min`` minutes from its first time."""
        span = (self.times[-1] - self.times[0]).astype("timedelta64[s]").astype(np.int64)
        step = int(round(step_min * 60))
        if step <= 0:
            raise ValueError("step must be positive")
        offs = np.arange(0, span + 1, step, dtype=np.int64)
        return self.interpolate(self.times[0] + offs.astype("timedelta64[s]"))

    def closest_approach(self, lat: float, lon: float, *, step_min: float = 10.0
                         ) -> tuple[np.datetime64, float]:
        """(time, distance in m) of the track's closest approach to a point."""
        fine = self.resample(step_min)
        d = geo.haversine_m(fine.lat, fine.lon, lat, lon)
        k = int(np.argmin(d))
        return fine.times[k], float(d[k])

    # ---------------------------------------------------------------- what-ifs
    def shifted(self, *, east_km: float = 0.0, north_km: float = 0.0) -> Track:
        """Every point moved by the same local offset (great-circle displacement)."""
        return shift(self, east_km=east_km, north_km=north_km)

    def position_at(self, time: np.datetime64) -> tuple[float, float]:
        p = self.interpolate(np.array([np.datetime64(time, "s")]))
        return float(p.lat[0]), float(p.lon[0])


# ------------------------------------------------------------------------- transforms
def shift(track: Track, *, east_km: float = 0.0, north_km: float = 0.0) -> Track:
    """A copy of ``track`` with every point displaced ``east_km`` east and ``north_km``
    north (along the great circle of that bearing from each point)."""
    dist = np.hypot(east_km, north_km) * 1000.0
    if dist == 0.0:
        return track.replace()
    brg = np.degrees(np.arctan2(east_km, north_km))
    lat, lon = geo.destination(track.lat, track.lon, np.full(len(track), brg), dist)
    note = f"shifted {east_km:g} km east, {north_km:g} km north"
    return track.replace(lat=lat, lon=lon, notes=track.notes + (note,))


def shift_to(track: Track, lat: float, lon: float, *, at_time: np.datetime64 | None = None
             ) -> Track:
    """A copy moved so that its position at ``at_time`` lies on (lat, lon).

    ``at_time`` defaults to the time of the track's closest approach to the point,
    i.e. the track is translated (same bearing and distance for every point) so that
    it passes straight over the point: "move the landfall onto the city".
    """
    if at_time is None:
        at_time, _ = track.closest_approach(lat, lon)
    lat0, lon0 = track.position_at(at_time)
    dist = float(geo.haversine_m(lat0, lon0, lat, lon))
    brg = float(geo.bearing_deg(lat0, lon0, lat, lon))
    # the displacement is applied as a rigid motion: rotate every point by the rotation
    # that takes (lat0, lon0) to (lat, lon) along their great circle
    out_lat, out_lon = _rotate_points(track.lat, track.lon, lat0, lon0, lat, lon)
    return track.replace(lat=out_lat, lon=out_lon, notes=track.notes + (
        f"moved {dist / 1000:.1f} km towards bearing {brg:.0f} deg to pass over "
        f"({lat:.3f}, {lon:.3f}) at {np.datetime_as_string(np.datetime64(at_time, 's'))}Z",))


def _rotate_points(lat, lon, lat0, lon0, lat1, lon1) -> tuple[np.ndarray, np.ndarray]:
    """Apply to (lat, lon) the rotation of the sphere taking point 0 to point 1."""
    a = geo.to_unit_vectors(lat0, lon0)
    b = geo.to_unit_vectors(lat1, lon1)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis)
    c = float(np.dot(a, b))
    if s < 1e-15:
        return np.asarray(lat, float).copy(), geo.wrap_lon(lon)
    k = axis / s
    v = geo.to_unit_vectors(lat, lon)
    # Rodrigues' rotation formula
    vr = v * c + np.cross(k, v) * s + np.outer(v @ k, k) * (1 - c)
    return geo.from_unit_vectors(vr)


def rotate(track: Track, angle_deg: float, *, about: tuple[float, float] | None = None
           ) -> Track:
    """A copy rotated by ``angle_deg`` clockwise (compass sense) about ``about`` = (lat, lon).

    ``about`` defaults to the track's first point. Each point keeps its great-circle
    distance to the pivot; its bearing from the pivot grows by ``angle_deg``.
    """
    plat, plon = about if about is not None else (float(track.lat[0]), float(track.lon[0]))
    d = geo.haversine_m(plat, plon, track.lat, track.lon)
    b = geo.bearing_deg(plat, plon, track.lat, track.lon)
    lat, lon = geo.destination(np.full(len(track), plat), np.full(len(track), plon),
                               b + angle_deg, d)
    return track.replace(lat=lat, lon=lon, notes=track.notes + (
        f"rotated {angle_deg:g} deg clockwise about ({plat:.3f}, {plon:.3f})",))


def scale_intensity(track: Track, factor: float) -> Track:
    """A copy with the maximum wind times ``factor`` and the pressure deficit times
    ``factor**2`` (the Holland relation v ~ sqrt(dp) keeps wind and pressure consistent)."""
    if not factor > 0:
        raise HazardError(f"intensity factor must be > 0, got {factor}", where="scale_intensity")
    dp = track.penv_hpa - track.pc_hpa
    return track.replace(vmax_mps=track.vmax_mps * factor,
                         pc_hpa=track.penv_hpa - dp * factor**2,
                         notes=track.notes + (f"intensity x{factor:g} (deficit x{factor**2:g})",))


def change_speed(track: Track, factor: float, *, pivot: np.datetime64 | None = None) -> Track:
    """A copy moving ``factor`` times as fast along the same path.

    Times are stretched about ``pivot`` (default: the time of peak wind), which keeps
    its time: ``t' = pivot + (t - pivot) / factor``.
    """
    if not factor > 0:
        raise HazardError(f"speed factor must be > 0, got {factor}", where="change_speed")
    if pivot is None:
        pivot = track.times[int(np.argmax(track.vmax_mps))]
    p = np.datetime64(pivot, "s").astype(np.int64)
    t = track.times.astype("datetime64[s]").astype(np.int64)
    new = p + np.round((t - p) / factor).astype(np.int64)
    if np.any(np.diff(new) <= 0):
        raise HazardError(f"speed factor {factor} collapses track times", where="change_speed")
    return track.replace(times=new.astype("datetime64[s]"),
                         notes=track.notes + (f"forward speed x{factor:g}",))


# ------------------------------------------------------------------------- row assembly
@dataclass
class _Rows:
    """Parsed rows of one storm before validation (lists, with source line numbers)."""

    id: str
    name: str
    season: int
    basin: str
    lines: list[int] = field(default_factory=list)
    times: list[np.datetime64] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    wind_mps: list[float] = field(default_factory=list)  # already 1-min
    pc: list[float] = field(default_factory=list)
    penv: list[float] = field(default_factory=list)
    rmw_m: list[float] = field(default_factory=list)
    landfall: list[bool] = field(default_factory=list)
    radii: dict[str, list[float]] = field(default_factory=dict)

    def add(self, line: int, time, lat, lon, wind_mps, pc, *, penv=np.nan, rmw_m=np.nan,
            landfall=False, radii: Mapping[str, float] | None = None) -> None:
        self.lines.append(line)
        self.times.append(time)
        self.lat.append(lat)
        self.lon.append(lon)
        self.wind_mps.append(wind_mps)
        self.pc.append(pc)
        self.penv.append(penv)
        self.rmw_m.append(rmw_m)
        self.landfall.append(bool(landfall))
        for k, v in (radii or {}).items():
            self.radii.setdefault(k, []).append(v)


def _finish(rows: _Rows, path: str, *, has_rmw: bool = False, has_landfall: bool = False
            ) -> Track:
    """Validate rows (naming file:line) and apply the missing-value rules."""
    c = load_constants()
    lines = np.asarray(rows.lines)
    lat = np.asarray(rows.lat, dtype=float)
    lon = np.asarray(rows.lon, dtype=float)
    times = np.asarray(rows.times, dtype="datetime64[s]")
    for i in range(len(lines)):
        if not -90.0 <= lat[i] <= 90.0:
            raise HazardError(f"latitude {lat[i]} outside [-90, 90]", where=f"{path}:{lines[i]}")
        if not -180.0 <= lon[i] < 360.0:
            raise HazardError(f"longitude {lon[i]} outside [-180, 360)", where=f"{path}:{lines[i]}")
        if np.isnat(times[i]):
            raise HazardError("missing time", where=f"{path}:{lines[i]}")
        if i and times[i] <= times[i - 1]:
            raise HazardError(
                f"time {np.datetime_as_string(times[i])}Z is not after the previous row's "
                f"{np.datetime_as_string(times[i - 1])}Z (times must strictly increase)",
                where=f"{path}:{lines[i]}")
    lon = geo.wrap_lon(lon)
    wind = np.asarray(rows.wind_mps, dtype=float)
    pc = np.asarray(rows.pc, dtype=float)
    wind[wind < 0] = np.nan
    pc[(pc <= 0) | (pc > 1100)] = np.nan
    notes: list[str] = []
    wp = c.wp_climada
    kt = c.knot_mps
    est_p = np.isnan(pc) & ~np.isnan(wind)
    if est_p.any():
        f = wp["pressure_from_wind"]
        pc[est_p] = (f["const"] + f["lat"] * np.abs(lat[est_p]) + f["lon"] * lon[est_p]
                     + f["wind_kt"] * wind[est_p] / kt)
        notes.append(f"pressure estimated from wind at {int(est_p.sum())} rows")
    est_w = np.isnan(wind) & ~np.isnan(pc)
    if est_w.any():
        f = wp["wind_from_pressure"]
        wind[est_w] = np.maximum(0.0, f["const"] + f["lat"] * np.abs(lat[est_w])
                                 + f["lon"] * lon[est_w] + f["pressure_hpa"] * pc[est_w]) * kt
        notes.append(f"wind estimated from pressure at {int(est_w.sum())} rows")
    both = np.isnan(wind) | np.isnan(pc)
    keep = np.ones(len(lines), dtype=bool)
    if both.any():
        valid = np.nonzero(~both)[0]
        if valid.size < 2:
            raise UnusableStormError(f"storm {rows.id} ({rows.name}) has fewer than 2 rows with "
                                     "a wind or a pressure", where=path)
        keep[: valid[0]] = False
        keep[valid[-1] + 1:] = False
        interior = both & keep
        if interior.any():
            tnum = times.astype(np.int64).astype(float)
            wind[interior] = np.interp(tnum[interior], tnum[valid], wind[valid])
            pc[interior] = np.interp(tnum[interior], tnum[valid], pc[valid])
            notes.append(f"wind and pressure interpolated in time at {int(interior.sum())} rows")
        if (~keep).any():
            notes.append(f"dropped {int((~keep).sum())} leading/trailing rows without wind "
                         "or pressure")
    penv = np.asarray(rows.penv, dtype=float)
    default_env = c.env_pressure_hpa(rows.basin)
    penv = np.where(np.isfinite(penv) & (penv > 800), penv, default_env)
    low = penv <= pc
    if low[keep].any():
        notes.append(f"environmental pressure raised to pc + 1 hPa at {int(low[keep].sum())} rows")
    penv = np.where(low, pc + 1.0, penv)
    rmw = np.asarray(rows.rmw_m, dtype=float)
    rmw[~(rmw > 0)] = np.nan
    if np.count_nonzero(keep) < 2:
        raise UnusableStormError(f"storm {rows.id} ({rows.name}) has fewer than 2 usable rows",
                                 where=path)
    radii = {k: np.asarray(v, dtype=float)[keep] for k, v in rows.radii.items()}
    landfall = np.asarray(rows.landfall, dtype=bool)[keep] if has_landfall else None
    del has_rmw
    return Track(times=times[keep], lat=lat[keep], lon=lon[keep], vmax_mps=wind[keep],
                 pc_hpa=pc[keep], penv_hpa=penv[keep], rmw_m=rmw[keep], basin=rows.basin,
                 id=rows.id, name=rows.name, season=int(rows.season), source=path,
                 radii_m=radii, landfall=landfall, notes=tuple(notes))


def _append(out: TrackList, rows: _Rows, path: str, **kw: bool) -> None:
    """Append the storm's track, or record why the storm is unusable."""
    try:
        out.append(_finish(rows, path, **kw))
    except UnusableStormError as ex:
        out.skipped[f"{rows.name}:{rows.season}"] = str(ex)
        out.skipped[rows.id] = str(ex)


def _num(text: str, path: str, line: int, what: str) -> float:
    t = text.strip()
    if t == "":
        return np.nan
    try:
        return float(t)
    except ValueError:
        raise HazardError(f"{what} {t!r} is not a number", where=f"{path}:{line}") from None


def _averaging_factor(averaging: str | None, where: str) -> float:
    """Factor converting the declared averaging period to 1-min winds."""
    if averaging is None:
        raise HazardError("declare the averaging period of the track's wind: 1min or 10min",
                          where=where)
    if averaging not in WIND_AVERAGING:
        raise HazardError(f"wind averaging must be one of {WIND_AVERAGING}, got {averaging!r}",
                          where=where)
    return 1.0 if averaging == "1min" else 1.0 / load_constants().one_to_ten_minute


# ------------------------------------------------------------------------- HURDAT2
_HURDAT_HEADER = re.compile(r"^\s*([A-Z]{2}\d{6})\s*,\s*([^,]*?)\s*,\s*(\d+)\s*,?\s*$")


def _latlon_hemi(text: str, path: str, line: int) -> float:
    t = text.strip()
    if not t or t[-1] not in "NSEW":
        raise HazardError(f"coordinate {t!r} lacks a hemisphere letter N/S/E/W",
                          where=f"{path}:{line}")
    v = _num(t[:-1], path, line, "coordinate")
    return -v if t[-1] in "SW" else v


def read_hurdat2(path: str | Path) -> TrackList:
    """All storms of a HURDAT2 file (1-min winds; radii in m; landfall records kept)."""
    path = str(path)
    c = load_constants()
    kt, nm = c.knot_mps, c.nautical_mile_m
    quads = ("ne", "se", "sw", "nw")
    out = TrackList()
    rows: _Rows | None = None
    expected = 0
    header_line = 0

    def close() -> None:
        if rows is None:
            return
        if len(rows.lines) != expected:
            raise HazardError(f"header announces {expected} rows for {rows.id}, found "
                              f"{len(rows.lines)}", where=f"{path}:{header_line}")
        _append(out, rows, path, has_landfall=True)

    with open(path, encoding="utf-8", errors="replace") as fh:
        for ln, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            m = _HURDAT_HEADER.match(raw)
            if m:
                close()
                sid, name, n = m.group(1), m.group(2).strip(), int(m.group(3))
                basin = {"AL": "NA", "EP": "EP", "CP": "EP"}.get(sid[:2], sid[:2])
                rows = _Rows(id=sid, name=name.upper(), season=int(sid[4:8]), basin=basin)
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
            w = _num(f[6], path, ln, "wind")
            p = _num(f[7], path, ln, "pressure")
            radii = {}
            for k, thr in enumerate((34, 50, 64)):
                for q, quad in enumerate(quads):
                    idx = 8 + 4 * k + q
                    v = _num(f[idx], path, ln, "wind radius") if idx < len(f) else np.nan
                    radii[f"r{thr}_{quad}"] = np.nan if v < 0 else v * nm
            rmw = _num(f[20], path, ln, "radius of maximum wind") if len(f) > 20 else np.nan
            rows.add(ln, t, lat, lon, np.nan if w < 0 else w * kt, np.nan if p < 0 else p,
                     rmw_m=np.nan if not rmw > 0 else rmw * nm, landfall=(f[2] == "L"),
                     radii=radii)
    close()
    return out


# ------------------------------------------------------------------------- JMA
def read_jma(path: str | Path) -> TrackList:
    """All storms of an RSMC Tokyo best-track file (10-min winds converted to 1-min)."""
    path = str(path)
    c = load_constants()
    kt, nm = c.knot_mps, c.nautical_mile_m
    to1 = 1.0 / c.one_to_ten_minute
    out = TrackList()
    rows: _Rows | None = None
    expected = header_line = 0

    def close() -> None:
        if rows is None:
            return
        if len(rows.lines) != expected:
            raise HazardError(f"header announces {expected} rows for {rows.id}, found "
                              f"{len(rows.lines)}", where=f"{path}:{header_line}")
        _append(out, rows, path, has_landfall=True)

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
                rows = _Rows(id=intl, name=name.upper(), season=(1900 if yy >= 50 else 2000) + yy,
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
            lat = _num(s[15:18], path, ln, "latitude") / 10.0
            lon = _num(s[19:23], path, ln, "longitude") / 10.0
            p = _num(s[24:28], path, ln, "pressure")
            w = _num(s[33:36], path, ln, "wind") if len(s) > 33 else np.nan
            radii = {}
            for key, a, b in (("r50_long", 42, 46), ("r50_short", 47, 51),
                              ("r30_long", 53, 57), ("r30_short", 58, 62)):
                v = _num(s[a:b], path, ln, "wind radius") if len(s) > a else np.nan
                radii[key] = v * nm
            rows.add(ln, t, lat, lon, np.nan if not w > 0 else w * kt * to1,
                     p, landfall=(len(s) > 71 and s[71] == "#"), radii=radii)
    close()
    return out


# ------------------------------------------------------------------------- IBTrACS CSV
def read_ibtracs(path: str | Path, *, wind_source: str = "usa",
                 wind_averaging: str | None = None) -> TrackList:
    """All storms of an IBTrACS CSV (documented layout or the project's reduced extracts).

    ``wind_source``: ``"usa"`` (USA agencies, 1-min; the documented layout's ``USA_*``
    columns, falling back to ``WMO_*`` rows where USA gives nothing) or ``"wmo"``
    (``WMO_WIND``/``WMO_PRES`` converted per ``WMO_AGENCY``). For the reduced layout,
    ``wind_averaging`` overrides the rule: extracts with ``status``/``sshs_cat`` columns
    are USA (1-min); others are WMO, whose averaging follows the basin's RSMC.
    """
    path = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as ex:
        raise HazardError(f"cannot read IBTrACS CSV: {ex}", where=path) from None
    cols = {c.strip().upper(): c for c in df.columns}
    if "SID" in cols and "ISO_TIME" in cols:
        return _ibtracs_full(df, cols, path, wind_source=wind_source,
                             wind_averaging=wind_averaging)
    if "TRACK_ID" in cols and "TIME" in cols:
        return _ibtracs_reduced(df, cols, path, wind_averaging=wind_averaging)
    raise HazardError("not an IBTrACS CSV (needs SID+ISO_TIME or track_id+time columns)",
                      where=path)


def _column(df: pd.DataFrame, cols: dict[str, str], name: str, path: str, first_line: int
            ) -> np.ndarray:
    """A numeric column; blanks are NaN, anything else unparsable names its line."""
    raw = df[cols[name]].astype(str).str.strip()
    val = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(val) & (raw != "").to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise HazardError(f"{name.lower()} {raw.iloc[i]!r} is not a number",
                          where=f"{path}:{first_line + i}")
    return val


def _times(df: pd.DataFrame, col: str, path: str, first_line: int) -> np.ndarray:
    raw = df[col].astype(str).str.strip()
    t = pd.to_datetime(raw, errors="coerce", utc=True)
    bad = t.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise HazardError(f"time {raw.iloc[i]!r} is not a date-time",
                          where=f"{path}:{first_line + i}")
    return t.dt.tz_localize(None).to_numpy().astype("datetime64[s]")


def _ibtracs_reduced(df, cols, path, *, wind_averaging):
    c = load_constants()
    first = 2
    lat = _column(df, cols, "LAT", path, first)
    lon = _column(df, cols, "LON", path, first)
    wind = _column(df, cols, "WIND", path, first) * c.knot_mps
    pres = _column(df, cols, "SLP", path, first) if "SLP" in cols else (
        _column(df, cols, "PRES", path, first))
    times = _times(df, cols["TIME"], path, first)
    usa = "STATUS" in cols or "SSHS_CAT" in cols
    basins = df[cols["BASIN"]].astype(str).str.strip().to_numpy() if "BASIN" in cols else None
    sid = df[cols["TRACK_ID"]].astype(str).str.strip().to_numpy()
    names = df[cols["NAME"]].astype(str).str.strip().to_numpy() if "NAME" in cols else sid
    seasons = _column(df, cols, "SEASON", path, first) if "SEASON" in cols else None
    out = TrackList()
    order = pd.unique(sid)
    for s in order:
        idx = np.nonzero(sid == s)[0]
        basin = str(basins[idx[0]]) if basins is not None else ""
        if wind_averaging is not None:
            fac = _averaging_factor(wind_averaging, path)
        elif usa:
            fac = 1.0
        else:
            minutes = WMO_BASIN_AVERAGING_MIN.get(basin)
            # 2-/3-min winds (or an unknown agency): not converted, re-estimated from pressure
            fac = {1: 1.0, 10: 1.0 / c.one_to_ten_minute}.get(minutes, np.nan)
        season = int(seasons[idx[0]]) if seasons is not None else int(times[idx[0]].astype(
            "datetime64[Y]").astype(int) + 1970)
        rows = _Rows(id=s, name=str(names[idx[0]]).upper(), season=season, basin=basin)
        for i in idx:
            rows.add(first + int(i), times[i], lat[i], lon[i], wind[i] * fac, pres[i])
        _append(out, rows, path)
    return out


def _ibtracs_full(df, cols, path, *, wind_source, wind_averaging):
    c = load_constants()
    if wind_source not in ("usa", "wmo"):
        raise HazardError(f"wind_source must be 'usa' or 'wmo', got {wind_source!r}", where=path)
    first = 2
    # IBTrACS CSVs carry a units row right under the header (SEASON == "Year")
    season_raw = df[cols["SEASON"]].astype(str).str.strip()
    if len(df) and not season_raw.iloc[0].lstrip("-").isdigit():
        df = df.iloc[1:].reset_index(drop=True)
        first = 3
    lat = _column(df, cols, "LAT", path, first)
    lon = _column(df, cols, "LON", path, first)
    times = _times(df, cols["ISO_TIME"], path, first)
    kt, nm = c.knot_mps, c.nautical_mile_m

    def opt(name: str) -> np.ndarray:
        return _column(df, cols, name, path, first) if name in cols else np.full(len(df), np.nan)

    usa_w, usa_p = opt("USA_WIND"), opt("USA_PRES")
    wmo_w, wmo_p = opt("WMO_WIND"), opt("WMO_PRES")
    agency = (df[cols["WMO_AGENCY"]].astype(str).str.strip().str.lower().to_numpy()
              if "WMO_AGENCY" in cols else np.full(len(df), ""))
    if wind_averaging is not None:
        wmo_fac = np.full(len(df), _averaging_factor(wind_averaging, path))
    else:
        minutes = np.array([IBTRACS_AGENCY_AVERAGING_MIN.get(a, 0) for a in agency])
        wmo_fac = np.where(minutes == 1, 1.0,
                           np.where(minutes == 10, 1.0 / c.one_to_ten_minute, np.nan))
    if wind_source == "usa":
        use_usa = ~np.isnan(usa_w) | ~np.isnan(usa_p)
        wind = np.where(use_usa, usa_w * kt, wmo_w * kt * wmo_fac)
        pres = np.where(use_usa, usa_p, wmo_p)
    else:
        wind = wmo_w * kt * wmo_fac
        pres = wmo_p
    # WMO winds of 2-/3-min agencies stay NaN here and are re-estimated from pressure
    # agency radius of maximum wind and outer closed isobar, first agency that has one
    rmw = np.full(len(df), np.nan)
    poci = np.full(len(df), np.nan)
    rmw_cols = [k for k in cols if k.endswith("_RMW")]
    poci_cols = [k for k in cols if k.endswith("_POCI")]
    rmw_cols.sort(key=lambda k: (not k.startswith("USA"), k))
    poci_cols.sort(key=lambda k: (not k.startswith("USA"), k))
    for k in rmw_cols:
        v = _column(df, cols, k, path, first) * nm
        rmw = np.where(np.isnan(rmw), v, rmw)
    for k in poci_cols:
        v = _column(df, cols, k, path, first)
        poci = np.where(np.isnan(poci), v, poci)
    sid = df[cols["SID"]].astype(str).str.strip().to_numpy()
    names = df[cols["NAME"]].astype(str).str.strip().to_numpy() if "NAME" in cols else sid
    seasons = _column(df, cols, "SEASON", path, first)
    basins = df[cols["BASIN"]].astype(str).str.strip().to_numpy() if "BASIN" in cols else None
    landfall = (df[cols["USA_RECORD"]].astype(str).str.strip().to_numpy() == "L"
                if "USA_RECORD" in cols else np.zeros(len(df), bool))
    out = TrackList()
    for s in pd.unique(sid):
        idx = np.nonzero(sid == s)[0]
        basin = str(basins[idx[0]]) if basins is not None else ""
        rows = _Rows(id=s, name=str(names[idx[0]]).upper(), season=int(seasons[idx[0]]),
                     basin=basin)
        for i in idx:
            rows.add(first + int(i), times[i], lat[i], lon[i], wind[i], pres[i],
                     penv=poci[i], rmw_m=rmw[i], landfall=bool(landfall[i]))
        _append(out, rows, path, has_landfall="USA_RECORD" in cols)
    return out


# ------------------------------------------------------------------------- plain CSV
def read_csv_track(path: str | Path, *, wind_averaging: str | None, basin: str = "",
                   storm_id: str | None = None, name: str | None = None) -> Track:
    """One storm from a plain CSV: ``time, lat, lon, wind_mps|wind_kt, pressure_hpa``
    and optionally ``rmw_km|rmw_m``, ``penv_hpa``, ``basin``. Times are UTC (ISO 8601;
    a time zone, if given, is honoured). ``wind_averaging`` must be declared."""
    path = str(path)
    fac = _averaging_factor(wind_averaging, path)
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
    rows = _Rows(id=storm_id or stem, name=(name or stem).upper(), season=0, basin=basin)
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
        w = _num(r[col[wcol]], path, ln, wcol) * wscale * fac if wcol else np.nan
        p = _num(r[col[pcol]], path, ln, pcol) if pcol else np.nan
        rows.add(ln, np.datetime64(ts.to_datetime64(), "s"),
                 _num(r[col["lat"]], path, ln, "lat"), _num(r[col["lon"]], path, ln, "lon"),
                 w, p,
                 penv=_num(r[col["penv_hpa"]], path, ln, "penv_hpa") if "penv_hpa" in col
                 else np.nan,
                 rmw_m=_num(r[col[rcol]], path, ln, rcol) * rscale if rcol else np.nan)
        if not rows.basin and "basin" in col:
            rows.basin = r[col["basin"]].strip()
    if len(rows.lines) < 2:
        raise HazardError("a track needs at least 2 rows", where=path)
    rows.season = int(rows.times[0].astype("datetime64[Y]").astype(int) + 1970)
    return _finish(rows, path)


# ------------------------------------------------------------------------- dispatch
def detect_format(path: str | Path) -> str:
    """Guess the format of a track file from its first non-empty line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = next((ln for ln in fh if ln.strip()), "")
    except OSError as ex:
        raise HazardError(f"cannot read track file: {ex}", where=str(path)) from None
    if _HURDAT_HEADER.match(first):
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
