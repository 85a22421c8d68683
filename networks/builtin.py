"""The built-in city: a synthetic, geo-referenced Pearl River Delta coastal city.

:func:`build_builtin_city` generates, from a seed, a complete
:class:`~networks.model.LifelineNetwork` - power, water and roads with their
interdependencies, population blocks and a DEM - that looks and behaves like a
mid-sized PRD city: sea along the south, a tidal river running north-south through
the centre to the sea (low floodplain a few metres above sea level), hills rising to
100-300 m in the north-east, a street grid with arterials and bridges, a coastal
thermal plant and grid supply points feeding a 110/220 kV mesh and radial 10 kV
feeders, and a water system whose pressure districts depend on pumps and tanks.

Coordinates are in UTM zone 49N (``EPSG:32649``); the city's south-west corner is
anchored at 113.52 E, 22.22 N (near Zhuhai). At ``scale=1`` the city box is
12 km x 10 km with ~450,000 people; ``scale`` multiplies its linear extent (so the
number of assets grows roughly with ``scale**2``) while street spacing, river width
and per-person demands stay physical.

Everything is a pure function of ``(seed, scale)``: one ``np.random.Generator`` is
spawned into independent child streams per stage (frame, terrain, roads, population,
power, water), so the same arguments give identical networks, attribute for attribute.
"""

from __future__ import annotations

import operator

import networkx as nx
import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from common.errors import InputError
from networks._builtin_geo import TerrainGrid, make_frame, make_terrain
from networks._builtin_population import Blocks, build_blocks
from networks._builtin_power import NetParts, PowerResult, build_power
from networks._builtin_roads import RoadArrays, build_roads
from networks._builtin_util import id_width
from networks._builtin_water import WaterResult, build_water
from networks.model import Dependency, LifelineNetwork, PopulationBlocks, Terrain
from networks.schema import DependencyKind, NetworkKind

__all__ = ["build_builtin_city", "GENERATOR_VERSION", "CRS", "ANCHOR_LON", "ANCHOR_LAT",
           "SCALE_RANGE"]

#: bump when the generated city changes for a given (seed, scale)
GENERATOR_VERSION = "1.0.0"
CRS = "EPSG:32649"
#: the city's south-west corner (degrees, WGS 84)
ANCHOR_LON = 113.52
ANCHOR_LAT = 22.22
#: supported values of ``scale`` (inclusive)
SCALE_RANGE = (0.2, 10.0)


def build_builtin_city(seed: int = 7, *, scale: float = 1.0,
                       feeder_automation: float | None = None) -> LifelineNetwork:
    """Generate the built-in PRD coastal city.

    Parameters
    ----------
    seed : int
        Seed of the generator; the same ``(seed, scale)`` always gives the same city.
    scale : float
        Linear extent factor in ``[0.2, 10]``: 1.0 is a 12 km x 10 km city of about
        450,000 people (>= 5,000 road nodes, ~30,000 assets); 0.3 a small test city;
        3 gives roughly ten times the assets of 1.0.
    feeder_automation : float or None
        None (default): no switches, the city as it always was. A share in ``[0, 1]``:
        feeder automation (:func:`networks._builtin_power.feeder_automation`): a
        breaker at every feeder head, each feeder in 3-5 sections by sectionalizers,
        normally open ties to neighbouring feeders (new feeder segments ``P-TIE-*``),
        and this share of the sectionalizers and ties automated.

    Returns
    -------
    LifelineNetwork
        Power, water and road graphs (asset ids ``P-*``, ``W-*``, ``R-*``), their
        dependencies (``power_supply`` of treatment plants and pumps,
        ``cooling_water`` of the power plant, ``road_access`` of every power and water
        node), population blocks and a 30 m DEM, all in ``EPSG:32649``. ``meta``
        records the generator, its version, the seed, the scale and the anchor.

    Raises
    ------
    common.errors.InputError
        If ``seed`` is not an integer or ``scale`` lies outside ``[0.2, 10]``.

    """
    try:
        seed = operator.index(seed)
    except TypeError:
        raise InputError(f"seed must be an integer, got {seed!r}",
                         where="build_builtin_city(seed)") from None
    if isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}",
                         where="build_builtin_city(seed)")
    scale = float(scale)
    if not (SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]):
        raise InputError(f"scale must lie in [{SCALE_RANGE[0]}, {SCALE_RANGE[1]}], got {scale}",
                         where="build_builtin_city(scale)")
    if feeder_automation is not None and not (
            isinstance(feeder_automation, int | float) and 0.0 <= feeder_automation <= 1.0):
        raise InputError(f"feeder_automation must be a share in [0, 1] or None, got "
                         f"{feeder_automation!r}", where="build_builtin_city(feeder_automation)")

    r_frame, r_terrain, r_roads, r_pop, r_power, r_water = np.random.default_rng(seed).spawn(6)
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    ox, oy = (float(v) for v in to_utm.transform(ANCHOR_LON, ANCHOR_LAT))

    frame = make_frame(r_frame, scale, (ox, oy))
    grid = make_terrain(frame, r_terrain)
    roads = build_roads(frame, grid, r_roads)
    blocks = build_blocks(frame, grid, roads, r_pop)
    power = build_power(frame, grid, roads, blocks, r_power,
                        automation=None if feeder_automation is None
                        else float(feeder_automation))
    water = build_water(frame, grid, roads, blocks, r_water)
    road_parts, road_ids = _road_parts(roads, blocks)

    deps = _dependencies(power, water, roads, road_ids)  # local coordinates, before the shift
    graphs = {
        NetworkKind.POWER: _to_graph(power.parts, ox, oy),
        NetworkKind.WATER: _to_graph(water.parts, ox, oy),
        NetworkKind.ROADS: _to_graph(road_parts, ox, oy),
    }
    b_w = id_width(len(blocks.xy), 5)
    population = PopulationBlocks(
        ids=np.array([f"B-{k + 1:0{b_w}d}" for k in range(len(blocks.xy))]),
        x_m=blocks.xy[:, 0] + ox,
        y_m=blocks.xy[:, 1] + oy,
        population=blocks.population.copy(),
        nodes={NetworkKind.POWER: power.block_load, NetworkKind.WATER: water.block_junction,
               NetworkKind.ROADS: road_ids[blocks.road_node]},
    )
    terrain = _terrain(grid, ox, oy)
    meta = {
        "generator": "networks.builtin.build_builtin_city",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "anchor_lon": ANCHOR_LON,
        "anchor_lat": ANCHOR_LAT,
        "anchor_x_m": ox,
        "anchor_y_m": oy,
        "anchor": "south-west corner of the city box, Pearl River Delta coast near Zhuhai",
        "timezone": "Asia/Shanghai",  # local clocks in replays (IANA name)
        "extent_m": (frame.width_m, frame.height_m),
        "population": float(blocks.population.sum()),
        "power_demand_mw": power.total_demand_mw,
        "water_demand_m3h": water.total_demand_m3h,
    }
    if feeder_automation is not None:
        meta["feeder_automation"] = float(feeder_automation)
    return LifelineNetwork(
        name=f"Built-in PRD coastal city (seed {seed}, scale {scale:g})",
        graphs=graphs,
        dependencies=deps,
        crs=CRS,
        population=population,
        terrain=terrain,
        meta=meta,
    )


def _road_parts(roads: RoadArrays, blocks: Blocks) -> tuple[NetParts, np.ndarray]:
    parts = NetParts()
    n = roads.n
    customers = np.bincount(blocks.road_node, weights=blocks.population, minlength=n)
    n_w = id_width(n, 5)
    ids = np.array([f"R-N-{k + 1:0{n_w}d}" for k in range(n)], dtype=object)
    d_w = id_width(len(roads.depots), 2)
    for k, r in enumerate(roads.depots):
        ids[r] = f"R-DEP-{k + 1:0{d_w}d}"
    is_depot = np.zeros(n, bool)
    is_depot[roads.depots] = True
    for k in range(n):
        parts.node(ids[k], "depot" if is_depot[k] else "intersection", roads.xy[k],
                   customers=float(customers[k]))
    e_w = id_width(int((~roads.is_bridge).sum()), 5)
    b_w = id_width(int(roads.is_bridge.sum()), 3)
    n_e = n_b = 0
    for k in range(len(roads.u)):
        if roads.is_bridge[k]:
            n_b += 1
            eid, cls = f"R-BR-{n_b:0{b_w}d}", "bridge"
        else:
            n_e += 1
            eid, cls = f"R-E-{n_e:0{e_w}d}", "road_segment"
        parts.edge(ids[roads.u[k]], ids[roads.v[k]], eid, cls,
                   length_m=float(roads.length_m[k]), speed_kmh=float(roads.speed_kmh[k]),
                   lanes=int(roads.lanes[k]), oneway=False)  # a grid of two-way streets
    return parts, ids.astype(str)


def _to_graph(parts: NetParts, ox: float, oy: float) -> nx.Graph:
    """Graph of ``parts`` in the projected CRS (shifts the private records in place).

    Polylines are oriented so that their first vertex lies at the end node that
    ``Graph.edges`` reports first (the node inserted first), which is what "first
    vertex at ``u``" means for an undirected graph.
    """
    g = nx.Graph()
    shift = np.array([ox, oy])
    for _, attrs in parts.nodes:
        attrs["x_m"] += ox
        attrs["y_m"] += oy
    g.add_nodes_from(parts.nodes)
    rank = {nid: k for k, (nid, _) in enumerate(parts.nodes)}
    for u, v, attrs in parts.edges:
        if "coords" in attrs:
            c = np.asarray(attrs["coords"], dtype=float) + shift
            attrs["coords"] = c[::-1].copy() if rank[u] > rank[v] else c
    g.add_edges_from(parts.edges)
    return g


def _dependencies(power: PowerResult, water: WaterResult, roads: RoadArrays,
                  road_ids: np.ndarray) -> tuple[Dependency, ...]:
    deps: list[Dependency] = []
    # treatment plants and pumps draw power from the nearest feeder node
    _, k = cKDTree(power.feeder_xy).query(water.powered_xy)
    for dep, sup in zip(water.powered_ids, power.feeder_ids[k], strict=True):
        deps.append(Dependency(dep, str(sup), DependencyKind.POWER_SUPPLY))
    # the thermal plants need (cooling / process) water from the nearest junction
    _, k = cKDTree(water.junction_xy).query(power.plant_xy)
    for dep, sup in zip(power.plant_ids, water.junction_ids[k], strict=True):
        deps.append(Dependency(dep, str(sup), DependencyKind.COOLING_WATER))
    # crews reach every power and water node from its nearest road node
    tree = cKDTree(roads.xy)
    for parts in (power.parts, water.parts):
        xy = np.array([[a["x_m"], a["y_m"]] for _, a in parts.nodes])
        _, k = tree.query(xy)
        for (nid, _), sup in zip(parts.nodes, road_ids[k], strict=True):
            deps.append(Dependency(nid, str(sup), DependencyKind.ROAD_ACCESS))
    return tuple(deps)


def _terrain(grid: TerrainGrid, ox: float, oy: float) -> Terrain:
    c = grid.cell_m
    return Terrain(elevation_m=grid.elevation_m,
                   transform=(c, 0.0, ox + grid.x_left, 0.0, -c, oy + grid.y_top), crs=CRS)

