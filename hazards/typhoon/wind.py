"""Parametric surface wind field of a tropical cyclone: model, numba driver, numpy reference.

Model (one time step; constants and sources in ``data/wind_constants.yaml``)
---------------------------------------------------------------------------
Pressure deficit ``dp = penv - pc``; Coriolis ``f = 2 Omega sin|lat|``.

``profile="holland2008"`` (default; CLIMADA's ``H08``)
    The Holland (1980) gradient-wind equation evaluated at the surface with the
    Holland (2008, eq. 11) surface shape parameter
    ``b_s = -4.4e-5 dp^2 + 0.01 dp + 0.03 dpc/dt - 0.014 |lat| + 0.15 vt^x + 1``,
    ``x = 0.6 (1 - dp/215)`` (dp in hPa, dpc/dt in hPa/h, vt in m/s), clipped to the
    gradient-level interval [1, 2.5] times G^2 (G = gradient-to-surface factor 0.9):
    ``V(r) = sqrt(b_s/rho (R/r)^b_s dp e^{-(R/r)^b_s} + (r f/2)^2) - r f/2``.
    The model's peak (without Coriolis) is ``v_ms = sqrt(b_s dp / (rho e))``
    (Holland 2008 eq. 11); the track's own wind enters only through missing pressures.
``profile="holland1980"``
    Gradient wind from the track's 1-min wind: ``v_g = vmax / G``,
    ``B = rho e (v_g^2 + v_g R f) / dp`` (exact Holland 1980 inversion at r = R, including
    Coriolis), clipped to [1, 2.5]; surface wind = G x gradient wind, so the peak on the
    right of the motion equals the track's ``vmax``.

Asymmetry: the translation vector ``v_t`` (central differences of the track, capped at
30 kt) is added with weight ``c = min(1, R/r)`` after reducing the rotating wind by
``c |v_t|`` (CLIMADA, after Mouton & Nordbeck 2005). At r = R the field is ``V(R)`` on
the right of the motion and ``V(R) - 2 |v_t|`` on the left (northern hemisphere;
mirrored in the south), so the peak of the moving storm equals the symmetric peak.
This is the CLIMADA treatment, chosen over Lin & Chavas (2012) (0.55 |v_t| rotated
20 deg) because its weights are tied to the same radius of maximum wind and need no
extra calibration. An optional inflow angle turns
the rotating part inward.

Radius of maximum wind: the track's agency value where present, else the regression of
Vickery & Wadhera (2008) ``ln R[km] = 3.015 - 6.291e-5 dp^2 + 0.0337 |lat|`` (clipped to
8-200 km) or CLIMADA's piecewise fit in pressure (``rmw_model="climada"``).

Exposure: the result is the 1-min sustained wind at 10 m over water; per site it is
multiplied by a roughness factor (log profiles blended at 500 m) and the 3-s gust is
the sustained wind times the Harper et al. (2010) gust factor of the site's roughness
(see :meth:`~hazards.typhoon.constants.WindConstants.sustained_roughness_factor`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hazards.typhoon import geo
from hazards.typhoon.constants import WindConstants, load_constants
from hazards.typhoon.track import Track
from hazards.typhoon.wind_radii import (
    RADII_PROFILE,
    RadiiFit,
    decay,
    fit_radii,
    harmonic,
    has_size,
)

#: ``auto``: the profile fitted to the track's wind radii when it has any, else Holland 2008
PROFILES = ("auto", RADII_PROFILE, "holland2008", "holland1980")
RMW_MODELS = ("vickery_wadhera_2008", "climada")
ENGINES = ("numba", "numpy")


@dataclass(frozen=True, eq=False)
class StormSteps:
    """Per-time-step parameters of the wind model (arrays of length T, SI units).

    ``hemi`` is +1 in the northern hemisphere (cyclonic = counter-clockwise), -1 south.
    ``vscale`` multiplies the Holland profile (1 for a surface profile, G for the
    gradient profile of ``holland1980``). ``vmax_model_mps`` is the profile's peak
    without Coriolis or translation. ``radii`` holds the fit of ``holland2010_radii``
    (see :mod:`hazards.typhoon.wind_radii`; then ``rmw_m``, ``b`` are the fit's and
    ``dp_pa``, ``f``, ``vscale`` unused), None for the pressure-based profiles.
    """

    times: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    rmw_m: np.ndarray
    b: np.ndarray
    dp_pa: np.ndarray
    rho: np.ndarray
    f: np.ndarray
    vt_east: np.ndarray
    vt_north: np.ndarray
    vscale: np.ndarray
    hemi: np.ndarray
    vmax_model_mps: np.ndarray
    profile: str
    radii: RadiiFit | None = None

    def __len__(self) -> int:
        return len(self.times)

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """The per-step arrays in the order of the numba kernels."""
        return tuple(np.ascontiguousarray(a, dtype=np.float64) for a in (
            self.lat, self.lon, self.rmw_m, self.b, self.dp_pa, self.rho, self.f,
            self.vt_east, self.vt_north, self.vscale, self.hemi))


def translation_velocity(track: Track, *, cap_mps: float | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """East/north translation velocity (m/s) at each track row (central differences)."""
    c = load_constants()
    cap = c.vt_cap_mps if cap_mps is None else cap_mps
    t = track.times.astype("datetime64[s]").astype(np.int64).astype(float)
    n = len(t)
    i0 = np.clip(np.arange(n) - 1, 0, n - 1)
    i1 = np.clip(np.arange(n) + 1, 0, n - 1)
    dx, dy = geo.local_east_north_m(track.lat[i0], track.lon[i0], track.lat[i1], track.lon[i1])
    dt = t[i1] - t[i0]
    ve, vn = dx / dt, dy / dt
    speed = np.hypot(ve, vn)
    scale = np.where(speed > cap, cap / np.maximum(speed, 1e-12), 1.0)
    return ve * scale, vn * scale


def rmw_regression_m(dp_hpa: np.ndarray, lat: np.ndarray, pc_hpa: np.ndarray, *,
                     model: str = "vickery_wadhera_2008",
                     constants: WindConstants | None = None) -> np.ndarray:
    """Radius of maximum wind (m) from a documented regression."""
    c = constants or load_constants()
    if model == "vickery_wadhera_2008":
        k = c.rmw_vw08
        r_km = np.exp(k["a"] + k["b"] * np.asarray(dp_hpa) ** 2 + k["c"] * np.abs(lat))
        lo, hi = k["clip_km"]
        return np.clip(r_km, lo, hi) * 1000.0
    if model == "climada":
        k = c.rmw_climada
        return np.interp(pc_hpa, k["pressure_hpa"], k["rmw_km"]) * 1000.0
    raise ValueError(f"unknown rmw model {model!r}")


def holland2008_bs(dp_hpa, dpdt_hpa_h, lat, vt_mps, constants: WindConstants | None = None
                   ) -> np.ndarray:
    """Holland (2008) surface b_s (unclipped)."""
    k = (constants or load_constants()).h08
    dp = np.asarray(dp_hpa, dtype=float)
    x = k["x0"] * (1.0 - dp / k["x_dp"])
    return (k["c_dp2"] * dp**2 + k["c_dp"] * dp + k["c_dpdt"] * np.asarray(dpdt_hpa_h)
            + k["c_lat"] * np.abs(lat) + k["c_vt"] * np.power(np.maximum(vt_mps, 0.0), x)
            + k["c0"])


def storm_steps(track: Track, times: np.ndarray, *, profile: str = "auto",
                coriolis: bool = True, rmw_model: str = "vickery_wadhera_2008") -> StormSteps:
    """Model parameters at ``times`` (inside the track's span)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    if profile == "auto":
        profile = RADII_PROFILE if has_size(track) else "holland2008"
    c = load_constants()
    ve_n, vn_n = translation_velocity(track)
    th = track.hours_since(track.times[0])
    dpdt_n = np.gradient(track.pc_hpa, th) if len(track) > 1 else np.zeros(len(track))
    tr = track.interpolate(times)
    tq = tr.hours_since(track.times[0])
    ve = np.interp(tq, th, ve_n)
    vn = np.interp(tq, th, vn_n)
    dpdt = np.interp(tq, th, dpdt_n)
    dp_hpa = np.maximum(tr.penv_hpa - tr.pc_hpa, 0.0)
    rmw = tr.rmw_m.copy()
    miss = ~(rmw > 0)
    if miss.any():
        rmw[miss] = rmw_regression_m(dp_hpa[miss], tr.lat[miss], tr.pc_hpa[miss], model=rmw_model,
                                     constants=c)
    rho = np.full(len(tr), c.rho_air_kgm3)
    f = 2.0 * c.omega_rads * np.sin(np.radians(np.abs(tr.lat))) if coriolis else np.zeros(len(tr))
    dp_pa = dp_hpa * 100.0
    vt = np.hypot(ve, vn)
    g = c.gradient_to_surface
    hemi = np.where(tr.lat < 0, -1.0, 1.0)
    if profile == RADII_PROFILE:
        lo, hi = c.b_clip_surface()
        b = np.clip(holland2008_bs(dp_hpa, dpdt, tr.lat, vt, c), lo, hi)
        fit = fit_radii(track, tr.times, vm_mps=tr.vmax_mps, rm_m=rmw, b=b, vt_east=ve,
                        vt_north=vn, hemi=hemi, constants=c)
        return StormSteps(times=tr.times, lat=tr.lat, lon=tr.lon, rmw_m=fit.rm_m, b=b,
                          dp_pa=dp_pa, rho=rho, f=f, vt_east=ve, vt_north=vn,
                          vscale=np.ones(len(tr)), hemi=hemi, vmax_model_mps=fit.vm_mps,
                          profile=profile, radii=fit)
    if profile == "holland2008":
        lo, hi = c.b_clip_surface()
        b = np.clip(holland2008_bs(dp_hpa, dpdt, tr.lat, vt, c), lo, hi)
        vscale = np.ones(len(tr))
    else:
        lo, hi = c.b_clip_gradient
        vg = tr.vmax_mps / g
        with np.errstate(divide="ignore", invalid="ignore"):
            b = rho * math.e * (vg**2 + vg * rmw * f) / dp_pa
        b = np.clip(np.nan_to_num(b, nan=hi, posinf=hi), lo, hi)
        vscale = np.full(len(tr), g)
    vmax_model = vscale * np.sqrt(b * dp_pa / (rho * math.e))
    return StormSteps(times=tr.times, lat=tr.lat, lon=tr.lon, rmw_m=rmw, b=b, dp_pa=dp_pa,
                      rho=rho, f=f, vt_east=ve, vt_north=vn, vscale=vscale, hemi=hemi,
                      vmax_model_mps=vmax_model, profile=profile)


def _site_arrays(site_lat, site_lon, site_factor, site_gust):
    lat = np.ascontiguousarray(site_lat, dtype=np.float64)
    lon = np.ascontiguousarray(site_lon, dtype=np.float64)
    n = lat.shape[0]
    fac = np.ones(n) if site_factor is None else np.broadcast_to(
        np.asarray(site_factor, dtype=np.float64), (n,))
    gust = (np.full(n, load_constants().gust_factor[0]) if site_gust is None
            else np.broadcast_to(np.asarray(site_gust, dtype=np.float64), (n,)))
    return lat, lon, np.ascontiguousarray(fac), np.ascontiguousarray(gust)


def wind_at_sites(steps: StormSteps, site_lat, site_lon, *, site_factor=None, site_gust=None,
                  inflow_deg: float = 0.0, max_distance_km: float = 500.0,
                  engine: str = "numba") -> tuple[np.ndarray, np.ndarray]:
    """Sustained (1-min) and 3-s gust wind, ``float32[T, n]`` m/s, at sites (degrees).

    ``site_factor`` (sustained roughness factor) defaults to 1 (open water) and
    ``site_gust`` to the at-sea gust factor.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    lat, lon, fac, gust = _site_arrays(site_lat, site_lon, site_factor, site_gust)
    if engine == "numpy":
        return wind_at_sites_numpy(steps, lat, lon, site_factor=fac, site_gust=gust,
                                   inflow_deg=inflow_deg, max_distance_km=max_distance_km)
    from hazards.typhoon.wind_kernels import empty_outputs, wind_at_sites_radii
    from hazards.typhoon.wind_kernels import wind_at_sites as kernel

    sust, gst = empty_outputs(len(steps), lat.shape[0])  # see empty_outputs: page faults
    if steps.radii is not None:
        c64, c32 = radii_constants(steps, inflow_deg)
        wind_at_sites_radii(lat, lon, fac, gust, c64, c32, math.radians(inflow_deg),
                            cutoff_m(steps, max_distance_km), geo.R_EARTH_M, sust, gst)
        return sust, gst
    kernel(lat, lon, fac, gust, *steps.kernel_args(), math.radians(inflow_deg),
           max_distance_km * 1000.0, geo.R_EARTH_M, sust, gst)
    return sust, gst


def cutoff_m(steps: StormSteps, max_distance_km: float) -> float:
    """Distance (m) beyond which the wind is 0: ``max_distance_km``, pushed out to 1.5 times
    the storm's largest reported wind radius (no cut-off inside the storm's own size)."""
    outer = steps.radii.outer_m if steps.radii is not None else 0.0
    return max(max_distance_km * 1000.0, 1.5 * outer)


def radii_constants(steps: StormSteps, inflow_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-step constants of :func:`hazards.typhoon.wind_kernels.wind_at_sites_radii`."""
    fit = steps.radii
    nt = len(steps)
    clat = np.radians(steps.lat)
    c64 = np.column_stack([clat, np.radians(steps.lon), np.cos(0.5 * clat), np.sin(0.5 * clat),
                           1.0 / fit.rm_m**2, -0.5 * fit.b])
    knots = np.concatenate([fit.l_coeffs, fit.y_coeffs], axis=2).reshape(nt, -1)
    c32 = np.column_stack([fit.rm_m, fit.vm_mps, steps.vt_east, steps.vt_north,
                           np.hypot(steps.vt_east, steps.vt_north),
                           steps.hemi * math.cos(math.radians(inflow_deg)), knots])
    return np.ascontiguousarray(c64), np.ascontiguousarray(c32, dtype=np.float32)


def wind_vectors_numpy(steps: StormSteps, site_lat, site_lon, *, inflow_deg: float = 0.0,
                       max_distance_km: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """East and north components (m/s, float64 ``[T, n]``) of the marine 1-min wind.

    The numpy statement of the kernels' equations, one time step at a time.
    """
    slat = np.radians(np.asarray(site_lat, dtype=float))
    slon = np.radians(np.asarray(site_lon, dtype=float))
    nt, n = len(steps), slat.shape[0]
    uu = np.zeros((nt, n))
    vv = np.zeros((nt, n))
    for k in range(nt):
        uu[k], vv[k] = _step_vectors(steps, k, slat, slon, inflow_deg, max_distance_km)
    return uu, vv


def _step_vectors(steps: StormSteps, k: int, slat: np.ndarray, slon: np.ndarray,
                  inflow_deg: float, max_distance_km: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) wind at sites (radians) for step ``k``, float64."""
    cos_a, sin_a = math.cos(math.radians(inflow_deg)), math.sin(math.radians(inflow_deg))
    R = geo.R_EARTH_M
    clat, clon = math.radians(steps.lat[k]), math.radians(steps.lon[k])
    dlon = (slon - clon + np.pi) % (2 * np.pi) - np.pi
    dx = R * np.cos(0.5 * (slat + clat)) * dlon
    dy = R * (slat - clat)
    r = np.hypot(dx, dy)
    near = r <= cutoff_m(steps, max_distance_km)
    r = np.maximum(r, 1.0)
    ex, ey = dx / r, dy / r
    rm = steps.rmw_m[k]
    if steps.radii is not None:  # Holland et al. (2010) through the reported radii
        fit = steps.radii
        theta = np.arctan2(ex, ey)
        lk = harmonic(fit.l_coeffs[k][None, :, :], theta[:, None])
        yk = harmonic(fit.y_coeffs[k][None, :, :], theta[:, None])
        lx = np.minimum(88.0, fit.b[k] * np.log(rm / r))
        depth = np.exp(lx) - 1.0 - lx
        y = np.where(r < rm, 0.5 * depth, decay(depth, lk, yk))
        v = fit.vm_mps[k] * np.exp(-y)
    else:
        xb = (rm / r) ** steps.b[k]
        rf2 = 0.5 * r * steps.f[k]
        term = steps.b[k] / steps.rho[k] * xb * steps.dp_pa[k] * np.exp(-xb) + rf2 * rf2
        v = steps.vscale[k] * (np.sqrt(np.maximum(term, 0.0)) - rf2)
    cw = np.minimum(1.0, rm / r)
    vt = math.hypot(steps.vt_east[k], steps.vt_north[k])
    vang = np.maximum(v - cw * vt, 0.0)
    tx, ty = -steps.hemi[k] * ey, steps.hemi[k] * ex
    u = np.where(near, vang * (cos_a * tx - sin_a * ex) + cw * steps.vt_east[k], 0.0)
    w = np.where(near, vang * (cos_a * ty - sin_a * ey) + cw * steps.vt_north[k], 0.0)
    return u, w


def wind_at_sites_numpy(steps: StormSteps, site_lat, site_lon, *, site_factor=None,
                        site_gust=None, inflow_deg: float = 0.0,
                        max_distance_km: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """Reference implementation of the kernels' equations, vectorised over sites with
    numpy (one time step at a time). Used by the tests and the benchmark."""
    lat, lon, fac, gust = _site_arrays(site_lat, site_lon, site_factor, site_gust)
    nt, n = len(steps), lat.shape[0]
    sust = np.empty((nt, n), dtype=np.float32)
    gst = np.empty((nt, n), dtype=np.float32)
    slat, slon = np.radians(lat), np.radians(lon)
    for k in range(nt):  # one step at a time keeps the temporaries O(n)
        u, v = _step_vectors(steps, k, slat, slon, inflow_deg, max_distance_km)
        s = np.hypot(u, v) * fac
        sust[k] = s
        gst[k] = s * gust
    return sust, gst


def peak_wind_at_sites(steps: StormSteps, site_lat, site_lon, *, site_factor=None,
                       inflow_deg: float = 0.0, max_distance_km: float = 500.0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(peak sustained wind float32[n], index of the step of the peak int64[n])."""
    from hazards.typhoon.wind_kernels import peak_wind_at_sites as kernel

    lat, lon, fac, _ = _site_arrays(site_lat, site_lon, site_factor, None)
    peak = np.empty(lat.shape[0], dtype=np.float32)
    step = np.empty(lat.shape[0], dtype=np.int64)
    if steps.radii is not None:  # the fitted kernel, over chunks of sites (memory O(chunk))
        chunk = max(1, 20_000_000 // max(1, len(steps)))
        for a in range(0, lat.shape[0], chunk):
            s, _ = wind_at_sites(steps, lat[a:a + chunk], lon[a:a + chunk],
                                 site_factor=fac[a:a + chunk], inflow_deg=inflow_deg,
                                 max_distance_km=max_distance_km)
            step[a:a + chunk] = np.argmax(s, axis=0)
            peak[a:a + chunk] = s.max(axis=0)
        return peak, step
    kernel(lat, lon, fac, *steps.kernel_args(), math.radians(inflow_deg),
           max_distance_km * 1000.0, geo.R_EARTH_M, peak, step)
    return peak, step


def grid_lonlat(transform: tuple[float, ...], shape: tuple[int, int], crs: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees) of the cell centres of a north-up raster."""
    from pyproj import Transformer

    a, b_, c0, d, e, f0 = transform[:6]
    ny, nx = shape
    col, row = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
    x = a * col + b_ * row + c0
    y = d * col + e * row + f0
    tf = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = tf.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def wind_on_grid(steps: StormSteps, transform: tuple[float, ...], shape: tuple[int, int],
                 crs: str, *, z0_m: np.ndarray | float | None = None, inflow_deg: float = 0.0,
                 max_distance_km: float = 500.0, engine: str = "numba"
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Sustained and gust wind ``float32[T, ny, nx]`` on a raster grid in ``crs``.

    ``z0_m`` (scalar or ``[ny, nx]``) sets the exposure; ``None`` means open water.
    """
    c = load_constants()
    lon, lat = grid_lonlat(transform, shape, crs)
    if z0_m is None:
        fac, gust = None, None
    else:
        z0 = np.broadcast_to(np.asarray(z0_m, dtype=float), shape).ravel()
        fac, gust = c.sustained_roughness_factor(z0), c.gust_factor_for(z0)
    sust, gst = wind_at_sites(steps, lat.ravel(), lon.ravel(), site_factor=fac, site_gust=gust,
                              inflow_deg=inflow_deg, max_distance_km=max_distance_km,
                              engine=engine)
    return sust.reshape(len(steps), *shape), gst.reshape(len(steps), *shape)
