"""Water network of the built-in city (private helper of :mod:`networks.builtin`).

Structure (what makes pumps matter):

- treatment plants by the river feed high-lift pump stations, which feed a looped
  trunk main (large pipes between trunk junctions ``W-TJ-*``);
- the distribution mains are looped grids along every other street, split into
  pressure districts (closed boundary valves are simply not modelled as pipes);
- each district takes water from the trunk at one inlet: directly (districts near a
  plant) or through a booster pump station (far districts and every hill district);
- hill districts also have a hilltop tank; the trunk has one or more service
  reservoirs on high ground. Tanks are sources while their storage lasts, so losing
  power to the pumps cuts the districts behind them once the tanks run dry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from networks._builtin_geo import CityFrame, TerrainGrid, dry_direction
from networks._builtin_population import Blocks
from networks._builtin_power import NetParts
from networks._builtin_roads import ARTERIAL_EVERY, RoadArrays
from networks._builtin_util import (
    components,
    connect_components,
    id_width,
    kmeans,
    resilient_mesh,
)

#: 350 litres per person per day, all uses
M3H_PER_PERSON = 0.35 / 24.0
HOSPITAL_M3H = 8.0
#: junctions above this elevation (m) form hill districts behind booster pumps
HILL_Z_M = 35.0
MIN_HILL_JUNCTIONS = 12
JUNCTIONS_PER_DISTRICT = 250
#: low districts whose inlet is farther than this from a plant are boosted
BOOST_DISTANCE_M = 3500.0
WATER_OFFSET = np.array([-4.0, -4.0])
#: hydraulic design (read only by ``service: {water: pressure_driven}``): pumps lift the
#: highest customer of their zone to this service head plus a friction allowance. 28 m is
#: the least service head at the customer's connection for six storeys of direct supply:
#: GB 50013-2018 (Code for design of outdoor water supply engineering) art. 3.0.10, 10 m
#: for one storey, 12 m for two, 4 m more per storey above (12 + 4 x 4 = 28 m); GB
#: 50282-2016 art. 3.0.3 asks a city's plan to meet the least service head of the storeys
#: it supplies directly (both quoted in a standard's commentary read at
#: jianbiaoku.com/webarbs/book/167038/4839877.shtml). A real utility's zone targets may
#: differ.
SERVICE_HEAD_M = 28.0
FRICTION_ALLOWANCE_M = 15.0
#: the least head of a booster pump (m)
MIN_BOOSTER_HEAD_M = 10.0
#: operating depth of a storage tank; its top water level is its zone's service grade
#: (highest customer + SERVICE_HEAD_M) **[check]**: service reservoirs and elevated
#: tanks are typically 3-8 m deep
TANK_DEPTH_M = 6.0
#: Hazen-Williams C of the mains: new cast or ductile iron, 130-140 (EPANET 2.2 user
#: manual, table 3.2); the lower end for pipes in service
HAZEN_WILLIAMS_C = 130.0
#: a pump's head at zero flow, per design head: EPANET's one-point curve (4/3)
SHUTOFF_PER_DESIGN_HEAD = 4.0 / 3.0


@dataclass(frozen=True, eq=False)
class WaterResult:
    parts: NetParts
    block_junction: np.ndarray  # (b,) junction id of each block
    junction_ids: np.ndarray  # distribution junctions (cooling-water candidates)
    junction_xy: np.ndarray
    powered_ids: tuple[str, ...]  # treatment plants and pump stations
    powered_xy: np.ndarray
    total_demand_m3h: float


def _diameter(q_m3h: float, *, lo: float, hi: float, v_mps: float = 1.2) -> float:
    d = np.sqrt(4.0 * (q_m3h / 3600.0) / (np.pi * v_mps))
    return float(np.clip(np.round(d / 0.05) * 0.05, lo, hi))


def _lattice_pipes(roads: RoadArrays, jn: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray, np.ndarray]:
    """Pipes between lattice junctions two streets apart, along the two road links between.

    Returns (a, b, mid, arterial): junction indices, the road node in between (-1 for a
    pipe along a bridge) and whether the street is an arterial.
    """
    n = roads.n
    key = np.sort(np.column_stack([roads.u, roads.v]), axis=1)
    keys = np.unique(key[:, 0] * n + key[:, 1])

    def has(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        k = np.minimum(p, q) * n + np.maximum(p, q)
        pos = np.clip(np.searchsorted(keys, k), 0, len(keys) - 1)
        return keys[pos] == k

    nrow, ncol = roads.ij.max(axis=0) + 3
    lat = np.full((nrow, ncol), -1, dtype=np.int64)
    lat[roads.ij[:, 0], roads.ij[:, 1]] = np.arange(n)
    j_of = np.full(n, -1, dtype=np.int64)
    j_of[jn] = np.arange(len(jn))
    a_l, b_l, m_l, art_l = [], [], [], []
    ji, jj = roads.ij[jn, 0], roads.ij[jn, 1]
    for di, dj in ((0, 1), (1, 0)):
        mid = lat[ji + di, jj + dj]
        far = lat[ji + 2 * di, jj + 2 * dj]
        ok = (mid >= 0) & (far >= 0)
        ok[ok] &= has(jn[ok], mid[ok]) & has(mid[ok], far[ok]) & (j_of[far[ok]] >= 0)
        a_l.append(np.flatnonzero(ok))
        b_l.append(j_of[far[ok]])
        m_l.append(mid[ok])
        line = ji[ok] if di == 0 else jj[ok]
        art_l.append(line % ARTERIAL_EVERY == 0)
    # pipes carried by bridges whose both ends are junctions
    br = np.flatnonzero(roads.is_bridge)
    ja, jb = j_of[roads.u[br]], j_of[roads.v[br]]
    ok = (ja >= 0) & (jb >= 0)
    a_l.append(ja[ok])
    b_l.append(jb[ok])
    m_l.append(np.full(ok.sum(), -1, dtype=np.int64))
    art_l.append(np.ones(ok.sum(), bool))
    return (np.concatenate(a_l), np.concatenate(b_l), np.concatenate(m_l),
            np.concatenate(art_l))


def _districts(frame: CityFrame, jxy: np.ndarray, jz: np.ndarray, a: np.ndarray,
               b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Label junctions with connected pressure districts; returns (label, is_hill)."""
    nj = len(jxy)
    lab = np.full(nj, -1, dtype=np.int64)
    hill = jz > HILL_Z_M
    hill_types: list[bool] = []
    both_hill = hill[a] & hill[b]
    comp = components(nj, a[both_hill], b[both_hill])
    sizes = np.bincount(comp[hill], minlength=comp.max() + 1 if nj else 0)
    for c in np.flatnonzero(sizes >= MIN_HILL_JUNCTIONS):
        lab[(comp == c) & hill] = len(hill_types)
        hill_types.append(True)
    side = frame.river_side(jxy[:, 0], jxy[:, 1])
    for sd in (-1, 1):
        idx = np.flatnonzero((lab < 0) & (side == sd))
        if len(idx) == 0:
            continue
        k = max(1, int(round(len(idx) / JUNCTIONS_PER_DISTRICT)))
        centres = kmeans(jxy[idx], k, rng)
        _, nearest = cKDTree(centres).query(jxy[idx])
        lab[idx] = len(hill_types) + nearest
        hill_types.extend([False] * len(centres))
    # make every district connected: fragments join a neighbouring district's main part
    for _ in range(10 * nj + 1):
        same = lab[a] == lab[b]
        comp = components(nj, a[same], b[same])
        size = np.bincount(comp, minlength=comp.max() + 1)
        n_lab = lab.max() + 1
        main = np.full(n_lab, -1, dtype=np.int64)
        # largest component of each label (ties: lowest component id)
        order = np.lexsort((np.arange(len(size)), -size))
        comp_lab = np.full(len(size), -1, dtype=np.int64)
        comp_lab[comp] = lab
        for c in order:
            if main[comp_lab[c]] < 0:
                main[comp_lab[c]] = c
        is_main = np.zeros(len(size), bool)
        is_main[main[main >= 0]] = True
        if is_main.all():
            break
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        cross = ~is_main[comp[src]] & is_main[comp[dst]]
        frag, new_lab = comp[src[cross]], lab[dst[cross]]
        first = np.unique(frag, return_index=True)[1]
        relabel = np.full(len(size), -1, dtype=np.int64)
        relabel[frag[first]] = new_lab[first]
        moved = relabel[comp] >= 0
        lab[moved] = relabel[comp[moved]]
    # compact the labels (some may have vanished)
    used, lab = np.unique(lab, return_inverse=True)
    return lab, np.array(hill_types, bool)[used]


def _tank_site(frame: CityFrame, terrain: TerrainGrid, p: np.ndarray, z0: float
               ) -> np.ndarray:
    """Return the highest usable spot within ~450 m of ``p`` (a hilltop for the tank)."""
    ang = np.arange(8) * np.pi / 4
    pts = [p]
    for r in (150.0, 300.0, 450.0):
        pts.extend(p + r * np.column_stack([np.cos(ang), np.sin(ang)]))
    pts = np.array(pts)
    z = terrain.z(pts[:, 0], pts[:, 1])
    ok = ((z > 1.0) & (z < z0 + 150.0) & ~frame.in_channel(pts[:, 0], pts[:, 1], pad_m=30.0)
          & (pts[:, 0] >= 0) & (pts[:, 0] <= frame.width_m)
          & (pts[:, 1] >= 0) & (pts[:, 1] <= frame.height_m))
    ok[0] = True
    return pts[int(np.argmax(np.where(ok, z, -np.inf)))] + np.array([10.0, 10.0])


def _reservoir_sites(frame: CityFrame, terrain: TerrainGrid, trunk_xy: np.ndarray, n: int
                     ) -> np.ndarray:
    """Service reservoirs on high ground near the trunk main, at least 2.5 km apart."""
    xs, ys = terrain.cell_centres()
    xs, ys = xs[::3], ys[::3]
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    z = terrain.z(gx, gy)
    ok = ((gx > 0) & (gx < frame.width_m) & (gy > 0) & (gy < frame.height_m) & (z > 1.0)
          & (z < 150.0) & (terrain.grad(gx, gy) < 0.3) & ~frame.in_channel(gx, gy, pad_m=50.0))
    gx, gy, z = gx[ok], gy[ok], z[ok]
    d_trunk, _ = cKDTree(trunk_xy).query(np.column_stack([gx, gy]))
    score = np.where(z >= 30.0, z - 0.03 * d_trunk, -1e9 + z)
    out: list[np.ndarray] = []
    for _ in range(n):
        k = int(np.argmax(score))
        p = np.array([gx[k], gy[k]])
        out.append(p)
        score = np.where(np.hypot(gx - p[0], gy - p[1]) < 2500.0, -np.inf, score)
        if not np.isfinite(score).any():
            break
    return np.array(out)


def build_water(frame: CityFrame, terrain: TerrainGrid, roads: RoadArrays, blocks: Blocks,
                rng: np.random.Generator) -> WaterResult:
    parts = NetParts()
    cx, cy = frame.centre

    # -- distribution junctions on every other street crossing, looped pipes between them
    jn = np.flatnonzero((roads.ij[:, 0] % 2 == 0) & (roads.ij[:, 1] % 2 == 0))
    if len(jn) < 4:
        jn = np.arange(roads.n)
    jxy = roads.xy[jn] + WATER_OFFSET
    jz = terrain.z(jxy[:, 0], jxy[:, 1])
    nj = len(jn)
    a, b, mid, art = _lattice_pipes(roads, jn)
    links = connect_components(jxy, a, b)  # short mains that join isolated pieces
    if links:
        la, lb = np.array(links, dtype=np.int64).T
        a, b = np.concatenate([a, la]), np.concatenate([b, lb])
        mid = np.concatenate([mid, np.full(len(la), -1)])
        art = np.concatenate([art, np.ones(len(la), bool)])

    # -- people and demand
    _, bj = cKDTree(jxy).query(blocks.xy)
    customers = np.bincount(bj, weights=blocks.population, minlength=nj)
    hospital = np.bincount(bj, weights=blocks.hospital.astype(float), minlength=nj) > 0
    demand = customers * M3H_PER_PERSON + np.where(hospital, HOSPITAL_M3H, 0.0)
    total_q = float(demand.sum())
    j_w = id_width(nj, 4)
    j_ids = np.array([f"W-J-{k + 1:0{j_w}d}" for k in range(nj)])
    for k in range(nj):
        parts.node(j_ids[k], "junction", jxy[k], demand_m3h=float(demand[k]),
                   customers=float(customers[k]), critical=bool(hospital[k]))

    # -- pressure districts; pipes across district boundaries are closed valves (left out)
    lab, is_hill = _districts(frame, jxy, jz, a, b, rng)
    n_d = len(is_hill)
    keep = lab[a] == lab[b]
    a, b, mid, art = a[keep], b[keep], mid[keep], art[keep]
    r_c = np.hypot(jxy[:, 0] - cx, jxy[:, 1] - cy)
    p_count = [0]
    p_w = id_width(len(a) + 8 * n_d + 64, 5)

    def pipe(u: str, v: str, length: float, diam: float, coords: np.ndarray | None = None
             ) -> None:
        p_count[0] += 1
        extra = {} if coords is None else {"coords": coords}
        parts.edge(u, v, f"W-P-{p_count[0]:0{p_w}d}", "pipe", length_m=float(length),
                   diameter_m=float(diam), **extra)

    for k in range(len(a)):
        pa, pb = jxy[a[k]], jxy[b[k]]
        if mid[k] >= 0:
            coords = np.vstack([pa, roads.xy[mid[k]] + WATER_OFFSET, pb])
            length = float(np.hypot(*np.diff(coords, axis=0).T).sum())
        else:
            coords, length = None, float(np.hypot(*(pa - pb)))
        centre = r_c[a[k]] < 2000.0 and r_c[b[k]] < 2000.0
        diam = 0.3 if art[k] else (0.2 if centre else 0.15)
        pipe(j_ids[a[k]], j_ids[b[k]], length, diam, coords)

    # -- treatment plants by the river (upstream of the centre), then further plants
    n_wtp = max(1, int(round(2 * frame.scale ** 2)))
    land_y0 = frame.coast_base_m
    wtp_xy, wtp_dir = [], []
    for k in range(min(n_wtp, 2)):
        sd = -1 if k == 0 else 1
        y = land_y0 + (0.55 + 0.1 * k) * (frame.height_m - land_y0)
        p = np.array([float(frame.river_x(y) + sd * (frame.river_halfwidth(y) + 150.0)), y])
        if terrain.z(p[0], p[1]) <= 1.0 or frame.in_channel(p[0], p[1], pad_m=30.0):
            side_j = np.flatnonzero(frame.river_side(jxy[:, 0], jxy[:, 1]) == sd)
            pool = side_j if len(side_j) else np.arange(nj)
            q = pool[np.argmin(np.hypot(*(jxy[pool] - p).T))]
            p = jxy[q] + np.array([0.0, 30.0])
        wtp_xy.append(p)
        wtp_dir.append(np.array([sd * 1.0, 0.0]))
    if n_wtp > 2:
        for c in kmeans(jxy, n_wtp - 2, rng, weights=demand):
            q = int(np.argmin(np.hypot(*(jxy - c).T)))
            wtp_xy.append(jxy[q] + np.array([30.0, 30.0]))
            wtp_dir.append(np.array([0.0, 1.0]))
    wtp_xy = np.array(wtp_xy)
    wtp_cap = float(np.ceil(1.35 * total_q / n_wtp / 100.0) * 100.0)
    wtp_dir = dry_direction(frame, terrain, wtp_xy, np.array(wtp_dir), 90.0)
    hlp_xy = wtp_xy + 45.0 * wtp_dir
    oj_xy = wtp_xy + 90.0 * wtp_dir

    # -- district inlets: from the trunk, directly or through a booster pump
    inlet = np.zeros(n_d, dtype=np.int64)
    d_demand = np.bincount(lab, weights=demand, minlength=n_d)
    dist_to_plant = np.zeros(n_d)
    for d in range(n_d):
        members = np.flatnonzero(lab == d)
        if is_hill[d]:
            inlet[d] = members[np.argmin(jz[members])]
        else:
            dd = np.hypot(jxy[members, None, 0] - oj_xy[None, :, 0],
                          jxy[members, None, 1] - oj_xy[None, :, 1]).min(axis=1)
            inlet[d] = members[np.argmin(dd)]
        dist_to_plant[d] = np.hypot(*(oj_xy - jxy[inlet[d]]).T).min()
    boosted = is_hill | (dist_to_plant > BOOST_DISTANCE_M)
    low = np.flatnonzero(~is_hill)
    if len(low) > 2 and not boosted[low].any():
        boosted[low[np.argmax(dist_to_plant[low])]] = True
    side_in = frame.river_side(jxy[inlet, 0], jxy[inlet, 1])
    step = 20.0 * dry_direction(frame, terrain, jxy[inlet],
                                np.column_stack([side_in * 1.0, np.zeros(n_d)]), 40.0)
    tj_xy = jxy[inlet] + np.where(boosted[:, None], 2.0, 1.5) * step

    # -- node ids and the sources
    wtp_ids = [f"W-WTP-{k + 1}" for k in range(n_wtp)]
    n_pump = n_wtp + int(boosted.sum())
    ps_w = id_width(n_pump, 2)
    ps_ids = [f"W-PS-{k + 1:0{ps_w}d}" for k in range(n_pump)]
    tj_w = id_width(n_wtp + n_d, 2)
    oj_ids = [f"W-TJ-{k + 1:0{tj_w}d}" for k in range(n_wtp)]
    tj_ids = [f"W-TJ-{n_wtp + d + 1:0{tj_w}d}" for d in range(n_d)]

    # backup power: a couple of pumps with ~6 h (diesel), a few with a little, most none
    pump_xy = [hlp_xy[k] for k in range(n_wtp)]
    pump_cap = [wtp_cap] * n_wtp
    booster_of = {}
    for d in np.flatnonzero(boosted):
        booster_of[int(d)] = len(pump_xy)
        pump_xy.append(jxy[inlet[d]] + step[d])
        pump_cap.append(float(max(20.0, np.ceil(1.3 * d_demand[d] / 10.0) * 10.0)))
    backup = np.where(rng.random(n_pump) < 0.25, np.round(rng.uniform(0.5, 2.0, n_pump) * 2) / 2,
                      0.0)
    n6 = min(n_pump, max(2, int(round(0.15 * n_pump))))
    hill_boosters = [booster_of[int(d)] for d in np.flatnonzero(is_hill & boosted)]
    hill_set = set(hill_boosters)
    pool = hill_boosters + [k for k in range(1, n_pump) if k not in hill_set]
    six = [0]  # the first plant's high-lift pumps
    if pool and n6 >= 2:
        six.append(pool[0])  # a hill booster when there is one
        rest = pool[1:]
        if n6 > 2 and rest:
            six += rng.choice(rest, size=min(len(rest), n6 - 2), replace=False).tolist()
    backup[six] = 6.0

    for k in range(n_wtp):
        parts.node(wtp_ids[k], "treatment_plant", wtp_xy[k], capacity_m3h=wtp_cap)
    for k in range(n_pump):
        parts.node(ps_ids[k], "pump_station", pump_xy[k], capacity_m3h=float(pump_cap[k]),
                   backup_h=float(backup[k]))
    for k in range(n_wtp):
        parts.node(oj_ids[k], "junction", oj_xy[k], demand_m3h=0.0, customers=0.0,
                   critical=False)
    for d in range(n_d):
        parts.node(tj_ids[d], "junction", tj_xy[d], demand_m3h=0.0, customers=0.0,
                   critical=False)

    d_plant = _diameter(wtp_cap, lo=0.3, hi=2.0, v_mps=1.5)
    for k in range(n_wtp):
        pipe(wtp_ids[k], ps_ids[k], np.hypot(*(wtp_xy[k] - hlp_xy[k])), d_plant)
        pipe(ps_ids[k], oj_ids[k], np.hypot(*(hlp_xy[k] - oj_xy[k])), d_plant)
    for d in range(n_d):
        d_in = _diameter(1.3 * d_demand[d], lo=0.2, hi=1.2)
        j_in = j_ids[inlet[d]]
        if boosted[d]:
            kp = booster_of[d]
            pipe(tj_ids[d], ps_ids[kp], np.hypot(*(tj_xy[d] - pump_xy[kp])), d_in)
            pipe(ps_ids[kp], j_in, np.hypot(*(pump_xy[kp] - jxy[inlet[d]])), d_in)
        else:
            pipe(tj_ids[d], j_in, np.hypot(*(tj_xy[d] - jxy[inlet[d]])), d_in)

    # -- looped trunk main between plant outlets and district inlets
    trunk_ids = oj_ids + tj_ids
    trunk_xy = np.vstack([oj_xy, tj_xy])
    d_trunk = _diameter(total_q / max(1, n_wtp), lo=0.4, hi=1.6)
    for u, v in resilient_mesh(trunk_xy):
        pipe(trunk_ids[u], trunk_ids[v], np.hypot(*(trunk_xy[u] - trunk_xy[v])), d_trunk)

    # -- tanks: one per hill district (hilltop), service reservoirs on the trunk
    tanks: list[tuple[np.ndarray, float, float, str, np.ndarray, float]] = []
    for d in np.flatnonzero(is_hill):
        members = np.flatnonzero(lab == d)
        top = members[np.argmax(jz[members])]
        site = _tank_site(frame, terrain, jxy[top], float(jz[top]))
        hours = float(np.round(rng.uniform(8.0, 16.0)))
        tanks.append((site, hours, d_demand[d], j_ids[top], jxy[top],
                      _diameter(d_demand[d], lo=0.2, hi=1.0)))
    n_res = max(1, int(1.5 * frame.scale ** 2 + 0.5))
    res_xy = _reservoir_sites(frame, terrain, trunk_xy, n_res)
    _, near_trunk = cKDTree(trunk_xy).query(res_xy)
    for k in range(len(res_xy)):
        hours = float(np.round(rng.uniform(4.0, 8.0)))
        q = total_q / len(res_xy)
        tanks.append((res_xy[k], hours, q, trunk_ids[near_trunk[k]], trunk_xy[near_trunk[k]],
                      _diameter(q, lo=0.4, hi=1.4)))
    tk_w = id_width(len(tanks), 2)
    for k, (site, hours, q, to, to_xy, diam) in enumerate(tanks):
        tid = f"W-TK-{k + 1:0{tk_w}d}"
        volume = float(max(50.0, np.round(hours * q / 10.0) * 10.0))
        parts.node(tid, "tank", site, volume_m3=volume, storage_h=hours)
        pipe(tid, to, np.hypot(*(site - to_xy)), diam)

    # -- hydraulic parameters (no random draws: the city is the same with or without them)
    zone_of_tank = [int(d) for d in np.flatnonzero(is_hill)] + [-1] * (len(tanks) - int(
        is_hill.sum()))
    _hydraulics(parts, terrain, jz, lab, boosted, booster_of, n_wtp, zone_of_tank)
    powered_ids = tuple(wtp_ids + ps_ids)
    powered_xy = np.vstack([wtp_xy, np.array(pump_xy)])
    return WaterResult(parts=parts, block_junction=j_ids[bj], junction_ids=j_ids,
                       junction_xy=jxy, powered_ids=powered_ids, powered_xy=powered_xy,
                       total_demand_m3h=total_q)



def _hydraulics(parts: NetParts, terrain: TerrainGrid, jz: np.ndarray, lab: np.ndarray,
                boosted: np.ndarray, booster_of: dict[int, int], n_wtp: int,
                zone_of_tank: list[int]) -> None:
    """Elevations, heads and tank levels for the pressure-driven hydraulics (in place).

    The trunk's design grade lifts the highest junction of the districts fed straight
    from it to :data:`SERVICE_HEAD_M` plus :data:`FRICTION_ALLOWANCE_M`, and fills its
    service reservoirs on the hills (their ground plus depth plus the allowance); the
    plants' high-lift pumps deliver it from the clear well (at ground). A boosted
    district's grade does the same for its own highest junction and tank; its booster
    adds the difference to the trunk's grade and one more allowance (at least
    :data:`MIN_BOOSTER_HEAD_M`).
    Tanks float on their zone: full at its service grade, the design grade less the
    friction allowance (:data:`TANK_DEPTH_M` deep, on their ground when that is
    higher), so the pumps keep them full and they drain when supply is lost.
    Pumps have the straight curve from 4/3 of the design head at no flow; pipes a
    Hazen-Williams C of :data:`HAZEN_WILLIAMS_C`.
    """
    def grade(z_max: float) -> float:
        return float(z_max) + SERVICE_HEAD_M + FRICTION_ALLOWANCE_M

    def ground(a: dict) -> float:
        return float(terrain.z(np.array([a["x_m"]]), np.array([a["y_m"]]))[0])

    direct = ~boosted[lab]
    trunk = grade(jz[direct].max() if direct.any() else jz.max())
    district = {int(d): grade(jz[lab == d].max()) for d in np.flatnonzero(boosted)}
    # a zone's tanks set its grade too: the pumps must fill them (-1: the trunk)
    tank_nodes = [a for _, a in parts.nodes if a["asset_class"] == "tank"]
    for a, d in zip(tank_nodes, zone_of_tank, strict=True):
        need = ground(a) + TANK_DEPTH_M + FRICTION_ALLOWANCE_M
        if d < 0:
            trunk = max(trunk, need)
        else:
            district[d] = max(district[d], need)
    # the trunk loses head on the way to a booster too: one more allowance
    pump_head = {k: max(MIN_BOOSTER_HEAD_M, district[d] - trunk + FRICTION_ALLOWANCE_M)
                 for d, k in booster_of.items()}
    j = 0
    tank_k = 0
    pump_k = 0
    for nid, a in parts.nodes:
        cls = a["asset_class"]
        z = ground(a)
        if cls == "junction":
            a["elevation_m"] = float(jz[j]) if nid.startswith("W-J-") else z
            j += nid.startswith("W-J-")
        elif cls == "treatment_plant":
            a.update(elevation_m=z, head_m=z)
        elif cls == "pump_station":
            head = trunk - z if pump_k < n_wtp else pump_head[pump_k]
            head = float(max(head, MIN_BOOSTER_HEAD_M))
            a.update(elevation_m=z, head_m=head, shutoff_head_m=SHUTOFF_PER_DESIGN_HEAD * head)
            pump_k += 1
        elif cls == "tank":
            d = zone_of_tank[tank_k]
            # a tank floats on its zone: full at the grade left after the friction losses
            top = (district.get(d, trunk) if d >= 0 else trunk) - FRICTION_ALLOWANCE_M
            a.update(elevation_m=float(max(z, top - TANK_DEPTH_M)), min_level_m=0.0,
                     max_level_m=TANK_DEPTH_M, init_level_m=TANK_DEPTH_M)
            tank_k += 1
    for _, _, a in parts.edges:
        a["roughness"] = HAZEN_WILLIAMS_C
