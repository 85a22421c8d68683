"""The numba service kernel: agrees with networkx, is monotone, handles cascades and capacity."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.kernels.service import compute_service


def service(t, up, source_ok=None, exempt=None):
    so = np.ones(t.n, bool) if source_ok is None else source_ok
    ex = np.zeros(t.n, bool) if exempt is None else exempt
    served, deps_ok = compute_service(up, so, ex, t.is_source, t.is_edge, t.edge_u, t.edge_v,
                                         t.adj_indptr, t.adj_node, t.adj_edge, t.dep_indptr,
                                         t.dep_supplier, t.capacity, t.demand, 1000,
                                         t.is_source)[:2]
    return served, deps_ok


def served_customers(t, served):
    per = [float(t.customers[t.network == k] @ served[t.network == k]) for k in range(3)]
    b = t.block_nodes
    sysq = served[b[:, 0]] * served[b[:, 1]] * served[b[:, 2]] @ t.block_population
    return np.array([*per, sysq])


def test_intact_city_is_fully_served(tiny_twin):
    s, d = service(tiny_twin, np.ones(tiny_twin.n, bool))
    assert np.all(s[~tiny_twin.is_edge] == 1.0) and d.all()


def test_pump_loses_power_cascades_to_water(tiny_twin):
    t = tiny_twin
    up = np.ones(t.n, bool)
    up[t.index["LC"]] = False  # the pump's feeder transformer
    src_ok = np.ones(t.n, bool)
    src_ok[t.index["T1"]] = False  # tank empty
    s, d = service(t, up, src_ok)
    assert not d[t.index["PS"]]
    assert s[t.index["J2"]] == 0.0 and s[t.index["J1"]] == 0.0
    # the water-cooled plant loses cooling too, but the grid supply still feeds the loads
    assert not d[t.index["PP"]] and s[t.index["LA"]] == 1.0


def test_backup_generator_keeps_pump_running(tiny_twin):
    t = tiny_twin
    up = np.ones(t.n, bool)
    up[t.index["LC"]] = False
    src_ok = np.ones(t.n, bool)
    src_ok[t.index["T1"]] = False
    ex = np.zeros(t.n, bool)
    ex[t.index["PS"]] = True
    s, d = service(t, up, src_ok, ex)
    assert not d[t.index["PS"]] and s[t.index["J2"]] == 1.0


def test_island_capacity_sheds_load(tiny_twin):
    t = tiny_twin
    up = np.ones(t.n, bool)
    up[t.index["GS"]] = False  # only the 5 MW plant is left for 3 MW of load: all served
    s, _ = service(t, up)
    assert s[t.index["LA"]] == 1.0
    cap = t.capacity.copy()
    cap[t.index["PP"]] = 1.5  # 1.5 MW for 3 MW of load: half served everywhere
    served, _, _ = compute_service(up, np.ones(t.n, bool), np.zeros(t.n, bool), t.is_source,
                                   t.is_edge, t.edge_u, t.edge_v, t.adj_indptr, t.adj_node,
                                   t.adj_edge, t.dep_indptr, t.dep_supplier, cap, t.demand, 100,
                                   t.is_source)[:3]
    assert served[t.index["LB"]] == pytest.approx(0.5)


def test_mutual_dependency_loop_stays_up_until_broken(tiny_twin):
    # the plant needs water (J1), water needs power: the greatest fixed point keeps both up
    t = tiny_twin
    up = np.ones(t.n, bool)
    up[t.index["GS"]] = False
    up[t.index["T1"]] = False
    s, d = service(t, up)
    assert d[t.index["PP"]] and s[t.index["J1"]] == 1.0
    up[t.index["P1"]] = False  # break the water side: the plant loses cooling, all goes dark
    s, d = service(t, up)
    assert not d[t.index["PP"]] and s[t.index["LA"]] == 0.0 and s[t.index["J1"]] == 0.0


_TWIN = None


def _tiny_twin():
    global _TWIN
    if _TWIN is None:
        from fixtures import tiny_city

        from twin.compile import compile_twin

        _TWIN = compile_twin(tiny_city())
    return _TWIN


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_failing_a_component_never_raises_service(data):
    t = _tiny_twin()
    up = np.array(data.draw(st.lists(st.booleans(), min_size=t.n, max_size=t.n)))
    up |= data.draw(st.booleans())  # half the cases start from the intact city
    extra = data.draw(st.integers(0, t.n - 1))
    before = served_customers(t, service(t, up)[0])
    up2 = up.copy()
    up2[extra] = False
    after = served_customers(t, service(t, up2)[0])
    assert np.all(after <= before + 1e-9)
    # and repairing it back never lowers service
    assert np.all(served_customers(t, service(t, up)[0]) >= after - 1e-9)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.4))
def test_kernel_agrees_with_networkx(seed, frac):
    from benchmarks_support import networkx_served, random_twin

    rng = np.random.default_rng(seed)
    t, g, sources = random_twin(300, 600, 4, rng)
    up = rng.random(t.n) > frac
    s, _ = service(t, up)
    failed_nodes = {t.ids[i] for i in range(t.n) if not up[i] and not t.is_edge[i]}
    failed_edges = [(t.ids[t.edge_u[i]], t.ids[t.edge_v[i]]) for i in range(t.n)
                    if not up[i] and t.is_edge[i]]
    ref = networkx_served(g, {t.ids[i] for i in sources}, failed_nodes, failed_edges)
    got = {t.ids[i] for i in range(t.n) if not t.is_edge[i] and s[i] > 0 and t.network[i] == 0}
    assert got == ref


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_numba_dominator_impact_matches_networkx(seed):
    from benchmarks_support import random_twin
    from impact_reference import dominator_impact as reference

    rng = np.random.default_rng(seed)
    t, _, _ = random_twin(200, 230, 2, rng)  # sparse: long radial branches, real dominators
    ref = reference(t.n, t.network, t.is_edge, t.edge_u, t.edge_v, t.is_source, t.customers,
                    t.dep_indptr, t.dep_supplier)
    np.testing.assert_allclose(t.impact, ref)
    assert t.impact.max() > 1


def test_impact_on_tiny_city(tiny_twin):
    t = tiny_twin
    imp = dict(zip(t.ids, t.impact, strict=True))
    assert imp["SUB"] >= 600 and imp["F2"] == 100 and imp["LA"] == 100
    # LC feeds the pump: its impact includes water customers only via the pump's (zero,
    # the tank backs it up) dominated set, so it is its own 300 customers
    assert imp["LC"] == 300
