"""The scenario-specified damage map: the simplest real hazard.

A planner says what is hit and when: named assets, or every asset of some classes
inside an area, put in a damage state at a time (optionally with a probability, so
Monte Carlo draws differ), and/or an intensity raster (e.g. a depth map from an
external flood study) applied at a time through the asset side's fragility.

Scenario block::

    - type: damage_map
      events:
        - {time_h: 1.0, assets: [P-SUB-003], damage_state: complete}
        - time_h: 2.0
          area: {circle: [x_m, y_m, radius_m]}     # or polygon / bbox / file
          asset_classes: [feeder_segment, pipe]
          damage_state: moderate
          probability: 0.3
      raster: {path: depth.tif, measure: flood_depth_m, time_h: 1.0, duration_h: 24}
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.digest import file_digest, regular_file_problem
from common.errors import HazardError
from common.names import DS_INDEX, DamageStateName
from hazards.base import ForcedDamage, HazardContext, HazardField, IntensityMeasure, Sites
from hazards.sampling import sample_sites

#: Bumped whenever the field changes for the same inputs (part of the cache key).
MODEL_VERSION = "damage-map-2"

DS_NAMES = {name: i for name, i in DS_INDEX.items() if i > 0}


class AreaSpec(BaseModel):
    """An area: exactly one of circle, bbox, polygon (coordinates) or file (vector file)."""

    model_config = ConfigDict(extra="forbid")
    circle: tuple[float, float, float] | None = Field(None, description="x, y, radius_m")
    bbox: tuple[float, float, float, float] | None = Field(None, description="xmin ymin xmax ymax")
    polygon: list[tuple[float, float]] | None = None
    file: str | None = None
    crs: str | None = Field(None, description="CRS of the coordinates; default the city's CRS")

    @model_validator(mode="after")
    def _one(self) -> AreaSpec:
        given = [k for k in ("circle", "bbox", "polygon", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of circle, bbox, polygon, file")
        if self.circle is not None and self.circle[2] <= 0:
            raise ValueError("circle radius must be > 0")
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 points")
        return self


class EventSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_h: float = Field(ge=0)
    assets: list[str] | None = None
    area: AreaSpec | None = None
    asset_classes: list[str] | None = None
    damage_state: DamageStateName = "complete"
    probability: float = Field(1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _target(self) -> EventSpec:
        if (self.assets is None) == (self.area is None):
            raise ValueError("give either 'assets' or 'area'")
        return self


class RasterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    measure: IntensityMeasure = IntensityMeasure.FLOOD_DEPTH_M
    time_h: float = Field(0.0, ge=0)
    duration_h: float = Field(24.0, gt=0)
    band: int = Field(1, ge=1)


class DamageMapConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["damage_map"] = "damage_map"
    events: list[EventSpec] = Field(default_factory=list)
    raster: RasterSpec | None = None

    @model_validator(mode="after")
    def _something(self) -> DamageMapConfig:
        if not self.events and self.raster is None:
            raise ValueError("a damage map needs 'events' or a 'raster'")
        return self


class DamageMapHazard:
    """Damage given by the scenario (assets/areas at times) and/or an intensity raster."""

    kind: ClassVar[str] = "damage_map"
    Config: ClassVar[type[BaseModel]] = DamageMapConfig

    def __init__(self, config: DamageMapConfig, context: HazardContext) -> None:
        self.config = config
        self.context = context
        self._raster_path = None
        # every file is checked here, before any work: `twin validate` sees what a run
        # would, and the cache key never reads a device such as /dev/zero
        if config.raster is not None:
            self._raster_path = self._resolve(config.raster.path)
            problem = regular_file_problem(self._raster_path)
            if problem:
                raise HazardError(f"raster: {problem}",
                                  where=f"damage_map raster {self._raster_path}")
        for k, e in enumerate(config.events):
            if e.area is not None and e.area.file is not None:
                path = self._resolve(e.area.file)
                problem = regular_file_problem(path)
                if problem:
                    raise HazardError(f"area file: {problem}",
                                      where=f"damage_map event #{k + 1} {path}")

    @classmethod
    def from_config(cls, config: BaseModel, context: HazardContext) -> DamageMapHazard:
        return cls(DamageMapConfig.model_validate(config.model_dump()), context)

    def cache_key(self) -> str:
        """sha256 over the model version, the config, the city's CRS and the contents of
        every file the map reads (raster and area files, with their sidecars: a
        shapefile's ``.dbf``, ``.prj``, ...)."""
        h = hashlib.sha256(MODEL_VERSION.encode())
        h.update(json.dumps(self.config.model_dump(mode="json"), sort_keys=True).encode())
        h.update(self.context.crs.encode())
        if self._raster_path is not None:
            h.update(file_digest(self._raster_path, error=HazardError).encode())
        for e in self.config.events:
            if e.area is not None and e.area.file is not None:
                h.update(file_digest(self._resolve(e.area.file), error=HazardError).encode())
        return f"damage_map-{h.hexdigest()[:20]}"

    def _resolve(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else self.context.base_dir / q

    def check(self, sites: Sites) -> None:
        """Validate against the city without keeping the field (it is cheap to build)."""
        self.compute(sites)

    def compute(self, sites: Sites) -> HazardField:
        times: set[float] = set()
        f_time, f_site, f_ds, f_p = [], [], [], []
        index = {s: i for i, s in enumerate(sites.ids)}
        for k, e in enumerate(self.config.events):
            where = f"damage_map event #{k + 1}"
            if e.assets is not None:
                sel = []
                for a in e.assets:
                    if a not in index:
                        raise HazardError(f"asset '{a}' does not exist in the city", where=where)
                    sel.append(index[a])
                hit = np.array(sel, dtype=np.int64)
            else:
                hit = np.nonzero(self._in_area(e.area, sites, where))[0]
            if e.asset_classes is not None:
                from networks.schema import AssetClass

                for c in e.asset_classes:
                    try:
                        AssetClass(c)
                    except ValueError:
                        raise HazardError(f"unknown asset class '{c}'", where=where) from None
                hit = hit[np.isin(sites.asset_class[hit], e.asset_classes)]
            times.add(e.time_h)
            f_time.append(np.full(len(hit), e.time_h))
            f_site.append(hit)
            f_ds.append(np.full(len(hit), DS_NAMES[e.damage_state], dtype=np.int8))
            f_p.append(np.full(len(hit), e.probability))
        intensity = {}
        r = self.config.raster
        if r is not None:
            values = self._sample_raster(sites)
            t0, t1 = r.time_h, r.time_h + r.duration_h
            times.update((t0, t1))
            tt = np.array(sorted(times))
            arr = np.full((len(tt), len(sites)), np.nan, dtype=np.float32)
            on = (tt >= t0) & (tt < t1)
            arr[on] = values[None, :]
            intensity[r.measure] = arr
        tt = np.array(sorted(times), dtype=float)
        forced = ForcedDamage(np.concatenate(f_time) if f_time else np.zeros(0),
                              np.concatenate(f_site) if f_site else np.zeros(0, np.int64),
                              np.concatenate(f_ds) if f_ds else np.zeros(0, np.int8),
                              np.concatenate(f_p) if f_p else np.zeros(0))
        return HazardField(tt, intensity, forced, meta={"kind": self.kind})

    def _in_area(self, area: AreaSpec, sites: Sites, where: str) -> np.ndarray:
        """Sites with any sampled point (the vertices) inside the area."""
        import shapely
        from shapely.geometry import Polygon, box

        if area.file is not None:
            geom = self._read_area_file(self._resolve(area.file), sites.crs, where)
        else:
            if area.circle is not None:
                x, y, r = area.circle
                geom = shapely.Point(x, y).buffer(r, quad_segs=32)
            elif area.bbox is not None:
                geom = box(*area.bbox)
            else:
                geom = Polygon(area.polygon)
            if area.crs is not None:
                import geopandas as gpd

                geom = gpd.GeoSeries([geom], crs=area.crs).to_crs(sites.crs).iloc[0]
        pts = sample_sites(sites, math.inf)
        inside = shapely.contains_xy(geom, pts.x, pts.y)
        hit = pts.site_max(inside) > 0  # a site is in the area when any of its points is
        if not hit.any():
            raise HazardError("the area contains no asset of the city (check coordinates and "
                              "their CRS)", where=where)
        return hit

    @staticmethod
    def _read_area_file(path: Path, crs: str, where: str):
        """The union of a vector file's polygons in ``crs``; one-line errors for anything
        that is not a readable polygon file with a CRS."""
        import geopandas as gpd

        at = f"{where} {path}"
        problem = regular_file_problem(path)
        if problem:
            raise HazardError(f"area file: {problem}", where=at)
        try:
            gdf = gpd.read_file(path)
        except Exception as ex:  # noqa: BLE001 - any reader failure is a user-file problem
            msg = " ".join(str(ex).split())[:200]
            raise HazardError(f"area file is not a vector file GDAL can read ({msg})",
                              where=at) from None
        if gdf.crs is None:
            raise HazardError("area file has no CRS", where=at)
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        kinds = set(gdf.geometry.geom_type)
        if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
            raise HazardError(f"area file: expected polygons, found {sorted(kinds) or 'none'}",
                              where=at)
        return gdf.to_crs(crs).union_all()

    def _sample_raster(self, sites: Sites) -> np.ndarray:
        """The raster's value per site: the maximum over the site's points, an edge
        densified to half a raster cell (NaN where the raster has no data)."""
        from common.rasters import is_projected, read_raster

        path = self._raster_path
        r = self.config.raster
        where = f"damage_map raster {path}"
        ras = read_raster(path, "damage-map raster", band=r.band, error=HazardError)
        # half a cell, so a line sees every cell it crosses (cells in metres when projected)
        step = 0.5 * min(abs(ras.transform[0]), abs(ras.transform[4])) \
            if is_projected(ras.crs) else math.inf
        pts = sample_sites(sites, step).to_crs(ras.crs)
        out = pts.site_max(ras.sample(pts.x, pts.y))
        if np.all(np.isnan(out)):
            raise HazardError("the raster does not cover any asset of the city", where=where)
        return out
