"""Storms of their own size: the Holland et al. (2010) profile fitted to the wind radii.

The agencies report how far winds of given speeds reach: NHC (HURDAT2) and the USA
agencies in IBTrACS (``USA_R34_NE`` ...) the 34/50/64-kt radii of 1-min winds per
quadrant; RSMC Tokyo (JMA) the 30/50-kt radii of 10-min winds along a long axis (with its
direction) and a short one. Each threshold's radius is stored per track row as azimuthal
harmonics ``r(theta) = a0 + a1 cos(theta) + a2 sin(theta) + a3 sin(2 theta)``, theta the
azimuth clockwise from north: four numbers that reproduce the four quadrant radii at the
quadrants' centres (NE, SE, SW, NW) exactly, and a long/short axis exactly along and
against its direction. The harmonics, not the radii, are interpolated in time between
fixes (so a turning long axis turns), and held before the first and after the last fix
that reports them.

Profile (Holland, Belanger & Fritz 2010, Mon. Wea. Rev. 138:4393, eqs. 7-10)::

    V(r) = Vm * [ (Rm/r)^b exp(1 - (Rm/r)^b) ]^x  =  Vm exp(-x L(r))

with ``x = 0.5`` inside ``Rm``; outside, Holland et al. choose ``x`` so that the profile
passes through a peripheral wind ``v_n`` at ``r_n``: ``x_n = -ln(v_n / Vm) / L(r_n)``.
Here every reported radius is such a point: with ``y = -ln(V/Vm)``, ``y = x_1 L`` out to
the innermost radius (Holland et al.'s profile through it), ``y`` linear in ``L`` between
consecutive radii (so the wind falls monotonically from one reported radius to the next),
and ``y = x_K L`` beyond the outermost (Holland et al.'s profile through it). Knots are
computed at the quadrant centres and carried around the storm by the same harmonics.
``Vm`` is the track's 1-min wind, ``Rm`` the agency's radius of maximum wind or the
Vickery & Wadhera (2008) regression (kept inside 0.9 of the innermost reported radius),
``b`` Holland's (2008) b_s.

Radii describe the total wind (storm plus motion); the symmetric profile is fitted to
``v_n + c |v_t| - c v_t . t_hat`` at each quadrant centre, ``c = Rm / r_n``, the
translation term of :mod:`hazards.typhoon.wind` (CLIMADA, after Mouton & Nordbeck 2005),
so that the total wind the kernel returns at ``r_n`` is ``v_n``. 10-min thresholds are
converted to 1-min with the WMO at-sea factor (Harper et al. 2010, ``one_to_ten_minute``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hazards.typhoon.constants import WindConstants, load_constants
from hazards.typhoon.track import Track

#: the profile's name in scenarios and metadata
RADII_PROFILE = "holland2010_radii"
#: most reported radii per row (R64, R50, R34)
MAX_KNOTS = 3
#: quadrant centres (azimuth, degrees clockwise from north)
QUADRANTS = {"ne": 45.0, "se": 135.0, "sw": 225.0, "nw": 315.0}
_R2 = 1.0 / (2.0 * math.sqrt(2.0))


@dataclass(frozen=True)
class RadiusSeries:
    """One wind threshold's radii along the track.

    ``speed_mps`` is the threshold as a 1-min marine wind, ``averaging_min`` the agency's
    averaging period (1 or 10) and ``threshold_kt`` its stated value; ``coeffs[row]`` are
    the harmonics ``(a0, a1, a2, a3)`` in metres, NaN where the row has no radius.
    """

    threshold_kt: float
    averaging_min: int
    speed_mps: float
    coeffs: np.ndarray

    def radius_at(self, azimuth_deg: np.ndarray | float, row: int | slice = slice(None)
                  ) -> np.ndarray:
        """Radius (m) along ``azimuth_deg`` (clockwise from north) at ``row``."""
        return harmonic(self.coeffs[row], np.radians(azimuth_deg))


def harmonic(coeffs: np.ndarray, theta: np.ndarray | float) -> np.ndarray:
    """``a0 + a1 cos(theta) + a2 sin(theta) + a3 sin(2 theta)`` (coeffs on the last axis)."""
    c = np.asarray(coeffs, dtype=float)
    return (c[..., 0] + c[..., 1] * np.cos(theta) + c[..., 2] * np.sin(theta)
            + c[..., 3] * np.sin(2.0 * theta))


def quadrant_harmonics(ne, se, sw, nw) -> np.ndarray:
    """Harmonic coefficients ``[..., 4]`` through the four quadrant values."""
    ne, se, sw, nw = (np.asarray(v, dtype=float) for v in (ne, se, sw, nw))
    return np.stack([0.25 * (ne + se + sw + nw), _R2 * (ne - se - sw + nw),
                     _R2 * (ne + se - sw - nw), 0.25 * (ne - se + sw - nw)], axis=-1)


def axis_harmonics(long_m, short_m, direction_deg) -> np.ndarray:
    """Harmonics of a long radius along ``direction_deg`` and a short one opposite
    (JMA); no direction (NaN) means a circle of the mean radius."""
    long_m, short_m = np.asarray(long_m, dtype=float), np.asarray(short_m, dtype=float)
    d = np.radians(np.asarray(direction_deg, dtype=float))
    half = np.where(np.isnan(d), 0.0, 0.5 * (long_m - short_m))
    d = np.nan_to_num(d)
    return np.stack([0.5 * (long_m + short_m), half * np.cos(d), half * np.sin(d),
                     np.zeros_like(long_m)], axis=-1)


def radius_series(track: Track, constants: WindConstants | None = None
                  ) -> list[RadiusSeries]:
    """The track's wind radii as :class:`RadiusSeries`, fastest threshold first; rows whose
    radii are missing, or zero in every direction (no such wind), are NaN."""
    c = constants or load_constants()
    kt = c.knot_mps
    out = []
    r = track.radii_m
    for thr in (64, 50, 34):  # NHC / USA agencies, 1-min
        keys = [f"r{thr}_{q}" for q in QUADRANTS]
        if all(k in r for k in keys):
            vals = [np.asarray(r[k], dtype=float) for k in keys]
            co = quadrant_harmonics(*vals)
            absent = np.any([np.isnan(v) for v in vals], axis=0) | np.all(
                [v <= 0 for v in vals], axis=0)
            co[absent] = np.nan
            out.append(RadiusSeries(thr, 1, thr * kt, co))
    for thr in (50, 30):  # JMA, 10-min
        keys = (f"r{thr}_long", f"r{thr}_short")
        if all(k in r for k in keys):
            lo, sh = (np.asarray(r[k], dtype=float) for k in keys)
            d = np.asarray(r.get(f"r{thr}_dir_deg", np.full(len(lo), np.nan)), dtype=float)
            co = axis_harmonics(lo, sh, d)
            co[np.isnan(lo) | np.isnan(sh) | ~(lo > 0)] = np.nan
            out.append(RadiusSeries(thr, 10, thr * kt / c.one_to_ten_minute, co))
    return [s for s in out if np.isfinite(s.coeffs[:, 0]).any()]


def has_size(track: Track) -> bool:
    """Whether the track reports any wind radius."""
    return bool(radius_series(track))


def no_size_warning(track: Track) -> str:
    """The warning for a track without wind radii (the profile falls back to Holland 2008)."""
    return (f"track {track.selector} reports no wind radii: the storm's size comes from the "
            "Holland (2008) pressure profile and a regression radius of maximum wind, which "
            "makes large storms too compact (use a best track with radii: HURDAT2, JMA, or "
            "IBTrACS with USA_R34_*)")


def interpolate_coeffs(track: Track, series: RadiusSeries, times: np.ndarray) -> np.ndarray:
    """``series.coeffs`` at ``times``: linear between the rows that have radii, held before
    the first and after the last of them (NaN if no row has one)."""
    th = track.hours_since(track.times[0])
    tq = (np.asarray(times, dtype="datetime64[s]") - track.times[0]).astype(np.int64) / 3600.0
    ok = np.isfinite(series.coeffs[:, 0])
    out = np.full((len(tq), 4), np.nan)
    if ok.any():
        for j in range(4):
            out[:, j] = np.interp(tq, th[ok], series.coeffs[ok, j])
    return out


@dataclass(frozen=True, eq=False)
class RadiiFit:
    """Per-step parameters of the fitted profile (arrays over T steps, SI units).

    With ``L(r) = -ln[(Rm/r)^b exp(1 - (Rm/r)^b)]`` (0 at ``Rm``, growing outward) and
    ``y = -ln(V / Vm)``, knot ``k`` is the point ``(L_k, y_k)`` of a reported radius;
    ``l_coeffs[t, k]`` and ``y_coeffs[t, k]`` are their azimuthal harmonics, knots ordered
    outward, unused knots repeating the last used one. ``vm_mps`` is the profile's peak,
    ``rm_m`` its radius, ``b`` its shape; ``outer_m`` the largest reported radius (the
    field's cut-off stays beyond it); ``n_knots[t]`` how many radii were fitted.
    """

    vm_mps: np.ndarray
    rm_m: np.ndarray
    b: np.ndarray
    l_coeffs: np.ndarray
    y_coeffs: np.ndarray
    n_knots: np.ndarray
    outer_m: float


def _depth(rm: np.ndarray, r: np.ndarray, b: np.ndarray) -> np.ndarray:
    """L = -ln[(Rm/r)^b exp(1 - (Rm/r)^b)] (>= 0, 0 at r = Rm)."""
    lx = b * np.log(rm / r)
    return np.exp(lx) - 1.0 - lx


def decay(depth: np.ndarray, l_knots: np.ndarray, y_knots: np.ndarray) -> np.ndarray:
    """y = -ln(V/Vm) outside Rm from the depth L and the knots ``[..., K]`` (the rule of
    the module docstring; the kernel evaluates the same expression)."""
    from hazards.typhoon.wind_kernels import KNOT_DEPTH_MIN, KNOT_X_MAX

    lk = np.maximum.accumulate(np.maximum(l_knots, KNOT_DEPTH_MIN), axis=-1)
    yk = np.maximum.accumulate(np.maximum(y_knots, 0.0), axis=-1)
    y = depth * np.minimum(KNOT_X_MAX, yk[..., 0] / lk[..., 0])
    for k in range(1, lk.shape[-1]):
        l0, y0, l1, y1 = lk[..., k - 1], yk[..., k - 1], lk[..., k], yk[..., k]
        y = np.where(depth > l0, y0 + (depth - l0) * (y1 - y0) / np.maximum(l1 - l0, 1e-6), y)
    return np.where(depth > lk[..., -1],
                    depth * np.minimum(KNOT_X_MAX, yk[..., -1] / lk[..., -1]), y)


def fit_radii(track: Track, times: np.ndarray, *, vm_mps: np.ndarray, rm_m: np.ndarray,
              b: np.ndarray, vt_east: np.ndarray, vt_north: np.ndarray, hemi: np.ndarray,
              constants: WindConstants | None = None) -> RadiiFit:
    """Fit the profile at ``times`` (see the module docstring); ``rm_m`` is shrunk where it
    is not inside the innermost radius."""
    series = sorted(radius_series(track, constants), key=lambda s: -s.speed_mps)[:MAX_KNOTS]
    nt = len(times)
    az = np.radians(np.array(list(QUADRANTS.values())))
    rq = np.full((nt, MAX_KNOTS, 4), np.nan)  # radius at the quadrant centres
    speeds = np.full((nt, MAX_KNOTS), np.nan)
    for k, s in enumerate(series):
        rq[:, k] = harmonic(interpolate_coeffs(track, s, times)[:, None, :], az[None, :])
        speeds[:, k] = s.speed_mps
    vm = np.asarray(vm_mps, dtype=float)
    b = np.asarray(b, dtype=float)
    # a threshold at or above the peak cannot be honoured by a profile that peaks at Vm
    usable = (np.isfinite(rq).all(axis=2) & (rq > 1000.0).all(axis=2)
              & (speeds < 0.97 * vm[:, None]))
    inner = np.where(usable[..., None], rq, np.inf).min(axis=(1, 2))
    rm = np.minimum(np.asarray(rm_m, dtype=float), 0.9 * inner)
    # the symmetric speed that gives the reported total at each quadrant centre
    vt = np.hypot(vt_east, vt_north)
    vt_t = hemi[:, None] * (-vt_east[:, None] * np.cos(az) + vt_north[:, None] * np.sin(az))
    lq = np.full((nt, MAX_KNOTS, 4), np.nan)
    yq = np.full((nt, MAX_KNOTS, 4), np.nan)
    for k in range(MAX_KNOTS):
        r = np.where(usable[:, k, None], rq[:, k], np.nan)
        cw = np.minimum(1.0, rm[:, None] / r)
        v_sym = speeds[:, k, None] + cw * (vt[:, None] - vt_t)
        lq[:, k] = _depth(rm[:, None], r, b[:, None])
        yq[:, k] = -np.log(np.clip(v_sym / vm[:, None], 1e-6, 0.999))
    # used knots first (outward), the rest repeat the last used one; outward, both L and y
    # must grow (a radius that breaks the order is pulled onto its inner neighbour)
    order = np.argsort(~usable, axis=1, kind="stable")
    lq = np.take_along_axis(lq, order[..., None], axis=1)
    yq = np.take_along_axis(yq, order[..., None], axis=1)
    n_knots = usable.sum(axis=1)
    for k in range(MAX_KNOTS):
        unused = k >= n_knots
        if k == 0:  # no radius at this step: Holland et al.'s x = 0.5 everywhere
            lq[unused, 0], yq[unused, 0] = 1.0, 0.5
        else:
            lq[unused, k], yq[unused, k] = lq[unused, k - 1], yq[unused, k - 1]
            lq[:, k] = np.maximum(lq[:, k], lq[:, k - 1])
            yq[:, k] = np.maximum(yq[:, k], yq[:, k - 1])
    outer = float(np.nanmax(np.where(usable[..., None], rq, np.nan), initial=0.0))
    return RadiiFit(vm_mps=vm, rm_m=rm, b=b, l_coeffs=quadrant_harmonics(*np.moveaxis(lq, 2, 0)),
                    y_coeffs=quadrant_harmonics(*np.moveaxis(yq, 2, 0)), n_knots=n_knots,
                    outer_m=outer)
