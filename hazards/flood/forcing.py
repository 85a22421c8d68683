"""Forcings of the flood solver: rain, inflow hydrographs, boundary stages.

Time conventions
----------------
- :class:`TimeSeries` (hydrographs, stages) is piecewise *linear* between its
  points and held constant before the first and after the last point.
- Rain (:class:`Hyetograph`, :class:`RainfallRaster`) is piecewise *constant*:
  the intensity given at ``t_k`` holds over ``[t_k, t_{k+1})``, the last one
  holds to the end of the run, and there is no rain before ``t_0``. The solver
  never lets a time step straddle a change of intensity, so the rain volume is
  integrated exactly.

Text files
----------
Two-column CSV files with a header naming the columns *with their units*:
``time_h,rain_mmh`` (rain), ``time_h,q_m3s`` (inflow hydrograph),
``time_h,stage_m`` (water level, metres in the DEM's vertical datum). Lines
starting with ``#`` are comments. A missing value, an empty line between
records, a time that does not increase, a rain record with an irregular time
step (a gap in a gauge record) or a value outside the physical range raises
:class:`~common.errors.HazardError` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.digest import regular_file_problem
from common.errors import HazardError

#: Rain intensities above this (mm/h) are taken as a unit mistake: the world's
#: 1-hour record is about 305 mm (Holt, Missouri, 1947; WMO archive of weather
#: and climate extremes).
MAX_RAIN_MMH = 400.0

#: Stages beyond this (m, either sign) are no water level on Earth (Everest 8849 m,
#: the Mariana Trench -10,935 m): a unit mistake or garbage.
MAX_ABS_STAGE_M = 11_000.0

#: Discharges above this (m3/s) are taken as a unit mistake: the largest river
#: flood on record (Amazon) peaks near 3.7e5 m3/s.
MAX_INFLOW_M3S = 1.0e6

_COLUMNS = {
    "rain": ("time_h", "rain_mmh"),
    "inflow": ("time_h", "q_m3s"),
    "stage": ("time_h", "stage_m"),
}


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """A piecewise-linear series ``values`` at strictly increasing ``times_s``.

    Held constant before the first and after the last point.
    """

    times_s: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.times_s, dtype=np.float64)
        v = np.asarray(self.values, dtype=np.float64)
        if t.ndim != 1 or t.shape != v.shape or t.size == 0:
            raise HazardError("a time series needs matching 1-D times and values, at least one")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise HazardError("a time series has non-finite times or values")
        if np.any(np.diff(t) <= 0):
            raise HazardError("the times of a time series must increase strictly")
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "values", v)

    @classmethod
    def constant(cls, value: float) -> TimeSeries:
        return cls(np.array([0.0]), np.array([float(value)]))

    def at(self, t_s: float) -> float:
        """Value at time ``t_s`` (s)."""
        return float(np.interp(t_s, self.times_s, self.values))


@dataclass(frozen=True, eq=False)
class Hyetograph:
    """Uniform rain: intensity ``rate_mmh[k]`` (mm/h) over ``[times_s[k], times_s[k+1])``.

    The last intensity holds to the end of the run; no rain before ``times_s[0]``.
    """

    times_s: np.ndarray
    rate_mmh: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.times_s, dtype=np.float64)
        r = np.asarray(self.rate_mmh, dtype=np.float64)
        if t.ndim != 1 or t.shape != r.shape or t.size == 0:
            raise HazardError("a hyetograph needs matching 1-D times and intensities")
        if np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
            raise HazardError("the times of a hyetograph must be finite and increase strictly")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise HazardError("rain intensities must be finite and >= 0 mm/h")
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "rate_mmh", r)

    @classmethod
    def constant(cls, rate_mmh: float) -> Hyetograph:
        return cls(np.array([0.0]), np.array([float(rate_mmh)]))

    def rate_ms(self, t_s: float) -> float:
        """Intensity (m/s) in force at ``t_s``."""
        k = int(np.searchsorted(self.times_s, t_s, side="right")) - 1
        return 0.0 if k < 0 else float(self.rate_mmh[k]) / 3.6e6


@dataclass(frozen=True, eq=False)
class RainfallRaster:
    """Rain on the solver's grid: ``rate_mmh[k]`` (mm/h, shape ``(T, ny, nx)``) holds
    over ``[times_s[k], times_s[k+1])``; the last frame holds to the end of the run
    and there is no rain before ``times_s[0]``.

    This is the hand-over format for gridded rain (a typhoon's rain field, radar
    nowcasts): frames on the DEM grid, row 0 at the north edge. Build it with
    :meth:`from_frames`, which validates shape and values.
    """

    times_s: np.ndarray
    rate_mmh: np.ndarray

    @classmethod
    def from_frames(
        cls, times_s: Sequence[float] | np.ndarray, rate_mmh: np.ndarray, *,
        shape: tuple[int, int],
    ) -> RainfallRaster:
        """Validate and wrap frames; ``shape`` is the grid's ``(ny, nx)``."""
        t = np.asarray(times_s, dtype=np.float64)
        r = np.asarray(rate_mmh)
        if r.ndim != 3 or r.shape[1:] != tuple(shape):
            raise HazardError(
                f"rain raster frames have shape {r.shape}; expected (T, {shape[0]}, {shape[1]}) "
                "on the DEM grid")
        if t.ndim != 1 or t.size != r.shape[0] or t.size == 0:
            raise HazardError(
                f"rain raster has {r.shape[0]} frames but {t.size} times; give one time per frame")
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise HazardError("rain raster times must be finite and increase strictly")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise HazardError("rain raster intensities must be finite and >= 0 mm/h")
        if float(r.max(initial=0.0)) > MAX_RAIN_MMH:
            raise HazardError(
                f"rain raster peaks at {float(r.max()):.1f} mm/h, above {MAX_RAIN_MMH:.0f} mm/h: "
                "wrong units? (expected mm/h)")
        return cls(t, r)

    def frame_index(self, t_s: float) -> int:
        """Index of the frame in force at ``t_s``; -1 before the first frame."""
        return int(np.searchsorted(self.times_s, t_s, side="right")) - 1


@dataclass(frozen=True, eq=False)
class Inflow:
    """A discharge ``hydrograph`` (m3/s >= 0) spread over grid cells with ``weights``.

    ``rows``/``cols`` index the solver grid; ``weights`` sum to 1.
    """

    name: str
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    hydrograph: TimeSeries

    def __post_init__(self) -> None:
        if np.any(self.hydrograph.values < 0):
            raise HazardError(f"inflow {self.name!r}: discharge must be >= 0 m3/s")
        if len(self.rows) == 0 or not (len(self.rows) == len(self.cols) == len(self.weights)):
            raise HazardError(f"inflow {self.name!r}: needs at least one cell")


@dataclass(frozen=True, eq=False)
class StageBoundary:
    """A water level ``stage`` (m) imposed on a domain edge or on a set of cells.

    ``edge`` is one of ``"N", "E", "S", "W"``: a ghost cell beyond every open cell
    of that edge holds the stage (water flows in or out through the edge faces).
    Otherwise ``rows``/``cols`` (e.g. the cells along a coastline) are forced to
    depth ``max(stage - z, 0)`` after every step.
    """

    name: str
    stage: TimeSeries
    edge: str | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.edge is None) == (self.rows is None):
            raise HazardError(f"stage boundary {self.name!r}: give an edge or cells, not both")
        if self.edge is not None and self.edge not in ("N", "E", "S", "W"):
            raise HazardError(
                f"stage boundary {self.name!r}: edge {self.edge!r} is not one of N, E, S, W")


def _parse_float(text: str, *, where: str, column: str) -> float:
    text = text.strip()
    if text == "":
        raise HazardError(f"missing {column} value: gap in the record", where=where)
    try:
        v = float(text)
    except ValueError:
        raise HazardError(f"{column} value {text!r} is not a number", where=where) from None
    if not np.isfinite(v):
        raise HazardError(f"{column} value {text!r} is not finite: gap in the record",
                          where=where)
    return v


def read_series_csv(path: Path | str, *, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a two-column CSV (``kind`` = ``"rain"``, ``"inflow"`` or ``"stage"``).

    Returns ``(times_h, values)`` as float64 arrays. See the module docstring
    for the format and the checks.
    """
    cols = _COLUMNS[kind]
    path = Path(path)
    problem = regular_file_problem(path)
    if problem and path.exists():  # a device or a folder; a missing file is reported below
        raise HazardError(f"{kind} file: {problem}", where=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HazardError(f"{kind} file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HazardError(f"cannot read {kind} file: {exc}", where=str(path)) from None
    lines = text.splitlines()
    header_seen = False
    times: list[float] = []
    values: list[float] = []
    blank_at: int | None = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        where = f"{path}:{lineno}"
        if line.startswith("#"):
            continue
        if line == "":
            if header_seen and blank_at is None:
                blank_at = lineno
            continue
        if not header_seen:
            names = tuple(c.strip().lower() for c in line.split(","))
            if names != cols:
                raise HazardError(
                    f"header is {line!r}; expected '{cols[0]},{cols[1]}' "
                    f"(time in hours, {cols[1].split('_')[-1]} as the suffix says)", where=where)
            header_seen = True
            continue
        if blank_at is not None:
            raise HazardError("empty line between records: gap in the record",
                              where=f"{path}:{blank_at}")
        parts = line.split(",")
        if len(parts) != 2:
            raise HazardError(f"expected 2 values ({cols[0]},{cols[1]}), got {len(parts)}",
                              where=where)
        t = _parse_float(parts[0], where=where, column=cols[0])
        v = _parse_float(parts[1], where=where, column=cols[1])
        if t < 0:
            raise HazardError(f"{cols[0]} {t:g} is negative", where=where)
        if times and t <= times[-1]:
            raise HazardError(f"{cols[0]} {t:g} does not increase (previous {times[-1]:g})",
                              where=where)
        if kind == "rain":
            if v < 0:
                raise HazardError(f"rain {v:g} mm/h is negative", where=where)
            if v > MAX_RAIN_MMH:
                raise HazardError(
                    f"rain {v:g} mm/h exceeds {MAX_RAIN_MMH:.0f} mm/h (the 1-hour world record "
                    "is ~305 mm): wrong units? expected mm/h", where=where)
            if len(times) >= 2:
                step = times[1] - times[0]
                if abs((t - times[-1]) - step) > 1e-6 * max(step, 1e-9):
                    raise HazardError(
                        f"time step {t - times[-1]:g} h differs from the record's step "
                        f"{step:g} h: gap or irregular record", where=where)
        elif kind == "inflow" and v < 0:
            raise HazardError(f"discharge {v:g} m3/s is negative", where=where)
        problem = _absurd(kind, np.asarray([v]))
        if problem:
            raise HazardError(problem, where=where)
        times.append(t)
        values.append(v)
    if not header_seen:
        raise HazardError(f"empty {kind} file; expected header '{cols[0]},{cols[1]}'",
                          where=str(path))
    if not times:
        raise HazardError(f"{kind} file has a header but no records", where=str(path))
    return np.asarray(times), np.asarray(values)


def series_from_pairs(pairs: Sequence[Sequence[float]], *, kind: str, where: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``[[time_h, value], ...]`` given inline in a scenario or on the command line."""
    arr = np.asarray(pairs, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise HazardError(f"expected a list of [time_h, value] pairs, got shape {arr.shape}",
                          where=where)
    t, v = arr[:, 0], arr[:, 1]
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise HazardError("times and values must be finite numbers", where=where)
    if np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise HazardError("times (h) must be >= 0 and increase strictly", where=where)
    if kind == "rain":
        if np.any(v < 0):
            raise HazardError("rain intensities must be >= 0 mm/h", where=where)
        if np.any(v > MAX_RAIN_MMH):
            raise HazardError(f"rain above {MAX_RAIN_MMH:.0f} mm/h: wrong units? expected mm/h",
                              where=where)
    if kind == "inflow" and np.any(v < 0):
        raise HazardError("discharge must be >= 0 m3/s", where=where)
    problem = _absurd(kind, v)
    if problem:
        raise HazardError(problem, where=where)
    return t, v


def _absurd(kind: str, v: np.ndarray) -> str | None:
    """Why values of a ``kind`` series are physically absurd, or None."""
    if kind == "stage" and np.any(np.abs(v) > MAX_ABS_STAGE_M):
        bad = float(v[np.argmax(np.abs(v))])
        return (f"stage {bad:.4g} m is beyond any water level on Earth "
                f"(|stage| <= {MAX_ABS_STAGE_M:g} m); wrong units? expected metres")
    if kind == "inflow" and np.any(v > MAX_INFLOW_M3S):
        return (f"discharge {float(v.max()):.4g} m3/s exceeds {MAX_INFLOW_M3S:.0e} m3/s (the "
                "largest river floods peak near 3.7e5 m3/s); wrong units? expected m3/s")
    return None
