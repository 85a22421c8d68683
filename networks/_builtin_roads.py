"""Road lattice of the built-in city (private helper of :mod:`networks.builtin`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from networks._builtin_geo import CityFrame, TerrainGrid
from networks._builtin_util import components, kmeans, snap_unique

#: nominal street spacing (m) and how often a street is an arterial
SPACING_M = 125.0
ARTERIAL_EVERY = 5
#: drop this share of local links (irregularity; connectivity is restored by keeping
#: the largest component)
DROP_LOCAL = 0.04
#: roads avoid ground above this elevation (m) or steeper than this slope
MAX_ROAD_Z_M = 130.0
MAX_ROAD_SLOPE = 0.20


@dataclass(frozen=True, eq=False)
class RoadArrays:
    """Road network as arrays (local coordinates); edges are straight segments."""

    xy: np.ndarray  # (n, 2) float
    ij: np.ndarray  # (n, 2) int lattice row/column
    u: np.ndarray  # (m,) int
    v: np.ndarray  # (m,) int
    length_m: np.ndarray  # (m,) float
    speed_kmh: np.ndarray  # (m,) float
    lanes: np.ndarray  # (m,) int
    is_bridge: np.ndarray  # (m,) bool
    depots: np.ndarray  # node indices that are depots

    @property
    def n(self) -> int:
        return len(self.xy)

    def csgraph(self) -> csr_matrix:
        """Symmetric sparse adjacency weighted by length (for shortest paths)."""
        n = self.n
        return csr_matrix((np.concatenate([self.length_m, self.length_m]),
                           (np.concatenate([self.u, self.v]), np.concatenate([self.v, self.u]))),
                          shape=(n, n))


def _street_values(rng: np.random.Generator, count: int, arterial: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-street speed (km/h) and lanes: arterials fast and wide, locals slow and narrow."""
    speed = np.where(arterial, rng.choice([50.0, 60.0], size=count, p=[0.3, 0.7]),
                     rng.choice([30.0, 40.0], size=count, p=[0.5, 0.5]))
    lanes = np.where(arterial, rng.choice([4, 6], size=count, p=[0.6, 0.4]),
                     rng.choice([1, 2], size=count, p=[0.35, 0.65]))
    return speed, lanes


def build_roads(frame: CityFrame, terrain: TerrainGrid, rng: np.random.Generator) -> RoadArrays:
    s = SPACING_M
    ncol = int(frame.width_m // s) + 1
    nrow = int(frame.height_m // s) + 1
    jj, ii = np.meshgrid(np.arange(ncol), np.arange(nrow))
    x0, y0 = jj * s, ii * s
    # gentle warp (streets bend a little) plus jitter of the intersections
    warp = []
    for _ in range(4):
        warp.append((rng.uniform(15, 40), rng.uniform(1800, 4000), rng.uniform(0, 2 * np.pi)))
    x = (x0 + warp[0][0] * np.sin(2 * np.pi * y0 / warp[0][1] + warp[0][2])
         + warp[1][0] * np.sin(2 * np.pi * (x0 + y0) / warp[1][1] + warp[1][2]))
    y = (y0 + warp[2][0] * np.sin(2 * np.pi * x0 / warp[2][1] + warp[2][2])
         + warp[3][0] * np.sin(2 * np.pi * (x0 - y0) / warp[3][1] + warp[3][2]))
    x = x + np.clip(rng.normal(0.0, 6.0, x.shape), -15, 15)
    y = y + np.clip(rng.normal(0.0, 6.0, y.shape), -15, 15)

    z = terrain.z(x, y)
    # the facilities placed a few metres off an intersection must stay dry too
    z_near = np.minimum.reduce([terrain.z(x + dx, y + dy) for dx, dy in
                                ((5, 5), (-5, 5), (5, -5), (-5, -5))])
    present = ((z > 0.8) & (z_near > 0.3) & (z < MAX_ROAD_Z_M)
               & (terrain.grad(x, y) < MAX_ROAD_SLOPE)
               & ~frame.in_channel(x, y, pad_m=25.0) & (frame.coast_distance(x, y) > 30.0))
    side = frame.river_side(x, y)

    speed_row, lanes_row = _street_values(rng, nrow, np.arange(nrow) % ARTERIAL_EVERY == 0)
    speed_col, lanes_col = _street_values(rng, ncol, np.arange(ncol) % ARTERIAL_EVERY == 0)

    def land_between(xa, ya, xb, yb):
        xm, ym = 0.5 * (xa + xb), 0.5 * (ya + yb)
        return (terrain.z(xm, ym) > 0.3) & ~frame.in_channel(xm, ym)

    flat = np.arange(nrow * ncol).reshape(nrow, ncol)
    us, vs, speeds, lanes, bridge = [], [], [], [], []
    # east-west links
    a, b = flat[:, :-1], flat[:, 1:]
    ok = present[:, :-1] & present[:, 1:] & (side[:, :-1] == side[:, 1:])
    ok &= land_between(x[:, :-1], y[:, :-1], x[:, 1:], y[:, 1:])
    us.append(a[ok])
    vs.append(b[ok])
    speeds.append(np.broadcast_to(speed_row[:, None], a.shape)[ok])
    lanes.append(np.broadcast_to(lanes_row[:, None], a.shape)[ok])
    bridge.append(np.zeros(ok.sum(), bool))
    # north-south links
    a, b = flat[:-1, :], flat[1:, :]
    ok = present[:-1, :] & present[1:, :] & (side[:-1, :] == side[1:, :])
    ok &= land_between(x[:-1, :], y[:-1, :], x[1:, :], y[1:, :])
    us.append(a[ok])
    vs.append(b[ok])
    speeds.append(np.broadcast_to(speed_col[None, :], a.shape)[ok])
    lanes.append(np.broadcast_to(lanes_col[None, :], a.shape)[ok])
    bridge.append(np.zeros(ok.sum(), bool))

    # bridges: consecutive present nodes of a row on opposite banks, on every other arterial
    # (plus a few local rows); at least two crossings when the river is crossable at all
    crossings = []
    for r in range(nrow):
        cols = np.flatnonzero(present[r])
        if len(cols) < 2:
            continue
        sa, sb = side[r, cols[:-1]], side[r, cols[1:]]
        for k in np.flatnonzero((sa != sb) & (cols[1:] - cols[:-1] <= 6)):
            ca, cb = cols[k], cols[k + 1]
            xm, ym = 0.5 * (x[r, ca] + x[r, cb]), 0.5 * (y[r, ca] + y[r, cb])
            if frame.coast_distance(xm, ym) > 150.0:
                crossings.append((r, ca, cb))
    chosen = [c for c in crossings
              if c[0] % (2 * ARTERIAL_EVERY) == 0 or rng.random() < 0.04]
    if len(chosen) < 2 and len(crossings) >= 2:
        pick = np.linspace(0, len(crossings) - 1, 2).round().astype(int)
        chosen = sorted({*chosen, *(crossings[p] for p in pick)})
    for r, ca, cb in chosen:
        us.append(np.array([flat[r, ca]]))
        vs.append(np.array([flat[r, cb]]))
        speeds.append(np.array([speed_row[r]]))
        lanes.append(np.array([lanes_row[r]]))
        bridge.append(np.array([True]))

    u = np.concatenate(us)
    v = np.concatenate(vs)
    speed = np.concatenate(speeds).astype(float)
    lane = np.concatenate(lanes).astype(np.int64)
    is_bridge = np.concatenate(bridge)
    # irregularity: drop a few local links
    i_u, j_u = np.divmod(u, ncol)
    i_v, j_v = np.divmod(v, ncol)
    arterial = ((i_u == i_v) & (i_u % ARTERIAL_EVERY == 0)) | (
        (j_u == j_v) & (j_u % ARTERIAL_EVERY == 0))
    keep = is_bridge | arterial | (rng.random(len(u)) >= DROP_LOCAL)
    u, v, speed, lane, is_bridge = u[keep], v[keep], speed[keep], lane[keep], is_bridge[keep]

    # keep the largest connected component of the present nodes
    nodes = np.flatnonzero(present.ravel())
    remap = np.full(nrow * ncol, -1, dtype=np.int64)
    remap[nodes] = np.arange(len(nodes))
    uu, vv = remap[u], remap[v]
    lab = components(len(nodes), uu, vv)
    big = np.argmax(np.bincount(lab))
    keep_node = lab == big
    nodes = nodes[keep_node]
    remap2 = np.full(len(keep_node), -1, dtype=np.int64)
    remap2[keep_node] = np.arange(keep_node.sum())
    e_ok = keep_node[uu] & keep_node[vv]
    uu, vv = remap2[uu[e_ok]], remap2[vv[e_ok]]
    speed, lane, is_bridge = speed[e_ok], lane[e_ok], is_bridge[e_ok]

    xy = np.column_stack([x.ravel()[nodes], y.ravel()[nodes]])
    ij = np.column_stack(np.divmod(nodes, ncol))
    length = np.hypot(*(xy[uu] - xy[vv]).T)

    # depots (crew depots / emergency hubs): spread over the city, at arterial crossings
    n_dep = max(2, int(round(4 * frame.scale ** 2)))
    art_x = np.flatnonzero((ij[:, 0] % ARTERIAL_EVERY == 0) & (ij[:, 1] % ARTERIAL_EVERY == 0))
    if len(art_x) < n_dep:
        art_x = np.arange(len(xy))
    centres = kmeans(xy, n_dep, rng)
    depots = np.sort(snap_unique(centres, xy, candidates=art_x))
    return RoadArrays(xy=xy, ij=ij, u=uu, v=vv, length_m=length, speed_kmh=speed, lanes=lane,
                      is_bridge=is_bridge, depots=depots)
