"""Declared schema of the lifeline networks: networks, asset classes and their fields.

Every asset (node or edge) of a lifeline network belongs to one :class:`AssetClass`.
Each class declares its fields with units in the field names (``length_m``,
``capacity_mw``, ``speed_kmh``) and their ranges; :func:`networks.validate.validate_network`
checks a network against this table and names the asset and the field that is wrong.

Invariants
----------
- Asset ids are strings, unique across *all* networks of a city.
- Coordinates ``x_m``/``y_m`` are in the city's projected CRS (metres).
- Consumer-facing nodes carry ``customers`` (people or accounts served there).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NetworkKind(StrEnum):
    """The lifeline networks of the twin."""

    POWER = "power"
    WATER = "water"
    ROADS = "roads"


class AssetClass(StrEnum):
    """Asset classes; the value is the spelling used in files and scenarios."""

    # power nodes
    POWER_PLANT = "power_plant"
    GRID_SUPPLY = "grid_supply"
    SUBSTATION = "substation"
    DISTRIBUTION_NODE = "distribution_node"
    POWER_LOAD = "power_load"
    # power edges
    TRANSMISSION_LINE = "transmission_line"
    FEEDER_SEGMENT = "feeder_segment"
    # water nodes
    TREATMENT_PLANT = "treatment_plant"
    PUMP_STATION = "pump_station"
    TANK = "tank"
    JUNCTION = "junction"
    # water edges
    PIPE = "pipe"
    # road nodes
    INTERSECTION = "intersection"
    DEPOT = "depot"
    # road edges
    ROAD_SEGMENT = "road_segment"
    BRIDGE = "bridge"
    TUNNEL = "tunnel"


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: name (with unit suffix), python type, range, default."""

    name: str
    kind: type
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    default: object = None


@dataclass(frozen=True)
class ClassSpec:
    """What an asset class is: its network, node or edge, source or not, and its fields."""

    asset_class: AssetClass
    network: NetworkKind
    is_edge: bool
    is_source: bool
    fields: tuple[FieldSpec, ...]
    #: rank used by the "critical facilities first" repair policy (lower is repaired first)
    criticality: int


def _f(name: str, kind: type = float, lo: float | None = 0.0, hi: float | None = None,
       required: bool = True, default: object = None) -> FieldSpec:
    return FieldSpec(name, kind, lo, hi, required, default)


_CUSTOMERS = _f("customers", float, 0.0, required=False, default=0.0)
_CRITICAL = _f("critical", bool, None, required=False, default=False)
_LEN = _f("length_m", float, 0.0)
_OVERHEAD = _f("overhead", bool, None, required=False, default=True)
#: a one-way road is driven in the direction of its polyline (first vertex to last), the
#: rule of OpenStreetMap ways; two-way roads (the default) in both directions
_ONEWAY = _f("oneway", bool, None, required=False, default=False)
_ROAD_FIELDS = (_LEN, _f("speed_kmh", lo=0.1), _f("lanes", int, 1), _ONEWAY)

P, W, R = NetworkKind.POWER, NetworkKind.WATER, NetworkKind.ROADS
A = AssetClass

CLASS_SPECS: dict[AssetClass, ClassSpec] = {
    s.asset_class: s
    for s in (
        ClassSpec(A.POWER_PLANT, P, False, True, (_f("capacity_mw"),), 0),
        ClassSpec(A.GRID_SUPPLY, P, False, True, (_f("capacity_mw"),), 0),
        ClassSpec(A.SUBSTATION, P, False, False,
                  (_f("voltage_kv"), _f("capacity_mva", required=False, default=0.0)), 1),
        ClassSpec(A.DISTRIBUTION_NODE, P, False, False, (), 4),
        ClassSpec(A.POWER_LOAD, P, False, False,
                  (_f("demand_mw"), _CUSTOMERS, _CRITICAL), 3),
        ClassSpec(A.TRANSMISSION_LINE, P, True, False,
                  (_LEN, _f("voltage_kv"), _OVERHEAD), 1),
        ClassSpec(A.FEEDER_SEGMENT, P, True, False, (_LEN, _OVERHEAD), 3),
        ClassSpec(A.TREATMENT_PLANT, W, False, True, (_f("capacity_m3h"),), 0),
        ClassSpec(A.PUMP_STATION, W, False, False,
                  (_f("capacity_m3h"), _f("backup_h", required=False, default=0.0)), 1),
        ClassSpec(A.TANK, W, False, True,
                  (_f("volume_m3"), _f("storage_h", required=False, default=12.0)), 2),
        ClassSpec(A.JUNCTION, W, False, False,
                  (_f("demand_m3h", required=False, default=0.0), _CUSTOMERS, _CRITICAL), 4),
        ClassSpec(A.PIPE, W, True, False, (_LEN, _f("diameter_m")), 3),
        ClassSpec(A.INTERSECTION, R, False, False, (_CUSTOMERS,), 4),
        ClassSpec(A.DEPOT, R, False, True, (_CUSTOMERS,), 0),
        ClassSpec(A.ROAD_SEGMENT, R, True, False, _ROAD_FIELDS, 2),
        ClassSpec(A.BRIDGE, R, True, False, _ROAD_FIELDS, 1),
        ClassSpec(A.TUNNEL, R, True, False, _ROAD_FIELDS, 1),
    )
}

#: the source classes whose capacity bounds the load an island can serve
CAPACITY_FIELD: dict[AssetClass, str] = {
    A.POWER_PLANT: "capacity_mw",
    A.GRID_SUPPLY: "capacity_mw",
    A.TREATMENT_PLANT: "capacity_m3h",
}
#: the consumer classes whose demand loads an island
DEMAND_FIELD: dict[AssetClass, str] = {
    A.POWER_LOAD: "demand_mw",
    A.JUNCTION: "demand_m3h",
}


class DependencyKind(StrEnum):
    """Typed links between networks.

    ``power_supply`` and ``cooling_water`` are *functional*: the dependent stops
    working when its supplier is not served.  ``road_access`` is an *access*
    dependency: the dependent keeps working, but no crew can repair it until its
    road node is reachable from a depot over open roads.
    """

    POWER_SUPPLY = "power_supply"
    COOLING_WATER = "cooling_water"
    ROAD_ACCESS = "road_access"


FUNCTIONAL_DEPENDENCIES = frozenset({DependencyKind.POWER_SUPPLY, DependencyKind.COOLING_WATER})

#: which network a supplier must belong to for each dependency kind
SUPPLIER_NETWORK: dict[DependencyKind, NetworkKind] = {
    DependencyKind.POWER_SUPPLY: NetworkKind.POWER,
    DependencyKind.COOLING_WATER: NetworkKind.WATER,
    DependencyKind.ROAD_ACCESS: NetworkKind.ROADS,
}

#: classes that must have a dependency of that kind (checked by validate_network)
REQUIRED_DEPENDENCIES: dict[AssetClass, tuple[DependencyKind, ...]] = {
    A.PUMP_STATION: (DependencyKind.POWER_SUPPLY, DependencyKind.ROAD_ACCESS),
    A.TREATMENT_PLANT: (DependencyKind.POWER_SUPPLY, DependencyKind.ROAD_ACCESS),
    A.SUBSTATION: (DependencyKind.ROAD_ACCESS,),
}


def spec(asset_class: AssetClass | str) -> ClassSpec:
    """Return the :class:`ClassSpec` of an asset class (by enum or spelling)."""
    return CLASS_SPECS[AssetClass(asset_class)]


def node_classes(network: NetworkKind) -> list[AssetClass]:
    return [c for c, s in CLASS_SPECS.items() if s.network == network and not s.is_edge]


def edge_classes(network: NetworkKind) -> list[AssetClass]:
    return [c for c, s in CLASS_SPECS.items() if s.network == network and s.is_edge]
