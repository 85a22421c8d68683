"""Crews stand down in high wind: the arithmetic of paused work, and the engine using it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.stand_down import calm_finish, calm_start

T = np.array([0.0, 1.0, 2.0, 3.0, 4.0])  # last value holds to 5 h


def test_calm_everywhere_is_plain_work():
    assert calm_finish(0.5, 2.0, T, np.zeros(5, bool)) == pytest.approx(2.5)


def test_work_pauses_through_a_windy_spell():
    windy = np.array([False, True, True, False, False])  # windy on [1, 3)
    assert calm_finish(0.5, 1.0, T, windy) == pytest.approx(3.5)  # 0.5 h before, 0.5 after
    assert calm_finish(1.5, 1.0, T, windy) == pytest.approx(4.0)  # waits to 3, works to 4
    assert calm_start(1.5, T, windy) == pytest.approx(3.0)
    assert calm_start(0.5, T, windy) == pytest.approx(0.5)


def test_the_last_value_holds_one_step_then_calm():
    windy = np.array([False, False, False, False, True])  # windy on [4, 5)
    assert calm_start(4.2, T, windy) == pytest.approx(5.0)
    assert calm_finish(3.5, 1.0, T, windy) == pytest.approx(5.5)
    assert calm_finish(7.0, 1.0, T, windy) == pytest.approx(8.0)


def calm_hours(a: float, z: float, windy: np.ndarray) -> float:
    """Calm time in [a, z], by fine sampling (the reference)."""
    ts = np.linspace(a, z, 20001)[:-1]
    b = np.append(T, 5.0)
    i = np.searchsorted(b, ts, side="right") - 1
    w = (i >= 0) & (i < len(windy)) & windy[np.clip(i, 0, len(windy) - 1)]
    return float((~w).mean() * (z - a))


@settings(max_examples=60, deadline=None)
@given(st.floats(-2, 7), st.floats(0.01, 6), st.lists(st.booleans(), min_size=5, max_size=5))
def test_finish_gives_exactly_the_work_in_calm_time(start, work, pattern):
    windy = np.array(pattern)
    end = calm_finish(start, work, T, windy)
    assert end >= start + work - 1e-9
    assert calm_hours(start, end, windy) == pytest.approx(work, abs=2e-3 * (end - start) + 1e-6)


def test_engine_crews_wait_for_the_wind_to_drop(tiny_twin):
    from common.intensity import IntensityMeasure
    from hazards.base import ForcedDamage, HazardField
    from networks.fragility import AssetModels
    from twin.engine import Engine, RunConfig
    from twin.recorder import EVENTS

    t = tiny_twin
    sub = t.index["SUB"]
    times = np.arange(0.0, 13.0)
    wind = np.zeros((len(times), t.n), dtype=np.float32)
    wind[1:9, :] = 30.0  # a gale from 1 h to 9 h over the whole city
    forced = ForcedDamage(np.array([0.5]), np.array([sub]), np.array([4], dtype=np.int8),
                          np.array([1.0]))
    field = HazardField(times, {IntensityMeasure.SUSTAINED_WIND_MPS: wind}, forced=forced)
    models = AssetModels.defaults()

    def first_repair(limit):
        cfg = RunConfig(horizon_h=200.0, crews=(1, 1, 1), stand_down_wind_mps=limit)
        eng = Engine(t, [field], models, cfg, np.random.default_rng(1))
        eng.run()
        res = eng.result()
        started = res.ev_type == EVENTS.index("repair_started")
        return float(res.ev_time_h[started & (res.ev_comp == sub)].min())

    assert first_repair(None) < 9.0  # no rule: the crew works through the gale
    assert first_repair(15.6) >= 9.0  # the rule: it waits for the wind to drop
