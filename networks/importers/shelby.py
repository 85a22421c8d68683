"""Shelby County (Memphis, TN): a city with power, water, gas and telecom from the INDP CSVs.

Reads a folder of the INDP node/arc/interdependency layout with
:func:`networks.importers.shelby_tables.read_shelby_tables` (validated tables,
UTM 16N) and builds a :class:`~networks.model.LifelineNetwork`. Every rule below
is also written into the city's ``meta["shelby"]`` (``rules``), so a saved city
says how it was made.

Asset ids
---------
``<P|W|G|T>:<CSV ID>`` for the nodes of power, water, gas and telecom
(``W:12`` is ``WaterNodes.csv`` ID 12) and ``<P|W|G|T>A:<CSV ID>`` for their arcs
(``PA:40``). The number after the colon is the CSV ``ID``; the 2015 failure
probabilities number the same water and gas assets ID + 1
(:mod:`networks.importers.shelby_tables`).

Classes (``Node Type`` / ``Arc Type`` -> asset class)
-----------------------------------------------------
power
    ``Gate Station`` -> ``grid_supply`` (the bulk supply points of the county,
    positive ``Demand``); ``23kV Substation``, ``12kV Substation`` -> ``power_load``
    (each is the delivery point of a service area: it carries the demand and the
    census population of the area; the twin's ``substation`` class carries
    neither); ``Intersections point`` -> ``distribution_node`` (junctions of the
    Extended network, no demand). ``Transmission Line`` -> ``transmission_line``.
water
    ``Pumping Station`` -> ``treatment_plant`` (a source: Memphis draws all its
    water from the Memphis Sand aquifer, so each pumping station is a well field
    with its treatment and pumps; the twin's ``pump_station`` is not a source);
    ``Storage Tank`` -> ``tank`` (a source that runs dry after ``storage_h`` when
    its island has no working pumping station); ``Distribution Node`` ->
    ``junction``. ``Water pipe`` -> ``pipe``.
gas
    ``Gate Station`` -> ``gate_station``; ``Regulator Station`` and ``Other`` ->
    ``gas_node`` (in this data a regulator station is a demand node: the demand
    and population of its district are booked there, which the twin's
    ``regulator_station`` class cannot carry). ``Gas pipe`` -> ``gas_main``.
telecom
    Node 9 (the only node with a negative ``Demand``) -> ``central_office``; the
    other ``Fiber or Microwave Node`` -> ``telecom_node``; ``Splice Capsules`` ->
    ``splice``. ``Fiber Optic Cable`` and ``Microwave`` -> ``fibre_link`` (no
    microwave class; ``Arc Type`` is kept in ``shelby_type``).

Why node 9 is the central office: the telecom ``Demand`` column is inverted (22
nodes supply +1.3 to +99.9, node 9 alone takes -968.4, the sum of the rest), so
in INDP's flow model every node's traffic must reach node 9: it is the
switching centre. The twin serves a telecom node when it is joined to a working
central office, which is that rule. With no other office, telecom has a single
point of failure; that is the data's structure, not an import choice to hide.

Demands, capacities and units
-----------------------------
``Demand`` is INDP's *b* (+ supply, - demand; each network sums to about 0 and
its supply to about 1,000 INDP flow units). **One INDP flow unit is booked as
1 MW (power) or 1 m3/h (water, gas)**: ``capacity_mw`` of a grid supply and
``capacity_m3h`` of a treatment plant or gate station = its supply; ``demand_mw``
of a power load and ``demand_m3h`` of a junction or gas node = minus its
``Demand``; a tank's ``volume_m3`` = supply x ``storage_h`` (default 12 h), so
it delivers its supply rate. Only ratios matter to the twin's connectivity
service (an island delivers ``min(1, capacity / demand)``); these are not
physical units, so the physics services (``powerflow``, ``pressure_driven``)
must not be used with this city. Arc capacities ``u`` have no counterpart in the
connectivity rule (edges do not bound flow): they are kept as ``capacity_indp``
(with ``Arc Type`` as ``shelby_type``) for reference. Fields the data lacks take
documented nominal values that the connectivity service does not read:
``diameter_m`` 0.3 (pipes, gas mains), ``voltage_kv`` of a line = the higher
voltage of its ends (23 kV next to a gate station, a 23 kV substation or an
intersection point, else 12 kV). Telecom batteries ``backup_h`` default to 0
(INDP's dependencies act at once).

Customers and population blocks
-------------------------------
``customers`` of a consumer node (power load, junction, gas node, telecom node)
= its ``population`` column (the census population of its service area; each
network's consumers sum to the county's ~924,000). The population of source
nodes (supplied population) and of the central office (29,207) is kept as
``population_served`` and counts as no customers. Population blocks: one block
``B:P:<id>`` per power load (42 service areas, each with its census population,
924,339 people in all) at the substation's place, served by that power load and
by the nearest junction, gas node, telecom node and road node.

Dependencies (``Interdep.csv``: dependee -> depender)
-----------------------------------------------------
``Physical`` power -> water/gas/telecom: ``power_supply``; ``Physical`` water ->
power: ``cooling_water``; ``Physical`` gas -> power: ``gas_supply``; ``Cyber``
telecom -> power: ``communication``. Every link becomes one dependency (73);
an asset with several suppliers needs all of them (the twin's rule and INDP's).
One difference remains: in INDP a depender needs its dependee to be intact; in
the twin it needs it *served*, so losing the central office stops every power
node that depends on telecom.

Parallel arcs
-------------
``PowerArcs.csv`` 40 and 41 both join nodes 5 and 64 (a double circuit). The
twin's graphs hold one edge per node pair, so the second one is split at its
middle (:func:`networks.importers._common.add_edge_split_parallel`): node
``PA:41~mid`` (a ``distribution_node``) and edges ``PA:41`` and ``PA:41~2``.

Roads
-----
The data has no roads; crews travel on the grid proxy of
:func:`networks.importers.city.road_grid_proxy` over the assets' bounding box
(default spacing 2,000 m: a county of 48 x 44 km; 30 km/h, Manhattan paths), not a
street map. Every asset reaches it at its nearest road node.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from common.errors import DataFileError
from networks.importers._common import add_edge_split_parallel
from networks.importers.city import road_grid_proxy
from networks.importers.shelby_tables import (
    CRS,
    FILE_STEM,
    NETWORKS,
    ShelbyTables,
    read_shelby_tables,
)
from networks.interdependencies import nearest_of_classes, proximity_dependencies
from networks.kinds import KINDS
from networks.model import Dependency, LifelineNetwork, PopulationBlocks
from networks.schema import DependencyKind, NetworkKind
from networks.validate import validate_network

#: the twin's kind of each INDP network
KIND = {"power": NetworkKind.POWER, "water": NetworkKind.WATER, "gas": NetworkKind.GAS,
        "telecom": NetworkKind.TELECOM}
#: prefix of node ids (``W:12``); arcs add ``A`` (``WA:3``)
PREFIX = {"power": "P", "water": "W", "gas": "G", "telecom": "T"}
#: ``Node Type`` -> asset class, per network (telecom's central office is chosen by
#: :data:`CENTRAL_OFFICE_RULE`, before this table)
NODE_CLASS: Mapping[str, Mapping[str, str]] = {
    "power": {"Gate Station": "grid_supply", "23kV Substation": "power_load",
              "12kV Substation": "power_load", "Intersections point": "distribution_node"},
    "water": {"Pumping Station": "treatment_plant", "Storage Tank": "tank",
              "Distribution Node": "junction"},
    "gas": {"Gate Station": "gate_station", "Regulator Station": "gas_node", "Other": "gas_node"},
    "telecom": {"Fiber or Microwave Node": "telecom_node", "Splice Capsules": "splice"},
}
#: ``Arc Type`` -> asset class
ARC_CLASS: Mapping[str, Mapping[str, str]] = {
    "power": {"Transmission Line": "transmission_line"},
    "water": {"Water pipe": "pipe"},
    "gas": {"Gas pipe": "gas_main"},
    "telecom": {"Fiber Optic Cable": "fibre_link", "Microwave": "fibre_link"},
}
CENTRAL_OFFICE_RULE = ("telecom nodes with a negative Demand (INDP's sinks: node 9, -968.4) are "
                       "central offices: every other node's traffic flows to them")
#: the interdependency rules: (dependee network, depender network, Type) -> kind
DEPENDENCY_KIND: Mapping[tuple[str, str, str], DependencyKind] = {
    **{("power", d, "Physical"): DependencyKind.POWER_SUPPLY for d in ("water", "gas", "telecom")},
    ("water", "power", "Physical"): DependencyKind.COOLING_WATER,
    ("gas", "power", "Physical"): DependencyKind.GAS_SUPPLY,
    ("telecom", "power", "Cyber"): DependencyKind.COMMUNICATION,
}
#: kV of a power node type, for a line's nominal voltage (the higher of its ends)
_NODE_KV = {"Gate Station": 23.0, "23kV Substation": 23.0, "12kV Substation": 12.0,
            "Intersections point": 23.0}
NOMINAL_DIAMETER_M = 0.3
CONSUMER_CLASSES = frozenset({"power_load", "junction", "gas_node", "telecom_node"})
#: how the Shelby classes read the INDP columns (recorded in meta)
UNIT_RULES = {
    "flow": "1 INDP flow unit (Demand, u) is booked as 1 MW (power) or 1 m3/h (water, gas); "
            "only ratios matter to the connectivity service; do not use the physics services",
    "capacity": "capacity_mw (grid_supply), capacity_m3h (treatment_plant, gate_station) = "
                "the node's positive Demand; tank volume_m3 = Demand x storage_h",
    "demand": "demand_mw (power_load), demand_m3h (junction, gas_node) = -Demand",
    "arc_capacity": "u kept as capacity_indp on each edge; the connectivity service does not "
                    "bound edge flow",
    "nominal": f"diameter_m {NOMINAL_DIAMETER_M} for pipes and gas mains; a line's voltage_kv "
               "= the higher of its ends' (23 next to a gate station, 23 kV substation or "
               "intersection point, else 12)",
    "customers": "customers of power_load, junction, gas_node, telecom_node = the CSV "
                 "population column; sources and the central office keep theirs as "
                 "population_served (not customers)",
}


def _node_class(net: str, node_type: str, supply: float, where: str) -> str:
    if net == "telecom" and supply < 0:
        return "central_office"
    cls = NODE_CLASS[net].get(node_type)
    if cls is None:
        raise DataFileError(f"unknown Node Type {node_type!r} (known: "
                            f"{', '.join(NODE_CLASS[net])})", where=where)
    return cls


def _node_attrs(cls: str, supply: float, population: float, *, storage_h: float,
                telecom_backup_h: float) -> dict:
    pop = 0.0 if not np.isfinite(population) else float(population)
    if cls in CONSUMER_CLASSES:
        a: dict = {"customers": pop}
    else:
        a = {"population_served": pop}
    if cls == "grid_supply":
        a["capacity_mw"] = max(supply, 0.0)
    elif cls in ("treatment_plant", "gate_station"):
        a["capacity_m3h"] = max(supply, 0.0)
    elif cls == "tank":
        a["volume_m3"] = max(supply, 0.0) * storage_h
        a["storage_h"] = storage_h
    elif cls == "power_load":
        a["demand_mw"] = max(-supply, 0.0)
    elif cls in ("junction", "gas_node"):
        a["demand_m3h"] = max(-supply, 0.0)
    if cls in ("telecom_node", "central_office"):
        a["backup_h"] = telecom_backup_h
    return a


def _network_graph(tables: ShelbyTables, net: str, *, storage_h: float,
                   telecom_backup_h: float, split: list) -> nx.Graph:
    nodes, arcs = tables.nodes[net], tables.arcs[net]
    stem = FILE_STEM[net]
    p = PREFIX[net]
    g = nx.Graph()
    for nid, r in nodes.iterrows():
        where = f"{tables.source}/{stem}Nodes.csv, row {int(r['row'])} (line " \
                f"{int(r['row']) + 1}), field 'Node Type'"
        cls = _node_class(net, r["node_type"], float(r["supply_indp"]), where)
        if cls == "tank" and not float(r["supply_indp"]) > 0:
            raise DataFileError(f"a Storage Tank needs a positive Demand (its supply), got "
                                f"{r['supply_indp']:g}", where=where.replace("Node Type",
                                                                              "Demand"))
        g.add_node(f"{p}:{nid}", asset_class=cls, x_m=float(r["x_m"]), y_m=float(r["y_m"]),
                   shelby_type=r["node_type"],
                   **_node_attrs(cls, float(r["supply_indp"]), float(r["population"]),
                                 storage_h=storage_h, telecom_backup_h=telecom_backup_h))
    mid_class = {"power": "distribution_node", "water": "junction", "gas": "gas_node",
                 "telecom": "splice"}[net]
    for aid, r in arcs.iterrows():
        where = f"{tables.source}/{stem}Arcs.csv, row {int(r['row'])} (line " \
                f"{int(r['row']) + 1}), field 'Arc Type'"
        cls = ARC_CLASS[net].get(r["arc_type"])
        if cls is None:
            raise DataFileError(f"unknown Arc Type {r['arc_type']!r} (known: "
                                f"{', '.join(ARC_CLASS[net])})", where=where)
        u, v = f"{p}:{int(r['start_node'])}", f"{p}:{int(r['end_node'])}"
        attrs: dict = {"asset_class": cls, "length_m": float(r["length_m"]),
                       "capacity_indp": float(r["capacity_indp"]), "shelby_type": r["arc_type"]}
        if cls in ("pipe", "gas_main"):
            attrs["diameter_m"] = NOMINAL_DIAMETER_M
        elif cls == "transmission_line":
            ends = nodes.loc[[int(r["start_node"]), int(r["end_node"])], "node_type"]
            attrs["voltage_kv"] = max(_NODE_KV.get(t, 23.0) for t in ends)
        elif cls == "fibre_link":
            attrs["overhead"] = r["arc_type"] == "Microwave"
        add_edge_split_parallel(g, u, v, f"{p}A:{aid}", attrs, {"asset_class": mid_class},
                                split)
    return g


def _dependencies(tables: ShelbyTables) -> list[Dependency]:
    out = []
    d = tables.interdependencies
    for r in d.itertuples(index=False):
        key = (r.dependee_network, r.depender_network, r.dep_type)
        kind = DEPENDENCY_KIND.get(key)
        if kind is None:
            raise DataFileError(f"no rule for a {r.dep_type} dependency of "
                                f"{FILE_STEM[r.depender_network]} on "
                                f"{FILE_STEM[r.dependee_network]} (known: "
                                f"{', '.join(f'{a}->{b} {t}' for a, b, t in DEPENDENCY_KIND)})",
                                where=f"{tables.source}/Interdep.csv, row {r.row} (line "
                                      f"{r.row + 1}), field 'Type'")
        out.append(Dependency(f"{PREFIX[r.depender_network]}:{r.depender_node}",
                              f"{PREFIX[r.dependee_network]}:{r.dependee_node}", kind))
    return out


def _population(graphs: Mapping[NetworkKind, nx.Graph]) -> PopulationBlocks:
    """One block per power load, served by the nearest consumer node of every other kind."""
    pg = graphs[NetworkKind.POWER]
    loads = [n for n, a in pg.nodes(data=True) if a["asset_class"] == "power_load"]
    xy = np.array([(pg.nodes[n]["x_m"], pg.nodes[n]["y_m"]) for n in loads])
    nodes = {NetworkKind.POWER: np.array(loads, dtype=object)}
    for k in KINDS:
        if k.kind != NetworkKind.POWER:
            nodes[k.kind] = nearest_of_classes(graphs[k.kind], k.consumer_classes(), xy)
    return PopulationBlocks(np.array([f"B:{n}" for n in loads], dtype=object), xy[:, 0],
                            xy[:, 1], np.array([pg.nodes[n]["customers"] for n in loads]), nodes)


def from_shelby(directory: str | Path, *, crs: str = CRS, name: str = "Shelby County",
                road_spacing_m: float = 2000.0, road_max_nodes: int = 2500,
                storage_h: float = 12.0, telecom_backup_h: float = 0.0) -> LifelineNetwork:
    """Build the validated Shelby County city from a folder of the INDP CSV layout.

    Parameters
    ----------
    directory : str or Path
        Folder with ``<Net>Nodes.csv``, ``<Net>Arcs.csv`` (``Net`` = Water, Gas,
        Power, Telecommunication) and ``Interdep.csv``.
    crs : str, keyword-only
        Projected CRS of the city (default UTM 16N).
    name : str, keyword-only
    road_spacing_m, road_max_nodes : keyword-only
        The road proxy's grid (:func:`networks.importers.city.road_grid_proxy`).
    storage_h : float, keyword-only
        Hours a storage tank delivers its supply rate when cut from every pumping station.
    telecom_backup_h : float, keyword-only
        Battery hours of telecom nodes and the central office (the data has none).

    Returns
    -------
    LifelineNetwork
        Power, water, gas, telecom and proxy roads; the 73 interdependencies plus
        road access; population blocks; ``meta["shelby"]`` holds the rules.

    Raises
    ------
    DataFileError
        A broken input file, naming file, row and field.
    """
    if not (np.isfinite(storage_h) and storage_h > 0) or not (
            np.isfinite(telecom_backup_h) and telecom_backup_h >= 0):
        raise DataFileError(f"storage_h must be > 0 and telecom_backup_h >= 0, got "
                            f"{storage_h!r}, {telecom_backup_h!r}", where=str(directory))
    tables = read_shelby_tables(directory, crs=crs)
    split: dict[str, list] = {net: [] for net in NETWORKS}
    graphs = {KIND[net]: _network_graph(tables, net, storage_h=storage_h,
                                        telecom_backup_h=telecom_backup_h, split=split[net])
              for net in NETWORKS}
    xy = np.array([(a["x_m"], a["y_m"]) for g in graphs.values()
                   for _, a in g.nodes(data=True)])
    roads, road_info = road_grid_proxy(xy, spacing_m=road_spacing_m, max_nodes=road_max_nodes)
    graphs[NetworkKind.ROADS] = roads
    deps = _dependencies(tables)
    counts = {net: {"nodes": len(tables.nodes[net]), "arcs": len(tables.arcs[net])}
              for net in NETWORKS}
    meta = {
        "generator": "networks.importers.shelby.from_shelby",
        "shelby": {
            "source": str(directory),
            "data": "Shelby County interdependent lifelines (INDP layout; Talebiyan's Dec2py, "
                    "MIT); see data/shelby/PROVENANCE.md",
            "cite": ["González, Dueñas-Osorio, Sánchez-Silva, Medaglia (2016) CACAIE 31(5)"
                     ":334-350", "Talebiyan, Dueñas-Osorio (2020) ASCE-ASME J. Risk Uncertainty "
                     "Eng. Syst. A 6(2), doi:10.1061/AJRUA6.0001035"],
            "csv_counts": counts,
            "rules": {
                "ids": "<P|W|G|T>:<CSV ID> for nodes, <P|W|G|T>A:<CSV ID> for arcs",
                "node_classes": {k: dict(v) for k, v in NODE_CLASS.items()},
                "arc_classes": {k: dict(v) for k, v in ARC_CLASS.items()},
                "central_office": CENTRAL_OFFICE_RULE,
                "units": UNIT_RULES,
                "tank_storage_h": storage_h,
                "telecom_backup_h": telecom_backup_h,
                "dependencies": {f"{a}->{b} {t}": k.value
                                 for (a, b, t), k in DEPENDENCY_KIND.items()},
                "parallel_arcs": {net: v for net, v in split.items() if v},
                "parallel_rule": "the second arc between a node pair is split at its middle "
                                 "(<id>~mid node, <id> and <id>~2 edges)",
                "population": "one block B:P:<id> per power_load (census population of its "
                              "service area), served by it and by the nearest junction, "
                              "gas_node, telecom_node and road node",
            },
            "failure_probabilities": "the INDP 2015 earthquake probabilities map onto water "
                                     "and gas only (2015 number = CSV ID + 1); power and "
                                     "telecom assets have none: scenarios built by "
                                     "data/shelby/make_earthquake.py give them the "
                                     "probability of the nearest water/gas node (arcs: the "
                                     "failure rate per km of the nearest pipe) as a stand-in",
        },
        "roads": road_info,
    }
    graphs_ro = {k.kind: graphs[k.kind] for k in KINDS}  # in the order of the kinds
    net = LifelineNetwork(name, graphs_ro, proximity_dependencies(graphs_ro, tuple(deps)),
                          tables.crs, _population(graphs_ro), None, meta)
    validate_network(net, source=str(directory))
    return net


def nearest_stand_in(city: LifelineNetwork, tables: ShelbyTables, probs,
                     ) -> pd.DataFrame:
    """Per-asset failure probabilities of the city for one ``probM*.txt`` (see below).

    Water and gas assets take their own 2015 probability
    (:func:`~networks.importers.shelby_tables.probabilities_by_csv_id`). Power and
    telecom have none; as a **stand-in** a node takes the probability of the
    nearest water or gas node (the 2015 node probabilities are mostly a function
    of place: R² ~0.9 on lon/lat), an arc the failure rate per km
    ``-ln(1 - p) / length`` of the nearest water or gas pipe (nearest by distance
    between the arc's midpoint and the pipe's segment) applied to its own length.
    A split parallel arc's probability goes on its first half (``PA:41``), so
    the arc fails with its probability once.

    Returns
    -------
    pandas.DataFrame
        One row per asset: ``asset`` (city id), ``network``, ``csv_id``, ``element``
        (node/arc), ``p``, ``basis`` (``INDP 2015 probM<m> <net> <element> <2015
        number>`` or ``stand-in: nearest ...``), ``stand_in`` (bool), ``distance_m``.
    """
    import shapely
    from scipy.spatial import cKDTree

    from networks.importers.shelby_tables import PROB_ID_OFFSET, probabilities_by_csv_id

    m = probs.magnitude
    rows = []
    ref_nodes, ref_arcs = [], []
    for net in ("water", "gas"):
        pn, pa = probabilities_by_csv_id(probs, tables, net)
        nodes, arcs = tables.nodes[net], tables.arcs[net]
        for nid, p in pn.items():
            rows.append((f"{PREFIX[net]}:{nid}", net, int(nid), "node", float(p),
                         f"INDP 2015 probM{m} {net} node {nid + PROB_ID_OFFSET}", False, 0.0))
            ref_nodes.append((f"{PREFIX[net]}:{nid}", float(nodes.at[nid, "x_m"]),
                              float(nodes.at[nid, "y_m"]), float(p)))
        for aid, p in pa.items():
            s, e = int(arcs.at[aid, "start_node"]), int(arcs.at[aid, "end_node"])
            rows.append((f"{PREFIX[net]}A:{aid}", net, int(aid), "arc", float(p),
                         f"INDP 2015 probM{m} {net} arc ({s + PROB_ID_OFFSET}, "
                         f"{e + PROB_ID_OFFSET})", False, 0.0))
            line = shapely.LineString([(nodes.at[s, "x_m"], nodes.at[s, "y_m"]),
                                       (nodes.at[e, "x_m"], nodes.at[e, "y_m"])])
            rate = -np.log1p(-min(float(p), 1 - 1e-12)) / float(arcs.at[aid, "length_m"])
            ref_arcs.append((f"{PREFIX[net]}A:{aid}", line, rate))
    tree = cKDTree(np.array([(x, y) for _, x, y, _ in ref_nodes]))
    lines = [ln for _, ln, _ in ref_arcs]
    for net in ("power", "telecom"):
        nodes, arcs = tables.nodes[net], tables.arcs[net]
        d, j = tree.query(nodes[["x_m", "y_m"]].to_numpy())
        for (nid, _), dist, k in zip(nodes.iterrows(), d, j, strict=True):
            ref = ref_nodes[int(k)]
            rows.append((f"{PREFIX[net]}:{nid}", net, int(nid), "node", ref[3],
                         f"stand-in: p of the nearest water/gas node {ref[0]}", True,
                         float(dist)))
        for aid, r in arcs.iterrows():
            s, e = int(r["start_node"]), int(r["end_node"])
            mx = (nodes.at[s, "x_m"] + nodes.at[e, "x_m"]) / 2
            my = (nodes.at[s, "y_m"] + nodes.at[e, "y_m"]) / 2
            dists = shapely.distance(shapely.Point(mx, my), lines)
            k = int(np.argmin(dists))
            rid, _, rate = ref_arcs[k]
            p = float(-np.expm1(-rate * float(r["length_m"])))
            rows.append((f"{PREFIX[net]}A:{aid}", net, int(aid), "arc", p,
                         f"stand-in: failure rate {rate * 1000:.4f}/km of the nearest pipe "
                         f"{rid} x {float(r['length_m']) / 1000:.3f} km", True,
                         float(dists[k])))
    out = pd.DataFrame(rows, columns=["asset", "network", "csv_id", "element", "p", "basis",
                                      "stand_in", "distance_m"])
    known = city.asset_network()
    missing = [a for a in out["asset"] if a not in known]
    if missing:
        raise DataFileError(f"asset {missing[0]!r} of the probabilities is not in the city "
                            "(import the same folder)", where=probs.source)
    return out
