"""OpenStreetMap extracts to lifeline networks: the drivable road network, and power.

Reading: **pyrosm** for ``.osm.pbf`` (its Cython protobuf reader is the fast way to
read a local PBF in Python and it builds an OSMnx-compatible graph) and **OSMnx**
for OSM XML (``.osm``, ``.osm.bz2``), which pyrosm cannot read. Both give the same
OSMnx ``MultiDiGraph``; everything after that is OSMnx's own, well-tested graph
work: simplification to edges between intersections, the largest strongly
connected component, speeds from ``maxspeed`` (imputed per highway class where a
way has none) and projection to the local UTM zone. This module only maps that
graph onto the twin's road schema.

Conversion rules (also written into the city's metadata)
--------------------------------------------------------
- Drivable ways: ``highway`` in :data:`DRIVABLE`, no ``access``/``motor_vehicle``
  of ``no`` or ``private`` (pyrosm's ``driving`` filter for PBF; the same rule
  applied here to XML).
- Edges between intersections (OSMnx simplification); one largest strongly
  connected component, so every node can reach every other by car.
- Two-way streets become one twin edge; a one-way street keeps ``oneway: true`` and
  its polyline runs the way traffic goes (the twin drives it only that way).
  Parallel ways between the same intersections (a dual carriageway) are split at
  their mid point, keeping both.
- Class: ``bridge`` when the way is tagged ``bridge`` (any value but ``no``),
  ``tunnel`` when tagged ``tunnel`` (``building_passage`` excepted), else
  ``road_segment``. Merged ways take the first highway class, the least lanes, and
  are a bridge/tunnel if any part is.
- Speed ``speed_kmh``: ``maxspeed`` where tagged (``mph`` converted), else the mean
  ``maxspeed`` of that highway class in the extract, else :data:`CLASS_SPEED_KMH`.
- Lanes: the ``lanes`` tag (per direction for one-way, total otherwise), else
  :data:`CLASS_LANES`.
- One depot: the intersection nearest the network's centroid (crews start there;
  edit the city to place real depots).
- Power (where the extract maps it): ``power=plant``/``generator`` become
  ``power_plant`` (output from ``plant:output:electricity``, else 10 MW),
  ``substation`` a ``substation`` at its centroid (``voltage`` in kV, else 20 kV),
  ``line`` a ``transmission_line``, ``minor_line``/``cable`` a ``feeder_segment``.
  Towers and poles are vertices of their lines, not assets. A line end within
  :data:`SNAP_M` of a substation joins it, otherwise it becomes a
  ``distribution_node``. A substation at the end of a ``line`` (the bulk grid's
  intake) is a ``grid_supply``. OSM maps no customers: the power network carries
  no loads until the city is edited.

Data © OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np

from common.errors import NetworkError
from networks.importers._common import ImportedPart, add_edge_split_parallel
from networks.schema import NetworkKind

ATTRIBUTION = "Data © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"

#: highway values a car may use (OSMnx's and pyrosm's "drive" networks)
DRIVABLE = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "road", "service",
})
_NO_CARS = frozenset({"no", "private"})

#: speed (km/h) of a highway class when the extract tags no maxspeed for it: typical
#: urban limits (Finland's and California's defaults: 50 km/h built-up, 80 outside;
#: 20 km/h on living streets) - a project default, edit per city
CLASS_SPEED_KMH = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 50.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 40.0, "residential": 30.0,
    "living_street": 20.0, "road": 30.0, "service": 20.0,
}
#: lanes of a highway class when untagged (total for two-way streets)
CLASS_LANES = {
    "motorway": 4, "motorway_link": 1, "trunk": 4, "trunk_link": 1, "primary": 2,
    "primary_link": 1, "secondary": 2, "secondary_link": 1, "tertiary": 2,
    "tertiary_link": 1, "unclassified": 2, "residential": 2, "living_street": 1,
    "road": 2, "service": 1,
}
#: a power line's end this close to a substation joins it (m)
SNAP_M = 150.0

_SUFFIXES = (".osm.pbf", ".pbf", ".osm.bz2", ".osm", ".xml", ".osm.xml")


def _kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith((".osm.bz2", ".osm", ".xml")):
        return "xml"
    raise NetworkError(f"not an OpenStreetMap extract (expected one of {', '.join(_SUFFIXES)})",
                       where=str(path))


def _read_pbf_roads(path: Path) -> nx.MultiDiGraph:
    import pyrosm

    osm = pyrosm.OSM(str(path))
    nodes, edges = osm.get_network(network_type="driving", nodes=True)
    if edges is None or len(edges) == 0:
        raise NetworkError("the extract has no drivable roads", where=str(path))
    return osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True,
                        osmnx_compatible=True, simplify=True)


def _read_xml_roads(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    try:
        g = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except ox._errors.InsufficientResponseError:  # OSMnx's word for "no ways in the file"
        raise NetworkError("the extract has no drivable roads", where=str(path)) from None
    drop = [(u, v, k) for u, v, k, a in g.edges(keys=True, data=True)
            if not _drivable(a)]
    g.remove_edges_from(drop)
    g.remove_nodes_from([n for n in list(g) if g.degree(n) == 0])
    if g.number_of_edges() == 0:
        raise NetworkError("the extract has no drivable roads", where=str(path))
    return ox.simplify_graph(g)


def _drivable(a: dict) -> bool:
    hw = _first(a.get("highway"))
    return (hw in DRIVABLE and str(a.get("access", "")) not in _NO_CARS
            and str(a.get("motor_vehicle", "")) not in _NO_CARS)


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def _tagged(value, *, exclude: tuple[str, ...] = ()) -> bool:
    vals = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v not in ("no", "", *exclude) for v in vals)


def _lanes(value, highway: str) -> int:
    vals = value if isinstance(value, list) else [value]
    nums = [int(m.group()) for v in vals if isinstance(v, str | int | float)
            for m in [re.search(r"\d+", str(v))] if m]
    nums = [n for n in nums if n > 0]
    return min(nums) if nums else CLASS_LANES.get(highway, 1)


def read_osm_roads(path: Path | str, *, crs: str | None = None) -> ImportedPart:
    """The drivable road network of an OSM extract as the twin's ``roads`` network.

    Parameters
    ----------
    path : path to ``.osm.pbf``, ``.osm`` or ``.osm.bz2``
    crs : str, optional
        Projected CRS to use; default: the extract's local UTM zone (OSMnx).

    Raises
    ------
    NetworkError
        the file is missing, not an OSM extract, unreadable, or has no drivable roads.
    """
    import osmnx as ox

    path = Path(path)
    where = str(path)
    from common.digest import regular_file_problem

    problem = regular_file_problem(path)
    if problem:
        raise NetworkError(f"OSM extract: {problem}", where=where)
    kind = _kind_of(path)
    try:
        g = _read_pbf_roads(path) if kind == "pbf" else _read_xml_roads(path)
    except NetworkError:
        raise
    except Exception as e:  # noqa: BLE001 - any parser failure is a broken input file
        raise NetworkError(f"cannot read the OSM extract: {type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else 'unreadable'}",
                           where=where) from None
    ways_in = g.number_of_edges()
    g = ox.truncate.largest_component(g, strongly=True)
    for _, _, a in g.edges(data=True):  # merged ways: one class per edge for imputation
        a["highway"] = _first(a.get("highway")) or "road"
    g = ox.add_edge_speeds(g, hwy_speeds=CLASS_SPEED_KMH, fallback=30.0)
    g = ox.project_graph(g, to_crs=crs) if crs else ox.project_graph(g)
    out_crs = g.graph["crs"]
    out_crs = out_crs.to_string() if hasattr(out_crs, "to_string") else str(out_crs)
    roads, counts = _to_twin_roads(g)
    meta = {
        "kind": "OpenStreetMap drivable roads", "source": path.name,
        "reader": f"pyrosm {_version('pyrosm')}" if kind == "pbf"
        else f"osmnx {_version('osmnx')}",
        "osmnx": _version("osmnx"), "attribution": ATTRIBUTION,
        "rules": "networks/importers/osm.py (drivable highway classes, edges between "
                 "intersections, largest strongly connected component, maxspeed or class "
                 "speed, one-way by polyline direction, one depot at the centre)",
        "edges_before_component": int(ways_in), **counts,
    }
    return ImportedPart(NetworkKind.ROADS, roads, out_crs, (), meta)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _to_twin_roads(g: nx.MultiDiGraph) -> tuple[nx.Graph, dict]:
    """Map a projected OSMnx graph onto the road schema (see the module's rules)."""
    out = nx.Graph()
    ids = {n: f"R-OSM-{n}" for n in g.nodes}
    for n, a in g.nodes(data=True):
        out.add_node(ids[n], asset_class="intersection", x_m=float(a["x"]), y_m=float(a["y"]))
    xy = np.array([(a["x"], a["y"]) for _, a in g.nodes(data=True)])
    centre = list(g.nodes)[int(np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T)))]
    out.nodes[ids[centre]]["asset_class"] = "depot"
    seen: set = set()
    split: list[str] = []
    n_oneway = 0
    for u, v, a in g.edges(data=True):
        oneway = bool(a.get("oneway", False))
        geom = a.get("geometry")
        ends = [(g.nodes[u]["x"], g.nodes[u]["y"]), (g.nodes[v]["x"], g.nodes[v]["y"])]
        coords = (np.asarray(geom.coords, dtype=float)[:, :2] if geom is not None
                  else np.array(ends, dtype=float))
        if not oneway:
            # OSMnx stores a two-way street as u->v and v->u with reversed geometry
            key = (frozenset((u, v)), round(float(a.get("length", 0.0)), 1),
                   tuple(np.round(coords[0 if u < v else -1], 1)))
            if key in seen:
                continue
            seen.add(key)
        hw = a.get("highway") or "road"
        cls = ("bridge" if _tagged(a.get("bridge")) else
               "tunnel" if _tagged(a.get("tunnel"), exclude=("building_passage",)) else
               "road_segment")
        # OSMnx's great-circle length, not the projected one (UTM distorts up to ~0.1 %)
        length = float(a.get("length") or np.hypot(*np.diff(coords, axis=0).T).sum())
        attrs = {"asset_class": cls, "length_m": max(length, 0.1),
                 "speed_kmh": float(max(a.get("speed_kph", 30.0), 1.0)),
                 "lanes": _lanes(a.get("lanes"), hw), "oneway": oneway,
                 "coords": coords, "highway": str(hw)}
        name = _first(a.get("name"))
        if isinstance(name, str):
            attrs["name"] = name
        n_oneway += oneway
        eid = f"R-OSM-E{len(seen) + n_oneway:06d}-{_first(a.get('osmid', 0))}"
        add_edge_split_parallel(out, ids[u], ids[v], eid, attrs,
                                {"asset_class": "intersection"}, split)
    classes: dict[str, int] = {}
    for _, _, a in out.edges(data=True):
        classes[a["asset_class"]] = classes.get(a["asset_class"], 0) + 1
    return out, {"nodes": out.number_of_nodes(), "edges": out.number_of_edges(),
                 "oneway_edges": int(n_oneway), "classes": classes,
                 "split_parallel": len(split),
                 "length_km": round(sum(a["length_m"] for *_, a in out.edges(data=True)) / 1e3,
                                    3)}


# --- power -----------------------------------------------------------------------------------

def _read_power_features(path: Path, kind: str):
    """Power features (GeoDataFrame in lon/lat, column ``power``), or None when none."""
    wanted = ["line", "minor_line", "cable", "substation", "plant", "generator"]
    if kind == "pbf":
        import pyrosm

        gdf = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
            custom_filter={"power": wanted}, filter_type="keep", keep_nodes=True,
            keep_ways=True, keep_relations=False)
    else:
        import osmnx as ox

        try:
            gdf = ox.features_from_xml(path, tags={"power": wanted})
        except Exception:  # noqa: BLE001 - osmnx raises when nothing matches
            gdf = None
    if gdf is None or len(gdf) == 0 or "power" not in gdf:
        return None
    return gdf[gdf["power"].isin(wanted)].reset_index(drop=True)


def _kv(value, default: float) -> float:
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", str(value or ""))]
    return max(nums) / 1000.0 if nums else default


def _mw(value, default: float) -> float:
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(k|M|G)?W", str(value or ""))
    if not m:
        return default
    return float(m.group(1)) * {"k": 1e-3, None: 1e-6, "M": 1.0, "G": 1e3}[m.group(2)]


def read_osm_power(path: Path | str, *, crs: str) -> ImportedPart | None:
    """The power network an OSM extract maps (None when it maps no lines or stations)."""
    path = Path(path)
    gdf = _read_power_features(path, _kind_of(path))
    if gdf is None:
        return None
    gdf = gdf.set_crs("EPSG:4326", allow_override=True).to_crs(crs)
    g = nx.Graph()
    stations = gdf[gdf["power"].isin(["substation", "plant", "generator"])]
    lines = gdf[gdf["power"].isin(["line", "minor_line", "cable"])]
    st_xy = []
    st_id = []
    for i, row in stations.iterrows():
        c = row.geometry.centroid
        sid = f"P-OSM-S{i:05d}"
        if row["power"] == "substation":
            g.add_node(sid, asset_class="substation", x_m=float(c.x), y_m=float(c.y),
                       voltage_kv=_kv(row.get("voltage"), 20.0))
        else:
            g.add_node(sid, asset_class="power_plant", x_m=float(c.x), y_m=float(c.y),
                       capacity_mw=_mw(row.get("plant:output:electricity"), 10.0))
        st_xy.append((c.x, c.y))
        st_id.append(sid)
    from scipy.spatial import cKDTree

    tree = cKDTree(np.array(st_xy)) if st_xy else None
    bulk_ends: set[str] = set()
    split: list[str] = []
    for i, row in lines.iterrows():
        geom = row.geometry
        if geom is None or geom.geom_type != "LineString" or geom.length <= 0:
            continue
        coords = np.asarray(geom.coords, dtype=float)[:, :2]
        ends = []
        for x, y in (coords[0], coords[-1]):
            d, k = (tree.query((x, y)) if tree is not None else (math.inf, -1))
            if d <= SNAP_M:
                ends.append(st_id[k])
            else:
                nid = f"P-OSM-N{len(g):05d}"
                g.add_node(nid, asset_class="distribution_node", x_m=float(x), y_m=float(y))
                ends.append(nid)
        if ends[0] == ends[1]:
            continue
        transmission = row["power"] == "line"
        attrs = {"asset_class": "transmission_line" if transmission else "feeder_segment",
                 "length_m": float(geom.length), "coords": coords,
                 "overhead": row["power"] != "cable"}
        if transmission:
            attrs["voltage_kv"] = _kv(row.get("voltage"), 110.0)
            bulk_ends.update(e for e in ends if g.nodes[e]["asset_class"] == "substation")
        add_edge_split_parallel(g, ends[0], ends[1], f"P-OSM-L{i:05d}", attrs,
                                {"asset_class": "distribution_node"}, split)
    for sid in bulk_ends:  # the bulk grid's intake into the city
        a = g.nodes[sid]
        g.nodes[sid].clear()
        g.nodes[sid].update(asset_class="grid_supply", x_m=a["x_m"], y_m=a["y_m"],
                            capacity_mw=100.0)
    if g.number_of_nodes() == 0:
        return None
    counts = {c: sum(1 for _, a in g.nodes(data=True) if a["asset_class"] == c)
              for c in ("power_plant", "grid_supply", "substation", "distribution_node")}
    meta = {"kind": "OpenStreetMap power", "source": path.name, "attribution": ATTRIBUTION,
            "rules": "networks/importers/osm.py (plants, substations at centroids, lines; "
                     f"ends within {SNAP_M:g} m join a substation; a substation at a "
                     "power=line end is a grid_supply of 100 MW [assumption]; no loads)",
            "nodes": g.number_of_nodes(), "edges": g.number_of_edges(), **counts}
    return ImportedPart(NetworkKind.POWER, g, crs, (), meta)
