"""One way to open and read a user's raster (DEM, Manning's n, depth map, land use).

Rules every reader shares
-------------------------
- A missing file, a path that is not a regular file (a folder, ``/dev/zero``), a
  file GDAL cannot read, and a raster without a CRS each raise the caller's
  :class:`~common.errors.InputError` subclass with one line naming the file.
- A rotated or sheared raster is refused (every consumer works on north-up grids).
- NoData is never read as a number: the file's nodata value, masked cells, NaN
  and infinities all become NaN (:func:`read_band`); a band with no valid cell is
  an error. What to do with the holes (walls, nearest fill, "not exposed") is the
  consumer's policy.
- Before a band is read, the bytes it would take are compared with the memory
  available (:func:`check_memory`), so a huge file is refused, not swapped in.
- A raster in another CRS than the one asked for is reprojected
  (:func:`read_raster`, ``on_mismatch="reproject"``) or refused
  (``on_mismatch="error"``); a geographic raster that must be projected goes to
  the WGS84 UTM zone of its centre when no target CRS is given.

rasterio is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from common.digest import regular_file_problem
from common.errors import InputError

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

#: Fraction of the available memory one raster (or a solver state built on it) may take.
MEMORY_FRACTION = 0.6

Transform = tuple[float, float, float, float, float, float]


def crs_string(crs: object) -> str:
    """``"EPSG:xxxx"`` when the CRS has an EPSG code, else its WKT."""
    from rasterio.crs import CRS

    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_wkt()


def is_projected(crs: object) -> bool:
    """Whether ``crs`` is a projected CRS (coordinates in metres or feet, not degrees)."""
    from rasterio.crs import CRS

    return bool(CRS.from_user_input(crs).is_projected)


def same_crs(a: object, b: object) -> bool:
    """Whether two CRS descriptions (EPSG string, WKT, rasterio CRS) are the same CRS."""
    from rasterio.crs import CRS

    return CRS.from_user_input(a) == CRS.from_user_input(b)


def utm_crs_for(lon: float, lat: float) -> str:
    """The WGS84 UTM zone CRS (``EPSG:326zz``/``EPSG:327zz``) of a point."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def available_memory_bytes() -> int:
    """Physical memory available now (``os.sysconf``); a large number if unknown."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(shape: tuple[int, ...], bytes_per_cell: float, *, where: str,
                 what: str = "grid", hint: str = "crop or coarsen the raster",
                 error: type[InputError] = InputError) -> None:
    """Raise ``error`` if an array of ``shape`` x ``bytes_per_cell`` needs more than
    :data:`MEMORY_FRACTION` of the free memory (checked before allocating it)."""
    cells = 1
    for n in shape:
        cells *= int(n)
    need = cells * float(bytes_per_cell)
    have = available_memory_bytes()
    if need > MEMORY_FRACTION * have:
        dims = " x ".join(str(int(n)) for n in shape)
        raise error(f"a {dims} {what} needs about {need / 2**30:.1f} GiB, more than "
                    f"{MEMORY_FRACTION:.0%} of the {have / 2**30:.1f} GiB available; {hint}",
                    where=where)


@contextmanager
def open_raster(path: Path | str, what: str, *, error: type[InputError] = InputError,
                crs_hint: str = "") -> Iterator[DatasetReader]:
    """Open a raster for reading; yields the rasterio dataset.

    Parameters
    ----------
    path : Path or str
        The raster file.
    what : str
        What the file is, for messages (``"DEM"``, ``"Manning raster"``).
    error : type of InputError
        The exception class the caller's floor raises (``HazardError``, ``NetworkError``).
    crs_hint : str
        Appended to the no-CRS message: how to fix it.

    Raises
    ------
    error
        Missing file, not a regular file, unreadable by GDAL, no CRS, rotated or sheared.
    """
    import rasterio
    from rasterio.errors import RasterioError

    where = str(path)
    if not Path(path).exists():
        raise error(f"{what} file not found", where=where)
    problem = regular_file_problem(path)
    if problem is not None:
        raise error(f"{what}: {problem}", where=where)
    try:
        src = rasterio.open(path)
    except RasterioError as exc:
        raise error(f"{what} is not a raster GDAL can read ({exc})", where=where) from None
    with src:
        if src.crs is None:
            raise error(f"{what} has no CRS" + (f"; {crs_hint}" if crs_hint else ""),
                        where=where)
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise error(f"{what} is rotated or sheared; warp it to a north-up grid first",
                        where=where)
        yield src


def read_band(src: DatasetReader, *, band: int = 1, what: str = "raster",
              error: type[InputError] = InputError, allow_empty: bool = False) -> np.ndarray:
    """Band ``band`` as float64 with NaN for every NoData cell (never a number).

    The file's nodata value, masked cells, NaN and infinities all become NaN. A
    band without any valid cell raises ``error`` unless ``allow_empty``.
    """
    from rasterio.errors import RasterioError

    where = str(src.name)
    if not 1 <= band <= src.count:
        raise error(f"{what} has {src.count} band(s), band {band} asked", where=where)
    check_memory((src.height, src.width), 8 * 2, where=where, what=what, error=error)
    try:
        data = src.read(band, masked=True)
    except RasterioError as exc:
        raise error(f"cannot read {what} ({exc})", where=where) from None
    z = np.where(np.ma.getmaskarray(data), np.nan, np.ma.getdata(data).astype(np.float64))
    z[~np.isfinite(z)] = np.nan
    if src.nodata is not None and np.isfinite(src.nodata):
        z[z == src.nodata] = np.nan
    if not allow_empty and not np.isfinite(z).any():
        raise error(f"{what} has no valid cell (all NoData)", where=where)
    return z


@dataclass(frozen=True, eq=False)
class Raster:
    """A band read from a file: ``values[row, col]`` float64, NaN = no data.

    ``transform`` is the affine 6-tuple ``(a, b, c, d, e, f)`` (``b = d = 0``);
    ``crs`` the CRS of ``values`` (after any reprojection); ``source_crs`` that
    of the file; ``source`` the file's path.
    """

    values: np.ndarray
    transform: Transform
    crs: str
    source_crs: str
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.values.shape[0]), int(self.values.shape[1]))

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Values at points (the cell containing each point); NaN outside the raster."""
        return sample_grid(self.values, self.transform, x, y)


def sample_grid(values: np.ndarray, transform: Transform, x: np.ndarray, y: np.ndarray
                ) -> np.ndarray:
    """``values`` (north-up, ``transform``) at points (x, y); NaN outside or at NaN points."""
    a, _, c, _, e, f = transform
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        colf = np.floor((x - c) / a)
        rowf = np.floor((y - f) / e)
    ny, nx = values.shape
    ok = np.isfinite(colf) & np.isfinite(rowf) & (colf >= 0) & (colf < nx) & (rowf >= 0) & (
        rowf < ny)
    out = np.full(x.shape, np.nan)
    out[ok] = values[rowf[ok].astype(np.int64), colf[ok].astype(np.int64)]
    return out


def read_raster(path: Path | str, what: str, *, band: int = 1, target_crs: str | None = None,
                projected: bool = False, on_mismatch: Literal["reproject", "error"] = "reproject",
                bytes_per_cell: float = 16, error: type[InputError] = InputError,
                crs_hint: str = "") -> Raster:
    """Read one band (the module's rules), in ``target_crs`` when given.

    Parameters
    ----------
    path, what, error, crs_hint
        As for :func:`open_raster`.
    band : int
        1-based band number.
    target_crs : str, optional
        The CRS wanted (the city's). A raster in another CRS is reprojected
        (bilinear, square cells chosen by ``calculate_default_transform``) or,
        with ``on_mismatch="error"``, refused.
    projected : bool
        The result must be in a projected CRS: a geographic raster without a
        ``target_crs`` is reprojected to the UTM zone of its centre, and a
        geographic ``target_crs`` is refused.
    bytes_per_cell : float
        What the caller will allocate per cell (solver state, copies), for the
        memory check on the file's grid and on the reprojected grid.
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    where = str(path)
    if projected and target_crs is not None and not is_projected(target_crs):
        raise error(f"target CRS {target_crs} is not projected (metres needed)", where=where)
    with open_raster(path, what, error=error, crs_hint=crs_hint) as src:
        check_memory((src.height, src.width), bytes_per_cell, where=where, what=what,
                     error=error)
        src_crs = crs_string(src.crs)
        if target_crs is not None:
            dst_crs = crs_string(target_crs)
        elif projected and not src.crs.is_projected:
            from rasterio.warp import transform as warp_points

            b = src.bounds
            lon, lat = warp_points(src.crs, "EPSG:4326", [0.5 * (b.left + b.right)],
                                   [0.5 * (b.bottom + b.top)])
            dst_crs = utm_crs_for(lon[0], lat[0])
        else:
            dst_crs = src_crs
        z = read_band(src, band=band, what=what, error=error)
        t = src.transform
        if dst_crs == src_crs or same_crs(dst_crs, src.crs):
            return Raster(z, (t.a, t.b, t.c, t.d, t.e, t.f), src_crs, src_crs, where)
        if on_mismatch == "error":
            raise error(f"{what} CRS {src_crs} differs from {dst_crs}; reproject it "
                        f"(gdalwarp -t_srs {dst_crs})", where=where)
        dst_t, w, h = calculate_default_transform(src.crs, dst_crs, src.width, src.height,
                                                  *src.bounds)
        check_memory((h, w), bytes_per_cell, where=where, what=f"reprojected {what}",
                     error=error)
        out = np.full((h, w), np.nan)
        reproject(source=z, destination=out, src_transform=t, src_crs=src.crs,
                  src_nodata=np.nan, dst_transform=dst_t, dst_crs=dst_crs, dst_nodata=np.nan,
                  resampling=Resampling.bilinear)
    return Raster(out, (dst_t.a, dst_t.b, dst_t.c, dst_t.d, dst_t.e, dst_t.f), dst_crs,
                  src_crs, where)


def read_onto_grid(path: Path | str, what: str, *, transform: Transform,
                   shape: tuple[int, int], crs: str, band: int = 1,
                   resampling: Literal["nearest", "bilinear"] = "nearest",
                   error: type[InputError] = InputError) -> np.ndarray:
    """One band resampled onto a given grid (float64, NaN where the file has no data
    or does not reach); for parameter rasters that must match a DEM."""
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    with open_raster(path, what, error=error) as src:
        check_memory(shape, 8, where=str(path), what=what, error=error)
        a = read_band(src, band=band, what=what, error=error)
        out = np.full(shape, np.nan)
        reproject(source=a, destination=out, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=np.nan, dst_transform=Affine(*transform), dst_crs=crs,
                  dst_nodata=np.nan, resampling=getattr(Resampling, resampling))
    return out
