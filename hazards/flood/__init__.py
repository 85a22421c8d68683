"""Flood hazard: a local-inertial shallow-water solver on a raster DEM.

Public API
----------
- :class:`FloodHazard` (``kind = "flood"``) and its scenario model :class:`FloodConfig`;
- :class:`FloodSolver`, :class:`SolverOptions`, :class:`VolumeLedger` for direct use;
- forcings :class:`Hyetograph`, :class:`RainfallRaster` (gridded rain, e.g. from a
  typhoon), :class:`Inflow`, :class:`StageBoundary`, :class:`TimeSeries`;
- :func:`load_dem` and :class:`FloodGrid`.

The command line lives in :mod:`hazards.flood.cli`. Submodules load lazily so that
``import hazards.flood`` does not pull in numba, rasterio or geopandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.lazy import lazy_getattr

if TYPE_CHECKING:
    from hazards.flood.config import FloodConfig
    from hazards.flood.dem import FloodGrid, load_dem
    from hazards.flood.forcing import (
        Hyetograph,
        Inflow,
        RainfallRaster,
        StageBoundary,
        TimeSeries,
    )
    from hazards.flood.hazard import FloodHazard, FloodWarning
    from hazards.flood.solver import FloodSolver, SolverOptions, VolumeLedger

_WHERE = {
    "FloodHazard": "hazards.flood.hazard",
    "FloodWarning": "hazards.flood.hazard",
    "FloodConfig": "hazards.flood.config",
    "FloodSolver": "hazards.flood.solver",
    "SolverOptions": "hazards.flood.solver",
    "VolumeLedger": "hazards.flood.solver",
    "Hyetograph": "hazards.flood.forcing",
    "RainfallRaster": "hazards.flood.forcing",
    "Inflow": "hazards.flood.forcing",
    "StageBoundary": "hazards.flood.forcing",
    "TimeSeries": "hazards.flood.forcing",
    "FloodGrid": "hazards.flood.dem",
    "load_dem": "hazards.flood.dem",
}

__all__ = [
    "FloodConfig", "FloodGrid", "FloodHazard", "FloodSolver", "FloodWarning", "Hyetograph",
    "Inflow", "RainfallRaster", "SolverOptions", "StageBoundary", "TimeSeries", "VolumeLedger",
    "load_dem",
]


__getattr__ = lazy_getattr(__name__, _WHERE)
