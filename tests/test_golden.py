"""Golden recovery curves of the built-in city: any change to the model shows up here.

A deliberate model change regenerates the file:
``TWIN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py`` — and the
commit says why the curves moved.
"""

import os
from pathlib import Path

import pandas as pd

from twin.results import build_tables
from twin.run import prepare, run_monte_carlo
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden" / "demo_curves.csv"


def test_demo_recovery_curves_match_golden_file():
    spec = load_scenario(ROOT / "scenarios" / "demo.yaml", realizations=3, horizon_h=96.0)
    prep = prepare(spec)
    res = run_monte_carlo(prep, workers=1)
    curves = build_tables(prep.twin, res, horizon_h=96.0, output_step_h=6.0).curves
    curves["served_fraction"] = curves.served_fraction.round(9)
    if os.environ.get("TWIN_UPDATE_GOLDEN"):
        curves.to_csv(GOLDEN, index=False)
    want = pd.read_csv(GOLDEN)
    pd.testing.assert_frame_equal(curves.reset_index(drop=True), want, check_dtype=False,
                                  atol=1e-9)
