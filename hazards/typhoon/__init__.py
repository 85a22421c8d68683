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

from hazards.typhoon.hazard import TyphoonConfig, TyphoonHazard, TyphoonWarning
from hazards.typhoon.rain import RainSeries, rcliper_rate_mmh
from hazards.typhoon.tracks import (
    Track,
    TrackList,
    change_speed,
    load_track,
    read_tracks,
    rotate,
    scale_intensity,
    select_storm,
    shift,
    shift_to,
)
from hazards.typhoon.wind import storm_steps, wind_at_sites, wind_at_sites_numpy, wind_on_grid

__all__ = [
    "RainSeries", "Track", "TrackList", "TyphoonConfig", "TyphoonHazard", "TyphoonWarning",
    "change_speed", "load_track", "rcliper_rate_mmh", "read_tracks", "rotate",
    "scale_intensity", "select_storm", "shift", "shift_to", "storm_steps", "wind_at_sites",
    "wind_at_sites_numpy", "wind_on_grid",
]
