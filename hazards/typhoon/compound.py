"""The compound hazard: the storm's R-CLIPER rain (and surge stage) driving the flood solver.

With a ``flood:`` block (the fields of a ``type: flood`` block except ``type`` and
``rain``, validated by :class:`hazards.flood.config.FloodConfig`), the flood solver runs on
the city's terrain (or the block's ``dem``) from scenario hour ``flood_start_h`` for
``duration_h``, forced by the storm's rain on the flood grid (a ``RainfallRaster``, frames
every ``step_min``) and, when ``surge`` is configured, by the surge stage on
``surge.flood_edge``. ``FLOOD_DEPTH_M`` joins the wind measures on the union of both time
axes (linear in time; wind 0 after the track, depth 0 before the solver starts and, after
its end, its last depths held or, with ``flood_recession_h``, receding linearly to 0).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from common.errors import HazardError
from hazards.base import GridSeries, HazardContext, HazardField, IntensityMeasure, Sites
from hazards.typhoon.config import TyphoonConfig
from hazards.typhoon.rain import rain_on_grid
from hazards.typhoon.timeline import StormTimeline

#: bumped when the compound (wind + rain-driven flood) coupling changes
COMPOUND_VERSION = "typhoon-compound-1"


class CompoundFlood:
    """The flood part of a typhoon scenario: the flood hazard of the ``flood`` block (paths
    resolved, grid and forcings built, no rain: the storm's rain is added per run)."""

    def __init__(self, config: TyphoonConfig, context: HazardContext) -> None:
        from hazards.flood.config import FloodConfig
        from hazards.flood.hazard import FloodHazard

        self.config = config
        cfg = FloodConfig.model_validate({**(config.flood or {}), "type": "flood"})
        if cfg.dem is None and context.terrain is None:
            raise HazardError("the compound flood needs the city's terrain or a 'dem'",
                              where="typhoon flood")
        self.flood = FloodHazard.from_config(cfg, context)
        edge = self.surge_edge
        if edge is not None:
            fm = self.flood.model
            taken = set(fm.outflow_edges) | {s.edge for s in fm.stages if s.edge}
            if edge in taken:
                raise HazardError(
                    f"edge {edge} of the flood grid already has a boundary condition "
                    f"(outflow_edges/stage_boundaries); the surge needs it: set "
                    "surge.flood_edge to another edge or null", where="typhoon flood")

    @property
    def surge_edge(self) -> str | None:
        """The flood grid's edge that carries the surge stage, or None."""
        s = self.config.surge
        return None if s is None else s.flood_edge

    def cache_key(self) -> str:
        """The flood's own key (its grid, files and parameters) and the coupling version."""
        return COMPOUND_VERSION + self.flood.cache_key()

    def rain(self, timeline: StormTimeline):
        """The storm's rain on the flood grid as the solver's forcing: a
        :class:`hazards.flood.RainfallRaster` whose frames start at ``flood_start_h``
        (solver time 0) and step every ``step_min`` over the flood's ``duration_h``."""
        from hazards.flood.forcing import RainfallRaster

        grid = self.flood.model.grid
        step_s = self.config.step_min * 60.0
        rel_s = np.arange(0.0, self.flood.config.duration_h * 3600.0, step_s)
        times = timeline.t0 + np.round(self.config.flood_start_h * 3600.0 + rel_s).astype(
            np.int64).astype("timedelta64[s]")
        rs = rain_on_grid(timeline.track, times, rel_s, grid.transform, grid.shape, grid.crs,
                          max_distance_km=self.config.max_distance_km)
        return RainfallRaster.from_frames(rel_s, rs.rain_mmh, shape=grid.shape)

    def rain_before_start_mm(self, timeline: StormTimeline) -> float:
        """Largest rain depth (mm) that fell on the flood grid before ``flood_start_h``
        (neglected by the solver), on every 8th cell."""
        start_h = self.config.flood_start_h
        if start_h <= 0:
            return 0.0
        grid = self.flood.model.grid
        a, b, c0, d, e, f0 = grid.transform
        k = 8
        tr = (a * k, b * k, c0, d * k, e * k, f0)
        shape = (-(-grid.shape[0] // k), -(-grid.shape[1] // k))
        step_h = self.config.step_min / 60.0
        rel_h = np.arange(0.0, start_h, step_h)
        times = timeline.t0 + np.round(rel_h * 3600.0).astype(np.int64).astype(
            "timedelta64[s]")
        rs = rain_on_grid(timeline.track, times, rel_h * 3600.0, tr, shape, grid.crs,
                          max_distance_km=self.config.max_distance_km)
        dt_h = np.diff(np.append(rel_h, start_h))
        return float((rs.rain_mmh * dt_h[:, None, None]).sum(axis=0).max(initial=0.0))

    def run(self, sites: Sites, wind: HazardField, timeline: StormTimeline, *,
            surge: tuple[np.ndarray, np.ndarray] | None, key: str) -> HazardField:
        """Run the flood solver with the storm's rain (and the surge stage ``(times_s,
        stage_m)`` on :attr:`surge_edge`) and merge its depths with ``wind`` on one time
        axis; ``key`` is the typhoon's cache key (the solver caches under it)."""
        from hazards.flood.forcing import StageBoundary, TimeSeries
        from hazards.flood.hazard import FloodHazard

        start_h = self.config.flood_start_h
        raster = self.rain(timeline)
        model = self.flood.model
        stages = tuple(model.stages)
        edge = self.surge_edge
        if edge is not None and surge is not None:
            ts, stage = surge
            stages += (StageBoundary("typhoon_surge", TimeSeries(ts - start_h * 3600.0, stage),
                                     edge=edge),)
        solver = FloodHazard(self.flood.config, dataclasses.replace(
            model, rain=(*model.rain, raster), stages=stages), key=key)
        flood = solver.compute(sites)
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
        intensity = {m: resample(wt, a, times, after="zero") for m, a in wind.intensity.items()}
        intensity[IntensityMeasure.FLOOD_DEPTH_M] = resample(ft, depth, times, after="hold")
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
            "rain_before_start_max_mm": self.rain_before_start_mm(timeline),
            "max_site_depth_m": float(np.nanmax(peak)) if np.isfinite(peak).any() else 0.0,
            "sites_wet_0p3m": int(np.sum(np.nan_to_num(peak) >= 0.3)),
        }
        # the wind's clock and track, and the warnings of both parts (they survive the cache)
        return HazardField(times, intensity, grids=grids, meta=meta, t0_utc=wind.t0_utc,
                           track=wind.track, warnings=(*wind.warnings, *flood.warnings))


def resample(src_t: np.ndarray, values: np.ndarray, dst_t: np.ndarray, *, after: str
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


