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
from functools import cached_property

import numpy as np
from scipy.spatial import cKDTree

from common.errors import NetworkError
from common.names import SYSTEM
from hazards.base import Sites
from networks.kinds import KINDS
from networks.model import LifelineNetwork, Terrain
from networks.schema import (
    CAPACITY_FIELD,
    CLASS_SPECS,
    DEMAND_FIELD,
    FUNCTIONAL_DEPENDENCIES,
    AssetClass,
    DependencyKind,
    NetworkKind,
    SwitchKind,
)

NETWORKS: tuple[NetworkKind, ...] = tuple(k.kind for k in KINDS)
NET_INDEX = {k: i for i, k in enumerate(NETWORKS)}
CLASSES: tuple[AssetClass, ...] = tuple(AssetClass)
CLASS_INDEX = {c: i for i, c in enumerate(CLASSES)}


@dataclass(frozen=True, eq=False)
class PhysicsArrays:
    """The electrical and hydraulic parameters of every component (length ``n`` each,
    NaN or 0 where a field does not apply), read by :mod:`twin.physics`.

    Absent fields take the defaults of :mod:`networks.schema` (typical pandapower
    standard types by construction and voltage class, power factor 0.95, Hazen-Williams
    C 130, the city's terrain for elevations).

    Invariants
    ----------
    - Lines: ``r/x_ohm_per_km``, ``c_nf_per_km``, ``max_i_ka`` per circuit, ``parallel``
      circuits (>= 1); ``vn_kv`` the nominal voltage of transmission lines.
    - Substations: ``vn_kv`` (HV side), ``vn_lv_kv``, ``sn_mva`` (> 0), ``vk_percent``,
      ``vkr_percent``, ``pfe_kw``, ``i0_percent``, ``tap_percent``.
    - Loads: ``q_mvar``; sources: ``vm_pu``.
    - Water nodes: ``elevation_m``; treatment plants ``head_m`` (total head); pump
      stations ``head_m`` (head at ``capacity``), ``shutoff_head_m`` (NaN: one-point
      curve), ``pump_flow_m3h`` (``capacity_m3h``) and ``pump_suction`` (the node on
      the suction side, -1 elsewhere); pipes ``diameter_m``, ``roughness`` (H-W C);
      tanks ``min/max/init_level_m`` and ``tank_diameter_m``.
    """

    r_ohm_per_km: np.ndarray
    x_ohm_per_km: np.ndarray
    c_nf_per_km: np.ndarray
    max_i_ka: np.ndarray
    parallel: np.ndarray
    vn_kv: np.ndarray
    vn_lv_kv: np.ndarray
    sn_mva: np.ndarray
    vk_percent: np.ndarray
    vkr_percent: np.ndarray
    pfe_kw: np.ndarray
    i0_percent: np.ndarray
    tap_percent: np.ndarray
    q_mvar: np.ndarray
    vm_pu: np.ndarray
    elevation_m: np.ndarray
    head_m: np.ndarray
    diameter_m: np.ndarray
    roughness: np.ndarray
    min_level_m: np.ndarray
    max_level_m: np.ndarray
    init_level_m: np.ndarray
    tank_diameter_m: np.ndarray
    pump_suction: np.ndarray
    shutoff_head_m: np.ndarray
    pump_flow_m3h: np.ndarray


@dataclass(frozen=True, eq=False)
class SwitchArrays:
    """The switches on power edges (one per edge at most), read by :mod:`twin.flisr`.

    Invariants
    ----------
    - Arrays of equal length ``k`` (0 when the city declares no switches), in component
      order of their edges.
    - ``ids``: the switch id, which is its edge's asset id; ``edge``: the edge's
      component index; ``kind``: index into :data:`SWITCH_KINDS` (breaker,
      sectionalizer, tie); ``normally_open``: open in the normal configuration (such an
      edge carries nothing until a switching operation closes it); ``automated``:
      operated remotely by feeder automation, else by a crew on site.
    """

    ids: np.ndarray
    edge: np.ndarray
    kind: np.ndarray
    normally_open: np.ndarray
    automated: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def open_edges(self, n: int) -> np.ndarray:
        """bool[n]: the edges whose switch is open in the normal configuration."""
        out = np.zeros(n, dtype=bool)
        out[self.edge[self.normally_open]] = True
        return out


#: switch kinds in the order of :attr:`SwitchArrays.kind`
SWITCH_KINDS: tuple[SwitchKind, ...] = tuple(SwitchKind)


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
    #: (n_blocks, len(NETWORKS)) component index of the node of each kind that serves
    #: the block, -1 where that kind does not serve it
    block_nodes: np.ndarray
    impact: np.ndarray  # customers that depend on each component (twin.impact)
    sites: Sites
    terrain: Terrain | None = None
    meta: Mapping[str, object] = field(default_factory=dict)
    #: what the physics backends read (twin.physics); None for a hand-built Twin
    physics: PhysicsArrays | None = None
    #: switches on power edges (twin.flisr); None for a hand-built Twin
    switches: SwitchArrays | None = None

    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def kinds(self) -> tuple[int, ...]:
        """Indices (into ``NETWORKS``) of the kinds this city has, in order: those with
        at least one component. Results, plots and replays show these and no others."""
        return tuple(int(k) for k in np.unique(self.network))

    def kind_names(self) -> tuple[str, ...]:
        return tuple(NETWORKS[k].value for k in self.kinds)

    def block_served(self, served: np.ndarray, kinds=None) -> np.ndarray:
        """Per population block, the product over ``kinds`` (indices into ``NETWORKS``;
        default: every kind of the city) of the service of its node of each kind; a kind
        that does not serve the block (-1) counts as served."""
        cols = list(self.kinds if kinds is None else kinds)
        return np.prod(np.append(served, 1.0)[self.block_nodes[:, cols]], axis=1)

    def block_anchor(self) -> np.ndarray:
        """Per population block, the component it is drawn at: its power node (the load
        point of the block), else its road node, else the first node of any kind."""
        b = self.block_nodes
        order = [NET_INDEX[NetworkKind.POWER], NET_INDEX[NetworkKind.ROADS],
                 *range(len(NETWORKS))]
        out = np.full(len(b), -1, dtype=np.int64)
        for k in order:
            out = np.where(out < 0, b[:, k], out)
        return out

    def series(self) -> tuple[tuple[int, str], ...]:
        """The service series of this city's runs, as (column of the recorded service
        array, name): its kinds in ``NETWORKS`` order, then the system (a three-kind
        city records power, water, roads, system)."""
        names = (*self.kind_names(), SYSTEM)
        return tuple(enumerate(names))

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

    def primary_sources(self) -> np.ndarray:
        """Sources that are not tanks (a tank only stores what a primary source sent)."""
        return self.is_source & (self.asset_class != CLASS_INDEX[AssetClass.TANK])

    def total_customers(self) -> np.ndarray:
        """Customers per network kind (every kind of ``NETWORKS``; 0 for absent kinds)."""
        return np.array([self.customers[self.network == k].sum() for k in range(len(NETWORKS))])


def compile_twin(net: LifelineNetwork) -> Twin:
    """Compile ``net`` (already validated) into a :class:`Twin`.

    Named steps, each a pure function of the previous ones: list the components,
    read their declared fields, derive supply (sources, capacities, demands), build
    the CSR adjacency, the dependencies and road access, the population blocks and
    the hazard sites, rank the components' impact, and gather the physics parameters.
    """
    comp = _list_components(net)
    n = len(comp.ids)
    index = {s: i for i, s in enumerate(comp.ids)}
    ids_arr = np.array(comp.ids, dtype=object)
    network = np.array(comp.network, dtype=np.int8)
    asset_class = np.array(comp.asset_class, dtype=np.int8)
    is_edge = np.array(comp.is_edge, dtype=bool)
    edge_u = np.array([-1 if u is None else index[u] for u in comp.edge_u], dtype=np.int32)
    edge_v = np.array([-1 if v is None else index[v] for v in comp.edge_v], dtype=np.int32)
    fields = _declared_fields(comp.attrs, is_edge)
    is_source, capacity, demand = _supply(comp.attrs, asset_class)
    mids = np.array([_midpoint(c) for c in comp.coords])
    x_m, y_m = mids[:, 0], mids[:, 1]
    adj_indptr, adj_node, adj_edge = _adjacency(n, is_edge, edge_u, edge_v,
                                                np.array(comp.direction, dtype=np.int8))
    dep_indptr, dep_supplier, access_node = _dependencies(net, index, n)
    road_edges = _road_access(access_node, network, is_edge, edge_u, x_m, y_m)
    travel_h = np.full(n, np.inf)
    travel_h[road_edges] = (fields["length_m"][road_edges] / 1000.0
                            / np.maximum(fields["speed_kmh"][road_edges], 0.1))
    block_population, block_nodes = _population(net, index)
    sites = _sites(comp.coords, ids_arr, asset_class, x_m, y_m, is_edge, fields["length_m"],
                   net.crs)
    from twin.impact import dominator_impact

    switches = _switches(comp.attrs, ids_arr, is_edge)
    # an edge behind a normally open switch carries nothing in the normal configuration
    imp_indptr, imp_edge = adj_indptr, adj_edge
    if switches.normally_open.any():
        imp_indptr, imp_edge = _drop_edges(adj_indptr, adj_edge, switches.open_edges(n))
    impact = dominator_impact(n, network, is_edge, edge_u, edge_v, is_source,
                              fields["customers"], dep_indptr, dep_supplier, imp_indptr,
                              imp_edge)
    physics = _physics(comp.attrs, asset_class, is_edge, edge_u, edge_v, network, x_m, y_m,
                       capacity, demand, net.terrain)
    return Twin(
        name=net.name, crs=net.crs, ids=ids_arr, index=index, network=network,
        asset_class=asset_class, is_edge=is_edge, edge_u=edge_u, edge_v=edge_v, x_m=x_m,
        y_m=y_m, length_m=fields["length_m"], customers=fields["customers"], demand=demand,
        capacity=capacity, is_source=is_source, critical=fields["critical"],
        overhead=fields["overhead"], storage_h=fields["storage_h"],
        backup_h=fields["backup_h"], adj_indptr=adj_indptr, adj_node=adj_node,
        adj_edge=adj_edge, dep_indptr=dep_indptr, dep_supplier=dep_supplier,
        access_node=access_node, travel_h=travel_h, block_population=block_population,
        block_nodes=block_nodes, impact=impact, sites=sites, terrain=net.terrain,
        meta=dict(net.meta), physics=physics, switches=switches,
    )


def _switches(attrs: list[dict], ids: np.ndarray, is_edge: np.ndarray) -> SwitchArrays:
    """The declared switches (the ``switch`` field of power edges), normal state filled in:
    ties open, breakers and sectionalizers closed, unless ``normally_open`` says."""
    edge, kind, nopen, auto = [], [], [], []
    for i, a in enumerate(attrs):
        k = a.get("switch")
        if not is_edge[i] or not k:
            continue
        sk = SwitchKind(k)
        edge.append(i)
        kind.append(SWITCH_KINDS.index(sk))
        no = a.get("normally_open")
        nopen.append(bool(sk == SwitchKind.TIE) if no is None else bool(no))
        auto.append(bool(a.get("automated") or False))
    e = np.array(edge, dtype=np.int32)
    return SwitchArrays(ids[e] if len(e) else np.zeros(0, dtype=object), e,
                        np.array(kind, dtype=np.int8), np.array(nopen, dtype=bool),
                        np.array(auto, dtype=bool))


def _drop_edges(adj_indptr: np.ndarray, adj_edge: np.ndarray, drop: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """The CSR rows without the entries through the edges flagged in ``drop``."""
    keep = ~drop[adj_edge]
    n = len(adj_indptr) - 1
    row = np.repeat(np.arange(n), np.diff(adj_indptr))
    counts = np.bincount(row[keep], minlength=n)
    indptr = np.zeros_like(adj_indptr)
    np.cumsum(counts, out=indptr[1:])
    return indptr, adj_edge[keep]


@dataclass
class _Components:
    """Every node and edge of every network, in twin order (nodes, then edges, per network)."""

    ids: list[str] = field(default_factory=list)
    network: list[int] = field(default_factory=list)
    asset_class: list[int] = field(default_factory=list)
    is_edge: list[bool] = field(default_factory=list)
    edge_u: list[str | None] = field(default_factory=list)
    edge_v: list[str | None] = field(default_factory=list)
    attrs: list[dict] = field(default_factory=list)
    coords: list[np.ndarray] = field(default_factory=list)
    #: +1: one way from u to v, -1: one way from v to u, 0: both ways (and nodes)
    direction: list[int] = field(default_factory=list)

    def add(self, cid: str, kind: NetworkKind, attrs: dict, coords: np.ndarray,
            u: str | None = None, v: str | None = None, direction: int = 0) -> None:
        self.ids.append(cid)
        self.network.append(NET_INDEX[kind])
        self.asset_class.append(CLASS_INDEX[AssetClass(attrs["asset_class"])])
        self.is_edge.append(u is not None)
        self.edge_u.append(u)
        self.edge_v.append(v)
        self.attrs.append(attrs)
        self.coords.append(coords)
        self.direction.append(direction)


def _list_components(net: LifelineNetwork) -> _Components:
    comp = _Components()
    for kind in NETWORKS:
        g = net.graphs.get(kind)
        if g is None:
            continue
        for nid, a in g.nodes(data=True):
            comp.add(nid, kind, a, np.array([[a["x_m"], a["y_m"]]], dtype=float))
        for u, v, a in g.edges(data=True):
            c = a.get("coords")
            pu = (g.nodes[u]["x_m"], g.nodes[u]["y_m"])
            pv = (g.nodes[v]["x_m"], g.nodes[v]["y_m"])
            forward = True
            if c is None:
                c = np.array([pu, pv], dtype=float)
            else:
                c = np.asarray(c, dtype=float)
                # stored polylines may run v->u; orient them from u
                if np.hypot(*(c[0] - pu)) > np.hypot(*(c[-1] - pu)):
                    c = c[::-1]
                    forward = False
            # a one-way road runs the way its stored polyline runs
            direction = (1 if forward else -1) if a.get("oneway") else 0
            comp.add(a["id"], kind, a, c, u, v, direction)
    return comp


def _declared_fields(attrs: list[dict], is_edge: np.ndarray) -> dict[str, np.ndarray]:
    """The schema fields the kernels read, as arrays (absent or None reads as the default)."""

    def num(field_name: str, default: float = 0.0) -> np.ndarray:
        return np.array([float(a.get(field_name, default) or 0.0) for a in attrs])

    return {
        "customers": num("customers"),
        "length_m": np.where(is_edge, num("length_m"), 0.0),
        "overhead": np.array([bool(a.get("overhead", False)) for a in attrs]),
        "critical": np.array([bool(a.get("critical", False)) for a in attrs]),
        "storage_h": num("storage_h"),
        "backup_h": num("backup_h"),
        "speed_kmh": num("speed_kmh", 1.0),
    }


def _supply(attrs: list[dict], asset_class: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which components are sources, what they can deliver, and what consumers demand."""
    n = len(attrs)
    demand = np.zeros(n)
    capacity = np.zeros(n)
    is_source = np.zeros(n, dtype=bool)
    for i, a in enumerate(attrs):
        c = CLASSES[asset_class[i]]
        if CLASS_SPECS[c].is_source:
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
    return is_source, capacity, demand


#: design head of a pump station when its file gives none (m): a typical distribution
#: booster; set ``head_m`` for real stations
DEFAULT_PUMP_HEAD_M = 40.0
#: rating assumed for a substation without ``capacity_mva`` (the largest typical unit)
DEFAULT_TRAFO_MVA = 63.0


def _physics(attrs: list[dict], asset_class: np.ndarray, is_edge: np.ndarray,
             edge_u: np.ndarray, edge_v: np.ndarray, network: np.ndarray, x_m: np.ndarray,
             y_m: np.ndarray, capacity: np.ndarray, demand: np.ndarray,
             terrain: Terrain | None) -> PhysicsArrays:
    """The physics parameters (:class:`PhysicsArrays`), defaults filled in."""
    from networks.schema import (
        Q_PER_P,
        TYPICAL_LINE,
        TYPICAL_TRAFO,
        voltage_class,
    )

    n = len(attrs)
    C = CLASS_INDEX
    A = AssetClass

    def num(name: str, default: float = np.nan) -> np.ndarray:
        out = np.full(n, default)
        for i, a in enumerate(attrs):
            v = a.get(name)
            if v is not None and not (isinstance(v, float) and np.isnan(v)):
                out[i] = float(v)
        return out

    def is_(c: AssetClass) -> np.ndarray:
        return asset_class == C[c]

    # -- power: lines (typical values by construction and voltage class when absent)
    tl, fd, sub = is_(A.TRANSMISSION_LINE), is_(A.FEEDER_SEGMENT), is_(A.SUBSTATION)
    lines = tl | fd
    vn_kv = np.where(tl | sub, num("voltage_kv"), np.nan)
    cols = [num(k) for k in ("r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka")]
    for i in np.nonzero(lines)[0]:
        kv = vn_kv[i] if tl[i] else 10.0
        typ = TYPICAL_LINE[(bool(attrs[i].get("overhead", True)), voltage_class(kv))]
        for col, v in zip(cols, typ, strict=True):
            if np.isnan(col[i]):
                col[i] = v
    r, x, c, max_i = (np.where(lines, col, np.nan) for col in cols)
    parallel = np.where(lines, np.maximum(num("parallel", 1.0), 1.0), 0.0).astype(np.int32)
    # -- substations: one HV/MV transformer of the station's rating
    sn = np.where(sub, num("capacity_mva", 0.0), np.nan)
    sn[sub & ~(sn > 0)] = DEFAULT_TRAFO_MVA
    trafo = [num(k) for k in ("vk_percent", "vkr_percent", "pfe_kw", "i0_percent")]
    for i in np.nonzero(sub)[0]:
        typ = next(t for t in TYPICAL_TRAFO if sn[i] <= t[0])[1:]
        for col, v in zip(trafo, typ, strict=True):
            if np.isnan(col[i]):
                col[i] = v
    vk, vkr, pfe, i0 = trafo
    vn_lv = np.where(sub, num("vn_lv_kv", 10.0), np.nan)
    tap = np.where(sub, num("tap_percent", 0.0), 0.0)
    loads = is_(A.POWER_LOAD)
    q = np.where(loads, num("q_mvar"), 0.0)
    q = np.where(loads & np.isnan(q), demand * Q_PER_P, q)
    sources = is_(A.POWER_PLANT) | is_(A.GRID_SUPPLY)
    vm = np.where(sources, num("vm_pu", 1.0), np.nan)

    # -- water: elevations from the file, else the terrain, else 0
    water = network == NET_INDEX[NetworkKind.WATER]
    elev = num("elevation_m")
    todo = water & ~is_edge & np.isnan(elev)
    if terrain is not None and todo.any():
        elev[todo] = terrain.sample(x_m[todo], y_m[todo])
    elev = np.where(water & ~is_edge, np.nan_to_num(elev, nan=0.0), np.nan)
    plant, pump, tank = is_(A.TREATMENT_PLANT), is_(A.PUMP_STATION), is_(A.TANK)
    head = num("head_m")
    head = np.where(plant & np.isnan(head), elev, head)
    head = np.where(pump & np.isnan(head), DEFAULT_PUMP_HEAD_M, head)
    head = np.where(plant | pump, head, np.nan)
    pipe = is_(A.PIPE)
    diam = np.where(pipe, num("diameter_m"), np.nan)
    rough = np.where(pipe, num("roughness", 130.0), np.nan)
    lo = np.where(tank, num("min_level_m", 0.0), np.nan)
    hi = np.where(tank, np.maximum(num("max_level_m", 5.0), lo + 0.1), np.nan)
    init = np.where(tank, np.clip(np.where(np.isnan(num("init_level_m")), hi,
                                           num("init_level_m")), lo, hi), np.nan)
    vol = np.where(tank, num("volume_m3", 0.0), np.nan)
    tank_d = np.where(tank, np.sqrt(4.0 * np.maximum(vol, 1.0) / (np.pi * (hi - lo))), np.nan)
    suction = _pump_suction(pump, plant, is_edge, edge_u, edge_v, water, elev)
    shutoff = np.where(pump, num("shutoff_head_m"), np.nan)
    return PhysicsArrays(r, x, c, max_i, parallel, vn_kv, vn_lv, sn, vk, vkr, pfe, i0, tap,
                         q, vm,
                         elev, head, diam, rough, lo, hi, init, tank_d, suction, shutoff,
                         np.where(pump, num("capacity_m3h", 0.0), np.nan))


def _pump_suction(pump: np.ndarray, plant: np.ndarray, is_edge: np.ndarray,
                  edge_u: np.ndarray, edge_v: np.ndarray, water: np.ndarray,
                  elev: np.ndarray) -> np.ndarray:
    """The node on each pump station's suction side.

    Water flows from the treatment plants outwards: spread from the plants through
    pipes without crossing a pump station; a station with one neighbour reached draws
    from it, and the water it lifts spreads on, until every station is placed. A
    station reached from both or neither side draws from its lowest neighbour.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n = len(pump)
    suction = np.full(n, -1, dtype=np.int32)
    pipes = np.nonzero(water & is_edge)[0]
    if not pump.any() or not len(pipes):
        return suction
    u, v = edge_u[pipes], edge_v[pipes]
    nbrs: dict[int, list[int]] = {int(p): [] for p in np.nonzero(pump)[0]}
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        if a in nbrs:
            nbrs[a].append(b)
        if b in nbrs:
            nbrs[b].append(a)
    # the graph without pump stations: water spreads freely there
    free = ~(pump[u] | pump[v])
    g = coo_matrix((np.ones(int(free.sum())), (u[free], v[free])), shape=(n, n)).tocsr()
    g = g + g.T
    reached = np.zeros(n, dtype=bool)

    def spread(start: int) -> None:
        reached[breadth_first_order(g, start, directed=False, return_predecessors=False)] = True

    for s in np.nonzero(plant)[0]:
        if not reached[s]:
            spread(int(s))
    todo = set(nbrs)
    while todo:
        placed = [p for p in sorted(todo) if sum(reached[b] for b in nbrs[p]) == 1]
        if not placed:
            p = min(todo)
            cand = nbrs[p] or [p]
            suction[p] = min(cand, key=lambda b: (elev[b] if not np.isnan(elev[b]) else 0.0, b))
            todo.discard(p)
            reached[p] = True
            for b in nbrs[p]:
                if b != suction[p] and not reached[b]:
                    spread(b)
            continue
        for p in placed:
            suction[p] = next(b for b in nbrs[p] if reached[b])
            todo.discard(p)
            reached[p] = True
            for b in nbrs[p]:
                if not reached[b]:
                    spread(b)
    return suction


def _adjacency(n: int, is_edge: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray,
               direction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR adjacency over node components, through edge components: both directions,
    except one-way roads (``direction`` +1: u to v only, -1: v to u only)."""
    fwd = np.nonzero(is_edge & (direction >= 0))[0]
    back = np.nonzero(is_edge & (direction <= 0))[0]
    src = np.concatenate([edge_u[fwd], edge_v[back]])
    dst = np.concatenate([edge_v[fwd], edge_u[back]])
    via = np.concatenate([fwd, back]).astype(np.int32)
    order = np.argsort(src, kind="stable")
    counts = np.bincount(src, minlength=n)
    adj_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=adj_indptr[1:])
    return adj_indptr, dst[order].astype(np.int32), via[order]


def _dependencies(net: LifelineNetwork, index: dict[str, int], n: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Functional dependencies as CSR (dependent -> suppliers) and the road-access array."""
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
    return dep_indptr, dep_supplier, access_node


def _road_access(access_node: np.ndarray, network: np.ndarray, is_edge: np.ndarray,
                 edge_u: np.ndarray, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
    """Fill ``access_node`` in place (road nodes reach themselves, road edges their first
    end, others the nearest road node when no link says otherwise); return the road edges."""
    roads = network == NET_INDEX[NetworkKind.ROADS]
    road_nodes = np.nonzero(roads & ~is_edge)[0]
    access_node[road_nodes] = road_nodes
    road_edges = np.nonzero(roads & is_edge)[0]
    access_node[road_edges] = edge_u[road_edges]
    todo = np.nonzero(access_node < 0)[0]
    if len(todo):
        if len(road_nodes) == 0:
            raise NetworkError("the road network has no nodes; crews cannot reach any asset")
        tree = cKDTree(np.column_stack([x_m[road_nodes], y_m[road_nodes]]))
        _, k = tree.query(np.column_stack([x_m[todo], y_m[todo]]))
        access_node[todo] = road_nodes[k]
    return road_edges


def _population(net: LifelineNetwork, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """People per block and the node of each kind that serves each block (-1: none)."""
    k = len(NETWORKS)
    if net.population is None or not len(net.population):
        return np.zeros(0), np.zeros((0, k), dtype=np.int32)
    p = net.population
    block_nodes = np.column_stack([[index[s] if s else -1 for s in p.node_of(kind)]
                                   for kind in NETWORKS]).astype(np.int32)
    return np.asarray(p.population, dtype=float), block_nodes


def _sites(coords: list[np.ndarray], ids: np.ndarray, asset_class: np.ndarray, x_m: np.ndarray,
           y_m: np.ndarray, is_edge: np.ndarray, length_m: np.ndarray, crs: str) -> Sites:
    """Where hazards report intensity: every component's point or polyline."""
    n = len(ids)
    lengths = np.array([len(c) for c in coords])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    allc = np.concatenate(coords) if coords else np.zeros((0, 2))
    return Sites(ids=ids, asset_class=np.array([CLASSES[k].value for k in asset_class]),
                 x_m=x_m, y_m=y_m, is_edge=is_edge, length_m=length_m, line_offsets=offsets,
                 line_x=allc[:, 0].copy(), line_y=allc[:, 1].copy(), crs=crs)


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
