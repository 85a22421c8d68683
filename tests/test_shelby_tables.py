"""Shelby County tables (networks.importers.shelby_tables) on the copy in data/shelby/.

Counts are checked against the CSV files read with the csv module, not against
the reader; the numbering finding of the module docstring is checked here too.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from common.errors import DataFileError, InputError
from networks.importers.shelby_tables import (
    CRS,
    FILE_STEM,
    NETWORKS,
    check_numbering,
    probabilities_by_csv_id,
    read_failure_probabilities,
    read_shelby_tables,
)

ROOT = Path(__file__).resolve().parents[1]
CSV_DIR = ROOT / "data" / "shelby" / "Extended_Shelby_County"
PROB_DIR = ROOT / "data" / "shelby" / "INDP_2015_failure_probabilities"
MAGNITUDES = (6, 7, 8, 9)


@pytest.fixture(scope="module")
def tables():
    return read_shelby_tables(CSV_DIR)


@pytest.fixture(scope="module")
def probs():
    return {m: read_failure_probabilities(PROB_DIR / f"probM{m}.txt") for m in MAGNITUDES}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------------------ tables


def test_node_and_arc_counts_match_the_csvs(tables):
    expected = {"water": (49, 71), "gas": (16, 17), "power": (75, 93), "telecom": (27, 36)}
    for net in NETWORKS:
        nodes = _rows(CSV_DIR / f"{FILE_STEM[net]}Nodes.csv")
        arcs = _rows(CSV_DIR / f"{FILE_STEM[net]}Arcs.csv")
        assert (len(nodes), len(arcs)) == expected[net]
        assert tables.counts()[net] == {"nodes": len(nodes), "arcs": len(arcs)}
        assert sorted(tables.nodes[net].index) == sorted(int(r["ID"]) for r in nodes)
        ends = sorted((int(r["Start Node"]), int(r["End Node"])) for r in arcs)
        a = tables.arcs[net]
        assert sorted(zip(a["start_node"], a["end_node"], strict=True)) == ends
    assert len(tables.interdependencies) == len(_rows(CSV_DIR / "Interdep.csv")) == 73


def test_gas_nodes_are_read_by_header_not_position(tables):
    # GasNodes.csv has "Node Type" before X, Y; the others after
    gas = tables.nodes["gas"]
    assert gas.loc[0, "node_type"] == "Gate Station"
    assert gas.loc[0, ["lon", "lat"]].tolist() == pytest.approx([-90.0999798, 35.00092287])
    assert tables.nodes["power"].loc[0, "node_type"] == "Gate Station"
    # INDP's b: supply positive, demand negative, balanced per network
    for net in ("water", "gas", "power"):
        b = tables.nodes[net]["supply_indp"]
        assert b.sum() == pytest.approx(0.0, abs=0.5)
        assert (b[tables.nodes[net]["node_type"] == "Gate Station"] > 0).all()


def test_every_interdependency_link_resolves_to_existing_nodes(tables):
    raw = _rows(CSV_DIR / "Interdep.csv")
    by_stem = {s: n for n, s in FILE_STEM.items()}
    for r, (_, link) in zip(raw, tables.interdependencies.iterrows(), strict=True):
        for side in ("Dependee", "Depender"):
            net = by_stem[r[f"{side} Network"]]
            node = int(r[f"{side} Node"])
            assert node in tables.nodes[net].index
            assert (link[f"{side.lower()}_network"], link[f"{side.lower()}_node"]) == (net, node)
    pairs = tables.interdependencies.groupby(["dependee_network", "depender_network"]).size()
    assert pairs.to_dict() == {("gas", "power"): 2, ("power", "gas"): 3,
                               ("power", "telecom"): 23, ("power", "water"): 21,
                               ("telecom", "power"): 23, ("water", "power"): 1}


def test_reading_some_networks_keeps_the_links_among_them():
    t = read_shelby_tables(CSV_DIR, networks=("power", "water"))
    assert set(t.nodes) == set(t.arcs) == {"power", "water"}
    d = t.interdependencies
    assert len(d) == 22 and set(d["dependee_network"]) | set(d["depender_network"]) == {
        "power", "water"}


def test_coordinates_project_into_a_memphis_box(tables):
    from pyproj import Transformer

    assert tables.crs == CRS == "EPSG:32616"
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    downtown = to_utm.transform(-90.049, 35.149)  # Memphis city hall
    for net in NETWORKS:
        n = tables.nodes[net]
        assert n["lon"].between(-90.35, -89.55).all() and n["lat"].between(34.98, 35.42).all()
        assert n["x_m"].between(205_000, 270_000).all(), net
        assert n["y_m"].between(3_870_000, 3_925_000).all(), net
        assert np.hypot(n["x_m"] - downtown[0], n["y_m"] - downtown[1]).max() < 45_000
    # metres, right axis order: arc lengths are about the straight line between their ends
    for net in NETWORKS:
        a, n = tables.arcs[net], tables.nodes[net]
        dx = n.loc[a["start_node"], "x_m"].to_numpy() - n.loc[a["end_node"], "x_m"].to_numpy()
        dy = n.loc[a["start_node"], "y_m"].to_numpy() - n.loc[a["end_node"], "y_m"].to_numpy()
        ratio = a["length_m"].to_numpy() / np.hypot(dx, dy)
        assert 0.97 < np.median(ratio) < 1.03, net


# ---------------------------------------------------------------- failure probabilities


def test_probability_files_parse_with_the_expected_counts(probs):
    entry = re.compile(r"^\(\s*\d+\s*,\s*\d+\s*,\s*(\d)\)|^\(\s*\d+\s*,\s*(\d)\)")
    for m, p in probs.items():
        raw = {"arcs": {}, "nodes": {}}
        for line in (PROB_DIR / f"probM{m}.txt").read_text().splitlines():
            hit = entry.match(line.strip())
            if hit:
                kind, k = ("arcs", hit.group(1)) if hit.group(1) else ("nodes", hit.group(2))
                raw[kind][k] = raw[kind].get(k, 0) + 1
        # arcs are listed in both directions (power's 72 of 76 twice over)
        assert raw == {"arcs": {"1": 142, "2": 34, "3": 296}, "nodes": {"1": 49, "2": 16, "3": 60}}
        assert p.magnitude == m
        assert p.counts() == {"water": {"nodes": 49, "arcs": 71}, "gas": {"nodes": 16, "arcs": 17},
                              "power": {"nodes": 60, "arcs": 76}}
        assert p.nodes["p"].between(0, 1).all() and p.arcs["p"].between(0, 1).all()
    for lo, hi in zip(MAGNITUDES[:-1], MAGNITUDES[1:], strict=True):  # stronger: more failure
        assert (probs[hi].nodes["p"].to_numpy() > probs[lo].nodes["p"].to_numpy()).all()
        assert (probs[hi].arcs["p"].to_numpy() > probs[lo].arcs["p"].to_numpy()).all()


@pytest.mark.parametrize("m", MAGNITUDES)
def test_numbering_holds_for_water_and_gas_only(tables, probs, m):
    c = {net: check_numbering(probs[m], tables, net) for net in ("water", "gas", "power")}
    assert (c["water"].holds, c["gas"].holds, c["power"].holds) == (True, True, False)
    assert (c["water"].arcs_matched, c["water"].arcs_matched_unshifted) == (71, 17)
    assert (c["gas"].arcs_matched, c["gas"].arcs_matched_unshifted) == (17, 1)
    assert (c["power"].nodes_2015, c["power"].nodes_csv) == (60, 75)
    assert (c["power"].arcs_matched, c["power"].arcs_matched_unshifted) == (10, 20)


def test_power_2015_is_another_network_not_a_renumbering(probs, tables):
    """No id map can put the 2015 power arcs onto the CSV arcs: too many high degrees."""
    a15 = probs[8].arcs[probs[8].arcs["network"] == "power"]
    deg15 = pd.concat([a15["start"], a15["end"]]).value_counts()
    a = tables.arcs["power"].drop_duplicates(["start_node", "end_node"])
    deg = pd.concat([a["start_node"], a["end_node"]]).value_counts()
    # a monomorphism needs, for every d, as many CSV nodes of degree >= d as 2015 nodes
    assert (deg15 >= 4).sum() == 10 and (deg >= 4).sum() == 6


def test_mapped_probabilities_are_geographically_plausible(tables, probs):
    for net in ("water", "gas"):
        nodes_p, arcs_p = probabilities_by_csv_id(probs[8], tables, net)
        n = tables.nodes[net]
        assert nodes_p.index.equals(n.index) and arcs_p.index.equals(tables.arcs[net].index)
        assert nodes_p.notna().all() and arcs_p.notna().all()
        # node probabilities: a plane in lon/lat rising to the north-west (New Madrid)
        design = np.c_[np.ones(len(n)), n["lon"], n["lat"]]
        coef, *_ = np.linalg.lstsq(design, nodes_p.to_numpy(), rcond=None)
        resid = nodes_p.to_numpy() - design @ coef
        assert 1 - resid.var() / nodes_p.var(ddof=0) > 0.85, net
        assert coef[1] < 0 < coef[2], net
        # pipe failure grows with length
        rho = arcs_p.rank().corr(tables.arcs[net]["length_m"].rank())
        assert rho > 0.85, net
    nodes_p, _ = probabilities_by_csv_id(probs[8], tables, "water")
    assert nodes_p[0] == probs[8].nodes.query("network == 'water' and node == 1")["p"].item()


@pytest.mark.parametrize("net, says", [("power", "does not hold"), ("telecom", "no telecom")])
def test_unmapped_networks_are_refused(tables, probs, net, says):
    with pytest.raises(DataFileError, match=says) as e:
        probabilities_by_csv_id(probs[8], tables, net)
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------------- broken inputs


@pytest.fixture()
def broken_dir(tmp_path):
    d = tmp_path / "shelby"
    shutil.copytree(CSV_DIR, d)
    return d


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("file, old, new, needles", [
    ("GasNodes.csv", "-89.67707961,35.3293155,", "-89.67707961,north,",
     ["GasNodes.csv", "row 3 (line 4)", "field 'Y'", "'north' is not a number"]),
    ("WaterArcs.csv", "0,30773.49646,9.380,0,16,", "0,30773.49646,9.380,0,99,",
     ["WaterArcs.csv", "row 1 (line 2)", "field 'End Node'", "node 99"]),
    ("PowerArcs.csv", "0,22073.09372,6.728,", "0,22073.09372,67.28,",
     ["PowerArcs.csv", "row 1", "field 'Length (km)'", "disagrees"]),
    ("TelecommunicationNodes.csv", "\n1,-89.96061885", "\n0,-89.96061885",
     ["TelecommunicationNodes.csv", "row 2 (line 3)", "field 'ID'", "duplicate id 0"]),
    ("Interdep.csv", "26,1,Power,Water", "260,1,Power,Water",
     ["Interdep.csv", "row 2 (line 3)", "field 'Dependee Node'", "node 260"]),
    ("Interdep.csv", "13,0,Power,Water", "13,0,Power,Sewer",
     ["Interdep.csv", "row 1", "field 'Depender Network'", "'Sewer'"]),
    ("WaterNodes.csv", "ID,X,Y,", "ID,Lon,Y,",
     ["WaterNodes.csv", "field 'X'", "missing column"]),
])
def test_a_broken_csv_gives_one_line_naming_file_row_field(broken_dir, file, old, new, needles):
    _edit(broken_dir / file, old, new)
    with pytest.raises(DataFileError) as e:
        read_shelby_tables(broken_dir)
    msg = str(e.value)
    assert isinstance(e.value, InputError) and "\n" not in msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_a_broken_probability_file_names_its_line(tmp_path):
    bad = tmp_path / "probM8.txt"
    text = (PROB_DIR / "probM8.txt").read_text()
    bad.write_text(text.replace("(  1,  16,   1) 0.3091", "(  1,  16,   1) 1.3091", 1))
    with pytest.raises(DataFileError, match=r"probM8.txt, line 4: probability 1.3091 outside"):
        read_failure_probabilities(bad)
    bad.write_text(text.replace("( 16,   1,   1) 0.3091", "( 16,   1,   1) 0.3000", 1))
    with pytest.raises(DataFileError, match=r"line 5: arc \(1, 16, 1\) has p 0.3091 on line 4"):
        read_failure_probabilities(bad)
    bad.write_text(text.replace("( 57,   3) 0.2920", "( 57,   7) 0.2920", 1))
    with pytest.raises(DataFileError, match="unknown network number 7"):
        read_failure_probabilities(bad)
