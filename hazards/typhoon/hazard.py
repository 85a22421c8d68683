"""The typhoon hazard: a real or what-if best track turned into wind at the city's assets.

Scenario block (the lead registers ``typhoon`` -> ``hazards.typhoon:TyphoonHazard``)::

    - type: typhoon
      track: {file: data/tracks/ibtracs_usa_jtwc_selected_storms.csv, storm: "SAOLA:2023"}
      transforms:
        - shift_to_lonlat: [113.6, 22.3]   # pass straight over this point
      step_min: 30
      roughness: {source: open_terrain}

Time: scenario t = 0 is ``start_time_utc`` or, by default, ``lead_time_h`` (48 h)
before the track's closest approach to the city; the field runs until the scenario
horizon or the end of the track, whichever is first; outside the track's span the
wind is 0. The city is ``city_lonlat``, else the anchor in the context's meta
(``anchor_lon``/``anchor_lat``), else the centroid of the sites.

Intensities (``float32[T, n_sites]``): ``SUSTAINED_WIND_MPS`` (1-min at 10 m) and
``GUST_MPS`` (3-s at 10 m) for the configured exposure (see :mod:`hazards.typhoon.wind`);
for edge sites the maximum over the polyline, sampled at its vertices and at most every
``edge_sample_m``. With a terrain, ``grids[GUST_MPS]`` holds the gust on a decimated
copy of the DEM grid.

Compound flood: with a ``flood:`` block (the fields of a ``type: flood`` block except
``type`` and ``rain``, validated by :class:`hazards.flood.config.FloodConfig`) ``compute``
also runs the flood solver on the city's terrain (or the block's ``dem``) from scenario
hour ``flood_start_h`` for ``duration_h``, forced by the storm's R-CLIPER rain on the flood
grid (a ``RainfallRaster``, frames every ``step_min``) and, when ``surge`` is configured,
by the surge stage on ``surge.flood_edge`` (default the south edge). ``FLOOD_DEPTH_M``
joins the wind measures on the union of both time axes (linear in time; wind 0 after the
track, depth 0 before the solver starts and, after its end, its last depths held or, with
``flood_recession_h``, receding linearly to 0), and ``grids[FLOOD_DEPTH_M]`` the solver's
frames. ``meta["flood"]`` holds the volume ledger and the rain totals (also the rain
neglected before ``flood_start_h``). A track whose closest approach is farther than ``far_km`` warns
(:class:`TyphoonWarning`) and says so in ``meta["warnings"]``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.errors import HazardError
from hazards.base import GridSeries, HazardContext, HazardField, IntensityMeasure, Sites
from hazards.typhoon import tracks as trk
from hazards.typhoon.constants import CONSTANTS_PATH, load_constants
from hazards.typhoon.rain import RainSeries, rain_on_grid, surge_stage
from hazards.typhoon.wind import (
    StormSteps,
    grid_lonlat,
    storm_steps,
    wind_at_sites,
)

MODEL_VERSION = "typhoon-wind-1"
#: bumped when the compound (wind + rain-driven flood) coupling changes
COMPOUND_VERSION = "typhoon-compound-1"
#: evaluation points x time steps computed at once (bounds the temporary arrays)
POINT_STEPS_PER_CHUNK = 20_000_000


class TyphoonWarning(UserWarning):
    """The typhoon scenario is valid but probably not what was meant (e.g. a far track)."""


class TrackSpec(BaseModel):
    """Which best track: a file (relative to the scenario), its format and the storm."""

    model_config = ConfigDict(extra="forbid")
    file: str
    format: Literal["auto", "hurdat2", "jma", "ibtracs", "csv"] = "auto"
    storm: str = Field("", description="ID (IBTrACS SID, AL092008, 1713) or NAME:SEASON; "
                                        "may be empty for a single-storm CSV")
    wind_averaging: Literal["1min", "10min"] | None = Field(
        None, description="averaging period of the file's winds (required for plain CSV)")
    wind_source: Literal["usa", "wmo"] = "usa"


class TransformSpec(BaseModel):
    """One what-if applied to the track; exactly one field. Pivots are the track's
    closest approach to the city."""

    model_config = ConfigDict(extra="forbid")
    shift_km: tuple[float, float] | None = Field(None, description="(east_km, north_km)")
    shift_to_lonlat: tuple[float, float] | None = Field(
        None, description="(lon, lat): move the track so its closest approach passes here")
    rotate_deg: float | None = Field(None, description="clockwise, about the closest approach")
    scale_intensity: float | None = Field(None, gt=0)
    speed_factor: float | None = Field(None, gt=0, description="forward speed multiplier")

    @model_validator(mode="after")
    def _one(self) -> TransformSpec:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a transform has exactly one of shift_km, shift_to_lonlat, "
                             "rotate_deg, scale_intensity, speed_factor")
        return self


class RoughnessSpec(BaseModel):
    """Exposure of the sites: which roughness length z0 each point has.

    ``open_terrain`` (default): z0 = 0.03 m everywhere, the reference exposure of wind
    fragility curves (open terrain, 10 m). ``marine``: open water everywhere.
    ``uniform``: ``z0_m`` everywhere. ``dem_land_mask``: the context's DEM decides land
    (elevation above ``sea_level_m``: ``z0_m``) from water (no data or below: marine).
    ``landuse``: a land-use raster (``landuse_raster``, codes of ``landuse_table`` or
    ``landuse_z0_m``); points outside it get ``z0_m``.
    """

    model_config = ConfigDict(extra="forbid")
    source: Literal["open_terrain", "marine", "uniform", "dem_land_mask", "landuse"] = (
        "open_terrain")
    z0_m: float = Field(0.03, gt=0, le=3.0)
    sea_level_m: float = 0.0
    landuse_raster: str | None = None
    landuse_table: Literal["esa_worldcover"] = "esa_worldcover"
    landuse_z0_m: dict[int, float] | None = None

    @model_validator(mode="after")
    def _raster(self) -> RoughnessSpec:
        if self.source == "landuse" and not self.landuse_raster:
            raise ValueError("roughness source 'landuse' needs landuse_raster")
        return self


class SurgeSpec(BaseModel):
    """Coastal stage: parametric (point, shore normal, shelf) or a CSV (time_utc, stage_m)."""

    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    lonlat: tuple[float, float] | None = None
    shore_normal_deg: float = Field(0.0, description="compass direction from sea onto land")
    shelf_width_km: float = Field(50.0, gt=0)
    shelf_depth_m: float = Field(20.0, gt=0)
    tide_m: float = 0.0
    flood_edge: Literal["N", "E", "S", "W"] | None = Field(
        "S", description="with a 'flood' block: the edge of the flood grid that carries this "
                         "stage (the coast); null: the surge does not force the flood")

    @model_validator(mode="after")
    def _either(self) -> SurgeSpec:
        if (self.file is None) == (self.lonlat is None):
            raise ValueError("surge needs either 'file' or 'lonlat'")
        return self


class TyphoonConfig(BaseModel):
    """Scenario block of the typhoon hazard (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["typhoon"] = "typhoon"
    track: TrackSpec
    transforms: list[TransformSpec] = Field(default_factory=list)
    step_min: float = Field(30.0, gt=0, le=360)
    start_time_utc: datetime | None = None
    lead_time_h: float = Field(48.0, ge=0)
    city_lonlat: tuple[float, float] | None = None
    profile: Literal["holland2008", "holland1980"] = "holland2008"
    rmw_model: Literal["vickery_wadhera_2008", "climada"] = "vickery_wadhera_2008"
    coriolis: bool = True
    inflow_deg: float = Field(0.0, ge=0, le=45)
    max_distance_km: float = Field(500.0, gt=0, le=2000)
    far_km: float = Field(300.0, gt=0)
    roughness: RoughnessSpec = Field(default_factory=RoughnessSpec)
    edge_sample_m: float = Field(250.0, gt=0)
    grid_max_cells: int = Field(40_000, ge=4)
    surge: SurgeSpec | None = None
    flood: dict[str, Any] | None = Field(
        None, description="compound flood: the fields of a flood hazard block (hazards.flood."
                          "FloodConfig) except 'type' and 'rain'; the storm's R-CLIPER rain is "
                          "the forcing, on the city's terrain unless 'dem' is given")
    flood_start_h: float = Field(
        0.0, ge=0, description="scenario hour at which the flood solver starts (its duration_h "
                               "counts from here); rain before it is neglected (see meta)")
    flood_recession_h: float | None = Field(
        None, gt=0, description="after the flood solver's end: None keeps its last depths "
                                "(ponds persist, as for a flood hazard); a number lets every "
                                "depth fall linearly to 0 over that many hours (drainage and "
                                "pumping, which the solver does not model)")

    @field_validator("flood", mode="before")
    @classmethod
    def _flood_block(cls, v: object) -> dict[str, Any] | None:
        """Validate the block with the flood module's own model; store its full dump."""
        if v is None:
            return None
        if isinstance(v, BaseModel):
            v = v.model_dump(mode="json")
        if not isinstance(v, dict):
            raise ValueError("'flood' must be a mapping of flood-solver fields")
        for key, why in (("rain", "the storm's R-CLIPER rain is the forcing of the compound "
                                  "flood; remove 'flood.rain' (or use a separate flood hazard)"),
                         ("type", "the compound flood block takes no 'type'")):
            if key in v:
                raise ValueError(why)
        from hazards.flood.config import FloodConfig

        try:
            cfg = FloodConfig.model_validate({**v, "type": "flood"})
        except ValidationError as e:
            raise ValueError(_flood_error(e, FloodConfig)) from None
        return cfg.model_dump(mode="json", exclude={"type", "rain"})


def _flood_error(e: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first error of the flood block, with a suggestion for a misspelling."""
    errs = e.errors()
    err = next((x for x in errs if x["type"] == "extra_forbidden"), errs[0])
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        bad = str(err["loc"][-1])
        close = difflib.get_close_matches(bad, list(model.model_fields), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close and len(err["loc"]) == 1 else ""
        return f"unknown flood field '{loc}'{hint}"
    if err["type"] == "missing":
        return f"flood field '{loc}' is required"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"flood field '{loc}': {msg}" if loc else f"flood: {msg}"


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class TyphoonHazard:
    """Wind (and rain, surge) of one best track, optionally moved or altered.

    Built with :meth:`from_config`; the track is read and checked at construction, so a
    broken file fails before any run. ``compute`` is deterministic.
    """

    kind: ClassVar[str] = "typhoon"
    Config: ClassVar[type[BaseModel]] = TyphoonConfig

    def __init__(self, config: TyphoonConfig, context: HazardContext) -> None:
        self.config = config
        self.context = context
        self._track_path = self._resolve(config.track.file)
        self.base_track = trk.load_track(self._track_path, config.track.storm,
                                         fmt=config.track.format,
                                         wind_averaging=config.track.wind_averaging,
                                         wind_source=config.track.wind_source)
        self._landuse_path = (self._resolve(config.roughness.landuse_raster)
                              if config.roughness.landuse_raster else None)
        if self._landuse_path is not None and not self._landuse_path.is_file():
            raise HazardError("land-use raster not found", where=str(self._landuse_path))
        self._surge_path = (self._resolve(config.surge.file)
                            if config.surge is not None and config.surge.file else None)
        if self._surge_path is not None and not self._surge_path.is_file():
            raise HazardError("surge stage file not found", where=str(self._surge_path))
        self._prepared: dict[tuple[float, float], tuple] = {}
        self._flood = self._flood_hazard() if config.flood is not None else None

    def _flood_hazard(self):
        """The flood hazard of the compound block (paths resolved, grid and forcings built;
        no rain: the storm's rain is added in :meth:`compute`)."""
        from hazards.flood.config import FloodConfig
        from hazards.flood.hazard import FloodHazard

        cfg = FloodConfig.model_validate({**(self.config.flood or {}), "type": "flood"})
        if cfg.dem is None and self.context.terrain is None:
            raise HazardError("the compound flood needs the city's terrain or a 'dem'",
                              where="typhoon flood")
        fh = FloodHazard.from_config(cfg, self.context)
        edge = self._surge_edge()
        if edge is not None:
            taken = set(fh.model.outflow_edges) | {s.edge for s in fh.model.stages if s.edge}
            if edge in taken:
                raise HazardError(
                    f"edge {edge} of the flood grid already has a boundary condition "
                    f"(outflow_edges/stage_boundaries); the surge needs it: set "
                    "surge.flood_edge to another edge or null", where="typhoon flood")
        return fh

    def _surge_edge(self) -> str | None:
        s = self.config.surge
        return None if s is None or self.config.flood is None else s.flood_edge

    @classmethod
    def from_config(cls, config: BaseModel, context: HazardContext) -> TyphoonHazard:
        return cls(TyphoonConfig.model_validate(config.model_dump()), context)

    def _resolve(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else Path(self.context.base_dir) / q

    # ------------------------------------------------------------------ identity
    def cache_key(self) -> str:
        """sha256 over the config, the track/raster/surge file contents, the constants
        file, the context's CRS, horizon, anchor and terrain, and the model version; with a
        compound flood also the flood's own cache key (DEM/terrain bytes, the contents of
        its files, every solver parameter) and the coupling version."""
        h = hashlib.sha256()
        h.update(MODEL_VERSION.encode())
        h.update(json.dumps(self.config.model_dump(mode="json"), sort_keys=True).encode())
        h.update(_sha_file(self._track_path).encode())
        h.update(_sha_file(CONSTANTS_PATH).encode())
        for p in (self._landuse_path, self._surge_path):
            if p is not None:
                h.update(_sha_file(p).encode())
        h.update(self.context.crs.encode())
        h.update(repr(float(self.context.horizon_h)).encode())
        h.update(repr(self._anchor_from_meta()).encode())
        t = self.context.terrain
        if t is not None:
            h.update(np.ascontiguousarray(t.elevation_m).tobytes())
            h.update(repr(tuple(t.transform)).encode() + t.crs.encode())
        if self._flood is not None:
            # the flood's own key: its grid (DEM or terrain bytes), files and parameters
            h.update(COMPOUND_VERSION.encode())
            h.update(self._flood.cache_key().encode())
        return f"typhoon-{h.hexdigest()[:20]}"

    # ------------------------------------------------------------------ preparation
    def _anchor_from_meta(self) -> tuple[float, float] | None:
        m = self.context.meta or {}
        if "anchor_lon" in m and "anchor_lat" in m:
            return float(m["anchor_lon"]), float(m["anchor_lat"])
        if "anchor_lonlat" in m:
            lon, lat = m["anchor_lonlat"]  # type: ignore[misc]
            return float(lon), float(lat)
        return None

    def city_lonlat(self, fallback: tuple[float, float] | None = None) -> tuple[float, float]:
        """The city's (lon, lat): config, context anchor, else ``fallback``."""
        if self.config.city_lonlat is not None:
            return tuple(map(float, self.config.city_lonlat))  # type: ignore[return-value]
        a = self._anchor_from_meta()
        if a is not None:
            return a
        if fallback is None:
            raise HazardError("the city's location is unknown: set city_lonlat",
                              where="typhoon")
        return fallback

    def prepared(self, city: tuple[float, float]):
        """(transformed track, t0 as datetime64[s], closest-approach time and distance m,
        times_h, datetime64 times) for a city location."""
        key = (round(city[0], 9), round(city[1], 9))
        if key in self._prepared:
            return self._prepared[key]
        lon_c, lat_c = city
        track = self.base_track
        for k, t in enumerate(self.config.transforms):
            where = f"typhoon transforms[{k}]"
            ca_time, _ = track.closest_approach(lat_c, lon_c)
            plat, plon = track.position_at(ca_time)
            if t.shift_km is not None:
                track = trk.shift(track, east_km=t.shift_km[0], north_km=t.shift_km[1])
            elif t.shift_to_lonlat is not None:
                lon, lat = t.shift_to_lonlat
                if not (-90 <= lat <= 90):
                    raise HazardError(f"latitude {lat} outside [-90, 90]", where=where)
                track = trk.shift_to(track, lat, lon)
            elif t.rotate_deg is not None:
                track = trk.rotate(track, t.rotate_deg, about=(plat, plon))
            elif t.scale_intensity is not None:
                track = trk.scale_intensity(track, t.scale_intensity)
            elif t.speed_factor is not None:
                track = trk.change_speed(track, t.speed_factor, pivot=ca_time)
        ca_time, ca_dist = track.closest_approach(lat_c, lon_c)
        if self.config.start_time_utc is not None:
            st = self.config.start_time_utc
            if st.tzinfo is not None:
                st = st.astimezone(UTC).replace(tzinfo=None)
            t0 = np.datetime64(st, "s")
        else:
            t0 = ca_time - np.timedelta64(int(round(self.config.lead_time_h * 3600)), "s")
        end_h = min(float(self.context.horizon_h),
                    float((track.times[-1] - t0).astype(np.int64)) / 3600.0)
        if end_h < 0:
            raise HazardError(
                f"scenario start {np.datetime_as_string(t0)}Z is after the track's end "
                f"{np.datetime_as_string(track.times[-1])}Z", where="typhoon start_time_utc")
        step_h = self.config.step_min / 60.0
        n = int(math.floor(end_h / step_h + 1e-9)) + 1
        times_h = np.arange(n) * step_h
        times = t0 + np.round(times_h * 3600).astype(np.int64).astype("timedelta64[s]")
        out = (track, t0, ca_time, ca_dist, times_h, times)
        self._prepared[key] = out
        return out

    def _steps(self, track: trk.Track, times: np.ndarray) -> tuple[StormSteps | None, np.ndarray]:
        inside = (times >= track.times[0]) & (times <= track.times[-1])
        if not inside.any():
            return None, inside
        return storm_steps(track, times[inside], profile=self.config.profile,
                           coriolis=self.config.coriolis, rmw_model=self.config.rmw_model), inside

    # ------------------------------------------------------------------ exposure
    def z0_at(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        """Roughness length (m) at projected points (x, y) in ``crs``."""
        r = self.config.roughness
        c = load_constants()
        n = len(x)
        if r.source == "open_terrain":
            return np.full(n, 0.03)
        if r.source == "marine":
            return np.full(n, c.z0_sea_m)
        if r.source == "uniform":
            return np.full(n, r.z0_m)
        if r.source == "dem_land_mask":
            terr = self.context.terrain
            if terr is None:
                raise HazardError("roughness source 'dem_land_mask' needs the city's DEM",
                                  where="typhoon roughness")
            if terr.crs != crs:
                from pyproj import Transformer

                x, y = Transformer.from_crs(crs, terr.crs, always_xy=True).transform(x, y)
            elev = terr.sample(np.asarray(x), np.asarray(y))
            land = np.isfinite(elev) & (elev > r.sea_level_m)
            return np.where(land, r.z0_m, c.z0_sea_m)
        return self._landuse_z0(x, y, crs)

    def _landuse_z0(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        import rasterio
        from pyproj import Transformer

        r = self.config.roughness
        table = dict(load_constants().landuse_z0_m[r.landuse_table])
        table.update(r.landuse_z0_m or {})
        where = str(self._landuse_path)
        try:
            with rasterio.open(self._landuse_path) as src:
                if src.crs is None:
                    raise HazardError("land-use raster has no CRS", where=where)
                xs, ys = Transformer.from_crs(crs, src.crs.to_string(), always_xy=True).transform(
                    x, y)
                band = src.read(1)
                rows, cols = rasterio.transform.rowcol(src.transform, xs, ys)
                rows, cols = np.asarray(rows), np.asarray(cols)
                nodata = src.nodata
        except rasterio.errors.RasterioIOError as ex:
            raise HazardError(f"cannot read land-use raster: {ex}", where=where) from None
        ok = (rows >= 0) & (rows < band.shape[0]) & (cols >= 0) & (cols < band.shape[1])
        z0 = np.full(len(x), r.z0_m)
        codes = band[rows[ok], cols[ok]]
        vals = np.array([table.get(int(cd), np.nan) for cd in codes]) if codes.size else codes
        unknown = np.isnan(vals) & (codes != (nodata if nodata is not None else -1e30))
        if np.any(unknown):
            bad = sorted({int(v) for v in codes[unknown]})[:10]
            raise HazardError(f"land-use codes {bad} have no roughness; add them to "
                              "roughness.landuse_z0_m", where=where)
        z0[ok] = np.where(np.isnan(vals), r.z0_m, vals)
        return z0

    # ------------------------------------------------------------------ compute
    def check(self, sites: Sites) -> None:
        """Cheap validation for ``twin validate``: read and select the storm, apply the
        transforms and find the closest approach (warns for a far track)."""
        from pyproj import Transformer

        fallback = None
        if len(sites):
            to_ll = Transformer.from_crs(sites.crs, "EPSG:4326", always_xy=True)
            clon, clat = to_ll.transform(float(np.mean(sites.x_m)), float(np.mean(sites.y_m)))
            fallback = (float(clon), float(clat))
        city = self.city_lonlat(fallback)
        track, _, _, ca_dist, _, _ = self.prepared(city)
        warn = self._far_warning(track, ca_dist, city)
        if warn:
            warnings.warn(warn, TyphoonWarning, stacklevel=2)

    def compute(self, sites: Sites) -> HazardField:
        """Wind at ``sites`` and, with a ``flood`` block, the rain-driven flood depth."""
        wind = self._wind_field(sites)
        if self._flood is None:
            return wind
        return self._compound(sites, wind)

    def _wind_field(self, sites: Sites) -> HazardField:
        c = load_constants()
        from pyproj import Transformer

        to_ll = Transformer.from_crs(sites.crs, "EPSG:4326", always_xy=True)
        px, py, owner = _sample_points(sites, self.config.edge_sample_m)
        lon, lat = to_ll.transform(px, py)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        if len(sites):
            clon, clat = to_ll.transform(float(np.mean(sites.x_m)), float(np.mean(sites.y_m)))
            fallback = (float(clon), float(clat))
        else:
            fallback = None
        city = self.city_lonlat(fallback)
        track, t0, ca_time, ca_dist, times_h, times = self.prepared(city)
        warn = self._far_warning(track, ca_dist, city)
        z0 = self.z0_at(px, py, sites.crs)
        fac = c.sustained_roughness_factor(z0)
        gfac = c.gust_factor_for(z0)
        T, n = len(times_h), len(sites)
        sust = np.zeros((T, n), dtype=np.float32)
        gust = np.zeros((T, n), dtype=np.float32)
        steps, inside = self._steps(track, times)
        if steps is not None and n:
            per_site = np.bincount(owner, minlength=n)
            if np.any(per_site == 0):
                raise HazardError("a site has no vertex (line_offsets not increasing)",
                                  where="typhoon sites")
            cum = np.concatenate([[0], np.cumsum(per_site)])
            budget = max(1, POINT_STEPS_PER_CHUNK // max(1, int(inside.sum())))
            s0 = 0
            while s0 < n:  # chunks of whole sites, bounded memory
                s1 = max(s0 + 1, int(np.searchsorted(cum, cum[s0] + budget, side="right")) - 1)
                a, b = int(cum[s0]), int(cum[s1])
                s_pts, g_pts = wind_at_sites(steps, lat[a:b], lon[a:b], site_factor=fac[a:b],
                                             site_gust=gfac[a:b],
                                             inflow_deg=self.config.inflow_deg,
                                             max_distance_km=self.config.max_distance_km)
                first = cum[s0:s1] - a
                sust[inside, s0:s1] = np.maximum.reduceat(s_pts, first, axis=1)
                gust[inside, s0:s1] = np.maximum.reduceat(g_pts, first, axis=1)
                s0 = s1
        grids = {}
        if self.context.terrain is not None and steps is not None:
            grids[IntensityMeasure.GUST_MPS] = self._gust_grid(steps, inside, times_h)
        meta = {
            "kind": self.kind,
            "storm": {"id": track.id, "name": track.name, "season": track.season,
                      "basin": track.basin, "source": str(self._track_path)},
            "track_notes": list(track.notes),
            "t0_utc": np.datetime_as_string(t0) + "Z",
            "closest_approach_utc": np.datetime_as_string(ca_time) + "Z",
            "closest_approach_km": ca_dist / 1000.0,
            "city_lonlat": list(city),
            "profile": self.config.profile,
            "roughness": self.config.roughness.source,
            "warnings": [warn] if warn else [],
            "max_gust_mps": float(gust.max()) if gust.size else 0.0,
            # for views: the (transformed) track in scenario hours
            "track_lonlat": np.column_stack([track.lon, track.lat]).tolist(),
            "track_times_h": ((track.times - t0) / np.timedelta64(1, "s") / 3600.0).tolist(),
        }
        return HazardField(times_h.astype(float), {IntensityMeasure.SUSTAINED_WIND_MPS: sust,
                                                   IntensityMeasure.GUST_MPS: gust},
                           grids=grids, meta=meta)

    # ------------------------------------------------------------------ compound flood
    def flood_rain(self, city: tuple[float, float]):
        """The storm's R-CLIPER rain on the flood grid as the solver's forcing: a
        :class:`hazards.flood.RainfallRaster` whose frames start at ``flood_start_h``
        (solver time 0) and step every ``step_min`` over the flood's ``duration_h``."""
        from hazards.flood.forcing import RainfallRaster

        fh = self._flood
        if fh is None:
            raise HazardError("no compound flood configured (add a 'flood' block)",
                              where="typhoon")
        grid = fh.model.grid
        track, t0, *_ = self.prepared(city)
        step_s = self.config.step_min * 60.0
        rel_s = np.arange(0.0, fh.config.duration_h * 3600.0, step_s)
        times = t0 + np.round(self.config.flood_start_h * 3600.0 + rel_s).astype(
            np.int64).astype("timedelta64[s]")
        rs = rain_on_grid(track, times, rel_s, grid.transform, grid.shape, grid.crs,
                          max_distance_km=self.config.max_distance_km)
        return RainfallRaster.from_frames(rel_s, rs.rain_mmh, shape=grid.shape)

    def _rain_before_start_mm(self, city: tuple[float, float]) -> float:
        """Largest rain depth (mm) that fell on the flood grid before ``flood_start_h``
        (neglected by the solver), on every 8th cell."""
        start_h = self.config.flood_start_h
        if start_h <= 0:
            return 0.0
        grid = self._flood.model.grid
        a, b, c0, d, e, f0 = grid.transform
        k = 8
        tr = (a * k, b * k, c0, d * k, e * k, f0)
        shape = (-(-grid.shape[0] // k), -(-grid.shape[1] // k))
        track, t0, *_ = self.prepared(city)
        step_h = self.config.step_min / 60.0
        rel_h = np.arange(0.0, start_h, step_h)
        times = t0 + np.round(rel_h * 3600.0).astype(np.int64).astype("timedelta64[s]")
        rs = rain_on_grid(track, times, rel_h * 3600.0, tr, shape, grid.crs,
                          max_distance_km=self.config.max_distance_km)
        dt_h = np.diff(np.append(rel_h, start_h))
        return float((rs.rain_mmh * dt_h[:, None, None]).sum(axis=0).max(initial=0.0))

    def _compound(self, sites: Sites, wind: HazardField) -> HazardField:
        """Run the flood solver with the storm's rain (and surge stage) and merge its depths
        with the wind on one time axis."""
        from hazards.flood.forcing import StageBoundary, TimeSeries
        from hazards.flood.hazard import FloodHazard

        fh = self._flood
        city = tuple(float(v) for v in wind.meta["city_lonlat"])  # type: ignore[union-attr]
        start_h = self.config.flood_start_h
        raster = self.flood_rain(city)
        model = fh.model
        stages = tuple(model.stages)
        edge = self._surge_edge()
        if edge is not None:
            ts, stage = self.surge_series()
            stages += (StageBoundary("typhoon_surge", TimeSeries(ts - start_h * 3600.0, stage),
                                     edge=edge),)
        run = FloodHazard(fh.config, dataclasses.replace(model, rain=(*model.rain, raster),
                                                          stages=stages), key=self.cache_key())
        flood = run.compute(sites)
        ft = np.asarray(flood.times_h, dtype=float) + start_h
        depth = flood.intensity[IntensityMeasure.FLOOD_DEPTH_M]
        if start_h > 0:  # dry before the solver starts
            ft = np.concatenate([[0.0], ft])
            depth = np.concatenate([np.where(np.isnan(depth[:1]), np.nan, 0.0), depth]).astype(
                np.float32)
        recession = self.config.flood_recession_h
        if recession is not None:  # linear recession to dry after the solver's end
            ft = np.append(ft, ft[-1] + recession)
            depth = np.concatenate([depth, np.where(np.isnan(depth[-1:]), np.nan, 0.0)]).astype(
                np.float32)
        wt = np.asarray(wind.times_h, dtype=float)
        times = np.unique(np.round(np.concatenate([wt, ft]), 9))
        intensity = {m: _resample(wt, a, times, after="zero") for m, a in wind.intensity.items()}
        intensity[IntensityMeasure.FLOOD_DEPTH_M] = _resample(ft, depth, times, after="hold")
        fg = flood.grids[IntensityMeasure.FLOOD_DEPTH_M]
        grids = dict(wind.grids)
        grids[IntensityMeasure.FLOOD_DEPTH_M] = GridSeries(
            fg.measure, np.asarray(fg.times_h, dtype=float) + start_h, fg.values, fg.transform,
            fg.crs)
        peak = np.nanmax(depth, axis=0) if depth.size else np.zeros(0)
        meta = dict(wind.meta)
        meta["flood"] = {
            **dict(flood.meta), "start_h": start_h,
            "surge_edge": edge,
            "rain_peak_mmh": float(raster.rate_mmh.max(initial=0.0)),
            "rain_total_max_mm": float((raster.rate_mmh.astype(np.float64).sum(axis=0)
                                        * self.config.step_min / 60.0).max(initial=0.0)),
            "rain_before_start_max_mm": self._rain_before_start_mm(city),
            "max_site_depth_m": float(np.nanmax(peak)) if np.isfinite(peak).any() else 0.0,
            "sites_wet_0p3m": int(np.sum(np.nan_to_num(peak) >= 0.3)),
        }
        return HazardField(times, intensity, grids=grids, meta=meta)

    def _far_warning(self, track: trk.Track, ca_dist: float, city) -> str | None:
        if ca_dist <= self.config.far_km * 1000.0:
            return None
        msg = (f"track {track.name}:{track.season} never comes within {self.config.far_km:g} km "
               f"of the city at ({city[0]:.3f}E, {city[1]:.3f}N): closest approach "
               f"{ca_dist / 1000:.0f} km; winds will be weak or zero (move the track with a "
               "shift_to_lonlat transform?)")
        warnings.warn(msg, TyphoonWarning, stacklevel=3)
        return msg

    def _decimated_grid(self) -> tuple[tuple[float, ...], tuple[int, int], str]:
        t = self.context.terrain
        ny, nx = t.shape
        stride = max(1, math.ceil(math.sqrt(ny * nx / self.config.grid_max_cells)))
        a, b, c0, d, e, f0 = t.transform
        tr = (a * stride, b * stride, c0, d * stride, e * stride, f0)
        return tr, (math.ceil(ny / stride), math.ceil(nx / stride)), t.crs

    def _gust_grid(self, steps: StormSteps, inside: np.ndarray, times_h: np.ndarray
                   ) -> GridSeries:
        c = load_constants()
        tr, shape, crs = self._decimated_grid()
        lon, lat = grid_lonlat(tr, shape, crs)
        a, b, c0, d, e, f0 = tr
        col, row = np.meshgrid(np.arange(shape[1]) + 0.5, np.arange(shape[0]) + 0.5)
        z0 = self.z0_at((a * col + b * row + c0).ravel(), (d * col + e * row + f0).ravel(), crs)
        _, g = wind_at_sites(steps, lat.ravel(), lon.ravel(),
                             site_factor=c.sustained_roughness_factor(z0),
                             site_gust=c.gust_factor_for(z0), inflow_deg=self.config.inflow_deg,
                             max_distance_km=self.config.max_distance_km)
        values = np.zeros((len(times_h), *shape), dtype=np.float32)
        values[inside] = g.reshape(-1, *shape)
        return GridSeries(IntensityMeasure.GUST_MPS, times_h.astype(float), values,
                          tuple(float(v) for v in tr), crs)

    # ------------------------------------------------------------------ rain, surge
    def rain_series(self, grid) -> RainSeries:
        """R-CLIPER rain on ``grid`` (a Terrain, or any object with ``transform``,
        ``shape`` and ``crs``, or a ``(transform, shape, crs)`` tuple), at the hazard's
        times. This is the rain forcing of the compound flood."""
        if isinstance(grid, tuple):
            transform, shape, crs = grid
        else:
            transform, shape, crs = grid.transform, tuple(grid.shape), grid.crs
        ny, nx = shape
        a, b, c0, d, e, f0 = transform[:6]
        cx, cy = a * nx / 2 + b * ny / 2 + c0, d * nx / 2 + e * ny / 2 + f0
        from pyproj import Transformer

        clon, clat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(cx, cy)
        track, _, _, _, times_h, times = self.prepared(self.city_lonlat((float(clon),
                                                                          float(clat))))
        return rain_on_grid(track, times, times_h * 3600.0, transform, shape, crs,
                            max_distance_km=self.config.max_distance_km)

    def surge_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(times_s, stage_m) of the coastal stage: the configured file interpolated to the
        hazard's times (its first/last values held outside its span) plus ``tide_m``, or
        the parametric model at ``surge.lonlat``."""
        s = self.config.surge
        if s is None:
            raise HazardError("no surge configured (add a 'surge' block)", where="typhoon")
        track, t0, _, _, times_h, times = self.prepared(self.city_lonlat(s.lonlat))
        if s.file is not None:
            import pandas as pd

            where = str(self._surge_path)
            try:
                df = pd.read_csv(self._surge_path)
                tt = pd.to_datetime(df["time_utc"], utc=True).dt.tz_localize(None)
                stage = pd.to_numeric(df["stage_m"]).to_numpy(dtype=float)
            except (KeyError, ValueError, OSError) as ex:
                raise HazardError(f"surge file needs columns time_utc, stage_m: {ex}",
                                  where=where) from None
            ts = (tt.to_numpy().astype("datetime64[s]") - t0).astype(np.int64).astype(float)
            if np.any(np.diff(ts) <= 0):
                raise HazardError("surge times must strictly increase", where=where)
            return times_h * 3600.0, np.interp(times_h * 3600.0, ts, stage) + s.tide_m
        steps, inside = self._steps(track, times)
        out = np.full(len(times_h), s.tide_m)
        if steps is not None:
            lon, lat = s.lonlat
            out[inside] = surge_stage(steps, lat, lon, shore_normal_deg=s.shore_normal_deg,
                                      shelf_width_km=s.shelf_width_km,
                                      shelf_depth_m=s.shelf_depth_m, tide_m=s.tide_m)
        return times_h * 3600.0, out


def _resample(src_t: np.ndarray, values: np.ndarray, dst_t: np.ndarray, *, after: str
              ) -> np.ndarray:
    """``values[t, site]`` given at ``src_t``, linearly interpolated to ``dst_t``; before the
    first time 0, after the last 0 (``after="zero"``) or the last row (``"hold"``). NaN
    (not exposed) stays NaN."""
    out = np.zeros((len(dst_t), values.shape[1]), dtype=np.float32)
    if len(src_t) == 0:
        return out
    j = np.searchsorted(src_t, dst_t, side="right") - 1  # src_t[j] <= t
    for k, t in enumerate(dst_t):
        i = j[k]
        if i < 0:
            out[k] = np.where(np.isnan(values[0]), np.nan, 0.0)
        elif i >= len(src_t) - 1:
            if t > src_t[-1] + 1e-9 and after == "zero":
                out[k] = np.where(np.isnan(values[-1]), np.nan, 0.0)
            else:
                out[k] = values[-1]
        elif t - src_t[i] < 1e-9:
            out[k] = values[i]
        else:
            w = (t - src_t[i]) / (src_t[i + 1] - src_t[i])
            out[k] = (1.0 - w) * values[i] + w * values[i + 1]
    return out


def _sample_points(sites: Sites, spacing_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points where the wind is evaluated: every vertex of every site plus points along
    each edge segment at most ``spacing_m`` apart; ``owner[k]`` is the point's site
    (non-decreasing)."""
    off = np.asarray(sites.line_offsets, dtype=np.int64)
    lx = np.asarray(sites.line_x, dtype=float)
    ly = np.asarray(sites.line_y, dtype=float)
    n = len(sites)
    vert_owner = np.repeat(np.arange(n), np.diff(off))
    if lx.size == 0:
        return lx, ly, vert_owner
    # segments between consecutive vertices of the same site
    same = vert_owner[1:] == vert_owner[:-1]
    i0 = np.nonzero(same)[0]
    seg_len = np.hypot(lx[i0 + 1] - lx[i0], ly[i0 + 1] - ly[i0])
    extra = np.maximum(np.ceil(seg_len / spacing_m).astype(np.int64) - 1, 0)
    extra = np.minimum(extra, 200)  # at most 200 interior samples per segment
    if extra.sum() == 0:
        return lx, ly, vert_owner
    seg_id = np.repeat(np.arange(len(i0)), extra)
    k = np.arange(extra.sum()) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    frac = k / np.repeat(extra + 1, extra)
    a = i0[seg_id]
    ex_x = lx[a] + (lx[a + 1] - lx[a]) * frac
    ex_y = ly[a] + (ly[a + 1] - ly[a]) * frac
    x = np.concatenate([lx, ex_x])
    y = np.concatenate([ly, ex_y])
    owner = np.concatenate([vert_owner, vert_owner[a]])
    order = np.argsort(owner, kind="stable")
    return x[order], y[order], owner[order]

