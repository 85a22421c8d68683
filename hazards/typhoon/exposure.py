"""Exposure of the wind's points: which roughness length z0 each has, and the factors it
gives (1-min sustained wind and 3-s gust at 10 m, relative to the marine wind).

The scenario's ``roughness`` block (:class:`~hazards.typhoon.config.RoughnessSpec`) picks
the source: one z0 everywhere (``open_terrain``, ``marine``, ``uniform``), land or sea from
the city's DEM (``dem_land_mask``), or a land-use raster (``landuse``) whose classes map to
z0 through ``landuse_table`` (``wind_constants.yaml``) and ``landuse_z0_m``. The factors
come from :class:`~hazards.typhoon.constants.WindConstants` (sources in the YAML).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import HazardError
from common.rasters import open_raster, read_band, sample_grid
from common.terrain import Terrain
from hazards.typhoon.config import RoughnessSpec
from hazards.typhoon.constants import load_constants

#: z0 of the open-terrain reference exposure of wind fragility curves (m)
OPEN_TERRAIN_Z0_M = 0.03


@dataclass(frozen=True, eq=False)
class Exposure:
    """Roughness of points for one scenario: the ``roughness`` block, the city's terrain
    (for ``dem_land_mask``) and the land-use raster's path (for ``landuse``)."""

    spec: RoughnessSpec
    terrain: Terrain | None
    landuse_path: Path | None

    def z0_at(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        """Roughness length (m) at projected points (x, y) in ``crs``."""
        r = self.spec
        n = len(x)
        if r.source == "open_terrain":
            return np.full(n, OPEN_TERRAIN_Z0_M)
        if r.source == "marine":
            return np.full(n, load_constants().z0_sea_m)
        if r.source == "uniform":
            return np.full(n, r.z0_m)
        if r.source == "dem_land_mask":
            return self._dem_land_mask(np.asarray(x), np.asarray(y), crs)
        return self._landuse(np.asarray(x), np.asarray(y), crs)

    topography: str = "none"

    def factors(self, z0_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sustained-wind factor, gust factor) for roughness lengths ``z0_m``."""
        c = load_constants()
        return c.sustained_roughness_factor(z0_m), c.gust_factor_for(z0_m)

    def speed_up(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        """Topographic multiplier of the wind at projected points (1 without ``topography``
        or without the city's DEM; see :mod:`hazards.typhoon.topography`)."""
        terr = self.terrain
        if self.topography == "none":
            return np.ones(len(x))
        if terr is None:
            raise HazardError("topography 'as_nzs_1170_2' needs the city's DEM",
                              where="typhoon topography")
        from hazards.typhoon.topography import hill_multiplier

        if terr.crs != crs:
            from pyproj import Transformer

            x, y = Transformer.from_crs(crs, terr.crs, always_xy=True).transform(x, y)
        return hill_multiplier(terr.elevation_m, tuple(terr.transform), np.asarray(x),
                               np.asarray(y))

    def _dem_land_mask(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        terr = self.terrain
        if terr is None:
            raise HazardError("roughness source 'dem_land_mask' needs the city's DEM",
                              where="typhoon roughness")
        if terr.crs != crs:
            from pyproj import Transformer

            x, y = Transformer.from_crs(crs, terr.crs, always_xy=True).transform(x, y)
        elev = terr.sample(np.asarray(x), np.asarray(y))
        land = np.isfinite(elev) & (elev > self.spec.sea_level_m)
        return np.where(land, self.spec.z0_m, load_constants().z0_sea_m)

    def _landuse(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        from pyproj import Transformer

        r = self.spec
        table = dict(load_constants().landuse_z0_m[r.landuse_table])
        table.update(r.landuse_z0_m or {})
        where = str(self.landuse_path)
        with open_raster(self.landuse_path, "land-use raster", error=HazardError) as src:
            xs, ys = Transformer.from_crs(crs, src.crs.to_string(), always_xy=True).transform(
                x, y)
            band = read_band(src, what="land-use raster", error=HazardError)
            t = src.transform
            codes = sample_grid(band, (t.a, t.b, t.c, t.d, t.e, t.f), np.asarray(xs),
                                np.asarray(ys))
        z0 = np.full(len(x), r.z0_m)  # outside the raster or no data
        known = np.isfinite(codes)
        vals = np.array([table.get(int(cd), np.nan) for cd in codes[known]])
        if np.isnan(vals).any():
            bad = sorted({int(v) for v in codes[known][np.isnan(vals)]})[:10]
            raise HazardError(f"land-use codes {bad} have no roughness; add them to "
                              "roughness.landuse_z0_m", where=where)
        z0[known] = vals
        return z0
