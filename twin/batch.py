"""Batch runs for researchers: scenarios x seeds, on this machine or a Dask cluster.

Every (scenario, seed) job is a full Monte Carlo run written to its own directory
``OUT/<scenario>/seed-<seed>/`` atomically by the worker that ran it, so a batch
that loses a worker (or is killed) keeps every finished result, and running the
same command again resumes: finished jobs are skipped. After the jobs, the
results are gathered into two tables:

- ``OUT/index.parquet``: one row per job (scenario, seed, status, path, error,
  and the median system metrics from its ``summary.json``);
- ``OUT/metrics.parquet``: every realization's metrics of every job, with
  ``scenario`` and ``seed`` columns (see :mod:`twin.results` for definitions).

Dask: by default a ``LocalCluster`` with one single-threaded worker process per
core; ``scheduler="tcp://host:8786"`` submits to an existing cluster whose workers
have this package installed and can read the scenario files and write ``OUT``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from common.errors import InputError
from common.names import SERIES


@dataclass(frozen=True)
class Job:
    scenario: str  # absolute path
    name: str  # directory name of the scenario (file stem)
    seed: int
    out: str  # absolute path of the job's result directory
    inputs: str = ""  # sha256 of the job's inputs (twin.scenario.inputs_digest)

    def finished(self) -> bool:
        """A result exists and was computed from these very inputs.

        Resuming must not return the results of an edited scenario, another ``-n``
        or changed input files; such a job is run again and its folder replaced.
        """
        return finished_inputs(Path(self.out)) == self.inputs

    @property
    def key(self) -> str:
        return f"twin-{self.name}-seed-{self.seed}"


#: Most seeds one batch may list (a typo such as 0-999999999 must not fill memory).
MAX_SEEDS = 1_000_000


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"1,4,7"`` or ``"0-4,10"`` to a sorted list of seeds."""
    seeds: set[int] = set()
    total = 0
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise InputError(f"bad seed list {text!r}: use e.g. 0-9 or 1,4,7", where="--seeds")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if hi < lo:
            raise InputError(f"bad seed range {part!r}", where="--seeds")
        total += hi - lo + 1
        if total > MAX_SEEDS:
            raise InputError(f"{text!r} lists more than {MAX_SEEDS:,} seeds; split the batch",
                             where="--seeds")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def job_digest(inputs: str, seed: int) -> str:
    """A job's key: its scenario's inputs digest and its seed."""
    import hashlib

    return hashlib.sha256(f"{inputs}|seed={seed}".encode()).hexdigest()


def finished_inputs(out: Path) -> str | None:
    """The inputs digest recorded in a finished job folder (None: none or unreadable)."""
    try:
        return json.loads((out / "summary.json").read_text(encoding="utf-8")).get("inputs_sha256")
    except (OSError, ValueError, AttributeError):
        return None


def plan(scenarios: Sequence[Path], seeds: Sequence[int], out: Path, *,
         realizations: int | None = None) -> list[Job]:
    """Validate every scenario up front (a typo fails the batch before any work) and
    list the jobs, each keyed by the digest of its inputs."""
    from twin.scenario import inputs_digest, load_scenario

    out = Path(out).resolve()
    jobs = []
    names: dict[str, Path] = {}
    for s in scenarios:
        s = Path(s).resolve()
        if s.stem in names and names[s.stem] != s:
            raise InputError(f"two scenarios share the name '{s.stem}' ({names[s.stem]})",
                             where=str(s))
        names[s.stem] = s
        base = inputs_digest(load_scenario(s, realizations=realizations, workers=1))
        for seed in seeds:
            jobs.append(Job(str(s), s.stem, int(seed), str(out / s.stem / f"seed-{seed}"),
                            job_digest(base, int(seed))))
    return jobs


def run_job(job: Job, realizations: int | None = None) -> dict:
    """Run one job on a worker and write its directory; returns its index row."""
    from twin.run import prepare, run_monte_carlo, write_run
    from twin.scenario import inputs_digest, load_scenario

    out = Path(job.out)
    if job.finished():
        return _row(job, "done")
    # temp folders of a killed earlier attempt go in write_run (twin.output.remove_orphans)
    t0 = time.perf_counter()
    spec = load_scenario(job.scenario, seed=job.seed, realizations=realizations, workers=1)
    if job_digest(inputs_digest(spec), job.seed) != job.inputs:
        raise InputError("the scenario or its input files changed while the batch ran",
                         where=job.scenario)
    prep = prepare(spec)
    results = run_monte_carlo(prep, workers=1)
    write_run(out, prep, results, started=t0, overwrite=True,
              extra_summary={"inputs_sha256": job.inputs})
    return _row(job, "done")


def _row(job: Job, status: str, error: str = "") -> dict:
    row = {"scenario": job.name, "seed": job.seed, "status": status, "path": job.out,
           "error": error}
    summary = Path(job.out) / "summary.json"
    if status == "done" and summary.is_file():
        s = json.loads(summary.read_text())
        row["realizations"] = s["realizations"]
        for net in SERIES:
            m = s["networks"].get(net)
            if m is None:
                continue  # a kind this city does not have
            row[f"{net}_min_service"] = m["min_service"]["median"]
            row[f"{net}_time_to_90_h"] = m["time_to_90_h"]["median"]
            row[f"{net}_resilience_loss_h"] = m["resilience_loss_h"]["median"]
        row["customer_hours_lost"] = s["networks"]["system"]["customer_hours_lost"]["median"]
        row["repair_cost_usd"] = s["networks"]["system"]["repair_cost_usd"]["median"]
    return row


def run_batch(jobs: Sequence[Job], out: Path, *, realizations: int | None = None,
              scheduler: str | None = None, workers: int = 0, client=None,
              on_done: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """Run ``jobs`` on Dask and gather the tables; failures are rows, not exceptions."""
    from dask.distributed import Client, LocalCluster, as_completed

    from twin.run import single_threaded_blas

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo = [j for j in jobs if not j.finished()]
    rows = [_row(j, "done") for j in jobs if j not in todo]
    for r in rows:
        if on_done:
            on_done(r)
    own = None
    if todo:
        if client is None:
            if scheduler:
                own = client = _connect(scheduler)
            else:
                n = (os.cpu_count() or 1) if workers <= 0 else workers
                with single_threaded_blas():
                    cluster = LocalCluster(n_workers=min(n, len(todo)), threads_per_worker=1,
                                           processes=True, dashboard_address=None)
                own = client = Client(cluster)
        try:
            futs = {client.submit(run_job, j, realizations, key=j.key, pure=False, retries=2): j
                    for j in todo}
            for fut in as_completed(list(futs)):
                j = futs[fut]
                try:
                    row = fut.result()
                except InputError as e:
                    row = _row(j, "failed", str(e))
                except Exception as e:  # noqa: BLE001 - a lost worker (KilledWorker) or a bug
                    row = _row(j, "failed", f"{type(e).__name__}: {e}".splitlines()[0])
                rows.append(row)
                if on_done:
                    on_done(row)
        finally:
            if own is not None:
                cluster = getattr(own, "cluster", None)
                own.close()
                if cluster is not None:
                    cluster.close()
    return gather(jobs, out, rows)


def _connect(scheduler: str):
    """A client of the Dask scheduler at ``scheduler``; a bad or unreachable address is
    the user's to fix (one line), not a traceback from deep in the comm layer."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout="20s")
    except (OSError, ValueError, TimeoutError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"cannot reach the Dask scheduler ({msg}); give its address as "
                         "tcp://HOST:PORT", where="--scheduler") from None


def gather(jobs: Sequence[Job], out: Path, rows: list[dict] | None = None) -> pd.DataFrame:
    """Write ``index.parquet`` and ``metrics.parquet`` from the finished job directories."""
    by_key = {(r["scenario"], r["seed"]): r for r in (rows or [])}
    index = []
    metrics = []
    for j in jobs:
        r = by_key.get((j.name, j.seed)) or _row(
            j, "done" if j.finished() else "missing")
        index.append(r)
        mp = Path(j.out) / "metrics.parquet"
        if r["status"] == "done" and mp.is_file():
            m = pd.read_parquet(mp)
            m.insert(0, "seed", j.seed)
            m.insert(0, "scenario", j.name)
            metrics.append(m)
    idx = pd.DataFrame(index)
    _atomic_parquet(idx, out / "index.parquet")
    if metrics:
        _atomic_parquet(pd.concat(metrics, ignore_index=True), out / "metrics.parquet")
    return idx


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
