"""Parametric tropical-cyclone rain and coastal surge stage.

Rain: R-CLIPER (Tuleya et al. 2007, Wea. Forecasting 22:56-70; NHC bias-adjusted
coefficients, ``rain_rcliper`` in ``wind_constants.yaml``), the symmetric rain-rate
climatology of the NHC::

    U  = 1 + (Vmax_kt - 35) / 33                       (1-min wind, kt)
    T0 = a1 + b1 U,  Tm = a2 + b2 U     [inch/day]
    rm = a3 + b3 U,  r0 = a4 + b4 U     [km]
    R(r) = T0 + (Tm - T0) r / rm        for r <= rm
    R(r) = Tm exp(-(r - rm) / r0)       for r >  rm,   negative rates set to 0

converted to mm/h (x 25.4 / 24). It has no asymmetry, orography or shear; it is a
climatological rain, adequate as a forcing for "what if this storm came here" flood
runs, not a forecast.

Surge: a quasi-steady stage at one coastal point,
``eta = eta_IB + eta_wind + tide``, where the inverse barometer is
``eta_IB = (penv - p(r)) / (rho_w g)`` with the Holland pressure profile
``p(r) = pc + dp exp(-(R/r)^B)`` and the wind setup over a shelf of uniform depth ``h``
and width ``L`` is ``eta_wind = Cd rho_a U^2 cos(theta) L / (rho_w g h)`` (``theta``
between the wind and the landward shore normal; offshore winds give a set-down).
It ignores dynamics (resonance, forerunner, waves) and the shape of the coast; use a
surge model or give a stage series when that matters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hazards.typhoon import geo
from hazards.typhoon.constants import load_constants
from hazards.typhoon.track import Track
from hazards.typhoon.wind import StormSteps, grid_lonlat, wind_vectors_numpy


@dataclass(frozen=True, eq=False)
class RainSeries:
    """Rain rate over time on a north-up raster: ``rain_mmh[t, row, col]`` (float32, mm/h)
    at ``times_s`` (seconds since the scenario start, strictly increasing)."""

    times_s: np.ndarray
    rain_mmh: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]
    crs: str


def rcliper_rate_mmh(r_km: np.ndarray, vmax_mps: float) -> np.ndarray:
    """R-CLIPER symmetric rain rate (mm/h) at distances ``r_km`` from the eye."""
    c = load_constants()
    k = c.rcliper
    u = 1.0 + (vmax_mps / c.knot_mps - 35.0) / 33.0
    t0 = k["a1"] + k["b1"] * u
    tm = k["a2"] + k["b2"] * u
    rm = k["a3"] + k["b3"] * u
    r0 = k["a4"] + k["b4"] * u
    r = np.asarray(r_km, dtype=float)
    if rm <= 0 or r0 <= 0:  # U far outside the fitted range: no rain model
        return np.zeros_like(r)
    inner = t0 + (tm - t0) * r / rm
    outer = tm * np.exp(-(r - rm) / r0)
    rate = np.where(r <= rm, inner, outer)
    return np.maximum(rate, 0.0) * 25.4 / 24.0


def rain_on_grid(track: Track, times: np.ndarray, times_s: np.ndarray,
                 transform: tuple[float, ...], shape: tuple[int, int], crs: str, *,
                 max_distance_km: float = 500.0) -> RainSeries:
    """R-CLIPER rain on a raster at ``times`` (datetime64; 0 where the storm is absent).

    ``times_s`` are the same instants as seconds since the scenario start.
    """
    lon, lat = grid_lonlat(transform, shape, crs)
    out = np.zeros((len(times), *shape), dtype=np.float32)
    t = np.asarray(times, dtype="datetime64[s]")
    inside = (t >= track.times[0]) & (t <= track.times[-1])
    if inside.any():
        tr = track.interpolate(t[inside])
        for j, k in enumerate(np.nonzero(inside)[0]):
            r_km = geo.haversine_m(lat, lon, tr.lat[j], tr.lon[j]) / 1000.0
            rate = rcliper_rate_mmh(r_km, float(tr.vmax_mps[j]))
            rate[r_km > max_distance_km] = 0.0
            out[k] = rate
    return RainSeries(np.asarray(times_s, dtype=float), out,
                      tuple(float(v) for v in transform[:6]), tuple(shape), crs)


def drag_coefficient(u10: np.ndarray) -> np.ndarray:
    """Wind drag coefficient over water (see ``surge`` in the constants file)."""
    k = load_constants().surge["drag_coefficient"]
    u = np.asarray(u10, dtype=float)
    cd = np.where(u < 11.0, 1.2e-3, k["a"] + k["b"] * u)
    return np.minimum(cd, k["max"])


def surge_stage(steps: StormSteps, lat: float, lon: float, *,
                shore_normal_deg: float, shelf_width_km: float, shelf_depth_m: float,
                tide_m: float = 0.0) -> np.ndarray:
    """Stage (m above the reference level) at a coastal point for each step.

    ``shore_normal_deg``: compass direction pointing from the sea onto the land.
    """
    c = load_constants()
    s = c.surge
    rho_w, g = float(s["water_density_kgm3"]), float(s["gravity_mps2"])
    r = np.maximum(geo.haversine_m(steps.lat, steps.lon, lat, lon), 1.0)
    x = (steps.rmw_m / r) ** steps.b
    dp_local_pa = steps.dp_pa * (1.0 - np.exp(-x))  # penv - p(r)
    eta_ib = dp_local_pa / (rho_w * g)
    u, v = wind_vectors_numpy(steps, np.array([lat]), np.array([lon]))
    u, v = u[:, 0], v[:, 0]
    speed = np.hypot(u, v)
    nrm = math.radians(shore_normal_deg)
    onshore = u * math.sin(nrm) + v * math.cos(nrm)  # signed component towards the land
    tau = drag_coefficient(speed) * c.rho_air_kgm3 * speed * onshore
    eta_w = tau * shelf_width_km * 1000.0 / (rho_w * g * shelf_depth_m)
    return eta_ib + eta_w + tide_m
