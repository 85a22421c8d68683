"""A warning stages crews on what the forecast shows at its issue time (twin.warning)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from common.intensity import IntensityMeasure

TRACKS = Path(__file__).resolve().parents[2] / "data" / "tracks"
GUST = IntensityMeasure.GUST_MPS


def warning_scenario(city: Path, tmp_path: Path, *, hazards: list | None = None,
                     **warning) -> Path:
    doc = {
        "name": "tiny with a warning", "city": {"path": str(city)},
        "horizon_h": 48, "output_step_h": 2, "realizations": 2, "seed": 5, "workers": 1,
        "crews": {"power": 2, "water": 1, "roads": 1, "mobilisation_h": 6},
        "hazards": hazards or [{
            "type": "typhoon", "step_min": 60, "city_lonlat": [113.6, 22.3],
            "track": {"file": str(TRACKS / "jma_rsmc_tokyo_bst_2015_2021.txt"),
                      "storm": "MANGKHUT:2018"},
            "transforms": [{"shift_to_lonlat": [113.6, 22.3]}], "lead_time_h": 24}],
        "warning": {"issue_time_utc": "2018-09-13T18:00:00Z", "members": 4, "seed": 3,
                    "stage": [{"utility": "power", "count": 2, "sites": 2}], **warning},
    }
    p = tmp_path / "w.yaml"
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return p


def test_the_warning_stages_crews_at_the_riskiest_road_nodes(zhuhai_city, tmp_path):
    from twin.actions import STAGED_BY
    from twin.run import prepare, run_monte_carlo
    from twin.scenario import load_scenario

    prep = prepare(load_scenario(warning_scenario(zhuhai_city, tmp_path)))
    staged = [d for d in prep.config.interventions if getattr(d, "by", None) == STAGED_BY]
    assert len(staged) == 1
    a = staged[0].action
    assert (a.name, a.utility, a.count, staged[0].time_h) == ("preposition", "power", 2, 0.0)
    roads = set(prep.twin.ids[prep.twin.mask(network="roads") & ~prep.twin.is_edge])
    assert set(a.assets) <= roads and 1 <= len(a.assets) <= 2
    plan = dict(prep.notes)["warning"]
    assert [s["road_node"] for s in plan["staged"]] == list(a.assets)
    risk = [s["customers_at_risk"] for s in plan["staged"]]
    assert all(r > 0 for r in risk) and risk == sorted(risk, reverse=True)
    assert all(s["assets"] for s in plan["staged"])
    # decided on the forecast: the same file gives the same staging
    again = prepare(load_scenario(warning_scenario(zhuhai_city, tmp_path)))
    assert dict(again.notes) == dict(prep.notes)
    # and the run starts with the crews there (a staging the engine refused would raise)
    assert len(run_monte_carlo(prep, workers=1)) == 2


def test_staging_ranks_road_nodes_by_expected_customers(tiny_twin):
    from twin.warning import staging_sites

    t = tiny_twin
    risk = np.zeros(t.n)
    served = np.nonzero(t.mask(network="power") & (t.impact > 0) & (t.access_node >= 0))[0]
    a, b = served[np.argsort(-t.impact[served])][:2]  # the two largest impacts
    risk[a], risk[b] = 0.1, 1.0
    sites = staging_sites(t, risk, "power", 5)
    by_node = {s.road_node: s.score for s in sites}
    assert sum(by_node.values()) == pytest.approx(0.1 * t.impact[a] + 1.0 * t.impact[b])
    assert [s.score for s in sites] == sorted(by_node.values(), reverse=True)
    assets = staging_sites(t, risk, "power", 5, "assets_at_risk")
    assert sum(s.score for s in assets) == pytest.approx(1.1)  # expected damaged assets
    assert str(t.ids[b]) in sites[0].assets or t.access_node[a] == t.access_node[b]
    assert staging_sites(t, risk, "water", 5) == []  # nothing of water's at risk
    assert len(staging_sites(t, risk, "power", 1)) == 1


def test_member_risk_combines_curves_and_outages(tiny_twin):
    from hazards.base import HazardField
    from networks.fragility import AssetModels
    from twin.warning import forecast_risk, member_risk

    t = tiny_twin
    models = AssetModels.defaults()
    calm = HazardField(times_h=np.array([0.0, 1.0]),
                       intensity={GUST: np.zeros((2, t.n), dtype=np.float32)})
    storm = HazardField(times_h=np.array([0.0, 1.0]),
                        intensity={GUST: np.array([np.zeros(t.n), np.full(t.n, 70.0)],
                                                  dtype=np.float32)})
    assert not member_risk(t, models, calm).any()
    p = member_risk(t, models, storm)
    assert ((p >= 0) & (p <= 1)).all() and p.max() > 0.5
    # the ensemble's risk is the mean over its members
    np.testing.assert_allclose(forecast_risk(t, models, [calm, storm]), p / 2)


@pytest.mark.parametrize("change, message", [
    ({"hazard": 3}, "warning.hazard: hazard 3 does not exist"),
    ({"stage": [{"utility": "power", "count": 5, "sites": 2}]},
     "5 power crews to stage, the scenario has 2"),
    ({"issue_time_utc": "2030-01-01T00:00:00Z"}, "lies outside the track"),
    ({"stage": [{"utility": "sewer", "count": 1, "sites": 1}]}, "warning.stage.0.utility"),
    ({"stage": [{"utility": "gas", "count": 1, "sites": 1}]},
     "warning.stage.0.utility: city 'tiny' has no gas network"),
])
def test_bad_warnings_are_one_line_errors(zhuhai_city, tmp_path, change, message):
    p = warning_scenario(zhuhai_city, tmp_path, **change)
    r = subprocess.run([sys.executable, "-m", "twin.cli", "validate", str(p)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_flood_has_no_forecast_to_stage_on(zhuhai_city, tmp_path):
    from common.errors import InputError
    from twin.scenario import load_scenario

    flood = [{"type": "flood", "rain": [[0, 50], [2, 0]],
              "duration_h": 3}]
    with pytest.raises(InputError, match="is a flood, which has no forecast ensemble"):
        load_scenario(warning_scenario(zhuhai_city, tmp_path, hazards=flood))


def test_a_drill_saves_the_warning_not_its_staging(zhuhai_city, tmp_path):
    """The saved drill keeps the warning block, which stages the crews again: its
    interventions must not stage them a second time."""
    from twin.drill.session import DrillSession
    from twin.scenario import ScenarioSpec

    s = DrillSession.from_file(warning_scenario(zhuhai_city, tmp_path))
    doc = s.scenario_doc()
    assert "warning" in doc
    assert not any(iv["action"] == "preposition" for iv in doc["interventions"])
    assert ScenarioSpec.model_validate({**doc, "base_dir": tmp_path}).warning is not None
