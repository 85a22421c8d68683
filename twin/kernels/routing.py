"""Shortest travel times on the *current* road graph (Dijkstra with a binary heap)."""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit


@njit(cache=True)
def travel_times(origin, passable, edge_time_h, adj_indptr, adj_node, adj_edge, is_target,
                 n_targets):
    """Travel time in hours from ``origin`` over passable roads.

    ``passable[i]`` says whether node or edge ``i`` can be driven through now
    (functional and not closed); ``edge_time_h[e]`` is the current travel time of
    road edge ``e`` (free flow divided by a speed factor). A node that is not
    passable gets the time to drive up to it (a crew can clear it from there) but
    is never driven through. The search stops once the ``n_targets`` nodes flagged
    in ``is_target`` are settled (``n_targets <= 0``: search everything); only
    settled nodes carry final times, unreached ones are inf.
    """
    n = passable.shape[0]
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    dist[origin] = 0.0
    heap = [(0.0, np.int64(origin))]
    remaining = n_targets
    while len(heap) > 0:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        if is_target[u]:
            remaining -= 1
            if remaining == 0:
                break
        if not passable[u] and u != origin:
            continue  # reached its doorstep; no driving through
        for k in range(adj_indptr[u], adj_indptr[u + 1]):
            v = adj_node[k]
            e = adj_edge[k]
            if done[v] or not passable[e]:
                continue
            nd = d + edge_time_h[e]
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, np.int64(v)))
    for i in range(n):
        if not done[i]:
            dist[i] = np.inf
    return dist
