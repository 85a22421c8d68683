"""Steps files: a scripted drill (``twin drill SCENARIO --script STEPS.yaml``).

::

    steps:
      - advance_h: 24
      - fail: {assets: [W-WTP-2], damage_state: moderate}
      - hold_crews: {utility: power, count: 2, duration_h: 12}
      - advance_h: 12
      - backup_power: {assets: [W-PS-06], hours: 48}
      - branch: {name: no-hold, undo: [hold_crews]}   # optional
      - advance_to: end

Each step is a mapping with one key: a clock step (``advance_h``, ``advance_to``,
``next_event``), a branch step (``branch``, ``switch``) or an action of
:mod:`twin.actions` with its fields. Errors name the file and the step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.errors import InputError
from twin.actions import ACTIONS, action_from_record
from twin.drill.session import DrillSession


class StepsError(InputError):
    """A steps file that cannot be read or a step that cannot be carried out."""


def _branch(s: DrillSession, v: Any) -> None:
    if not isinstance(v, dict) or "name" not in v or set(v) - {"name", "undo", "at_h"}:
        raise StepsError(f"branch takes {{name, undo: [actions], at_h}} (got {v!r})")
    undo = v.get("undo", [])
    if isinstance(undo, str):
        undo = [undo]
    s.branch(v["name"], undo=undo, at=v.get("at_h"))


#: Clock and branch steps (every other key is an action name).
CONTROL: dict[str, Callable[[DrillSession, Any], None]] = {
    "advance_h": lambda s, v: s.advance(v),
    "advance_to": lambda s, v: s.advance_to(v),
    "next_event": lambda s, v: s.next_event(),
    "branch": _branch,
    "switch": lambda s, v: s.switch(v),
}


def read_steps(path: Path | str) -> list[dict[str, Any]]:
    """Read a steps file: a mapping with ``steps``, a list of one-key mappings."""
    from twin.scenario import read_document

    path = Path(path)
    try:
        doc = read_document(path, what="steps file")
    except InputError as e:
        raise StepsError(str(e)) from None
    steps = doc.get("steps")
    extra = set(doc) - {"steps"}
    if extra:
        raise StepsError(f"unknown field {sorted(extra)[0]!r} (a steps file holds 'steps')",
                         where=str(path))
    if not isinstance(steps, list) or not steps:
        raise StepsError("'steps' must be a non-empty list", where=str(path))
    for i, st in enumerate(steps):
        if not isinstance(st, dict) or len(st) != 1:
            raise StepsError(f"each step is a mapping with one key (got {st!r})",
                             where=f"{path}: steps.{i}")
        (key, _), = st.items()
        if key not in CONTROL and key not in ACTIONS:
            import difflib

            close = difflib.get_close_matches(str(key), [*CONTROL, *ACTIONS], n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                f"allowed: {', '.join([*CONTROL, *ACTIONS])}"
            raise StepsError(f"unknown step {key!r} ({hint})", where=f"{path}: steps.{i}")
    return steps


def run_steps(session: DrillSession, steps: list[dict[str, Any]], *, source: str = "steps",
              on_step: Callable[[int, str], None] | None = None) -> None:
    """Carry out the steps in order; the first that fails raises, naming its index.

    ``on_step(i, note)`` gets the English note of each step (the CLI's progress line).
    """
    for i, st in enumerate(steps):
        (key, value), = st.items()
        where = f"{source}: steps.{i}"
        try:
            if key in CONTROL:
                CONTROL[key](session, value)
                note = key
            else:
                if not isinstance(value, dict):
                    raise StepsError(f"{key} takes a mapping of its fields (got {value!r})")
                note = str(session.act(action_from_record({"action": key, **value})))
        except InputError as e:
            raise StepsError(e.text, where=where) from None
        if on_step is not None:
            on_step(i, note)
