"""A tropical cyclone's best track in SI units: the model every reader produces.

:class:`Track` holds one storm (times, position, 1-min wind, pressures, radius of maximum
wind, wind radii) with its invariants; :meth:`Track.interpolate` gives it at any time
inside its span. The readers of the agencies' formats are in :mod:`hazards.typhoon.readers`,
the what-if transforms in :mod:`hazards.typhoon.track_transforms`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from common.errors import HazardError
from hazards.typhoon import geo


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

    def position_at(self, time: np.datetime64) -> tuple[float, float]:
        p = self.interpolate(np.array([np.datetime64(time, "s")]))
        return float(p.lat[0]), float(p.lon[0])
