"""Interdependency links built by proximity, for inputs that do not give them.

Rules (documented in the README):

- every pump station, treatment plant, telecom central office and telecom node
  without a ``power_supply`` link is fed by the nearest power node that can supply
  it (a power load or a distribution node; else a substation); telecom rides
  through an outage on its batteries (``backup_h``);
- a power plant without ``cooling_water`` is left alone (the dependency is
  optional: only plants declared as water-cooled need it);
- every node of every kind but roads without ``road_access`` is reached through the
  nearest road node (the twin's compile step does the same for edges).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from networks.model import Dependency
from networks.schema import AssetClass, DependencyKind, NetworkKind

_POWER_SUPPLIERS = (AssetClass.POWER_LOAD, AssetClass.DISTRIBUTION_NODE, AssetClass.SUBSTATION)
_NEEDS_POWER = (AssetClass.PUMP_STATION, AssetClass.TREATMENT_PLANT,
                AssetClass.CENTRAL_OFFICE, AssetClass.TELECOM_NODE)


def _nodes(graph, classes) -> tuple[list[str], np.ndarray]:
    ids, xy = [], []
    for n, a in graph.nodes(data=True):
        if AssetClass(a["asset_class"]) in classes:
            ids.append(n)
            xy.append((a["x_m"], a["y_m"]))
    return ids, np.asarray(xy, dtype=float).reshape(-1, 2)


def proximity_dependencies(graphs, existing: tuple[Dependency, ...] = ()) -> tuple[Dependency, ...]:
    """Return ``existing`` plus proximity links for every required link that is missing."""
    have = {(d.dependent, d.kind) for d in existing}
    out = list(existing)
    import networkx as nx

    empty = nx.Graph()
    power = graphs.get(NetworkKind.POWER, empty)
    roads = graphs.get(NetworkKind.ROADS, empty)
    for classes in ((AssetClass.POWER_LOAD, AssetClass.DISTRIBUTION_NODE),
                    (AssetClass.SUBSTATION,)):
        sup_ids, sup_xy = _nodes(power, classes)
        if sup_ids:
            break
    for kind, g in graphs.items():
        if kind == NetworkKind.POWER:
            continue
        dep_ids, dep_xy = _nodes(g, _NEEDS_POWER)
        todo = [i for i, d in enumerate(dep_ids) if (d, DependencyKind.POWER_SUPPLY) not in have]
        if todo and sup_ids:
            _, k = cKDTree(sup_xy).query(dep_xy[todo])
            out += [Dependency(dep_ids[i], sup_ids[j], DependencyKind.POWER_SUPPLY)
                    for i, j in zip(todo, np.atleast_1d(k), strict=True)]
    road_ids, road_xy = _nodes(roads, (AssetClass.INTERSECTION, AssetClass.DEPOT))
    if road_ids:
        tree = cKDTree(road_xy)
        for kind, g in graphs.items():
            if kind == NetworkKind.ROADS:
                continue
            ids, xy = _nodes(g, tuple(AssetClass))
            todo = [i for i, d in enumerate(ids) if (d, DependencyKind.ROAD_ACCESS) not in have]
            if todo:
                _, k = tree.query(xy[todo])
                out += [Dependency(ids[i], road_ids[j], DependencyKind.ROAD_ACCESS)
                        for i, j in zip(todo, np.atleast_1d(k), strict=True)]
    return tuple(out)


def nearest_of_classes(graph, classes, xy: np.ndarray) -> np.ndarray | None:
    """Per point of ``xy`` (k, 2), the id of the nearest node of ``graph`` whose class is
    in ``classes`` (None when the graph has no such node): a population block's node
    of a kind, when a file does not name it."""
    ids, pts = _nodes(graph, tuple(AssetClass(c) for c in classes))
    if not ids:
        return None
    _, j = cKDTree(pts).query(np.asarray(xy, dtype=float).reshape(-1, 2))
    return np.array(ids, dtype=object)[np.atleast_1d(j)]
