"""One way to sample a hazard along the twin's sites, and to reduce it back per site.

Every hazard evaluates its intensity at points and reports one value per site
(:class:`hazards.base.Sites`). A node is one point. An edge is a polyline whose
exposure is that of its worst point, so it is *densified*: points at every
vertex and along every segment no farther apart than ``step_m``
(``step_m=inf``: the vertices only). :func:`sample_sites` returns the points and
the site that owns each; :func:`site_max` reduces a value per point to the
maximum per site (NaN points ignored; NaN for a site whose points are all NaN).

Which spacing a hazard uses is its own choice and belongs in its cache key: the
flood samples at half a solver cell (so an edge sees every cell it crosses),
the damage map at the vertices, the typhoon every ``edge_sample_m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.errors import HazardError
from hazards.base import Sites

#: Refuse a sampling that would make more points than this (a few hundred MB of
#: coordinates and per-point values): a spacing too fine for the city.
MAX_POINTS = 20_000_000


@dataclass(frozen=True, eq=False)
class SitePoints:
    """Points along the sites: point ``k`` at ``(x[k], y[k])`` belongs to site ``owner[k]``.

    Invariants: ``owner`` is non-decreasing int64 in ``[0, n_sites)``; every site
    owns at least one point (its representative point when it has no vertex);
    a site's points run in order along its polyline, vertices included; ``crs``
    is the CRS of ``x``/``y`` (metres in a projected CRS).
    """

    x: np.ndarray
    y: np.ndarray
    owner: np.ndarray
    n_sites: int
    crs: str
    step_m: float

    def __len__(self) -> int:
        return int(self.x.size)

    def to_crs(self, crs: str) -> SitePoints:
        """The same points in ``crs`` (itself when the CRS is the same)."""
        if not self.crs or not crs or self.crs == crs:
            return self
        from pyproj import CRS, Transformer

        if CRS.from_user_input(self.crs) == CRS.from_user_input(crs):
            return self
        t = Transformer.from_crs(self.crs, crs, always_xy=True)
        x, y = t.transform(self.x, self.y)
        return SitePoints(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                          self.owner, self.n_sites, crs, self.step_m)

    def site_max(self, values: np.ndarray) -> np.ndarray:
        """Per-site maximum of per-point ``values`` (last axis = points); see :func:`site_max`."""
        return site_max(values, self.owner, self.n_sites)


def sample_sites(sites: Sites, step_m: float = math.inf, *,
                 max_points: int = MAX_POINTS) -> SitePoints:
    """Points along every site no farther apart than ``step_m`` (metres).

    Parameters
    ----------
    sites : Sites
        The twin's sites; nodes give one point, edges their densified polyline.
    step_m : float
        Largest spacing between consecutive points of an edge (> 0); ``inf``
        keeps only the vertices. A segment of length ``L`` gets
        ``ceil(L / step_m) - 1`` evenly spaced interior points.
    max_points : int
        Refuse (before allocating) a sampling with more points than this.

    Raises
    ------
    HazardError
        ``step_m`` is not > 0, the sites' offsets are inconsistent, or the
        sampling would exceed ``max_points``.
    """
    step_m = float(step_m)
    if not step_m > 0:  # also NaN
        raise HazardError(f"sampling step {step_m} m must be > 0", where="sites")
    n = len(sites)
    off = np.asarray(sites.line_offsets, dtype=np.int64)
    if off.size != n + 1 or (n and (off[0] != 0 or np.any(np.diff(off) < 0))):
        raise HazardError(f"sites have {n} ids but inconsistent line offsets "
                          f"({off.size} offsets)", where="sites")
    lx = np.asarray(sites.line_x, dtype=np.float64)
    ly = np.asarray(sites.line_y, dtype=np.float64)
    counts = np.diff(off)
    # a site without vertices is sampled at its representative point
    empty = np.nonzero(counts == 0)[0]
    if empty.size:
        ins = off[empty]
        lx = np.insert(lx, ins, np.asarray(sites.x_m, dtype=np.float64)[empty])
        ly = np.insert(ly, ins, np.asarray(sites.y_m, dtype=np.float64)[empty])
        counts = np.maximum(counts, 1)
    vert_owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    x, y, owner = densify(lx, ly, vert_owner, step_m, max_points=max_points)
    return SitePoints(x, y, owner, n, sites.crs, step_m)


def densify(x: np.ndarray, y: np.ndarray, owner: np.ndarray, step_m: float, *,
            max_points: int = MAX_POINTS, where: str = "sites"
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polylines densified so that consecutive points are at most ``step_m`` apart.

    ``x``, ``y`` are the concatenated vertices of the polylines and ``owner`` (non-
    decreasing) says which polyline each vertex belongs to; segments join
    consecutive vertices of the same owner. Returns ``(x, y, owner)`` of the
    vertices and, after each vertex, ``ceil(L / step_m) - 1`` evenly spaced
    interior points of the segment that starts there (vertices kept, order along
    the line). ``step_m=inf`` returns the vertices. ``where`` names the lines in
    error messages.

    Raises
    ------
    HazardError
        ``step_m`` is not > 0, or the result would exceed ``max_points``.
    """
    step_m = float(step_m)
    if not step_m > 0:  # also NaN
        raise HazardError(f"sampling step {step_m} m must be > 0", where=where)
    lx = np.asarray(x, dtype=np.float64)
    ly = np.asarray(y, dtype=np.float64)
    vert_owner = np.asarray(owner, dtype=np.int64)
    if math.isinf(step_m) or lx.size < 2:
        _check_count(lx.size, max_points, step_m, where)
        return lx, ly, vert_owner
    # extra points after vertex i (between i and i + 1 of the same polyline)
    same = vert_owner[1:] == vert_owner[:-1]
    seg = np.hypot(np.diff(lx), np.diff(ly))
    with np.errstate(invalid="ignore"):
        parts = np.where(same & np.isfinite(seg), np.ceil(seg / step_m), 1.0)
    total = float(lx.size) + float(np.sum(parts - 1.0))
    _check_count(total, max_points, step_m, where)
    extra = np.zeros(lx.size, dtype=np.int64)
    extra[:-1] = (parts - 1.0).astype(np.int64)
    reps = extra + 1  # each vertex followed by its segment's interior points
    idx = np.repeat(np.arange(lx.size), reps)
    k = np.arange(idx.size) - np.repeat(np.cumsum(reps) - reps, reps)  # 0 = the vertex
    frac = np.zeros(idx.size)
    inner = k > 0
    frac[inner] = k[inner] / (extra[idx[inner]] + 1)
    nxt = np.minimum(idx + 1, lx.size - 1)
    return (lx[idx] + frac * (lx[nxt] - lx[idx]), ly[idx] + frac * (ly[nxt] - ly[idx]),
            vert_owner[idx])


def _check_count(total: float, max_points: int, step_m: float, where: str) -> None:
    if total > max_points:
        raise HazardError(
            f"sampling every {step_m:g} m makes {total:.3g} points, more than "
            f"{max_points:,}; use a coarser spacing (or shorter lines)", where=where)


def site_max(values: np.ndarray, owner: np.ndarray, n_sites: int) -> np.ndarray:
    """Per-site maximum of per-point values along the last axis.

    ``owner`` (non-decreasing, one entry per point) gives each point's site.
    NaN points are ignored; a site whose points are all NaN, or that has no
    point, reads NaN. The result has ``values``' leading shape and dtype
    (float), with ``n_sites`` on the last axis.
    """
    v = np.asarray(values)
    if not np.issubdtype(v.dtype, np.floating):
        v = v.astype(np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    if v.shape[-1] != owner.size:
        raise ValueError(f"{v.shape[-1]} values for {owner.size} points")
    out = np.full((*v.shape[:-1], n_sites), np.nan, dtype=v.dtype)
    if owner.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    filled = np.where(np.isnan(v), -np.inf, v).astype(v.dtype, copy=False)
    mx = np.maximum.reduceat(filled, starts, axis=-1)
    out[..., owner[starts]] = np.where(np.isneginf(mx), np.nan, mx)
    return out
