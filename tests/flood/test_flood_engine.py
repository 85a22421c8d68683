"""End to end: a flood on a small built-in city closes roads that reopen when dry."""

from __future__ import annotations

import time

import numpy as np
import pytest
import yaml


@pytest.mark.slow
def test_flood_closes_roads_and_they_reopen(tmp_path, monkeypatch):
    from twin.results import build_tables
    from twin.run import prepare, run_monte_carlo
    from twin.scenario import load_scenario

    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path / "cache"))
    doc = {
        "name": "small flood", "city": {"builtin": {"seed": 7, "scale": 0.4}},
        "horizon_h": 24, "output_step_h": 1, "realizations": 2, "seed": 5, "workers": 1,
        "crews": {"power": 2, "water": 2, "roads": 2, "mobilisation_h": 1},
        "hazards": [{
            "type": "flood", "cell_size_m": 60, "duration_h": 6, "output_step_h": 0.5,
            "rain": [[0, 0], [0.5, 80], [1.5, 0]], "losses_mmh": 30,
            "stage_boundaries": [{"edge": "S", "initial_fill": True,
                                  "stage": [[0, 0.5], [2, 1.5], [4, 0.5]]}],
        }],
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    t0 = time.perf_counter()
    spec = load_scenario(path)
    prep = prepare(spec)
    results = run_monte_carlo(prep, workers=1)
    tables = build_tables(prep.twin, results, horizon_h=24, output_step_h=1)
    assert time.perf_counter() - t0 < 120
    ev = tables.events
    roads = ev[ev.asset_id.isin(prep.twin.ids[prep.twin.asset_class == _cls("road_segment")])]
    out = roads[roads.event == "outage"]
    back = roads[roads.event == "restored"]
    assert out.realization.nunique() == 2 and len(out) >= 5
    # closed streets reopen once the water is below 0.3 m again
    reopened = set(out.asset_id) & set(back.asset_id)
    assert len(reopened) >= 0.5 * out.asset_id.nunique()
    assert (back.time_h.min() > out.time_h.min()) and back.time_h.max() <= 24
    led = prep.fields[0].meta["volume_ledger_m3"]
    assert led["losses"] > 0 and abs(led["error"]) < 1e-6 * led["initial"]
    roads_curve = tables.curves[tables.curves.network == "roads"]
    assert roads_curve.served_fraction.min() < 1.0
    assert np.isclose(roads_curve[roads_curve.time_h == 24].served_fraction.min(), 1.0, atol=0.02)


def _cls(name: str) -> int:
    from networks.schema import AssetClass
    from twin.compile import CLASS_INDEX

    return CLASS_INDEX[AssetClass(name)]
