"""Typhoon (tropical-cyclone) hazard: best tracks, parametric wind, rain and surge.

Public API::

    from hazards.typhoon import TyphoonHazard, TyphoonConfig, TyphoonWarning
    from hazards.typhoon import Track, read_tracks, load_track, select_storm
    from hazards.typhoon import shift, shift_to, rotate, scale_intensity, change_speed
    from hazards.typhoon import storm_steps, wind_at_sites, wind_at_sites_numpy, wind_on_grid
    from hazards.typhoon import RainSeries, rcliper_rate_mmh

Module map: :mod:`.tracks` (readers, validation, interpolation, what-ifs),
:mod:`.wind` (model and drivers), :mod:`.wind_kernels` (numba), :mod:`.rain` (rain and
surge), :mod:`.hazard` (the scenario hazard), :mod:`.cli` (``twin wind``); constants
with their sources in ``data/wind_constants.yaml``.
"""

from __future__ import annotations

from common.lazy import lazy_getattr

_WHERE = {
    "TyphoonConfig": "hazards.typhoon.hazard",
    "TyphoonHazard": "hazards.typhoon.hazard",
    "TyphoonWarning": "hazards.typhoon.hazard",
    "RainSeries": "hazards.typhoon.rain",
    "rcliper_rate_mmh": "hazards.typhoon.rain",
    "Track": "hazards.typhoon.tracks",
    "TrackList": "hazards.typhoon.tracks",
    "change_speed": "hazards.typhoon.tracks",
    "load_track": "hazards.typhoon.tracks",
    "read_tracks": "hazards.typhoon.tracks",
    "rotate": "hazards.typhoon.tracks",
    "scale_intensity": "hazards.typhoon.tracks",
    "select_storm": "hazards.typhoon.tracks",
    "shift": "hazards.typhoon.tracks",
    "shift_to": "hazards.typhoon.tracks",
    "storm_steps": "hazards.typhoon.wind",
    "wind_at_sites": "hazards.typhoon.wind",
    "wind_at_sites_numpy": "hazards.typhoon.wind",
    "wind_on_grid": "hazards.typhoon.wind",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_getattr(__name__, _WHERE)
