"""Schema validation names the asset and field of every problem."""

import networkx as nx
import pytest

from common.errors import NetworkError
from networks.model import Dependency, LifelineNetwork
from networks.schema import DependencyKind, NetworkKind
from networks.validate import validate_network


def _with(net, kind, fn):
    graphs = {k: g.copy() for k, g in net.graphs.items()}
    fn(graphs[kind])
    return LifelineNetwork(net.name, graphs, net.dependencies, net.crs, net.population)


def test_tiny_city_is_valid(tiny):
    validate_network(tiny)


@pytest.mark.parametrize("mutate, match", [
    (lambda g: g.nodes["SUB"].update(asset_class="substaton"), "unknown asset class 'substaton'"),
    (lambda g: g.nodes["GS"].update(capacity_mw=-5.0), "'capacity_mw' must be >= 0"),
    (lambda g: g.nodes["GS"].pop("capacity_mw"), "'capacity_mw' is required"),
    (lambda g: g.nodes["LA"].update(demand_mw="lots"), "'demand_mw' must be a number"),
    (lambda g: g.nodes["LA"].update(critical=3), "'critical' must be true/false"),
    (lambda g: g.edges["SUB", "D1"].update(asset_class="pipe"), "is a water edge class"),
    (lambda g: g.edges["SUB", "D1"].update(length_m=float("nan")), "'length_m'"),
    (lambda g: g.add_edge("LA", "ZZ", id="FX", asset_class="feeder_segment", length_m=1.0),
     "dangling edge endpoint"),
    (lambda g: g.edges["SUB", "D1"].update(id="L1"), "duplicate asset id"),
])
def test_bad_power_assets_are_named(tiny, mutate, match):
    net = _with(tiny, NetworkKind.POWER, mutate)
    with pytest.raises(NetworkError, match=match) as e:
        validate_network(net)
    assert "\n" not in str(e.value)


def test_duplicate_id_across_networks(tiny):
    net = _with(tiny, NetworkKind.WATER,
                lambda g: nx.relabel_nodes(g, {"J2": "LA"}, copy=False))
    with pytest.raises(NetworkError, match="water node 'LA'.*duplicate asset id"):
        validate_network(net)


@pytest.mark.parametrize("dep, match", [
    (Dependency("PS", "NOPE", DependencyKind.POWER_SUPPLY), "supplier asset 'NOPE' does not exist"),
    (Dependency("GHOST", "LA", DependencyKind.POWER_SUPPLY), "dependent asset 'GHOST'"),
    (Dependency("PS", "J1", DependencyKind.POWER_SUPPLY), "supplier must be a power asset"),
    (Dependency("PS", "RE00-10", DependencyKind.ROAD_ACCESS),
     "road access must point to a road node"),
])
def test_bad_dependencies(tiny, dep, match):
    net = LifelineNetwork(tiny.name, tiny.graphs, tiny.dependencies + (dep,), tiny.crs)
    with pytest.raises(NetworkError, match=match):
        validate_network(net)


def test_pump_without_power_supply_is_an_error(tiny):
    deps = tuple(d for d in tiny.dependencies
                 if not (d.dependent == "PS" and d.kind == DependencyKind.POWER_SUPPLY))
    net = LifelineNetwork(tiny.name, tiny.graphs, deps, tiny.crs)
    with pytest.raises(NetworkError, match="node 'PS'.*needs a 'power_supply' dependency"):
        validate_network(net)


def test_missing_crs(tiny):
    net = LifelineNetwork(tiny.name, tiny.graphs, tiny.dependencies, "")
    with pytest.raises(NetworkError, match="no CRS"):
        validate_network(net)
