"""Row assembly and the rules every track reader applies: validation (naming file and
line), plausibility limits, and the missing-value rules (see :mod:`hazards.typhoon.readers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from common.errors import HazardError
from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants
from hazards.typhoon.track import Track, TrackList, UnusableStormError

WIND_AVERAGING = ("1min", "10min")


@dataclass
class Rows:
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


#: What no best track can hold; a row beyond these is refused, naming file and line.
#: Record intensity: Patricia 2015, 185 kt 1-min (95 m/s; Kimberlain et al. 2016, NHC
#: TCR EP202015); record low pressure: Tip 1979, 870 hPa (WMO Archive of Weather and
#: Climate Extremes). The largest tropical cyclones have gale radii near 1,100 km (Tip;
#: Dunnavan & Diercks 1980) and forward speeds below ~30 m/s even in extratropical
#: transition (shipped files: at most 34 m/s between fixes); the longest-lived lasted
#: 36 days (Freddy 2023). The limits leave a wide margin above these records.
LIMITS = {
    "wind_max_mps": 110.0,
    "pc_hpa": (850.0, 1100.0),
    "penv_hpa": (900.0, 1100.0),
    "rmw_max_m": 1000e3,
    "radius_max_m": 3000e3,
    "speed_max_mps": 60.0,
    "duration_max_h": 120 * 24.0,
    "first_time": np.datetime64("1800-01-01T00:00", "s"),
    "last_time": np.datetime64("2300-01-01T00:00", "s"),
}


def _check_range(rows: Rows, path: str, values: np.ndarray, what: str, lo: float, hi: float,
                 unit: str) -> None:
    """Refuse the first finite value outside [lo, hi] (NaN is "missing", checked later)."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ((values < lo) | (values > hi))
    if bad.any():
        i = int(np.argmax(bad))
        raise HazardError(f"{what} {values[i]:.6g} {unit} is not physical (allowed "
                          f"{lo:g}-{hi:g} {unit})", where=f"{path}:{rows.lines[i]}")


def _check_plausible(rows: Rows, path: str, times: np.ndarray, lat: np.ndarray,
                     lon: np.ndarray, wind: np.ndarray, pc: np.ndarray) -> None:
    """Refuse winds, pressures, forward speeds and durations no storm has had."""
    _check_range(rows, path, wind, "1-min wind", 0.0, LIMITS["wind_max_mps"], "m/s")
    _check_range(rows, path, pc, "central pressure", *LIMITS["pc_hpa"], "hPa")
    if len(times) < 2:
        return
    span_h = (times[-1] - times[0]).astype(np.int64) / 3600.0
    if span_h > LIMITS["duration_max_h"]:
        k = int(np.argmax((times - times[0]).astype(np.int64) / 3600.0
                          > LIMITS["duration_max_h"]))
        raise HazardError(f"storm {rows.id} would last {span_h / 24:.0f} days (at most "
                          f"{LIMITS['duration_max_h'] / 24:.0f}); is this row another storm?",
                          where=f"{path}:{rows.lines[k]}")
    dist = geo.haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    speed = dist / np.diff(times).astype(np.int64)
    if np.any(speed > LIMITS["speed_max_mps"]):
        k = int(np.argmax(speed > LIMITS["speed_max_mps"]))
        raise HazardError(f"the storm moves {dist[k] / 1000:.0f} km in "
                          f"{np.diff(times)[k].astype(np.int64) / 3600:g} h "
                          f"({speed[k]:.0f} m/s) from the previous row; no tropical cyclone "
                          f"moves faster than {LIMITS['speed_max_mps']:g} m/s",
                          where=f"{path}:{rows.lines[k + 1]}")


def finish(rows: Rows, path: str, *, has_rmw: bool = False, has_landfall: bool = False
            ) -> Track:
    """Validate rows (naming file:line) and apply the missing-value rules."""
    c = load_constants()
    lines = np.asarray(rows.lines)
    lat = np.asarray(rows.lat, dtype=float)
    lon = np.asarray(rows.lon, dtype=float)
    times = np.asarray(rows.times, dtype="datetime64[s]")
    for i in range(len(lines)):
        if not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            raise HazardError("position missing (latitude and longitude are required)",
                              where=f"{path}:{lines[i]}")
        if not -90.0 <= lat[i] <= 90.0:
            raise HazardError(f"latitude {lat[i]} outside [-90, 90]", where=f"{path}:{lines[i]}")
        if not -180.0 <= lon[i] < 360.0:
            raise HazardError(f"longitude {lon[i]} outside [-180, 360)", where=f"{path}:{lines[i]}")
        if np.isnat(times[i]):
            raise HazardError("missing time", where=f"{path}:{lines[i]}")
        if not LIMITS["first_time"] <= times[i] < LIMITS["last_time"]:
            raise HazardError(f"time {np.datetime_as_string(times[i])}Z is outside the years "
                              "1800-2299 of any best track", where=f"{path}:{lines[i]}")
        if i and times[i] <= times[i - 1]:
            raise HazardError(
                f"time {np.datetime_as_string(times[i])}Z is not after the previous row's "
                f"{np.datetime_as_string(times[i - 1])}Z (times must strictly increase)",
                where=f"{path}:{lines[i]}")
    wind = np.asarray(rows.wind_mps, dtype=float)
    pc = np.asarray(rows.pc, dtype=float)
    wind[wind < 0] = np.nan  # negative sentinels (-99, -999) mean "missing"
    pc[pc <= 0] = np.nan
    _check_plausible(rows, path, times, lat, lon, wind, pc)
    lon = geo.wrap_lon(lon)
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
    penv[~(penv > 0)] = np.nan
    _check_range(rows, path, penv, "environmental pressure (hPa)", *LIMITS["penv_hpa"], "hPa")
    default_env = c.env_pressure_hpa(rows.basin)
    penv = np.where(np.isfinite(penv) & (penv > 800), penv, default_env)
    low = penv <= pc
    if low[keep].any():
        notes.append(f"environmental pressure raised to pc + 1 hPa at {int(low[keep].sum())} rows")
    penv = np.where(low, pc + 1.0, penv)
    rmw = np.asarray(rows.rmw_m, dtype=float)
    rmw[~(rmw > 0)] = np.nan
    _check_range(rows, path, rmw, "radius of maximum wind", 0.0, LIMITS["rmw_max_m"], "m")
    for k, v in rows.radii.items():
        if k.endswith("_deg"):  # a direction, not a radius
            continue
        r = np.asarray(v, dtype=float)
        _check_range(rows, path, np.where(r >= 0, r, np.nan), f"wind radius {k}", 0.0,
                     LIMITS["radius_max_m"], "m")
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


def append_storm(out: TrackList, rows: Rows, path: str, **kw: bool) -> None:
    """Append the storm's track, or record why the storm is unusable."""
    try:
        out.append(finish(rows, path, **kw))
    except UnusableStormError as ex:
        out.skipped[f"{rows.name}:{rows.season}"] = str(ex)
        out.skipped[rows.id] = str(ex)


def append_announced(out: TrackList, rows: Rows | None, path: str, *, expected: int,
                     header_line: int) -> None:
    """Close a storm of a format whose header announces its row count (HURDAT2, JMA):
    a different count is a broken file; then :func:`append_storm`."""
    if rows is None:
        return
    if len(rows.lines) != expected:
        raise HazardError(f"header announces {expected} rows for {rows.id}, found "
                          f"{len(rows.lines)}", where=f"{path}:{header_line}")
    append_storm(out, rows, path, has_landfall=True)


def num(text: str, path: str, line: int, what: str) -> float:
    t = text.strip()
    if t == "":
        return np.nan
    try:
        v = float(t)
    except ValueError:
        raise HazardError(f"{what} {t!r} is not a number", where=f"{path}:{line}") from None
    if not np.isfinite(v):
        raise HazardError(f"{what} {t!r} is not a finite number (leave the field empty when "
                          "it is missing)", where=f"{path}:{line}")
    return v


def averaging_factor(averaging: str | None, where: str) -> float:
    """Factor converting the declared averaging period to 1-min winds."""
    if averaging is None:
        raise HazardError("declare the averaging period of the track's wind: 1min or 10min",
                          where=where)
    if averaging not in WIND_AVERAGING:
        raise HazardError(f"wind averaging must be one of {WIND_AVERAGING}, got {averaging!r}",
                          where=where)
    return 1.0 if averaging == "1min" else 1.0 / load_constants().one_to_ten_minute
