"""Reference (networkx) implementation of the static impact, for tests only.

Computed once per twin with dominator trees (Lengauer-Tarjan in networkx): in the
graph where every edge component is a node between its endpoints, and a super
source feeds every source, component ``c`` cuts off exactly the nodes it
dominates. Functional dependencies add the dependents' impact to the supplier and
to everything that dominates the supplier (a substation that feeds a pump also
"serves" the pump's water customers). Repair policies use it to rank jobs; it is
an estimate (single-failure, capacity ignored), not the service computation.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def dominator_impact(n: int, network: np.ndarray, is_edge: np.ndarray, edge_u: np.ndarray,
                     edge_v: np.ndarray, is_source: np.ndarray, customers: np.ndarray,
                     dep_indptr: np.ndarray, dep_supplier: np.ndarray) -> np.ndarray:
    impact = np.zeros(n)
    parents = np.full(n, -1, dtype=np.int64)
    for k in np.unique(network):
        comp = np.nonzero(network == k)[0]
        g = nx.DiGraph()
        root = -1
        g.add_node(root)
        for c in comp:
            if is_edge[c]:
                u, v = int(edge_u[c]), int(edge_v[c])
                g.add_edges_from(((u, c), (c, v), (v, c), (c, u)))
            else:
                g.add_node(int(c))
                if is_source[c]:
                    g.add_edge(root, int(c))
        idom = nx.immediate_dominators(g, root)
        # accumulate customers up the dominator tree (children before parents)
        depth: dict[int, int] = {root: 0}

        def _depth(x: int, depth=depth, idom=idom) -> int:
            stack = []
            while x not in depth:
                stack.append(x)
                x = idom[x]
            d = depth[x]
            for y in reversed(stack):
                d += 1
                depth[y] = d
            return d

        for x in idom:
            _depth(x)
        for x in sorted(idom, key=lambda y: -depth[y]):
            if x == root:
                continue
            impact[x] += customers[x]
            p = idom[x]
            parents[x] = p if p != root else -1
            if p != root:
                impact[p] += impact[x]
    # dependencies: the supplier and its dominators also serve the dependents' customers
    base = impact.copy()
    for d in range(n):
        for j in range(dep_indptr[d], dep_indptr[d + 1]):
            s = int(dep_supplier[j])
            add = base[d]
            while s >= 0:
                impact[s] += add
                s = int(parents[s])
    return impact
