"""A digital elevation model record, shared by networks (city terrain), hazards and views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Terrain:
    """A digital elevation model on a north-up raster in the city's CRS.

    ``elevation_m[row, col]``, row 0 at the north edge; ``transform`` is the
    rasterio/affine 6-tuple ``(a, b, c, d, e, f)`` mapping (col, row) to (x, y):
    ``x = a*col + b*row + c``, ``y = d*col + e*row + f``. NaN marks no-data.
    """

    elevation_m: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.elevation_m.shape)  # type: ignore[return-value]

    @property
    def cell_size_m(self) -> float:
        return float(abs(self.transform[0]))

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the raster's outer edges."""
        a, _, c, _, e, f = self.transform
        ny, nx_ = self.elevation_m.shape
        xs = (c, c + a * nx_)
        ys = (f, f + e * ny)
        return min(xs), min(ys), max(xs), max(ys)

    def fingerprint(self) -> str:
        """sha256 (hex) of everything that defines the terrain: elevations (dtype, shape,
        bytes, NaN included), transform and CRS; the one terrain term of every cache key."""
        import hashlib
        import json

        z = np.ascontiguousarray(self.elevation_m)
        h = hashlib.sha256()
        h.update(f"{z.dtype.str}|{z.shape}|".encode())
        h.update(z.tobytes())
        h.update(json.dumps([float(v) for v in self.transform]).encode())
        h.update(str(self.crs).encode())
        return h.hexdigest()

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation at points (nearest cell); NaN outside the raster."""
        a, _, c, _, e, f = self.transform
        col = np.floor((np.asarray(x) - c) / a).astype(np.int64)
        row = np.floor((np.asarray(y) - f) / e).astype(np.int64)
        ny, nx_ = self.elevation_m.shape
        ok = (col >= 0) & (col < nx_) & (row >= 0) & (row < ny)
        out = np.full(np.shape(x), np.nan)
        out[ok] = self.elevation_m[row[ok], col[ok]]
        return out
