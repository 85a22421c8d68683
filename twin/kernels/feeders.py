"""Feeder walks for the switching of :mod:`twin.flisr` (numba, array-only signatures).

``conduct[i]`` says whether component ``i`` carries power now (healthy and, for an
edge, its switch closed); the adjacency is the twin's CSR over components.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def energised_tree(conduct, is_source, adj_indptr, adj_node, adj_edge):
    """Breadth-first forest from every conducting source.

    Returns ``depth`` (int64[n], -1 where not reached), ``parent_edge`` (the edge a
    node was reached through, -1 for sources and the unreached) and ``order`` (the
    reached nodes, parents before children).
    """
    n = conduct.shape[0]
    depth = np.full(n, -1, dtype=np.int64)
    parent_edge = np.full(n, -1, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    cnt = 0
    for s in range(n):
        if is_source[s] and conduct[s]:
            depth[s] = 0
            order[cnt] = s
            cnt += 1
    head = 0
    while head < cnt:
        u = order[head]
        head += 1
        for k in range(adj_indptr[u], adj_indptr[u + 1]):
            v = adj_node[k]
            e = adj_edge[k]
            if depth[v] >= 0 or not conduct[v] or not conduct[e]:
                continue
            depth[v] = depth[u] + 1
            parent_edge[v] = e
            order[cnt] = v
            cnt += 1
    return depth, parent_edge, order[:cnt].copy()


@njit(cache=True)
def subtree_load(order, parent_edge, edge_u, edge_v, load):
    """Load (MVA) of every reached node's subtree in the forest of :func:`energised_tree`:
    the flow on the node's parent edge."""
    n = load.shape[0]
    out = np.zeros(n)
    for j in range(order.shape[0]):
        out[order[j]] = load[order[j]]
    for j in range(order.shape[0] - 1, -1, -1):
        v = order[j]
        e = parent_edge[v]
        if e >= 0:
            p = edge_u[e] if edge_v[e] == v else edge_v[e]
            out[p] += out[v]
    return out


@njit(cache=True)
def grow(start, conduct, blocked, adj_indptr, adj_node, adj_edge):
    """Nodes and edges reachable from node ``start`` through conducting components,
    never entering a node flagged in ``blocked``; returns the two int64 arrays and
    whether a conducting edge led to a blocked conducting node (the region touches it)."""
    n = conduct.shape[0]
    seen = np.zeros(n, dtype=np.bool_)
    nodes = np.empty(n, dtype=np.int64)
    edges = np.empty(adj_edge.shape[0], dtype=np.int64)
    cn = 0
    ce = 0
    touched = False
    if not conduct[start] or blocked[start]:
        return nodes[:0].copy(), edges[:0].copy(), blocked[start]
    seen[start] = True
    nodes[0] = start
    cn = 1
    head = 0
    while head < cn:
        u = nodes[head]
        head += 1
        for k in range(adj_indptr[u], adj_indptr[u + 1]):
            v = adj_node[k]
            e = adj_edge[k]
            if not conduct[e] or not conduct[v]:
                continue
            if blocked[v]:
                touched = True
                continue
            if not seen[e]:
                seen[e] = True
                edges[ce] = e
                ce += 1
            if seen[v]:
                continue
            seen[v] = True
            nodes[cn] = v
            cn += 1
    return nodes[:cn].copy(), edges[:ce].copy(), touched


@njit(cache=True)
def path_margin(x, load, parent, flow, sub_load, rating, sub_mva, is_sub, edge_u, edge_v):
    """Spare capacity (MVA) on the path from node ``x`` up its forest to the source once
    ``load`` more flows through it: feeder segments (``rating``, flow ``flow`` of the
    child node) and substations (``sub_mva``, ``sub_load``); negative: overloaded."""
    m = np.inf
    while True:
        if is_sub[x]:
            m = min(m, sub_mva[x] - sub_load[x] - load)
        e = parent[x]
        if e < 0:
            return m
        m = min(m, rating[e] - flow[x] - load)
        x = edge_u[e] if edge_v[e] == x else edge_v[e]
