"""Compile a :class:`~networks.model.LifelineNetwork` into the array form the engine runs on.

The :class:`Twin` is frozen: index maps, CSR adjacency, struct-of-arrays static
attributes. Per-run state (damage, outages, crews) lives in the engine, never
here, so one Twin is shared read-only by every realization and every worker.

Component indexing: every asset (node *or* edge) of every network is one
component ``i`` in ``0..n-1``. Edges are components too, so a failed line or pipe
is handled exactly like a failed node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from common.errors import NetworkError
from common.names import NETWORKS as NETWORK_NAMES
from hazards.base import Sites
from networks.model import LifelineNetwork, Terrain
from networks.schema import (
    CAPACITY_FIELD,
    CLASS_SPECS,
    DEMAND_FIELD,
    FUNCTIONAL_DEPENDENCIES,
    AssetClass,
    DependencyKind,
    NetworkKind,
)

NETWORKS: tuple[NetworkKind, ...] = tuple(NetworkKind(n) for n in NETWORK_NAMES)
NET_INDEX = {k: i for i, k in enumerate(NETWORKS)}
CLASSES: tuple[AssetClass, ...] = tuple(AssetClass)
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}


@dataclass(frozen=True, eq=False)
class Twin:
    """Array form of a city's lifeline networks (read-only, shared by all runs).

    Invariants
    ----------
    - All per-component arrays have length ``n``; ``edge_u``/``edge_v`` are -1 for nodes.
    - ``adj_indptr/adj_node/adj_edge`` is a CSR over components: for node ``i`` the
      neighbours are ``adj_node[adj_indptr[i]:adj_indptr[i+1]]`` reached through the
      edge components ``adj_edge[...]``. Edge rows are empty.
    - ``dep_indptr/dep_supplier`` lists the *functional* suppliers of each component.
    - ``access_node[i]`` is the road node a crew must reach to repair ``i``.
    - ``travel_h[e]`` is the free-flow travel time of road edge ``e`` (inf elsewhere).
    """

    name: str
    crs: str
    ids: np.ndarray
    index: Mapping[str, int]
    network: np.ndarray  # int8 index into NETWORKS
    asset_class: np.ndarray  # int8 index into CLASSES
    is_edge: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    length_m: np.ndarray
    customers: np.ndarray
    demand: np.ndarray
    capacity: np.ndarray
    is_source: np.ndarray
    critical: np.ndarray
    overhead: np.ndarray
    storage_h: np.ndarray
    backup_h: np.ndarray
    adj_indptr: np.ndarray
    adj_node: np.ndarray
    adj_edge: np.ndarray
    dep_indptr: np.ndarray
    dep_supplier: np.ndarray
    access_node: np.ndarray
    travel_h: np.ndarray
    block_population: np.ndarray
    block_nodes: np.ndarray  # (n_blocks, 3) component index of power, water, road node
    impact: np.ndarray  # customers that depend on each component (twin.impact)
    sites: Sites
    terrain: Terrain | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)

    def class_of(self, i: int) -> AssetClass:
        return CLASSES[int(self.asset_class[i])]

    def network_of(self, i: int) -> NetworkKind:
        return NETWORKS[int(self.network[i])]

    def mask(self, *, network: NetworkKind | None = None,
             asset_class: AssetClass | None = None) -> np.ndarray:
        m = np.ones(self.n, dtype=bool)
        if network is not None:
            m &= self.network == NET_INDEX[NetworkKind(network)]
        if asset_class is not None:
            m &= self.asset_class == CLASS_INDEX[AssetClass(asset_class)]
        return m

    def lookup(self, asset_id: str, *, where: str = "") -> int:
        try:
            return self.index[asset_id]
        except KeyError:
            raise NetworkError(f"asset '{asset_id}' does not exist in city '{self.name}'",
                               where=where or None) from None

    def total_customers(self) -> np.ndarray:
        """Customers per network (power, water, roads)."""
        return np.array([self.customers[self.network == k].sum() for k in range(3)])


def compile_twin(net: LifelineNetwork) -> Twin:
    """Compile ``net`` (already validated) into a :class:`Twin`."""
    ids: list[str] = []
    net_idx: list[int] = []
    cls_idx: list[int] = []
    is_edge: list[bool] = []
    eu: list[str | None] = []
    ev: list[str | None] = []
    attrs_list: list[dict] = []
    coords: list[np.ndarray] = []
    for kind in NETWORKS:
        g = net.graphs[kind]
        for nid, a in g.nodes(data=True):
            ids.append(nid)
            net_idx.append(NET_INDEX[kind])
            cls_idx.append(CLASS_INDEX[AssetClass(a["asset_class"])])
            is_edge.append(False)
            eu.append(None)
            ev.append(None)
            attrs_list.append(a)
            coords.append(np.array([[a["x_m"], a["y_m"]]], dtype=float))
        for u, v, a in g.edges(data=True):
            ids.append(a["id"])
            net_idx.append(NET_INDEX[kind])
            cls_idx.append(CLASS_INDEX[AssetClass(a["asset_class"])])
            is_edge.append(True)
            c = a.get("coords")
            pu = (g.nodes[u]["x_m"], g.nodes[u]["y_m"])
            pv = (g.nodes[v]["x_m"], g.nodes[v]["y_m"])
            if c is None:
                c = np.array([pu, pv], dtype=float)
            else:
                c = np.asarray(c, dtype=float)
                # stored polylines may run v->u; orient them from u
                if np.hypot(*(c[0] - pu)) > np.hypot(*(c[-1] - pu)):
                    c = c[::-1]
            eu.append(u)
            ev.append(v)
            attrs_list.append(a)
            coords.append(c)
    n = len(ids)
    index = {s: i for i, s in enumerate(ids)}
    ids_arr = np.array(ids, dtype=object)
    network = np.array(net_idx, dtype=np.int8)
    asset_class = np.array(cls_idx, dtype=np.int8)
    is_edge_a = np.array(is_edge, dtype=bool)
    edge_u = np.array([-1 if u is None else index[u] for u in eu], dtype=np.int32)
    edge_v = np.array([-1 if v is None else index[v] for v in ev], dtype=np.int32)

    def num(field_name: str, default: float = 0.0) -> np.ndarray:
        return np.array([float(a.get(field_name, default) or 0.0) for a in attrs_list])

    customers = num("customers")
    length_m = np.where(is_edge_a, num("length_m"), 0.0)
    overhead = np.array([bool(a.get("overhead", False)) for a in attrs_list])
    critical = np.array([bool(a.get("critical", False)) for a in attrs_list])
    storage_h = num("storage_h")
    backup_h = num("backup_h")
    demand = np.zeros(n)
    capacity = np.zeros(n)
    is_source = np.zeros(n, dtype=bool)
    for i, a in enumerate(attrs_list):
        c = CLASSES[asset_class[i]]
        s = CLASS_SPECS[c]
        if s.is_source:
            is_source[i] = True
            if c in CAPACITY_FIELD:
                capacity[i] = float(a[CAPACITY_FIELD[c]])
            elif c == AssetClass.TANK:
                # a tank delivers at most its volume over its autonomy
                capacity[i] = float(a["volume_m3"]) / max(float(a.get("storage_h", 12.0)), 1e-6)
            else:
                capacity[i] = np.inf  # depots: road access has no capacity limit
        if c in DEMAND_FIELD:
            demand[i] = float(a.get(DEMAND_FIELD[c], 0.0) or 0.0)

    mids = np.array([_midpoint(c) for c in coords])
    x_m, y_m = mids[:, 0], mids[:, 1]

    # CSR adjacency over node components, through edge components
    e_idx = np.nonzero(is_edge_a)[0]
    src = np.concatenate([edge_u[e_idx], edge_v[e_idx]])
    dst = np.concatenate([edge_v[e_idx], edge_u[e_idx]])
    via = np.concatenate([e_idx, e_idx]).astype(np.int32)
    order = np.argsort(src, kind="stable")
    counts = np.bincount(src, minlength=n)
    adj_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=adj_indptr[1:])
    adj_node = dst[order].astype(np.int32)
    adj_edge = via[order]

    # functional dependencies CSR; road access array
    deps: list[list[int]] = [[] for _ in range(n)]
    access_node = np.full(n, -1, dtype=np.int32)
    for d in net.dependencies:
        i, j = index[d.dependent], index[d.supplier]
        if d.kind in FUNCTIONAL_DEPENDENCIES:
            deps[i].append(j)
        elif d.kind == DependencyKind.ROAD_ACCESS:
            access_node[i] = j
    dep_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(x) for x in deps], out=dep_indptr[1:])
    dep_supplier = np.array([j for x in deps for j in x], dtype=np.int32)

    roads = network == NET_INDEX[NetworkKind.ROADS]
    road_nodes = np.nonzero(roads & ~is_edge_a)[0]
    access_node[road_nodes] = road_nodes
    road_edges = np.nonzero(roads & is_edge_a)[0]
    access_node[road_edges] = edge_u[road_edges]
    todo = np.nonzero(access_node < 0)[0]
    if len(todo):
        if len(road_nodes) == 0:
            raise NetworkError("the road network has no nodes; crews cannot reach any asset")
        tree = cKDTree(np.column_stack([x_m[road_nodes], y_m[road_nodes]]))
        _, k = tree.query(np.column_stack([x_m[todo], y_m[todo]]))
        access_node[todo] = road_nodes[k]

    speed = num("speed_kmh", 1.0)
    travel_h = np.full(n, np.inf)
    travel_h[road_edges] = length_m[road_edges] / 1000.0 / np.maximum(speed[road_edges], 0.1)

    if net.population is not None and len(net.population):
        p = net.population
        block_population = np.asarray(p.population, dtype=float)
        block_nodes = np.column_stack([[index[s] for s in p.power_node],
                                       [index[s] for s in p.water_node],
                                       [index[s] for s in p.road_node]]).astype(np.int32)
    else:
        block_population = np.zeros(0)
        block_nodes = np.zeros((0, 3), dtype=np.int32)

    lengths = np.array([len(c) for c in coords])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    allc = np.concatenate(coords) if coords else np.zeros((0, 2))
    sites = Sites(ids=ids_arr, asset_class=np.array([CLASSES[k].value for k in asset_class]),
                  x_m=x_m, y_m=y_m, is_edge=is_edge_a, length_m=length_m, line_offsets=offsets,
                  line_x=allc[:, 0].copy(), line_y=allc[:, 1].copy(), crs=net.crs)
    from twin.impact import dominator_impact

    impact = dominator_impact(n, network, is_edge_a, edge_u, edge_v, is_source, customers,
                              dep_indptr, dep_supplier, adj_indptr, adj_edge)
    return Twin(
        name=net.name, crs=net.crs, ids=ids_arr, index=index, network=network,
        asset_class=asset_class, is_edge=is_edge_a, edge_u=edge_u, edge_v=edge_v, x_m=x_m,
        y_m=y_m, length_m=length_m, customers=customers, demand=demand, capacity=capacity,
        is_source=is_source, critical=critical, overhead=overhead, storage_h=storage_h,
        backup_h=backup_h, adj_indptr=adj_indptr, adj_node=adj_node, adj_edge=adj_edge,
        dep_indptr=dep_indptr, dep_supplier=dep_supplier, access_node=access_node,
        travel_h=travel_h, block_population=block_population, block_nodes=block_nodes,
        impact=impact, sites=sites, terrain=net.terrain, meta=dict(net.meta),
    )


def _midpoint(c: np.ndarray) -> np.ndarray:
    """The point halfway along a polyline (the vertex itself for a node)."""
    if len(c) == 1:
        return c[0]
    seg = np.hypot(*np.diff(c, axis=0).T)
    total = seg.sum()
    if total == 0:
        return c[0]
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.searchsorted(cum, total / 2, side="right") - 1)
    k = min(k, len(seg) - 1)
    f = (total / 2 - cum[k]) / seg[k] if seg[k] > 0 else 0.0
    return c[k] + f * (c[k + 1] - c[k])
