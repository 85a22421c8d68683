"""Hostile inputs to the run, batch, city and import commands: one line, exit 2, nothing
half-written; and the processes a killed run leaves behind.

Each case here was once a traceback, a hang or a silent wrong answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """name: hostile
city: {{path: {city}}}
horizon_h: 48
output_step_h: 2
realizations: {n}
seed: 1
workers: {w}
crews: {{power: 1, water: 1, roads: 1}}
hazards:
  - type: damage_map
    events:
      - {{time_h: 1, assets: [SUB, P2], damage_state: moderate}}
"""


def twin(*args, timeout=600, **kw):
    return subprocess.run([sys.executable, "-m", "twin.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, **kw)


def one_line_exit_2(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("twin"), r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def city(tiny, tmp_path):
    from networks.io import save_city

    return save_city(tiny, tmp_path / "tiny.gpkg")


def scenario(tmp_path, city, *, n=2, w=1, name="s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(SCENARIO.format(city=city, n=n, w=w), encoding="utf-8")
    return p


# --- scenario files that are not UTF-8, or not what they seem -----------------------------

@pytest.mark.parametrize("encode, needle", [
    (lambda t: t.encode("utf-16"), "encoded as UTF-16"),
    (lambda t: t.replace("hostile", "café").encode("latin-1"), "not UTF-8 text (bad byte 0xe9"),
    (lambda t: bytes(range(256)) * 8, "not UTF-8 text"),
])
def test_scenario_not_utf8(tmp_path, city, encode, needle):
    p = tmp_path / "s.yaml"
    p.write_bytes(encode(SCENARIO.format(city=city, n=2, w=1)))
    out = tmp_path / "out"
    one_line_exit_2(twin("run", p, "--out", out, "-q"), str(p), needle)
    assert not out.exists()
    one_line_exit_2(twin("validate", p), needle)


def test_utf8_with_bom_is_fine(tmp_path, city):
    p = tmp_path / "s.yaml"
    p.write_bytes(SCENARIO.format(city=city, n=1, w=1).encode("utf-8-sig"))
    r = twin("validate", p)
    assert r.returncode == 0, r.stderr


def test_duplicate_yaml_key_is_an_error(tmp_path, city):
    p = tmp_path / "s.yaml"
    p.write_text(SCENARIO.format(city=city, n=2, w=1) + "seed: 9\n", encoding="utf-8")
    one_line_exit_2(twin("validate", p), "key 'seed' appears twice (lines 6 and 13)")


def test_duplicate_key_in_nested_mapping(tmp_path, city):
    p = tmp_path / "s.yaml"
    p.write_text(SCENARIO.format(city=city, n=2, w=1).replace(
        "crews: {power: 1,", "crews: {power: 1, power: 2,"), encoding="utf-8")
    one_line_exit_2(twin("validate", p), "key 'power' appears twice")


@pytest.mark.parametrize("field, value, needle", [
    ("output_step_h", "1e-9", "table rows"),
    ("realizations", "10000000000", "realizations"),
    ("crews", "{power: 1000000000}", "crews.power"),
])
def test_sizes_are_bounded_before_work(tmp_path, city, field, value, needle):
    text = "".join(line for line in SCENARIO.format(city=city, n=2, w=1).splitlines(True)
                   if not line.startswith(field + ":"))
    p = tmp_path / "s.yaml"
    p.write_text(text + f"{field}: {value}\n", encoding="utf-8")
    one_line_exit_2(twin("validate", p), needle)


# --- argument mistakes ---------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["run"], "twin run: error: the following arguments are required"),
    (["frobnicate"], "invalid choice"),
    (["run", "x.yaml", "--out", "o", "-n", "many"], "invalid int value"),
])
def test_usage_errors_are_one_line_with_a_hint(args, needle):
    line = one_line_exit_2(twin(*args), needle)
    assert "--help" in line and "usage:" not in line


# --- outputs -------------------------------------------------------------------------------

def test_city_refuses_to_overwrite(tmp_path):
    out = tmp_path / "city.gpkg"
    out.write_bytes(b"precious")
    one_line_exit_2(twin("city", "--out", out), "exists; pass --overwrite")
    assert out.read_bytes() == b"precious"


def test_unwritable_out_is_found_before_the_simulation(tmp_path, city):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = twin("run", scenario(tmp_path, city), "--out", blocker / "run", "-q")
    one_line_exit_2(r, "not a directory")
    assert "preparing" not in r.stdout


def test_orphaned_temp_folder_of_a_killed_writer_is_removed(tmp_path, city):
    out = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    orphan = tmp_path / f".run.tmp-{dead}-abc"
    orphan.mkdir()
    (orphan / "curves.parquet").write_bytes(b"half")
    mine = tmp_path / f".run.tmp-{os.getpid()}-live"  # a live writer's folder stays
    mine.mkdir()
    r = twin("run", scenario(tmp_path, city), "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert not orphan.exists() and mine.exists()
    assert (out / "summary.json").is_file()


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout
    return {int(x) for x in out.split()}


def _wait_until(cond, timeout_s: float, every_s: float = 0.2) -> bool:
    end = time.time() + timeout_s
    while time.time() < end:
        if cond():
            return True
        time.sleep(every_s)
    return cond()


@pytest.mark.slow
def test_sigkill_of_a_pooled_run_ends_its_workers(tmp_path, city):
    s = scenario(tmp_path, city, n=400, w=2)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(s), "--out", str(out),
                             "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_until(lambda: len(_children(proc.pid)) >= 3, 120), "no pool started"
    kids = _children(proc.pid)  # 2 workers and multiprocessing's resource tracker
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    def all_gone() -> bool:
        alive = set()
        for k in kids:
            try:
                os.kill(k, 0)
                state = Path(f"/proc/{k}/stat").read_text().split()[2]
                if state != "Z":
                    alive.add(k)
            except (ProcessLookupError, FileNotFoundError):
                pass
        return not alive

    assert _wait_until(all_gone, 20), "workers outlived their killed parent"
    assert not out.exists()


def _sigterm(tmp_path, city, *, n, when) -> tuple[subprocess.Popen, str, Path]:
    s = scenario(tmp_path, city, n=n, w=1)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(s), "--out", str(out),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_until(lambda: when(tmp_path), 300, 0.005), "the moment to interrupt never came"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    return proc, err, out


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["simulating", "writing"])
def test_sigterm_leaves_no_temp_folder(tmp_path, city, moment):
    t0 = time.time()
    n, when = {"simulating": (20000, lambda d: time.time() - t0 > 6),
               "writing": (1500, lambda d: any(d.glob(".run.tmp-*")))}[moment]
    proc, err, out = _sigterm(tmp_path, city, n=n, when=when)
    assert proc.returncode == 130, err
    assert "interrupted; nothing was written" in err and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".run.*"))


# --- batches -------------------------------------------------------------------------------

def test_batch_seed_range_is_bounded(tmp_path, city):
    one_line_exit_2(twin("batch", scenario(tmp_path, city), "--seeds", "0-999999999",
                         "--out", tmp_path / "b"), "more than 1,000,000 seeds")


@pytest.mark.slow
def test_batch_resume_reruns_jobs_whose_inputs_changed(tmp_path, city):
    import pandas as pd

    s = scenario(tmp_path, city, n=2)
    out = tmp_path / "b"
    r = twin("batch", s, "--seeds", "0-1", "-w", "1", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert set(pd.read_parquet(out / "index.parquet").realizations) == {2}
    r = twin("batch", s, "--seeds", "0-1", "-w", "1", "-n", "3", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert set(pd.read_parquet(out / "index.parquet").realizations) == {3}
    s.write_text(s.read_text().replace("damage_state: moderate", "damage_state: complete"))
    before = (out / "s" / "seed-0" / "summary.json").stat().st_mtime_ns
    r = twin("batch", s, "--seeds", "0-1", "-w", "1", "-n", "3", "--out", out, "-q")
    assert r.returncode == 0, r.stderr
    assert (out / "s" / "seed-0" / "summary.json").stat().st_mtime_ns != before
    unchanged = (out / "s" / "seed-0" / "summary.json").stat().st_mtime_ns
    r = twin("batch", s, "--seeds", "0-1", "-w", "1", "-n", "3", "--out", out, "-q")
    assert r.returncode == 0, r.stderr  # same inputs: resumed, not recomputed
    assert (out / "s" / "seed-0" / "summary.json").stat().st_mtime_ns == unchanged


# --- networks ------------------------------------------------------------------------------

def test_import_of_a_single_network_works(tmp_path):
    out = tmp_path / "ob.gpkg"
    r = twin("import", "--pandapower", ROOT / "data" / "networks" / "mv_oberrhein.json",
             "--out", out)
    assert r.returncode == 0, r.stderr
    from networks.io import load_city
    from twin.compile import compile_twin

    net = load_city(out)
    assert net.graph("water").number_of_nodes() == 0
    assert net.graph("power").number_of_nodes() > 100
    # a kind the city does not have has no series (it used to read 0 % and pull the
    # system curve down with it)
    assert compile_twin(net).kind_names() == ("power", "roads")


def test_power_network_without_source_warns(tiny, tmp_path):
    import networkx as nx

    from networks.model import LifelineNetwork
    from networks.validate import validate_network

    g = tiny.graphs["power"].copy()
    for n, a in list(g.nodes(data=True)):
        if a["asset_class"] in ("grid_supply", "power_plant"):
            g.remove_node(n)
    alive = set(g) | {n for k, h in tiny.graphs.items() if k != "power" for n in h}
    deps = tuple(d for d in tiny.dependencies if d.dependent in alive and d.supplier in alive)
    net = LifelineNetwork(name=tiny.name, crs=tiny.crs,
                          graphs={**tiny.graphs, "power": nx.Graph(g)},
                          dependencies=deps, population=None, terrain=None)
    with pytest.warns(UserWarning, match="power network .* has no source"):
        validate_network(net)


def test_batch_bad_scheduler_address_is_one_line(tmp_path, city):
    one_line_exit_2(twin("batch", scenario(tmp_path, city), "--seeds", "0", "--scheduler", "abc",
                         "--out", tmp_path / "b", "-q"),
                    "--scheduler: cannot reach the Dask scheduler")
