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
    """The lifeline network kinds of the twin (declared in :mod:`networks.kinds`)."""

    POWER = "power"
    WATER = "water"
    ROADS = "roads"
    GAS = "gas"
    TELECOM = "telecom"


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
    # gas nodes
    GATE_STATION = "gate_station"
    REGULATOR_STATION = "regulator_station"
    GAS_NODE = "gas_node"
    # gas edges
    GAS_MAIN = "gas_main"
    # telecom nodes
    CENTRAL_OFFICE = "central_office"
    TELECOM_NODE = "telecom_node"
    SPLICE = "splice"
    # telecom edges
    FIBRE_LINK = "fibre_link"


class SwitchKind(StrEnum):
    """Switches on power edges (the ``switch`` field of a line).

    ``breaker``: the circuit breaker at a feeder's head (in the substation; opened by
    protection when a fault on the feeder draws current, remotely reclosed);
    ``sectionalizer``: a normally closed switch that splits a feeder into sections;
    ``tie``: a normally open switch joining two feeders (a feeder can pick up a
    neighbour's sections through it).
    """

    BREAKER = "breaker"
    SECTIONALIZER = "sectionalizer"
    TIE = "tie"


def switch_draw(switch_id: str) -> float:
    """A stable number in [0, 1) from a switch id (sha256): the switches with a draw
    below a share are the automated ones, so the automated set at 50 % lies inside the
    set at 100 % and does not depend on how many other switches a city has."""
    import hashlib

    return int(hashlib.sha256(switch_id.encode()).hexdigest()[:15], 16) / 16.0 ** 15


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: name (with unit suffix), python type, range, default; a
    ``str`` field lists its allowed spellings in ``choices``."""

    name: str
    kind: type
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    default: object = None
    choices: tuple[str, ...] = ()


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

# -- physics fields (optional; read only by ``service: powerflow / pressure_driven``).
# Absent values take the documented defaults below (twin.compile, step ``_physics``).
#: line impedances and thermal rating per circuit, ``parallel`` identical circuits
#: a switch on the line (:class:`SwitchKind`; absent: none), whether it is open in the
#: normal configuration (absent: ties open, the others closed) and whether it is
#: operated by feeder automation (remote, FLISR) rather than by a crew on site
_SWITCH = (FieldSpec("switch", str, None, None, False, None,
                     tuple(k.value for k in SwitchKind)),
           _f("normally_open", bool, None, required=False),
           _f("automated", bool, None, required=False, default=False))
_LINE_PHYSICS = (_f("r_ohm_per_km", required=False), _f("x_ohm_per_km", required=False),
                 _f("c_nf_per_km", required=False), _f("max_i_ka", lo=1e-6, required=False),
                 _f("parallel", int, 1, required=False, default=1))
#: HV/MV transformer of a substation: LV voltage, short-circuit voltage and its resistive
#: part (percent of the rating ``capacity_mva``), iron losses and no-load current,
#: off-nominal tap on the HV side (percent)
_TRAFO_PHYSICS = (_f("vn_lv_kv", lo=0.1, required=False, default=10.0),
                  _f("vk_percent", lo=0.1, hi=50.0, required=False),
                  _f("vkr_percent", hi=10.0, required=False),
                  _f("pfe_kw", required=False), _f("i0_percent", hi=10.0, required=False),
                  _f("tap_percent", lo=-30.0, hi=30.0, required=False, default=0.0))
#: reactive demand; absent: power factor 0.95 lagging (``Q_PER_P``)
_Q = _f("q_mvar", lo=None, required=False)
#: voltage set point of a source (slack) in per unit
_VM = _f("vm_pu", lo=0.8, hi=1.2, required=False, default=1.0)
#: ground elevation of a water node (m); absent: the city's terrain there, else 0
_ELEV = _f("elevation_m", lo=None, required=False)
#: Hazen-Williams C factor of a pipe
_ROUGH = _f("roughness", lo=1.0, hi=200.0, required=False, default=130.0)
#: hydraulic head (m): a treatment plant's total head (its clear-well level above the
#: datum); a pump's head at ``capacity_m3h``
_HEAD = _f("head_m", lo=None, required=False)
#: a pump's head at zero flow (m); absent: EPANET's one-point curve (4/3 of ``head_m``
#: at no flow, none at twice the design flow), present: the straight curve through both
_SHUTOFF = _f("shutoff_head_m", lo=None, required=False)
_TANK_PHYSICS = (_ELEV, _f("min_level_m", required=False, default=0.0),
                 _f("max_level_m", lo=0.1, required=False, default=5.0),
                 _f("init_level_m", required=False))

#: typical line parameters when a file gives none: pandapower standard types
#: (pandapower 3.x ``std_types``), by construction and voltage level:
#: (overhead, voltage class) -> (r ohm/km, x ohm/km, c nF/km, max_i kA)
TYPICAL_LINE: dict[tuple[bool, str], tuple[float, float, float, float]] = {
    (False, "mv"): (0.122, 0.105, 456.0, 0.416),  # NA2XS2Y 1x240 RM/25 6/10 kV cable
    (True, "mv"): (0.194, 0.315, 11.25, 0.47),  # 149-AL1/24-ST1A 10.0 overhead
    (False, "hv"): (0.06, 0.144, 144.0, 0.588),  # N2XS(FL)2Y 1x300 RM/35 64/110 kV cable
    (True, "hv"): (0.1188, 0.39, 9.0, 0.645),  # 243-AL1/39-ST1A 110.0 overhead
    (True, "ehv"): (0.059, 0.285, 10.0, 0.96),  # 490-AL1/64-ST1A 220.0 overhead
    (False, "ehv"): (0.06, 0.144, 144.0, 0.588),  # no 220 kV cable type: the 110 kV one
}
#: voltage class of a line (kV upper bounds): medium voltage up to 35 kV, high up to 150
VOLTAGE_CLASS_KV = (("mv", 35.0), ("hv", 150.0), ("ehv", float("inf")))
#: typical HV/MV transformers (pandapower standard types "25/40/63 MVA 110/10 kV"):
#: (rating upper bound MVA, vk_percent, vkr_percent, pfe_kw, i0_percent)
TYPICAL_TRAFO: tuple[tuple[float, float, float, float, float], ...] = (
    (25.0, 12.0, 0.41, 14.0, 0.07), (40.0, 16.2, 0.34, 18.0, 0.05),
    (float("inf"), 18.0, 0.32, 22.0, 0.04))
#: reactive per active power of a load at power factor 0.95 lagging: tan(acos(0.95))
Q_PER_P = 0.32868410523


def voltage_class(kv: float) -> str:
    """The :data:`VOLTAGE_CLASS_KV` name of a nominal voltage."""
    return next(name for name, hi in VOLTAGE_CLASS_KV if kv <= hi)


P, W, R = NetworkKind.POWER, NetworkKind.WATER, NetworkKind.ROADS
G, T = NetworkKind.GAS, NetworkKind.TELECOM
A = AssetClass
#: battery (telecom) or generator hours an asset runs on without its power supply
_BACKUP = _f("backup_h", required=False, default=0.0)

CLASS_SPECS: dict[AssetClass, ClassSpec] = {
    s.asset_class: s
    for s in (
        ClassSpec(A.POWER_PLANT, P, False, True, (_f("capacity_mw"), _VM), 0),
        ClassSpec(A.GRID_SUPPLY, P, False, True, (_f("capacity_mw"), _VM), 0),
        ClassSpec(A.SUBSTATION, P, False, False,
                  (_f("voltage_kv"), _f("capacity_mva", required=False, default=0.0),
                   *_TRAFO_PHYSICS), 1),
        ClassSpec(A.DISTRIBUTION_NODE, P, False, False, (), 4),
        ClassSpec(A.POWER_LOAD, P, False, False,
                  (_f("demand_mw"), _CUSTOMERS, _CRITICAL, _Q), 3),
        ClassSpec(A.TRANSMISSION_LINE, P, True, False,
                  (_LEN, _f("voltage_kv"), _OVERHEAD, *_LINE_PHYSICS, *_SWITCH), 1),
        ClassSpec(A.FEEDER_SEGMENT, P, True, False,
                  (_LEN, _OVERHEAD, *_LINE_PHYSICS, *_SWITCH), 3),
        ClassSpec(A.TREATMENT_PLANT, W, False, True, (_f("capacity_m3h"), _ELEV, _HEAD), 0),
        ClassSpec(A.PUMP_STATION, W, False, False,
                  (_f("capacity_m3h"), _f("backup_h", required=False, default=0.0), _ELEV,
                   _HEAD, _SHUTOFF), 1),
        ClassSpec(A.TANK, W, False, True,
                  (_f("volume_m3"), _f("storage_h", required=False, default=12.0),
                   *_TANK_PHYSICS), 2),
        ClassSpec(A.JUNCTION, W, False, False,
                  (_f("demand_m3h", required=False, default=0.0), _CUSTOMERS, _CRITICAL,
                   _ELEV), 4),
        ClassSpec(A.PIPE, W, True, False, (_LEN, _f("diameter_m"), _ROUGH), 3),
        ClassSpec(A.INTERSECTION, R, False, False, (_CUSTOMERS,), 4),
        ClassSpec(A.DEPOT, R, False, True, (_CUSTOMERS,), 0),
        ClassSpec(A.ROAD_SEGMENT, R, True, False, _ROAD_FIELDS, 2),
        ClassSpec(A.BRIDGE, R, True, False, _ROAD_FIELDS, 1),
        ClassSpec(A.TUNNEL, R, True, False, _ROAD_FIELDS, 1),
        # gas: served like water, by connectivity to a gate station (city gate, where the
        # transmission pipeline's gas enters the distribution network)
        ClassSpec(A.GATE_STATION, G, False, True, (_f("capacity_m3h"),), 0),
        ClassSpec(A.REGULATOR_STATION, G, False, False, (_BACKUP,), 1),
        ClassSpec(A.GAS_NODE, G, False, False,
                  (_f("demand_m3h", required=False, default=0.0), _CUSTOMERS, _CRITICAL), 4),
        ClassSpec(A.GAS_MAIN, G, True, False, (_LEN, _f("diameter_m", required=False,
                                                        default=0.3)), 3),
        # telecom: served by connectivity to a central office (switching centre), each
        # node needing power, with batteries for ``backup_h`` hours
        ClassSpec(A.CENTRAL_OFFICE, T, False, True, (_BACKUP,), 0),
        ClassSpec(A.TELECOM_NODE, T, False, False, (_CUSTOMERS, _CRITICAL, _BACKUP), 2),
        ClassSpec(A.SPLICE, T, False, False, (), 4),
        ClassSpec(A.FIBRE_LINK, T, True, False, (_LEN, _OVERHEAD), 3),
    )
}

#: the source classes whose capacity bounds the load an island can serve
CAPACITY_FIELD: dict[AssetClass, str] = {
    A.POWER_PLANT: "capacity_mw",
    A.GRID_SUPPLY: "capacity_mw",
    A.TREATMENT_PLANT: "capacity_m3h",
    A.GATE_STATION: "capacity_m3h",
}
#: the consumer classes whose demand loads an island
DEMAND_FIELD: dict[AssetClass, str] = {
    A.POWER_LOAD: "demand_mw",
    A.JUNCTION: "demand_m3h",
    A.GAS_NODE: "demand_m3h",
}


class DependencyKind(StrEnum):
    """Typed links between networks.

    ``power_supply``, ``cooling_water``, ``gas_supply`` (fuel of a gas-fired plant) and
    ``communication`` (SCADA, control of a substation or a pump over telecom) are
    *functional*: the dependent stops working when its supplier is not served (an
    asset with ``backup_h`` rides through a power loss that long). ``road_access`` is an
    *access* dependency: the dependent keeps working, but no crew can repair it until
    its road node is reachable from a depot over open roads.
    """

    POWER_SUPPLY = "power_supply"
    COOLING_WATER = "cooling_water"
    GAS_SUPPLY = "gas_supply"
    COMMUNICATION = "communication"
    ROAD_ACCESS = "road_access"


FUNCTIONAL_DEPENDENCIES = frozenset({DependencyKind.POWER_SUPPLY, DependencyKind.COOLING_WATER,
                                     DependencyKind.GAS_SUPPLY, DependencyKind.COMMUNICATION})

#: which network a supplier must belong to for each dependency kind
SUPPLIER_NETWORK: dict[DependencyKind, NetworkKind] = {
    DependencyKind.POWER_SUPPLY: NetworkKind.POWER,
    DependencyKind.COOLING_WATER: NetworkKind.WATER,
    DependencyKind.GAS_SUPPLY: NetworkKind.GAS,
    DependencyKind.COMMUNICATION: NetworkKind.TELECOM,
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
