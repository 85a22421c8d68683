"""Fixtures of the drill tests: the tiny city with a short damage map, 1 crew per utility."""

from __future__ import annotations

import pytest


def spec_doc(**kw) -> dict:
    doc = {"name": "tiny drill", "city": {"builtin": {}}, "horizon_h": 96, "realizations": 2,
           "seed": 3,
           "hazards": [{"type": "damage_map", "events": [
               {"time_h": 1, "assets": ["SUB", "P2", "RE10-20"], "damage_state": "moderate"},
               {"time_h": 2, "area": {"circle": [300, 100, 60]}, "damage_state": "slight",
                "probability": 0.5}]}],
           "crews": {"power": 2, "water": 1, "roads": 1}}
    doc.update(kw)
    return doc


@pytest.fixture
def tiny_prep(tiny):
    from twin.run import prepare
    from twin.scenario import ScenarioSpec

    def make(**kw):
        return prepare(ScenarioSpec.model_validate(spec_doc(**kw)), net=tiny)

    return make


@pytest.fixture
def engine(tiny_prep):
    from twin.engine import Engine
    from twin.run import realization_rng

    def make(r: int = 0, **kw):
        prep = tiny_prep(**kw)
        return Engine(prep.twin, prep.fields, prep.models, prep.config,
                      realization_rng(prep.spec.seed, r))

    return make
