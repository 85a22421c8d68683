"""Service computation: which components are served, to a fixed point over dependencies.

A node is *served* when a path of available components (nodes and edges) joins
it to an available, enabled source, where *available* means functional and
with every functional dependency met (or exempt, e.g. running on a backup
generator). A dependency is met when its supplier is served. Failures cascade:
the kernel starts from "every dependency met" and iterates downward to the
greatest fixed point, so mutually supporting assets (a plant cooled by water
pumped with its own power) stay up when nothing breaks them.

Each island (connected set reached from sources) delivers
``min(1, capacity / demand)`` of its demand: load shedding when the sources of an
island cannot carry its load.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _label_islands(avail, source_ok, is_source, adj_indptr, adj_node, adj_edge,
                   capacity, demand, label, stack, isl_cap, isl_dem, is_primary, isl_primary):
    n = avail.shape[0]
    for i in range(n):
        label[i] = -1
    n_isl = 0
    for s in range(n):
        if not (is_source[s] and avail[s] and source_ok[s]) or label[s] >= 0:
            continue
        label[s] = n_isl
        isl_cap[n_isl] = 0.0
        isl_dem[n_isl] = 0.0
        isl_primary[n_isl] = False
        top = 0
        stack[top] = s
        top += 1
        while top > 0:
            top -= 1
            u = stack[top]
            isl_dem[n_isl] += demand[u]
            for k in range(adj_indptr[u], adj_indptr[u + 1]):
                v = adj_node[k]
                if label[v] >= 0 or not avail[v] or not avail[adj_edge[k]]:
                    continue
                label[v] = n_isl
                stack[top] = v
                top += 1
        n_isl += 1
    for s in range(n):
        if is_source[s] and avail[s] and source_ok[s] and label[s] >= 0:
            isl_cap[label[s]] += capacity[s]
            if is_primary[s]:
                isl_primary[label[s]] = True
    return n_isl


@njit(cache=True)
def compute_service(up, source_ok, exempt, is_source, is_edge, edge_u, edge_v,
                    adj_indptr, adj_node, adj_edge, dep_indptr, dep_supplier,
                    capacity, demand, max_iter, is_primary):
    """Served fraction of every component, to a fixed point over dependencies.

    Parameters
    ----------
    up : bool[n]
        Functional (not damaged, not in a temporary outage).
    source_ok : bool[n]
        Sources allowed to feed (e.g. a tank that still holds water).
    exempt : bool[n]
        Components whose functional dependencies are ignored (backup power).
    is_primary : bool[n]
        Sources that do not run dry (plants, treatment); storage (tanks) is not.
    (static arrays from :class:`twin.compile.Twin`)

    Returns
    -------
    served : float64[n]
        Fraction of the component's demand served (0 when not reached); an edge
        carries the fraction of its endpoints when both are reached and it is available.
    deps_ok : bool[n]
        Whether every functional dependency of the component is met.
    fed : bool[n]
        Whether the node's island holds a primary source (a tank there refills).
    iterations : int
    """
    n = up.shape[0]
    deps_ok = np.ones(n, dtype=np.bool_)
    avail = np.empty(n, dtype=np.bool_)
    label = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    n_src = 0
    for i in range(n):
        if is_source[i]:
            n_src += 1
    isl_cap = np.zeros(max(n_src, 1))
    isl_dem = np.zeros(max(n_src, 1))
    isl_primary = np.zeros(max(n_src, 1), dtype=np.bool_)
    it = 0
    while True:
        it += 1
        for i in range(n):
            avail[i] = up[i] and (deps_ok[i] or exempt[i])
        _label_islands(avail, source_ok, is_source, adj_indptr, adj_node, adj_edge,
                       capacity, demand, label, stack, isl_cap, isl_dem, is_primary,
                       isl_primary)
        changed = False
        for i in range(n):
            if not deps_ok[i]:
                continue
            for k in range(dep_indptr[i], dep_indptr[i + 1]):
                if label[dep_supplier[k]] < 0:
                    deps_ok[i] = False
                    changed = True
                    break
        if not changed or it >= max_iter:
            break
    served = np.zeros(n)
    fed = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if label[i] >= 0:
            fed[i] = isl_primary[label[i]]
        if is_edge[i]:
            u = edge_u[i]
            if avail[i] and label[u] >= 0 and label[edge_v[i]] >= 0:
                served[i] = 1.0
            continue
        if label[i] >= 0:
            d = isl_dem[label[i]]
            c = isl_cap[label[i]]
            served[i] = 1.0 if d <= c else c / d
    return served, deps_ok, fed, it
