"""Geometry and terrain of the built-in city (private helper of :mod:`networks.builtin`).

Everything here works in *local* city coordinates: metres east (``x``) and north
(``y``) of the city's south-west corner. :class:`CityFrame` holds the analytic
features (coast line, river centre line and width, city centre) that every other
stage of the generator asks about; :func:`make_terrain` rasterises them into a DEM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: DEM cell size (m)
CELL_M = 30.0
#: extent of the city box at scale 1 (m)
BASE_WIDTH_M = 12_000.0
BASE_HEIGHT_M = 10_000.0


def smoothstep(e0: float | np.ndarray, e1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cubic Hermite step: 0 below ``e0``, 1 above ``e1``."""
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _sines(t: np.ndarray, terms: tuple[tuple[float, float, float], ...]) -> np.ndarray:
    out = np.zeros(np.shape(t))
    for amp, wavelength, phase in terms:
        out = out + amp * np.sin(2.0 * np.pi * t / wavelength + phase)
    return out


@dataclass(frozen=True)
class CityFrame:
    """Analytic features of the city in local coordinates (metres from the SW corner).

    The city box is ``[0, width_m] x [0, height_m]``; the DEM covers it with
    ``margin_m`` on every side. The coast runs roughly east-west near the south
    edge (sea to the south), the river roughly north-south to the sea.
    """

    scale: float
    width_m: float
    height_m: float
    margin_m: float
    origin_x_m: float
    origin_y_m: float
    coast_base_m: float
    coast_terms: tuple[tuple[float, float, float], ...]
    #: Gaussian bends of the coast: (x centre, e-folding half width, metres inland (+) or
    #: seaward (-)); the first is the estuary at the river mouth
    coast_bends: tuple[tuple[float, float, float], ...]
    river_base_m: float
    river_terms: tuple[tuple[float, float, float], ...]
    river_halfwidth_m: float
    floodplain_m: float
    centre: tuple[float, float]

    # -- coast ---------------------------------------------------------------
    def coast_y(self, x: np.ndarray) -> np.ndarray:
        """Northing of the coast line at easting ``x`` (sea lies south of it)."""
        x = np.asarray(x, dtype=float)
        out = self.coast_base_m + _sines(x, self.coast_terms)
        for xc, w, depth in self.coast_bends:
            out = out + depth * np.exp(-(((x - xc) / w) ** 2))
        return out

    def coast_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Signed north-south distance to the coast: positive inland, negative at sea."""
        return np.asarray(y, dtype=float) - self.coast_y(x)

    # -- river ---------------------------------------------------------------
    def river_x(self, y: np.ndarray) -> np.ndarray:
        """Easting of the river centre line at northing ``y``."""
        y = np.asarray(y, dtype=float)
        return self.river_base_m + _sines(y, self.river_terms)

    def river_halfwidth(self, y: np.ndarray) -> np.ndarray:
        """Half width of the channel (m); it widens into an estuary near the coast."""
        y = np.asarray(y, dtype=float)
        above = np.maximum(y - self.coast_base_m, 0.0)
        return self.river_halfwidth_m + 140.0 * np.exp(-above / 1500.0)

    def river_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """East-west distance to the river centre line (m)."""
        return np.abs(np.asarray(x, dtype=float) - self.river_x(y))

    def river_side(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """+1 east of the river, -1 west of it."""
        return np.where(np.asarray(x, dtype=float) >= self.river_x(y), 1, -1)

    def in_channel(self, x: np.ndarray, y: np.ndarray, *, pad_m: float = 0.0) -> np.ndarray:
        return self.river_distance(x, y) < self.river_halfwidth(y) + pad_m


def make_frame(rng: np.random.Generator, scale: float, origin_xy: tuple[float, float]) -> CityFrame:
    """Draw the city's analytic features for ``scale`` (linear extent factor)."""
    w = BASE_WIDTH_M * scale
    h = BASE_HEIGHT_M * scale
    u = rng.uniform
    coast_base = 0.12 * h + 60.0
    coast_terms = (
        (0.03 * h, 0.8 * w, u(0, 2 * np.pi)),
        (0.015 * h, 0.33 * w, u(0, 2 * np.pi)),
        (u(60, 110), u(1500, 2500), u(0, 2 * np.pi)),
        (u(25, 45), u(600, 1000), u(0, 2 * np.pi)),
    )
    river_base = u(0.40, 0.46) * w
    river_terms = (
        (0.045 * w, 1.1 * h, u(0, 2 * np.pi)),
        (0.012 * w, 0.37 * h, u(0, 2 * np.pi)),
        (u(30, 60), u(1100, 1600), u(0, 2 * np.pi)),
    )
    x_mouth = float(river_base + _sines(np.array(coast_base), river_terms))
    small = min(scale, 1.0) ** 0.5
    bends = [(x_mouth, 700.0 * small + 200.0, 250.0 * small)]
    # a bay and a headland per ~100 km2, away from the river mouth
    for k in range(2 * max(1, int(round(scale ** 2)))):
        xc = u(0.05, 0.95) * w
        if abs(xc - x_mouth) < 2500.0 * small:
            xc = (xc + 0.5 * w) % w
        sign = 1.0 if k % 2 == 0 else -1.0
        bends.append((xc, u(500, 1100) * small, sign * u(250, 450) * small))
    yc = 0.38 * h
    xr = float(river_base + _sines(np.array(yc), river_terms))
    centre = (xr + u(300, 700), yc)
    return CityFrame(
        scale=scale, width_m=w, height_m=h, margin_m=max(1000.0, 0.1 * max(w, h)),
        origin_x_m=origin_xy[0], origin_y_m=origin_xy[1],
        coast_base_m=coast_base, coast_terms=coast_terms, coast_bends=tuple(bends),
        river_base_m=river_base, river_terms=river_terms,
        river_halfwidth_m=u(80.0, 100.0), floodplain_m=700.0 + 0.03 * w, centre=centre,
    )


def _smooth_noise(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray,
                  length_m: float) -> np.ndarray:
    """Smooth, unit-variance noise on the grid ``ys x xs`` with correlation ~``length_m``.

    White noise on a coarse lattice (spacing ``length_m / 3``), Gaussian-filtered and
    cubic-spline interpolated: cost independent of ``length_m`` at fine resolution.
    """
    step = length_m / 3.0
    x0, y0 = xs.min() - 2 * step, ys.min() - 2 * step
    nx_ = int(np.ceil((xs.max() - x0) / step)) + 3
    ny_ = int(np.ceil((ys.max() - y0) / step)) + 3
    coarse = ndimage.gaussian_filter(rng.standard_normal((ny_, nx_)), 1.2, mode="reflect")
    coarse = (coarse - coarse.mean()) / max(float(coarse.std()), 1e-9)
    ci = ((ys - y0) / step).astype(np.float64)
    cj = ((xs - x0) / step).astype(np.float64)
    spline = ndimage.spline_filter(coarse, order=3)
    out = np.empty((len(ys), len(xs)), dtype=np.float32)
    cjj = np.broadcast_to(cj, (1, len(xs)))
    # row by row chunks keep memory low on big grids
    chunk = max(1, 2_000_000 // max(len(xs), 1))
    for r0 in range(0, len(ys), chunk):
        rows = ci[r0:r0 + chunk]
        ii, jj = np.meshgrid(rows, cjj[0], indexing="ij")
        out[r0:r0 + chunk] = ndimage.map_coordinates(spline, [ii, jj], order=3,
                                                     prefilter=False, mode="nearest")
    return out


def _blob(dx: np.ndarray, dy: np.ndarray, sigma: float, elong: float, angle: float
          ) -> np.ndarray:
    """Elliptic Gaussian bump (peak 1), long axis ``sigma * elong`` at ``angle``."""
    c, s = np.cos(angle), np.sin(angle)
    a = (dx * c + dy * s) / (sigma * elong)
    b = (-dx * s + dy * c) / sigma
    return np.exp(-0.5 * (a * a + b * b))


def _blob_field(xs: np.ndarray, ys: np.ndarray,
                blobs: list[tuple[float, float, float, float, float, float]]) -> np.ndarray:
    """Sum of elliptic bumps ``(x, y, height, sigma, elongation, angle)`` on the grid.

    Each bump is evaluated only within 4.5 of its long-axis sigmas (cheap at any scale).
    """
    out = np.zeros((len(ys), len(xs)), dtype=np.float32)
    cell = abs(xs[1] - xs[0]) if len(xs) > 1 else 1.0
    for bx, by, bz, sigma, elong, ang in blobs:
        reach = 4.5 * sigma * max(elong, 1.0)
        c0 = max(0, int((bx - reach - xs[0]) / cell))
        c1 = min(len(xs), int((bx + reach - xs[0]) / cell) + 2)
        r0 = max(0, int((ys[0] - (by + reach)) / cell))
        r1 = min(len(ys), int((ys[0] - (by - reach)) / cell) + 2)
        if c0 >= c1 or r0 >= r1:
            continue
        dx = xs[None, c0:c1] - bx
        dy = ys[r0:r1, None] - by
        out[r0:r1, c0:c1] += (bz * _blob(dx, dy, sigma, elong, ang)).astype(np.float32)
    return out


@dataclass(frozen=True, eq=False)
class TerrainGrid:
    """The DEM in local coordinates plus its slope (private working copy)."""

    elevation_m: np.ndarray  # float32, row 0 at the north edge
    slope: np.ndarray  # float32, rise over run
    x_left: float  # local x of the west edge
    y_top: float  # local y of the north edge
    cell_m: float

    def _index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ny_, nx_ = self.elevation_m.shape
        col = np.clip(np.floor((np.asarray(x) - self.x_left) / self.cell_m).astype(np.int64),
                      0, nx_ - 1)
        row = np.clip(np.floor((self.y_top - np.asarray(y)) / self.cell_m).astype(np.int64),
                      0, ny_ - 1)
        return row, col

    def z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation (nearest cell, clamped to the raster)."""
        r, c = self._index(x, y)
        return self.elevation_m[r, c].astype(np.float64)

    def grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r, c = self._index(x, y)
        return self.slope[r, c].astype(np.float64)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        ny_, nx_ = self.elevation_m.shape
        xs = self.x_left + (np.arange(nx_) + 0.5) * self.cell_m
        ys = self.y_top - (np.arange(ny_) + 0.5) * self.cell_m
        return xs, ys


def make_terrain(frame: CityFrame, rng: np.random.Generator) -> TerrainGrid:
    """Rasterise the city's DEM: sea in the south, a river valley, hills in the north-east."""
    w, h, m = frame.width_m, frame.height_m, frame.margin_m
    nx_ = int(np.ceil((w + 2 * m) / CELL_M))
    ny_ = int(np.ceil((h + 2 * m) / CELL_M))
    x_left, y_top = -m, -m + ny_ * CELL_M
    xs = x_left + (np.arange(nx_) + 0.5) * CELL_M
    ys = y_top - (np.arange(ny_) + 0.5) * CELL_M

    n_fine = _smooth_noise(rng, xs, ys, 300.0)
    n_mid = _smooth_noise(rng, xs, ys, 1200.0)
    n_coarse = _smooth_noise(rng, xs, ys, 3500.0)

    # isolated hills inside the city (the PRD's typical park hills)
    n_iso = max(1, int(round(2.5 * frame.scale ** 2)))
    iso = []
    tries = 0
    while len(iso) < n_iso and tries < 50 * n_iso:
        tries += 1
        hx, hy = rng.uniform(0.08, 0.92) * w, rng.uniform(0.3, 0.72) * h
        if abs(hx - float(frame.river_x(hy))) < frame.floodplain_m + 700.0:
            continue
        iso.append((hx, hy, rng.uniform(45.0, 110.0), rng.uniform(250.0, 450.0),
                    rng.uniform(1.3, 2.2), rng.uniform(0.0, np.pi)))

    # small islands offshore (terrain only: no streets reach them)
    islands = []
    for _ in range(max(1, int(round(3 * frame.scale ** 2)))):
        ix = rng.uniform(0.0, w)
        iy = float(frame.coast_y(ix)) - rng.uniform(700.0, max(900.0, frame.coast_base_m + 300.0))
        iz, isg = rng.uniform(15.0, 70.0), rng.uniform(120.0, 300.0) * min(frame.scale, 1.0)
        islands.append((ix, iy, iz, isg, rng.uniform(1.5, 3.0), rng.uniform(0.0, np.pi)))
        # a second, smaller lobe makes the outline less regular
        ang = rng.uniform(0.0, 2 * np.pi)
        islands.append((ix + 1.2 * isg * np.cos(ang), iy + 1.2 * isg * np.sin(ang), 0.6 * iz,
                        0.6 * isg, rng.uniform(1.0, 2.0), rng.uniform(0.0, np.pi)))

    amp_hills = 260.0 * min(max(frame.scale, 0.4), 1.0) ** 0.5
    iso_z = _blob_field(xs, ys, [(hx, hy, hz, hs, el, an) for hx, hy, hz, hs, el, an in iso])
    isl_z = _blob_field(xs, ys, [(ix, iy, iz + 8.0, isg, el, an)
                                 for ix, iy, iz, isg, el, an in islands])
    z = np.empty((ny_, nx_), dtype=np.float32)
    xrow = xs[None, :]
    coast = frame.coast_y(xs)[None, :]
    for r0 in range(0, ny_, 256):  # row blocks keep temporaries small at large scale
        sl = slice(r0, min(r0 + 256, ny_))
        y = ys[sl][:, None]
        s = y - coast  # + inland
        sp = np.maximum(s, 0.0)
        base = 2.6 * (1.0 - np.exp(-sp / 150.0)) + 30.0 * (1.0 - np.exp(-sp / 10_000.0))
        hill_t = 0.75 * (y / h) + 0.42 * (xrow / w)
        mask = smoothstep(0.55, 1.12, hill_t)
        ridge = np.clip(0.6 + 0.28 * n_mid[sl] + 0.18 * n_coarse[sl], 0.05, 1.25)
        land = base + amp_hills * mask ** 1.3 * ridge
        land = land + iso_z[sl] * (1.0 + 0.3 * n_mid[sl])
        land = land + (0.6 + 7.0 * mask) * n_fine[sl] * smoothstep(0.0, 400.0, s)
        # river valley: a flat floodplain a few metres above the sea, rising inland
        d = np.abs(xrow - frame.river_x(y))
        hw = frame.river_halfwidth(y)
        fp = ((1.7 + 12.0 * (1.0 - np.exp(-sp / 15_000.0))) * (1.0 - np.exp(-sp / 120.0))
              + 0.25 * n_fine[sl])
        t = smoothstep(0.45 * frame.floodplain_m, frame.floodplain_m, d - hw)
        land = fp + (land - fp) * t
        # channel and banks (bed below sea level: a tidal river)
        bank = np.where(d < hw, -4.0 + 3.0 * (d / hw) ** 2, -1.0 + 0.06 * (d - hw))
        land = np.minimum(land, bank)
        sea = -(1.2 * (1.0 - np.exp(s / 250.0)) - 0.004 * s) + 0.3 * n_fine[sl]
        sea = np.minimum(np.minimum(sea, -0.15), bank)
        sea = sea + isl_z[sl] * (1.0 + 0.4 * n_fine[sl])
        z[sl] = np.where(s < 0.0, sea, land).astype(np.float32)

    z = ndimage.gaussian_filter(z, 0.7).astype(np.float32)
    gy, gx = np.gradient(z.astype(np.float64), CELL_M)
    slope = np.hypot(gx, gy).astype(np.float32)
    return TerrainGrid(elevation_m=z, slope=slope, x_left=x_left, y_top=y_top, cell_m=CELL_M)


_DIRECTIONS = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0], [0.0, -1.0],
                        [0.7071, 0.7071], [-0.7071, 0.7071], [0.7071, -0.7071],
                        [-0.7071, -0.7071]])


def dry_direction(frame: CityFrame, terrain: TerrainGrid, base: np.ndarray,
                  preferred: np.ndarray, reach_m: float) -> np.ndarray:
    """Unit direction per point in which facilities can be placed up to ``reach_m`` away.

    ``preferred`` (n, 2) is used where the points at half and full reach stand on dry
    land (above 0.5 m, outside the river channel); otherwise the first dry one of the
    eight compass directions, else the preferred one anyway.
    """
    base = np.atleast_2d(base)
    preferred = np.atleast_2d(preferred)
    out = preferred.astype(float).copy()
    for i in range(len(base)):
        for d in np.vstack([preferred[i], _DIRECTIONS]):
            pts = base[i] + np.outer([0.25, 0.5, 0.75, 1.0], d) * reach_m
            if ((terrain.z(pts[:, 0], pts[:, 1]) > 0.5).all()
                    and not frame.in_channel(pts[:, 0], pts[:, 1], pad_m=5.0).any()
                    and (frame.coast_distance(pts[:, 0], pts[:, 1]) > 10.0).all()):
                out[i] = d
                break
    return out
