"""``twin import``: build a city GeoPackage from EPANET, pandapower, OpenStreetMap or Shelby County.

Mounted by ``twin/cli.py`` with :func:`add_import`. User errors raise
:class:`~common.errors.NetworkError` (one line naming the file and element); the
``twin`` entry point prints them and exits with code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common.errors import NetworkError

EPILOG = """examples:
  twin import --pandapower data/networks/mv_oberrhein.json --out oberrhein.gpkg
  twin import --epanet data/networks/Net3.inp --crs EPSG:32632 --scale auto \\
      --pandapower data/networks/mv_oberrhein.json --anchor-to-power --out net3_oberrhein.gpkg
  twin import --shelby data/shelby/Extended_Shelby_County --out shelby.gpkg
then use it in a scenario:  city: {path: net3_oberrhein.gpkg}

EPANET coordinates have no CRS: --crs names the projected CRS (metres) they are in after
x_m = scale * x (+ a shift to --anchor). Roads are a grid proxy (200 m spacing, widened
to at most 2,500 nodes; 2,000 m for --shelby; one depot at the centre), not a street map.
--shelby reads a folder of the INDP CSV layout (power, water, gas, telecom and
Interdep.csv) and stands alone (no --epanet/--pandapower/--osm). --dem gives the city's
terrain (a GeoTIFF or ASCII grid, reprojected to the city's CRS). Conversion rules:
networks/importers/{epanet,power,city,osm,shelby}.py; the city's metadata records them.
"""


def _scale(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None


def add_import(sub) -> None:
    """Add the ``import`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "import", help="build a city GeoPackage from EPANET (.inp), pandapower (.json), "
        "OpenStreetMap or a Shelby County (INDP CSV) folder",
        description="Convert real networks into a city GeoPackage: EPANET water networks "
        "(read with WNTR), pandapower grids, OpenStreetMap roads and power, or the four "
        "interdependent lifelines of the INDP CSV layout (Shelby County). Roads are a "
        "documented grid proxy unless --osm gives them; interdependencies follow the "
        "proximity rules where the input gives none.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epanet", type=Path, help="EPANET input file (.inp) with coordinates")
    p.add_argument("--crs", help="projected CRS of the EPANET coordinates (e.g. EPSG:32632); "
                   "for pandapower alone, the output CRS (default: its UTM zone)")
    p.add_argument("--scale", type=_scale, default=1.0,
                   help="metres per EPANET coordinate unit, or 'auto' (from pipe lengths)")
    p.add_argument("--anchor", type=float, nargs=2, metavar=("X", "Y"),
                   help="put the centroid of the EPANET coordinates at X Y (in --crs)")
    p.add_argument("--anchor-to-power", action="store_true",
                   help="put the EPANET centroid at the centroid of the power network")
    p.add_argument("--pandapower", type=Path, help="pandapower network JSON (pp.to_json)")
    p.add_argument("--osm", type=Path,
                   help="OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2): its drivable roads "
                   "replace the grid proxy; its power lines and substations are the power "
                   "network when no --pandapower is given")
    p.add_argument("--shelby", type=Path, metavar="DIR",
                   help="folder of the INDP CSV layout (Shelby County: <Net>Nodes.csv, "
                   "<Net>Arcs.csv for Power, Water, Gas, Telecommunication, Interdep.csv)")
    p.add_argument("--dem", type=Path, metavar="F",
                   help="DEM (GeoTIFF/ASCII grid) written beside the city as its terrain")
    p.add_argument("--road-spacing", type=float, default=None,
                   help="road proxy grid spacing in metres (default 200; 2000 for --shelby)")
    p.add_argument("--name", help="city name (default: the output file's stem)")
    p.add_argument("--out", type=Path, required=True, help="GeoPackage to write (.gpkg)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(func=cmd_import)


def cmd_import(args) -> int:
    """Run ``twin import``; returns the exit code."""
    from networks.importers import city_from_parts, from_epanet, from_pandapower

    out = Path(args.out)
    if out.suffix.lower() != ".gpkg":
        raise NetworkError("the city is written as a GeoPackage: use a .gpkg path",
                           where=str(out))
    if out.exists() and not args.overwrite:
        raise NetworkError("output exists; pass --overwrite to replace it", where=str(out))
    if args.shelby is not None:
        if args.epanet is not None or args.pandapower is not None or args.osm is not None:
            raise NetworkError("--shelby builds a whole city: do not combine it with --epanet, "
                               "--pandapower or --osm", where=str(args.shelby))
        return _write(_shelby(args), out, args.dem)
    if args.epanet is None and args.pandapower is None and args.osm is None:
        raise NetworkError("give --osm FILE.osm.pbf, --epanet FILE.inp and/or "
                           "--pandapower FILE.json, or --shelby DIR")
    if args.epanet is not None and not args.crs:
        raise NetworkError("EPANET coordinates have no CRS: give --crs (the projected CRS "
                           "they are in, e.g. EPSG:32632)", where=str(args.epanet))
    if (args.anchor or args.anchor_to_power) and args.epanet is None:
        raise NetworkError("--anchor/--anchor-to-power place the EPANET network: give --epanet")
    if args.anchor_to_power and args.pandapower is None:
        raise NetworkError("--anchor-to-power needs --pandapower")
    power = water = None
    if args.pandapower is not None:
        power = from_pandapower(args.pandapower, crs=args.crs)
    if args.epanet is not None:
        anchor = tuple(args.anchor) if args.anchor else None
        if args.anchor_to_power:
            import numpy as np
            from pyproj import Transformer

            xy = np.array([(a["x_m"], a["y_m"]) for _, a in power.graph.nodes(data=True)])
            cx, cy = xy.mean(axis=0)
            cx, cy = Transformer.from_crs(power.crs, args.crs, always_xy=True).transform(cx, cy)
            anchor = (float(cx), float(cy))
        water = from_epanet(args.epanet, crs=args.crs, scale=args.scale, anchor_xy=anchor)
    roads = None
    if args.osm is not None:
        from networks.importers.osm import read_osm_power, read_osm_roads
        from networks.schema import spec

        roads = read_osm_roads(args.osm, crs=args.crs or None)
        if power is None:
            power = read_osm_power(args.osm, crs=roads.crs)
            if power is not None and not any(
                    spec(a["asset_class"]).is_source for _, a in power.graph.nodes(data=True)):
                import warnings

                from common.errors import InputWarning

                warnings.warn(f"{args.osm}: the extract's power features ({power.meta['nodes']} "
                              "nodes) reach no plant or bulk-grid substation: not used as the "
                              "power network", InputWarning, stacklevel=2)
                power = None
        if power is None and water is None:
            raise NetworkError("the extract maps no power lines or substations: add "
                               "--pandapower FILE.json or --epanet FILE.inp",
                               where=str(args.osm))
    spacing = 200.0 if args.road_spacing is None else args.road_spacing
    city = city_from_parts(power=power, water=water, roads=roads, crs=args.crs or None,
                           name=args.name or out.stem, road_spacing_m=spacing)
    return _write(city, out, args.dem)


def _shelby(args):
    from networks.importers.shelby import from_shelby
    from networks.importers.shelby_tables import CRS

    spacing = 2000.0 if args.road_spacing is None else args.road_spacing
    return from_shelby(args.shelby, crs=args.crs or CRS, name=args.name or "Shelby County",
                       road_spacing_m=spacing)


def _write(city, out: Path, dem: Path | None) -> int:
    """Attach the terrain, validate, write atomically and print one summary line."""
    import dataclasses

    from networks.io import read_terrain, save_city
    from networks.validate import validate_network

    if dem is not None:
        city = dataclasses.replace(city, terrain=read_terrain(dem, crs=city.crs),
                                   meta={**city.meta, "terrain": str(dem)})
    validate_network(city, source=str(out))
    save_city(city, out)
    counts = ", ".join(f"{k.value} {g.number_of_nodes()} nodes/{g.number_of_edges()} edges"
                       for k, g in city.graphs.items())
    print(f"wrote {out} ({counts}; {len(city.dependencies)} dependencies; CRS {city.crs})")
    return 0
