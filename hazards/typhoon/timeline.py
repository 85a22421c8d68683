"""The storm as one scenario sees it: the transformed track on the scenario's clock.

:func:`build_timeline` takes the track read from the file, the scenario block and the
city's location, and returns a frozen :class:`StormTimeline`: the track after the
what-if ``transforms`` (each pivoting on the closest approach to the city), then, with a
``forecast`` block, the errors of one forecast member, the scenario
start ``t0`` (``start_time_utc``, else ``lead_time_h`` before the closest approach), the
step times (every ``step_min`` until the scenario horizon or the track's end, whichever
is first) and, for a track that never comes within ``far_km``, the warning to give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC

import numpy as np

from common.errors import HazardError
from hazards.typhoon import track_transforms as tt
from hazards.typhoon.config import MAX_STEPS, TyphoonConfig
from hazards.typhoon.track import Track


class TyphoonWarning(UserWarning):
    """The typhoon scenario is valid but probably not what was meant (e.g. a far track)."""


@dataclass(frozen=True, eq=False)
class StormTimeline:
    """The transformed track and the scenario's time steps for one city location.

    Invariants: ``times_h`` = hours since ``t0`` (0, step, 2 step, ...), ``times`` the
    same instants as UTC ``datetime64[s]``; ``inside`` marks the steps within the
    track's span (the wind is 0 outside); ``closest_approach_m`` is the great-circle
    distance of the (transformed) track's closest approach to ``city_lonlat``.
    """

    track: Track
    city_lonlat: tuple[float, float]
    t0: np.datetime64
    closest_approach_utc: np.datetime64
    closest_approach_m: float
    times_h: np.ndarray
    times: np.ndarray
    far_warning: str | None

    @property
    def inside(self) -> np.ndarray:
        """Steps within the track's span (bool per step)."""
        return (self.times >= self.track.times[0]) & (self.times <= self.track.times[-1])

    def hours_of(self, times: np.ndarray) -> np.ndarray:
        """Scenario hours of UTC ``times``."""
        return (np.asarray(times, dtype="datetime64[s]") - self.t0).astype(np.int64) / 3600.0


def apply_transforms(track: Track, config: TyphoonConfig, city: tuple[float, float]) -> Track:
    """The track after the scenario's ``transforms``, in order; each pivots on the current
    track's closest approach to ``city`` (lon, lat)."""
    lon_c, lat_c = city
    for t in config.transforms:
        ca_time, _ = track.closest_approach(lat_c, lon_c)
        if t.shift_km is not None:
            track = tt.shift(track, east_km=t.shift_km[0], north_km=t.shift_km[1])
        elif t.shift_to_lonlat is not None:
            lon, lat = t.shift_to_lonlat
            track = tt.shift_to(track, lat, lon)
        elif t.rotate_deg is not None:
            track = tt.rotate(track, t.rotate_deg, about=track.position_at(ca_time))
        elif t.scale_intensity is not None:
            track = tt.scale_intensity(track, t.scale_intensity)
        elif t.speed_factor is not None:
            track = tt.change_speed(track, t.speed_factor, pivot=ca_time)
    return track


def forecast_member(track: Track, spec) -> Track:
    """The track of forecast member ``spec.member`` (:mod:`.ensemble`; errors grow from
    ``spec.issue_time_utc``, which must lie within the track)."""
    from hazards.typhoon.ensemble import draws, member_track

    issue = issue_time(track, spec)
    return member_track(track, issue, draws(spec.member + 1, spec.seed)[spec.member])


def issue_time(track: Track, spec) -> np.datetime64:
    """A forecast's issue time as UTC ``datetime64[s]``, checked to lie within the track."""
    t = spec.issue_time_utc
    if t.tzinfo is not None:
        t = t.astimezone(UTC).replace(tzinfo=None)
    issue = np.datetime64(t, "s")
    if not track.times[0] <= issue <= track.times[-1]:
        raise HazardError(f"issue time {np.datetime_as_string(issue)}Z lies outside the "
                          "track", where="typhoon forecast.issue_time_utc")
    return issue


def build_timeline(base_track: Track, config: TyphoonConfig, city: tuple[float, float],
                   horizon_h: float) -> StormTimeline:
    """The scenario's view of the storm (see the module docstring).

    Raises
    ------
    HazardError
        The scenario starts after the track ends, or ``step_min`` would make more than
        :data:`~hazards.typhoon.config.MAX_STEPS` steps (checked before allocating).
    """
    track = apply_transforms(base_track, config, city)
    ca_time, ca_dist = track.closest_approach(city[1], city[0])
    if config.forecast is not None:
        # The member's errors act on the storm as the scenario places it, after the
        # transforms: a shift_to_lonlat applied after them would move every member back
        # over the city and erase its cross-track error. The clock (t0) stays the
        # forecast's own: a member that runs ahead arrives earlier on it.
        track = forecast_member(track, config.forecast)
        ca_time_m, ca_dist = track.closest_approach(city[1], city[0])
    else:
        ca_time_m = ca_time
    if config.start_time_utc is not None:
        st = config.start_time_utc
        if st.tzinfo is not None:
            st = st.astimezone(UTC).replace(tzinfo=None)
        t0 = np.datetime64(st, "s")
    else:
        t0 = ca_time - np.timedelta64(int(round(config.lead_time_h * 3600)), "s")
    end_h = min(float(horizon_h), float((track.times[-1] - t0).astype(np.int64)) / 3600.0)
    if end_h < 0:
        raise HazardError(
            f"scenario start {np.datetime_as_string(t0)}Z is after the track's end "
            f"{np.datetime_as_string(track.times[-1])}Z", where="typhoon start_time_utc")
    step_h = config.step_min / 60.0
    n = int(math.floor(end_h / step_h + 1e-9)) + 1
    if n > MAX_STEPS:
        raise HazardError(
            f"step_min {config.step_min:g} over {end_h:.0f} h makes {n:,} time steps, more "
            f"than {MAX_STEPS:,}; use a coarser step", where="typhoon step_min")
    times_h = np.arange(n) * step_h
    times = t0 + np.round(times_h * 3600).astype(np.int64).astype("timedelta64[s]")
    far = None
    if ca_dist > config.far_km * 1000.0:
        far = (f"track {track.name}:{track.season} never comes within {config.far_km:g} km "
               f"of the city at ({city[0]:.3f}E, {city[1]:.3f}N): closest approach "
               f"{ca_dist / 1000:.0f} km; winds will be weak or zero (move the track with a "
               "shift_to_lonlat transform?)")
    return StormTimeline(track=track, city_lonlat=(float(city[0]), float(city[1])), t0=t0,
                         closest_approach_utc=ca_time_m, closest_approach_m=float(ca_dist),
                         times_h=times_h, times=times, far_warning=far)
