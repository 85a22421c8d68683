"""Schema validation of a :class:`~networks.model.LifelineNetwork`.

Errors name the asset id and the field (and the source file when known), so a
user can fix the input. Validation is strict: unknown asset classes, missing or
out-of-range fields, duplicate ids, dangling edges, dependencies on assets that
do not exist or sit in the wrong network are all errors.
"""

from __future__ import annotations

import math

import numpy as np

from common.errors import InputWarning, NetworkError
from networks.kinds import KINDS, kind_spec
from networks.model import LifelineNetwork
from networks.schema import (
    CLASS_SPECS,
    REQUIRED_DEPENDENCIES,
    SUPPLIER_NETWORK,
    AssetClass,
    DependencyKind,
    NetworkKind,
)


def _check_fields(where: str, attrs: dict, asset_class: AssetClass) -> None:
    cspec = CLASS_SPECS[asset_class]
    for f in cspec.fields:
        if f.name not in attrs or attrs[f.name] is None or (
            isinstance(attrs[f.name], float) and math.isnan(attrs[f.name])
        ):
            if f.required:
                raise NetworkError(f"field '{f.name}' is required for class '{asset_class.value}'",
                                   where=where)
            continue
        v = attrs[f.name]
        if f.kind is bool:
            if not isinstance(v, bool | np.bool_):
                raise NetworkError(f"field '{f.name}' must be true/false, got {v!r}", where=where)
            continue
        if f.kind is str:
            if not isinstance(v, str) or (f.choices and v not in f.choices):
                raise NetworkError(f"field '{f.name}' must be one of {', '.join(f.choices)}, "
                                   f"got {v!r}", where=where)
            continue
        numeric = isinstance(v, int | float | np.integer | np.floating)
        if isinstance(v, bool | np.bool_) or not numeric:
            raise NetworkError(f"field '{f.name}' must be a number, got {v!r}", where=where)
        if not math.isfinite(float(v)):
            raise NetworkError(f"field '{f.name}' must be finite, got {v!r}", where=where)
        if f.minimum is not None and v < f.minimum:
            raise NetworkError(f"field '{f.name}' must be >= {f.minimum:g}, got {v!r}", where=where)
        if f.maximum is not None and v > f.maximum:
            raise NetworkError(f"field '{f.name}' must be <= {f.maximum:g}, got {v!r}", where=where)


def _asset_class(where: str, value: object, network: NetworkKind, *, edge: bool) -> AssetClass:
    try:
        ac = AssetClass(value)
    except ValueError:
        known = ", ".join(c.value for c, s in CLASS_SPECS.items()
                          if s.network == network and s.is_edge == edge)
        raise NetworkError(f"unknown asset class {value!r} (known {network.value} "
                           f"{'edge' if edge else 'node'} classes: {known})", where=where) from None
    s = CLASS_SPECS[ac]
    if s.network != network or s.is_edge != edge:
        raise NetworkError(f"asset class '{ac.value}' is a {s.network.value} "
                           f"{'edge' if s.is_edge else 'node'} class, not a {network.value} "
                           f"{'edge' if edge else 'node'}", where=where)
    return ac


def validate_network(net: LifelineNetwork, *, source: str | None = None) -> None:
    """Check ``net`` against the declared schema; raise :class:`NetworkError` on the first problem.

    Parameters
    ----------
    net : LifelineNetwork
    source : str, optional
        File the network came from, prefixed to error locations.
    """
    pre = f"{source}: " if source else ""
    if not net.crs:
        raise NetworkError("the network has no CRS; give one (a projected CRS in metres)",
                           where=source)
    seen: dict[str, NetworkKind] = {}
    for k in KINDS:
        if k.required and (k.kind not in net.graphs or not net.graphs[k.kind].number_of_nodes()):
            raise NetworkError(f"the '{k.name}' network is missing (a city needs it: crews "
                               "drive on it)", where=source)
    for kind, g in net.graphs.items():
        if g.is_directed() or g.is_multigraph():
            raise NetworkError(f"the {kind.value} graph must be a simple undirected nx.Graph",
                               where=source)
        for n, attrs in g.nodes(data=True):
            where = f"{pre}{kind.value} node '{n}'"
            if not isinstance(n, str) or not n:
                raise NetworkError("asset ids must be non-empty strings", where=where)
            if n in seen:
                raise NetworkError(f"duplicate asset id (also a {seen[n].value} asset)",
                                   where=where)
            seen[n] = kind
            if "asset_class" not in attrs:
                raise NetworkError("field 'asset_class' is missing (a dangling edge endpoint?)",
                                   where=where)
            ac = _asset_class(where, attrs["asset_class"], kind, edge=False)
            for c in ("x_m", "y_m"):
                v = attrs.get(c)
                if v is None or not isinstance(v, int | float | np.number) or not math.isfinite(v):
                    raise NetworkError(f"coordinate '{c}' missing or not finite", where=where)
            _check_fields(where, attrs, ac)
        for u, v, attrs in g.edges(data=True):
            eid = attrs.get("id")
            where = f"{pre}{kind.value} edge '{eid}' ({u}-{v})"
            if not isinstance(eid, str) or not eid:
                raise NetworkError("edge has no 'id'", where=where)
            if eid in seen:
                raise NetworkError(f"duplicate asset id (also a {seen[eid].value} asset)",
                                   where=where)
            seen[eid] = kind
            if u == v:
                raise NetworkError("edge is a self-loop", where=where)
            ac = _asset_class(where, attrs.get("asset_class"), kind, edge=True)
            _check_fields(where, attrs, ac)
    has_dep: dict[str, set[DependencyKind]] = {}
    for d in net.dependencies:
        where = f"{pre}dependency {d.dependent} -[{d.kind.value}]-> {d.supplier}"
        if d.dependent not in seen:
            raise NetworkError(f"dependent asset '{d.dependent}' does not exist", where=where)
        if d.supplier not in seen:
            raise NetworkError(f"supplier asset '{d.supplier}' does not exist", where=where)
        want = SUPPLIER_NETWORK[d.kind]
        if seen[d.supplier] != want:
            raise NetworkError(f"supplier must be a {want.value} asset, "
                               f"'{d.supplier}' is {seen[d.supplier].value}", where=where)
        if d.kind != DependencyKind.ROAD_ACCESS and seen[d.dependent] == want:
            raise NetworkError("a dependency must link two different networks", where=where)
        if d.kind == DependencyKind.ROAD_ACCESS and d.supplier not in net.graphs[NetworkKind.ROADS]:
            raise NetworkError("road access must point to a road node", where=where)
        has_dep.setdefault(d.dependent, set()).add(d.kind)
    for kind, g in net.graphs.items():
        for n, attrs in g.nodes(data=True):
            for need in REQUIRED_DEPENDENCIES.get(AssetClass(attrs["asset_class"]), ()):
                if need == DependencyKind.ROAD_ACCESS:
                    continue  # filled by proximity when absent (networks.interdependencies)
                if need not in has_dep.get(n, set()):
                    raise NetworkError(f"class '{attrs['asset_class']}' needs a "
                                       f"'{need.value}' dependency and has none",
                                       where=f"{pre}{kind.value} node '{n}'")
    _warn_unsupplied(net, pre)
    if net.population is not None:
        p = net.population
        for kind, ids in p.nodes.items():
            col = kind_spec(kind).block_column
            if len(ids) != len(p.ids):
                raise NetworkError(f"'{col}' has {len(ids)} entries for {len(p.ids)} blocks",
                                   where=f"{pre}population")
            for bid, nid in zip(p.ids, ids, strict=True):
                if nid == "":
                    continue  # this kind does not serve the block
                if seen.get(nid) != kind or nid not in net.graphs[kind]:
                    raise NetworkError(f"'{col}' = '{nid}' is not a {kind.value} node",
                                       where=f"{pre}population block '{bid}'")
        if np.any(~np.isfinite(p.population)) or np.any(p.population < 0):
            raise NetworkError("population must be finite and >= 0", where=f"{pre}population")


def _warn_unsupplied(net: LifelineNetwork, pre: str) -> None:
    """Warn when a non-empty network has no source: all of it would read 0 % served."""
    import warnings

    for kind, g in net.graphs.items():
        if g.number_of_nodes() == 0:
            continue  # an empty network is a kind the city does not have: no curve at all
        if kind == NetworkKind.ROADS:
            continue  # roads are served by reachability from depots, not by sources
        sources = [c.value for c in kind_spec(kind).source_classes()]
        if not any(CLASS_SPECS[AssetClass(a["asset_class"])].is_source
                   for _, a in g.nodes(data=True)):
            warnings.warn(f"{pre}the {kind.value} network ({g.number_of_nodes()} nodes) has no "
                          f"source ({' or '.join(sources)}): all of it will be out of service",
                          InputWarning, stacklevel=3)
