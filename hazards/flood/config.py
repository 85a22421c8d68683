"""The flood scenario block (pydantic) and its resolution onto the solver grid.

A scenario's flood block, validated by :class:`FloodConfig`::

    type: flood
    dem: data/dem/city_dem.tif        # optional: the city's terrain when absent
    nodata: wall                      # or "nearest"
    cell_size_m: 60                   # optional: coarsen the DEM (block mean, integer factor)
    duration_h: 12
    output_step_h: 0.5
    rain: [[0, 0], [1, 35], [3, 10], [6, 0]]   # [time_h, mm/h] steps, or a CSV path
    inflows:
      - name: river
        point: [512300, 3378100]
        hydrograph: [[0, 50], [4, 900], [12, 200]]  # [time_h, m3/s], or a CSV path
      - line: [[512000, 3376000], [512400, 3376050]]
        hydrograph: inflow_north.csv
      - area: detention_overflow.geojson
        hydrograph: [[0, 5]]
    stage_boundaries:
      - edge: S
        stage: surge.csv                    # time_h,stage_m
        initial_fill: true                  # start with the sea at rest at its first stage
      - line: coastline.geojson             # or [[x, y], ...]
        stage: [[0, 0.4], [6, 2.9], [12, 0.6]]
    manning: 0.035                          # or {raster: n.tif}
                                            # or {polygons: landuse.gpkg, field: n, default: 0.03}
    obstacles: buildings.geojson
    losses_mmh: 15                          # drainage + infiltration on land (mm/h)
    outflow_edges: [E]

Coordinates are in the city's CRS (the ``HazardContext.crs``); relative paths
are resolved against the scenario file's directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from common.digest import regular_file_problem
from common.errors import HazardError
from hazards.flood.defaults import DEFAULTS
from hazards.flood.dem import FloodGrid, coarsen, fill_nearest, grid_from_terrain, load_dem
from hazards.flood.forcing import (
    Hyetograph,
    Inflow,
    StageBoundary,
    TimeSeries,
    read_series_csv,
    series_from_pairs,
)
from hazards.flood.geometry import line_cells, polygon_cells, rasterize_mask, read_polygons
from hazards.flood.solver import FloodSolver, SolverOptions, state_bytes_per_cell

Edge = Literal["N", "E", "S", "W"]

#: Longest flood a scenario may simulate (h): a year. Longer runs are a unit
#: mistake (minutes or seconds given as hours), not a flood event.
MAX_DURATION_H = 366 * 24.0
#: Most output times (``duration_h / output_step_h``) a flood may record: each one
#: stores a depth frame and a row of site depths and makes the solver land on it.
MAX_OUTPUT_TIMES = 100_000
#: A stage more than this above the DEM's highest open cell is a datum or unit
#: mistake (the highest storm surges are ~10 m, tsunami run-ups ~40 m).
MAX_STAGE_ABOVE_DEM_M = 100.0
Pairs = list[tuple[float, float]]


class InflowConfig(BaseModel):
    """A discharge hydrograph entering at a point, along a line or over a polygon area."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = None
    point: tuple[float, float] | None = None
    line: Pairs | None = None
    area: Path | None = None
    hydrograph: Pairs | Path

    @model_validator(mode="after")
    def _one_location(self) -> InflowConfig:
        given = [k for k in ("point", "line", "area") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of point, line, area (got {given or 'none'})")
        if self.line is not None and len(self.line) < 2:
            raise ValueError("an inflow line needs at least 2 vertices")
        return self


class StageConfig(BaseModel):
    """A water-level series on a domain edge or along a polyline (coast, river bank)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = None
    edge: Edge | None = None
    line: Pairs | Path | None = None
    stage: Pairs | Path
    #: Start with the water at rest at the stage of t = 0 in every cell below it that is
    #: connected to this boundary (a sea or an estuary at its initial level, a "hot
    #: start"), instead of a dry domain that the boundary fills in the first hours.
    initial_fill: bool = False

    @model_validator(mode="after")
    def _one_location(self) -> StageConfig:
        if (self.edge is None) == (self.line is None):
            raise ValueError("give exactly one of edge, line")
        return self


class ManningRaster(BaseModel):
    """Manning's n from a raster (resampled to the DEM grid, nearest)."""

    model_config = ConfigDict(extra="forbid")
    raster: Path


class ManningPolygons(BaseModel):
    """Manning's n per land-use polygon (``field`` holds n); ``default`` elsewhere."""

    model_config = ConfigDict(extra="forbid")
    polygons: Path
    field: str = "manning_n"
    default: PositiveFloat = DEFAULTS["manning_n"]


class FloodConfig(BaseModel):
    """The ``type: flood`` block of a scenario (see the module docstring for an example)."""

    # inf and NaN are never a duration, a step or a parameter: refuse them here
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    type: Literal["flood"] = "flood"
    dem: Path | None = None
    nodata: Literal["wall", "nearest"] = "wall"
    #: Coarsen the DEM to cells of about this size (m) by block mean (integer factor of
    #: the DEM cell; see :func:`hazards.flood.dem.coarsen`). None: the DEM's own cells.
    cell_size_m: PositiveFloat | None = None
    duration_h: PositiveFloat
    output_step_h: PositiveFloat = 0.25
    rain: Pairs | Path | None = None
    inflows: list[InflowConfig] = Field(default_factory=list)
    stage_boundaries: list[StageConfig] = Field(default_factory=list)
    manning: PositiveFloat | ManningRaster | ManningPolygons = DEFAULTS["manning_n"]
    obstacles: Path | None = None
    #: Urban drainage and infiltration capacity (mm/h) on land: taken every step from
    #: the water of each cell that is dry at t = 0, up to what it holds (cells under a
    #: hot-started sea or river lose nothing). Without it, water in closed depressions
    #: never leaves. 0: no losses.
    losses_mmh: float = Field(0.0, ge=0, le=400)
    outflow_edges: list[Edge] = Field(default_factory=list)
    cfl_alpha: float = Field(DEFAULTS["cfl_alpha"], gt=0, le=1)
    theta: float = Field(DEFAULTS["theta"], ge=0, le=1)
    min_flow_depth_m: float = Field(DEFAULTS["min_flow_depth_m"], ge=0)
    max_dt_s: PositiveFloat = DEFAULTS["max_dt_s"]
    wet_depth_m: PositiveFloat = DEFAULTS["wet_depth_m"]
    grid_frames_max_mb: PositiveFloat = DEFAULTS["grid_frames_max_mb"]

    @model_validator(mode="after")
    def _sizes(self) -> FloodConfig:
        if self.duration_h > MAX_DURATION_H:
            raise ValueError(f"duration_h {self.duration_h:g} exceeds {MAX_DURATION_H:g} h (a "
                             "year); wrong units? (hours expected)")
        n = self.duration_h / self.output_step_h
        if n > MAX_OUTPUT_TIMES:
            raise ValueError(
                f"duration_h / output_step_h = {n:.3g} output times, more than "
                f"{MAX_OUTPUT_TIMES:,}; give a larger output_step_h")
        return self

    @model_validator(mode="after")
    def _edges(self) -> FloodConfig:
        if len(set(self.outflow_edges)) != len(self.outflow_edges):
            raise ValueError("outflow_edges lists an edge twice")
        stage_edges = [s.edge for s in self.stage_boundaries if s.edge is not None]
        both = set(stage_edges) & set(self.outflow_edges)
        if both or len(set(stage_edges)) != len(stage_edges):
            raise ValueError(f"an edge has two boundary conditions: {sorted(both) or stage_edges}")
        return self

    def options(self) -> SolverOptions:
        return SolverOptions(cfl_alpha=self.cfl_alpha, theta=self.theta,
                             min_flow_depth_m=self.min_flow_depth_m, max_dt_s=self.max_dt_s,
                             wet_depth_m=self.wet_depth_m)


def resolve_paths(config: FloodConfig, base_dir: Path) -> FloodConfig:
    """A copy of ``config`` with every relative path made absolute against ``base_dir``."""

    def fix(p: object) -> object:
        if isinstance(p, Path) and not p.is_absolute():
            return (Path(base_dir) / p).resolve()
        return p

    data = config.model_copy(deep=True)
    data.dem = fix(data.dem)  # type: ignore[assignment]
    data.rain = fix(data.rain)  # type: ignore[assignment]
    data.obstacles = fix(data.obstacles)  # type: ignore[assignment]
    for inf in data.inflows:
        inf.area = fix(inf.area)  # type: ignore[assignment]
        inf.hydrograph = fix(inf.hydrograph)  # type: ignore[assignment]
    for st in data.stage_boundaries:
        st.line = fix(st.line)  # type: ignore[assignment]
        st.stage = fix(st.stage)  # type: ignore[assignment]
    if isinstance(data.manning, ManningRaster):
        data.manning.raster = fix(data.manning.raster)  # type: ignore[assignment]
    elif isinstance(data.manning, ManningPolygons):
        data.manning.polygons = fix(data.manning.polygons)  # type: ignore[assignment]
    return data


@dataclass(frozen=True, eq=False)
class FloodModel:
    """A flood scenario resolved on its grid, ready to build solvers.

    ``nodata`` and ``obstacle`` are the masks of DEM holes and building
    footprints; ``wall`` is what the solver treats as walls (``obstacle``, plus
    ``nodata`` under the ``wall`` rule). ``elevation_m`` is finite on every
    non-wall cell.
    """

    grid: FloodGrid
    elevation_m: np.ndarray
    nodata: np.ndarray
    obstacle: np.ndarray
    wall: np.ndarray
    manning: np.ndarray | float
    rain: tuple[Hyetograph, ...]
    inflows: tuple[Inflow, ...]
    stages: tuple[StageBoundary, ...]
    outflow_edges: tuple[str, ...]
    options: SolverOptions
    duration_s: float
    initial_depth_m: np.ndarray | None = None
    coarsening: int = 1
    losses_mmh: float = 0.0

    def solver(self, *, track_maxima: bool = True, rain_extra: Sequence = ()) -> FloodSolver:
        """A fresh solver at t = 0 (``rain_extra``: more rain forcings, e.g. a RainfallRaster)."""
        return FloodSolver(self.elevation_m, dx_m=self.grid.dx_m, dy_m=self.grid.dy_m,
                           wall=self.wall, manning=self.manning,
                           rain=(*self.rain, *rain_extra), inflows=self.inflows,
                           stages=self.stages, outflow_edges=self.outflow_edges,
                           options=self.options, track_maxima=track_maxima,
                           depth_m=self.initial_depth_m, loss_rate_mmh=self._loss_rate())

    def _loss_rate(self) -> float | np.ndarray:
        if self.losses_mmh <= 0:
            return 0.0
        if self.initial_depth_m is None:
            return self.losses_mmh
        return np.where(self.initial_depth_m > 0, 0.0, self.losses_mmh)


def _series(value: Pairs | Path, *, kind: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(value, Path):
        return read_series_csv(value, kind=kind)
    return series_from_pairs(value, kind=kind, where=where)


def _read_lines(path: Path, *, grid: FloodGrid, default_crs: str) -> list[np.ndarray]:
    import geopandas as gpd

    if not path.exists():
        raise HazardError("line file not found", where=str(path))
    problem = regular_file_problem(path)
    if problem:
        raise HazardError(f"line file: {problem}", where=str(path))
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
        raise HazardError(f"cannot read lines ({type(exc).__name__}: {exc})",
                          where=str(path)) from None
    if gdf.crs is None:
        gdf = gdf.set_crs(default_crs)
    gdf = gdf.to_crs(grid.crs)
    out = []
    for geom in gdf.geometry:
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "LineString":
            out.append(np.asarray(geom.coords)[:, :2])
        elif geom.geom_type == "MultiLineString":
            out += [np.asarray(g.coords)[:, :2] for g in geom.geoms]
        else:
            raise HazardError(f"expected lines, found {geom.geom_type}", where=str(path))
    if not out:
        raise HazardError("no line in the file", where=str(path))
    return out


class CoordTransform:
    """Transforms user coordinates (``src`` CRS) to the grid's CRS."""

    def __init__(self, src: str, dst: str) -> None:
        self.src = src
        self.t = None
        if src != dst:
            from pyproj import Transformer

            self.t = Transformer.from_crs(src, dst, always_xy=True)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if self.t is None:
            return xy
        x, y = self.t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])


def _fmt_bounds(grid: FloodGrid) -> str:
    xmin, ymin, xmax, ymax = grid.bounds()
    return f"x {xmin:.1f}..{xmax:.1f}, y {ymin:.1f}..{ymax:.1f} ({grid.crs})"


def build_model(config: FloodConfig, *, terrain: object | None = None,
                city_crs: str | None = None, coords_crs: str | None = None) -> FloodModel:
    """Resolve a (path-resolved) config onto its grid.

    ``city_crs``: the projected CRS to work in (the DEM is reprojected to it);
    ``coords_crs``: the CRS of the config's coordinates and of vector files
    without a CRS (default: the CRS of the DEM file, as the CLI wants).
    """
    bpc = state_bytes_per_cell(track_maxima=True)
    if config.dem is not None:
        grid = load_dem(config.dem, target_crs=city_crs, bytes_per_cell=bpc)
    elif terrain is not None:
        grid = grid_from_terrain(terrain, target_crs=city_crs)
    else:
        raise HazardError("no DEM: give `dem:` or run in a city that has terrain",
                          where="flood.dem")
    k_coarse = 1
    if config.cell_size_m is not None:
        grid, k_coarse = coarsen(grid, config.cell_size_m)
    coords = CoordTransform(coords_crs or grid.source_crs, grid.crs)
    ccrs = coords.src
    z = grid.elevation_m
    nodata = ~np.isfinite(z)
    if config.obstacles is not None:
        geoms, _ = read_polygons(config.obstacles, grid=grid, default_crs=ccrs)
        obstacle = rasterize_mask(geoms, grid) & ~nodata
    else:
        obstacle = np.zeros(grid.shape, dtype=bool)
    if config.nodata == "nearest":
        z = fill_nearest(z)
        wall = obstacle.copy()
        nodata_for_sites = np.zeros(grid.shape, dtype=bool)
    else:
        wall = nodata | obstacle
        nodata_for_sites = nodata
    z = np.where(wall, 0.0, z)
    if wall.all():
        raise HazardError("every cell of the DEM is NoData or an obstacle", where="flood.dem")

    manning = _manning(config, grid, ccrs)
    rain: list[Hyetograph] = []
    if config.rain is not None:
        t_h, r = _series(config.rain, kind="rain", where="flood.rain")
        rain.append(Hyetograph(t_h * 3600.0, r))

    inflows = []
    for k, inf in enumerate(config.inflows):
        name = inf.name or f"inflow{k + 1}"
        where = f"flood.inflows[{k}]"
        t_h, q = _series(inf.hydrograph, kind="inflow", where=f"{where}.hydrograph")
        if inf.point is not None:
            xy = coords(np.asarray(inf.point))
            r_, c_, inside = grid.cell_of(xy[:, 0], xy[:, 1])
            if not inside[0]:
                raise HazardError(f"inflow {name!r} point {tuple(inf.point)} is outside the DEM "
                                  f"({_fmt_bounds(grid)})", where=where)
            rows, cols = r_, c_
        elif inf.line is not None:
            xy = coords(np.asarray(inf.line))
            rows, cols = line_cells(xy[:, 0], xy[:, 1], grid)
        else:
            geoms, _ = read_polygons(inf.area, grid=grid, default_crs=ccrs)  # type: ignore[arg-type]
            rows, cols = polygon_cells(geoms, grid)
        if rows.size == 0:
            raise HazardError(f"inflow {name!r} lies outside the DEM ({_fmt_bounds(grid)})",
                              where=where)
        ok = ~wall[rows, cols]
        if not ok.any():
            raise HazardError(f"inflow {name!r} lies on wall cells (NoData or an obstacle)",
                              where=where)
        rows, cols = rows[ok], cols[ok]
        inflows.append(Inflow(name, rows, cols, np.full(rows.size, 1.0 / rows.size),
                              TimeSeries(t_h * 3600.0, q)))

    stages = []
    fill_seeds: list[tuple[np.ndarray, np.ndarray, float]] = []
    for k, st in enumerate(config.stage_boundaries):
        name = st.name or (f"stage_{st.edge}" if st.edge else f"stage{k + 1}")
        where = f"flood.stage_boundaries[{k}]"
        t_h, v = _series(st.stage, kind="stage", where=f"{where}.stage")
        _check_stage_against_dem(v, z, wall, name=name, where=f"{where}.stage")
        series = TimeSeries(t_h * 3600.0, v)
        if st.edge is not None:
            stages.append(StageBoundary(name, series, edge=st.edge))
            if st.initial_fill:
                er, ec = _edge_cells(st.edge, grid.shape)
                fill_seeds.append((er, ec, series.at(0.0)))
            continue
        if isinstance(st.line, Path):
            lines = _read_lines(st.line, grid=grid, default_crs=ccrs)
        else:
            lines = [coords(np.asarray(st.line))]
        rr, cc = [], []
        for ln in lines:
            r_, c_ = line_cells(ln[:, 0], ln[:, 1], grid)
            rr.append(r_)
            cc.append(c_)
        rows, cols = np.concatenate(rr), np.concatenate(cc)
        if rows.size:
            flat = np.unique(rows * grid.shape[1] + cols)
            rows, cols = flat // grid.shape[1], flat % grid.shape[1]
            ok = ~wall[rows, cols]
            rows, cols = rows[ok], cols[ok]
        if rows.size == 0:
            raise HazardError(f"stage boundary {name!r} crosses no open cell of the DEM "
                              f"({_fmt_bounds(grid)})", where=where)
        stages.append(StageBoundary(name, series, rows=rows, cols=cols))
        if st.initial_fill:
            fill_seeds.append((rows, cols, series.at(0.0)))

    initial = _initial_fill(z, wall, fill_seeds) if fill_seeds else None
    return FloodModel(
        grid=FloodGrid(z, grid.transform, grid.crs, grid.source_crs, grid.source),
        elevation_m=z, nodata=nodata_for_sites, obstacle=obstacle, wall=wall, manning=manning,
        rain=tuple(rain), inflows=tuple(inflows), stages=tuple(stages),
        outflow_edges=tuple(config.outflow_edges), options=config.options(),
        duration_s=config.duration_h * 3600.0, initial_depth_m=initial, coarsening=k_coarse,
        losses_mmh=config.losses_mmh)


def _check_stage_against_dem(stage_m: np.ndarray, z: np.ndarray, wall: np.ndarray, *,
                             name: str, where: str) -> None:
    """Refuse a stage far above the whole DEM: water hundreds of metres deep is a datum
    or unit mistake, and would shrink the solver's time step towards zero."""
    top = float(np.max(z[~wall]))
    peak = float(np.max(stage_m))
    if peak > top + MAX_STAGE_ABOVE_DEM_M:
        raise HazardError(
            f"stage boundary {name!r} reaches {peak:.4g} m, more than {MAX_STAGE_ABOVE_DEM_M:g} m "
            f"above the DEM's highest cell ({top:.1f} m); wrong datum or units? (metres in the "
            "DEM's vertical datum expected)", where=where)


def _edge_cells(edge: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ny, nx = shape
    if edge in ("N", "S"):
        return np.full(nx, 0 if edge == "N" else ny - 1), np.arange(nx)
    return np.arange(ny), np.full(ny, 0 if edge == "W" else nx - 1)


def _initial_fill(z: np.ndarray, wall: np.ndarray,
                  seeds: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Depth of water at rest at each seed's level in the open cells below it that are
    4-connected to the seed cells (deepest level wins where fills overlap)."""
    from scipy.ndimage import label

    depth = np.zeros(z.shape)
    for rows, cols, level in seeds:
        below = (~wall) & (z < level)
        lab, _ = label(below)
        ids = np.unique(lab[rows, cols])
        ids = ids[ids > 0]
        if ids.size == 0:
            continue
        filled = np.isin(lab, ids)
        depth = np.where(filled, np.maximum(depth, level - z), depth)
    return depth


def _manning(config: FloodConfig, grid: FloodGrid, ccrs: str) -> np.ndarray | float:
    m = config.manning
    if isinstance(m, float | int):
        if not 0 < m <= 1:
            raise HazardError(f"Manning's n {m} must be in (0, 1]", where="flood.manning")
        return float(m)
    if isinstance(m, ManningPolygons):
        geoms, values = read_polygons(m.polygons, grid=grid, default_crs=ccrs,
                                      value_field=m.field)
        assert values is not None
        if np.any(values <= 0) or np.any(values > 1):
            raise HazardError(f"field {m.field!r} has Manning values outside (0, 1]",
                              where=str(m.polygons))
        from hazards.flood.geometry import rasterize_values

        return rasterize_values(geoms, values, grid, fill=m.default)
    return read_manning_raster(m.raster, grid)


def read_manning_raster(path: Path, grid: FloodGrid) -> np.ndarray:
    """Manning's n raster resampled (nearest) onto the grid; must cover it with values in (0, 1]."""
    from common.rasters import read_onto_grid

    where = str(path)
    out = read_onto_grid(path, "Manning raster", transform=grid.transform, shape=grid.shape,
                         crs=grid.crs, resampling="nearest", error=HazardError)
    open_ = np.isfinite(grid.elevation_m)
    bad = open_ & ~(np.isfinite(out) & (out > 0) & (out <= 1))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise HazardError(
            f"Manning raster has no valid value in (0, 1] at DEM row {r}, col {c} "
            f"({int(bad.sum())} cells); it must cover the DEM", where=where)
    return np.where(open_, out, 0.03)
