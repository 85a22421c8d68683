"""What a finished drill writes: ``DIR/drill.yaml`` (the scenario that replays it),
``DIR/branches/<name>.yaml`` (other branches), ``DIR/run/`` and ``DIR/baseline/``
(the files of ``twin run``, realization 0 being the drill's own) and
``DIR/report.html``. The folder is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from twin.actions import PRESET_BY
from twin.drill.report import DecisionEffect, render_report
from twin.drill.session import MAIN, DrillSession
from twin.drill.weak_points import rank_weak_points
from twin.output import atomic_dir
from twin.results import build_tables
from twin.run import Prepared, run_monte_carlo, write_run


def _system_loss(prep: Prepared, results) -> np.ndarray:
    tables = build_tables(prep.twin, results, horizon_h=prep.spec.horizon_h,
                          output_step_h=prep.spec.horizon_h)
    m = tables.metrics
    return m[m.network == "system"].customer_hours_lost.to_numpy()


def decision_effects(session: DrillSession, drill_prep: Prepared, drill_results, *,
                     workers: int = 1) -> list[DecisionEffect]:
    """Each live decision of the main branch left out in turn, across the realizations."""
    with_all = _system_loss(drill_prep, drill_results)
    log = list(drill_prep.config.interventions)
    out = []
    for d in log:
        if d.by in PRESET_BY:
            continue
        without = tuple(x for x in log if x is not d)
        prep = replace(drill_prep, config=replace(drill_prep.config, interventions=without))
        loss = _system_loss(prep, run_monte_carlo(prep, workers=workers))
        out.append(DecisionEffect(d.time_h, d.action.describe(), loss - with_all, d.by))
    return out


def dump_yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def write_drill(out: Path, session: DrillSession, *, lang: str = "en", overwrite: bool = False,
                workers: int = 1, figures: Callable | None = None,
                progress: Callable[[str], None] | None = None) -> Path:
    """Finish every branch and write the drill folder (see module docstring)."""
    say = progress or (lambda s: None)
    session.finish()
    drill_prep = session.prepared(MAIN)
    base_prep = session.prep
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "drill.yaml").write_text(dump_yaml(session.scenario_doc(MAIN)), encoding="utf-8")
        for name in session.branches:
            if name != MAIN:
                (tmp / "branches").mkdir(exist_ok=True)
                (tmp / "branches" / f"{name}.yaml").write_text(
                    dump_yaml(session.scenario_doc(name)), encoding="utf-8")
        say("drill realizations")
        drill_res = run_monte_carlo(drill_prep, workers=workers)
        drill_sum = write_run(tmp / "run", drill_prep, drill_res, figures=figures)
        say("baseline realizations")
        base_res = run_monte_carlo(base_prep, workers=workers)
        base_sum = write_run(tmp / "baseline", base_prep, base_res, figures=figures)
        say("decision effects")
        effects = decision_effects(session, drill_prep, drill_res, workers=workers)
        say("weak points (N-1)")
        weak = rank_weak_points(base_prep.twin, base_prep.models)
        spec = drill_prep.spec
        grid = dict(horizon_h=spec.horizon_h, output_step_h=spec.output_step_h)
        html_text = render_report(
            session, drill_tables=build_tables(drill_prep.twin, drill_res, **grid),
            baseline_tables=build_tables(base_prep.twin, base_res, **grid),
            drill_summary=drill_sum, baseline_summary=base_sum, effects=effects, weak=weak,
            lang=lang)
        (tmp / "report.html").write_text(html_text, encoding="utf-8")
    return out


def write_scene_now(session: DrillSession, path: Path, *, frames: int = 60) -> Path:
    """The 3D scene of the current branch from the start to now: the views' offline WebGL
    replay (:func:`viz.html.write_html`) of a one-realization run cut at the current time."""
    import tempfile

    from viz.html import write_html
    from viz.rundata import RunData

    now = session.now
    if now <= 0:
        from twin.drill.session import DrillError

        raise DrillError("advance the clock first: the 3D scene shows the drill so far")
    prep = session.prepared(session.current)
    step = min(prep.spec.output_step_h, now)
    spec = prep.spec.model_copy(update={"horizon_h": now, "output_step_h": step,
                                        "realizations": 1})
    with tempfile.TemporaryDirectory(prefix="twin-drill-scene-") as tmp:
        run = Path(tmp) / "run"
        write_run(run, replace(prep, spec=spec), [session.engine.result()])
        write_html(RunData.from_dir(run), path, realization=0, frames=frames)
    return path
