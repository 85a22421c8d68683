"""A drill session: one realization of a scenario stepped by a facilitator.

The session keeps named branches (engines); the facilitator advances the clock,
applies injects and decisions (typed actions, :mod:`twin.actions`) to the current
branch, and may fork a branch ("what if we had not held the crews?"). A branch
is a pure function of (scenario, seed, decisions): :meth:`scenario_doc` writes it
back as a scenario whose ``interventions`` are the decisions, and ``twin run`` on
that file reproduces the branch exactly (as realization 0, the drill's own).

Times are hours since the scenario start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import InputError
from common.i18n import Message
from twin.actions import PRESET_BY, STAGED_BY, Action, Decision
from twin.engine import Engine, Snapshot
from twin.recorder import RealizationResult
from twin.run import Prepared, prepare, realization_rng
from twin.scenario import ScenarioSpec, load_scenario, read_document

MAIN = "main"


class DrillError(InputError):
    """A drill step that cannot be carried out (unknown branch, bad time, ...)."""


@dataclass(frozen=True)
class Moment:
    """A moment worth a map in the report: the state of a branch when something was done
    (``label`` rendered in the report's language)."""

    branch: str
    label: str | Message
    snapshot: Snapshot


class DrillSession:
    """Branches of one realization of a prepared scenario (see module docstring).

    ``source`` is the scenario document as the user wrote it (with overrides
    applied); ``prep`` the prepared scenario; ``realization`` the realization the
    drill plays (its random stream is the one ``twin run`` gives it).
    """

    def __init__(self, prep: Prepared, source: dict[str, Any], *, realization: int = 0
                 ) -> None:
        self.prep = prep
        self.source = source
        self.realization = realization
        self.branches: dict[str, Engine] = {MAIN: self._engine(prep)}
        self.parents: dict[str, tuple[str, float]] = {}
        self.current = MAIN
        self.moments: list[Moment] = []
        self._baseline: Engine | None = None

    @classmethod
    def from_file(cls, path: Path | str, *, realization: int = 0, use_cache: bool = True,
                  **overrides: Any) -> DrillSession:
        """Load, validate and prepare a scenario file for a drill."""
        path = Path(path)
        spec = load_scenario(path, **overrides)
        doc = read_document(path)
        doc.update({k: v for k, v in overrides.items() if v is not None})
        return cls(prepare(spec, use_cache=use_cache), _absolute_paths(doc, spec.base_dir),
                   realization=realization)

    def _engine(self, prep: Prepared) -> Engine:
        return Engine(prep.twin, prep.fields, prep.models, prep.config,
                      realization_rng(prep.spec.seed, self.realization))

    # ------------------------------------------------------------------ the clock
    @property
    def engine(self) -> Engine:
        """The current branch's engine."""
        return self.branches[self.current]

    @property
    def now(self) -> float:
        return self.engine.now

    @property
    def spec(self) -> ScenarioSpec:
        return self.prep.spec

    def advance(self, hours: float) -> None:
        """Advance the current branch by ``hours`` (clipped at the horizon)."""
        if isinstance(hours, bool) or not isinstance(hours, int | float) \
                or not math.isfinite(hours) or hours <= 0:
            raise DrillError(Message("err_advance_h", value=hours))
        self._not_at_end()
        self.engine.run(min(self.now + float(hours), self.engine.horizon_h))

    def _not_at_end(self) -> None:
        if self.now >= self.engine.horizon_h:
            raise DrillError(Message("err_branch_at_end", branch=self.current,
                                     horizon=self.engine.horizon_h))

    def advance_to(self, t: float | str) -> None:
        """Advance the current branch to ``t`` hours, or to the horizon with ``"end"``."""
        if t == "end":
            self.engine.run()
            return
        if isinstance(t, bool) or not isinstance(t, int | float):
            raise DrillError(Message("err_advance_to", value=t))
        self.engine.run(float(t))

    def next_event(self) -> None:
        """Advance just past the next moment something is scheduled to happen."""
        self._not_at_end()
        nxt = self.engine.next_event_h()
        if not math.isfinite(nxt) or nxt >= self.engine.horizon_h:
            self.engine.run()
            return
        # just past it, so what happens at that time is shown (1e-6 h = 3.6 ms)
        self.engine.run(min(max(nxt, self.now) + 1e-6, self.engine.horizon_h))

    def finish(self) -> None:
        """Run every branch to the horizon (no decisions are added)."""
        for eng in self.branches.values():
            eng.run()

    # ------------------------------------------------------------------ decisions
    def act(self, action: Action, *, by: str = "facilitator") -> Message:
        """Apply an inject or decision to the current branch now; return what it did (a
        note: ``str()`` is English, :meth:`~common.i18n.Message.render` the console's)."""
        note = self.engine.apply(action, by=by)
        self.moments.append(Moment(self.current, Message("moment", t=self.now,
                                                         what=action.describe()),
                                   self.engine.snapshot()))
        return note

    def branch(self, name: str, *, undo: Iterable[str] = (), at: float | None = None) -> None:
        """Fork the current branch at ``at`` (default: now) into branch ``name``, leaving
        out the decisions of the kinds in ``undo`` (action names), and make it current."""
        from twin.actions import ACTIONS

        if not isinstance(name, str) or not name.strip() or name in self.branches:
            raise DrillError(Message("err_branch_name", name=name,
                                     branches=", ".join(self.branches)))
        undo = tuple(undo)
        bad = [u for u in undo if u not in ACTIONS]
        if bad:
            raise DrillError(Message("err_undo_unknown", value=bad[0], hint=Message(
                "hint_allowed", allowed=", ".join(ACTIONS))))
        src = self.engine
        t = src.now if at is None else at
        if not undo:
            eng = src.fork(t)
        else:
            found = [d for d in src.decisions if d.action.name in undo and d.by not in PRESET_BY]
            if not found:
                raise DrillError(Message("err_undo_none", actions=", ".join(undo),
                                         branch=self.current))
            eng = _fork_without(src, t, lambda d: not (d.action.name in undo
                                                       and d.by not in PRESET_BY))
        self.branches[name] = eng
        self.parents[name] = (self.current, t)
        self.current = name

    def switch(self, name: str) -> None:
        """Make branch ``name`` current."""
        if name not in self.branches:
            raise DrillError(Message("err_unknown_branch", name=name,
                                     branches=", ".join(self.branches)))
        self.current = name

    # ------------------------------------------------------------------ results
    def baseline(self) -> Engine:
        """The same realization of the scenario without the drill's decisions, run to the
        current branch's time (computed once, advanced on demand)."""
        if self._baseline is None:
            self._baseline = self._engine(self.prep)
        t = max(eng.now for eng in self.branches.values())
        if t > self._baseline.now:
            self._baseline.run(t)
        return self._baseline

    def result(self, name: str | None = None) -> RealizationResult:
        return self.branches[name or self.current].result()

    def decisions(self, name: str | None = None) -> list[Decision]:
        """The decision log of a branch (scenario interventions included)."""
        eng = self.branches[name or self.current]
        return [*eng.decisions, *eng.scheduled]

    def scenario_doc(self, name: str = MAIN) -> dict[str, Any]:
        """The scenario that replays branch ``name``: the source document with the
        branch's decisions (its own and the scenario's) as ``interventions``."""
        doc = dict(self.source)
        # staging by a warning block is left out: the block stages the same crews again
        doc["interventions"] = [_plain(d.to_record()) for d in self.decisions(name)
                                if d.by != STAGED_BY]
        if name != MAIN:
            doc["name"] = f"{doc.get('name', 'drill')} ({name})"
        return doc

    def prepared(self, name: str = MAIN) -> Prepared:
        """The prepared scenario of branch ``name`` (same twin and fields, its decisions)."""
        doc = self.scenario_doc(name)
        spec = ScenarioSpec.model_validate({**doc, "base_dir": self.spec.base_dir})
        decisions = tuple(self.decisions(name))
        return replace(self.prep, spec=spec,
                       config=replace(self.prep.config, interventions=decisions))


def _fork_without(src: Engine, at: float, keep) -> Engine:
    """A fork of ``src`` at ``at`` whose log leaves out the decisions ``keep`` rejects."""
    return src.replayed(at, [d for d in (*src.decisions, *src.scheduled) if keep(d)])


def _plain(value: Any) -> Any:
    """YAML-safe plain values (numpy scalars and tuples out)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _absolute_paths(doc: Any, base: Path) -> Any:
    """Relative file paths in a scenario document, made absolute so the drill's scenario
    can live in another folder (a string counts as a path when that file exists)."""
    if isinstance(doc, dict):
        return {k: _absolute_paths(v, base) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_absolute_paths(v, base) for v in doc]
    if isinstance(doc, str) and ("/" in doc or "." in doc) and not Path(doc).is_absolute():
        try:
            p = base / doc
            if p.exists():
                return str(p.resolve())
        except (OSError, ValueError):
            pass
    return doc

