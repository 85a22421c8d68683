"""What-if transforms of a best track: move, turn, strengthen, speed up.

Each returns a new :class:`~hazards.typhoon.track.Track` and appends a line to its
``notes``; the scenario's ``transforms`` list applies them in order, pivoting on the
track's closest approach to the city (see :mod:`hazards.typhoon.timeline`).
"""

from __future__ import annotations

import numpy as np

from common.errors import HazardError
from hazards.typhoon import geo
from hazards.typhoon.track import Track


def shift(track: Track, *, east_km: float = 0.0, north_km: float = 0.0) -> Track:
    """A copy of ``track`` with every point displaced ``east_km`` east and ``north_km``
    north (along the great circle of that bearing from each point)."""
    dist = np.hypot(east_km, north_km) * 1000.0
    if dist == 0.0:
        return track.replace()
    brg = np.degrees(np.arctan2(east_km, north_km))
    lat, lon = geo.destination(track.lat, track.lon, np.full(len(track), brg), dist)
    note = f"shifted {east_km:g} km east, {north_km:g} km north"
    return track.replace(lat=lat, lon=lon, notes=track.notes + (note,))


def shift_to(track: Track, lat: float, lon: float, *, at_time: np.datetime64 | None = None
             ) -> Track:
    """A copy moved so that its position at ``at_time`` lies on (lat, lon).

    ``at_time`` defaults to the time of the track's closest approach to the point,
    i.e. the track is translated (same bearing and distance for every point) so that
    it passes straight over the point: "move the landfall onto the city".
    """
    if at_time is None:
        at_time, _ = track.closest_approach(lat, lon)
    lat0, lon0 = track.position_at(at_time)
    dist = float(geo.haversine_m(lat0, lon0, lat, lon))
    brg = float(geo.bearing_deg(lat0, lon0, lat, lon))
    # the displacement is applied as a rigid motion: rotate every point by the rotation
    # that takes (lat0, lon0) to (lat, lon) along their great circle
    out_lat, out_lon = _rotate_points(track.lat, track.lon, lat0, lon0, lat, lon)
    return track.replace(lat=out_lat, lon=out_lon, notes=track.notes + (
        f"moved {dist / 1000:.1f} km towards bearing {brg:.0f} deg to pass over "
        f"({lat:.3f}, {lon:.3f}) at {np.datetime_as_string(np.datetime64(at_time, 's'))}Z",))


def _rotate_points(lat, lon, lat0, lon0, lat1, lon1) -> tuple[np.ndarray, np.ndarray]:
    """Apply to (lat, lon) the rotation of the sphere taking point 0 to point 1."""
    a = geo.to_unit_vectors(lat0, lon0)
    b = geo.to_unit_vectors(lat1, lon1)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis)
    c = float(np.dot(a, b))
    if s < 1e-15:
        return np.asarray(lat, float).copy(), geo.wrap_lon(lon)
    k = axis / s
    v = geo.to_unit_vectors(lat, lon)
    # Rodrigues' rotation formula
    vr = v * c + np.cross(k, v) * s + np.outer(v @ k, k) * (1 - c)
    return geo.from_unit_vectors(vr)


def rotate(track: Track, angle_deg: float, *, about: tuple[float, float] | None = None
           ) -> Track:
    """A copy rotated by ``angle_deg`` clockwise (compass sense) about ``about`` = (lat, lon).

    ``about`` defaults to the track's first point. Each point keeps its great-circle
    distance to the pivot; its bearing from the pivot grows by ``angle_deg``.
    """
    plat, plon = about if about is not None else (float(track.lat[0]), float(track.lon[0]))
    d = geo.haversine_m(plat, plon, track.lat, track.lon)
    b = geo.bearing_deg(plat, plon, track.lat, track.lon)
    lat, lon = geo.destination(np.full(len(track), plat), np.full(len(track), plon),
                               b + angle_deg, d)
    return track.replace(lat=lat, lon=lon, notes=track.notes + (
        f"rotated {angle_deg:g} deg clockwise about ({plat:.3f}, {plon:.3f})",))


def scale_intensity(track: Track, factor: float) -> Track:
    """A copy with the maximum wind times ``factor`` and the pressure deficit times
    ``factor**2`` (the Holland relation v ~ sqrt(dp) keeps wind and pressure consistent)."""
    if not factor > 0:
        raise HazardError(f"intensity factor must be > 0, got {factor}", where="scale_intensity")
    dp = track.penv_hpa - track.pc_hpa
    return track.replace(vmax_mps=track.vmax_mps * factor,
                         pc_hpa=track.penv_hpa - dp * factor**2,
                         notes=track.notes + (f"intensity x{factor:g} (deficit x{factor**2:g})",))


def change_speed(track: Track, factor: float, *, pivot: np.datetime64 | None = None) -> Track:
    """A copy moving ``factor`` times as fast along the same path.

    Times are stretched about ``pivot`` (default: the time of peak wind), which keeps
    its time: ``t' = pivot + (t - pivot) / factor``.
    """
    if not factor > 0:
        raise HazardError(f"speed factor must be > 0, got {factor}", where="change_speed")
    if pivot is None:
        pivot = track.times[int(np.argmax(track.vmax_mps))]
    p = np.datetime64(pivot, "s").astype(np.int64)
    t = track.times.astype("datetime64[s]").astype(np.int64)
    new = p + np.round((t - p) / factor).astype(np.int64)
    if np.any(np.diff(new) <= 0):
        raise HazardError(f"speed factor {factor} collapses track times", where="change_speed")
    return track.replace(times=new.astype("datetime64[s]"),
                         notes=track.notes + (f"forward speed x{factor:g}",))
