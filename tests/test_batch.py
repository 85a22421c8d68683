"""Batches: tables across scenarios x seeds, resuming, and nothing lost when workers die."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from common.errors import InputError
from networks.io import save_city
from twin.batch import gather, parse_seeds, plan, run_batch

SCEN = """
name: batch drill
city: {{path: {city}}}
horizon_h: 72
realizations: {n}
crews: {{power: 1, water: 1, roads: 1}}
hazards:
  - type: damage_map
    events:
      - {{time_h: 1, assets: [SUB], damage_state: moderate, probability: 0.7}}
      - {{time_h: 2, area: {{circle: [300, 100, 60]}}, damage_state: slight, probability: 0.5}}
"""


@pytest.fixture
def scenario(tiny, tmp_path):
    city = save_city(tiny, tmp_path / "tiny.gpkg")
    p = tmp_path / "drill.yaml"
    p.write_text(SCEN.format(city=city, n=3))
    return p


def test_parse_seeds():
    assert parse_seeds("0-3,7,2") == [0, 1, 2, 3, 7]
    with pytest.raises(InputError, match="--seeds"):
        parse_seeds("a-b")


def test_batch_tables_and_resume(scenario, tmp_path):
    from dask.distributed import Client, LocalCluster

    out = tmp_path / "batch"
    jobs = plan([scenario], [1, 2, 3], out)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        idx = run_batch(jobs, out, client=client)
        assert list(idx.status) == ["done"] * 3
        m = pd.read_parquet(out / "metrics.parquet")
        assert set(m.seed) == {1, 2, 3} and set(m.realization) == {0, 1, 2}
        assert {"scenario", "network", "resilience_loss_h", "time_to_90_h"} <= set(m.columns)
        # different seeds give different runs
        sysm = m[m.network == "system"].groupby("seed").resilience_loss_h.sum()
        assert sysm.nunique() > 1
        stamp = (Path(jobs[0].out) / "summary.json").stat().st_mtime_ns
        idx2 = run_batch(jobs, out, client=client)  # resume: nothing re-run
        assert list(idx2.status) == ["done"] * 3
        assert (Path(jobs[0].out) / "summary.json").stat().st_mtime_ns == stamp


def test_bad_scenario_fails_before_any_work(scenario, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario.read_text() + "crwes: 3\n")
    r = subprocess.run([sys.executable, "-m", "twin.cli", "batch", str(scenario), str(bad),
                        "--out", str(tmp_path / "b")], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown field 'crwes'" in r.stderr
    assert not (tmp_path / "b").exists()


def test_losing_a_worker_keeps_finished_results(scenario, tmp_path):
    """Kill one worker process mid-batch: finished jobs stay, the rest are redone."""
    from dask.distributed import Client, LocalCluster

    slow = tmp_path / "slow.yaml"
    slow.write_text(scenario.read_text().replace("realizations: 3", "realizations: 40"))
    out = tmp_path / "batch"
    jobs = plan([slow], list(range(6)), out)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        done_before: list[str] = []

        def on_done(row):
            done_before.append(row["path"])
            if len(done_before) == 1:  # after the first result, kill a worker process
                info = client.scheduler_info()["workers"]
                pids = client.run(os.getpid)
                victim = sorted(info)[0]
                os.kill(pids[victim], signal.SIGKILL)

        idx = run_batch(jobs, out, client=client, on_done=on_done)
    assert (idx.status == "done").all(), idx[["seed", "status", "error"]]
    first = Path(done_before[0])
    assert (first / "summary.json").is_file()
    assert not list(out.rglob(".seed-*.tmp-*"))  # no half-written directories left
    assert len(pd.read_parquet(out / "metrics.parquet")) == 6 * 40 * 4


def test_killed_batch_resumes_from_disk(scenario, tmp_path):
    slow = tmp_path / "slow.yaml"
    slow.write_text(scenario.read_text().replace("realizations: 3", "realizations: 30"))
    out = tmp_path / "batch"
    cmd = [sys.executable, "-m", "twin.cli", "batch", str(slow), "--seeds", "0-5", "-w", "1",
           "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob("slow/seed-*/summary.json")):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name for p in out.glob("slow/seed-*/summary.json")}
    assert finished, "no job finished before the kill"
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    idx = pd.read_parquet(out / "index.parquet")
    assert (idx.status == "done").all() and len(idx) == 6
    assert not list(out.rglob(".seed-*.tmp-*"))
    jobs = plan([slow], range(6), out)
    gather(jobs, out)
