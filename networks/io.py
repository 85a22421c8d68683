"""Read and write a city's lifeline networks as vector files (geopandas).

A city is a **GeoPackage** with these layers, or a **directory** holding one
GeoJSON (``.geojson``) or Shapefile (``.shp``) per layer plus ``dependencies.csv``:

=================  ==========  =====================================================
layer              geometry    columns (besides the class fields of networks.schema)
=================  ==========  =====================================================
power_nodes        Point       id, asset_class
power_edges        LineString  id, asset_class, from_id, to_id
water_nodes        Point       id, asset_class
water_edges        LineString  id, asset_class, from_id, to_id
road_nodes         Point       id, asset_class
road_edges         LineString  id, asset_class, from_id, to_id
gas_nodes          Point       id, asset_class                    (optional)
gas_edges          LineString  id, asset_class, from_id, to_id    (optional)
telecom_nodes      Point       id, asset_class                    (optional)
telecom_edges      LineString  id, asset_class, from_id, to_id    (optional)
dependencies       (none)      dependent, supplier, kind   (optional)
population         Point       id, population [, power_node, water_node, road_node,
                               gas_node, telecom_node]
=================  ==========  =====================================================

The layers of each network kind are named in :data:`networks.kinds.KINDS`; the
built-in kinds' layers (power, water, roads) are in every file, the others only in
cities that have them. An empty layer is a kind the city does not have. A block's
node of a kind, when its column is absent, is the nearest consumer node of that
kind; an empty cell means the kind does not serve the block.

Any projected CRS works; a geographic CRS (lon/lat) is reprojected to its UTM
zone; a layer without a CRS is an error. Shapefile's 10-character column names
are matched to the schema's names by prefix; the capacities, whose truncations
collide, are spelled ``cap_mw``, ``cap_mva`` and ``cap_m3h`` there. ``length_m`` of an edge is taken
from its geometry when the column is absent. A DEM may sit beside the file as
``<stem>_dem.tif``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from common.errors import NetworkError
from networks.interdependencies import nearest_of_classes, proximity_dependencies
from networks.kinds import KINDS, kind_spec
from networks.model import Dependency, LifelineNetwork, PopulationBlocks, Terrain
from networks.schema import CLASS_SPECS, AssetClass, DependencyKind, NetworkKind
from networks.validate import validate_network

LAYERS = {k.kind: (k.node_layer, k.edge_layer) for k in KINDS}
#: kinds whose layers every city file has (a file from before gas and telecom, too)
IN_EVERY_FILE = (NetworkKind.POWER, NetworkKind.WATER, NetworkKind.ROADS)
_ALL_FIELDS = sorted({f.name for s in CLASS_SPECS.values() for f in s.fields}
                     | {"asset_class", "from_id", "to_id", "population", "dependent",
                        "supplier"} | {k.block_column for k in KINDS})


def _layer_sources(path: Path) -> dict[str, Path | tuple[Path, str]]:
    """Map of layer name to where it is stored (file, or (gpkg, layer))."""
    import pyogrio

    if path.is_dir():
        out: dict[str, Path | tuple[Path, str]] = {}
        for f in sorted(path.iterdir()):
            if f.suffix.lower() in (".geojson", ".json", ".shp", ".gpkg", ".csv"):
                out.setdefault(f.stem, f)
        return out
    try:
        names = [row[0] for row in pyogrio.list_layers(path)]
    except Exception as e:  # noqa: BLE001 - GDAL raises many types for a bad file
        raise NetworkError(f"cannot open as a GeoPackage/vector file: {e}", where=str(path)) \
            from None
    return {n: (path, n) for n in names}


def _read(src, name: str):
    import geopandas as gpd

    try:
        if isinstance(src, tuple):
            return gpd.read_file(src[0], layer=src[1])
        if src.suffix.lower() == ".csv":
            return pd.read_csv(src)
        return gpd.read_file(src)
    except Exception as e:  # noqa: BLE001
        raise NetworkError(f"cannot read layer '{name}': {e}", where=str(src)) from None


#: short names for Shapefile columns whose 10-character truncations would collide
SHAPEFILE_ALIASES = {"cap_mw": "capacity_mw", "cap_mva": "capacity_mva", "cap_m3h": "capacity_m3h"}


def _fix_shapefile_names(df: pd.DataFrame) -> pd.DataFrame:
    ren = {c: SHAPEFILE_ALIASES[c] for c in df.columns if c in SHAPEFILE_ALIASES}
    for c in df.columns:
        if len(c) == 10 and c not in _ALL_FIELDS:
            match = [f for f in _ALL_FIELDS if f.startswith(c)]
            if len(match) == 1:
                ren[c] = match[0]
    return df.rename(columns=ren)


def _target_crs(gdfs, where: str):
    crs = None
    for name, g in gdfs.items():
        if g.crs is None:
            raise NetworkError(f"layer '{name}' has no CRS; set one (e.g. EPSG:32649)",
                               where=where)
        if crs is None:
            crs = g.crs if g.crs.is_projected else g.estimate_utm_crs()
    return crs


def _value(v, kind: type, where: str, field_name: str):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    try:
        if kind is str:
            return str(v) if str(v) else None
        if kind is bool:
            if isinstance(v, str):
                low = v.strip().lower()
                if low in ("true", "1", "yes"):
                    return True
                if low in ("false", "0", "no"):
                    return False
                raise ValueError
            if float(v) not in (0.0, 1.0):
                raise ValueError
            return bool(v)
        if kind is int:
            f = float(v)
            if f != int(f):
                raise ValueError
            return int(f)
        return float(v)
    except (TypeError, ValueError):
        raise NetworkError(f"field '{field_name}' must be {kind.__name__}, got {v!r}",
                           where=where) from None


def load_city(path: Path | str, *, dem: Path | str | None = None,
              auto_dependencies: bool = True) -> LifelineNetwork:
    """Load a city from a GeoPackage or a directory of GeoJSON/Shapefile layers.

    Raises :class:`NetworkError` naming the file, layer, asset and field on any problem.
    """
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise NetworkError("city file not found", where=str(path))
    where = str(path)
    sources = _layer_sources(path)
    needed = [n for k in IN_EVERY_FILE for n in LAYERS[k]]
    missing = [n for n in needed if n not in sources]
    if missing:
        raise NetworkError(f"missing layer(s) {missing} (found: {sorted(sources)})", where=where)
    kinds = [k for k, pair in LAYERS.items() if k in IN_EVERY_FILE or pair[0] in sources]
    for k in kinds:
        if LAYERS[k][0] in sources and LAYERS[k][1] not in sources:
            raise NetworkError(f"layer '{LAYERS[k][0]}' has no '{LAYERS[k][1]}' beside it",
                               where=where)
    gdfs = {n: _fix_shapefile_names(_read(sources[n], n)) for k in kinds for n in LAYERS[k]}
    if "population" in sources:
        gdfs["population"] = _fix_shapefile_names(_read(sources["population"], "population"))
    crs = _target_crs({k: v for k, v in gdfs.items() if isinstance(v, gpd.GeoDataFrame)}, where)
    gdfs = {k: (v.to_crs(crs) if isinstance(v, gpd.GeoDataFrame) else v)
            for k, v in gdfs.items()}

    graphs: dict[NetworkKind, nx.Graph] = {}
    for kind in kinds:
        nl, el = LAYERS[kind]
        g = nx.Graph()
        nodes = gdfs[nl]
        for col in ("id", "asset_class"):
            if len(nodes) and col not in nodes.columns:  # an empty layer is an absent network
                raise NetworkError(f"layer '{nl}' has no '{col}' column", where=where)
        for row in nodes.itertuples(index=False):
            r = row._asdict()
            aid = str(r["id"])
            w = f"{where}: layer '{nl}', asset '{aid}'"
            geom = r.get("geometry")
            if geom is None or geom.is_empty or geom.geom_type != "Point":
                raise NetworkError("node geometry must be a Point", where=w)
            if aid in g:
                raise NetworkError("duplicate asset id", where=w)
            attrs = _attrs(r, w)
            attrs["x_m"], attrs["y_m"] = float(geom.x), float(geom.y)
            g.add_node(aid, **attrs)
        edges = gdfs[el]
        for col in ("id", "asset_class", "from_id", "to_id"):
            if len(edges) and col not in edges.columns:
                raise NetworkError(f"layer '{el}' has no '{col}' column", where=where)
        for row in edges.itertuples(index=False):
            r = row._asdict()
            eid = str(r["id"])
            w = f"{where}: layer '{el}', asset '{eid}'"
            u, v = str(r["from_id"]), str(r["to_id"])
            for end in (u, v):
                if end not in g:
                    raise NetworkError(f"dangling edge: endpoint '{end}' is not a node of "
                                       f"layer '{nl}'", where=w)
            if g.has_edge(u, v):
                raise NetworkError(f"parallel edge: '{u}'-'{v}' already joined by "
                                   f"'{g.edges[u, v]['id']}'", where=w)
            attrs = _attrs(r, w)
            geom = r.get("geometry")
            if geom is not None and not geom.is_empty:
                if geom.geom_type != "LineString":
                    raise NetworkError("edge geometry must be a LineString", where=w)
                attrs["coords"] = np.asarray(geom.coords, dtype=float)[:, :2]
                if attrs.get("length_m") is None:
                    attrs["length_m"] = float(geom.length)
            elif attrs.get("length_m") is None:
                a, b = g.nodes[u], g.nodes[v]
                attrs["length_m"] = float(np.hypot(a["x_m"] - b["x_m"], a["y_m"] - b["y_m"]))
            attrs["id"] = eid
            g.add_edge(u, v, **attrs)
        graphs[kind] = g

    deps: list[Dependency] = []
    if "dependencies" in sources:
        df = _read(sources["dependencies"], "dependencies")
        for col in ("dependent", "supplier", "kind"):
            if col not in df.columns:
                raise NetworkError(f"layer 'dependencies' has no '{col}' column", where=where)
        for i, r in enumerate(df[["dependent", "supplier", "kind"]].itertuples(index=False)):
            try:
                kind = DependencyKind(str(r.kind))
            except ValueError:
                raise NetworkError(
                    f"unknown dependency kind {r.kind!r} (known: "
                    f"{', '.join(k.value for k in DependencyKind)})",
                    where=f"{where}: layer 'dependencies', row {i + 1}") from None
            deps.append(Dependency(str(r.dependent), str(r.supplier), kind))
    # validate what was given before adding proximity links (errors point at user rows)
    dep_tuple = tuple(deps)
    net = LifelineNetwork(path.stem, graphs, dep_tuple, crs.to_string())
    _check_dep_ids(net, where)
    if auto_dependencies:
        dep_tuple = proximity_dependencies(graphs, dep_tuple)
    population = _population(gdfs.get("population"), graphs, where)
    terrain = None
    dem_path = Path(dem) if dem is not None else path.with_name(path.stem + "_dem.tif")
    if dem is not None or dem_path.is_file():
        terrain = read_terrain(dem_path, crs=crs.to_string())
    meta: dict = {}
    if "meta" in sources:  # provenance written by save_city (generator, seed, anchor, ...)
        m = _read(sources["meta"], "meta")
        for k, v in zip(m.get("key", []), m.get("value", []), strict=True):
            try:
                meta[str(k)] = json.loads(v)
            except (TypeError, ValueError):
                meta[str(k)] = v
    meta["source"] = str(path)
    net = LifelineNetwork(path.stem, graphs, dep_tuple, crs.to_string(), population, terrain,
                          meta)
    validate_network(net, source=where)
    return net


def _check_dep_ids(net: LifelineNetwork, where: str) -> None:
    known = net.asset_network()
    for d in net.dependencies:
        for role, aid in (("dependent", d.dependent), ("supplier", d.supplier)):
            if aid not in known:
                raise NetworkError(f"{role} asset '{aid}' does not exist",
                                   where=f"{where}: dependency {d.dependent} -> {d.supplier}")


def _attrs(r: dict, where: str) -> dict:
    try:
        ac = AssetClass(str(r["asset_class"]))
    except ValueError:
        raise NetworkError(f"unknown asset class {r['asset_class']!r}", where=where) from None
    attrs: dict = {"asset_class": ac.value}
    for f in CLASS_SPECS[ac].fields:
        v = _value(r.get(f.name), f.kind, where, f.name)
        if v is None and not f.required:
            v = f.default
        attrs[f.name] = v
    return attrs


def _population(gdf, graphs, where: str) -> PopulationBlocks | None:
    if gdf is None or len(gdf) == 0:
        return None
    if "population" not in gdf.columns:
        raise NetworkError("layer 'population' has no 'population' column", where=where)
    x = gdf.geometry.x.to_numpy()
    y = gdf.geometry.y.to_numpy()
    nodes = {}
    for k in KINDS:
        g = graphs.get(k.kind)
        col = k.block_column
        if col in gdf.columns:
            nodes[k.kind] = gdf[col].fillna("").astype(str).to_numpy(dtype=object)
            continue
        if g is None or g.number_of_nodes() == 0:
            continue  # a kind the city does not have serves no block
        classes = k.consumer_classes()
        near = nearest_of_classes(g, classes, np.column_stack([x, y]))
        if near is None:
            raise NetworkError(f"population blocks need {col} but the {k.name} network has "
                               f"no {' or '.join(c.value for c in classes)} node", where=where)
        nodes[k.kind] = near
    ids = gdf["id"].astype(str).to_numpy() if "id" in gdf.columns else np.array(
        [f"B{i}" for i in range(len(gdf))], dtype=object)
    return PopulationBlocks(ids, x, y, gdf["population"].to_numpy(float), nodes)


def read_terrain(path: Path | str, *, crs: str | None = None) -> Terrain:
    """Read a DEM (GeoTIFF / ASCII grid) with the shared raster rules of
    :mod:`common.rasters` (one-line errors, NoData as NaN, memory check); reproject to
    ``crs`` when given. Elevations are stored as float32."""
    from common.rasters import read_raster

    r = read_raster(path, "DEM", target_crs=crs, bytes_per_cell=16, error=NetworkError,
                    crs_hint="give the file a CRS (gdal_edit.py -a_srs EPSG:xxxx)")
    return Terrain(r.values.astype(np.float32), r.transform, r.crs)


def _layer(rows: list[dict], crs: str, columns: tuple[str, ...] = ("id",)):
    """A layer's frame; an empty network (an import of only a water or only a power
    network) still gets its typed, empty layer, so the city reads back the same."""
    import geopandas as gpd

    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in columns},
                                geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def save_city(net: LifelineNetwork, path: Path | str) -> Path:
    """Write ``net`` as a GeoPackage (plus ``<stem>_dem.tif`` when it has terrain), atomically."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".tmp-city-", dir=path.parent))
    try:
        tmp = tmpdir / path.name
        for kind, (nl, el) in LAYERS.items():
            g = net.graphs.get(kind)
            if g is None or (kind not in IN_EVERY_FILE and g.number_of_nodes() == 0):
                if kind in IN_EVERY_FILE:
                    g = nx.Graph()
                else:
                    continue  # a kind the city does not have: no layers
            rows = [{"id": n, **{k: v for k, v in a.items() if k not in ("x_m", "y_m")},
                     "geometry": Point(a["x_m"], a["y_m"])} for n, a in g.nodes(data=True)]
            _layer(rows, net.crs, ("id", "asset_class")).to_file(tmp, layer=nl, driver="GPKG")
            erows = []
            for u, v, a in g.edges(data=True):
                c = a.get("coords")
                geom = LineString(c if c is not None else [
                    (g.nodes[u]["x_m"], g.nodes[u]["y_m"]), (g.nodes[v]["x_m"], g.nodes[v]["y_m"])])
                erows.append({"id": a["id"], "from_id": u, "to_id": v,
                              **{k: val for k, val in a.items() if k not in ("id", "coords")},
                              "geometry": geom})
            _layer(erows, net.crs, ("id", "asset_class", "from_id", "to_id")).to_file(
                tmp, layer=el, driver="GPKG")
        dep = pd.DataFrame([(d.dependent, d.supplier, d.kind.value) for d in net.dependencies],
                           columns=["dependent", "supplier", "kind"])
        gpd.GeoDataFrame(dep).to_file(tmp, layer="dependencies", driver="GPKG")
        if net.population is not None:
            p = net.population
            gpd.GeoDataFrame({"id": p.ids, "population": p.population,
                              **{kind_spec(k).block_column: v for k, v in p.nodes.items()}},
                             geometry=gpd.points_from_xy(p.x_m, p.y_m), crs=net.crs).to_file(
                tmp, layer="population", driver="GPKG")
        meta = pd.DataFrame({"key": list(net.meta), "value": [json.dumps(v, default=str)
                                                               for v in net.meta.values()]})
        gpd.GeoDataFrame(meta).to_file(tmp, layer="meta", driver="GPKG")
        if net.terrain is not None:
            write_terrain(net.terrain, tmpdir / (path.stem + "_dem.tif"))
        for f in tmpdir.iterdir():
            os.replace(f, path.parent / f.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


def write_terrain(t: Terrain, path: Path) -> None:
    import rasterio
    from affine import Affine

    h, w = t.elevation_m.shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1, dtype="float32",
                       crs=t.crs, transform=Affine(*t.transform), nodata=np.nan,
                       compress="deflate") as ds:
        ds.write(t.elevation_m.astype(np.float32), 1)
