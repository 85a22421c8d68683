"""Small cities built in code for unit tests (``tiny_city``)."""

from __future__ import annotations

import networkx as nx
import numpy as np

from networks.model import Dependency, LifelineNetwork, PopulationBlocks
from networks.schema import DependencyKind, NetworkKind


def tiny_city(*, cooling: bool = True, tank: bool = True) -> LifelineNetwork:
    """A 5x5 road grid (100 m spacing) with a small power and water system.

    power:  GS (grid supply, 10 MW) - L1 - SUB - feeder F1..F3 - loads LA, LB, LC
            PP (plant, 5 MW, cooled by water junction J1) - L2 - SUB
    water:  TP (treatment, powered by LB) - P1 - PS (pump, powered by LC) - J1..J3 (loop)
            T1 tank feeding J3
    roads:  5x5 grid, depot at R0_0
    """
    roads = nx.Graph()
    for i in range(5):
        for j in range(5):
            cls = "depot" if (i, j) == (0, 0) else "intersection"
            roads.add_node(f"R{i}_{j}", asset_class=cls, x_m=100.0 * i, y_m=100.0 * j,
                           customers=10.0)
    for i in range(5):
        for j in range(5):
            for di, dj in ((1, 0), (0, 1)):
                a, b = (i, j), (i + di, j + dj)
                if b[0] < 5 and b[1] < 5:
                    roads.add_edge(f"R{a[0]}_{a[1]}", f"R{b[0]}_{b[1]}",
                                   id=f"RE{a[0]}{a[1]}-{b[0]}{b[1]}", asset_class="road_segment",
                                   length_m=100.0, speed_kmh=30.0, lanes=2)
    p = nx.Graph()
    p.add_node("GS", asset_class="grid_supply", x_m=0.0, y_m=400.0, capacity_mw=10.0)
    p.add_node("PP", asset_class="power_plant", x_m=400.0, y_m=400.0, capacity_mw=5.0)
    p.add_node("SUB", asset_class="substation", x_m=200.0, y_m=300.0, voltage_kv=110.0,
               capacity_mva=20.0)
    p.add_node("D1", asset_class="distribution_node", x_m=200.0, y_m=200.0)
    for k, (nid, x, y) in enumerate((("LA", 100.0, 100.0), ("LB", 200.0, 100.0),
                                     ("LC", 300.0, 100.0))):
        p.add_node(nid, asset_class="power_load", x_m=x, y_m=y, demand_mw=1.0,
                   customers=100.0 * (k + 1), critical=(nid == "LA"))
    p.add_edge("GS", "SUB", id="L1", asset_class="transmission_line", length_m=300.0,
               voltage_kv=110.0, overhead=True)
    p.add_edge("PP", "SUB", id="L2", asset_class="transmission_line", length_m=300.0,
               voltage_kv=110.0, overhead=True)
    p.add_edge("SUB", "D1", id="F1", asset_class="feeder_segment", length_m=100.0, overhead=True)
    p.add_edge("D1", "LA", id="F2", asset_class="feeder_segment", length_m=150.0, overhead=True)
    p.add_edge("D1", "LB", id="F3", asset_class="feeder_segment", length_m=100.0, overhead=True)
    p.add_edge("D1", "LC", id="F4", asset_class="feeder_segment", length_m=150.0, overhead=False)
    w = nx.Graph()
    w.add_node("TP", asset_class="treatment_plant", x_m=0.0, y_m=0.0, capacity_m3h=500.0)
    w.add_node("PS", asset_class="pump_station", x_m=100.0, y_m=0.0, capacity_m3h=500.0,
               backup_h=0.0)
    for k, (nid, x, y) in enumerate((("J1", 200.0, 0.0), ("J2", 300.0, 0.0),
                                     ("J3", 300.0, 100.0))):
        w.add_node(nid, asset_class="junction", x_m=x, y_m=y, demand_m3h=50.0,
                   customers=100.0 * (k + 1), critical=False)
    w.add_edge("TP", "PS", id="P1", asset_class="pipe", length_m=100.0, diameter_m=0.5)
    w.add_edge("PS", "J1", id="P2", asset_class="pipe", length_m=100.0, diameter_m=0.3)
    w.add_edge("J1", "J2", id="P3", asset_class="pipe", length_m=100.0, diameter_m=0.2)
    w.add_edge("J2", "J3", id="P4", asset_class="pipe", length_m=100.0, diameter_m=0.2)
    w.add_edge("J1", "J3", id="P5", asset_class="pipe", length_m=150.0, diameter_m=0.2)
    if tank:
        w.add_node("T1", asset_class="tank", x_m=400.0, y_m=100.0, volume_m3=600.0,
                   storage_h=6.0)
        w.add_edge("T1", "J3", id="P6", asset_class="pipe", length_m=100.0, diameter_m=0.3)
    deps = [Dependency("TP", "LB", DependencyKind.POWER_SUPPLY),
            Dependency("PS", "LC", DependencyKind.POWER_SUPPLY)]
    if cooling:
        deps.append(Dependency("PP", "J1", DependencyKind.COOLING_WATER))
    pop = PopulationBlocks(
        ids=np.array(["B1", "B2", "B3"], dtype=object), x_m=np.array([100.0, 200.0, 300.0]),
        y_m=np.array([50.0, 50.0, 50.0]), population=np.array([100.0, 200.0, 300.0]),
        nodes={"power": np.array(["LA", "LB", "LC"], dtype=object),
               "water": np.array(["J1", "J2", "J3"], dtype=object),
               "roads": np.array(["R1_0", "R2_0", "R3_0"], dtype=object)})
    from networks.interdependencies import proximity_dependencies

    graphs = {NetworkKind.POWER: p, NetworkKind.WATER: w, NetworkKind.ROADS: roads}
    return LifelineNetwork("tiny", graphs, proximity_dependencies(graphs, tuple(deps)),
                           "EPSG:32649", pop, None, {"generator": "tests.fixtures.tiny_city"})


def five_kind_city() -> LifelineNetwork:
    """:func:`tiny_city` with a gas and a telecom network (every built-in kind).

    gas:     GG (gate station) - GM1 - RG (regulator) - GM2 - GN1 - GM3 - GN2
             GG2 (second gate station) - GM4 - GN3; the plant PP burns gas from GN3
    telecom: CO (central office, 8 h batteries) - FL1 - TN1 - FL2 - TN2 - FL3 - SP (splice)
             - FL4 - TN3; TN1 and TN2 have 4 h batteries, TN3 none; every telecom node
             and CO is powered by its nearest power node (proximity rule)
    """
    import dataclasses

    from networks.interdependencies import proximity_dependencies

    base = tiny_city()
    g = nx.Graph()
    g.add_node("GG", asset_class="gate_station", x_m=0.0, y_m=200.0, capacity_m3h=1000.0)
    g.add_node("RG", asset_class="regulator_station", x_m=100.0, y_m=200.0)
    g.add_node("GG2", asset_class="gate_station", x_m=400.0, y_m=300.0, capacity_m3h=1000.0)
    for k, (nid, x, y) in enumerate((("GN1", 200.0, 200.0), ("GN2", 300.0, 200.0),
                                     ("GN3", 400.0, 200.0))):
        g.add_node(nid, asset_class="gas_node", x_m=x, y_m=y, demand_m3h=10.0,
                   customers=100.0 * (k + 1))
    for eid, u, v in (("GM1", "GG", "RG"), ("GM2", "RG", "GN1"), ("GM3", "GN1", "GN2"),
                      ("GM4", "GG2", "GN3")):
        a, b = g.nodes[u], g.nodes[v]
        g.add_edge(u, v, id=eid, asset_class="gas_main", diameter_m=0.2,
                   length_m=float(np.hypot(a["x_m"] - b["x_m"], a["y_m"] - b["y_m"])))
    t = nx.Graph()
    t.add_node("CO", asset_class="central_office", x_m=0.0, y_m=300.0, backup_h=8.0)
    t.add_node("SP", asset_class="splice", x_m=300.0, y_m=300.0)
    for k, (nid, x, y, bh) in enumerate((("TN1", 100.0, 300.0, 4.0),
                                         ("TN2", 200.0, 300.0, 4.0),
                                         ("TN3", 300.0, 350.0, 0.0))):
        t.add_node(nid, asset_class="telecom_node", x_m=x, y_m=y, customers=100.0 * (k + 1),
                   backup_h=bh)
    for eid, u, v in (("FL1", "CO", "TN1"), ("FL2", "TN1", "TN2"), ("FL3", "TN2", "SP"),
                      ("FL4", "SP", "TN3")):
        a, b = t.nodes[u], t.nodes[v]
        t.add_edge(u, v, id=eid, asset_class="fibre_link", overhead=True,
                   length_m=float(np.hypot(a["x_m"] - b["x_m"], a["y_m"] - b["y_m"])))
    graphs = {**base.graphs, NetworkKind.GAS: g, NetworkKind.TELECOM: t}
    deps = (*[d for d in base.dependencies if d.kind != DependencyKind.ROAD_ACCESS],
            Dependency("PP", "GN3", DependencyKind.GAS_SUPPLY))
    pop = dataclasses.replace(base.population, nodes={
        **base.population.nodes,
        "gas": np.array(["GN1", "GN2", "GN3"], dtype=object),
        "telecom": np.array(["TN1", "TN2", "TN3"], dtype=object)})
    return dataclasses.replace(base, name="five kinds", graphs=graphs,
                               dependencies=proximity_dependencies(graphs, deps),
                               population=pop, meta={"generator": "tests.fixtures.five_kind"})
