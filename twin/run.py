"""From a scenario to results: prepare once, then run realizations in a loop or a pool.

A realization is a pure function of (prepared scenario, realization index): its
random stream is ``SeedSequence(seed, spawn_key=(r,))``, so the same seed gives
byte-identical results in a loop, in a process pool or on a Dask cluster.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.errors import ScenarioError
from common.names import NETWORKS
from hazards.base import HazardContext, HazardField
from hazards.registry import hazard_class
from networks.fragility import AssetModels
from networks.model import LifelineNetwork
from twin.compile import Twin, compile_twin
from twin.engine import Engine, RealizationResult, RunConfig
from twin.scenario import ScenarioSpec

if TYPE_CHECKING:
    from twin.results import RunTables


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything a realization needs; picklable, shared read-only by all workers."""

    spec: ScenarioSpec
    twin: Twin
    fields: tuple[HazardField, ...]
    models: AssetModels
    config: RunConfig
    #: per hazard, the fields of its ensemble members (one entry: no ensemble);
    #: ``fields`` holds member 0 of each
    members: tuple[tuple[HazardField, ...], ...] = ()
    #: what the preparation decided that the summary should say (e.g. a warning's staging)
    notes: tuple[tuple[str, object], ...] = ()

    def fields_for(self, r: int) -> tuple[HazardField, ...]:
        """The hazard fields realization ``r`` meets: member ``r mod N`` of each ensemble."""
        if not self.members:
            return self.fields
        return tuple(m[r % len(m)] for m in self.members)

    def n_members(self) -> int:
        """Largest ensemble size among the hazards (1 without an ensemble)."""
        return max((len(m) for m in self.members), default=1)


def load_city(spec: ScenarioSpec) -> LifelineNetwork:
    if spec.city.builtin is not None:
        from networks.builtin import build_builtin_city

        b = spec.city.builtin
        return build_builtin_city(b.seed, scale=b.scale, feeder_automation=b.feeder_automation)
    from networks.io import load_city as load_file

    p = Path(spec.city.path)
    return load_file(p if p.is_absolute() else spec.base_dir / p)


def cache_dir() -> Path:
    d = Path(os.environ.get("TWIN_CACHE_DIR", Path.home() / ".cache" / "resilience-twin"))
    return d


def hazard_field(hazard, twin: Twin, *, use_cache: bool = True) -> HazardField:
    """The hazard's field at the twin's sites, from the on-disk cache when present.

    The key joins the hazard's :meth:`~hazards.base.Hazard.cache_key` (every input
    that shapes the field, file contents included) and the sites' fingerprint. A
    damaged entry (truncated, garbled, wrong shape) is a miss: it is recomputed and
    replaced atomically, with a one-line warning. Warnings the field carries
    (``HazardField.warnings``) are issued again on a hit, so a cached run says what a
    fresh one said.
    """
    import warnings

    from hazards.base import DAMAGED_FILE_ERRORS

    key = hashlib.sha256(f"{hazard.cache_key()}|{twin.sites.fingerprint()}".encode()).hexdigest()
    path = cache_dir() / "hazards" / f"{key[:32]}.npz"
    if use_cache and path.is_file():
        try:
            cached = HazardField.load(path, n_sites=len(twin.sites))
        except DAMAGED_FILE_ERRORS as exc:
            warnings.warn(f"hazard cache entry {path.name} is damaged ({type(exc).__name__}); "
                          "recomputing it", stacklevel=2)
        else:
            for message in cached.warnings:
                warnings.warn(message, stacklevel=2)
            return cached
    f = hazard.compute(twin.sites)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            f.save(path)
        except OSError:
            pass  # a read-only cache location only costs speed
    return f


def prepare(spec: ScenarioSpec, *, use_cache: bool = True,
            net: LifelineNetwork | None = None, compute_hazards: bool = True) -> Prepared:
    """Load the city, compile the twin, compute (or load) hazard fields, check references.

    With ``compute_hazards=False`` (``twin validate``) every hazard is built from its
    configuration, which checks its inputs (files, CRS, coverage), and hazards with a
    cheap ``check(sites)`` run it, but no field is computed; ``fields`` is empty.
    """
    if net is None:
        net = load_city(spec)
    twin = compile_twin(net)
    models = AssetModels.defaults().with_overrides(
        curves=spec.fragility, outages=spec.outages, repair=spec.restoration,
        cost=spec.repair_costs, where=str(spec.base_dir / "scenario"))
    ctx = HazardContext(crs=twin.crs, terrain=net.terrain, base_dir=spec.base_dir,
                        horizon_h=spec.horizon_h, meta=dict(net.meta))
    members: list[tuple[HazardField, ...]] = []
    for cfg in spec.hazard_configs():
        cls = hazard_class(cfg.type)
        # a hazard configuration may stand for an ensemble (a forecast's members):
        # its optional member_configs() lists them, one field each, all cached
        variants = cfg.member_configs() if hasattr(cfg, "member_configs") else [cfg]
        fields_of = []
        for v in variants:
            hazard = cls.from_config(v, ctx)
            if compute_hazards:
                fields_of.append(hazard_field(hazard, twin, use_cache=use_cache))
            elif hasattr(hazard, "check"):
                hazard.check(twin.sites)
                break  # the members share their inputs: one check says it
        if compute_hazards:
            members.append(tuple(fields_of))
    from twin.action_handlers import checked_decisions

    for i, iv in enumerate(spec.interventions):
        for a in iv.assets or ():
            if a not in twin.index:
                raise ScenarioError(f"asset '{a}' does not exist in the city",
                                    where=f"interventions.{i}.assets")
    # kinds and classes, on the twin alone, as the engine will (twin validate says it too)
    checked_decisions(twin, [iv.model_dump() for iv in spec.interventions])
    staged, notes = _warning(spec, twin, models, ctx, use_cache, compute_hazards)
    config = RunConfig(horizon_h=spec.horizon_h,
                       crews=tuple(getattr(spec.crews, k) for k in NETWORKS),
                       mobilisation_h=spec.crews.mobilisation_h, policy=spec.policy,
                       stand_down_wind_mps=spec.crews.stand_down_wind_mps,
                       interventions=tuple(staged) + tuple(
                           iv.model_dump() for iv in spec.interventions),
                       service=spec.service.settings(),
                       system_kinds=(None if spec.system_kinds is None
                                     else tuple(spec.system_kinds)),
                       self_healing=(spec.self_healing.settings()
                                     if spec.self_healing is not None else None))
    if any(len(m) > spec.realizations for m in members):
        import warnings

        from common.errors import InputWarning

        warnings.warn(f"{spec.realizations} realizations meet only the first "
                      f"{spec.realizations} of {max(len(m) for m in members)} forecast members; "
                      "raise realizations to sample the whole ensemble", InputWarning,
                      stacklevel=2)
    fields = tuple(m[0] for m in members)
    return Prepared(spec, twin, fields, models, config,
                    tuple(members) if any(len(m) > 1 for m in members) else (), notes)


def _warning(spec: ScenarioSpec, twin: Twin, models: AssetModels, ctx: HazardContext,
             use_cache: bool, compute: bool) -> tuple[list, tuple]:
    """A ``warning`` block's staging: ``preposition`` interventions decided on the
    forecast's members (:mod:`twin.warning`), and the plan for the summary. Without
    ``compute`` (``twin validate``) the members are only built, which checks them."""
    w = spec.warning
    if w is None:
        return [], ()
    from twin.actions import STAGED_BY, Decision
    from twin.warning import stage_on_forecast, warning_fields

    for i, s in enumerate(w.stage):
        if s.utility not in twin.kind_names():
            raise ScenarioError(f"city '{twin.name}' has no {s.utility} network",
                                where=f"warning.stage.{i}.utility")
    cfg = spec.hazard_configs()[w.hazard]
    cls = hazard_class(cfg.type)
    if not compute:
        cls.from_config(cfg.forecast_configs(w.issue_time_utc, 1, w.seed)[0], ctx)
        return [], ()
    fields = warning_fields(w, cfg, lambda c: hazard_field(cls.from_config(c, ctx), twin,
                                                           use_cache=use_cache))
    staged, plan = stage_on_forecast(w, twin, models, fields)
    # "by warning": a drill's saved scenario leaves them out (its warning block stages
    # them again) and, like the scenario's own, they are not the drill's decisions
    return [Decision.from_record(rec, by=STAGED_BY) for rec in staged], (("warning", plan),)


def realization_rng(seed: int, r: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))


def run_realization(prep: Prepared, r: int) -> RealizationResult:
    """Realization ``r`` of the prepared scenario (pure: same inputs, same result)."""
    eng = Engine(prep.twin, prep.fields_for(r), prep.models, prep.config,
                 realization_rng(prep.spec.seed, r))
    eng.run()
    return eng.result()


_WORKER: Prepared | None = None


def _init_worker(prep: Prepared, parent_pid: int) -> None:
    global _WORKER
    _WORKER = prep
    _exit_with_parent(parent_pid)


def _exit_with_parent(parent_pid: int, *, every_s: float = 0.5) -> None:
    """End this worker when its parent is gone (a SIGKILLed ``twin run`` runs no clean-up).

    Without it the workers (~250 MB each) and, through them, multiprocessing's
    resource tracker live on after the parent was killed. A daemon thread polls
    the parent pid: portable, and unlike ``PR_SET_PDEATHSIG`` it does not depend on
    which of the parent's threads started the worker.
    """
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _work(r: int) -> tuple[int, RealizationResult]:
    assert _WORKER is not None
    return r, run_realization(_WORKER, r)


def run_monte_carlo(prep: Prepared, *, realizations: int | None = None, workers: int = 1,
                    on_done: Callable[[int], None] | None = None) -> list[RealizationResult]:
    """Run realizations ``0..N-1``; results are ordered by realization whatever the pool."""
    n = prep.spec.realizations if realizations is None else realizations
    workers = (os.cpu_count() or 1) if workers <= 0 else workers
    workers = max(1, min(workers, n))
    out: list[RealizationResult | None] = [None] * n
    if workers == 1:
        for r in range(n):
            out[r] = run_realization(prep, r)
            if on_done:
                on_done(r)
    else:
        # spawn, not fork: numba's threading layer must not be forked mid-flight.
        # One BLAS thread per worker: OpenBLAS threads the large dot products of the
        # service sums and two workers x two threads thrash 2 cores (10x slower).
        with single_threaded_blas(), ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"),
                initializer=_init_worker, initargs=(prep, os.getpid())) as pool:
            futs = [pool.submit(_work, r) for r in range(n)]
            for f in as_completed(futs):
                r, res = f.result()
                out[r] = res
                if on_done:
                    on_done(r)
    return [x for x in out if x is not None]


_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Child processes started inside this block use one BLAS/OpenMP thread each."""
    saved = {k: os.environ.get(k) for k in _BLAS_VARS}
    os.environ.update({k: "1" for k in _BLAS_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_indices(prep: Prepared, indices: Sequence[int]) -> list[RealizationResult]:
    """Run a chosen set of realizations (for batch and cluster drivers)."""
    return [run_realization(prep, r) for r in indices]


def write_run(out: Path, prep: Prepared, results: Sequence[RealizationResult], *,
              overwrite: bool = False, started: float | None = None,
              figures: Callable[[Path, RunTables, dict, str], None] | None = None,
              extra_summary: dict | None = None) -> dict:
    """Write a run's tables, summary and replay inputs to ``out`` atomically.

    ``figures(folder, tables, summary, title)``, when given, draws into the same
    temporary folder before it is renamed (the CLI passes
    :func:`viz.plots.write_run_figures`; the engine floor never imports the views).
    """
    import json
    import time

    from twin.output import atomic_dir
    from twin.replay_store import save_replay_inputs
    from twin.results import build_tables, customers_per_series, summarize

    spec = prep.spec
    tables = build_tables(prep.twin, results, horizon_h=spec.horizon_h,
                          output_step_h=spec.output_step_h)
    summary = summarize(tables, scenario=spec.name, horizon_h=spec.horizon_h,
                        realizations=len(results), seed=spec.seed,
                        customers=customers_per_series(prep.twin))
    if prep.members:
        summary["forecast_members"] = prep.n_members()
    summary.update(dict(prep.notes))
    stats = [r.extra["service"] for r in results if r.extra.get("service")]
    if stats:  # service by physics: islands solved, reused and fallen back, summed
        summary["service"] = {"power": spec.service.power, "water": spec.service.water,
                              **{k: sum(s[k] for s in stats) for k in stats[0]}}
    summary.update(extra_summary or {})
    if started is not None:
        summary["wall_time_s"] = round(time.perf_counter() - started, 2)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        tables.curves.to_parquet(tmp / "curves.parquet", index=False)
        tables.loss.to_parquet(tmp / "loss.parquet", index=False)
        tables.events.to_parquet(tmp / "events.parquet", index=False)
        tables.metrics.to_parquet(tmp / "metrics.parquet", index=False)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
        save_replay_inputs(tmp / "replay.npz", prep.twin, prep.fields,
                           system_kinds=prep.config.system_kinds)
        if figures is not None:
            figures(tmp, tables, summary, spec.name)
    return summary
