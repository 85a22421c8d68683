"""``twin wind`` as a stand-alone module: arguments, outputs, errors."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import rasterio

from common.errors import HazardError, InputError
from hazards.typhoon import cli


def _args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin wind")
    cli.configure_parser(p)
    return p.parse_args(list(argv))


def _sites(tmp_path, rows="site,lon,lat\nA,114.17,22.30\nB,113.55,22.20\nC,110.0,20.0\n"):
    p = tmp_path / "sites.csv"
    p.write_text(rows)
    return p


def test_cli_writes_sites_series_and_grid(tmp_path, tracks_dir):
    out = tmp_path / "out"
    rc = cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                       "--storm", "HATO:2017", "--sites", str(_sites(tmp_path)),
                       "--grid", "113.0,21.8,114.6,22.9", "--grid-res-deg", "0.05",
                       "--step-min", "60", "--out", str(out)))
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ["max_gust.tif", "series.parquet",
                                                     "sites.csv"]
    s = pd.read_csv(out / "sites.csv")
    assert list(s.columns) == ["site", "lon", "lat", "max_gust_mps", "max_sustained_mps",
                               "time_of_max_utc"]
    assert (s.max_gust_mps > s.max_sustained_mps).all()
    # Hato passed just south-west of Hong Kong on 2017-08-23
    assert s.loc[s.site == "A", "time_of_max_utc"].iloc[0].startswith("2017-08-23")
    ser = pd.read_parquet(out / "series.parquet")
    assert list(ser.columns) == ["site", "time_utc", "sustained_mps", "gust_mps"]
    assert len(ser) == 3 * ser.time_utc.nunique()
    got = ser.groupby("site").gust_mps.max()
    np.testing.assert_allclose(got.loc[s.site].to_numpy(), s.max_gust_mps, atol=1e-3)
    with rasterio.open(out / "max_gust.tif") as src:
        assert src.crs.to_epsg() == 4326 and src.shape == (22, 32)
        assert src.read(1).max() > 30.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_cli_rejects_sites_without_coordinates(tmp_path, tracks_dir):
    bad = _sites(tmp_path, "site,lon,lat\nA,114.1,22.3\nB,,22.2\n")
    out = tmp_path / "out"
    with pytest.raises(HazardError, match=r"sites\.csv:3: site 'B' has no coordinates"):
        cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                      "--storm", "HATO:2017", "--sites", str(bad), "--out", str(out)))
    assert not out.exists()
    nocol = _sites(tmp_path, "site,x,y\nA,1,2\n")
    with pytest.raises(HazardError, match="lacks column"):
        cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                      "--storm", "HATO:2017", "--sites", str(nocol), "--out", str(out)))


def test_cli_refuses_to_overwrite_and_unknown_storm(tmp_path, tracks_dir):
    out = tmp_path / "out"
    out.mkdir()
    track = str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt")
    with pytest.raises(InputError, match="exists"):
        cli.run(_args("--track", track, "--storm", "HATO:2017", "--sites",
                      str(_sites(tmp_path)), "--out", str(out)))
    with pytest.raises(HazardError, match="close: HATO:2017"):
        cli.run(_args("--track", track, "--storm", "HATTO:2017", "--sites",
                      str(_sites(tmp_path)), "--out", str(out), "--overwrite"))
    assert out.is_dir() and not any(out.iterdir())  # untouched by the failed run


def test_cli_reads_vector_points(tmp_path, tracks_dir):
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"id": ["p1", "p2"]},
                           geometry=[Point(114.17, 22.30), Point(113.9, 22.4)], crs="EPSG:4326")
    path = tmp_path / "pts.gpkg"
    gdf.to_crs("EPSG:32649").to_file(path)
    out = tmp_path / "o"
    cli.run(_args("--track", str(tracks_dir / "jma_rsmc_tokyo_bst_2015_2021.txt"), "--storm",
                  "1713", "--sites", str(path), "--step-min", "60", "--out", str(out)))
    s = pd.read_csv(out / "sites.csv")
    assert list(s.site) == ["p1", "p2"]
    np.testing.assert_allclose(s.lon, [114.17, 113.9], atol=1e-6)


def test_hindcast_saola_at_hong_kong_stations(tmp_path, tracks_dir, capsys):
    """The shipped hindcast (README): Saola 2023 against three HKO stations."""
    obs = tracks_dir.parent / "observations" / "hko_saola_2023_hindcast.csv"
    out = tmp_path / "hc"
    with pytest.warns(UserWarning, match="no wind radii"):  # the JTWC extract has none
        rc = cli.run(_args("--track", str(tracks_dir / "ibtracs_usa_jtwc_selected_storms.csv"),
                           "--storm", "SAOLA:2023", "--observations", str(obs),
                           "--step-min", "10", "--out", str(out)))
    assert rc == 0
    v = pd.read_csv(out / "validation.csv")
    assert len(v) == 9 and set(v.quantity) == {"max_gust", "max_10min_mean", "max_60min_mean"}
    assert (v.modelled_mps > 0).all()
    np.testing.assert_allclose(v.ratio, v.modelled_mps / v.observed_mps, rtol=1e-3)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("hindcast (holland2008): 9 observations, bias ")
    # the exposed island station is within 15 % on the 10-min mean; the land stations are
    # over-predicted (see the README's hindcast section)
    w = v[(v.site == "Waglan Island") & (v.quantity == "max_10min_mean")].ratio.item()
    assert 0.85 <= w <= 1.15


def test_observations_with_a_bad_quantity_are_refused(tmp_path, tracks_dir):
    p = tmp_path / "obs.csv"
    p.write_text("site,lon,lat,quantity,speed_mps\nA,114.0,22.3,max_gust,30\n"
                 "B,114.1,22.3,gust_peak,31\n")
    with pytest.raises(HazardError, match=r"obs\.csv:3: quantity 'gust_peak'"):
        cli.run(_args("--track", str(tracks_dir / "ibtracs_usa_jtwc_selected_storms.csv"),
                      "--storm", "SAOLA:2023", "--observations", str(p),
                      "--out", str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["hindcast_hato.yaml", "hindcast_mangkhut.yaml"])
def test_city_hindcast_scenarios_validate(name, tracks_dir):
    """The README's city hindcasts (real tracks, size fitted to JMA radii) stay valid;
    running them takes minutes, so CI validates them."""
    import subprocess
    import sys

    root = tracks_dir.parents[1]
    r = subprocess.run([sys.executable, "-m", "twin.cli", "validate",
                        str(root / "scenarios" / name)], cwd=root, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "hazards: typhoon" in r.stdout and "warning" not in r.stderr
