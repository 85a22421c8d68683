"""Local-inertial shallow-water solver on a raster (LISFLOOD-FP / Landlab scheme).

Scheme
------
Bates, Horritt & Fewtrell (2010), J. Hydrology 387:33-45, with the
theta-weighted inertial term of de Almeida et al. (2012), Water Resources
Research 48, W05528 (eq. 23; the scheme of Landlab's ``OverlandFlow``)::

    q_new = (theta q + (1-theta)/2 (q_up + q_down) - g h_f dt d(eta)/dx)
            / (1 + g dt n^2 |q| / h_f^(7/3))

on the faces of a raster of cells (staggered grid), with ``h_f = max(eta_i,
eta_j) - max(z_i, z_j)`` and no flux where ``h_f <= min_flow_depth_m``. The time
step is ``dt = alpha min(dx, dy) / sqrt(g h_max)`` (capped by ``max_dt_s``), and
never straddles a change of forcing or an output time.

Mass
----
Depths change only by face fluxes, sources and boundaries. A cell whose
outgoing fluxes would remove more water than it holds has all of its outgoing
fluxes scaled down so that it empties exactly (each face is outgoing for one
cell only, so this is conservative). A :class:`VolumeLedger` counts every volume
that enters or leaves; ``ledger.error_m3`` is round-off (~1e-12 relative).

Work
----
Only rows/columns inside per-row bounds around every cell that has ever been
wet are visited, so a local flood on a large grid costs what the flood covers.
Uniform rain wets the whole grid and so visits it all.

Units: SI (m, s, m3/s); rain in mm/h at the interface, m/s inside.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np

from common.errors import HazardError
from hazards.flood import _kernels as K
from hazards.flood.defaults import DEFAULTS
from hazards.flood.forcing import Hyetograph, Inflow, RainfallRaster, StageBoundary

_EDGE_INDEX = {"N": K.EDGE_N, "E": K.EDGE_E, "S": K.EDGE_S, "W": K.EDGE_W}

#: Steps whose active area (cells inside the bounds) is smaller than this run the
#: serial step kernel (:func:`~hazards.flood._kernels.step_serial`) instead of the
#: chunked parallel one. On the 2-core development machine, shared with other
#: jobs, a 50k-cell step took 0.7 ms serial against 3-20 ms with two OpenMP threads
#: (threads waiting for a busy core); the parallel kernel pays off on large grids only.
PARALLEL_MIN_CELLS = 250_000

#: A CFL time step below this (s) means water thousands of metres deep (a stage or an
#: inflow far beyond a flood, or a blow-up): the run would never end, so it stops with
#: an error. On a 1 m grid the step reaches 1 ms only under ~50 km of water.
MIN_DT_S = 1e-3


@dataclass(frozen=True)
class SolverOptions:
    """Numerical parameters (defaults and their sources: ``hazards/flood/data/defaults.yaml``).

    Attributes
    ----------
    cfl_alpha : float
        Courant factor alpha of ``dt = alpha dx / sqrt(g h_max)``, in (0, 1].
    theta : float
        de Almeida's weighting of the inertial term, in [0, 1] (1: Bates 2010).
    min_flow_depth_m : float
        Faces whose flow depth is at or below this carry no water (m).
    max_dt_s : float
        Upper bound of the time step (s), used while the water is shallow.
    wet_depth_m : float
        Depth above which a cell counts as flooded for arrival time and speed (m).
    gravity_mps2 : float
        Gravitational acceleration (m/s2).
    """

    cfl_alpha: float = DEFAULTS["cfl_alpha"]
    theta: float = DEFAULTS["theta"]
    min_flow_depth_m: float = DEFAULTS["min_flow_depth_m"]
    max_dt_s: float = DEFAULTS["max_dt_s"]
    wet_depth_m: float = DEFAULTS["wet_depth_m"]
    gravity_mps2: float = DEFAULTS["gravity_mps2"]

    def __post_init__(self) -> None:
        if not 0.0 < self.cfl_alpha <= 1.0:
            raise HazardError(f"cfl_alpha {self.cfl_alpha} must be in (0, 1]")
        if not 0.0 <= self.theta <= 1.0:
            raise HazardError(f"theta {self.theta} must be in [0, 1]")
        if self.min_flow_depth_m < 0:
            raise HazardError(f"min_flow_depth_m {self.min_flow_depth_m} must be >= 0")
        if self.max_dt_s <= 0:
            raise HazardError(f"max_dt_s {self.max_dt_s} must be > 0")
        if self.wet_depth_m <= 0:
            raise HazardError(f"wet_depth_m {self.wet_depth_m} must be > 0")


@dataclass
class VolumeLedger:
    """Every volume (m3) that entered or left the domain since the start.

    Invariant (up to round-off): ``storage_m3 - initial_m3 == rain_m3 + inflow_m3
    + boundary_in_m3 - boundary_out_m3 - loss_m3 + roundoff_m3``; ``loss_m3`` is
    what drainage and infiltration took (``loss_rate_mmh``). ``boundary_*`` counts the
    domain edges and the cells forced by stage boundaries; ``roundoff_m3`` is
    what clamping depths of ~1e-17 m to zero added.
    """

    initial_m3: float = 0.0
    rain_m3: float = 0.0
    inflow_m3: float = 0.0
    loss_m3: float = 0.0
    boundary_in_m3: float = 0.0
    boundary_out_m3: float = 0.0
    roundoff_m3: float = 0.0
    storage_m3: float = 0.0

    @property
    def error_m3(self) -> float:
        """Storage change minus the net of all counted volumes (m3)."""
        return (self.storage_m3 - self.initial_m3) - (
            self.rain_m3 + self.inflow_m3 + self.boundary_in_m3 - self.boundary_out_m3
            - self.loss_m3 + self.roundoff_m3)

    @property
    def relative_error(self) -> float:
        """``error_m3`` over the largest volume moved (0 when nothing moved)."""
        scale = max(self.initial_m3, self.rain_m3 + self.inflow_m3 + self.boundary_in_m3,
                    self.boundary_out_m3, self.storage_m3)
        return abs(self.error_m3) / scale if scale > 0 else 0.0

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (f"volume balance: initial {self.initial_m3:.6g} + rain {self.rain_m3:.6g} "
                f"+ inflow {self.inflow_m3:.6g} + boundary in {self.boundary_in_m3:.6g} "
                f"- boundary out {self.boundary_out_m3:.6g} - losses {self.loss_m3:.6g} "
                f"= storage {self.storage_m3:.6g} m3 "
                f"(error {self.error_m3:.3g} m3, relative {self.relative_error:.2e})")


@dataclass
class _Scratch:
    row_nflag: np.ndarray
    row_bin: np.ndarray
    row_bout: np.ndarray
    row_clamp: np.ndarray
    row_hmax: np.ndarray
    row_wlo: np.ndarray
    row_whi: np.ndarray
    extra: dict = field(default_factory=dict)


def state_bytes_per_cell(*, track_maxima: bool = True) -> int:
    """Bytes the solver allocates per grid cell (for the memory check)."""
    # z, h, n, fscale (8 each), 2 buffers of qx and qy (~32), wall and face flags (~3)
    per = 8 * 4 + 32 + 3
    if track_maxima:
        per += 8 * 3
    return per


class FloodSolver:
    """Local-inertial flood solver on a raster; float64 state.

    Parameters
    ----------
    elevation_m : ndarray (ny, nx)
        Bed elevation (m); row 0 at the north edge. Must be finite on every
        cell that is not a wall.
    dx_m, dy_m : float
        Cell width (x, columns) and height (y, rows) in metres.
    wall : ndarray of bool (ny, nx), optional
        Cells that hold no water (NoData, buildings).
    manning : float or ndarray (ny, nx)
        Manning's n (s m^-1/3) per cell; faces use the mean of their two cells.
    depth_m : ndarray (ny, nx), optional
        Initial water depth (m, >= 0; zero on walls).
    rain : sequence of Hyetograph or RainfallRaster
        Rain forcings; they add up.
    inflows : sequence of Inflow
        Discharge sources.
    stages : sequence of StageBoundary
        Imposed water levels on edges or cells.
    outflow_edges : iterable of "N", "E", "S", "W"
        Edges that let water leave freely; other edges without a stage are walls.
    options : SolverOptions
        Numerical parameters.
    track_maxima : bool
        Keep per-cell maximum depth, maximum speed and arrival time.
    loss_rate_mmh : float or ndarray (ny, nx)
        Drainage and infiltration (mm/h) taken from each cell's water every step,
        at most what the cell holds; counted in ``ledger.loss_m3``.

    Invariants: ``time_s`` only grows; ``depth_m >= 0``; walls stay dry; the
    ledger balances to round-off.
    """

    def __init__(
        self,
        elevation_m: np.ndarray,
        *,
        dx_m: float,
        dy_m: float | None = None,
        wall: np.ndarray | None = None,
        manning: float | np.ndarray = DEFAULTS["manning_n"],
        depth_m: np.ndarray | None = None,
        rain: Sequence[Hyetograph | RainfallRaster] = (),
        inflows: Sequence[Inflow] = (),
        stages: Sequence[StageBoundary] = (),
        outflow_edges: Sequence[str] = (),
        options: SolverOptions | None = None,
        track_maxima: bool = True,
        loss_rate_mmh: float | np.ndarray = 0.0,
    ) -> None:
        z = np.asarray(elevation_m, dtype=np.float64)
        if z.ndim != 2 or min(z.shape) < 1:
            raise HazardError(f"elevation must be a 2-D grid, got shape {z.shape}")
        ny, nx = z.shape
        self.shape = (ny, nx)
        self.dx_m = float(dx_m)
        self.dy_m = float(dx_m if dy_m is None else dy_m)
        if not (self.dx_m > 0 and self.dy_m > 0):
            raise HazardError(f"cell size must be > 0, got {self.dx_m} x {self.dy_m} m")
        self.cell_area_m2 = self.dx_m * self.dy_m
        self.options = options or SolverOptions()
        w = np.zeros((ny, nx), dtype=bool) if wall is None else np.asarray(wall, dtype=bool)
        if w.shape != z.shape:
            raise HazardError(f"wall mask shape {w.shape} differs from the grid {z.shape}")
        bad = ~np.isfinite(z) & ~w
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise HazardError(
                f"elevation is not finite at row {r}, col {c} and the cell is not a wall; "
                "choose a NoData rule (wall or nearest)")
        self.wall = np.ascontiguousarray(w.astype(np.uint8))
        self.z = np.ascontiguousarray(np.where(w, 0.0, z))
        self.n_open = int((~w).sum())
        n_arr = np.broadcast_to(np.asarray(manning, dtype=np.float64), (ny, nx))
        if not np.all(np.isfinite(n_arr[~w])) or np.any(n_arr[~w] <= 0) or np.any(
                n_arr[~w] > 1.0):
            raise HazardError("Manning's n must be in (0, 1] s/m^(1/3) on every open cell")
        self.manning = np.ascontiguousarray(np.where(w, 0.0, n_arr))
        if depth_m is None:
            h = np.zeros((ny, nx))
        else:
            h = np.array(depth_m, dtype=np.float64)
            if h.shape != z.shape or not np.all(np.isfinite(h)) or np.any(h < 0):
                raise HazardError("initial depth must be a finite, non-negative grid like the DEM")
            h[w] = 0.0
        self.h = np.ascontiguousarray(h)
        self._qx = [np.zeros((ny, nx + 1)), np.zeros((ny, nx + 1))]
        self._qy = [np.zeros((ny + 1, nx)), np.zeros((ny + 1, nx))]
        self._cur = 0
        self._fscale = np.ones((ny, nx))
        self._starts: np.ndarray | None = None
        self.lo = np.full(ny, nx, dtype=np.int64)
        self.hi = np.zeros(ny, dtype=np.int64)
        self._s = _Scratch(
            row_nflag=np.zeros(ny, dtype=np.int64), row_bin=np.zeros(ny), row_bout=np.zeros(ny),
            row_clamp=np.zeros(ny), row_hmax=np.zeros(ny),
            row_wlo=np.full(ny, nx, dtype=np.int64), row_whi=np.full(ny, -1, dtype=np.int64))
        lr = np.broadcast_to(np.asarray(loss_rate_mmh, dtype=np.float64), (ny, nx))
        if not np.all(np.isfinite(lr)) or np.any(lr < 0):
            raise HazardError("loss rates must be finite and >= 0 mm/h")
        self._has_losses = bool(np.any(lr[~w] > 0))
        self._loss_ms = np.ascontiguousarray(np.where(w, 0.0, lr) / 3.6e6) \
            if self._has_losses else np.zeros((1, 1))
        self.track_maxima = bool(track_maxima)
        if self.track_maxima:
            self.max_depth_m = np.zeros((ny, nx))
            self.max_speed_mps = np.zeros((ny, nx))
            self.arrival_time_s = np.full((ny, nx), np.nan)
        else:
            dummy = np.zeros((1, 1))
            self.max_depth_m = self.max_speed_mps = self.arrival_time_s = dummy

        # ---- forcings
        self._hyetos = [r for r in rain if isinstance(r, Hyetograph)]
        self._rasters = [r for r in rain if isinstance(r, RainfallRaster)]
        for r in rain:
            if not isinstance(r, (Hyetograph, RainfallRaster)):
                raise HazardError(f"rain forcing of type {type(r).__name__} is not supported")
        for rr in self._rasters:
            if rr.rate_mmh.shape[1:] != (ny, nx):
                raise HazardError(
                    f"rain raster frames {rr.rate_mmh.shape[1:]} do not match the grid {(ny, nx)}")
        self._rain_field = np.zeros((ny, nx)) if self._rasters else np.zeros((1, 1))
        self._raster_frame = [-2] * len(self._rasters)
        # per raster and frame: open-cell sum of intensity (m/s) and per-row column bounds
        self._raster_info = [self._raster_frames_info(rr) for rr in self._rasters]
        self._full_bounds = False

        self.inflows = list(inflows)
        for src in self.inflows:
            self._check_cells(src.rows, src.cols, f"inflow {src.name!r}")
        if self.inflows:
            self._src_rows = np.concatenate([s.rows for s in self.inflows]).astype(np.int64)
            self._src_cols = np.concatenate([s.cols for s in self.inflows]).astype(np.int64)
            self._src_w = np.concatenate([s.weights for s in self.inflows]).astype(np.float64)
            self._src_of = np.concatenate(
                [np.full(len(s.rows), k) for k, s in enumerate(self.inflows)]).astype(np.int64)
        self.edge_kind = np.zeros(4, dtype=np.int64)
        self.edge_eta = np.zeros(4)
        for e in outflow_edges:
            if e not in _EDGE_INDEX:
                raise HazardError(f"outflow edge {e!r} is not one of N, E, S, W")
            self.edge_kind[_EDGE_INDEX[e]] = K.EDGE_FREE
        self._edge_stages: list[tuple[int, StageBoundary, float]] = []
        cell_stages = []
        for sb in stages:
            if sb.edge is not None:
                k = _EDGE_INDEX[sb.edge]
                if self.edge_kind[k] != K.EDGE_CLOSED:
                    raise HazardError(
                        f"edge {sb.edge} has two boundary conditions (outflow and/or stage)")
                self.edge_kind[k] = K.EDGE_STAGE
                zb = self._edge_bed(k)
                self._edge_stages.append((k, sb, zb))
            else:
                self._check_cells(sb.rows, sb.cols, f"stage boundary {sb.name!r}")
                cell_stages.append(sb)
        self._cell_stages = cell_stages
        if cell_stages:
            self._st_rows = np.concatenate([s.rows for s in cell_stages]).astype(np.int64)
            self._st_cols = np.concatenate([s.cols for s in cell_stages]).astype(np.int64)
            self._st_group = np.concatenate(
                [np.full(len(s.rows), k) for k, s in enumerate(cell_stages)]).astype(np.int64)
            self._st_values = np.zeros(len(cell_stages))

        self._fx, self._fy = K.face_flags(self.wall, self.edge_kind)
        self._breaks = self._collect_breaks()
        self.time_s = 0.0
        self.n_steps = 0
        self.cell_updates = 0
        self.ledger = VolumeLedger()
        self.ledger.initial_m3 = self.ledger.storage_m3 = float(self.h.sum()) * self.cell_area_m2
        # initial bounds, maxima and stage cells
        s = self._s
        s.row_hmax[:] = self.h.max(axis=1)
        wet = self.h > 0
        any_wet = wet.any(axis=1)
        s.row_wlo[:] = np.where(any_wet, wet.argmax(axis=1), nx)
        s.row_whi[:] = np.where(any_wet, nx - 1 - wet[:, ::-1].argmax(axis=1), -1)
        self._apply_cell_stages(0.0)
        # cells along stage edges are always active: water may enter there at any time
        for k, _sb, _zb in self._edge_stages:
            if k == K.EDGE_W:
                s.row_wlo[:] = 0
                s.row_whi[:] = np.maximum(s.row_whi, 0)
            elif k == K.EDGE_E:
                s.row_wlo[:] = np.minimum(s.row_wlo, nx - 1)
                s.row_whi[:] = nx - 1
            else:
                r = 0 if k == K.EDGE_N else ny - 1
                s.row_wlo[r] = 0
                s.row_whi[r] = nx - 1
        K.expand_bounds(self.lo, self.hi, s.row_wlo, s.row_whi, nx)
        self._hmax = float(s.row_hmax.max())

    # ------------------------------------------------------------------ setup helpers
    def _check_cells(self, rows: np.ndarray, cols: np.ndarray, what: str) -> None:
        ny, nx = self.shape
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if rows.size == 0:
            raise HazardError(f"{what} covers no grid cell")
        if rows.min() < 0 or cols.min() < 0 or rows.max() >= ny or cols.max() >= nx:
            raise HazardError(f"{what} has cells outside the grid")
        if self.wall[rows, cols].all():
            raise HazardError(f"{what} lies entirely on wall cells (buildings or NoData)")

    def _edge_bed(self, k: int) -> float:
        if k == K.EDGE_N:
            zz, ww = self.z[0], self.wall[0]
        elif k == K.EDGE_S:
            zz, ww = self.z[-1], self.wall[-1]
        elif k == K.EDGE_W:
            zz, ww = self.z[:, 0], self.wall[:, 0]
        else:
            zz, ww = self.z[:, -1], self.wall[:, -1]
        open_ = ww == 0
        if not open_.any():
            raise HazardError("a stage boundary is set on an edge whose cells are all walls")
        return float(zz[open_].min())

    def _raster_frames_info(self, rr: RainfallRaster) -> list[tuple[float, np.ndarray, np.ndarray]]:
        ny, nx = self.shape
        out = []
        open_ = self.wall == 0
        for k in range(rr.rate_mmh.shape[0]):
            fr = np.asarray(rr.rate_mmh[k], dtype=np.float64) / 3.6e6
            pos = (fr > 0) & open_
            rate_sum = float(fr[pos].sum())
            anyp = pos.any(axis=1)
            lo = np.where(anyp, pos.argmax(axis=1), nx).astype(np.int64)
            hi = np.where(anyp, nx - 1 - pos[:, ::-1].argmax(axis=1), -1).astype(np.int64)
            out.append((rate_sum, lo, hi))
        return out

    def _collect_breaks(self) -> np.ndarray:
        ts = [np.zeros(0)]
        ts += [h.times_s for h in self._hyetos]
        ts += [r.times_s for r in self._rasters]
        ts += [s.hydrograph.times_s for s in self.inflows]
        ts += [sb.stage.times_s for _, sb, _ in self._edge_stages]
        ts += [sb.stage.times_s for sb in self._cell_stages]
        return np.unique(np.concatenate(ts))

    # ------------------------------------------------------------------ state views
    @property
    def qx(self) -> np.ndarray:
        """Unit discharge across x-faces (m2/s, + east), shape (ny, nx+1)."""
        return self._qx[self._cur]

    @property
    def qy(self) -> np.ndarray:
        """Unit discharge across y-faces (m2/s, + south), shape (ny+1, nx)."""
        return self._qy[self._cur]

    @property
    def storage_m3(self) -> float:
        return float(self.h.sum()) * self.cell_area_m2

    def stage_m(self) -> np.ndarray:
        """Water-surface elevation (m); NaN on walls."""
        return np.where(self.wall != 0, np.nan, self.z + self.h)

    # ------------------------------------------------------------------ stepping
    def _apply_cell_stages(self, t_s: float) -> None:
        if not self._cell_stages:
            return
        for k, sb in enumerate(self._cell_stages):
            self._st_values[k] = sb.stage.at(t_s)
        s = self._s
        added, removed = K.force_stage(self.h, self.z, self._st_rows, self._st_cols,
                                       self._st_group, self._st_values, s.row_hmax, s.row_wlo,
                                       s.row_whi)
        self.ledger.boundary_in_m3 += added * self.cell_area_m2
        self.ledger.boundary_out_m3 += removed * self.cell_area_m2

    def _rain_for_step(self, t0: float, dt: float) -> tuple[float, int, float]:
        """Set the rain of the step ``[t0, t0 + dt)``; returns (uniform m/s, use_field, m3)."""
        uniform = sum(h.rate_ms(t0) for h in self._hyetos)
        vol = uniform * self.n_open * self.cell_area_m2 * dt
        if uniform > 0 and not self._full_bounds:
            self.lo[:] = 0
            self.hi[:] = self.shape[1]
            self._full_bounds = True
        use_field = 0
        if self._rasters:
            changed = False
            for k, rr in enumerate(self._rasters):
                f = rr.frame_index(t0)
                if f != self._raster_frame[k]:
                    self._raster_frame[k] = f
                    changed = True
            if changed:
                self._rain_field[:] = 0.0
                for k, rr in enumerate(self._rasters):
                    f = self._raster_frame[k]
                    if f >= 0:
                        self._rain_field += np.asarray(rr.rate_mmh[f], dtype=np.float64) / 3.6e6
                self._rain_field[self.wall != 0] = 0.0
                for k, _rr in enumerate(self._rasters):
                    f = self._raster_frame[k]
                    if f >= 0 and not self._full_bounds:
                        _, lo, hi = self._raster_info[k][f]
                        K.expand_bounds(self.lo, self.hi, lo, hi, self.shape[1])
            for k in range(len(self._rasters)):
                f = self._raster_frame[k]
                if f >= 0:
                    rate_sum = self._raster_info[k][f][0]
                    if rate_sum > 0:
                        use_field = 1
                        vol += rate_sum * self.cell_area_m2 * dt
        return uniform, use_field, vol

    def _next_break(self, t: float) -> float:
        k = int(np.searchsorted(self._breaks, t, side="right"))
        return float(self._breaks[k]) if k < self._breaks.size else math.inf

    def step(self, dt: float) -> None:
        """Advance by exactly ``dt`` seconds (no stability check: use :meth:`advance_to`)."""
        o = self.options
        s = self._s
        ny, nx = self.shape
        t0 = self.time_s
        for k, sb, _zb in self._edge_stages:
            self.edge_eta[k] = sb.stage.at(t0 + 0.5 * dt)
        rain_ms, use_field, rain_m3 = self._rain_for_step(t0, dt)
        qx_o, qy_o = self._qx[self._cur], self._qy[self._cur]
        qx_n, qy_n = self._qx[1 - self._cur], self._qy[1 - self._cur]
        active = int(np.maximum(self.hi - self.lo, 0).sum())
        args = (self.z, self.h, self.wall, self.manning, self._fx, self._fy, qx_o, qy_o, qx_n,
                qy_n, self.lo, self.hi, self.edge_kind, self.edge_eta, dt, self.dx_m, self.dy_m,
                o.gravity_mps2, o.theta, o.min_flow_depth_m, int(self.track_maxima), t0,
                o.wet_depth_m, self.max_depth_m, self.max_speed_mps, self.arrival_time_s,
                rain_ms, self._rain_field, use_field, self._fscale, s.row_nflag, s.row_bin,
                s.row_bout, s.row_clamp, s.row_hmax, s.row_wlo, s.row_whi)
        if active < PARALLEL_MIN_CELLS:
            K.step_serial(*args)
        else:
            K.step_parallel(self._chunk_starts(), *args)
        self.cell_updates += active
        led = self.ledger
        b_out = float(s.row_bout.sum())
        clamp = float(s.row_clamp.sum())
        led.boundary_in_m3 += float(s.row_bin.sum())
        led.boundary_out_m3 += b_out
        led.roundoff_m3 += clamp
        led.rain_m3 += rain_m3
        if self.inflows:
            tm = t0 + 0.5 * dt  # midpoint: exact for piecewise-linear hydrographs
            q = np.array([src.hydrograph.at(tm) for src in self.inflows])
            depth = q[self._src_of] * self._src_w * dt / self.cell_area_m2
            K.add_sources(self.h, self._src_rows, self._src_cols, depth, s.row_hmax, s.row_wlo,
                          s.row_whi)
            led.inflow_m3 += float(q.sum()) * dt
        if self._has_losses:
            led.loss_m3 += K.apply_losses(self.h, self.lo, self.hi, self._loss_ms,
                                          dt) * self.cell_area_m2
        self._apply_cell_stages(t0 + dt)
        K.expand_bounds(self.lo, self.hi, s.row_wlo, s.row_whi, nx)
        self._cur = 1 - self._cur
        self._hmax = float(s.row_hmax.max())
        self.time_s = t0 + dt
        self.n_steps += 1

    def _chunk_starts(self) -> np.ndarray:
        """Row chunks of :func:`~hazards.flood._kernels.step_parallel`: one per thread."""
        nt = numba.get_num_threads()
        if self._starts is None or self._starts.size != nt + 1:
            ny = self.shape[0]
            self._starts = np.linspace(0, ny, min(nt, ny) + 1).round().astype(np.int64)
        return self._starts

    def _deepest_m(self) -> float:
        """The largest depth the CFL condition must respect: cells and stage edges (m)."""
        hmax = self._hmax
        for k, _sb, zb in self._edge_stages:
            hmax = max(hmax, self.edge_eta[k] - zb)
        return hmax

    def stable_dt(self) -> float:
        """The CFL time step for the current state (s), capped by ``max_dt_s``; NaN when
        the state is not finite."""
        o = self.options
        hmax = self._deepest_m()
        if not math.isfinite(hmax):
            return math.nan
        if hmax <= 0:
            return o.max_dt_s
        return min(o.max_dt_s,
                   o.cfl_alpha * min(self.dx_m, self.dy_m) / math.sqrt(o.gravity_mps2 * hmax))

    def advance_to(self, t_end_s: float, *, on_step: Callable[[FloodSolver], None] | None = None
                   ) -> None:
        """Step until ``time_s == t_end_s`` (adaptive CFL steps; lands exactly)."""
        if t_end_s < self.time_s:
            raise HazardError(f"cannot go back in time from {self.time_s} s to {t_end_s} s")
        for k, sb, _zb in self._edge_stages:
            self.edge_eta[k] = sb.stage.at(self.time_s)
        while self.time_s < t_end_s:
            t = self.time_s
            t_lim = min(t_end_s, self._next_break(t))
            dt = self.stable_dt()
            if not dt >= MIN_DT_S:  # also NaN: a blown-up state
                raise HazardError(
                    f"the flood solver's time step fell to {dt:.3g} s at t = {t / 3600.0:.4g} h "
                    f"(water up to {self._deepest_m():.4g} m deep): a stage, inflow or initial "
                    "depth far beyond a flood; check the units of the forcings")
            landing = None
            if t + dt >= t_lim - 1e-9 * max(1.0, abs(t_lim)):
                dt = t_lim - t
                landing = t_lim  # land exactly on outputs and forcing changes
            self.step(dt)
            if landing is not None:
                self.time_s = landing
            for k, sb, _zb in self._edge_stages:
                self.edge_eta[k] = sb.stage.at(self.time_s)
            if on_step is not None:
                on_step(self)
        self.ledger.storage_m3 = self.storage_m3

    def finish_maxima(self) -> None:
        """Fold the current state into the running maxima (they lag one step)."""
        if not self.track_maxima:
            return
        h = self.h
        np.maximum(self.max_depth_m, h, out=self.max_depth_m)
        wet = h >= self.options.wet_depth_m
        new = wet & np.isnan(self.arrival_time_s)
        self.arrival_time_s[new] = self.time_s
        hp = np.pad(h, 1, mode="edge")
        with np.errstate(invalid="ignore", divide="ignore"):
            ux = 0.5 * (self.qx[:, :-1] / np.maximum(h, hp[1:-1, :-2])
                        + self.qx[:, 1:] / np.maximum(h, hp[1:-1, 2:]))
            uy = 0.5 * (self.qy[:-1, :] / np.maximum(h, hp[:-2, 1:-1])
                        + self.qy[1:, :] / np.maximum(h, hp[2:, 1:-1]))
            v = np.where(wet, np.hypot(ux, uy), 0.0)
        np.maximum(self.max_speed_mps, v, out=self.max_speed_mps)
