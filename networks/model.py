"""The static lifeline network of a city: what exists, never what happens to it.

A :class:`LifelineNetwork` holds one ``networkx.Graph`` per network kind, the typed
dependency links between them, optional population blocks (for the system-level
service metric) and optional terrain. It is never mutated during a run: per-run
state lives in the arrays of :class:`twin.compile.Twin`.

Graph conventions
-----------------
Node key
    the asset id (``str``), unique across all networks.
Node attributes
    ``asset_class`` (an :class:`~networks.schema.AssetClass` value), ``x_m``, ``y_m``
    (projected CRS, metres), and the class's declared fields.
Edge attributes
    ``id`` (asset id), ``asset_class``, the class's fields (``length_m`` always) and
    optionally ``coords``: an ``(k, 2)`` float array of the polyline vertices in the
    CRS, first vertex at ``u`` (straight segment when absent).
Switches
    a power edge may carry one switch (:class:`~networks.schema.SwitchKind`): the
    fields ``switch`` (``breaker`` at a feeder head, ``sectionalizer``, ``tie``),
    ``normally_open`` (absent: ties open, the others closed) and ``automated``. A
    normally open edge exists but carries nothing until a switching operation closes
    it (:mod:`twin.flisr`); the switch's id is its edge's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from common.terrain import Terrain  # noqa: F401  (re-exported: part of a network)
from networks.schema import DependencyKind, NetworkKind


@dataclass(frozen=True)
class Dependency:
    """``dependent`` needs ``supplier`` (in another network) in the way ``kind`` says."""

    dependent: str
    supplier: str
    kind: DependencyKind


@dataclass(frozen=True, eq=False)
class PopulationBlocks:
    """Where people live and which node of each network kind serves them.

    Arrays of equal length. ``nodes[kind]`` holds, per block, the id of the node of
    that kind that serves it, or ``""`` where the kind does not serve the block (a
    block without gas); a kind absent from ``nodes`` serves no block. A block is
    served by the system when the node of every kind it uses is served (a scenario
    may narrow the kinds that count, ``system_kinds``).
    """

    ids: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    population: np.ndarray
    nodes: Mapping[NetworkKind, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", {NetworkKind(k): np.asarray(v, dtype=object)
                                           for k, v in self.nodes.items()})

    def __len__(self) -> int:
        return len(self.ids)

    def node_of(self, kind: NetworkKind | str) -> np.ndarray:
        """Per block, the id of its node of ``kind`` (``""``: not served by that kind)."""
        v = self.nodes.get(NetworkKind(kind))
        return np.full(len(self.ids), "", dtype=object) if v is None else v


@dataclass(frozen=True, eq=False)
class LifelineNetwork:
    """A city's lifeline networks and their interdependencies (immutable by convention).

    Parameters
    ----------
    name : str
        Human-readable name of the city.
    graphs : mapping of NetworkKind to networkx.Graph
        One undirected graph per network (see module docstring for attributes).
    dependencies : tuple of Dependency
        Typed links between assets of different networks.
    crs : str
        Projected CRS of all coordinates (e.g. ``"EPSG:32649"``).
    population : PopulationBlocks or None
        Optional population blocks for the system-level service metric.
    terrain : Terrain or None
        Optional DEM (the built-in city always has one).
    meta : dict
        Free-form provenance (generator, seed, anchor lon/lat, source files).
    """

    name: str
    graphs: Mapping[NetworkKind, nx.Graph]
    dependencies: tuple[Dependency, ...]
    crs: str
    population: PopulationBlocks | None = None
    terrain: Terrain | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    def graph(self, kind: NetworkKind | str) -> nx.Graph:
        """The graph of one kind; an empty graph for a kind the city does not have."""
        g = self.graphs.get(NetworkKind(kind))
        return nx.Graph() if g is None else g

    def n_components(self) -> int:
        """Number of assets (nodes plus edges) across all networks."""
        return sum(g.number_of_nodes() + g.number_of_edges() for g in self.graphs.values())

    def asset_network(self) -> dict[str, NetworkKind]:
        """Map of every asset id (node or edge) to its network."""
        out: dict[str, NetworkKind] = {}
        for kind, g in self.graphs.items():
            for n in g.nodes:
                out[n] = kind
            for _, _, eid in g.edges(data="id"):
                out[eid] = kind
        return out
