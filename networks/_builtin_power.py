"""Power network of the built-in city (private helper of :mod:`networks.builtin`).

Sources (a coastal thermal plant and grid supply points at the city edge) feed a
2-edge-connected 110/220 kV transmission mesh of substations; each substation feeds
radial 10 kV feeders that run along the streets (the shortest-path tree of the road
network rooted at the substation, pruned to the distribution transformers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from networks._builtin_geo import CityFrame, TerrainGrid, dry_direction
from networks._builtin_population import Blocks
from networks._builtin_roads import SPACING_M, RoadArrays
from networks._builtin_util import id_width, kmeans, resilient_mesh, snap_unique
from networks.schema import Q_PER_P, TYPICAL_LINE, TYPICAL_TRAFO, voltage_class

PEOPLE_PER_SUBSTATION = 35_000.0
#: average peak demand per person (kW), all sectors
KW_PER_PERSON = 1.1
HOSPITAL_MW = 1.2
CORE_RADIUS_M = 2000.0
#: where feeder nodes and loads sit relative to their intersection (m)
FEEDER_OFFSET = np.array([4.0, 4.0])
SUBSTATION_OFFSET = np.array([15.0, -15.0])
#: standard 110 kV transformer ratings (MVA); a substation has two or more of one size
MVA_UNITS = (40.0, 50.0, 63.0)
#: feeders: 10 kV; a feeder segment is sized to carry its downstream peak at no more than
#: this share of its rating (the planning margin that lets a feeder pick up part of a
#: neighbour's load); several circuits where one cable is not enough (the feeders that
#: leave a station along one street)
FEEDER_KV = 10.0
FEEDER_DESIGN_LOADING = 0.6
#: 110/220 kV lines: double circuits, the norm for urban high-voltage lines (N-1)
TRANSMISSION_CIRCUITS = 2
#: on-load tap changers hold the 10 kV busbar near 10.5 kV (1.05 p.u., within GB/T
#: 12325's +7 %): a ratio 5 % below nominal on the HV side **[check]** the utility's
#: set point
SUBSTATION_TAP_PERCENT = -5.0


@dataclass
class NetParts:
    """Nodes ``(id, attrs)`` and edges ``(u, v, attrs)`` in local coordinates."""

    nodes: list[tuple[str, dict]] = field(default_factory=list)
    edges: list[tuple[str, str, dict]] = field(default_factory=list)

    def node(self, nid: str, asset_class: str, xy: np.ndarray, **fields: object) -> None:
        self.nodes.append((nid, {"asset_class": asset_class, "x_m": float(xy[0]),
                                 "y_m": float(xy[1]), **fields}))

    def edge(self, u: str, v: str, eid: str, asset_class: str, **fields: object) -> None:
        self.edges.append((u, v, {"id": eid, "asset_class": asset_class, **fields}))


@dataclass(frozen=True, eq=False)
class PowerResult:
    parts: NetParts
    block_load: np.ndarray  # (b,) load id of each block
    feeder_ids: np.ndarray  # distribution nodes and loads (power_supply candidates)
    feeder_xy: np.ndarray
    plant_ids: tuple[str, ...]
    plant_xy: np.ndarray
    total_demand_mw: float


def _is_land(frame: CityFrame, terrain: TerrainGrid, p: np.ndarray) -> bool:
    return bool(terrain.z(p[0], p[1]) > 1.0 and not frame.in_channel(p[0], p[1], pad_m=10.0)
                and frame.coast_distance(p[0], p[1]) > 20.0)


def _place_plants(frame: CityFrame, terrain: TerrainGrid, roads: RoadArrays, n: int
                  ) -> np.ndarray:
    """Thermal plants on the coast: the first just east of the river mouth."""
    xy = roads.xy
    cd = frame.coast_distance(xy[:, 0], xy[:, 1])
    coastal = np.flatnonzero((cd > 60.0) & (cd < 900.0))
    if len(coastal) < n:
        coastal = np.argsort(cd, kind="stable")[: max(n, 1)]
    y_m = frame.coast_base_m
    x_t = [float(frame.river_x(y_m) + frame.river_halfwidth(y_m) + 900.0)]
    x_t += list(np.linspace(0.05, 0.95, n + 1)[1:-1] * frame.width_m) if n > 1 else []
    x_t = np.array(x_t[:n])
    targets = np.column_stack([x_t, frame.coast_y(x_t) + 200.0])
    nodes = snap_unique(targets, xy, candidates=coastal)
    out = []
    for k in nodes:
        for off in ((25.0, -35.0), (25.0, 25.0), (0.0, 0.0)):
            p = xy[k] + np.array(off)
            if _is_land(frame, terrain, p) or off == (0.0, 0.0):
                out.append(p)
                break
    return np.array(out)


def _place_grid_supplies(frame: CityFrame, roads: RoadArrays, n: int) -> np.ndarray:
    """Grid supply points just outside the west, north and east edges of the street grid."""
    xy = roads.xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    edge_d = np.column_stack([xy[:, 0] - lo[0], hi[1] - xy[:, 1], hi[0] - xy[:, 0]])
    near = edge_d.min(axis=1) < 2.5 * SPACING_M
    inland = frame.coast_distance(xy[:, 0], xy[:, 1]) > 0.25 * frame.height_m
    cand = np.flatnonzero(near & inland)
    if len(cand) < n:
        cand = np.arange(len(xy))
    start = np.array([lo[0], lo[1] + 0.6 * (hi[1] - lo[1])])
    chosen = [int(cand[np.argmin(np.hypot(*(xy[cand] - start).T))])]
    dmin = np.hypot(*(xy[cand] - xy[chosen[0]]).T)
    while len(chosen) < n:
        k = int(cand[np.argmax(dmin)])
        chosen.append(k)
        dmin = np.minimum(dmin, np.hypot(*(xy[cand] - xy[k]).T))
    outward = np.array([[-80.0, 0.0], [0.0, 80.0], [80.0, 0.0]])
    pts = []
    for k in chosen:
        p = xy[k] + outward[int(np.argmin(edge_d[k]))]
        pts.append(p if not frame.in_channel(p[0], p[1], pad_m=20.0) else xy[k] + FEEDER_OFFSET)
    return np.array(pts)


def build_power(frame: CityFrame, terrain: TerrainGrid, roads: RoadArrays, blocks: Blocks,
                rng: np.random.Generator, *, automation: float | None = None) -> PowerResult:
    parts = NetParts()
    xy = roads.xy
    n_road = roads.n
    cx, cy = frame.centre

    # -- distribution transformers (loads): every other street crossing that serves people
    cand = np.flatnonzero((roads.ij[:, 0] % 2 == 0) & (roads.ij[:, 1] % 2 == 0))
    if len(cand) == 0:
        cand = np.arange(n_road)
    _, bc = cKDTree(xy[cand]).query(blocks.xy)
    block_road = cand[bc]
    customers = np.bincount(block_road, weights=blocks.population, minlength=n_road)
    hospital = np.bincount(block_road, weights=blocks.hospital.astype(float),
                           minlength=n_road) > 0
    is_load = np.zeros(n_road, bool)
    is_load[block_road] = True

    # -- substations where the people are, on distinct intersections
    pop_total = float(blocks.population.sum())
    n_sub = max(2, int(round(pop_total / PEOPLE_PER_SUBSTATION)))
    centres = kmeans(blocks.xy, n_sub, rng, weights=blocks.population)
    sub_road = snap_unique(centres, xy)
    sub_w = id_width(n_sub, 3)
    sub_ids = [f"P-SUB-{k + 1:0{sub_w}d}" for k in range(n_sub)]
    reach = float(np.hypot(*SUBSTATION_OFFSET))
    sub_xy = xy[sub_road] + reach * dry_direction(
        frame, terrain, xy[sub_road], np.tile(SUBSTATION_OFFSET / reach, (n_sub, 1)), reach)

    # -- radial feeders: shortest-path forest over the streets, pruned to the loads
    dist, pred, src = dijkstra(roads.csgraph(), directed=False, indices=sub_road,
                               return_predecessors=True, min_only=True)
    root_sub = np.full(n_road, -1, dtype=np.int64)
    root_sub[sub_road] = np.arange(n_sub)
    node_sub = root_sub[src]
    kept = np.zeros(n_road, bool)
    front = np.flatnonzero(is_load)
    while front.size:
        front = front[~kept[front]]
        kept[front] = True
        p = pred[front]
        front = np.unique(p[p >= 0])
    is_root = root_sub >= 0
    tree = np.flatnonzero(kept & ~is_root)
    order = np.lexsort((tree, dist[tree], node_sub[tree]))
    tree = tree[order]
    counts = np.bincount(node_sub[tree], minlength=n_sub)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    number = np.arange(len(tree)) - starts[node_sub[tree]] + 1
    num_w = id_width(int(counts.max()) if len(counts) else 1, 4)

    road_power_id = np.empty(n_road, dtype=object)  # feeder node standing for a road node
    road_load_id = np.empty(n_road, dtype=object)
    pos = xy + FEEDER_OFFSET
    r_centre = np.hypot(pos[:, 0] - cx, pos[:, 1] - cy)
    kw = KW_PER_PERSON * rng.lognormal(0.0, 0.25, n_road) * (1.0 + 0.6 * np.exp(-r_centre / 1500))
    demand = customers * kw * 1e-3 + np.where(hospital, HOSPITAL_MW, 0.0)

    sub_demand = np.zeros(n_sub)
    feeder_ids: list[str] = []
    feeder_xy: list[np.ndarray] = []

    def add_load_or_dn(nid_num: str, k_sub: int, road_i: int, p: np.ndarray) -> str:
        if is_load[road_i]:
            nid = f"P-LD-{nid_num}"
            parts.node(nid, "power_load", p, demand_mw=float(demand[road_i]),
                       customers=float(customers[road_i]), critical=bool(hospital[road_i]))
            sub_demand[k_sub] += demand[road_i]
            road_load_id[road_i] = nid
        else:
            nid = f"P-DN-{nid_num}"
            parts.node(nid, "distribution_node", p)
        road_power_id[road_i] = nid
        feeder_ids.append(nid)
        feeder_xy.append(p)
        return nid

    # the substations' own intersections: a load there hangs off the substation directly
    for k in range(n_sub):
        parts.node(sub_ids[k], "substation", sub_xy[k], voltage_kv=110.0, capacity_mva=0.0)
        r = int(sub_road[k])
        if is_load[r]:
            num = f"{k + 1:0{sub_w}d}-{0:0{num_w}d}"
            nid = add_load_or_dn(num, k, r, pos[r])
            parts.edge(sub_ids[k], nid, f"P-FDR-{num}", "feeder_segment",
                       length_m=float(np.hypot(*(pos[r] - sub_xy[k]))), overhead=False)
        road_power_id[r] = sub_ids[k]  # children of the root hang off the substation
    underground_p = np.where(r_centre < CORE_RADIUS_M, 0.85, 0.08)
    under = rng.random(n_road) < underground_p
    for t, num_i in zip(tree.tolist(), number.tolist(), strict=True):
        k = int(node_sub[t])
        num = f"{k + 1:0{sub_w}d}-{num_i:0{num_w}d}"
        nid = add_load_or_dn(num, k, t, pos[t])
        parent = int(pred[t])
        if is_root[parent]:
            pu, pxy, overhead = sub_ids[k], sub_xy[k], False  # cable exit from the station
        else:
            pu, pxy, overhead = road_power_id[parent], pos[parent], not under[t]
        parts.edge(pu, nid, f"P-FDR-{num}", "feeder_segment",
                   length_m=float(np.hypot(*(pos[t] - pxy))), overhead=bool(overhead))

    block_load = road_load_id[block_road].astype(str)
    total_demand = float(sub_demand.sum())

    # -- sources and the transmission mesh
    n_plant = max(1, int(round(frame.scale ** 2)))
    n_gs = max(2, int(round(2 * frame.scale ** 2)))
    plant_xy = _place_plants(frame, terrain, roads, n_plant)
    gs_xy = _place_grid_supplies(frame, roads, n_gs)
    plant_ids = tuple(f"P-PLANT-{k + 1}" for k in range(n_plant))
    gs_ids = tuple(f"P-GS-{k + 1}" for k in range(n_gs))
    plant_mw = np.ceil(0.8 * total_demand / n_plant / 10.0) * 10.0
    gs_mw = np.ceil(1.0 * total_demand / n_gs / 10.0) * 10.0
    for nid, p in zip(plant_ids, plant_xy, strict=True):
        parts.node(nid, "power_plant", p, capacity_mw=float(plant_mw))
    for nid, p in zip(gs_ids, gs_xy, strict=True):
        parts.node(nid, "grid_supply", p, capacity_mw=float(gs_mw))

    t_ids = list(plant_ids) + list(gs_ids) + sub_ids
    t_xy = np.vstack([plant_xy, gs_xy, sub_xy])
    n_src = n_plant + n_gs
    lines = resilient_mesh(t_xy)
    is_220 = np.zeros(len(t_ids), bool)
    is_220[:n_src] = True
    for a, b in lines:
        if a < n_src or b < n_src:
            is_220[a] = is_220[b] = True
    in_core = np.hypot(t_xy[:, 0] - cx, t_xy[:, 1] - cy) < CORE_RADIUS_M
    tl_w = id_width(len(lines), 3)
    for i, (a, b) in enumerate(lines):
        kv = 220.0 if (is_220[a] and is_220[b]) else 110.0
        parts.edge(t_ids[a], t_ids[b], f"P-TL-{i + 1:0{tl_w}d}", "transmission_line",
                   length_m=float(np.hypot(*(t_xy[a] - t_xy[b]))), voltage_kv=kv,
                   overhead=not bool(in_core[a] and in_core[b]))

    # substation ratings now that their loads and voltages are known
    unit = rng.choice(MVA_UNITS, size=n_sub)
    for nid, attrs in parts.nodes:
        if attrs["asset_class"] == "substation":
            k = int(nid.rsplit("-", 1)[1]) - 1
            attrs["voltage_kv"] = 220.0 if is_220[n_src + k] else 110.0
            need = sub_demand[k] / 0.9 * 1.5  # power factor 0.9, N-1 margin
            attrs["capacity_mva"] = float(max(2.0, np.ceil(need / unit[k])) * unit[k])

    _electrical_parameters(parts, unit)
    if automation is not None:
        feeder_automation(parts, automation)
    return PowerResult(parts=parts, block_load=block_load, feeder_ids=np.array(feeder_ids),
                       feeder_xy=np.array(feeder_xy), plant_ids=plant_ids, plant_xy=plant_xy,
                       total_demand_mw=total_demand)


def _electrical_parameters(parts: NetParts, unit: np.ndarray) -> None:
    """Impedances, ratings and transformer data for the power flow (in place; no draws).

    Lines take the typical pandapower standard types of :data:`networks.schema.
    TYPICAL_LINE`; feeder segments get as many circuits as their downstream peak
    needs (:data:`FEEDER_DESIGN_LOADING`), transmission lines
    :data:`TRANSMISSION_CIRCUITS`; substations a 10 kV secondary, the short-circuit
    voltages of the standard 110/10 kV unit of their size (:data:`TYPICAL_TRAFO`) and
    the tap :data:`SUBSTATION_TAP_PERCENT`; loads a power factor of 0.95; sources hold
    1.0 p.u.
    """
    down = {nid: float(a.get("demand_mw", 0.0)) for nid, a in parts.nodes}
    feeders = [e for e in parts.edges if e[2]["asset_class"] == "feeder_segment"]
    # feeders were added parent first (by distance from the station): children first here
    for u, v, a in reversed(feeders):
        down[u] = down.get(u, 0.0) + down[v]
        r, x, c, i_max = TYPICAL_LINE[(bool(a["overhead"]), "mv")]
        i_ka = down[v] * np.hypot(1.0, Q_PER_P) / (np.sqrt(3.0) * FEEDER_KV)
        a.update(r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=c, max_i_ka=i_max,
                 parallel=max(1, int(np.ceil(i_ka / (FEEDER_DESIGN_LOADING * i_max)))))
    for _, _, a in parts.edges:
        if a["asset_class"] == "transmission_line":
            r, x, c, i_max = TYPICAL_LINE[(bool(a["overhead"]), voltage_class(a["voltage_kv"]))]
            a.update(r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=c, max_i_ka=i_max,
                     parallel=TRANSMISSION_CIRCUITS)
    for nid, a in parts.nodes:
        if a["asset_class"] == "power_load":
            a["q_mvar"] = float(a["demand_mw"] * Q_PER_P)  # power factor 0.95 lagging
        elif a["asset_class"] in ("power_plant", "grid_supply"):
            a["vm_pu"] = 1.0
        elif a["asset_class"] == "substation":
            k = int(nid.rsplit("-", 1)[1]) - 1
            _, vk, vkr, pfe, i0 = next(t for t in TYPICAL_TRAFO if unit[k] <= t[0])
            n_units = a["capacity_mva"] / unit[k]  # parallel units: losses add up
            a.update(vn_lv_kv=FEEDER_KV, vk_percent=vk, vkr_percent=vkr,
                     pfe_kw=float(pfe * n_units), i0_percent=i0,
                     tap_percent=SUBSTATION_TAP_PERCENT)


#: sections per feeder: 3 up to this many customers, 4 up to the next, else 5
#: (feeder automation practice splits a 10 kV feeder into 3-5 sections of similar
#: customer counts; State Grid's distribution-automation guide Q/GDW 1382 **[check]**)
SECTION_CUSTOMERS = (4000.0, 8000.0)
#: longest tie between two feeders (m): three blocks of the street grid
MAX_TIE_M = 3.0 * SPACING_M


def feeder_automation(parts: NetParts, automated_share: float) -> None:
    """Breakers, sectionalizers and ties on the radial feeders (in place; no draws).

    Every feeder (a feeder segment leaving a substation and the tree behind it) gets a
    ``breaker`` on its head segment (automated: operated from the control centre) and
    is split into 3-5 sections of similar customer counts (:data:`SECTION_CUSTOMERS`)
    by ``sectionalizer`` switches on the segments whose downstream customers come
    closest to equal shares. Each section behind the first gets a normally open
    ``tie``: a new feeder segment ``P-TIE-*`` from the section's node nearest to
    another feeder to that feeder's node, when they lie within :data:`MAX_TIE_M`.
    A sectionalizer or tie is automated when its :func:`~networks.schema.switch_draw`
    lies below ``automated_share``.
    """
    from networks.schema import switch_draw

    kind = {nid: a["asset_class"] for nid, a in parts.nodes}
    cust = {nid: float(a.get("customers", 0.0)) for nid, a in parts.nodes}
    feeders = [e for e in parts.edges if e[2]["asset_class"] == "feeder_segment"]
    children: dict[str, list[tuple[str, dict]]] = {}
    for u, v, a in feeders:
        children.setdefault(u, []).append((v, a))
    feeder_of: dict[str, int] = {}
    section_of: dict[str, tuple[int, int]] = {}
    heads = [(u, v, a) for u, v, a in feeders if kind[u] == "substation"]
    for f, (_, head, ha) in enumerate(heads):
        ha.update(switch="breaker", normally_open=False, automated=True)
        # the feeder's tree in depth-first order, with each node's parent edge
        order: list[tuple[str, dict]] = []
        stack = [(head, ha)]
        while stack:
            x, a = stack.pop()
            order.append((x, a))
            stack.extend(reversed(children.get(x, [])))
        down = {x: cust[x] for x, _ in order}
        parent = {v: u for u, v, _ in feeders if v in down}
        for x, _ in reversed(order[1:]):
            down[parent[x]] += down[x]
        total = down[head]
        n_sec = 3 + sum(total > c for c in SECTION_CUSTOMERS)
        cuts: list[str] = []
        for _ in range(n_sec - 1):
            # customers each node would take if cut now: its subtree less deeper cuts
            left = dict(down)
            for c in cuts:  # up to and including the nearest cut above it
                y = parent.get(c)
                while y is not None and y in left:
                    left[y] -= down[c]
                    if y in cuts:
                        break
                    y = parent.get(y)
            share = total / n_sec
            best = min(((abs(left[x] - share), i) for i, (x, _) in enumerate(order)
                        if i > 0 and x not in cuts and left[x] > 0
                        and left[x] < left[head]), default=None)
            if best is None:
                break
            cuts.append(order[best[1]][0])
        sec_of_node = {}
        for x, a in order:
            if x in cuts:
                a.update(switch="sectionalizer", normally_open=False, automated=bool(
                    switch_draw(a["id"]) < automated_share))
                sec_of_node[x] = cuts.index(x) + 1
            else:
                sec_of_node[x] = sec_of_node.get(parent.get(x), 0)
            feeder_of[x] = f
            section_of[x] = (f, sec_of_node[x])
    # one tie per section behind the first: the shortest link to another feeder
    xy = {nid: np.array([a["x_m"], a["y_m"]]) for nid, a in parts.nodes}
    over = {v: bool(a["overhead"]) for _, v, a in feeders}
    nodes = sorted(feeder_of)
    pts = np.array([xy[x] for x in nodes])
    tree = cKDTree(pts)
    best_tie: dict[tuple[int, int], tuple[float, str, str]] = {}
    k = min(40, len(nodes))
    dist, idx = tree.query(pts, k=k)
    for i, x in enumerate(nodes):
        sec = section_of[x]
        if sec[1] == 0:
            continue
        for d, j in zip(np.atleast_1d(dist[i]), np.atleast_1d(idx[i]), strict=True):
            if d > MAX_TIE_M:
                break
            y = nodes[int(j)]
            if feeder_of[y] != feeder_of[x]:
                cand = (float(d), x, y)
                if sec not in best_tie or cand < best_tie[sec]:
                    best_tie[sec] = cand
                break
    done_pairs: set[frozenset] = set()
    n_tie = 0
    for length, x, y in sorted(best_tie.values(), key=lambda t: (t[1], t[2])):
        key = frozenset((x, y))
        if key in done_pairs:
            continue
        done_pairs.add(key)
        n_tie += 1
        eid = f"P-TIE-{n_tie:04d}"
        overhead = over.get(x, True) and over.get(y, True)
        r, xo, c, i_max = TYPICAL_LINE[(overhead, "mv")]
        parts.edge(x, y, eid, "feeder_segment", length_m=max(length, 1.0), overhead=overhead,
                   r_ohm_per_km=r, x_ohm_per_km=xo, c_nf_per_km=c, max_i_ka=i_max, parallel=1,
                   switch="tie", normally_open=True,
                   automated=bool(switch_draw(eid) < automated_share))
