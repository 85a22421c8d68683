"""Hostile inputs to the typhoon hazard and ``twin wind``: one line, exit 2, nothing
half-written (issue #8).

Each case was accepted or crashed before: absurd tracks (1e30 m/s winds, pressures,
positions and times no storm has had, NaN tokens) were read as storms; ``step_min: 1e-6``
and other sizes the user controls allocated before any check.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import HazardError

ROOT = Path(__file__).resolve().parents[2]
TRACKS = ROOT / "data" / "tracks"

GOOD_ROWS = [
    ("2020-09-01T00:00", 20.0, 130.0, 40.0, 960.0),
    ("2020-09-01T06:00", 20.5, 129.5, 45.0, 955.0),
    ("2020-09-01T12:00", 21.0, 129.0, 50.0, 950.0),
]


def twin(*args):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def one_line_exit_2(r: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, exactly one error line (the last), no traceback; returns the line."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    assert len(errors) == 1, r.stderr
    assert lines[-1] == errors[0]
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


def csv_track(tmp_path: Path, rows, *, name: str = "track.csv") -> Path:
    p = tmp_path / name
    p.write_text("time,lat,lon,wind_mps,pressure_hpa\n"
                 + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return p


def sites_csv(tmp_path: Path) -> Path:
    p = tmp_path / "sites.csv"
    p.write_text("site,lon,lat\nA,129.5,20.5\n")
    return p


def wind_cli(tmp_path: Path, track: Path, *extra: str) -> subprocess.CompletedProcess:
    return twin("wind", "--track", track, "--storm", "", "--format", "csv",
                "--wind-averaging", "1min", "--sites", sites_csv(tmp_path),
                "--out", tmp_path / "out", *extra)


def nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize(("row", "needles"), [
    (("2020-09-01T06:00", 20.5, 129.5, 1e30, 955.0), ("1-min wind", ":3")),
    (("2020-09-01T06:00", 20.5, 129.5, 45.0, 1e30), ("central pressure", ":3")),
    (("2020-09-01T06:00", 20.5, 129.5, 45.0, 500.0), ("central pressure", ":3")),
    (("2020-09-01T06:00", 20.5, 129.5, "nan", 955.0), ("not a finite number", ":3")),
    (("2020-09-01T06:00", 20.5, 129.5, "inf", 955.0), ("not a finite number", ":3")),
    (("2020-09-01T06:00", "nan", 129.5, 45.0, 955.0), ("not a finite number", ":3")),
    (("2020-09-01T06:00", 95.0, 129.5, 45.0, 955.0), ("latitude 95", ":3")),
    (("2020-09-01T06:00", 20.5, 400.0, 45.0, 955.0), ("longitude 400", ":3")),
    (("2020-09-01T06:00", 60.5, 10.0, 45.0, 955.0), ("moves", "m/s", ":3")),
])
def test_absurd_csv_track_row_is_refused_naming_file_and_line(tmp_path, row, needles):
    track = csv_track(tmp_path, [GOOD_ROWS[0], row, GOOD_ROWS[2]])
    line = one_line_exit_2(wind_cli(tmp_path, track), "track.csv", *needles)
    assert "Traceback" not in line
    nothing_written(tmp_path)


def test_track_in_the_far_future_is_refused(tmp_path):
    rows = [(f"3020-09-01T0{h}:00", 20.0 + 0.1 * h, 130.0, 40.0, 960.0) for h in range(3)]
    one_line_exit_2(wind_cli(tmp_path, csv_track(tmp_path, rows)), "track.csv:2",
                    "1800-2299")
    nothing_written(tmp_path)


def test_storm_lasting_years_is_refused(tmp_path):
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], ("2021-09-01T12:00", 21.0, 129.0, 50.0, 950.0)]
    one_line_exit_2(wind_cli(tmp_path, csv_track(tmp_path, rows)), "track.csv:4", "days")
    nothing_written(tmp_path)


def test_absurd_hurdat2_wind_is_refused(tmp_path):
    lines = (TRACKS / "hurdat2_atlantic_2004_2018.txt").read_text().splitlines(keepends=True)
    head = next(i for i, ln in enumerate(lines) if ln.startswith("AL092008"))
    n = int(lines[head].split(",")[2])
    storm = lines[head:head + n + 1]
    f = storm[5].split(",")
    f[6] = " 999999"  # kt
    storm[5] = ",".join(f)
    p = tmp_path / "ike.txt"
    p.write_text("".join(storm))
    from hazards.typhoon import load_track

    with pytest.raises(HazardError, match=r"ike\.txt:6: 1-min wind .* is not physical"):
        load_track(p, "IKE:2008")


def test_absurd_ibtracs_pressure_is_refused(tmp_path):
    text = (TRACKS / "ibtracs_usa_jtwc_selected_storms.csv").read_text().splitlines()
    f = text[3].split(",")
    f[9] = "1e30"  # slp
    text[3] = ",".join(f)
    p = tmp_path / "ib.csv"
    p.write_text("\n".join(text) + "\n")
    from hazards.typhoon import read_tracks

    with pytest.raises(HazardError, match=r"ib\.csv:4: central pressure .* is not physical"):
        read_tracks(p)


def test_twin_wind_step_min_too_fine_is_refused_before_work(tmp_path):
    track = csv_track(tmp_path, GOOD_ROWS)
    one_line_exit_2(wind_cli(tmp_path, track, "--step-min", "1e-6"), "--step-min",
                    "time steps")
    nothing_written(tmp_path)


@pytest.mark.parametrize("extra", [
    ("--grid", "129,19,131,inf"),
    ("--grid", "129,19,131,21", "--grid-res-deg", "1e-320"),
    ("--grid", "129,19,131,21", "--grid-max-cells", "1000000000000"),
])
def test_twin_wind_absurd_grid_is_refused(tmp_path, extra):
    track = csv_track(tmp_path, GOOD_ROWS)
    one_line_exit_2(wind_cli(tmp_path, track, *extra), "--grid")
    nothing_written(tmp_path)


def scenario(tmp_path: Path, typhoon: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(f"""
name: hostile typhoon
city: {{builtin: {{seed: 7, scale: 0.2}}}}
horizon_h: 48
output_step_h: 2
realizations: 1
seed: 1
workers: 1
hazards:
  - type: typhoon
    track: {{file: '{TRACKS / "ibtracs_usa_jtwc_selected_storms.csv"}', storm: "SAOLA:2023"}}
    transforms: [{{shift_to_lonlat: [113.578, 22.215]}}]
{typhoon}
""")
    return p


@pytest.mark.parametrize(("block", "needles"), [
    ("    step_min: 1.0e-6", ("step_min", "time steps")),
    ("    lead_time_h: .inf", ("lead_time_h",)),
    ("    grid_max_cells: 1000000000000", ("grid_max_cells",)),
    ("    city_lonlat: [113.6, 95.0]", ("city_lonlat",)),
    ("    transforms: [{scale_intensity: 1.0e30}]", ("scale_intensity",)),
    ("    transforms: [{speed_factor: 1.0e-9}]", ("speed_factor",)),
    ("    forecast: {issue_time_utc: '2030-01-01T00:00:00Z', member: 1}",
     ("issue_time_utc", "outside")),
    ("    forecast: {issue_time_utc: '2023-08-30T00:00:00Z', member: -1}", ("member",)),
])
def test_validate_and_run_refuse_absurd_typhoon_sizes(tmp_path, block, needles):
    if "transforms" in block:  # replace the default transform list
        s = scenario(tmp_path, "")
        s.write_text(s.read_text().replace(
            "    transforms: [{shift_to_lonlat: [113.578, 22.215]}]\n", block + "\n"))
    else:
        s = scenario(tmp_path, block)
    one_line_exit_2(twin("validate", s), *needles)
    out = tmp_path / "run"
    one_line_exit_2(twin("run", s, "--out", out), *needles)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


@pytest.mark.parametrize(("rows", "needles"), [
    ("site,lon,lat,quantity,speed_mps\nA,114,22.3,max_gust,1e30\n", ("obs.csv:2", "speed_mps")),
    ("site,lon,lat,quantity,speed_mps\nA,114,95,max_gust,30\n", ("obs.csv:2", "lat")),
    ("site,lon,lat,quantity,speed_mps,height_m\nA,114,22.3,max_gust,30,-5\n",
     ("obs.csv:2", "height_m")),
    ("site,lon,lat,speed_mps\nA,114,22.3,30\n", ("obs.csv", "quantity")),
    ("", ("obs.csv", "cannot read")),
])
def test_twin_wind_bad_observations_are_refused(tmp_path, rows, needles):
    obs = tmp_path / "obs.csv"
    obs.write_text(rows)
    r = twin("wind", "--track", TRACKS / "ibtracs_usa_jtwc_selected_storms.csv", "--storm",
             "SAOLA:2023", "--observations", obs, "--out", tmp_path / "out")
    one_line_exit_2(r, *needles)
    nothing_written(tmp_path)


@pytest.mark.parametrize(("sites", "dem", "needles"), [
    ("site,lon,lat,height_m\nA,129.5,20.5,-5\n", None, ("sites.csv:2", "height_m")),
    ("site,lon,lat,z0_m\nA,129.5,20.5,nan\n", None, ("sites.csv:2", "z0_m")),
    ("site,lon,lat\nA,129.5,20.5\n", "not a raster", ("dem.tif", "DEM")),
])
def test_twin_wind_bad_site_columns_and_dem_are_refused(tmp_path, sites, dem, needles):
    (tmp_path / "sites.csv").write_text(sites)
    extra = []
    if dem is not None:
        (tmp_path / "dem.tif").write_text(dem)
        extra = ["--dem", tmp_path / "dem.tif"]
    r = twin("wind", "--track", csv_track(tmp_path, GOOD_ROWS), "--storm", "", "--format",
             "csv", "--wind-averaging", "1min", "--sites", tmp_path / "sites.csv",
             "--out", tmp_path / "out", *extra)
    one_line_exit_2(r, *needles)
    nothing_written(tmp_path)


@pytest.mark.parametrize(("extra", "needles"), [
    (("--members", "100000"), ("--members",)),
    (("--members", "5", "--issue-time", "yesterday"), ("--issue-time",)),
    (("--members", "5", "--issue-time", "2030-01-01T00:00Z"), ("--issue-time", "outside")),
])
def test_twin_wind_bad_ensemble_options_are_refused(tmp_path, extra, needles):
    one_line_exit_2(wind_cli(tmp_path, csv_track(tmp_path, GOOD_ROWS), *extra), *needles)
    nothing_written(tmp_path)
