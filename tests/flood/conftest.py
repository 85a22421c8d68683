"""Small fixtures for the flood tests: DEM files and grids built in code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CRS = "EPSG:32650"  # a projected CRS (UTM 50N); coordinates below are made up
ORIGIN = (500000.0, 3400000.0)  # west and north edges of the test DEMs


def write_dem(path: Path, z: np.ndarray, *, dx: float = 10.0, crs: str | None = CRS,
              nodata: float | None = -9999.0) -> Path:
    """Write ``z`` (row 0 north) as a GeoTIFF with ``dx`` square cells at ORIGIN."""
    import rasterio
    from affine import Affine

    z = np.asarray(z, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(dx, 0, ORIGIN[0], 0, -dx, ORIGIN[1])) as dst:
        dst.write(z, 1)
    return path


def valley(ny: int = 30, nx: int = 40, *, dx: float = 10.0) -> np.ndarray:
    """A valley draining south: V-shaped across x, sloping down towards row ny-1."""
    y, x = np.mgrid[0:ny, 0:nx].astype(float)
    return 0.01 * (ny - y) * dx + 0.05 * np.abs(x - (nx - 1) / 2.0) * dx


@pytest.fixture
def valley_dem(tmp_path: Path) -> Path:
    return write_dem(tmp_path / "valley.tif", valley())


@pytest.fixture
def dem_writer():
    """The :func:`write_dem` helper (fixtures avoid importing this conftest by name)."""
    return write_dem


@pytest.fixture
def valley_z():
    return valley
