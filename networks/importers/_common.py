"""Helpers shared by the importers: the result type, CRS checks, id-safe edge insertion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from common.errors import NetworkError
from networks.model import Dependency
from networks.schema import NetworkKind


@dataclass(frozen=True, eq=False)
class ImportedPart:
    """One lifeline network read from a foreign format.

    Attributes
    ----------
    kind : NetworkKind
        Which network ``graph`` is (power, water or roads).
    graph : networkx.Graph
        Nodes and edges following :mod:`networks.model`'s conventions (asset ids,
        ``asset_class``, ``x_m``/``y_m`` in ``crs``, the class fields of
        :mod:`networks.schema`). Ready for :class:`~networks.model.LifelineNetwork`.
    crs : str
        Projected CRS (metres) of every coordinate of ``graph``.
    dependencies : tuple of Dependency
        Links the source file implies (empty for EPANET and pandapower; the
        proximity rules of :func:`networks.importers.city_from_parts` add the rest).
    meta : dict
        Provenance: source file, conversion rules and their parameters, counts,
        what was dropped and why. JSON-serialisable.
    """

    kind: NetworkKind
    graph: nx.Graph
    crs: str
    dependencies: tuple[Dependency, ...] = ()
    meta: Mapping[str, object] = field(default_factory=dict)


def projected_crs(crs: object, where: str) -> str:
    """Return ``crs`` as a string if it is a valid projected CRS in metres, else raise."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if crs is None or (isinstance(crs, str) and not crs.strip()):
        raise NetworkError("a CRS is required (the projected CRS the coordinates are in, "
                           "e.g. EPSG:32632)", where=where)
    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        raise NetworkError(f"unknown CRS {crs!r} (give e.g. EPSG:32632)", where=where) from None
    if not c.is_projected:
        raise NetworkError(f"CRS {crs!r} is not projected; give a projected CRS in metres "
                           "(e.g. a UTM zone)", where=where)
    unit = (c.axis_info[0].unit_name or "").lower() if c.axis_info else ""
    if unit and unit not in ("metre", "meter", "m"):
        raise NetworkError(f"CRS {crs!r} is in {unit}, not metres", where=where)
    s = c.to_string()
    return s


def add_edge_split_parallel(g: nx.Graph, u: str, v: str, eid: str, attrs: dict,
                            mid_attrs: dict, meta_list: list) -> None:
    """Add edge ``u``-``v``; a parallel edge is split by a virtual mid node.

    ``nx.Graph`` holds one edge per node pair. A second asset between the same
    pair (parallel pipes, double circuits) keeps its redundancy by being split at
    its mid point: node ``<eid>~mid`` (``mid_attrs``: a zero-demand junction or a
    distribution node), edges ``<eid>`` (``u``-mid) and ``<eid>~2`` (mid-``v``),
    each with half of ``length_m``.
    """
    if not g.has_edge(u, v):
        g.add_edge(u, v, id=eid, **attrs)
        return
    a, b = g.nodes[u], g.nodes[v]
    coords = attrs.get("coords")
    if coords is not None and len(coords) > 2:
        mx, my = coords[len(coords) // 2]
        k = len(coords) // 2
        c1, c2 = coords[: k + 1], coords[k:]
    else:
        mx, my = (a["x_m"] + b["x_m"]) / 2, (a["y_m"] + b["y_m"]) / 2
        c1 = np.array([(a["x_m"], a["y_m"]), (mx, my)])
        c2 = np.array([(mx, my), (b["x_m"], b["y_m"])])
    mid = f"{eid}~mid"
    g.add_node(mid, x_m=float(mx), y_m=float(my), **mid_attrs)
    half = {**attrs, "length_m": float(attrs["length_m"]) / 2}
    g.add_edge(u, mid, id=eid, **{**half, "coords": np.asarray(c1, float)})
    g.add_edge(mid, v, id=f"{eid}~2", **{**half, "coords": np.asarray(c2, float)})
    meta_list.append(eid)
