"""OSM import of the Helsinki extract: `twin import --osm` against OSMnx/pyrosm alone.

The peer is what a user would do by hand with the same libraries: read the PBF with
pyrosm, build the OSMnx graph, keep the largest strongly connected component, add
speeds and project to UTM. The twin's import does that and maps the result onto the
road schema (two-way dedup, parallel splits, classes, depot), then the GeoPackage.
Goal: the whole import under 30 s on 2 cores.

    python benchmarks/bench_osm_import.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PBF = ROOT / "data" / "osm" / "helsinki_center.osm.pbf"


def peer() -> int:
    import osmnx as ox
    import pyrosm

    osm = pyrosm.OSM(str(PBF))
    nodes, edges = osm.get_network(network_type="driving", nodes=True)
    g = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True)
    g = ox.truncate.largest_component(g, strongly=True)
    g = ox.project_graph(ox.add_edge_speeds(g, fallback=30.0))
    return g.number_of_edges()


def ours_reader() -> int:
    from networks.importers.osm import read_osm_roads

    return read_osm_roads(PBF).graph.number_of_edges()


def ours_cli() -> int:
    import networkx as nx

    from networks.importers import city_from_parts
    from networks.importers.osm import read_osm_roads
    from networks.io import save_city

    roads = read_osm_roads(PBF)
    x, y = next(iter((a["x_m"], a["y_m"]) for _, a in roads.graph.nodes(data=True)))
    power = nx.Graph()
    power.add_node("GS", asset_class="grid_supply", x_m=x, y_m=y, capacity_mw=10.0)
    city = city_from_parts(power=power, roads=roads, crs=roads.crs, name="helsinki")
    with tempfile.TemporaryDirectory() as d:
        save_city(city, Path(d) / "helsinki.gpkg")
    return city.graphs["roads"].number_of_edges()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    peer(), ours_reader()  # warm imports and file caches
    t_peer = best(peer, args.repeat)
    t_read = best(ours_reader, args.repeat)
    t_all = best(ours_cli, args.repeat)
    print(f"Helsinki extract ({PBF.stat().st_size / 1e3:.0f} kB), best of {args.repeat}:")
    print(f"  pyrosm + OSMnx by hand      {t_peer:6.2f} s")
    print(f"  twin read_osm_roads         {t_read:6.2f} s   ({t_read / t_peer:.2f}x the peer)")
    print(f"  twin import to GeoPackage   {t_all:6.2f} s   (goal < 30 s)")


if __name__ == "__main__":
    main()
