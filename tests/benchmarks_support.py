"""Random power-like networks for the kernel-vs-networkx test and benchmark."""

from __future__ import annotations

import networkx as nx
import numpy as np

from networks.model import LifelineNetwork
from networks.schema import NetworkKind
from twin.compile import compile_twin


def random_graph(n_nodes: int, n_edges: int, n_sources: int, rng: np.random.Generator):
    """A connected random geometric-ish graph: a random spanning tree plus random chords."""
    g = nx.Graph()
    xy = rng.random((n_nodes, 2)) * 10_000
    for i in range(n_nodes):
        cls = "grid_supply" if i < n_sources else "power_load"
        attrs = {"capacity_mw": 1e9} if i < n_sources else {"demand_mw": 0.0,
                                                            "customers": 1.0}
        g.add_node(f"N{i}", asset_class=cls, x_m=float(xy[i, 0]), y_m=float(xy[i, 1]), **attrs)
    parents = [int(rng.integers(0, i)) for i in range(1, n_nodes)]
    edges = {(p, i) for i, p in zip(range(1, n_nodes), parents, strict=True)}
    while len(edges) < n_edges:
        a, b = (int(x) for x in rng.integers(0, n_nodes, 2))
        if a != b and (a, b) not in edges and (b, a) not in edges:
            edges.add((a, b))
    for k, (a, b) in enumerate(sorted(edges)):
        g.add_edge(f"N{a}", f"N{b}", id=f"E{k}", asset_class="feeder_segment", length_m=1.0,
                   overhead=True)
    return g


def random_twin(n_nodes: int, n_edges: int, n_sources: int, rng: np.random.Generator):
    g = random_graph(n_nodes, n_edges, n_sources, rng)
    roads = nx.Graph()
    roads.add_node("R0", asset_class="depot", x_m=0.0, y_m=0.0, customers=0.0)
    net = LifelineNetwork("random", {NetworkKind.POWER: g, NetworkKind.WATER: nx.Graph(),
                                     NetworkKind.ROADS: roads}, (), "EPSG:32649")
    t = compile_twin(net)
    sources = [t.index[f"N{i}"] for i in range(n_sources)]
    return t, g, sources


def networkx_served(g: nx.Graph, sources: set, failed_nodes, failed_edges) -> set:
    """The networkx way to the kernel's answer: copy, remove failed, components with a source."""
    h = g.copy()
    h.remove_edges_from(failed_edges)
    h.remove_nodes_from(failed_nodes)
    reached: set = set()
    for comp in nx.connected_components(h):
        if comp & sources:
            reached |= comp
    return reached
