"""``twin wind``: wind of a best track at sites and on a grid, without a city twin.

Outputs in ``--out`` (written to a temporary folder, then renamed):
``sites.csv`` (site, lon, lat, max_gust_mps, max_sustained_mps, time_of_max_utc),
``series.parquet`` (site, time_utc, sustained_mps, gust_mps) and, with ``--grid``,
``max_gust.tif`` (peak 3-s gust over the storm, float32) and, with ``--observations``,
``validation.csv`` (modelled against observed at stations, see
:mod:`hazards.typhoon.hindcast`; the bias and median absolute error are printed). The radial
profile is fitted to the track's wind radii when it has any (``--profile auto``). ``run`` raises
:class:`~common.errors.InputError` subclasses for bad input.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from common.errors import HazardError, InputError

EPILOG = """examples:
  twin wind --track data/tracks/ibtracs_usa_jtwc_selected_storms.csv --storm SAOLA:2023 \\
            --sites sites.csv --out runs/saola
  twin wind --track data/tracks/jma_rsmc_tokyo_bst_2015_2021.txt --storm HATO:2017 \\
            --grid 113.0,21.8,114.6,22.9 --step-min 60 --out runs/hato_grid
  twin wind --track mytrack.csv --format csv --wind-averaging 10min --storm "" \\
            --sites assets.gpkg --grid dem.tif --out runs/what_if
  twin wind --track data/tracks/jma_rsmc_tokyo_bst_2015_2021.txt --storm MANGKHUT:2018 \\
            --sites sites.csv --members 50 --seed 1 --issue-time 2018-09-13T06:00Z \\
            --out runs/mangkhut_72h
  twin wind --track data/tracks/ibtracs_usa_jtwc_selected_storms.csv --storm SAOLA:2023 \\
            --observations data/observations/hko_saola_2023_hindcast.csv --step-min 10 \\
            --out runs/saola_hindcast

--sites: a CSV with columns site, lon, lat (degrees), or any vector file of points
(its CRS is honoured; the id is the 'site' or 'id' column, else the row number).
--grid: a raster (its grid, decimated to --grid-max-cells) or bounds
LON_MIN,LAT_MIN,LON_MAX,LAT_MAX with --grid-res-deg cells.
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``twin wind`` arguments to ``parser``."""
    parser.add_argument("--track", required=True, help="best-track file")
    parser.add_argument("--storm", required=True,
                        help="storm ID (SID, AL092008, 1713) or NAME:SEASON ('' for a "
                             "single-storm file)")
    parser.add_argument("--format", default="auto",
                        choices=["auto", "hurdat2", "jma", "ibtracs", "csv"])
    parser.add_argument("--wind-averaging", choices=["1min", "10min"], default=None,
                        help="averaging period of the file's winds (required for csv)")
    parser.add_argument("--sites", help="CSV (site, lon, lat) or vector file of points")
    parser.add_argument("--grid", help="raster file, or bounds LON_MIN,LAT_MIN,LON_MAX,LAT_MAX")
    parser.add_argument("--grid-res-deg", type=float, default=0.01,
                        help="cell size for --grid bounds (degrees, default 0.01)")
    parser.add_argument("--grid-max-cells", type=int, default=250_000)
    parser.add_argument("--step-min", type=float, default=30.0, help="time step (minutes)")
    parser.add_argument("--profile", default="auto",
                        choices=["auto", "holland2010_radii", "holland2008", "holland1980"],
                        help="radial profile; auto (default): fitted to the track's wind radii "
                             "(Holland et al. 2010) when it has any, else Holland (2008)")
    parser.add_argument("--exposure", choices=["open_terrain", "marine"], default="open_terrain",
                        help="roughness of all points (default: open terrain, z0 = 0.03 m)")
    parser.add_argument("--members", type=int, default=0,
                        help="forecast ensemble: N tracks perturbed from the given track with "
                             "errors growing from --issue-time (hazards.typhoon.ensemble); "
                             "sites.csv gets max_gust_mps_p05/_p50/_p95")
    parser.add_argument("--seed", type=int, default=0, help="seed of the ensemble")
    parser.add_argument("--issue-time", default=None,
                        help="forecast issue time (UTC, ISO 8601; default: the track's start)")
    parser.add_argument("--dem", help="a projected DEM: speed-up of the wind at --sites on "
                                      "hills and ridges (AS/NZS 1170.2 hill-shape multiplier)")
    parser.add_argument("--observations",
                        help="station observations CSV (site, lon, lat, quantity, speed_mps"
                             "[, height_m][, z0_m]): writes validation.csv and prints the bias "
                             "and median absolute error (a hindcast)")
    parser.add_argument("--out", required=True, help="output folder (created; must not exist "
                                                      "unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true")


#: optional per-site columns of --sites: (lowest, highest) accepted value
SITE_COLUMNS = {"height_m": (1.0, 500.0), "z0_m": (1e-5, 3.0), "elevation_m": (-500.0, 9000.0)}


def _site_extras(df, path: Path) -> dict[str, np.ndarray]:
    """The optional per-site columns (:data:`SITE_COLUMNS`) present in ``df``, checked."""
    import pandas as pd

    cols = {str(c).strip().lower(): c for c in df.columns}
    out = {}
    for name, (lo, hi) in SITE_COLUMNS.items():
        if name not in cols:
            continue
        v = pd.to_numeric(df[cols[name]], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(v) & (v >= lo) & (v <= hi))
        if bad.any():
            i = int(np.argmax(bad))
            raise HazardError(f"{name} {df[cols[name]].iloc[i]!r} must be a number in "
                              f"[{lo:g}, {hi:g}]", where=f"{path}:{i + 2}")
        out[name] = v
    return out


def _read_sites(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(ids, lon, lat, optional columns) of the sites file."""
    if not path.is_file():
        raise HazardError("sites file not found", where=str(path))
    if path.suffix.lower() == ".csv":
        import pandas as pd

        try:
            df = pd.read_csv(path, dtype={"site": str})
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as ex:
            raise HazardError(f"cannot read sites: {ex}", where=str(path)) from None
        cols = {c.strip().lower(): c for c in df.columns}
        missing = [c for c in ("site", "lon", "lat") if c not in cols]
        if missing:
            raise HazardError(f"sites CSV lacks column(s) {', '.join(missing)} (needs site, "
                              "lon, lat)", where=str(path))
        lon = pd.to_numeric(df[cols["lon"]], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[cols["lat"]], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        if bad.any():
            i = int(np.argmax(bad))
            raise HazardError(f"site {df[cols['site']].iloc[i]!r} has no coordinates",
                              where=f"{path}:{i + 2}")
        if np.any(np.abs(lat) > 90):
            i = int(np.argmax(np.abs(lat) > 90))
            raise HazardError(f"latitude {lat[i]} outside [-90, 90]", where=f"{path}:{i + 2}")
        return df[cols["site"]].astype(str).to_numpy(), lon, lat, _site_extras(df, path)
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as ex:  # noqa: BLE001 - any reader failure is a user-file problem
        raise HazardError(f"cannot read sites: {ex}", where=str(path)) from None
    if gdf.crs is None:
        raise HazardError("sites file has no CRS", where=str(path))
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        i = int(np.argmax(empty.to_numpy()))
        raise HazardError(f"feature {i} has no coordinates", where=str(path))
    if not (geom.geom_type == "Point").all():
        raise HazardError("sites must be points", where=str(path))
    ll = gdf.to_crs("EPSG:4326").geometry
    idcol = next((c for c in ("site", "id") if c in gdf.columns), None)
    ids = gdf[idcol].astype(str).to_numpy() if idcol else np.arange(len(gdf)).astype(str)
    return ids, ll.x.to_numpy(float), ll.y.to_numpy(float), _site_extras(gdf, path)


def _grid(spec: str, res_deg: float, max_cells: int) -> tuple[tuple, tuple[int, int], str]:
    """(transform, shape, crs) of ``--grid``."""
    parts = spec.split(",")
    if len(parts) == 4:
        try:
            x0, y0, x1, y1 = (float(p) for p in parts)
        except ValueError:
            raise HazardError(f"grid bounds {spec!r} are not 4 numbers", where="--grid") from None
        if not (x1 > x0 and y1 > y0 and y0 >= -90 and y1 <= 90 and x0 >= -180
                and x1 <= 360):
            raise HazardError("grid bounds must be LON_MIN,LAT_MIN,LON_MAX,LAT_MAX",
                              where="--grid")
        if not 1e-5 <= res_deg <= 10.0:
            raise HazardError("--grid-res-deg must be in [1e-5, 10] degrees",
                              where="--grid-res-deg")
        nx, ny = max(1, round((x1 - x0) / res_deg)), max(1, round((y1 - y0) / res_deg))
        stride = max(1, int(np.ceil(np.sqrt(nx * ny / max_cells))))
        nx, ny = int(np.ceil(nx / stride)), int(np.ceil(ny / stride))
        tr = ((x1 - x0) / nx, 0.0, x0, 0.0, -(y1 - y0) / ny, y1)
        return tr, (ny, nx), "EPSG:4326"
    import rasterio

    path = Path(spec)
    if not path.is_file():
        raise HazardError("grid raster not found (or give 4 comma-separated bounds)",
                          where=str(path))
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise HazardError("grid raster has no CRS", where=str(path))
            t = src.transform
            ny, nx = src.height, src.width
            crs = src.crs.to_string()
    except rasterio.errors.RasterioIOError as ex:
        raise HazardError(f"cannot read grid raster: {ex}", where=str(path)) from None
    stride = max(1, int(np.ceil(np.sqrt(nx * ny / max_cells))))
    tr = (t.a * stride, t.b * stride, t.c, t.d * stride, t.e * stride, t.f)
    return tr, (int(np.ceil(ny / stride)), int(np.ceil(nx / stride))), crs


def run(args: argparse.Namespace) -> int:
    """Compute and write the outputs; returns 0. Raises InputError on bad input."""
    import pandas as pd

    from common.rasters import check_memory
    from hazards.typhoon.config import MAX_GRID_CELLS, MAX_STEPS
    from hazards.typhoon.constants import load_constants
    from hazards.typhoon.hindcast import read_observations
    from hazards.typhoon.readers import load_track
    from hazards.typhoon.timeline import TyphoonWarning
    from hazards.typhoon.wind import grid_lonlat, peak_wind_at_sites, storm_steps, wind_at_sites
    from hazards.typhoon.wind_radii import RADII_PROFILE, has_size, no_size_warning

    if not args.sites and not args.grid and not args.observations:
        raise InputError("give --sites, --grid and/or --observations", where="twin wind")
    if not args.step_min > 0:
        raise InputError("--step-min must be > 0", where="--step-min")
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise InputError("output folder exists (use --overwrite)", where=str(out))
    if args.members and not 1 <= args.members <= 1000:
        raise InputError("--members must be in [1, 1000]", where="--members")
    if args.members and not args.sites:
        raise InputError("--members needs --sites", where="--members")
    if not args.step_min <= 360:
        raise InputError("--step-min must be at most 360 (minutes)", where="--step-min")
    if not 4 <= args.grid_max_cells <= MAX_GRID_CELLS:
        raise InputError(f"--grid-max-cells must be in [4, {MAX_GRID_CELLS:,}]",
                         where="--grid-max-cells")
    track = load_track(args.track, args.storm, fmt=args.format,
                       wind_averaging=args.wind_averaging)
    if args.profile == RADII_PROFILE and not has_size(track):
        raise InputError(f"track {track.selector} reports no wind radii; use --profile auto "
                         "or holland2008", where="--profile")
    span_min = (track.times[-1] - track.times[0]).astype(np.int64) / 60.0
    n_steps = int(span_min // args.step_min) + 1
    if n_steps > MAX_STEPS:
        raise InputError(f"--step-min {args.step_min:g} over the track's {span_min / 60:.0f} h "
                         f"makes {n_steps:,} time steps, more than {MAX_STEPS:,}",
                         where="--step-min")
    sites = _read_sites(Path(args.sites)) if args.sites else None
    if sites is not None:
        # sustained and gust float32 per site-step, and the series table (~40 B per row)
        check_memory((n_steps, len(sites[0])), 8 + 40, where="--sites", what="site x step series",
                     hint="use a coarser --step-min or fewer sites", error=HazardError)
    times = track.resample(args.step_min).times
    steps = storm_steps(track, times, profile=args.profile)
    if args.profile == "auto" and steps.radii is None:
        warnings.warn(no_size_warning(track), TyphoonWarning, stacklevel=2)
    c = load_constants()
    z0 = 0.03 if args.exposure == "open_terrain" else c.z0_sea_m
    fac = float(c.sustained_roughness_factor(z0))
    gfac = float(c.gust_factor_for(z0))

    obs = read_observations(args.observations) if args.observations else None
    dem = _read_dem(Path(args.dem)) if args.dem else None
    grid = _grid(args.grid, args.grid_res_deg, args.grid_max_cells) if args.grid else None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if sites is not None:
            ids, lon, lat, extra = sites
            sfac, sgust, cols = _site_factors(extra, z0, lon, lat, dem)
            s, g = wind_at_sites(steps, lat, lon, site_factor=sfac, site_gust=sgust)
            kmax = np.argmax(g, axis=0) if len(times) else np.zeros(len(ids), int)
            tstr = np.datetime_as_string(times, unit="s")
            pd.DataFrame({
                "site": ids, "lon": lon, "lat": lat,
                "max_gust_mps": g.max(axis=0), "max_sustained_mps": s.max(axis=0),
                "time_of_max_utc": [tstr[k] + "Z" for k in kmax], **cols,
                **_ensemble_columns(args, track, times, lat, lon, sfac, sgust),
            }).to_csv(tmp / "sites.csv", index=False, float_format="%.3f")
            T, n = s.shape
            pd.DataFrame({
                "site": np.tile(ids, T),
                "time_utc": pd.to_datetime(np.repeat(times, n)).tz_localize("UTC"),
                "sustained_mps": s.ravel(), "gust_mps": g.ravel(),
            }).to_parquet(tmp / "series.parquet", index=False)
        if grid is not None:
            import rasterio

            tr, shape, crs = grid
            glon, glat = grid_lonlat(tr, shape, crs)
            peak, _ = peak_wind_at_sites(steps, glat.ravel(), glon.ravel(), site_factor=fac)
            values = (peak * gfac).reshape(shape).astype(np.float32)
            with rasterio.open(tmp / "max_gust.tif", "w", driver="GTiff", height=shape[0],
                               width=shape[1], count=1, dtype="float32", crs=crs,
                               transform=rasterio.Affine(*tr[:6])) as dst:
                dst.write(values, 1)
                dst.update_tags(units="m/s", measure="3-s gust at 10 m, maximum over the storm",
                                storm=f"{track.name}:{track.season}", exposure=args.exposure)
        if obs is not None:
            _write_validation(tmp / "validation.csv", obs, steps, z0)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return 0


def _write_validation(path: Path, obs, steps, z0_default: float) -> None:
    """Modelled against observed at the stations (see :mod:`hazards.typhoon.hindcast`);
    prints the summary."""
    import pandas as pd

    from hazards.typhoon.constants import load_constants
    from hazards.typhoon.hindcast import height_factor, modelled, summary
    from hazards.typhoon.wind import wind_at_sites

    c = load_constants()
    z0 = np.where(np.isnan(obs.z0_m), z0_default, obs.z0_m)
    fac = c.sustained_roughness_factor(z0) * height_factor(obs.height_m, z0)
    s, g = wind_at_sites(steps, obs.lat, obs.lon, site_factor=fac,
                         site_gust=c.gust_factor_for(z0))
    model = modelled(obs, s.max(axis=0).astype(float), g.max(axis=0).astype(float))
    pd.DataFrame({"site": obs.site, "lon": obs.lon, "lat": obs.lat, "quantity": obs.quantity,
                  "height_m": obs.height_m, "z0_m": z0, "observed_mps": obs.speed_mps,
                  "modelled_mps": model, "error_mps": model - obs.speed_mps,
                  "ratio": model / obs.speed_mps}).to_csv(path, index=False,
                                                          float_format="%.3f")
    sm = summary(obs.speed_mps, model)
    print(f"hindcast ({steps.profile}): {sm['n']} observations, bias {sm['bias_mps']:+.1f} m/s "
          f"({sm['bias_rel']:+.0%}), median absolute error {sm['median_abs_error_mps']:.1f} m/s "
          f"({sm['median_abs_error_rel']:.0%})")


def _read_dem(path: Path):
    """The DEM of ``--dem`` (projected; rasters' shared rules and one-line errors)."""
    from common.rasters import read_raster

    return read_raster(path, "DEM", projected=True, error=HazardError)


def _site_factors(extra: dict, z0_default: float, lon: np.ndarray, lat: np.ndarray, dem
                  ) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per-site sustained and gust factors from the sites' own ``z0_m`` and ``height_m``
    (log profile) and, with ``--dem``, the topographic multiplier; plus the columns to
    report in ``sites.csv``."""
    from hazards.typhoon.constants import load_constants
    from hazards.typhoon.hindcast import height_factor

    c = load_constants()
    n = len(lon)
    z0 = extra.get("z0_m", np.full(n, z0_default))
    height = extra.get("height_m", np.full(n, 10.0))
    fac = c.sustained_roughness_factor(z0) * height_factor(height, z0)
    cols = {k: v for k, v in extra.items()}
    if dem is not None:
        from pyproj import Transformer

        from hazards.typhoon.topography import hill_multiplier

        x, y = Transformer.from_crs("EPSG:4326", dem.crs, always_xy=True).transform(lon, lat)
        mh = hill_multiplier(dem.values, dem.transform, np.asarray(x), np.asarray(y),
                             height_m=height)
        fac = fac * mh
        cols["elevation_m"] = dem.sample(np.asarray(x), np.asarray(y))
        cols["topographic_multiplier"] = mh
    return fac, c.gust_factor_for(z0), cols


def _ensemble_columns(args, track, times, lat, lon, fac, gust) -> dict[str, np.ndarray]:
    """``max_gust_mps_p05/_p50/_p95`` over ``--members`` forecast members (empty without)."""
    if not args.members:
        return {}
    from hazards.typhoon.ensemble import ensemble
    from hazards.typhoon.wind import storm_steps, wind_at_sites

    issue = track.times[0]
    if args.issue_time:
        try:
            issue = np.datetime64(np.datetime64(args.issue_time.rstrip("Z"), "s"), "s")
        except ValueError:
            raise InputError(f"--issue-time {args.issue_time!r} is not a UTC date-time",
                             where="--issue-time") from None
        if not track.times[0] <= issue <= track.times[-1]:
            raise InputError("--issue-time lies outside the track", where="--issue-time")
    peaks = np.empty((args.members, len(lat)), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deterministic run already warned
        for m, member in enumerate(ensemble(track, issue, args.members, args.seed)):
            steps = storm_steps(member, times, profile=args.profile)
            _, g = wind_at_sites(steps, lat, lon, site_factor=fac, site_gust=gust)
            peaks[m] = g.max(axis=0)
    p05, p50, p95 = np.percentile(peaks, [5, 50, 95], axis=0)
    return {"max_gust_mps_p05": p05, "max_gust_mps_p50": p50, "max_gust_mps_p95": p95}
