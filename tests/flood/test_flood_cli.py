"""``twin flood`` through configure_parser/run, as the lead's CLI will call it."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio

from common.errors import HazardError, InputError
from hazards.flood import cli

ROOT = Path(__file__).resolve().parents[2]
LHC = ROOT / "data" / "dem" / "SRTMGL3_40.09_-105.55_40.21_-105.35.asc"
X0, Y0 = 500000.0, 3400000.0


def _probes(out: Path) -> list[dict]:
    with open(out / "probes.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="twin flood")
    cli.configure_parser(parser)
    return parser.parse_args(list(argv))


def test_run_writes_maps_and_probes(tmp_path, valley_dem, capsys):
    out = tmp_path / "run"
    rc = cli.run(_args("--dem", str(valley_dem), "--hours", "0.3", "--rain-mmh", "20",
                       f"--inflow={X0 + 195},{Y0 - 15},4", "--outflow-edges", "S",
                       f"--probe={X0 + 195},{Y0 - 255}", f"--probe={X0 + 15},{Y0 - 255}",
                       "--output-step-h", "0.1", "--out", str(out)))
    assert rc == 0
    captured = capsys.readouterr()
    assert "volume balance" in captured.out and "relative" in captured.out
    assert "flood" in captured.err  # the progress bar
    assert sorted(p.name for p in out.iterdir()) == [
        "arrival_time.tif", "max_depth.tif", "max_speed.tif", "probes.csv"]
    with rasterio.open(out / "max_depth.tif") as src:
        assert src.crs.to_epsg() == 32650 and src.shape == (30, 40)
        depth = src.read(1)
    with rasterio.open(out / "arrival_time.tif") as src:
        arrival = src.read(1)
    assert np.nanmax(depth) > 0.05
    wet = depth > 0.05
    assert np.all(np.isfinite(arrival[wet])) and np.nanmax(arrival) <= 0.3
    rows = _probes(out)
    assert list(rows[0]) == ["time_h", "probe", "x", "y", "depth_m", "stage_m"]
    assert len(rows) == 4 * 2
    last = {r["probe"]: r for r in rows if float(r["time_h"]) == pytest.approx(0.3)}
    assert float(last["p1"]["depth_m"]) > float(last["p2"]["depth_m"])
    assert not list(tmp_path.glob(".run.*"))


def test_probe_outside_the_dem_fails_before_writing(tmp_path, valley_dem):
    out = tmp_path / "run"
    with pytest.raises(HazardError, match="--probe .* is outside the DEM"):
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.1", "--probe=0,0",
                      "--out", str(out)))
    assert not out.exists()


def test_negative_or_malformed_inflow(tmp_path, valley_dem):
    with pytest.raises(HazardError, match="must be >= 0"):
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.1",
                      f"--inflow={X0 + 100},{Y0 - 100},-3", "--out", str(tmp_path / "o")))
    with pytest.raises(HazardError, match="expected 3 comma-separated numbers"):
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.1", "--inflow=1,2",
                      "--out", str(tmp_path / "o")))
    with pytest.raises(HazardError, match="outside the DEM"):
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.1", "--inflow=1,2,3",
                      "--out", str(tmp_path / "o")))


def test_existing_output_needs_overwrite_and_is_replaced_whole(tmp_path, valley_dem):
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    argv = ["--dem", str(valley_dem), "--hours", "0.1", "--rain-mmh", "5", "--out", str(out),
            "--no-progress"]
    with pytest.raises(InputError, match="exists; pass --overwrite"):
        cli.run(_args(*argv))
    assert cli.run(_args(*argv, "--overwrite")) == 0
    assert not (out / "stale.txt").exists() and (out / "max_depth.tif").exists()


def test_a_failure_while_writing_leaves_no_half_written_folder(tmp_path, valley_dem,
                                                                monkeypatch):
    calls = []

    def broken(path, data, grid):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        Path(path).write_bytes(b"x")

    monkeypatch.setattr(cli, "_write_tif", broken)
    out = tmp_path / "run"
    with pytest.raises((OSError, InputError), match="disk full"):  # InputError: one line, exit 2
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.1", "--out", str(out),
                      "--no-progress"))
    assert not out.exists()
    assert not list(tmp_path.glob(".run.*"))


def test_stage_boundary_file_and_rain_file(tmp_path, valley_dem):
    (tmp_path / "surge.csv").write_text("time_h,stage_m\n0,0\n0.2,1.5\n")
    (tmp_path / "surge.yaml").write_text("edge: S\nstage: surge.csv\n")
    (tmp_path / "rain.csv").write_text("time_h,rain_mmh\n0,10\n0.1,30\n0.2,0\n")
    out = tmp_path / "run"
    assert cli.run(_args("--dem", str(valley_dem), "--hours", "0.2", "--stage-boundary",
                         str(tmp_path / "surge.yaml"), "--rain", str(tmp_path / "rain.csv"),
                         f"--probe={X0 + 195},{Y0 - 295}", "--out", str(out),
                         "--no-progress")) == 0
    rows = _probes(out)
    assert float(rows[-1]["depth_m"]) > 0.1  # the southern edge cell floods from the sea
    (tmp_path / "bad.csv").write_text("time_h,rain_mmh\n0,10\n0.1,\n")
    with pytest.raises(HazardError, match=r"bad.csv:3: missing rain_mmh"):
        cli.run(_args("--dem", str(valley_dem), "--hours", "0.2", "--rain",
                      str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o")))


def test_real_lon_lat_dem_with_lon_lat_probe(tmp_path):
    out = tmp_path / "lhc"
    assert cli.run(_args("--dem", str(LHC), "--hours", "0.1", "--rain-mmh", "60",
                         "--outflow-edges", "E", "--probe=-105.39,40.115", "--out", str(out),
                         "--no-progress")) == 0
    with rasterio.open(out / "max_depth.tif") as src:
        assert src.crs.to_epsg() == 32613
    rows = _probes(out)
    assert rows[0]["x"] == "-105.390" and float(rows[-1]["stage_m"]) > 1900
