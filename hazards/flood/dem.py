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
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import HazardError

#: Fraction of the available memory the solver state may take.
MEMORY_FRACTION = 0.6


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


def available_memory_bytes() -> int:
    """Physical memory available now (``os.sysconf``); a large number if unknown."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(shape: tuple[int, int], bytes_per_cell: int, *, where: str) -> None:
    """Raise if a grid of ``shape`` needs more than a safe share of the free memory."""
    need = int(shape[0]) * int(shape[1]) * int(bytes_per_cell)
    have = available_memory_bytes()
    if need > MEMORY_FRACTION * have:
        raise HazardError(
            f"a {shape[0]} x {shape[1]} grid needs about {need / 2**30:.1f} GiB of solver state, "
            f"more than {MEMORY_FRACTION:.0%} of the {have / 2**30:.1f} GiB available; "
            "crop or coarsen the DEM", where=where)


def utm_crs_for(lon: float, lat: float) -> str:
    """The WGS84 UTM zone CRS (``EPSG:326zz``/``EPSG:327zz``) of a point."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _crs_string(crs: object) -> str:
    from rasterio.crs import CRS

    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_wkt()


def is_projected(crs: str) -> bool:
    from rasterio.crs import CRS

    return bool(CRS.from_user_input(crs).is_projected)


@contextmanager
def open_raster(path: Path | str, what: str, *, crs_hint: str = "") -> Iterator:
    """Open a raster with rasterio; a missing, unreadable or CRS-less file is a one-line
    :class:`HazardError` naming it (``what`` says which input it is)."""
    import rasterio
    from rasterio.errors import RasterioIOError

    where = str(path)
    if not Path(path).exists():
        raise HazardError(f"{what} file not found", where=where)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise HazardError(f"not a raster GDAL can read ({exc})", where=where) from None
    with src:
        if src.crs is None:
            raise HazardError(f"{what} has no CRS" + (f"; {crs_hint}" if crs_hint else ""),
                              where=where)
        yield src


def load_dem(path: Path | str, *, target_crs: str | None = None, bytes_per_cell: int = 100
             ) -> FloodGrid:
    """Read a DEM (see the module rules); elevations float64 with NaN for no data."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    path = Path(path)
    where = str(path)
    with open_raster(path, "DEM", crs_hint="give the file a projected CRS (a .prj beside an "
                     ".asc, or gdal_edit.py -a_srs EPSG:xxxx)") as src:
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise HazardError("DEM is rotated or sheared; warp it to a north-up grid first",
                              where=where)
        src_crs = _crs_string(src.crs)
        if target_crs is not None and not is_projected(target_crs):
            raise HazardError(f"target CRS {target_crs} is not projected (metres needed)",
                              where=where)
        need_warp = (not src.crs.is_projected) or (
            target_crs is not None and _crs_string(target_crs) != src_crs)
        check_memory((src.height, src.width), bytes_per_cell, where=where)
        data = src.read(1, masked=True).astype(np.float64)
        z = np.where(np.ma.getmaskarray(data), np.nan, np.ma.getdata(data))
        z[~np.isfinite(z)] = np.nan
        if src.nodata is not None and np.isfinite(src.nodata):
            z[z == src.nodata] = np.nan
        if not np.isfinite(z).any():
            raise HazardError("DEM has no valid cell (all NoData)", where=where)
        if not need_warp:
            transform = (t.a, t.b, t.c, t.d, t.e, t.f)
            crs = src_crs
        else:
            if target_crs is None:
                from rasterio.warp import transform as warp_points

                cx = src.bounds.left + 0.5 * (src.bounds.right - src.bounds.left)
                cy = src.bounds.bottom + 0.5 * (src.bounds.top - src.bounds.bottom)
                lon, lat = warp_points(src.crs, "EPSG:4326", [cx], [cy])
                crs = utm_crs_for(lon[0], lat[0])
            else:
                crs = _crs_string(target_crs)
            dst_t, w, h = calculate_default_transform(src.crs, crs, src.width, src.height,
                                                      *src.bounds)
            check_memory((h, w), bytes_per_cell, where=where)
            out = np.full((h, w), np.nan)
            reproject(source=z, destination=out, src_transform=src.transform, src_crs=src.crs,
                      src_nodata=np.nan, dst_transform=dst_t, dst_crs=crs, dst_nodata=np.nan,
                      resampling=Resampling.bilinear)
            z = out
            transform = (dst_t.a, dst_t.b, dst_t.c, dst_t.d, dst_t.e, dst_t.f)
    return _north_up(FloodGrid(z, transform, crs, src_crs, str(path)))


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
    if target_crs is not None and _crs_string(target_crs) != _crs_string(crs):
        raise HazardError(f"terrain CRS {crs} differs from the city CRS {target_crs}",
                          where="terrain")
    if not np.isfinite(z).any():
        raise HazardError("terrain has no valid cell", where="terrain")
    return _north_up(FloodGrid(z.copy(), tr, _crs_string(crs), _crs_string(crs), "terrain"))


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
