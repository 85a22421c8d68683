"""Self-healing feeders (twin.flisr) on a hand-built two-feeder network with one tie.

Feeder A (from substation SA) and feeder B (from SB) each run through six nodes in
three sections: breaker on the head segment, sectionalizers after the second and the
fourth node; a normally open tie joins their far ends (A6 - B6).

    SA =brk= A1 - A2 =sec= A3 - A4 =sec= A5 - A6
                                              |  tie (normally open)
    SB =brk= B1 - B2 =sec= B3 - B4 =sec= B5 - B6
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from networks.fragility import AssetModels
from networks.interdependencies import proximity_dependencies
from networks.model import Dependency, LifelineNetwork
from networks.schema import DependencyKind, NetworkKind
from networks.validate import validate_network
from tests.fixtures import tiny_city
from twin.compile import compile_twin
from twin.engine import EVENTS, Engine, RunConfig
from twin.flisr import SelfHealing

FAULT_H = 1.0


def two_feeders(*, b_head_max_i_ka: float = 0.4, automated: bool = True,
                tie: dict | None = None) -> LifelineNetwork:
    base = tiny_city(cooling=False, tank=False)
    p = nx.Graph()
    p.add_node("GS", asset_class="grid_supply", x_m=0.0, y_m=400.0, capacity_mw=100.0)
    for sub, y in (("SA", 300.0), ("SB", 100.0)):
        p.add_node(sub, asset_class="substation", x_m=0.0, y_m=y, voltage_kv=110.0,
                   capacity_mva=40.0)
        p.add_edge("GS", sub, id=f"TL-{sub}", asset_class="transmission_line",
                   length_m=300.0, voltage_kv=110.0, overhead=False)
    line = {"overhead": False, "r_ohm_per_km": 0.122, "x_ohm_per_km": 0.105,
            "c_nf_per_km": 456.0, "max_i_ka": 0.4, "parallel": 1}
    for f, y, sub in (("A", 300.0, "SA"), ("B", 100.0, "SB")):
        prev = sub
        for k in range(1, 7):
            nid = f"{f}{k}"
            p.add_node(nid, asset_class="power_load", x_m=60.0 * k, y_m=y, demand_mw=0.5,
                       customers=100.0, critical=False)
            attrs = dict(line, id=f"{f}-E{k}", asset_class="feeder_segment", length_m=60.0)
            if k == 1:
                attrs.update(switch="breaker", automated=True)
                if f == "B":
                    attrs["max_i_ka"] = b_head_max_i_ka
            elif k in (3, 5):
                attrs.update(switch="sectionalizer", automated=automated)
            p.add_edge(prev, nid, **attrs)
            prev = nid
    p.add_edge("A6", "B6", **{**line, "id": "TIE", "asset_class": "feeder_segment",
                              "length_m": 200.0, "switch": "tie", "automated": automated,
                              **(tie or {})})
    graphs = {NetworkKind.POWER: p, NetworkKind.WATER: base.graphs[NetworkKind.WATER],
              NetworkKind.ROADS: base.graphs[NetworkKind.ROADS]}
    deps = (Dependency("TP", "B1", DependencyKind.POWER_SUPPLY),
            Dependency("PS", "B2", DependencyKind.POWER_SUPPLY))
    net = LifelineNetwork("two feeders", graphs, proximity_dependencies(graphs, deps),
                          "EPSG:32649", None, None, {})
    validate_network(net)
    return net


def engine(net: LifelineNetwork, healing: SelfHealing | None, *,
           fault: str = "A-E4", service=None) -> Engine:
    from twin.physics.settings import ServiceSettings

    cfg = RunConfig(horizon_h=12.0, crews=(0, 0, 0), self_healing=healing,
                    service=service or ServiceSettings(),
                    interventions=({"time_h": FAULT_H, "action": "fail", "assets": [fault],
                                    "damage_state": "complete"},))
    return Engine(compile_twin(net), [], AssetModels.defaults(), cfg,
                  np.random.default_rng(1))


def served(eng: Engine) -> set[str]:
    t = eng.twin
    loads = [f"{f}{k}" for f in "AB" for k in range(1, 7)]
    return {x for x in loads if eng.state.served[t.index[x]] > 0}


ALL = {f"{f}{k}" for f in "AB" for k in range(1, 7)}


def test_fault_in_middle_section_leaves_exactly_that_section_out():
    eng = engine(two_feeders(), SelfHealing(isolate_min=1, restore_min=15))
    eng.run(FAULT_H + 0.5 / 60)  # tripped: all of feeder A out
    assert served(eng) == ALL - {f"A{k}" for k in range(1, 7)}
    eng.run(FAULT_H + 2 / 60)  # isolated, breaker reclosed: section 1 back
    assert served(eng) == ALL - {"A3", "A4", "A5", "A6"}
    eng.run(FAULT_H + 14.5 / 60)
    assert served(eng) == ALL - {"A3", "A4", "A5", "A6"}
    eng.run(FAULT_H + 15.5 / 60)  # tie closed: section 3 fed from feeder B
    assert served(eng) == ALL - {"A3", "A4"}
    eng.run(6.0)
    assert served(eng) == ALL - {"A3", "A4"}


def test_switch_events_are_recorded():
    eng = engine(two_feeders(), SelfHealing())
    eng.run(3.0)
    res = eng.result()
    sw = res.ev_type == EVENTS.index("switched")
    got = [(round(float(t), 4), str(eng.twin.ids[c]), "open" if s else "closed")
           for t, c, s in zip(res.ev_time_h[sw], res.ev_comp[sw], res.ev_state[sw],
                              strict=True)]
    iso, rest = round(FAULT_H + 1 / 60, 4), round(FAULT_H + 15 / 60, 4)
    assert got == [(FAULT_H, "A-E1", "open"), (iso, "A-E3", "open"), (iso, "A-E5", "open"),
                   (iso, "A-E1", "closed"), (rest, "TIE", "closed")]
    from twin.results import build_tables

    ev = build_tables(eng.twin, [res], horizon_h=3.0, output_step_h=1.0).events
    rows = ev[ev.event == "switched"]
    assert list(rows.switch_state) == ["open", "open", "open", "closed", "closed"]
    assert set(ev[ev.event != "switched"].switch_state) == {""}


def test_overloaded_tie_stays_open():
    # feeder B's head cable carries B's own load (3 MW, 3.16 MVA; 6.9 MVA at 0.4 kA)
    # but not the 1 MW of A's third section more
    i_ka = 3.5 / (np.sqrt(3.0) * 10.0)
    eng = engine(two_feeders(b_head_max_i_ka=i_ka), SelfHealing())
    eng.run(6.0)
    assert served(eng) == ALL - {"A3", "A4", "A5", "A6"}
    sw = eng.result().ev_type == EVENTS.index("switched")
    assert "TIE" not in set(eng.twin.ids[eng.result().ev_comp[sw]])


def test_manual_switches_wait_for_a_crew():
    eng = engine(two_feeders(automated=False), SelfHealing(manual_dispatch_min=30))
    eng.run(FAULT_H + 20 / 60)  # automation can do nothing: the whole feeder stays out
    assert served(eng) == ALL - {f"A{k}" for k in range(1, 7)}
    eng.run(FAULT_H + 3.0)  # crews drove there and switched
    assert served(eng) == ALL - {"A3", "A4"}
    sw = eng.result().ev_type == EVENTS.index("switched")
    first_manual = min(t for t, c in zip(eng.result().ev_time_h[sw], eng.result().ev_comp[sw],
                                         strict=True) if eng.twin.ids[c] != "A-E1")
    assert first_manual >= FAULT_H + 30 / 60


def test_repair_returns_to_the_normal_configuration():
    net = two_feeders()
    cfg = RunConfig(horizon_h=200.0, crews=(1, 1, 1), self_healing=SelfHealing(),
                    interventions=({"time_h": FAULT_H, "action": "fail", "assets": ["A-E4"],
                                    "damage_state": "complete"},))
    eng = Engine(compile_twin(net), [], AssetModels.defaults(), cfg, np.random.default_rng(1))
    eng.run()
    assert served(eng) == ALL
    sw = eng.twin.switches
    assert np.array_equal(eng.flisr.open, sw.normally_open)
    assert np.array_equal(eng.state.switch_open[sw.edge], sw.normally_open)


@pytest.mark.parametrize("healing", [None, SelfHealing(enabled=False)])
def test_without_self_healing_a_fault_cuts_only_what_lies_behind_it(healing):
    eng = engine(two_feeders(), healing)
    assert eng.flisr is None
    eng.run(6.0)
    assert served(eng) == ALL - {"A4", "A5", "A6"}
    assert eng.result().ev_state is None


# ---------------------------------------------------------------- the built-in city


@pytest.fixture(scope="module")
def auto_city():
    from networks.builtin import build_builtin_city

    return build_builtin_city(7, scale=0.3, feeder_automation=0.5)


def test_builtin_feeders_have_breakers_sections_and_ties(auto_city):
    from networks.builtin import build_builtin_city

    g = auto_city.graph(NetworkKind.POWER)
    plain = build_builtin_city(7, scale=0.3).graph(NetworkKind.POWER)
    # the same assets with switch fields added, plus the ties
    extra = {a["id"] for _, _, a in g.edges(data=True)} - {
        a["id"] for _, _, a in plain.edges(data=True)}
    assert extra and all(x.startswith("P-TIE-") for x in extra)
    assert set(g.nodes) == set(plain.nodes)
    kind = {n: a["asset_class"] for n, a in g.nodes(data=True)}
    heads = [(u, v, a) for u, v, a in g.edges(data=True) if a["asset_class"] ==
             "feeder_segment" and "substation" in (kind[u], kind[v])]
    assert heads and all(a.get("switch") == "breaker" and a["automated"] for *_, a in heads)
    # sections: feeder pieces between switches; 3-5 per feeder with enough segments
    cut = nx.Graph()
    cut.add_nodes_from(n for n in g if kind[n] != "substation")
    cut.add_edges_from((u, v) for u, v, a in g.edges(data=True)
                       if a["asset_class"] == "feeder_segment" and not a.get("switch"))
    feeder = nx.Graph(cut)
    feeder.add_edges_from((u, v) for u, v, a in g.edges(data=True)
                          if a.get("switch") == "sectionalizer")
    for comp in nx.connected_components(feeder):
        if not any(kind[n] in ("power_load", "distribution_node") for n in comp):
            continue
        n_sec = nx.number_connected_components(cut.subgraph(comp))
        assert n_sec <= 5
        if feeder.subgraph(comp).number_of_edges() >= 8:
            assert n_sec >= 3, sorted(comp)[:3]
    ties = [(u, v, a) for u, v, a in g.edges(data=True) if a.get("switch") == "tie"]
    fid = {n: i for i, c in enumerate(nx.connected_components(feeder)) for n in c}
    assert ties and all(a["normally_open"] and fid[u] != fid[v] for u, v, a in ties)
    sw = [a for *_, a in g.edges(data=True) if a.get("switch") in ("sectionalizer", "tie")]
    share = np.mean([a["automated"] for a in sw])
    assert 0.3 < share < 0.7


def test_automated_share_chooses_nested_sets(auto_city):
    from twin.flisr import FeederTopology

    t = compile_twin(auto_city)
    r = [FeederTopology.build(t, automated_share=x).remote for x in (0.0, 0.5, 1.0)]
    brk = t.switches.kind == 0
    assert np.array_equal(r[0], brk) and r[2].all()
    assert (r[0] <= r[1]).all() and (r[1] <= r[2]).all()
    assert np.array_equal(FeederTopology.build(t).remote, t.switches.automated | brk)


def _run(prep, r=0):
    from twin.run import run_realization

    return run_realization(prep, r)


def _same(a, b) -> None:
    for k in ("times_h", "served", "cost_times_h", "cost_usd", "ev_time_h", "ev_comp",
              "ev_type", "ev_crew"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_self_healing_disabled_or_without_switches_changes_nothing():
    from pathlib import Path

    from twin.run import prepare
    from twin.scenario import SelfHealingSpec, load_scenario

    demo = Path(__file__).resolve().parents[1] / "scenarios" / "demo.yaml"
    spec = load_scenario(demo, realizations=1, horizon_h=48.0)
    base = prepare(spec)
    ref = _run(base)
    for block in ({"enabled": False}, {"enabled": True}):  # the plain city has no switches
        other = prepare(spec.model_copy(update={"self_healing": SelfHealingSpec(**block)}))
        assert other.twin.switches is not None and not len(other.twin.switches)
        _same(ref, _run(other))


def test_replay_rebuilds_switch_states_from_events():
    import pandas as pd

    from viz.states import switches_open_at

    ids = np.array(["E0", "E1", "E2", "N0"])
    ev = pd.DataFrame({"realization": 0, "time_h": [1.0, 1.0, 1.25, 5.0, 6.0],
                       "asset_id": ["E0", "N0", "E2", "E2", "E0"],
                       "event": ["switched", "damaged", "switched", "switched", "switched"],
                       "switch_state": ["open", "", "closed", "open", "closed"]})
    got = switches_open_at(ev, ids, np.array([0, 2]), np.array([False, True]),
                           [0.0, 1.0, 1.1, 1.25, 5.5, 7.0])
    assert got.tolist() == [[False, True], [True, True], [True, True], [True, False],
                            [True, True], [False, True]]
    # a run without switching events keeps the normal states
    assert switches_open_at(ev.drop(columns="switch_state"), ids, np.array([0, 2]),
                            np.array([False, True]), [3.0]).tolist() == [[False, True]]


def test_scenario_block_is_checked():
    from twin.scenario import ScenarioSpec

    base = {"name": "x", "city": {"builtin": {"seed": 7, "scale": 0.3}},
            "hazards": [{"type": "damage_map", "events": [
                {"time_h": 1, "assets": ["P-SUB-01"], "damage_state": "slight"}]}]}
    ok = ScenarioSpec.model_validate({**base, "self_healing": {"enabled": True}})
    assert ok.self_healing.settings() == SelfHealing()
    for bad in ({"restore_min": 1, "isolate_min": 5}, {"automated_share": 1.5},
                {"isolate_mins": 1}):
        with pytest.raises(Exception, match="self_healing"):
            ScenarioSpec.model_validate({**base, "self_healing": bad})
    with pytest.raises(Exception, match="feeder_automation"):
        ScenarioSpec.model_validate({**base, "city": {"builtin": {"feeder_automation": 2}}})


def test_a_fork_replays_the_switching_byte_for_byte():
    eng = engine(two_feeders(automated=False), SelfHealing())
    eng.run(FAULT_H + 0.6)  # the trip, and operators on their way
    fork = eng.fork(FAULT_H + 0.1)
    for e in (eng, fork):
        e.run(12.0)
    a, b = eng.result(), fork.result()
    _same(a, b)
    assert np.array_equal(a.ev_state, b.ev_state)
    assert (a.ev_type == EVENTS.index("switched")).sum() >= 4


@pytest.mark.parametrize(("tie", "closes"), [(None, True),
                                             ({"length_m": 40_000.0, "r_ohm_per_km": 2.0,
                                               "x_ohm_per_km": 0.4}, False)])
def test_with_powerflow_a_tie_closes_only_with_voltages_in_limits(tie, closes):
    """A 40 km tie of thin line has the thermal rating but sags the picked-up section
    far below 0.9 p.u.: with service.power: powerflow it stays open."""
    from twin.physics.settings import ServiceSettings

    eng = engine(two_feeders(tie=tie), SelfHealing(), service=ServiceSettings(power="powerflow"))
    eng.run(6.0)
    sw = eng.result().ev_type == EVENTS.index("switched")
    assert ("TIE" in set(eng.twin.ids[eng.result().ev_comp[sw]])) == closes
    out = {"A3", "A4"} if closes else {"A3", "A4", "A5", "A6"}
    assert served(eng) == ALL - out
    # by connectivity (thermal check only) the tie closes either way
    eng = engine(two_feeders(tie=tie), SelfHealing())
    eng.run(6.0)
    assert served(eng) == ALL - {"A3", "A4"}


def test_the_drill_console_shows_open_switches_as_switched_not_out():
    from twin.drill.view import OK, _states

    eng = engine(two_feeders(), SelfHealing(isolate_min=1, restore_min=15))
    eng.run(0.5)
    t = eng.twin
    assert _states(eng)[t.index["TIE"]] == OK  # a normally open tie is not an outage
    eng.run(FAULT_H + 2 / 60)  # isolated: the section around A-E4 is open and out
    code = _states(eng)
    assert code[t.index["A-E3"]] == OK  # the opened sectionalizer itself is healthy
    assert code[t.index["A-E4"]] != OK  # the faulted line is
    assert served(eng) == ALL - {"A3", "A4", "A5", "A6"}  # (the map shades who is out)
