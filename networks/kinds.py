"""Network kinds as data: what each lifeline network is, declared once.

A kind has a name (:class:`~networks.schema.NetworkKind`), node and edge classes
(:data:`~networks.schema.CLASS_SPECS`: which of them are sources, which carry
customers or demand), a service rule, the layers it is stored in, a colour and
the words the views use. The compiled twin, the engine, the results, the plots
and the replays loop over :data:`KINDS` (or over the kinds a city has,
:func:`present`), never over three spelled-out names.

Service rules
-------------
``connectivity``: a node is served when a path of working components joins it
to a working source of its kind with capacity to spare (the topological kernel,
:mod:`twin.kernels.service`); for power and water a scenario may ask for physics
instead (:mod:`twin.physics`). Every built-in kind uses it: roads are "served"
when joined to a depot, gas when joined to a gate station, telecom to a central
office. Dependencies between kinds (:class:`~networks.schema.DependencyKind`) make
a component stop when its supplier in another kind is not served.

Built-in kinds: power, water, roads (every city has roads: crews drive on them),
gas (gate stations, regulator stations, mains) and telecom (central offices,
telecom nodes with batteries, splices, fibre).
"""

from __future__ import annotations

from dataclasses import dataclass

from networks.schema import (
    CLASS_SPECS,
    DEMAND_FIELD,
    AssetClass,
    NetworkKind,
    edge_classes,
    node_classes,
)


@dataclass(frozen=True)
class KindSpec:
    """One network kind (see the module docstring)."""

    kind: NetworkKind
    #: where a city file stores it (GeoPackage layers)
    node_layer: str
    edge_layer: str
    #: the population layer's column naming the node that serves a block
    block_column: str
    service: str
    #: colour of its lines in views (RGB 0-255) and the word for one of its edges
    rgb: tuple[int, int, int]
    edge_word: str
    #: default crews of the utility when a scenario names none
    default_crews: int
    #: a city must have it (crews travel on roads)
    required: bool = False

    @property
    def name(self) -> str:
        return self.kind.value

    def node_classes(self) -> tuple[AssetClass, ...]:
        return tuple(node_classes(self.kind))

    def edge_classes(self) -> tuple[AssetClass, ...]:
        return tuple(edge_classes(self.kind))

    def source_classes(self) -> tuple[AssetClass, ...]:
        return tuple(c for c in self.node_classes() if CLASS_SPECS[c].is_source)

    def consumer_classes(self) -> tuple[AssetClass, ...]:
        """Node classes that may carry customers or a demand (what a block is served at)."""
        return tuple(c for c in self.node_classes() if c in DEMAND_FIELD or any(
            f.name == "customers" for f in CLASS_SPECS[c].fields))


K = NetworkKind
#: Every kind the twin knows, in the order of arrays and tables (common.names.NETWORKS).
KINDS: tuple[KindSpec, ...] = (
    KindSpec(K.POWER, "power_nodes", "power_edges", "power_node", "connectivity",
             (70, 70, 80), "power line", 6),
    KindSpec(K.WATER, "water_nodes", "water_edges", "water_node", "connectivity",
             (0, 150, 160), "water main", 4),
    KindSpec(K.ROADS, "road_nodes", "road_edges", "road_node", "connectivity",
             (150, 150, 150), "road", 4, required=True),
    KindSpec(K.GAS, "gas_nodes", "gas_edges", "gas_node", "connectivity",
             (214, 140, 20), "gas main", 2),
    KindSpec(K.TELECOM, "telecom_nodes", "telecom_edges", "telecom_node", "connectivity",
             (140, 90, 190), "fibre link", 2),
)
BY_KIND: dict[NetworkKind, KindSpec] = {k.kind: k for k in KINDS}


def kind_spec(kind: NetworkKind | str) -> KindSpec:
    return BY_KIND[NetworkKind(kind)]

