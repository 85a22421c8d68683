"""Shortest travel times on the *current* road graph (Dijkstra with a binary heap)."""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit


@njit(cache=True)
def travel_times(origin, passable, edge_time_h, adj_indptr, adj_node, adj_edge):
    """Travel time in hours from ``origin`` to every node over passable roads.

    ``passable[i]`` says whether node or edge ``i`` can be driven through now
    (functional and not closed); ``edge_time_h[e]`` is the current travel time of
    road edge ``e`` (free flow divided by a speed factor). Unreached nodes get inf.
    The origin is always reachable from itself (a crew stands there). A node that
    is not passable gets the time to drive up to it, but is never driven through.
    """
    n = passable.shape[0]
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    dist[origin] = 0.0
    heap = [(0.0, np.int64(origin))]
    while len(heap) > 0:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for k in range(adj_indptr[u], adj_indptr[u + 1]):
            v = adj_node[k]
            e = adj_edge[k]
            if done[v] or not passable[e]:
                continue
            nd = d + edge_time_h[e]
            if not passable[v]:
                # a crew can drive up to a blocked node (to clear it) but not through it
                if nd < dist[v]:
                    dist[v] = nd
                continue
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, np.int64(v)))
    return dist
