"""Assemble imported networks into a :class:`~networks.model.LifelineNetwork`.

Proxies (documented stand-ins where a network is not given)
-----------------------------------------------------------
Road proxy (``roads=None``)
    A square grid of ``intersection`` nodes ``RX:<i>_<j>`` covering the bounding
    box of the power and water assets plus one spacing of margin, joined by
    ``road_segment`` edges (``speed_kmh`` 30, ``lanes`` 2, length = spacing).
    Spacing is ``road_spacing_m`` (default 200 m), widened so the grid has at
    most ``road_max_nodes`` (default 2,500) nodes. The grid node nearest the
    centroid of the assets is the crews' ``depot``. Intersections carry no
    customers. It is **not a street map**: travel times are Manhattan
    distances at 30 km/h, and a road hazard damages grid segments, not real
    roads. Give real roads (e.g. a GeoPackage built from OSM) for road studies.
Power proxy (``power=None`` or an empty power graph, water has pumps or plants)
    Every ``pump_station`` and ``treatment_plant`` gets its own ``grid_supply``
    ``PX:<asset id>`` at the same place (``capacity_mw`` 1, no edges) and a
    ``power_supply`` dependency on it: on-site power that fails only when the
    proxy node itself is damaged. Water-only studies then ignore power outages.
Dependencies
    Those of the parts, then :func:`networks.interdependencies.proximity_dependencies`:
    pump stations and treatment plants take power from the nearest power load
    (or distribution node, or substation), every asset gets road access at the
    nearest road node.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from common.errors import NetworkError
from networks.importers._common import ImportedPart, projected_crs
from networks.interdependencies import proximity_dependencies
from networks.model import Dependency, LifelineNetwork
from networks.schema import DependencyKind, NetworkKind
from networks.validate import validate_network


def _reproject(g: nx.Graph, src: str, dst: str) -> nx.Graph:
    from pyproj import CRS, Transformer

    if CRS.from_user_input(src) == CRS.from_user_input(dst):
        return g
    tr = Transformer.from_crs(src, dst, always_xy=True)
    h = g.copy()
    for _, a in h.nodes(data=True):
        a["x_m"], a["y_m"] = (float(v) for v in tr.transform(a["x_m"], a["y_m"]))
    for _, _, a in h.edges(data=True):
        c = a.get("coords")
        if c is not None:
            x, y = tr.transform(c[:, 0], c[:, 1])
            a["coords"] = np.column_stack([x, y])
    return h


def road_grid_proxy(xy: np.ndarray, *, spacing_m: float = 200.0,
                    max_nodes: int = 2500) -> tuple[nx.Graph, dict]:
    """A grid road network over the bounding box of points ``xy`` (see module docstring).

    Returns the road graph and a dict describing it (for ``meta``).
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        raise NetworkError("cannot build a road proxy: the power and water networks are empty")
    if not (math.isfinite(spacing_m) and spacing_m > 0) or max_nodes < 4:
        raise NetworkError(f"road proxy needs spacing_m > 0 and max_nodes >= 4, got "
                           f"{spacing_m!r}, {max_nodes!r}")
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    s = float(spacing_m)
    while True:
        nx_, ny_ = (int(np.ceil((hi - lo)[k] / s)) + 3 for k in (0, 1))
        if nx_ * ny_ <= max_nodes:
            break
        s *= 1.25
    x0, y0 = lo[0] - s, lo[1] - s
    r = nx.Graph()
    for i in range(nx_):
        for j in range(ny_):
            r.add_node(f"RX:{i}_{j}", asset_class="intersection", x_m=x0 + i * s,
                       y_m=y0 + j * s, customers=0.0)
    for i in range(nx_):
        for j in range(ny_):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < nx_ and j + dj < ny_:
                    r.add_edge(f"RX:{i}_{j}", f"RX:{i + di}_{j + dj}",
                               id=f"RX:{i}_{j}-{i + di}_{j + dj}", asset_class="road_segment",
                               length_m=s, speed_kmh=30.0, lanes=2)
    c = xy.mean(axis=0)
    i, j = (int(np.clip(round((c[k] - (x0, y0)[k]) / s), 0, (nx_, ny_)[k] - 1)) for k in (0, 1))
    depot = f"RX:{i}_{j}"
    r.nodes[depot]["asset_class"] = "depot"
    info = {"kind": "grid proxy (not a street map)", "spacing_m": s, "shape": [nx_, ny_],
            "depot": depot, "speed_kmh": 30.0, "lanes": 2}
    return r, info


def _graph_of(part, kind: NetworkKind, crs: str) -> tuple[nx.Graph, tuple, dict]:
    if part is None:
        return nx.Graph(), (), {}
    if isinstance(part, ImportedPart):
        if part.kind != kind:
            raise NetworkError(f"a {part.kind.value} network was given as the "
                               f"{kind.value} network")
        return _reproject(part.graph, part.crs, crs), tuple(part.dependencies), dict(part.meta)
    if isinstance(part, nx.Graph):
        return part, (), {}
    raise NetworkError(f"the {kind.value} network must be an ImportedPart or a networkx.Graph, "
                       f"got {type(part).__name__}")


def city_from_parts(*, power: ImportedPart | nx.Graph | None = None,
                    water: ImportedPart | nx.Graph | None = None,
                    roads: ImportedPart | nx.Graph | None = None, crs: str | None = None,
                    name: str = "imported", road_spacing_m: float = 200.0,
                    road_max_nodes: int = 2500) -> LifelineNetwork:
    """Build a validated city from imported networks, with documented proxies for the rest.

    Parameters
    ----------
    power, water, roads : ImportedPart or networkx.Graph, optional
        The networks; an :class:`ImportedPart` in another CRS is reprojected.
        A plain graph must already be in ``crs``.
    crs : str, optional
        Projected CRS of the city; default: the CRS of the first part given.
    name : str
        The city's name.
    road_spacing_m, road_max_nodes
        The road proxy's grid (see module docstring), used when ``roads`` is None.

    Returns
    -------
    LifelineNetwork
        Validated with :func:`networks.validate.validate_network`; ``meta`` holds
        each part's provenance and the proxies used.
    """
    parts = [p for p in (power, water, roads) if p is not None]
    if not parts:
        raise NetworkError("give at least a power or a water network")
    if crs is None:
        crs = next((p.crs for p in parts if isinstance(p, ImportedPart)), None)
    crs = projected_crs(crs, "city")
    pg, pdeps, pmeta = _graph_of(power, NetworkKind.POWER, crs)
    wg, wdeps, wmeta = _graph_of(water, NetworkKind.WATER, crs)
    meta: dict = {"generator": "networks.importers.city_from_parts"}
    if pmeta:
        meta["power"] = pmeta
    if wmeta:
        meta["water"] = wmeta
    if roads is None:
        xy = [(a["x_m"], a["y_m"]) for g in (pg, wg) for _, a in g.nodes(data=True)]
        rg, info = road_grid_proxy(np.array(xy), spacing_m=road_spacing_m,
                                   max_nodes=road_max_nodes)
        rdeps: tuple = ()
        meta["roads"] = info
    else:
        rg, rdeps, rmeta = _graph_of(roads, NetworkKind.ROADS, crs)
        meta["roads"] = rmeta or {"kind": "given"}
    deps: list[Dependency] = [d for d in (*pdeps, *wdeps, *rdeps)
                              if d.kind != DependencyKind.ROAD_ACCESS or d.supplier in rg]
    powered = [n for n, a in wg.nodes(data=True)
               if a["asset_class"] in ("pump_station", "treatment_plant")]
    if powered and pg.number_of_nodes() == 0:
        pg = nx.Graph()
        for n in powered:
            a = wg.nodes[n]
            pg.add_node(f"PX:{n}", asset_class="grid_supply", x_m=a["x_m"], y_m=a["y_m"],
                        capacity_mw=1.0)
            deps.append(Dependency(n, f"PX:{n}", DependencyKind.POWER_SUPPLY))
        meta["power"] = {"kind": "proxy: on-site grid_supply PX:<asset> per pump station "
                                 "and treatment plant"}
    graphs = {NetworkKind.POWER: pg, NetworkKind.WATER: wg, NetworkKind.ROADS: rg}
    overlap = (set(pg) & set(wg)) | (set(pg) & set(rg)) | (set(wg) & set(rg))
    if overlap:
        raise NetworkError(f"asset id '{sorted(overlap)[0]}' is used in two networks")
    net = LifelineNetwork(name, graphs, proximity_dependencies(graphs, tuple(deps)), crs,
                          None, None, meta)
    validate_network(net, source=name)
    return net
