"""Small geometric/graph helpers of the built-in city generator (private)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError, cKDTree


def asset_id(prefix: str, i: int, width: int) -> str:
    return f"{prefix}-{i:0{width}d}"


def id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(max(n, 1))))


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator,
           weights: np.ndarray | None = None, iters: int = 30) -> np.ndarray:
    """Weighted k-means (k-means++ seeding, Lloyd iterations); returns the centres."""
    n = len(points)
    k = max(1, min(k, n))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float) + 1e-9
    if n * k > 20_000_000:  # big problems: weighted random seeding, Lloyd does the rest
        c = points[rng.choice(n, size=k, replace=False, p=w / w.sum())].astype(float)
        return _lloyd(points, c, w, iters)
    first = int(rng.choice(n, p=w / w.sum()))
    centres = [points[first]]
    d2 = ((points - points[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = d2 * w
        tot = p.sum()
        i = int(rng.choice(n, p=p / tot)) if tot > 0 else int(rng.integers(n))
        centres.append(points[i])
        d2 = np.minimum(d2, ((points - points[i]) ** 2).sum(axis=1))
    return _lloyd(points, np.array(centres, dtype=float), w, iters)


def _lloyd(points: np.ndarray, c: np.ndarray, w: np.ndarray, iters: int) -> np.ndarray:
    k = len(c)
    for _ in range(iters):
        _, lab = cKDTree(c).query(points)
        ws = np.bincount(lab, weights=w, minlength=k)
        sx = np.bincount(lab, weights=w * points[:, 0], minlength=k)
        sy = np.bincount(lab, weights=w * points[:, 1], minlength=k)
        new = c.copy()
        ok = ws > 0
        new[ok, 0] = sx[ok] / ws[ok]
        new[ok, 1] = sy[ok] / ws[ok]
        if np.allclose(new, c, atol=1.0):
            c = new
            break
        c = new
    return c


def snap_unique(points: np.ndarray, targets: np.ndarray, *, candidates: np.ndarray | None = None
                ) -> np.ndarray:
    """Index (into ``targets``) of the nearest distinct target of each point, greedily in order."""
    idx = np.arange(len(targets)) if candidates is None else np.asarray(candidates)
    tree = cKDTree(targets[idx])
    taken: set[int] = set()
    out = []
    k = min(len(idx), max(8, len(points) + 1))
    _, nn = tree.query(points, k=k)
    nn = np.atleast_2d(nn)
    for row in nn:
        for j in row:
            t = int(idx[j])
            if t not in taken:
                taken.add(t)
                out.append(t)
                break
        else:  # pragma: no cover - only when points outnumber targets
            raise ValueError("not enough distinct targets to snap to")
    return np.array(out, dtype=np.int64)


def _candidate_edges(points: np.ndarray) -> np.ndarray:
    n = len(points)
    if n <= 5:
        return np.array(list(itertools.combinations(range(n), 2)), dtype=np.int64)
    try:
        tri = Delaunay(points)
    except QhullError:  # pragma: no cover - degenerate (collinear) layouts
        return np.array(list(itertools.combinations(range(n), 2)), dtype=np.int64)
    s = tri.simplices
    e = np.vstack([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    e.sort(axis=1)
    return np.unique(e, axis=0)


def resilient_mesh(points: np.ndarray) -> list[tuple[int, int]]:
    """Edges of a short 2-edge-connected mesh over ``points`` (no single edge disconnects it).

    Minimum spanning tree over the Delaunay edges, then the shortest Delaunay edge
    across each remaining bridge is added until none is left (ring-like for a handful
    of points, meshed for many).
    """
    n = len(points)
    if n < 2:
        return []
    if n == 2:
        return [(0, 1)]
    cand = _candidate_edges(points)
    length = np.hypot(*(points[cand[:, 0]] - points[cand[:, 1]]).T)
    # tiny tie-breaker so the MST is unique and deterministic
    weight = length + 1e-6 * np.arange(len(cand))
    mst = minimum_spanning_tree(coo_matrix((weight, (cand[:, 0], cand[:, 1])), shape=(n, n)))
    mst = mst.tocoo()
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(mst.row.tolist(), mst.col.tolist(), strict=True))
    order = np.argsort(weight, kind="stable")
    cand_sorted = cand[order]
    # close leaves first (cheap and removes most bridges)
    for leaf in [v for v in range(n) if g.degree(v) == 1]:
        if g.degree(leaf) != 1:
            continue
        for a, b in cand_sorted:
            if (a == leaf or b == leaf) and not g.has_edge(a, b):
                g.add_edge(int(a), int(b))
                break
    while True:
        bridges = list(nx.bridges(g))
        if not bridges:
            break
        u, v = bridges[0]
        g.remove_edge(u, v)
        side = nx.node_connected_component(g, u)
        g.add_edge(u, v)
        inside = np.isin(cand_sorted, list(side))
        cross = inside[:, 0] != inside[:, 1]
        added = False
        for a, b in cand_sorted[cross]:
            if not g.has_edge(a, b):
                g.add_edge(int(a), int(b))
                added = True
                break
        if not added:  # pragma: no cover - Delaunay graphs are 2-connected
            break
    return sorted((min(a, b), max(a, b)) for a, b in g.edges)


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given undirected edges."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    _, lab = connected_components(m, directed=False)
    return lab


def connect_components(xy: np.ndarray, u: np.ndarray, v: np.ndarray
                       ) -> list[tuple[int, int]]:
    """Extra edges (nearest pairs) that join all components of the graph into one."""
    n = len(xy)
    extra: list[tuple[int, int]] = []
    uu, vv = list(u), list(v)
    tree = cKDTree(xy)
    seen: set[tuple[int, int]] = set()
    while True:
        lab = components(n, np.array(uu, dtype=np.int64), np.array(vv, dtype=np.int64))
        n_comp = lab.max() + 1 if n else 0
        if n_comp <= 1:
            return extra
        sizes = np.bincount(lab)
        for c in np.argsort(sizes, kind="stable")[:-1]:  # every component but the largest
            members = np.flatnonzero(lab == c)
            best = (np.inf, -1, -1)
            k = min(n, 16)
            while True:
                d, nn = tree.query(xy[members], k=k)
                d, nn = np.atleast_2d(d), np.atleast_2d(nn)
                outside = lab[nn] != c
                if outside.any() or k >= n:
                    break
                k = min(n, k * 4)
            d = np.where(outside, d, np.inf)
            i, j = np.unravel_index(np.argmin(d), d.shape)
            if np.isfinite(d[i, j]) and d[i, j] < best[0]:
                best = (d[i, j], int(members[i]), int(nn[i, j]))
            pair = (min(best[1], best[2]), max(best[1], best[2]))
            if pair not in seen:
                seen.add(pair)
                extra.append(pair)
                uu.append(pair[0])
                vv.append(pair[1])
