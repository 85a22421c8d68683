"""Dominator tree of the component graph (Cooper, Harvey & Kennedy 2001, "A Simple, Fast
Dominance Algorithm"), on the twin's CSR arrays.

The flow graph: a virtual root (index ``n``) feeds every source; a node component
leads to the edge components at it; an edge component leads to both endpoints.
Component ``c`` dominates ``x`` when every path from the root to ``x`` passes
through ``c``, i.e. ``x`` loses its supply when ``c`` alone fails.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _succ_count(x, n, is_source, is_edge, adj_indptr):
    if x == n:
        return 0
    if is_edge[x]:
        return 2
    return adj_indptr[x + 1] - adj_indptr[x]


@njit(cache=True)
def _succ(x, k, is_edge, edge_u, edge_v, adj_indptr, adj_edge):
    if is_edge[x]:
        return edge_u[x] if k == 0 else edge_v[x]
    return adj_edge[adj_indptr[x] + k]


@njit(cache=True)
def immediate_dominators(is_source, is_edge, edge_u, edge_v, adj_indptr, adj_edge):
    """``idom[x]`` for every component (``n`` = the root; -1 = unreachable) and the
    reverse-postorder list of reachable components (root first)."""
    n = is_source.shape[0]
    root = n
    po = np.full(n + 1, -1, dtype=np.int64)  # postorder number
    order = np.empty(n + 1, dtype=np.int64)  # postorder sequence
    visited = np.zeros(n + 1, dtype=np.bool_)
    stack_node = np.empty(n + 1, dtype=np.int64)
    stack_pos = np.empty(n + 1, dtype=np.int64)
    sources = np.nonzero(is_source)[0]
    counter = 0
    # iterative DFS; the root's successors are the sources
    top = 0
    stack_node[0] = root
    stack_pos[0] = 0
    visited[root] = True
    while top >= 0:
        x = stack_node[top]
        k = stack_pos[top]
        m = sources.shape[0] if x == root else _succ_count(x, n, is_source, is_edge, adj_indptr)
        if k < m:
            stack_pos[top] = k + 1
            y = sources[k] if x == root else _succ(x, k, is_edge, edge_u, edge_v, adj_indptr,
                                                   adj_edge)
            if not visited[y]:
                visited[y] = True
                top += 1
                stack_node[top] = y
                stack_pos[top] = 0
        else:
            po[x] = counter
            order[counter] = x
            counter += 1
            top -= 1
    rpo = order[:counter][::-1].copy()
    idom = np.full(n + 1, -1, dtype=np.int64)
    idom[root] = root
    changed = True
    while changed:
        changed = False
        for b in rpo[1:]:
            new = -1
            # predecessors = successors (symmetric flow graph) plus the root for sources
            m = _succ_count(b, n, is_source, is_edge, adj_indptr)
            for k in range(m + (1 if (not is_edge[b] and is_source[b]) else 0)):
                p = root if k == m else _succ(b, k, is_edge, edge_u, edge_v, adj_indptr,
                                               adj_edge)
                if idom[p] == -1:
                    continue
                if new == -1:
                    new = p
                else:
                    f1, f2 = p, new
                    while f1 != f2:
                        while po[f1] < po[f2]:
                            f1 = idom[f1]
                        while po[f2] < po[f1]:
                            f2 = idom[f2]
                    new = f1
            if idom[b] != new:
                idom[b] = new
                changed = True
    return idom[:n].copy(), rpo


@njit(cache=True)
def accumulate_impact(idom, rpo, customers, dep_indptr, dep_supplier):
    """Customers cut off by each component alone, plus the dependents it supplies."""
    n = customers.shape[0]
    impact = np.zeros(n)
    for x in rpo:
        if x < n:
            impact[x] = customers[x]
    for j in range(rpo.shape[0] - 1, 0, -1):  # children before parents
        x = rpo[j]
        p = idom[x]
        if p >= 0 and p < n:
            impact[p] += impact[x]
    base = impact.copy()
    for d in range(n):
        for j in range(dep_indptr[d], dep_indptr[d + 1]):
            s = dep_supplier[j]
            steps = 0
            while s >= 0 and s < n and steps < n:
                impact[s] += base[d]
                s = idom[s]
                steps += 1
    return impact
