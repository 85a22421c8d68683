"""A forecast ensemble across the Monte Carlo realizations: realization r meets member r mod N."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.intensity import IntensityMeasure

TRACKS = Path(__file__).resolve().parents[2] / "data" / "tracks"


def scenario(city: Path, tmp_path: Path, *, members: int | None, realizations: int) -> Path:
    forecast = {"issue_time_utc": "2018-09-13T06:00:00Z", "seed": 2}
    if members is not None:
        forecast["members"] = members
    import yaml

    doc = {
        "name": "tiny under Mangkhut's forecast", "city": {"path": str(city)},
        "horizon_h": 72, "output_step_h": 2, "realizations": realizations, "seed": 5,
        "workers": 1, "crews": {"power": 1, "water": 1, "roads": 1},
        "hazards": [{"type": "typhoon", "step_min": 60, "city_lonlat": [113.6, 22.3],
                     "track": {"file": str(TRACKS / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                               "storm": "MANGKHUT:2018"},
                     "forecast": forecast}],
    }
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return p


def test_realizations_cycle_through_the_members(zhuhai_city, tmp_path):
    from twin.run import prepare, run_monte_carlo
    from twin.scenario import load_scenario

    prep = prepare(load_scenario(scenario(zhuhai_city, tmp_path, members=3, realizations=6)))
    assert prep.n_members() == 3
    gust = IntensityMeasure.GUST_MPS
    peaks = [float(prep.fields_for(r)[0].intensity[gust].max()) for r in range(6)]
    assert peaks[:3] == peaks[3:]  # r and r + 3 meet the same member
    assert len(set(peaks[:3])) == 3  # and the three members differ
    assert prep.fields_for(0)[0] is prep.fields[0]
    results = run_monte_carlo(prep, workers=1)
    assert len(results) == 6


def test_one_member_without_members(zhuhai_city, tmp_path):
    from twin.run import prepare
    from twin.scenario import load_scenario

    prep = prepare(load_scenario(scenario(zhuhai_city, tmp_path, members=None, realizations=4)))
    assert prep.n_members() == 1 and prep.members == ()
    assert prep.fields_for(3) == prep.fields


def test_more_members_than_realizations_warns(zhuhai_city, tmp_path):
    from twin.run import prepare
    from twin.scenario import load_scenario

    with pytest.warns(UserWarning, match="meet only the first 2 of 3 forecast members"):
        prepare(load_scenario(scenario(zhuhai_city, tmp_path, members=3, realizations=2)))


def test_summary_records_the_ensemble(zhuhai_city, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "twin.cli", "run",
                        str(scenario(zhuhai_city, tmp_path, members=2, realizations=4)), "--out",
                        str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["forecast_members"] == 2
    assert np.isfinite(s["networks"]["system"]["min_service"]["median"])
