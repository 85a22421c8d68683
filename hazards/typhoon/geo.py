"""Great-circle helpers on a spherical Earth (degrees in, metres out).

All functions are vectorised numpy; longitudes are returned in [-180, 180).
"""

from __future__ import annotations

import numpy as np

from hazards.typhoon.constants import load_constants

R_EARTH_M = load_constants().earth_radius_m


def wrap_lon(lon: np.ndarray | float) -> np.ndarray:
    """Longitude folded into [-180, 180) (values already inside are returned unchanged)."""
    x = np.asarray(lon, dtype=float)
    return np.where((x >= -180.0) & (x < 180.0), x, (x + 180.0) % 360.0 - 180.0)


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(wrap_lon(np.asarray(lon2, float) - np.asarray(lon1, float)))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2 * R_EARTH_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing_deg(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlam = np.radians(wrap_lon(np.asarray(lon2, float) - np.asarray(lon1, float)))
    x = np.sin(dlam) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlam)
    return np.degrees(np.arctan2(x, y)) % 360.0


def destination(lat, lon, bearing, distance_m) -> tuple[np.ndarray, np.ndarray]:
    """Point reached from (lat, lon) along ``bearing`` (deg) after ``distance_m``."""
    p1 = np.radians(lat)
    lam1 = np.radians(lon)
    th = np.radians(bearing)
    d = np.asarray(distance_m, dtype=float) / R_EARTH_M
    p2 = np.arcsin(np.clip(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(th), -1, 1))
    lam2 = lam1 + np.arctan2(np.sin(th) * np.sin(d) * np.cos(p1),
                             np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), wrap_lon(np.degrees(lam2))


def to_unit_vectors(lat, lon) -> np.ndarray:
    """(..., 3) Cartesian unit vectors of points given in degrees."""
    p, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)], axis=-1)


def from_unit_vectors(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    lat = np.degrees(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(v[..., 1], v[..., 0]))
    return lat, wrap_lon(lon)


def slerp(lat1, lon1, lat2, lon2, frac) -> tuple[np.ndarray, np.ndarray]:
    """Points a fraction ``frac`` of the way along the great circle from 1 to 2.

    Handles the antimeridian (no longitude jump) because it works on unit vectors.
    """
    a, b = to_unit_vectors(lat1, lon1), to_unit_vectors(lat2, lon2)
    frac = np.asarray(frac, dtype=float)[..., None]
    cos_om = np.clip(np.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
    om = np.arccos(cos_om)
    sin_om = np.sin(om)
    small = sin_om < 1e-12
    safe = np.where(small, 1.0, sin_om)
    w1 = np.where(small, 1.0 - frac, np.sin((1.0 - frac) * om) / safe)
    w2 = np.where(small, frac, np.sin(frac * om) / safe)
    return from_unit_vectors(w1 * a + w2 * b)


def local_east_north_m(lat0, lon0, lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """East and north offsets (m) of (lat, lon) from (lat0, lon0), equirectangular.

    The longitude difference is wrapped, so points across the antimeridian are near.
    Accurate to well under 1 % within ~500 km at tropical latitudes.
    """
    dlon = np.radians(wrap_lon(np.asarray(lon, float) - np.asarray(lon0, float)))
    dlat = np.radians(np.asarray(lat, float) - np.asarray(lat0, float))
    coslat = np.cos(np.radians(0.5 * (np.asarray(lat, float) + np.asarray(lat0, float))))
    return R_EARTH_M * coslat * dlon, R_EARTH_M * dlat
