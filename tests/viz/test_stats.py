"""One median everywhere: summary.json, the run table, plots and compare agree."""

import numpy as np
import pandas as pd
import pytest

from common.stats import median, median_index, quantile, time_to_level


def test_lower_median_is_one_outcome_and_handles_never():
    assert median([3.0, 1.0, 4.0, 2.0]) == 2.0  # even count: the lower middle value
    assert median([1.0, np.nan, np.nan]) == np.inf  # most never recover: "never"
    assert median([5.0, np.nan]) == 5.0
    x = np.array([9.0, 1.0, 7.0, 3.0])
    assert x[median_index(x)] == median(x)
    assert quantile(np.arange(20.0), 0.95) == 18.0


def test_t90_is_a_duration_from_the_first_drop():
    t = np.array([0.0, 10.0, 20.0, 50.0])
    assert time_to_level(t, np.array([1.0, 0.5, 0.95, 1.0]), 0.9) == 10.0
    assert np.isnan(time_to_level(t, np.array([1.0, 0.5, 0.6, 0.7]), 0.9))
    assert time_to_level(t, np.ones(4), 0.9) == 0.0


def test_summary_and_compare_use_the_same_median(tiny_run, tmp_path):
    """An even number of realizations: a linear median would give values no run had."""
    from viz_synthetic import make_run

    from twin.results import RunTables, summarize
    from viz.plots import metric_table
    from viz.rundata import RunData

    other = make_run(tmp_path / "four", realizations=4)
    m = pd.read_parquet(other / "metrics.parquet")
    m.loc[m.network == "system", "resilience_loss_h"] = [28.2, 50.6, 31.0, 44.0]
    m.to_parquet(other / "metrics.parquet")
    run = RunData.from_dir(other)
    tables = RunTables(run.curves, run.loss, run.events, run.metrics)
    summary = summarize(tables, scenario="x", horizon_h=12.0, realizations=4, seed=0,
                        customers=np.ones(4))
    table = metric_table([run], ["four"])
    row = table[table.network == "system"].iloc[0]
    s = summary["networks"]["system"]
    assert s["resilience_loss_h"]["median"] == row.resilience_loss_h_median == 31.0
    assert s["min_service"]["median"] == pytest.approx(row.min_service_median)
    # the replay's default outcome is the one whose loss is the median
    r = run.default_realization()
    sysm = run.metrics[run.metrics.network == "system"].set_index("realization")
    assert sysm.loc[r, "resilience_loss_h"] == 31.0
