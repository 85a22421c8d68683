"""The flood solver's grid: a DEM in a projected CRS, read with rasterio.

Rules
-----
- GeoTIFF, ESRI ASCII grid (``.asc`` with a ``.prj`` beside it) or any raster
  GDAL reads. A DEM without a CRS raises :class:`~common.errors.HazardError`.
- A DEM in a geographic CRS (e.g. EPSG:4326) is reprojected with
  ``rasterio.warp.reproject`` (bilinear, square cells of the size
  ``calculate_default_transform`` picks) to ``target_crs`` when one is given
  (the city's CRS), else to the WGS84 UTM zone of the DEM's centre
  (EPSG:326zz north, 327zz south). A projected DEM in another CRS than the
  target is reprojected the same way.
- NoData (the file's nodata value, and NaN) is never read as zero: the cells
  become walls (``nodata="wall"``, the default) or take the elevation of the
  nearest valid cell (``nodata="nearest"``).
- Before reading, the bytes of the solver state for the grid are compared with
  the memory available (``os.sysconf``); a grid that does not fit raises.

Opening, NoData, the memory check and reprojection are the shared rules of
:mod:`common.rasters`; this module adds the flood's grid (north-up, coarsening,
nearest fill).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import HazardError
from common.rasters import crs_string, is_projected, read_raster


@dataclass(frozen=True, eq=False)
class FloodGrid:
    """A north-up DEM in a projected CRS.

    ``elevation_m[row, col]`` (float64, NaN = no data), row 0 at the north edge;
    ``transform`` is the affine 6-tuple ``(a, b, c, d, e, f)`` with ``b = d = 0``,
    ``a > 0``, ``e < 0``. ``source_crs`` is the CRS of the file (or terrain) the
    grid came from, the CRS in which users give coordinates on the command line.
    """

    elevation_m: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str
    source_crs: str
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.elevation_m.shape[0]), int(self.elevation_m.shape[1]))

    @property
    def dx_m(self) -> float:
        return float(self.transform[0])

    @property
    def dy_m(self) -> float:
        return float(-self.transform[4])

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the raster's outer edges."""
        a, _, c, _, e, f = self.transform
        ny, nx = self.shape
        return c, f + e * ny, c + a * nx, f

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, col, inside) of the cells containing points (x, y)."""
        a, _, c, _, e, f = self.transform
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        col = np.floor((x - c) / a).astype(np.int64)
        row = np.floor((y - f) / e).astype(np.int64)
        ny, nx = self.shape
        inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny) & np.isfinite(x) & np.isfinite(y)
        return np.where(inside, row, 0), np.where(inside, col, 0), inside

    def cell_centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, _, c, _, e, f = self.transform
        return c + a * (np.asarray(cols) + 0.5), f + e * (np.asarray(rows) + 0.5)


def load_dem(path: Path | str, *, target_crs: str | None = None, bytes_per_cell: int = 100
             ) -> FloodGrid:
    """Read a DEM (see the module rules); elevations float64 with NaN for no data."""
    r = read_raster(path, "DEM", target_crs=target_crs, projected=True,
                    bytes_per_cell=bytes_per_cell, error=HazardError,
                    crs_hint="give the file a projected CRS (a .prj beside an .asc, or "
                             "gdal_edit.py -a_srs EPSG:xxxx)")
    return _north_up(FloodGrid(r.values, r.transform, r.crs, r.source_crs, str(path)))


def grid_from_terrain(terrain: object, *, target_crs: str | None = None) -> FloodGrid:
    """A grid from a :class:`networks.model.Terrain` (NaN = no data)."""
    z = np.asarray(terrain.elevation_m, dtype=np.float64)  # type: ignore[attr-defined]
    tr = tuple(float(v) for v in terrain.transform)  # type: ignore[attr-defined]
    crs = str(terrain.crs)  # type: ignore[attr-defined]
    if z.ndim != 2:
        raise HazardError(f"terrain elevation must be 2-D, got {z.shape}", where="terrain")
    if tr[1] != 0 or tr[3] != 0:
        raise HazardError("terrain raster is rotated; a north-up grid is needed", where="terrain")
    if not is_projected(crs):
        raise HazardError(f"terrain CRS {crs} is not projected", where="terrain")
    if target_crs is not None and crs_string(target_crs) != crs_string(crs):
        raise HazardError(f"terrain CRS {crs} differs from the city CRS {target_crs}",
                          where="terrain")
    if not np.isfinite(z).any():
        raise HazardError("terrain has no valid cell", where="terrain")
    return _north_up(FloodGrid(z.copy(), tr, crs_string(crs), crs_string(crs), "terrain"))


def _north_up(grid: FloodGrid) -> FloodGrid:
    a, b, c, d, e, f = grid.transform
    z = grid.elevation_m
    if a < 0:
        z = z[:, ::-1]
        c, a = c + a * z.shape[1], -a
    if e > 0:
        z = z[::-1, :]
        f, e = f + e * z.shape[0], -e
    return FloodGrid(np.ascontiguousarray(z), (a, b, c, d, e, f), grid.crs, grid.source_crs,
                     grid.source)


def fill_nearest(z: np.ndarray) -> np.ndarray:
    """NaN cells take the value of the nearest finite cell (Euclidean, in cells)."""
    from scipy.ndimage import distance_transform_edt

    bad = ~np.isfinite(z)
    if not bad.any():
        return z.copy()
    _, (ri, ci) = distance_transform_edt(bad, return_indices=True)
    return z[ri, ci]


def coarsen(grid: FloodGrid, cell_size_m: float) -> tuple[FloodGrid, int]:
    """The grid aggregated to cells of about ``cell_size_m`` by block mean.

    The factor ``k = round(cell_size_m / max(dx, dy))`` (at least 1) is an integer,
    so every coarse cell is exactly ``k x k`` fine cells and the coarse grid keeps
    the origin and the CRS of the fine one. Elevation is the mean of the valid
    cells of a block (NaN when the whole block is NoData), which keeps the mean
    bed elevation of every block: a level water surface over a block holds the
    same volume on both grids, so volumes (rain, inflow, storage) map one to one.
    The solver conserves mass exactly on whichever grid it runs. Blocks at the
    east and south edges that stick out of the DEM average the cells they
    contain (the coarse grid may extend up to ``k - 1`` fine cells beyond the
    DEM). Returns ``(grid, k)``; ``k == 1`` returns the grid unchanged.
    """
    if not (cell_size_m > 0 and np.isfinite(cell_size_m)):
        raise HazardError(f"cell_size_m {cell_size_m} must be a positive number",
                          where="flood.cell_size_m")
    fine = max(grid.dx_m, grid.dy_m)
    extent = max(grid.shape[1] * grid.dx_m, grid.shape[0] * grid.dy_m)
    if cell_size_m > extent:
        raise HazardError(f"cell_size_m {cell_size_m:g} is larger than the DEM itself "
                          f"({extent:.0f} m across)", where="flood.cell_size_m")
    k = max(1, int(round(cell_size_m / fine)))
    if cell_size_m < fine * 0.999:
        raise HazardError(
            f"cell_size_m {cell_size_m:g} is finer than the DEM's {fine:.1f} m cells; the solver "
            "does not refine a DEM (give a value >= the DEM cell size)", where="flood.cell_size_m")
    if k == 1:
        return grid, 1
    z = grid.elevation_m
    ny, nx = z.shape
    py, px = -ny % k, -nx % k
    p = np.pad(z, ((0, py), (0, px)), constant_values=np.nan)
    b = p.reshape(p.shape[0] // k, k, p.shape[1] // k, k)
    valid = np.isfinite(b)
    n = valid.sum(axis=(1, 3))
    s = np.where(valid, b, 0.0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        zc = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    a, bb, c, d, e, f = grid.transform
    return FloodGrid(np.ascontiguousarray(zc), (a * k, bb, c, d, e * k, f), grid.crs,
                     grid.source_crs, f"{grid.source} (block mean {k}x{k})"), k
