"""``FloodHazard``: the flood solver behind the hazard protocol of :mod:`hazards.base`.

``compute(sites)`` runs the solver inside a simpy process that advances it to
every output time (``output_step_h`` apart, from 0 to ``duration_h``) and
samples there:

- ``intensity[FLOOD_DEPTH_M]``: float32 ``(T, n_sites)``, the depth under a
  node site and the maximum depth over the cells along an edge's polyline
  (densified to half a cell by :func:`hazards.sampling.sample_sites`); NaN
  for sites outside the DEM or on NoData. A site inside a building footprint
  reads the water against the building (its open neighbour cells).
- ``grids[FLOOD_DEPTH_M]``: the depth frames as float32; when ``T x ny x nx x
  4`` bytes exceed ``grid_frames_max_mb`` the frames are decimated by an
  integer factor ``k`` (maximum over ``k x k`` blocks, so a flooded street is
  not averaged away), and ``meta["grid_decimation"]`` says ``k``. NaN marks
  NoData cells.

``meta`` carries the volume ledger, step count and grid facts, and
``HazardField.warnings``: one line when the DEM covers only part of the sites (a DEM
that covers none of them is an error, never 100 % service).

Before any work, the outputs are sized against the free memory (sites x output
times, the depth frames); ``check(sites)`` does the same for ``twin validate``
without running the solver.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel

from common.digest import file_digest
from common.errors import HazardError
from common.rasters import check_memory
from hazards.base import GridSeries, HazardContext, HazardField, IntensityMeasure, Sites
from hazards.flood.config import FloodConfig, FloodModel, build_model, resolve_paths
from hazards.flood.geometry import SiteSampler
from hazards.sampling import sample_sites


class FloodWarning(UserWarning):
    """A flood input that runs but is probably not what the user meant (one line)."""

#: Bumped whenever the solver's results change for the same inputs.
SOLVER_VERSION = "flood-local-inertial-1"


def output_times_h(duration_h: float, step_h: float) -> np.ndarray:
    """0, step, 2 step, ..., ending exactly at ``duration_h``."""
    n = int(np.floor(duration_h / step_h + 1e-9))
    t = np.arange(n + 1) * step_h
    if duration_h - t[-1] > 1e-9 * max(1.0, duration_h):
        t = np.append(t, duration_h)
    return t


def block_max(a: np.ndarray, k: int) -> np.ndarray:
    """Maximum over ``k x k`` blocks (NaN ignored unless a block is all NaN)."""
    if k == 1:
        return a
    ny, nx = a.shape
    py, px = -ny % k, -nx % k
    p = np.pad(a, ((0, py), (0, px)), constant_values=np.nan)
    b = p.reshape(p.shape[0] // k, k, p.shape[1] // k, k)
    return np.fmax.reduce(np.fmax.reduce(b, axis=3), axis=1)


class FloodHazard:
    """Pluvial, fluvial and coastal flooding from a local-inertial 2-D solver.

    Build with :meth:`from_config`. Deterministic: the same inputs give the same
    field, identified by :meth:`cache_key`. Depths in metres, times in hours.
    """

    kind: ClassVar[str] = "flood"
    Config: ClassVar[type[BaseModel]] = FloodConfig

    def __init__(self, config: FloodConfig, model: FloodModel, *, key: str) -> None:
        self.config = config
        self.model = model
        self._key = key

    @classmethod
    def from_config(cls, config: BaseModel, context: HazardContext) -> FloodHazard:
        """Resolve paths against ``context.base_dir``, read the DEM (or the city's
        terrain) in ``context.crs`` and prepare the forcings."""
        if not isinstance(config, FloodConfig):
            config = FloodConfig.model_validate(
                config.model_dump() if isinstance(config, BaseModel) else config)
        cfg = resolve_paths(config, Path(context.base_dir))
        terrain = context.terrain if cfg.dem is None else None
        model = build_model(cfg, terrain=terrain, city_crs=context.crs, coords_crs=context.crs)
        return cls(cfg, model, key=_cache_key(cfg, terrain, context.crs))

    def cache_key(self) -> str:
        """sha256 over every input: DEM/terrain bytes, forcing files, parameters."""
        return self._key

    def check(self, sites: Sites) -> None:
        """Cheap validation for ``twin validate``: the output sizes fit in memory and the
        DEM covers the city's sites (warns for a partial cover, raises for none); the
        solver does not run."""
        times_h = output_times_h(self.config.duration_h, self.config.output_step_h)
        self._check_sizes(len(sites), len(times_h))
        self._coverage_warning(self._sampler(sites))

    def _sampler(self, sites: Sites) -> SiteSampler:
        """Depth reader at the sites: points every half cell along edges (so a line sees
        every cell it crosses), in the grid's CRS."""
        m = self.model
        step = 0.5 * min(m.grid.dx_m, m.grid.dy_m)
        points = sample_sites(sites, step).to_crs(m.grid.crs)
        return SiteSampler(m.grid, points, nodata=m.nodata, obstacle=m.obstacle)

    def _check_sizes(self, n_sites: int, n_times: int) -> int:
        """Refuse outputs that do not fit in memory (before any work); returns the frame
        decimation ``k`` that keeps the stored depth frames within ``grid_frames_max_mb``."""
        ny, nx = self.model.grid.shape
        where = "flood.output_step_h"
        check_memory((n_times, max(n_sites, 1)), 4, where=where,
                     what="series of depth at sites (output times x sites)",
                     hint="give a larger output_step_h or a shorter duration_h",
                     error=HazardError)
        budget = self.config.grid_frames_max_mb * 2**20
        if n_times * 4 > budget:
            raise HazardError(
                f"{n_times} output times do not fit in grid_frames_max_mb "
                f"{self.config.grid_frames_max_mb:g} even at one cell per frame; give a larger "
                "output_step_h", where=where)
        k = 1
        while n_times * -(-ny // k) * -(-nx // k) * 4 > budget:
            k += 1  # ends: at k = max(ny, nx) a frame is one cell, which fits (checked above)
        # what the frames really take: a large budget on a small grid costs nothing
        check_memory((n_times, -(-ny // k), -(-nx // k)), 4, where="flood.grid_frames_max_mb",
                     what="stack of depth frames (output times x rows x columns)",
                     hint="give a smaller grid_frames_max_mb or a larger output_step_h",
                     error=HazardError)
        return k

    def _coverage_warning(self, sampler: SiteSampler) -> str | None:
        """Warn (and return the one line) when the DEM covers only some of the sites;
        raise when it covers none: a flood that cannot reach the city is a wrong input,
        not 100 % service."""
        n = sampler.n_sites
        if n == 0:
            return None
        inside = int(np.count_nonzero(sampler.inside))
        xmin, ymin, xmax, ymax = self.model.grid.bounds()
        extent = (f"x {xmin:.0f}..{xmax:.0f}, y {ymin:.0f}..{ymax:.0f} in "
                  f"{self.model.grid.crs}")
        if inside == 0:
            raise HazardError(f"the DEM ({extent}) covers none of the city's {n} sites; check "
                              "the DEM's extent and CRS", where="flood.dem")
        if inside == n:
            return None
        msg = (f"flood: the DEM ({extent}) covers {inside} of the city's {n} sites; "
               f"{100.0 * (n - inside) / n:.1f} % lie outside it and will read no flooding")
        warnings.warn(msg, FloodWarning, stacklevel=3)
        return msg

    def compute(self, sites: Sites, *, progress: bool | None = None) -> HazardField:
        """Run the flood and report depth at ``sites`` at every output time.

        ``progress``: a tqdm bar on stderr over simulated hours (True: always,
        False: never; None, the default: when stderr is a terminal, or as the
        environment variable ``TWIN_PROGRESS`` says, ``1``/``0``).
        """
        import simpy

        m = self.model
        grid = m.grid
        times_h = output_times_h(self.config.duration_h, self.config.output_step_h)
        k = self._check_sizes(len(sites), len(times_h))
        sampler = self._sampler(sites)
        coverage = self._coverage_warning(sampler)
        ny, nx = grid.shape
        frames = np.empty((len(times_h), -(-ny // k), -(-nx // k)), dtype=np.float32)
        at_sites = np.empty((len(times_h), len(sites)), dtype=np.float32)
        solver = m.solver(track_maxima=False)
        nodata = m.nodata

        def record(idx: int) -> None:
            depth = solver.h
            at_sites[idx] = sampler.sample(depth)
            d = np.where(nodata, np.nan, depth)
            frames[idx] = block_max(d, k).astype(np.float32)

        bar = _progress_bar(self.config.duration_h, progress,
                            desc=f"flood {ny}x{nx} cells of {grid.dx_m:.0f} m")

        def tick(s) -> None:
            if s.n_steps % 25 == 0:  # tqdm redraws at most every mininterval seconds
                bar.update(s.time_s / 3600.0 - bar.n)

        def run(env: simpy.Environment):
            for idx, t_h in enumerate(times_h):
                if t_h > env.now:
                    yield env.timeout(t_h - env.now)
                solver.advance_to(float(t_h) * 3600.0, on_step=tick)
                record(idx)
                bar.update(float(t_h) - bar.n)

        env = simpy.Environment()
        env.process(run(env))
        try:
            env.run()
        finally:
            bar.close()

        a, b, c, d, e, f = grid.transform
        grid_series = GridSeries(IntensityMeasure.FLOOD_DEPTH_M, times_h.copy(), frames,
                                 (a * k, b, c, d, e * k, f), grid.crs)
        led = solver.ledger
        meta = {
            "hazard": self.kind,
            "solver": SOLVER_VERSION,
            "cache_key": self._key,
            "grid_shape": (ny, nx),
            "cell_size_m": (grid.dx_m, grid.dy_m),
            "grid_decimation": k,
            "dem_coarsening": m.coarsening,
            "n_steps": solver.n_steps,
            "cell_updates": solver.cell_updates,
            "volume_ledger_m3": {
                "initial": led.initial_m3, "rain": led.rain_m3, "inflow": led.inflow_m3,
                "losses": led.loss_m3,
                "boundary_in": led.boundary_in_m3, "boundary_out": led.boundary_out_m3,
                "storage": led.storage_m3, "error": led.error_m3},
        }
        return HazardField(times_h, {IntensityMeasure.FLOOD_DEPTH_M: at_sites},
                           grids={IntensityMeasure.FLOOD_DEPTH_M: grid_series}, meta=meta,
                           warnings=(coverage,) if coverage else ())


def _progress_bar(total_h: float, progress: bool | None, *, desc: str):
    """A tqdm bar on stderr over simulated hours (see :meth:`FloodHazard.compute`)."""
    import os
    import sys

    from tqdm import tqdm

    if progress is None:
        env = os.environ.get("TWIN_PROGRESS", "").strip().lower()
        if env in ("1", "true", "yes", "on"):
            progress = True
        elif env in ("0", "false", "no", "off"):
            progress = False
    disable = None if progress is None else not progress  # None: tqdm checks for a TTY
    return tqdm(total=round(float(total_h), 6), unit="h", file=sys.stderr, disable=disable,
                desc=desc, dynamic_ncols=True, mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} h simulated "
                           "[{elapsed}<{remaining}]")


def _digest_paths(value: object) -> object:
    """Replace every path in a dumped config by the sha256 of the file's bytes."""
    if isinstance(value, Path):
        if not value.exists():
            return f"missing:{value.name}"
        return f"sha256:{file_digest(value, error=HazardError)}"
    if isinstance(value, dict):
        return {k: _digest_paths(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_digest_paths(v) for v in value]
    return value


def _cache_key(config: FloodConfig, terrain: object | None, crs: str) -> str:
    """Stable across machines: file contents, never their absolute paths."""
    h = hashlib.sha256()
    h.update(SOLVER_VERSION.encode())
    h.update(crs.encode())
    dumped = _digest_paths(config.model_dump(mode="python"))
    h.update(json.dumps(dumped, sort_keys=True, default=str).encode())
    if terrain is not None:
        h.update(terrain.fingerprint().encode())  # type: ignore[attr-defined]
    return h.hexdigest()
