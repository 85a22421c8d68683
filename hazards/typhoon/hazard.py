"""The typhoon hazard: a real or what-if best track turned into wind at the city's assets.

Scenario block (the lead registers ``typhoon`` -> ``hazards.typhoon:TyphoonHazard``)::

    - type: typhoon
      track: {file: data/tracks/ibtracs_usa_jtwc_selected_storms.csv, storm: "SAOLA:2023"}
      transforms:
        - shift_to_lonlat: [113.6, 22.3]   # pass straight over this point
      step_min: 30
      roughness: {source: open_terrain}

From the block to the wind field, in the order :meth:`TyphoonHazard.compute` runs:

1. :mod:`.config` validates the block (:class:`TyphoonConfig`);
2. :mod:`.readers` reads the ``track`` file into a :class:`~.track.Track` (at
   construction, so a broken file fails before any run);
3. the city is ``city_lonlat``, else the anchor in the context's meta, else the centroid
   of the sites (:meth:`TyphoonHazard.city_for`);
4. :mod:`.timeline` applies the ``transforms`` and puts the storm on the scenario's clock
   (:class:`~.timeline.StormTimeline`: t = 0 is ``start_time_utc`` or ``lead_time_h``
   before the closest approach; steps every ``step_min`` until the horizon or the track's
   end; a far track warns once, :class:`TyphoonWarning`, and says so in
   ``HazardField.warnings``);
5. :func:`~.wind.storm_steps` turns the track into the profile's parameters per step
   (``profile``, ``rmw_model``, ``coriolis``);
6. :func:`hazards.sampling.sample_sites` places points along the sites (every
   ``edge_sample_m`` on edges), :mod:`.exposure` gives each its roughness factors
   and, with ``topography``, the speed-up on hills (:mod:`.topography`);
7. :func:`~.wind.wind_at_sites` (the numba kernel) computes the wind at the points,
   reduced to the maximum per site.

Intensities (``float32[T, n_sites]``): ``SUSTAINED_WIND_MPS`` (1-min at 10 m) and
``GUST_MPS`` (3-s at 10 m) for the configured exposure; outside the track's span the
wind is 0. With a terrain, ``grids[GUST_MPS]`` holds the gust on a decimated copy of the
DEM grid. With a ``flood`` block, :mod:`.compound` adds ``FLOOD_DEPTH_M``.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel

from common.digest import file_digest
from common.errors import HazardError
from common.rasters import check_memory
from hazards.base import GridSeries, HazardContext, HazardField, IntensityMeasure, Sites, StormTrack
from hazards.sampling import sample_sites, site_max
from hazards.typhoon.compound import CompoundFlood
from hazards.typhoon.config import TyphoonConfig
from hazards.typhoon.constants import CONSTANTS_PATH
from hazards.typhoon.exposure import Exposure
from hazards.typhoon.rain import RainSeries, rain_on_grid, surge_stage
from hazards.typhoon.readers import load_track
from hazards.typhoon.timeline import StormTimeline, TyphoonWarning, build_timeline, issue_time
from hazards.typhoon.wind import StormSteps, grid_lonlat, storm_steps, wind_at_sites
from hazards.typhoon.wind_radii import RADII_PROFILE, has_size, no_size_warning

__all__ = ["MODEL_VERSION", "TyphoonConfig", "TyphoonHazard", "TyphoonWarning"]

#: bumped when the wind field changes (2: kernels without value-changing fast-math)
MODEL_VERSION = "typhoon-wind-3"  # 3: forecast errors after the transforms
#: evaluation points x time steps computed at once (bounds the temporary arrays)
POINT_STEPS_PER_CHUNK = 20_000_000
#: bytes per site and step of the outputs (sustained and gust, float32)
_BYTES_PER_SITE_STEP = 8


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
        self.base_track = load_track(self._track_path, config.track.storm,
                                     fmt=config.track.format,
                                     wind_averaging=config.track.wind_averaging,
                                     wind_source=config.track.wind_source)
        if config.forecast is not None:  # checked here; applied after the transforms
            issue_time(self.base_track, config.forecast)
        rough = config.roughness
        self._landuse_path = self._resolve(rough.landuse_raster) if rough.landuse_raster else None
        if self._landuse_path is not None and not self._landuse_path.is_file():
            raise HazardError("land-use raster not found", where=str(self._landuse_path))
        self.exposure = Exposure(rough, context.terrain, self._landuse_path,
                                 topography=config.topography)
        self._surge_path = (self._resolve(config.surge.file)
                            if config.surge is not None and config.surge.file else None)
        if self._surge_path is not None and not self._surge_path.is_file():
            raise HazardError("surge stage file not found", where=str(self._surge_path))
        self.sized = has_size(self.base_track)
        if config.profile == RADII_PROFILE and not self.sized:
            raise HazardError(f"track {self.base_track.selector} reports no wind radii; use "
                              "profile auto or holland2008", where="typhoon profile")
        self._timelines: dict[tuple[float, float], StormTimeline] = {}
        self.compound = CompoundFlood(config, context) if config.flood is not None else None

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
        for p in (self._track_path, CONSTANTS_PATH, self._landuse_path, self._surge_path):
            if p is not None:
                h.update(file_digest(p, error=HazardError).encode())
        h.update(self.context.crs.encode())
        h.update(repr(float(self.context.horizon_h)).encode())
        h.update(repr(self._anchor_from_meta()).encode())
        if self.context.terrain is not None:
            h.update(self.context.terrain.fingerprint().encode())
        if self.compound is not None:
            h.update(self.compound.cache_key().encode())
        return f"typhoon-{h.hexdigest()[:20]}"

    # ------------------------------------------------------------------ where and when
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

    def city_for(self, sites: Sites) -> tuple[float, float]:
        """The city's (lon, lat) for ``sites``: config, anchor, else the sites' centroid."""
        if self.config.city_lonlat is not None or self._anchor_from_meta() is not None:
            return self.city_lonlat()
        fallback = None
        if len(sites):
            from pyproj import Transformer

            to_ll = Transformer.from_crs(sites.crs, "EPSG:4326", always_xy=True)
            lon, lat = to_ll.transform(float(np.mean(sites.x_m)), float(np.mean(sites.y_m)))
            fallback = (float(lon), float(lat))
        return self.city_lonlat(fallback)

    def timeline(self, city: tuple[float, float]) -> StormTimeline:
        """The storm on the scenario's clock for a city location (cached per location)."""
        key = (round(city[0], 9), round(city[1], 9))
        if key not in self._timelines:
            self._timelines[key] = build_timeline(self.base_track, self.config, city,
                                                  self.context.horizon_h)
        return self._timelines[key]

    def _steps(self, tl: StormTimeline) -> StormSteps | None:
        inside = tl.inside
        if not inside.any():
            return None
        return storm_steps(tl.track, tl.times[inside], profile=self.config.profile,
                           coriolis=self.config.coriolis, rmw_model=self.config.rmw_model)

    def z0_at(self, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
        """Roughness length (m) at projected points (x, y) in ``crs`` (see :mod:`.exposure`)."""
        return self.exposure.z0_at(x, y, crs)

    # ------------------------------------------------------------------ sizes
    def _check_sizes(self, tl: StormTimeline, n_sites: int) -> None:
        """Refuse, before any work, outputs that do not fit in memory."""
        check_memory((len(tl.times_h), max(n_sites, 1)), _BYTES_PER_SITE_STEP,
                     where="typhoon step_min", what="site x step wind field",
                     hint="use a coarser step_min or fewer sites", error=HazardError)
        if self.context.terrain is not None:
            _, shape, _ = self._decimated_grid()
            # the grid's values plus the kernel's two outputs for the steps inside the track
            check_memory((len(tl.times_h), shape[0] * shape[1]), 12,
                         where="typhoon grid_max_cells", what="step x cell gust grid",
                         hint="use a coarser step_min or a smaller grid_max_cells",
                         error=HazardError)

    # ------------------------------------------------------------------ compute
    def check(self, sites: Sites) -> None:
        """Cheap validation for ``twin validate``: read and select the storm, apply the
        transforms, find the closest approach (warns for a far track) and check that the
        outputs fit in memory; no field is computed."""
        tl = self.timeline(self.city_for(sites))
        self._check_sizes(tl, len(sites))
        self._warn(tl)

    def compute(self, sites: Sites) -> HazardField:
        """Wind at ``sites`` and, with a ``flood`` block, the rain-driven flood depth."""
        tl = self.timeline(self.city_for(sites))
        self._check_sizes(tl, len(sites))
        self._warn(tl)
        wind = self._wind_field(sites, tl)
        if self.compound is None:
            return wind
        surge = self.surge_series() if self.compound.surge_edge is not None else None
        return self.compound.run(sites, wind, tl, surge=surge, key=self.cache_key())

    def _warnings(self, tl: StormTimeline) -> list[str]:
        """What the user should know about this run: a far track, a storm without size."""
        out = [tl.far_warning] if tl.far_warning else []
        if self.config.profile == "auto" and not self.sized:
            out.append(no_size_warning(self.base_track))
        return out

    def _warn(self, tl: StormTimeline) -> None:
        for msg in self._warnings(tl):
            warnings.warn(msg, TyphoonWarning, stacklevel=3)

    def _wind_field(self, sites: Sites, tl: StormTimeline) -> HazardField:
        from pyproj import Transformer

        pts = sample_sites(sites, self.config.edge_sample_m)
        lon, lat = Transformer.from_crs(sites.crs, "EPSG:4326", always_xy=True).transform(
            pts.x, pts.y)
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        fac, gfac = self.exposure.factors(self.exposure.z0_at(pts.x, pts.y, sites.crs))
        fac = fac * self.exposure.speed_up(pts.x, pts.y, sites.crs)
        T, n = len(tl.times_h), len(sites)
        sust = np.zeros((T, n), dtype=np.float32)
        gust = np.zeros((T, n), dtype=np.float32)
        steps = self._steps(tl)
        inside = tl.inside
        if steps is not None and n:
            cum = np.searchsorted(pts.owner, np.arange(n + 1))  # first point of each site
            budget = max(1, POINT_STEPS_PER_CHUNK // len(steps))
            s0 = 0
            while s0 < n:  # chunks of whole sites, bounded memory
                s1 = max(s0 + 1, int(np.searchsorted(cum, cum[s0] + budget, side="right")) - 1)
                a, b = int(cum[s0]), int(cum[s1])
                s_pts, g_pts = wind_at_sites(steps, lat[a:b], lon[a:b], site_factor=fac[a:b],
                                             site_gust=gfac[a:b],
                                             inflow_deg=self.config.inflow_deg,
                                             max_distance_km=self.config.max_distance_km)
                owner = pts.owner[a:b] - s0
                sust[inside, s0:s1] = site_max(s_pts, owner, s1 - s0)
                gust[inside, s0:s1] = site_max(g_pts, owner, s1 - s0)
                s0 = s1
        grids = {}
        if self.context.terrain is not None and steps is not None:
            grids[IntensityMeasure.GUST_MPS] = self._gust_grid(steps, tl)
        track = tl.track
        meta = {
            "kind": self.kind,
            "storm": {"id": track.id, "name": track.name, "season": track.season,
                      "basin": track.basin, "source": str(self._track_path)},
            "track_notes": list(track.notes),
            "closest_approach_utc": np.datetime_as_string(tl.closest_approach_utc) + "Z",
            "closest_approach_km": tl.closest_approach_m / 1000.0,
            "city_lonlat": list(tl.city_lonlat),
            "profile": steps.profile if steps is not None else self.config.profile,
            # False: no wind radii, the size comes from the pressure profile (a fallback)
            "size_from_wind_radii": steps is not None and steps.radii is not None,
            "roughness": self.config.roughness.source,
            "max_gust_mps": float(gust.max()) if gust.size else 0.0,
        }
        # for views: the (transformed) track in scenario hours
        path = StormTrack(tl.hours_of(track.times).astype(float),
                          np.column_stack([track.lon, track.lat]).astype(float))
        return HazardField(tl.times_h.astype(float),
                           {IntensityMeasure.SUSTAINED_WIND_MPS: sust,
                            IntensityMeasure.GUST_MPS: gust}, grids=grids, meta=meta,
                           t0_utc=np.datetime_as_string(tl.t0) + "Z", track=path,
                           warnings=tuple(self._warnings(tl)))

    def _decimated_grid(self) -> tuple[tuple[float, ...], tuple[int, int], str]:
        t = self.context.terrain
        ny, nx = t.shape
        stride = max(1, math.ceil(math.sqrt(ny * nx / self.config.grid_max_cells)))
        a, b, c0, d, e, f0 = t.transform
        tr = (a * stride, b * stride, c0, d * stride, e * stride, f0)
        return tr, (math.ceil(ny / stride), math.ceil(nx / stride)), t.crs

    def _gust_grid(self, steps: StormSteps, tl: StormTimeline) -> GridSeries:
        tr, shape, crs = self._decimated_grid()
        lon, lat = grid_lonlat(tr, shape, crs)
        a, b, c0, d, e, f0 = tr
        col, row = np.meshgrid(np.arange(shape[1]) + 0.5, np.arange(shape[0]) + 0.5)
        z0 = self.exposure.z0_at((a * col + b * row + c0).ravel(),
                                 (d * col + e * row + f0).ravel(), crs)
        fac, gfac = self.exposure.factors(z0)
        fac = fac * self.exposure.speed_up((a * col + b * row + c0).ravel(),
                                           (d * col + e * row + f0).ravel(), crs)
        _, g = wind_at_sites(steps, lat.ravel(), lon.ravel(), site_factor=fac, site_gust=gfac,
                             inflow_deg=self.config.inflow_deg,
                             max_distance_km=self.config.max_distance_km)
        values = np.zeros((len(tl.times_h), *shape), dtype=np.float32)
        values[tl.inside] = g.reshape(-1, *shape)
        return GridSeries(IntensityMeasure.GUST_MPS, tl.times_h.astype(float), values,
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
        tl = self.timeline(self.city_lonlat((float(clon), float(clat))))
        return rain_on_grid(tl.track, tl.times, tl.times_h * 3600.0, transform, shape, crs,
                            max_distance_km=self.config.max_distance_km)

    def surge_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(times_s, stage_m) of the coastal stage: the configured file interpolated to the
        hazard's times (its first/last values held outside its span) plus ``tide_m``, or
        the parametric model at ``surge.lonlat``."""
        s = self.config.surge
        if s is None:
            raise HazardError("no surge configured (add a 'surge' block)", where="typhoon")
        tl = self.timeline(self.city_lonlat(s.lonlat))
        times_s = tl.times_h * 3600.0
        if s.file is not None:
            return times_s, self._surge_from_file(tl) + s.tide_m
        out = np.full(len(times_s), s.tide_m)
        steps = self._steps(tl)
        if steps is not None:
            lon, lat = s.lonlat
            out[tl.inside] = surge_stage(steps, lat, lon, shore_normal_deg=s.shore_normal_deg,
                                         shelf_width_km=s.shelf_width_km,
                                         shelf_depth_m=s.shelf_depth_m, tide_m=s.tide_m)
        return times_s, out

    def _surge_from_file(self, tl: StormTimeline) -> np.ndarray:
        """The surge file's stage at the timeline's steps (first/last values held)."""
        import pandas as pd

        where = str(self._surge_path)
        try:
            df = pd.read_csv(self._surge_path)
            tt = pd.to_datetime(df["time_utc"], utc=True).dt.tz_localize(None)
            stage = pd.to_numeric(df["stage_m"]).to_numpy(dtype=float)
        except (KeyError, ValueError, OSError, UnicodeDecodeError,
                pd.errors.ParserError) as ex:
            raise HazardError(f"surge file needs columns time_utc, stage_m: {ex}",
                              where=where) from None
        if len(stage) == 0:
            raise HazardError("surge file has no rows", where=where)
        if not np.all(np.isfinite(stage)) or np.any(np.abs(stage) > 30.0):
            i = int(np.argmax(~np.isfinite(stage) | (np.abs(stage) > 30.0)))
            raise HazardError(f"stage_m {stage[i]} is not a plausible water level (|stage| "
                              "<= 30 m)", where=f"{where}:{i + 2}")
        ts = (tt.to_numpy().astype("datetime64[s]") - tl.t0).astype(np.int64).astype(float)
        if np.any(np.diff(ts) <= 0):
            raise HazardError("surge times must strictly increase", where=where)
        return np.interp(tl.times_h * 3600.0, ts, stage)
