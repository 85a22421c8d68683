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


@njit(cache=True)
def feeder_loads(order, parent, edge_u, edge_v, load, is_sub, feeder_edge):
    """:func:`subtree_load` and, per substation, the load it feeds through its feeder
    segments (its transformer's load; transmission lines fed onwards are not counted)."""
    flow = subtree_load(order, parent, edge_u, edge_v, load)
    sub_load = np.zeros(load.shape[0])
    for j in range(order.shape[0]):
        v = order[j]
        e = parent[v]
        if e < 0 or not feeder_edge[e]:
            continue
        p = edge_u[e] if edge_v[e] == v else edge_v[e]
        if is_sub[p]:
            sub_load[p] += flow[v]
    return flow, sub_load


@njit(cache=True)
def isolated_zone(n_sec, sec_a, sec_b, join, fault_secs):
    """Sections in the isolated zone: those joined to a faulted section through the
    switches flagged in ``join`` (closed switches that cannot be operated now)."""
    root = np.arange(n_sec)
    for s in range(sec_a.shape[0]):
        if not join[s]:
            continue
        x = sec_a[s]
        while root[x] != x:
            x = root[x]
        y = sec_b[s]
        while root[y] != y:
            y = root[y]
        if x != y:
            root[x] = y
    hit = np.zeros(n_sec, dtype=np.bool_)
    for f in fault_secs:
        x = f
        while root[x] != x:
            x = root[x]
        hit[x] = True
    out = np.zeros(n_sec, dtype=np.bool_)
    for i in range(n_sec):
        x = i
        while root[x] != x:
            x = root[x]
        out[i] = hit[x]
    return out


@njit(cache=True)
def best_split(far, conduct, blocked, adj_indptr, adj_node, adj_edge, edge_u, edge_v, load,
               switch_of, splittable, avail):
    """Where to split the dead region behind ``far`` so that the part next to ``far``
    carries at most ``avail`` (MVA): the switch (of ``splittable``, by ``switch_of`` of
    its edge) whose opening leaves that part the largest load. Returns (switch, load);
    switch -1 when no split fits."""
    nodes, _, _ = grow(far, conduct, blocked, adj_indptr, adj_node, adj_edge)
    n = conduct.shape[0]
    parent = np.full(n, -1, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    order = np.empty(nodes.shape[0], dtype=np.int64)
    order[0] = far
    seen[far] = True
    cnt = 1
    head = 0
    while head < cnt:  # a breadth-first tree of the region from far
        u = order[head]
        head += 1
        for k in range(adj_indptr[u], adj_indptr[u + 1]):
            v = adj_node[k]
            e = adj_edge[k]
            if seen[v] or not conduct[e] or not conduct[v] or blocked[v]:
                continue
            seen[v] = True
            parent[v] = e
            order[cnt] = v
            cnt += 1
    sub = np.zeros(n)
    for j in range(cnt):
        sub[order[j]] = load[order[j]]
    for j in range(cnt - 1, 0, -1):
        v = order[j]
        e = parent[v]
        p = edge_u[e] if edge_v[e] == v else edge_v[e]
        sub[p] += sub[v]
    total = sub[far]
    best = -1
    best_load = 0.0
    for j in range(1, cnt):
        v = order[j]
        s = switch_of[parent[v]]
        if s < 0 or not splittable[s]:
            continue
        piece = total - sub[v]
        if piece <= avail and piece > best_load:
            best_load = piece
            best = s
    return best, best_load


@njit(cache=True)
def restore_ties(target, cand, breakers, rejected, sw_edge, sw_a, sw_b, healthy, blocked,
                 is_source, adj_indptr, adj_node, adj_edge, edge_u, edge_v, load, rating,
                 sub_mva, is_sub, feeder_edge, switch_of, splittable):
    """The tie part of a switching plan (see :mod:`twin.flisr`), in place on ``target``
    (True: open) for the switches ``k``; components in the power network's numbering.

    1. breakers (``breakers``: may be operated) whose substation side is dead open;
    2. closed ties (``cand`` & closed) that another path makes redundant open; the
       others stay closed unless they feed a loop or are now over capacity;
    3. dead regions (no node ``blocked``: bulk or isolated) are picked up one at a
       time through the tie (``cand``, not ``rejected``) whose feeding path keeps the
       most spare capacity (feeder ``rating`` and substation ``sub_mva`` against the
       flows, the tie's own rating); a region too large for any tie is split at a
       switch of ``splittable`` (open sectionalizers inside the dead region), the part
       next to the tie picked up; ties that cannot are flagged in ``rejected``.

    Returns the ties closed in step 3, in order.
    """
    k = target.shape[0]
    conduct = healthy.copy()
    closed = np.zeros(k, dtype=np.bool_)
    for s in range(k):
        closed[s] = cand[s] and not target[s]
        if target[s] or closed[s]:
            conduct[sw_edge[s]] = False
    depth, parent, order = energised_tree(conduct, is_source, adj_indptr, adj_node, adj_edge)
    again = False
    for s in range(k):
        if breakers[s] and not target[s] and depth[sw_a[s]] < 0:
            target[s] = True
            conduct[sw_edge[s]] = False
            again = True
    if again:
        depth, parent, order = energised_tree(conduct, is_source, adj_indptr, adj_node,
                                              adj_edge)
    keep = np.zeros(k, dtype=np.bool_)
    n_keep = 0
    n_cand = 0
    for s in range(k):
        ra, rb = depth[sw_a[s]] >= 0, depth[sw_b[s]] >= 0
        if closed[s]:
            if ra and rb:
                target[s] = True  # redundant: open
            else:
                keep[s] = True
                n_keep += 1
        elif cand[s] and target[s] and ra != rb:
            n_cand += 1
    out = np.empty(k, dtype=np.int64)
    if n_keep == 0 and n_cand == 0:
        return out[:0]
    if n_keep:
        for s in range(k):
            if keep[s]:
                conduct[sw_edge[s]] = True
        depth, parent, order = energised_tree(conduct, is_source, adj_indptr, adj_node,
                                              adj_edge)
        flow, sub_load = feeder_loads(order, parent, edge_u, edge_v, load, is_sub,
                                      feeder_edge)
        again = False
        for s in range(k):
            if not keep[s]:
                continue
            e = sw_edge[s]
            if parent[sw_b[s]] == e:
                near, far = sw_a[s], sw_b[s]
            elif parent[sw_a[s]] == e:
                near, far = sw_b[s], sw_a[s]
            else:  # both ends fed without it: a loop
                target[s] = True
                conduct[e] = False
                again = True
                continue
            m = path_margin(near, 0.0, parent, flow, sub_load, rating, sub_mva, is_sub,
                            edge_u, edge_v)
            if min(m, rating[e] - flow[far]) < 0:
                target[s] = True
                conduct[e] = False
                again = True
        if again:
            depth, parent, order = energised_tree(conduct, is_source, adj_indptr, adj_node,
                                                  adj_edge)
    n_out = 0
    while True:
        flow, sub_load = feeder_loads(order, parent, edge_u, edge_v, load, is_sub,
                                      feeder_edge)
        best = -1
        best_m = -np.inf
        best_split_s = -1
        for s in range(k):
            e, a, b = sw_edge[s], sw_a[s], sw_b[s]
            if not (cand[s] and target[s]) or rejected[s]:
                continue
            if not (healthy[e] and healthy[a] and healthy[b]):
                continue
            if (depth[a] >= 0) == (depth[b] >= 0):
                continue
            near, far = (a, b) if depth[a] >= 0 else (b, a)
            nodes, _, touched = grow(far, conduct, blocked, adj_indptr, adj_node, adj_edge)
            total = 0.0
            for x in nodes:
                total += load[x]
            if touched or total <= 0.0:
                rejected[s] = True
                continue
            avail = min(path_margin(near, 0.0, parent, flow, sub_load, rating, sub_mva,
                                    is_sub, edge_u, edge_v), rating[e])
            split = -1
            m = avail - total
            if m < 0:
                split, part = best_split(far, conduct, blocked, adj_indptr, adj_node,
                                         adj_edge, edge_u, edge_v, load, switch_of,
                                         splittable, avail)
                if split < 0:
                    rejected[s] = True
                    continue
                m = avail - part
            if m > best_m:
                best_m = m
                best = s
                best_split_s = split
        if best < 0:
            return out[:n_out]
        if best_split_s >= 0:
            target[best_split_s] = True
            conduct[sw_edge[best_split_s]] = False
        target[best] = False
        conduct[sw_edge[best]] = True
        out[n_out] = best
        n_out += 1
        depth, parent, order = energised_tree(conduct, is_source, adj_indptr, adj_node,
                                              adj_edge)
