"""Build ``jamestown.gpkg``: a small synthetic town on the real Left Hand Creek DEM.

The terrain is real (SRTMGL3, ``data/dem/SRTMGL3_40.09_-105.55_40.21_-105.35.asc``,
reprojected to UTM 13N like the flood hazard does); every asset is invented. The
town is laid along the James Creek valley floor at Jamestown, Colorado (the
floor is found on the DEM, so the low-lying assets really lie in the creek's
path): a main street on the floor, two side streets up the slopes, a depot and a
grid supply on high ground, a substation and a pump station on the floor, a
treatment plant and a tank uphill, feeders and mains along the street.

Run from the repository root: ``.venv/bin/python data/cities/lefthand_creek/make_city.py``.
Deterministic (no randomness); rerunning rewrites the same city.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from hazards.flood.dem import load_dem
from networks.interdependencies import proximity_dependencies
from networks.io import save_city
from networks.model import Dependency, LifelineNetwork, PopulationBlocks
from networks.schema import DependencyKind, NetworkKind

ROOT = Path(__file__).resolve().parents[3]
DEM = ROOT / "data" / "dem" / "SRTMGL3_40.09_-105.55_40.21_-105.35.asc"
OUT = Path(__file__).resolve().parent / "jamestown.gpkg"
CRS = "EPSG:32613"
#: Jamestown, CO (40.1158 N, 105.3886 W) in UTM 13N, and the valley's columns
CENTRE_ROW, COL0, COL1 = 136, 168, 196


def main() -> None:
    g = load_dem(DEM, target_crs=CRS)
    z = g.elevation_m
    a, _, c, _, e, f = g.transform

    def xy(r: float, col: float) -> tuple[float, float]:
        return c + a * (col + 0.5), f + e * (r + 0.5)

    # the valley floor: the lowest cell of each column within 12 rows of the town
    floor = []
    for col in range(COL0, COL1 + 1, 2):
        rows = np.arange(CENTRE_ROW - 12, CENTRE_ROW + 13)
        r = int(rows[np.nanargmin(z[rows, col])])
        floor.append((r, col))
    roads = nx.Graph()
    main_ids = []
    for k, (r, col) in enumerate(floor):
        x, y = xy(r, col)
        nid = f"R-MAIN-{k:02d}"
        roads.add_node(nid, asset_class="intersection", x_m=x, y_m=y, customers=20.0)
        main_ids.append(nid)
    for u, v in zip(main_ids, main_ids[1:], strict=False):
        roads.add_edge(u, v, id=f"R-E-{u[-2:]}-{v[-2:]}", asset_class="road_segment",
                       length_m=float(np.hypot(roads.nodes[u]["x_m"] - roads.nodes[v]["x_m"],
                                               roads.nodes[u]["y_m"] - roads.nodes[v]["y_m"])),
                       speed_kmh=40.0, lanes=2)
    # two side streets climbing north (to the depot) and south, 6 cells each
    up = []
    for side, step, base in (("N", -1, 4), ("S", 1, 10)):
        r0, col = floor[base]
        prev = main_ids[base]
        for k in range(1, 7):
            r = r0 + step * k
            x, y = xy(r, col)
            nid = f"R-{side}-{k}"
            cls = "depot" if (side == "N" and k == 6) else "intersection"
            roads.add_node(nid, asset_class=cls, x_m=x, y_m=y, customers=5.0)
            roads.add_edge(prev, nid, id=f"R-E-{side}{k}", asset_class="road_segment",
                           length_m=float(abs(e)), speed_kmh=30.0, lanes=1)
            prev = nid
            up.append((side, k, r, col))
    # power: a grid supply up the north street, a substation on the valley floor,
    # feeders along the main street to five loads
    p = nx.Graph()
    gx, gy = xy(floor[4][0] - 6, floor[4][1] + 1)
    p.add_node("P-GS-1", asset_class="grid_supply", x_m=gx, y_m=gy, capacity_mw=20.0)
    sr, scol = floor[7]
    sx, sy = xy(sr, scol)
    p.add_node("P-SUB-1", asset_class="substation", x_m=sx, y_m=sy + 20.0, voltage_kv=69.0,
               capacity_mva=20.0)
    p.add_edge("P-GS-1", "P-SUB-1", id="P-TL-1", asset_class="transmission_line",
               length_m=float(np.hypot(gx - sx, gy - sy)), voltage_kv=69.0, overhead=True)
    loads = []
    prev = "P-SUB-1"
    for k, idx in enumerate((1, 4, 7, 10, 13)):
        r, col = floor[idx]
        x, y = xy(r, col)
        nid = f"P-LD-{k + 1}"
        p.add_node(nid, asset_class="power_load", x_m=x + 30.0, y_m=y + 30.0, demand_mw=1.5,
                   customers=60.0, critical=(k == 2))
        loads.append(nid)
    # radial feeders from the substation along the street, both ways
    for k, (u, v) in enumerate((("P-SUB-1", "P-LD-3"), ("P-LD-3", "P-LD-2"), ("P-LD-2", "P-LD-1"),
                                ("P-LD-3", "P-LD-4"), ("P-LD-4", "P-LD-5"))):
        p.add_edge(u, v, id=f"P-F-{k + 1}", asset_class="feeder_segment",
                   length_m=max(float(np.hypot(p.nodes[u]["x_m"] - p.nodes[v]["x_m"],
                                               p.nodes[u]["y_m"] - p.nodes[v]["y_m"])), 10.0),
                   overhead=True)
    # water: treatment plant uphill on the south street, pump on the floor, junctions
    w = nx.Graph()
    tr_, tcol = up[-1][2], up[-1][3]
    tx, ty = xy(tr_, tcol)
    w.add_node("W-WTP-1", asset_class="treatment_plant", x_m=tx, y_m=ty, capacity_m3h=300.0)
    pr, pcol = floor[9]
    px, py = xy(pr, pcol)
    w.add_node("W-PS-1", asset_class="pump_station", x_m=px, y_m=py - 20.0, capacity_m3h=300.0,
               backup_h=0.0)
    w.add_edge("W-WTP-1", "W-PS-1", id="W-P-1", asset_class="pipe",
               length_m=float(np.hypot(tx - px, ty - py)), diameter_m=0.3)
    juncs = []
    for k, idx in enumerate((1, 4, 7, 10, 13)):
        r, col = floor[idx]
        x, y = xy(r, col)
        nid = f"W-J-{k + 1}"
        w.add_node(nid, asset_class="junction", x_m=x - 30.0, y_m=y - 30.0, demand_m3h=40.0,
                   customers=60.0, critical=(k == 2))
        juncs.append(nid)
    w.add_edge("W-PS-1", "W-J-4", id="W-P-2", asset_class="pipe", length_m=100.0,
               diameter_m=0.25)
    for k in range(4):
        u, v = juncs[k], juncs[k + 1]
        w.add_edge(u, v, id=f"W-P-{k + 3}", asset_class="pipe",
                   length_m=float(np.hypot(w.nodes[u]["x_m"] - w.nodes[v]["x_m"],
                                           w.nodes[u]["y_m"] - w.nodes[v]["y_m"])),
                   diameter_m=0.2)
    deps = [Dependency("W-PS-1", "P-LD-4", DependencyKind.POWER_SUPPLY),
            Dependency("W-WTP-1", "P-LD-4", DependencyKind.POWER_SUPPLY)]
    pop = PopulationBlocks(
        ids=np.array([f"B{k + 1}" for k in range(5)], dtype=object),
        x_m=np.array([p.nodes[n]["x_m"] for n in loads]),
        y_m=np.array([p.nodes[n]["y_m"] for n in loads]),
        population=np.full(5, 150.0),
        nodes={"power": np.array(loads, dtype=object), "water": np.array(juncs, dtype=object),
               "roads": np.array([main_ids[i] for i in (1, 4, 7, 10, 13)], dtype=object)})
    graphs = {NetworkKind.POWER: p, NetworkKind.WATER: w, NetworkKind.ROADS: roads}
    net = LifelineNetwork("jamestown (synthetic assets on real terrain)", graphs,
                          proximity_dependencies(graphs, tuple(deps)), CRS, pop, None,
                          {"generator": "data/cities/lefthand_creek/make_city.py",
                           "terrain": DEM.name, "synthetic_assets": True})
    save_city(net, OUT)
    lo = min(z[r, col] for r, col in floor)
    print(f"wrote {OUT} ({net.n_components()} components; valley floor "
          f"{lo:.0f}-{max(z[r, col] for r, col in floor):.0f} m)")


if __name__ == "__main__":
    main()
