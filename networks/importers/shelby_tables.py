"""Shelby County (Memphis, TN) lifeline tables: the INDP node/arc/interdependency CSV layout.

The groundwork of the Shelby County importer (issue 13, point 3): this module
reads and validates the tables; it builds no twin network (the twin holds power,
water and roads today; gas and telecom come with the network kinds of point 1).

Layout (one folder, the ``Extended_Shelby_County`` layout of the INDP research
data, Talebiyan's Dec2py; a copy with its provenance is in ``data/shelby/``)
---------------------------------------------------------------------------
``<Net>Nodes.csv`` and ``<Net>Arcs.csv`` for ``<Net>`` in ``Water``, ``Gas``,
``Power``, ``Telecommunication``, and ``Interdep.csv``. Columns are found by
their header names, never by position (``GasNodes.csv`` has ``Node Type``
before ``X, Y``; ``TelecommunicationArcs.csv`` has ``Arc Type`` before ``u``).

Nodes (columns read; the census and penalty columns are left)
    ``ID`` (int, unique), ``X`` = longitude and ``Y`` = latitude (WGS84
    degrees), ``Node Type``, ``Demand`` = INDP's *b*: **positive for supply,
    negative for demand** (each network's column sums to about 0; in
    Telecommunication one node, 9, is the single sink of -968.4),
    ``population`` and ``q (complete DS)`` when present.
Arcs
    ``ID``, ``Start Node``, ``End Node`` (node ids of the same network; no
    self-loop), ``Length (km)`` (> 0; cross-checked against ``Length (ft)``
    when both are given, 1 % tolerance), ``u`` (capacity, >= 0), ``Arc Type``,
    ``f`` when present. Arcs are undirected (INDP adds both directions).
    Parallel arcs exist (Power 40 and 41, both 5-64) and are kept.
Interdep.csv
    ``Dependee Node``, ``Depender Node``, ``Dependee Network``, ``Depender
    Network`` (``Water``/``Gas``/``Power``/``Telecommunication``), ``Type``
    (``Physical`` or ``Cyber``): the depender needs the dependee.

Units: ``Demand`` and ``u`` are INDP flow units (dimensionless; the supply of
each network totals about 1,000; the ``_indp`` suffix); ``q``/``f`` are INDP
cost units (``_indp``). Coordinates are projected to :data:`CRS` into
``x_m``/``y_m``: UTM zone 16N, the zone of the county's centre (the county
straddles the zone 15/16 boundary at -90 degrees; scale error below 0.1 %).

Failure probabilities (``probM6.txt`` .. ``probM9.txt``, INDP 2015)
--------------------------------------------------------------------
González & Dueñas-Osorio's simulated New Madrid earthquakes of magnitude 6-9:
``proba`` lines ``(s, t, k) p`` per arc and ``probn`` lines ``(i, k) p`` per
node, ``k`` = 1 water, 2 gas, 3 power (no telecom). Their node numbers are the
2015 data set's (``MURI_INDP_data.txt``), not the CSV ids. What was found
(M8 figures; M6, M7 and M9 the same):

- **Water and gas: 2015 number = CSV id + 1.** Counts agree (49 and 16 nodes,
  71 and 17 undirected arcs); with the shift all 71 water and all 17 gas arcs
  of the 2015 files are arcs of the CSVs (without it, 17 and 1). Independent
  checks: the arc probabilities grow with the CSV arc lengths (Spearman 0.91
  water, 0.99 gas: pipe failure is a repair rate per km), and the node
  probabilities lie on a plane in lon/lat rising to the north-west, toward the
  New Madrid zone (R² 0.89 water, 0.91 gas; 95th percentile of shuffled
  probabilities 0.12 and 0.37). Topology cannot tell apart water 42<->46 with
  43<->47 (a graph symmetry, pairs 3-5 km apart; the geographic fit is the
  same either way); the plain shift is kept.
- **Power: no mapping.** The 2015 power network has 60 nodes and 76 arcs, the
  CSVs 75 nodes and 93 arcs (92 node pairs); with the shift 10 of 76 arcs exist
  in the CSVs, without it 20. No renumbering can fix it: the 2015 graph does
  not embed in the CSV graph at all (it has ten nodes of degree >= 4, the CSV
  graph six). The Extended power network is a different (redrawn) network.
- **Telecom**: not in the 2015 files.

:func:`probabilities_by_csv_id` returns per-asset probabilities keyed by CSV
ids for a network only when :func:`check_numbering` shows the shifted
numbering holds (same node and arc counts, every 2015 arc an arc of the CSVs);
it refuses power and telecom with a one-line error.

>>> tables = read_shelby_tables("data/shelby/Extended_Shelby_County")
>>> probs = read_failure_probabilities("data/shelby/INDP_2015_failure_probabilities/probM8.txt")
>>> nodes_p, arcs_p = probabilities_by_csv_id(probs, tables, "water")
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from common.errors import DataFileError
from networks.importers._common import projected_crs

#: UTM zone 16N (WGS84), the zone of Shelby County's centre (the county spans -90.3..-89.6 E)
CRS = "EPSG:32616"
#: the networks of the layout, in the INDP numbering order
NETWORKS = ("water", "gas", "power", "telecom")
#: file-name stem and ``Interdep.csv`` name of each network
FILE_STEM = MappingProxyType({"water": "Water", "gas": "Gas", "power": "Power",
                              "telecom": "Telecommunication"})
#: INDP network number ``k`` (the 2015 probability files hold 1..3)
INDP_NUMBER = MappingProxyType({"water": 1, "gas": 2, "power": 3, "telecom": 4})
#: offset of the 2015 node numbers over the CSV ids where the mapping holds
PROB_ID_OFFSET = 1

_BY_STEM = {stem: net for net, stem in FILE_STEM.items()}
_BY_NUMBER = {k: net for net, k in INDP_NUMBER.items()}
_FT_PER_KM = 3280.839895
_LENGTH_TOLERANCE = 0.01
_DEP_TYPES = ("Physical", "Cyber")
#: how the layout writes a missing value in an optional column
_MISSING = frozenset({"", "N/A", "NA", "NAN"})


# ----------------------------------------------------------------------------- tables


@dataclass(frozen=True, eq=False)
class ShelbyTables:
    """The validated node, arc and interdependency tables of one layout folder.

    Invariants: every arc's ends and every interdependency's nodes are node ids
    of their network; node and arc ids are unique per network; coordinates are
    finite. Treat the frames as read-only.

    Attributes
    ----------
    nodes : Mapping[str, pandas.DataFrame]
        Per network (:data:`NETWORKS`), indexed by ``node_id`` (the CSV ``ID``):
        ``node_type`` (str), ``lon``, ``lat`` (degrees), ``x_m``, ``y_m`` (in
        ``crs``), ``supply_indp`` (+ supply, - demand, INDP flow units),
        ``population`` (people served, float, NaN when absent),
        ``repair_cost_indp`` (``q``, NaN when absent), ``row`` (1-based data row).
    arcs : Mapping[str, pandas.DataFrame]
        Per network, indexed by ``arc_id``: ``start_node``, ``end_node`` (int),
        ``length_m``, ``capacity_indp`` (``u``), ``arc_type`` (str),
        ``repair_cost_indp`` (``f``, NaN when absent), ``row``.
    interdependencies : pandas.DataFrame
        ``dependee_network``, ``dependee_node``, ``depender_network``,
        ``depender_node`` (networks as in :data:`NETWORKS`), ``dep_type``
        (``Physical``/``Cyber``), ``row``.
    crs : str
        Projected CRS of ``x_m``/``y_m``.
    source : str
        The folder read.
    """

    nodes: Mapping[str, pd.DataFrame]
    arcs: Mapping[str, pd.DataFrame]
    interdependencies: pd.DataFrame
    crs: str
    source: str

    def counts(self) -> dict[str, dict[str, int]]:
        """Node and arc counts per network (``{"water": {"nodes": 49, "arcs": 71}, ...}``)."""
        return {n: {"nodes": len(self.nodes[n]), "arcs": len(self.arcs[n])} for n in self.nodes}


def _where(path: Path, row: int | None = None, field: str | None = None) -> str:
    w = str(path)
    if row is not None:
        w += f", row {row} (line {row + 1})"
    if field is not None:
        w += f", field {field!r}"
    return w


def _read_csv(path: Path) -> pd.DataFrame:
    """All cells as stripped strings; the file's own problems as one-line errors."""
    if not path.is_file():
        raise DataFileError("file not found (expected the INDP node/arc/interdependency "
                            "CSV layout)", where=str(path))
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataFileError("the file is empty", where=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise DataFileError(f"not a readable CSV table: {e}", where=str(path)) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda s: s.str.strip())


def _require(df: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFileError(f"missing column(s) {missing} (columns: {list(df.columns)})",
                            where=_where(path, field=missing[0]))


def _numbers(df: pd.DataFrame, path: Path, field: str, *, integer: bool = False,
             minimum: float | None = None, strict: bool = False,
             rows: np.ndarray | None = None) -> np.ndarray:
    """Column ``field`` as numbers; the first bad cell raises naming its row.

    ``rows``: the 0-based data rows of ``df``'s lines when ``df`` is a subset.
    """
    out = np.empty(len(df), dtype=np.int64 if integer else float)
    numbers = range(len(df)) if rows is None else rows.tolist()
    for j, (i, text) in enumerate(zip(numbers, df[field].tolist(), strict=True)):
        try:
            v = float(text)
        except ValueError:
            raise DataFileError(f"{text!r} is not a number", where=_where(path, i + 1, field)) \
                from None
        if not math.isfinite(v):
            raise DataFileError(f"{text!r} is not a finite number",
                                where=_where(path, i + 1, field))
        if integer and v != int(v):
            raise DataFileError(f"{text!r} is not an integer id", where=_where(path, i + 1, field))
        if minimum is not None and (v <= minimum if strict else v < minimum):
            op = ">" if strict else ">="
            raise DataFileError(f"{text} must be {op} {minimum:g}",
                                where=_where(path, i + 1, field))
        out[j] = int(v) if integer else v
    return out


def _optional_numbers(df: pd.DataFrame, path: Path, field: str) -> np.ndarray:
    """An optional column: NaN where the column is absent or a cell is blank or ``N/A``."""
    out = np.full(len(df), np.nan)
    if field not in df.columns:
        return out
    given = ~df[field].str.upper().isin(_MISSING).to_numpy()
    rows = np.flatnonzero(given)
    values = _numbers(df.iloc[rows], path, field, rows=rows)
    out[rows] = values
    return out


def _texts(df: pd.DataFrame, path: Path, field: str) -> list[str]:
    values = df[field].tolist()
    for i, v in enumerate(values):
        if not v:
            raise DataFileError("empty value", where=_where(path, i + 1, field))
    return values


def _unique_ids(ids: np.ndarray, path: Path, field: str = "ID") -> None:
    seen: dict[int, int] = {}
    for i, v in enumerate(ids.tolist()):
        if v in seen:
            raise DataFileError(f"duplicate id {v} (first on row {seen[v]})",
                                where=_where(path, i + 1, field))
        seen[v] = i + 1


def read_nodes(path: str | Path, *, crs: str = CRS) -> pd.DataFrame:
    """Read one ``<Net>Nodes.csv`` into the node table of :class:`ShelbyTables`.

    Raises :class:`~common.errors.DataFileError` naming the file, row and field
    of the first bad cell (missing column, non-number, duplicate id, longitude
    outside [-180, 180] or latitude outside [-90, 90]).
    """
    path = Path(path)
    df = _read_csv(path)
    _require(df, path, ("ID", "X", "Y", "Node Type", "Demand"))
    ids = _numbers(df, path, "ID", integer=True)
    _unique_ids(ids, path)
    lon = _numbers(df, path, "X")
    lat = _numbers(df, path, "Y")
    for name, values, bound in (("X", lon, 180.0), ("Y", lat, 90.0)):
        bad = np.flatnonzero(np.abs(values) > bound)
        if bad.size:
            what = "longitude" if name == "X" else "latitude"
            raise DataFileError(f"{values[bad[0]]:g} is not a {what} in degrees (WGS84 "
                                "lon/lat expected)", where=_where(path, int(bad[0]) + 1, name))
    x, y = _project(lon, lat, crs, path)
    out = pd.DataFrame({
        "node_type": _texts(df, path, "Node Type"),
        "lon": lon, "lat": lat, "x_m": x, "y_m": y,
        "supply_indp": _numbers(df, path, "Demand"),
        "population": _optional_numbers(df, path, "population"),
        "repair_cost_indp": _optional_numbers(df, path, "q (complete DS)"),
        "row": np.arange(1, len(df) + 1),
    }, index=pd.Index(ids, name="node_id"))
    return out


def _project(lon: np.ndarray, lat: np.ndarray, crs: str, path: Path) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    from pyproj import Transformer

    crs = projected_crs(crs, str(path))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, float), np.asarray(y, float)
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        raise DataFileError(f"cannot project ({lon[bad[0]]:g}, {lat[bad[0]]:g}) to {crs}",
                            where=_where(path, int(bad[0]) + 1, "X"))
    return x, y


def read_arcs(path: str | Path, node_ids: pd.Index | None = None) -> pd.DataFrame:
    """Read one ``<Net>Arcs.csv`` into the arc table of :class:`ShelbyTables`.

    ``node_ids``: the network's node ids; an arc end outside them raises
    (naming the row and ``Start Node``/``End Node``). Also raises on a
    self-loop, a length <= 0, ``Length (km)`` and ``Length (ft)`` that disagree
    by more than 1 %, or a negative capacity ``u``.
    """
    path = Path(path)
    df = _read_csv(path)
    _require(df, path, ("ID", "Start Node", "End Node", "Length (km)", "u", "Arc Type"))
    ids = _numbers(df, path, "ID", integer=True)
    _unique_ids(ids, path)
    start = _numbers(df, path, "Start Node", integer=True)
    end = _numbers(df, path, "End Node", integer=True)
    length_km = _numbers(df, path, "Length (km)", minimum=0.0, strict=True)
    if "Length (ft)" in df.columns:
        ft = _numbers(df, path, "Length (ft)")
        off = np.abs(ft / _FT_PER_KM - length_km) > _LENGTH_TOLERANCE * length_km
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise DataFileError(f"{length_km[i]:g} km disagrees with Length (ft) {ft[i]:g} "
                                f"(= {ft[i] / _FT_PER_KM:.3f} km)",
                                where=_where(path, i + 1, "Length (km)"))
    loops = np.flatnonzero(start == end)
    if loops.size:
        i = int(loops[0])
        raise DataFileError(f"arc {ids[i]} starts and ends at node {start[i]}",
                            where=_where(path, i + 1, "End Node"))
    if node_ids is not None:
        known = set(node_ids.tolist())
        for field, ends in (("Start Node", start), ("End Node", end)):
            for i, v in enumerate(ends.tolist()):
                if v not in known:
                    raise DataFileError(f"node {v} is not in the network's nodes file",
                                        where=_where(path, i + 1, field))
    return pd.DataFrame({
        "start_node": start, "end_node": end,
        "length_m": length_km * 1000.0,
        "capacity_indp": _numbers(df, path, "u", minimum=0.0),
        "arc_type": _texts(df, path, "Arc Type"),
        "repair_cost_indp": _optional_numbers(df, path, "f"),
        "row": np.arange(1, len(df) + 1),
    }, index=pd.Index(ids, name="arc_id"))


def read_interdependencies(path: str | Path,
                           node_ids: Mapping[str, pd.Index] | None = None) -> pd.DataFrame:
    """Read ``Interdep.csv``; every link must name known networks (and nodes, given ``node_ids``).

    Networks are returned as :data:`NETWORKS` names (``Telecommunication`` ->
    ``telecom``). Given ``node_ids`` (the node ids of the networks read), a
    link's nodes must exist, and links that touch a network not in
    ``node_ids`` are left out (``row`` keeps the file's numbering).
    """
    path = Path(path)
    df = _read_csv(path)
    cols = ("Dependee Node", "Depender Node", "Dependee Network", "Depender Network", "Type")
    _require(df, path, cols)
    out = {}
    for side in ("Dependee", "Depender"):
        nodes = _numbers(df, path, f"{side} Node", integer=True)
        nets = []
        for i, text in enumerate(df[f"{side} Network"].tolist()):
            net = _BY_STEM.get(text)
            if net is None:
                raise DataFileError(f"unknown network {text!r} (known: {', '.join(_BY_STEM)})",
                                    where=_where(path, i + 1, f"{side} Network"))
            if node_ids is not None and net in node_ids and int(nodes[i]) not in node_ids[net]:
                raise DataFileError(f"node {nodes[i]} is not in {FILE_STEM[net]}Nodes.csv",
                                    where=_where(path, i + 1, f"{side} Node"))
            nets.append(net)
        out[f"{side.lower()}_network"] = nets
        out[f"{side.lower()}_node"] = nodes
    types = _texts(df, path, "Type")
    for i, t in enumerate(types):
        if t not in _DEP_TYPES:
            raise DataFileError(f"unknown dependency type {t!r} (known: {', '.join(_DEP_TYPES)})",
                                where=_where(path, i + 1, "Type"))
    same = [i for i in range(len(df)) if out["dependee_network"][i] == out["depender_network"][i]]
    if same:
        raise DataFileError("a dependency must link two different networks",
                            where=_where(path, same[0] + 1, "Depender Network"))
    frame = pd.DataFrame({**out, "dep_type": types, "row": np.arange(1, len(df) + 1)})
    if node_ids is not None:
        frame = frame[frame["dependee_network"].isin(list(node_ids))
                      & frame["depender_network"].isin(list(node_ids))].reset_index(drop=True)
    return frame[["dependee_network", "dependee_node", "depender_network", "depender_node",
                  "dep_type", "row"]]


def read_shelby_tables(directory: str | Path, *, crs: str = CRS,
                       networks: tuple[str, ...] = NETWORKS) -> ShelbyTables:
    """Read and cross-check a folder of the INDP CSV layout (see the module docstring).

    Parameters
    ----------
    directory : str or Path
        The folder holding ``<Net>Nodes.csv``, ``<Net>Arcs.csv`` and ``Interdep.csv``.
    crs : str, keyword-only
        Projected CRS (metres) for ``x_m``/``y_m``; default UTM 16N (Memphis).
    networks : tuple of str, keyword-only
        Which of :data:`NETWORKS` to read (all four by default); interdependencies
        that touch a network not read are left out.

    Raises
    ------
    DataFileError
        One line naming the file, row and field of the first problem.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataFileError("not a folder (give the folder of the INDP CSV files)",
                            where=str(directory))
    unknown = [n for n in networks if n not in FILE_STEM]
    if unknown:
        raise DataFileError(f"unknown network(s) {unknown} (known: {', '.join(NETWORKS)})",
                            where=str(directory))
    nodes = {n: read_nodes(directory / f"{FILE_STEM[n]}Nodes.csv", crs=crs) for n in networks}
    arcs = {n: read_arcs(directory / f"{FILE_STEM[n]}Arcs.csv", nodes[n].index)
            for n in networks}
    deps = read_interdependencies(directory / "Interdep.csv",
                                  {n: nodes[n].index for n in networks})
    return ShelbyTables(nodes=MappingProxyType(nodes), arcs=MappingProxyType(arcs),
                        interdependencies=deps, crs=projected_crs(crs, str(directory)),
                        source=str(directory))


# ----------------------------------------------------------------- failure probabilities


@dataclass(frozen=True, eq=False)
class FailureProbabilities:
    """One ``probM<magnitude>.txt`` of the INDP 2015 data, in its own (2015) numbering.

    Invariants: probabilities in [0, 1]; one row per node and per undirected arc
    (the files list each arc in both directions, and power's twice over; repeats
    must agree).

    Attributes
    ----------
    magnitude : int
        Earthquake moment magnitude of the scenario (6..9).
    nodes : pandas.DataFrame
        ``network`` (:data:`NETWORKS` name), ``node`` (2015 number, from 1), ``p``.
    arcs : pandas.DataFrame
        ``network``, ``start``, ``end`` (2015 numbers, ``start < end``), ``p``.
    source : str
        The file read.
    """

    magnitude: int
    nodes: pd.DataFrame
    arcs: pd.DataFrame
    source: str

    def counts(self) -> dict[str, dict[str, int]]:
        """Node and undirected arc counts per network present in the file."""
        nets = [n for n in NETWORKS if (self.nodes["network"] == n).any()]
        return {n: {"nodes": int((self.nodes["network"] == n).sum()),
                    "arcs": int((self.arcs["network"] == n).sum())} for n in nets}


_BLOCK = re.compile(r"^\s*(proba|probn)\s*:\s*\[\s*$")
_ARC_LINE = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s+(\S+)$")
_NODE_LINE = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*\)\s+(\S+)$")


def read_failure_probabilities(path: str | Path, *,
                               magnitude: int | None = None) -> FailureProbabilities:
    """Parse a ``probM*.txt`` file (``proba:[ (s, t, k) p ... ]`` and ``probn:[ (i, k) p ... ]``).

    ``magnitude`` defaults to the digit after ``probM`` in the file name.
    Raises :class:`~common.errors.DataFileError` naming the file and line of a
    malformed entry, a probability outside [0, 1], an unknown network number
    (1 water, 2 gas, 3 power, 4 telecom), or a repeated entry with another value.
    """
    path = Path(path)
    if magnitude is None:
        m = re.match(r"probM(\d+)", path.name)
        if m is None:
            raise DataFileError("cannot tell the magnitude from the name (expected probM<n>.txt);"
                                " pass magnitude=", where=str(path))
        magnitude = int(m.group(1))
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise DataFileError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataFileError(f"cannot read: {e}", where=str(path)) from None
    block: str | None = None
    opened: set[str] = set()
    arcs: dict[tuple[str, int, int], tuple[float, int]] = {}
    nodes: dict[tuple[str, int], tuple[float, int]] = {}
    for ln, raw in enumerate(lines, start=1):
        line = raw.strip()
        where = f"{path}, line {ln}"
        if not line:
            continue
        if block is None:
            m = _BLOCK.match(line)
            if m is None:
                raise DataFileError(f"expected 'proba:[' or 'probn:[', got {line[:40]!r}",
                                    where=where)
            block = m.group(1)
            if block in opened:
                raise DataFileError(f"second '{block}' block", where=where)
            opened.add(block)
            continue
        if line == "]":
            block = None
            continue
        m = (_ARC_LINE if block == "proba" else _NODE_LINE).match(line)
        if m is None:
            form = "(s, t, k) p" if block == "proba" else "(i, k) p"
            raise DataFileError(f"expected '{form}' in '{block}', got {line[:40]!r}",
                                where=where)
        *ids, k_text, p_text = m.groups()
        net = _BY_NUMBER.get(int(k_text))
        if net is None:
            raise DataFileError(f"unknown network number {k_text} (1 water, 2 gas, 3 power, "
                                "4 telecom)", where=where)
        try:
            p = float(p_text)
        except ValueError:
            raise DataFileError(f"{p_text!r} is not a probability", where=where) from None
        if not 0.0 <= p <= 1.0:
            raise DataFileError(f"probability {p_text} outside [0, 1]", where=where)
        if block == "proba":
            s, t = sorted(int(x) for x in ids)
            if s == t:
                raise DataFileError(f"arc ({s}, {t}) is a self-loop", where=where)
            key_a = (net, s, t)
            if key_a in arcs and arcs[key_a][0] != p:
                raise DataFileError(f"arc ({s}, {t}, {k_text}) has p {arcs[key_a][0]:g} on line "
                                    f"{arcs[key_a][1]} and {p_text} here", where=where)
            arcs.setdefault(key_a, (p, ln))
        else:
            key_n = (net, int(ids[0]))
            if key_n in nodes and nodes[key_n][0] != p:
                raise DataFileError(f"node ({ids[0]}, {k_text}) has p {nodes[key_n][0]:g} on "
                                    f"line {nodes[key_n][1]} and {p_text} here", where=where)
            nodes.setdefault(key_n, (p, ln))
    if block is not None:
        raise DataFileError(f"'{block}' block not closed with ']'", where=str(path))
    missing = [b for b in ("proba", "probn") if b not in opened]
    if missing:
        raise DataFileError(f"no '{missing[0]}' block", where=str(path))
    node_frame = pd.DataFrame([(n, i, p) for (n, i), (p, _) in sorted(nodes.items())],
                              columns=["network", "node", "p"])
    arc_frame = pd.DataFrame([(n, s, t, p) for (n, s, t), (p, _) in sorted(arcs.items())],
                             columns=["network", "start", "end", "p"])
    return FailureProbabilities(magnitude=magnitude, nodes=node_frame, arcs=arc_frame,
                                source=str(path))


@dataclass(frozen=True)
class NumberingCheck:
    """Whether a network's 2015 numbers are the CSV ids + :data:`PROB_ID_OFFSET`.

    ``holds`` requires equal node counts, 2015 numbers ``1..n``, equal undirected
    arc counts and every 2015 arc an arc of the CSVs after the shift (with equal
    counts: the two arc sets are the same). ``arcs_matched_unshifted`` is the
    same count without the shift, for comparison.
    """

    network: str
    nodes_2015: int
    nodes_csv: int
    arcs_2015: int
    arcs_csv: int
    arcs_matched: int
    arcs_matched_unshifted: int
    holds: bool

    def describe(self) -> str:
        """One line: the counts and the verdict."""
        return (f"{self.network}: 2015 {self.nodes_2015} nodes / {self.arcs_2015} arcs, CSV "
                f"{self.nodes_csv} nodes / {self.arcs_csv} node pairs; {self.arcs_matched} of "
                f"{self.arcs_2015} arcs match with 2015 number = CSV id + {PROB_ID_OFFSET} "
                f"({self.arcs_matched_unshifted} without): mapping "
                f"{'holds' if self.holds else 'does not hold'}")


def _csv_pairs(arcs: pd.DataFrame) -> set[tuple[int, int]]:
    s, e = arcs["start_node"].to_numpy(), arcs["end_node"].to_numpy()
    return set(zip(np.minimum(s, e).tolist(), np.maximum(s, e).tolist(), strict=True))


def check_numbering(probs: FailureProbabilities, tables: ShelbyTables,
                    network: str) -> NumberingCheck:
    """Test the 2015-number = CSV-id + 1 mapping for one network (see the module docstring)."""
    if network not in tables.nodes:
        raise DataFileError(f"network {network!r} was not read", where=tables.source)
    pn = probs.nodes[probs.nodes["network"] == network]
    pa = probs.arcs[probs.arcs["network"] == network]
    csv_pairs = _csv_pairs(tables.arcs[network])
    pairs_2015 = list(zip(pa["start"].tolist(), pa["end"].tolist(), strict=True))
    shifted = sum((s - PROB_ID_OFFSET, t - PROB_ID_OFFSET) in csv_pairs for s, t in pairs_2015)
    unshifted = sum((s, t) in csv_pairs for s, t in pairs_2015)
    csv_ids = set(tables.nodes[network].index.tolist())
    numbers = set(pn["node"].tolist())
    holds = (len(pn) > 0 and len(pn) == len(csv_ids)
             and {i - PROB_ID_OFFSET for i in numbers} == csv_ids
             and len(pa) == len(csv_pairs) and shifted == len(pa))
    return NumberingCheck(network=network, nodes_2015=len(pn), nodes_csv=len(csv_ids),
                          arcs_2015=len(pa), arcs_csv=len(csv_pairs), arcs_matched=shifted,
                          arcs_matched_unshifted=unshifted, holds=holds)


def probabilities_by_csv_id(probs: FailureProbabilities, tables: ShelbyTables,
                            network: str) -> tuple[pd.Series, pd.Series]:
    """Failure probabilities of one network's assets keyed by the CSV ids.

    Only where :func:`check_numbering` shows the mapping holds (water and gas of
    the shipped data); otherwise raises :class:`~common.errors.DataFileError`
    saying why (power: a different network in 2015; telecom: not in the files).

    Returns
    -------
    nodes : pandas.Series
        ``p`` indexed by ``node_id`` (every CSV node).
    arcs : pandas.Series
        ``p`` indexed by ``arc_id`` (every CSV arc; parallel arcs share their pair's p).
    """
    where = f"{probs.source} vs {tables.source}"
    if network in INDP_NUMBER and not (probs.nodes["network"] == network).any():
        raise DataFileError(f"the failure probabilities hold no {network} assets (network "
                            "numbers 1 water, 2 gas, 3 power); no per-asset probabilities",
                            where=where)
    check = check_numbering(probs, tables, network)
    if not check.holds:
        raise DataFileError(f"refusing per-asset probabilities: the 2015 numbering does not map "
                            f"onto the CSV ids ({check.describe()}); see data/shelby/PROVENANCE.md",
                            where=where)
    pn = probs.nodes[probs.nodes["network"] == network]
    nodes = pd.Series(pn["p"].to_numpy(), name="p",
                      index=pd.Index(pn["node"].to_numpy() - PROB_ID_OFFSET, name="node_id"))
    nodes = nodes.reindex(tables.nodes[network].index)
    pa = probs.arcs[probs.arcs["network"] == network]
    by_pair = {(s - PROB_ID_OFFSET, t - PROB_ID_OFFSET): p for s, t, p in
               zip(pa["start"].tolist(), pa["end"].tolist(), pa["p"].tolist(), strict=True)}
    a = tables.arcs[network]
    lo = np.minimum(a["start_node"], a["end_node"]).tolist()
    hi = np.maximum(a["start_node"], a["end_node"]).tolist()
    arcs = pd.Series([by_pair[(u, v)] for u, v in zip(lo, hi, strict=True)], name="p",
                     index=a.index)
    return nodes, arcs
