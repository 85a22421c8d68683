"""Typhoon (tropical-cyclone) hazard: best tracks, parametric wind, rain and surge.

Public API::

    from hazards.typhoon import TyphoonHazard, TyphoonConfig, TyphoonWarning
    from hazards.typhoon import Track, read_tracks, load_track, select_storm
    from hazards.typhoon import shift, shift_to, rotate, scale_intensity, change_speed
    from hazards.typhoon import storm_steps, wind_at_sites, wind_at_sites_numpy, wind_on_grid
    from hazards.typhoon import RainSeries, rcliper_rate_mmh

Module map, in the order a scenario's parameters travel: :mod:`.config` (the scenario
block), :mod:`.readers` (one module per best-track format) -> :mod:`.track` (the track
model) -> :mod:`.track_transforms` (what-ifs) -> :mod:`.timeline` (the storm on the
scenario's clock) -> :mod:`.wind` (profile parameters and drivers; :mod:`.wind_radii`
fits the profile to the track's wind radii) -> :mod:`.wind_kernels` (numba);
:mod:`.exposure` (roughness and gust factors), :mod:`.rain` (rain and surge),
:mod:`.compound` (the rain-driven flood), :mod:`.hazard` (the scenario hazard that ties
them together), :mod:`.cli` (``twin wind``), :mod:`.hindcast` (``--observations``);
constants with their sources in ``data/wind_constants.yaml``.
"""

from __future__ import annotations

from common.lazy import lazy_getattr

_WHERE = {
    "TyphoonConfig": "hazards.typhoon.config",
    "TyphoonHazard": "hazards.typhoon.hazard",
    "TyphoonWarning": "hazards.typhoon.timeline",
    "RainSeries": "hazards.typhoon.rain",
    "rcliper_rate_mmh": "hazards.typhoon.rain",
    "StormTimeline": "hazards.typhoon.timeline",
    "Track": "hazards.typhoon.track",
    "TrackList": "hazards.typhoon.track",
    "change_speed": "hazards.typhoon.track_transforms",
    "detect_format": "hazards.typhoon.readers",
    "load_track": "hazards.typhoon.readers",
    "read_csv_track": "hazards.typhoon.readers",
    "read_tracks": "hazards.typhoon.readers",
    "rotate": "hazards.typhoon.track_transforms",
    "scale_intensity": "hazards.typhoon.track_transforms",
    "select_storm": "hazards.typhoon.readers",
    "shift": "hazards.typhoon.track_transforms",
    "shift_to": "hazards.typhoon.track_transforms",
    "storm_steps": "hazards.typhoon.wind",
    "wind_at_sites": "hazards.typhoon.wind",
    "wind_at_sites_numpy": "hazards.typhoon.wind",
    "wind_on_grid": "hazards.typhoon.wind",
}
__all__ = sorted(_WHERE)
__getattr__ = lazy_getattr(__name__, _WHERE)
