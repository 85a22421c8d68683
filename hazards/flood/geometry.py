"""Geometry on the solver grid: vector files, rasterising, polylines, sampling at sites.

Vector files (GeoJSON, GeoPackage, Shapefile, anything ``geopandas.read_file``
reads) are reprojected to the grid's CRS; a file without a CRS is taken to be in
``default_crs`` (the CRS the user gives coordinates in). Polygons are rasterised
with cell-centre inclusion (``rasterio.features.rasterize``, ``all_touched=False``),
so a footprint smaller than a cell that covers no centre vanishes. Polylines are
densified to half a cell (:func:`hazards.sampling.densify`, the sampler of sites)
and mapped to the cells they cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.digest import regular_file_problem
from common.errors import HazardError
from hazards.flood.dem import FloodGrid
from hazards.sampling import SitePoints, densify, site_max


def read_polygons(path: Path | str, *, grid: FloodGrid, default_crs: str,
                  value_field: str | None = None) -> tuple[list, np.ndarray | None]:
    """Polygons of a vector file in the grid's CRS, and the values of ``value_field``."""
    import geopandas as gpd

    path = Path(path)
    where = str(path)
    if not path.exists():
        raise HazardError("polygon file not found", where=where)
    problem = regular_file_problem(path)
    if problem:
        raise HazardError(f"polygon file: {problem}", where=where)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
        raise HazardError(f"cannot read polygons ({type(exc).__name__}: {exc})",
                          where=where) from None
    if gdf.crs is None:
        gdf = gdf.set_crs(default_crs)
    gdf = gdf.to_crs(grid.crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    kinds = set(gdf.geometry.geom_type)
    if not kinds or not kinds <= {"Polygon", "MultiPolygon"}:
        raise HazardError(f"expected polygons, found {sorted(kinds) or 'no geometry'}",
                          where=where)
    values = None
    if value_field is not None:
        if value_field not in gdf.columns:
            fields = [c for c in gdf.columns if c != "geometry"]
            raise HazardError(f"no field {value_field!r}; fields are {fields}", where=where)
        values = np.asarray(gdf[value_field], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise HazardError(f"field {value_field!r} has missing or non-numeric values",
                              where=where)
    return list(gdf.geometry), values


def rasterize_mask(geoms: Sequence, grid: FloodGrid) -> np.ndarray:
    """Cells whose centre lies inside any of ``geoms`` (bool, grid shape)."""
    from affine import Affine
    from rasterio.features import rasterize

    if not geoms:
        return np.zeros(grid.shape, dtype=bool)
    out = rasterize([(g, 1) for g in geoms], out_shape=grid.shape,
                    transform=Affine(*grid.transform), fill=0, dtype="uint8", all_touched=False)
    return out.astype(bool)


def rasterize_values(geoms: Sequence, values: np.ndarray, grid: FloodGrid, *, fill: float
                     ) -> np.ndarray:
    """A float64 raster: ``values[k]`` inside ``geoms[k]`` (later win), ``fill`` elsewhere."""
    from affine import Affine
    from rasterio.features import rasterize

    out = rasterize(list(zip(geoms, (float(v) for v in values), strict=True)),
                    out_shape=grid.shape, transform=Affine(*grid.transform), fill=float(fill),
                    dtype="float64", all_touched=False)
    return np.asarray(out, dtype=np.float64)


def line_cells(xs: np.ndarray, ys: np.ndarray, grid: FloodGrid) -> tuple[np.ndarray, np.ndarray]:
    """Unique cells (rows, cols) a polyline crosses inside the grid, in order along it."""
    step = 0.5 * min(grid.dx_m, grid.dy_m)
    xs = np.asarray(xs, dtype=np.float64)
    dx, dy, _ = densify(xs, np.asarray(ys, dtype=np.float64), np.zeros(xs.size, np.int64), step,
                        where="flood line (inflow or stage boundary)")
    r, c, inside = grid.cell_of(dx, dy)
    r, c = r[inside], c[inside]
    if r.size == 0:
        return r, c
    flat = r * grid.shape[1] + c
    _, first = np.unique(flat, return_index=True)
    keep = np.sort(first)
    return r[keep], c[keep]


def polygon_cells(geoms: Sequence, grid: FloodGrid) -> tuple[np.ndarray, np.ndarray]:
    """Cells inside polygons; a polygon covering no cell centre gives its centroid's cell."""
    mask = rasterize_mask(geoms, grid)
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        cx = np.array([g.centroid.x for g in geoms])
        cy = np.array([g.centroid.y for g in geoms])
        r, c, inside = grid.cell_of(cx, cy)
        rows, cols = r[inside], c[inside]
    return rows.astype(np.int64), cols.astype(np.int64)


#: How far (in cells) a site inside a building looks for open cells around it.
MAX_RING = 25


def _nearest_open_ring(r0: int, c0: int, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Open cells on the nearest square ring around (r0, c0) that has any."""
    ny, nx = closed.shape
    for k in range(1, MAX_RING + 1):
        rows = np.arange(r0 - k, r0 + k + 1)
        cols = np.arange(c0 - k, c0 + k + 1)
        rr = np.concatenate([np.full(cols.size, r0 - k), np.full(cols.size, r0 + k),
                             rows[1:-1], rows[1:-1]])
        cc = np.concatenate([cols, cols, np.full(rows.size - 2, c0 - k),
                             np.full(rows.size - 2, c0 + k)])
        ok = (rr >= 0) & (rr < ny) & (cc >= 0) & (cc < nx)
        rr, cc = rr[ok], cc[ok]
        ok = ~closed[rr, cc]
        if ok.any():
            return rr[ok], cc[ok]
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


class SiteSampler:
    """Depth at sites: the cell under a node, the maximum over the cells along an edge.

    Built from the sites' points (:func:`hazards.sampling.sample_sites` at half a
    cell, in the grid's CRS), so an edge sees every cell it crosses. A point on a
    NoData cell is dropped; a point in an obstacle (building) is replaced by the
    open cells of the nearest square ring around it (up to ``MAX_RING`` cells
    away), so an asset inside a building sees the water against its walls. A site
    with no usable cell (outside the DEM, or all NoData) reads NaN.

    Attributes
    ----------
    n_sites : int
        Number of sites.
    inside : ndarray of bool (n_sites,)
        Whether any point of the site lies on the grid (NoData or not): the DEM
        covers the site.
    cells, owner : ndarray of int64
        The flat cell indices each site reads, and the site of each (non-decreasing).
    """

    def __init__(self, grid: FloodGrid, points: SitePoints, *, nodata: np.ndarray,
                 obstacle: np.ndarray) -> None:
        ny, nx = grid.shape
        n_cells = ny * nx
        self.n_sites = int(points.n_sites)
        r, c, on_grid = grid.cell_of(points.x, points.y)
        self.inside = site_max(on_grid, points.owner, self.n_sites) > 0
        keep = on_grid & ~nodata[r, c]
        r, c, own = r[keep], c[keep], points.owner[keep]
        blocked = obstacle[r, c]
        if blocked.any():
            closed = obstacle | nodata
            rr, cc, oo = [r[~blocked]], [c[~blocked]], [own[~blocked]]
            ring: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            for a0, b0, o0 in zip(r[blocked], c[blocked], own[blocked], strict=True):
                key = int(a0) * nx + int(b0)
                if key not in ring:  # many points of a line share a building cell
                    ring[key] = _nearest_open_ring(int(a0), int(b0), closed)
                ra, ca = ring[key]
                rr.append(ra)
                cc.append(ca)
                oo.append(np.full(ra.size, o0, dtype=np.int64))
            r, c, own = np.concatenate(rr), np.concatenate(cc), np.concatenate(oo)
        flat = np.unique(own.astype(np.int64) * n_cells + (r * nx + c))
        self.owner = flat // n_cells
        self.cells = flat % n_cells

    @property
    def has_cells(self) -> np.ndarray:
        """Whether each site reads at least one cell."""
        out = np.zeros(self.n_sites, dtype=bool)
        out[self.owner] = True
        return out

    def sample(self, depth: np.ndarray) -> np.ndarray:
        """float32 (n_sites,): max depth over each site's cells; NaN for sites without cells."""
        return site_max(depth.ravel()[self.cells], self.owner, self.n_sites).astype(np.float32)
