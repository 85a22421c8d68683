"""numba kernels of the parametric surface wind field (array-only signatures).

The equations (documented in :mod:`hazards.typhoon.wind`) for a site at east/north
offset (dx, dy) from the eye, r = |(dx, dy)|, per time step k:

* symmetric wind (Holland 1980 form, parameters per step)::

      x   = (rmw / r) ** b
      V   = vscale * ( sqrt(b/rho * x * dp * exp(-x) + (r f/2)^2) - r f/2 )

* translation: weight c = min(1, rmw / r) (Mouton & Nordbeck 2005, as CLIMADA);
  the rotating part is V_ang = max(0, V - c |v_t|) and the vector sum is
  ``V_ang * (cos(a) t_hat - sin(a) r_hat) + c v_t``, t_hat the cyclonic tangent
  (counter-clockwise in the northern hemisphere, ``hemi = +1``; clockwise for -1),
  r_hat the outward radial unit vector and ``a`` the inflow angle;
* exposure: sustained = |vector| * site_factor; gust = sustained * site_gust.

Distances use the equirectangular approximation with a wrapped longitude difference
(CLIMADA's default metric); beyond ``max_dist_m`` the wind is 0. Arithmetic is mixed
precision (see :func:`_speed`): within ~1e-6 relative of the float64 numpy reference
:func:`hazards.typhoon.wind.wind_at_sites_numpy`. The pure-Python path runs with
``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: sites per parallel block (writes to out[t, i] stay contiguous inside a block)
BLOCK = 2048


@njit(cache=True, inline="always", fastmath=True)
def _speed(dx: float, dy: float, rmw: float, log_rmw: float, b: float, bdp_rho: float,
           half_f: float, vte: float, vtn: float, vt: float, vscale: float, hemi: float,
           cos_a: float, sin_a: float) -> float:
    """Wind speed at east/north offset (dx, dy) m from the eye (inside the cut-off).

    ``bdp_rho`` = b dp / rho and ``log_rmw`` = ln(rmw) are per-step constants.
    Precision: distances and the exponent b ln(rmw/r) in float64 (it is sensitive to
    ln r); the exponentials, the profile, the vector sum and the square roots in float32,
    which more than halves the cost and stays within ~1e-6 relative of the float64
    numpy reference (the output is float32 anyway).
    """
    r = max(1.0, math.sqrt(dx * dx + dy * dy))
    inv_r = 1.0 / r
    x = math.exp(np.float32(b * (log_rmw - math.log(r))))
    ex = np.float32(dx * inv_r)
    ey = np.float32(dy * inv_r)
    rf2 = np.float32(half_f * r)
    term = np.float32(bdp_rho) * x * math.exp(-x) + rf2 * rf2
    v = np.float32(vscale) * (math.sqrt(term) - rf2)
    c = min(np.float32(1.0), np.float32(rmw * inv_r))
    vang = max(np.float32(0.0), v - c * np.float32(vt))
    h = np.float32(hemi)
    ca = np.float32(cos_a)
    sa = np.float32(sin_a)
    u = vang * (ca * (-h * ey) - sa * ex) + c * np.float32(vte)
    w = vang * (ca * (h * ex) - sa * ey) + c * np.float32(vtn)
    return math.sqrt(u * u + w * w)


@njit(cache=True, inline="always", fastmath=True)
def _offset(lat_r: float, lon_r: float, cos_h: float, sin_h: float, clat: float, clon: float,
            ccos_h: float, csin_h: float, r_earth: float) -> tuple[float, float]:
    """Equirectangular east/north offset (m) of a site from the eye, longitude wrapped;
    cos(mean latitude) from the half-angle products."""
    dlon = lon_r - clon
    if dlon >= math.pi:
        dlon -= 2.0 * math.pi
    elif dlon < -math.pi:
        dlon += 2.0 * math.pi
    return r_earth * (cos_h * ccos_h - sin_h * csin_h) * dlon, r_earth * (lat_r - clat)


@njit(parallel=True, cache=True)
def _site_trig(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray, lat_r: np.ndarray,
               lon_r: np.ndarray, cos_h: np.ndarray, sin_h: np.ndarray) -> None:
    deg = math.pi / 180.0
    for i in prange(site_lat_deg.shape[0]):
        lat_r[i] = site_lat_deg[i] * deg
        lon_r[i] = site_lon_deg[i] * deg
        cos_h[i] = math.cos(0.5 * lat_r[i])
        sin_h[i] = math.sin(0.5 * lat_r[i])


@njit(parallel=True, cache=True, fastmath=True)
def wind_at_sites(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray, site_factor: np.ndarray,
                  site_gust: np.ndarray, c_lat_deg: np.ndarray, c_lon_deg: np.ndarray,
                  rmw_m: np.ndarray, b: np.ndarray, dp_pa: np.ndarray, rho: np.ndarray,
                  f: np.ndarray, vt_east: np.ndarray, vt_north: np.ndarray,
                  vscale: np.ndarray, hemi: np.ndarray, inflow_rad: float, max_dist_m: float,
                  r_earth_m: float, out_sustained: np.ndarray, out_gust: np.ndarray) -> None:
    """Sustained and gust wind (m/s) at ``n`` sites for ``T`` steps, into ``out_*[T, n]``.

    Parallel over blocks of sites; inside a block, time steps outer and sites inner so
    that the float32 outputs are written contiguously.
    """
    n = site_lat_deg.shape[0]
    nt = c_lat_deg.shape[0]
    deg = math.pi / 180.0
    cos_a = math.cos(inflow_rad)
    sin_a = math.sin(inflow_rad)
    lat_r = np.empty(n)
    lon_r = np.empty(n)
    cos_h = np.empty(n)
    sin_h = np.empty(n)
    _site_trig(site_lat_deg, site_lon_deg, lat_r, lon_r, cos_h, sin_h)
    nblocks = (n + BLOCK - 1) // BLOCK
    max2 = max_dist_m * max_dist_m
    for blk in prange(nblocks):
        i0 = blk * BLOCK
        i1 = min(n, i0 + BLOCK)
        for k in range(nt):
            clat = c_lat_deg[k] * deg
            clon = c_lon_deg[k] * deg
            ccos = math.cos(0.5 * clat)
            csin = math.sin(0.5 * clat)
            vt = math.sqrt(vt_east[k] * vt_east[k] + vt_north[k] * vt_north[k])
            bdp_rho = b[k] * dp_pa[k] / rho[k]
            log_rmw = math.log(rmw_m[k])
            half_f = 0.5 * f[k]
            for i in range(i0, i1):
                dx, dy = _offset(lat_r[i], lon_r[i], cos_h[i], sin_h[i], clat, clon, ccos, csin,
                                 r_earth_m)
                s = 0.0
                if dx * dx + dy * dy <= max2:
                    s = _speed(dx, dy, rmw_m[k], log_rmw, b[k], bdp_rho, half_f, vt_east[k],
                               vt_north[k], vt, vscale[k], hemi[k], cos_a,
                               sin_a) * site_factor[i]
                out_sustained[k, i] = s
                out_gust[k, i] = s * site_gust[i]


@njit(parallel=True, cache=True, fastmath=True)
def peak_wind_at_sites(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray,
                       site_factor: np.ndarray, c_lat_deg: np.ndarray, c_lon_deg: np.ndarray,
                       rmw_m: np.ndarray, b: np.ndarray, dp_pa: np.ndarray, rho: np.ndarray,
                       f: np.ndarray, vt_east: np.ndarray, vt_north: np.ndarray,
                       vscale: np.ndarray, hemi: np.ndarray, inflow_rad: float,
                       max_dist_m: float, r_earth_m: float, out_peak: np.ndarray,
                       out_step: np.ndarray) -> None:
    """Maximum over time of the sustained wind at each site, and the step where it occurs
    (first maximum). Memory O(n) instead of O(T n), for large grids."""
    n = site_lat_deg.shape[0]
    nt = c_lat_deg.shape[0]
    deg = math.pi / 180.0
    cos_a = math.cos(inflow_rad)
    sin_a = math.sin(inflow_rad)
    max2 = max_dist_m * max_dist_m
    for i in prange(n):
        best = -1.0
        kbest = 0
        slat = site_lat_deg[i] * deg
        slon = site_lon_deg[i] * deg
        ch = math.cos(0.5 * slat)
        sh = math.sin(0.5 * slat)
        for k in range(nt):
            clat = c_lat_deg[k] * deg
            dx, dy = _offset(slat, slon, ch, sh, clat, c_lon_deg[k] * deg, math.cos(0.5 * clat),
                             math.sin(0.5 * clat), r_earth_m)
            s = 0.0
            if dx * dx + dy * dy <= max2:
                vt = math.sqrt(vt_east[k] * vt_east[k] + vt_north[k] * vt_north[k])
                s = _speed(dx, dy, rmw_m[k], math.log(rmw_m[k]), b[k], b[k] * dp_pa[k] / rho[k],
                           0.5 * f[k], vt_east[k], vt_north[k], vt, vscale[k], hemi[k], cos_a,
                           sin_a)
            if s > best:
                best = s
                kbest = k
        out_peak[i] = best * site_factor[i]
        out_step[i] = kbest
