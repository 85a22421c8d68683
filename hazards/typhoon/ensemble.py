"""Forecast uncertainty: an ensemble of tracks perturbed from a forecast (or, as a
stand-in, from the best track) with errors that grow with lead time.

A planner 72 h ahead has a forecast, not the best track. Member ``m`` of the ensemble
is the track moved along and across its motion, its wind scaled and its size scaled by
errors that are 0 at the issue time and grow with the lead time as the official
forecast errors do (``forecast_errors`` in ``wind_constants.yaml``, with sources):
``error(lead) = z_m * sigma(lead)``, one standard normal ``z_m`` per member and error
kind (a member is consistently left of, ahead of, stronger or larger than the forecast),
``sigma`` interpolated linearly in lead time in the table. Position errors are reported
as mean distances; for a two-dimensional normal error with along/cross ratio ``k`` the
standard deviations follow from the mean distance (see :func:`position_sigmas`).

Members are reproducible from the seed: ``np.random.default_rng(seed)`` draws a
``(members, 4)`` array of standard normals in one call, so member ``m`` is the same for
any ensemble size that includes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.errors import HazardError
from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants
from hazards.typhoon.track import Track

#: most members of one ensemble (each is a full wind field)
MAX_MEMBERS = 1000


@dataclass(frozen=True)
class ErrorGrowth:
    """Forecast error statistics by lead time (h): mean position error (m), along/cross
    ratio of the position error, intensity error (1-min wind, m/s, one standard
    deviation) and size error (standard deviation of the log of the wind radii)."""

    lead_h: np.ndarray
    position_mean_m: np.ndarray
    along_cross_ratio: float
    intensity_sd_mps: np.ndarray
    size_log_sd: np.ndarray

    @classmethod
    def from_constants(cls) -> ErrorGrowth:
        k = load_constants().forecast_errors
        return cls(lead_h=np.asarray(k["lead_h"], dtype=float),
                   position_mean_m=np.asarray(k["position_mean_km"], dtype=float) * 1000.0,
                   along_cross_ratio=float(k["along_cross_ratio"]),
                   intensity_sd_mps=np.asarray(k["intensity_sd_kt"], dtype=float)
                   * load_constants().knot_mps,
                   size_log_sd=np.asarray(k["size_log_sd"], dtype=float))

    def at(self, lead_h: np.ndarray) -> tuple[np.ndarray, ...]:
        """(sigma_along_m, sigma_cross_m, sigma_intensity_mps, sigma_log_size) at leads
        (0 before the issue time; the last value held beyond the table)."""
        lead = np.maximum(np.asarray(lead_h, dtype=float), 0.0)
        mean = np.interp(lead, self.lead_h, self.position_mean_m)
        sa, sc = position_sigmas(mean, self.along_cross_ratio)
        return (sa, sc, np.interp(lead, self.lead_h, self.intensity_sd_mps),
                np.interp(lead, self.lead_h, self.size_log_sd))


def position_sigmas(mean_distance_m: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Along- and cross-track standard deviations whose 2-D normal error has the given
    mean distance, with ``sigma_along = ratio * sigma_cross``.

    For ``sigma_along = sigma_cross = s`` the mean distance is ``s sqrt(pi/2)`` (Rayleigh);
    for unequal axes we use the quadratic mean of the axes in that formula, which is
    within 1 % of the exact mean distance for ratios up to 1.5 (checked by sampling).
    """
    cross = np.asarray(mean_distance_m, dtype=float) / math.sqrt(math.pi / 2.0) / math.sqrt(
        0.5 * (1.0 + ratio * ratio))
    return ratio * cross, cross


def draws(members: int, seed: int) -> np.ndarray:
    """Standard normals ``[members, 4]`` (along, cross, intensity, size), from ``seed``."""
    if not 1 <= members <= MAX_MEMBERS:
        raise HazardError(f"members must be in [1, {MAX_MEMBERS}], got {members}",
                          where="members")
    return np.random.default_rng(np.random.SeedSequence(seed)).standard_normal((members, 4))


def member_track(track: Track, issue_time: np.datetime64, z: np.ndarray,
                 errors: ErrorGrowth | None = None) -> Track:
    """The track of one member: ``z`` = its 4 standard normals (see :func:`draws`)."""
    errors = errors or ErrorGrowth.from_constants()
    lead = track.hours_since(np.datetime64(issue_time, "s"))
    sa, sc, sv, ss = errors.at(lead)
    along, cross = z[0] * sa, z[1] * sc
    # motion direction at each row (central differences of the positions)
    n = len(track)
    i0 = np.clip(np.arange(n) - 1, 0, n - 1)
    i1 = np.clip(np.arange(n) + 1, 0, n - 1)
    heading = geo.bearing_deg(track.lat[i0], track.lon[i0], track.lat[i1], track.lon[i1])
    east = along * np.sin(np.radians(heading)) + cross * np.sin(np.radians(heading + 90.0))
    north = along * np.cos(np.radians(heading)) + cross * np.cos(np.radians(heading + 90.0))
    dist = np.hypot(east, north)
    lat, lon = geo.destination(track.lat, track.lon, np.degrees(np.arctan2(east, north)), dist)
    vmax = np.maximum(track.vmax_mps + z[2] * sv, 10.0)
    ratio = vmax / np.maximum(track.vmax_mps, 1e-6)
    dp = track.penv_hpa - track.pc_hpa
    pc = track.penv_hpa - dp * ratio**2  # Holland: v ~ sqrt(dp)
    size = np.exp(z[3] * ss)
    radii = {k: (v if k.endswith("_deg") else v * size) for k, v in track.radii_m.items()}
    return track.replace(lat=lat, lon=lon, vmax_mps=vmax, pc_hpa=pc, rmw_m=track.rmw_m * size,
                         radii_m=radii, notes=track.notes + (
                             f"forecast member: along {z[0]:+.2f} sd, cross {z[1]:+.2f} sd, "
                             f"intensity {z[2]:+.2f} sd, size {z[3]:+.2f} sd",))


def ensemble(track: Track, issue_time: np.datetime64, members: int, seed: int) -> list[Track]:
    """``members`` perturbed tracks (see the module docstring)."""
    errors = ErrorGrowth.from_constants()
    return [member_track(track, issue_time, z, errors) for z in draws(members, seed)]
