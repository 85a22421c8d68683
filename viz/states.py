"""Component states and crew positions at any time, rebuilt from ``events.parquet``.

Pure functions on arrays and tables: nothing here renders. Every state change of a
run is an event (see :data:`twin.engine.EVENTS`), so the state of component *i* at
time *t* of one realization is a function of the events of *i* up to *t*:

==================  ====  ===================================================================
state               code  entered on
==================  ====  ===================================================================
``working``         0     start; and ``restored_show_h`` hours after a ``restored``
``failed``          1     ``damaged`` (a component hit again while under repair stays
                          ``under_repair``: the crew keeps the job)
``cascade_failed``  2     ``cascade_failed`` (working, but lost a dependency)
``outage``          3     ``outage`` (out of function without damage, e.g. a flooded road)
``under_repair``    4     ``repair_started``
``restored``        5     ``restored``; shown for ``restored_show_h`` hours, then ``working``
==================  ====  ===================================================================

Crews: a crew's position is known at its jobs only (the depot is not logged). Before
its first dispatch a crew is not on the map (NaN: waiting at an unknown depot); from
its first dispatch to its first ``repair_started`` it is shown at that job; between
a later ``crew_dispatched`` and ``repair_started`` it moves linearly from its
previous position to the job's access node; it stays there until its next dispatch.
Times are hours since the scenario start.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

STATES = ("working", "failed", "cascade_failed", "outage", "under_repair", "restored")
WORKING, FAILED, CASCADE_FAILED, OUTAGE, UNDER_REPAIR, RESTORED = range(6)

#: crew activity codes of :func:`crew_tracks`
CREW_IDLE, CREW_TRAVELLING, CREW_REPAIRING = 0, 1, 2

_EVENT_STATE = {"damaged": FAILED, "cascade_failed": CASCADE_FAILED, "outage": OUTAGE,
                "repair_started": UNDER_REPAIR, "restored": RESTORED}


def realization_events(events: pd.DataFrame, realization: int) -> pd.DataFrame:
    """The events of one realization, in logged order (stable sort by time)."""
    ev = events[events["realization"] == realization]
    return ev.sort_values("time_h", kind="stable").reset_index(drop=True)


def state_transitions(events: pd.DataFrame, ids: Sequence[str] | np.ndarray, *,
                      restored_show_h: float = 6.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-component state changes of one realization.

    Parameters
    ----------
    events
        Events of **one** realization (columns ``time_h, asset_id, event``), in logged
        order within equal times.
    ids
        Component ids; the output indexes into them. Unknown ids are ignored.
    restored_show_h
        How long a restored component is shown as ``restored`` before ``working``.

    Returns
    -------
    time_h, comp, state
        Transitions sorted by time (stable): from ``time_h[k]`` on, component
        ``comp[k]`` is in ``state[k]`` (until its next transition).
    """
    index = pd.Index(np.asarray(ids).astype(str))
    ev = events.sort_values("time_h", kind="stable")
    comp = index.get_indexer(ev["asset_id"].astype(str).to_numpy())
    t = ev["time_h"].to_numpy(dtype=float)
    names = ev["event"].astype(str).to_numpy()
    keep = (comp >= 0) & np.isin(names, list(_EVENT_STATE))
    comp, t, names = comp[keep], t[keep], names[keep]
    code = np.array([_EVENT_STATE[n] for n in names], dtype=np.int8)
    # group by component, keeping the logged order inside a component
    order = np.lexsort((np.arange(len(comp)), comp))
    comp, t, code = comp[order], t[order], code[order]
    out_t: list[float] = []
    out_c: list[int] = []
    out_s: list[int] = []
    cur_comp, cur = -1, WORKING
    for k in range(len(comp)):
        c, s = int(comp[k]), int(code[k])
        if c != cur_comp:
            cur_comp, cur = c, WORKING
        if s == FAILED and cur == UNDER_REPAIR:
            continue  # hit again while a crew works on it: the crew keeps the job
        out_t.append(t[k])
        out_c.append(c)
        out_s.append(s)
        cur = s
        if s == RESTORED:
            nxt = t[k + 1] if k + 1 < len(comp) and comp[k + 1] == c else np.inf
            if t[k] + restored_show_h < nxt:
                out_t.append(t[k] + restored_show_h)
                out_c.append(c)
                out_s.append(WORKING)
    tt = np.asarray(out_t, dtype=float)
    o = np.argsort(tt, kind="stable")
    return tt[o], np.asarray(out_c, dtype=np.int64)[o], np.asarray(out_s, dtype=np.int8)[o]


def switches_open_at(events: pd.DataFrame, ids: Sequence[str] | np.ndarray,
                     switch_edge: np.ndarray, normally_open: np.ndarray,
                     times_h: Sequence[float] | np.ndarray) -> np.ndarray:
    """Which switches are open (bool, ``(len(times_h), k)``) at each time.

    ``events`` of **one** realization; a switch starts in its normal state
    (``normally_open``) and follows its ``switched`` events (column ``switch_state``,
    ``open`` or ``closed``), applied at their time (right-continuous).
    """
    times = np.asarray(times_h, dtype=float)
    out = np.repeat(np.asarray(normally_open, dtype=bool)[None, :], len(times), axis=0)
    if "switch_state" not in events.columns or not len(switch_edge):
        return out
    ev = events[events["event"].astype(str) == "switched"].sort_values("time_h", kind="stable")
    if not len(ev):
        return out
    pos = {int(e): j for j, e in enumerate(np.asarray(switch_edge).tolist())}
    comp = pd.Index(np.asarray(ids).astype(str)).get_indexer(ev["asset_id"].astype(str))
    sw = np.array([pos.get(int(c), -1) for c in comp], dtype=np.int64)
    t = ev["time_h"].to_numpy(float)
    is_open = ev["switch_state"].astype(str).to_numpy() == "open"
    keep = sw >= 0
    sw, t, is_open = sw[keep], t[keep], is_open[keep]
    order = np.argsort(times, kind="stable")
    cur = np.asarray(normally_open, dtype=bool).copy()
    k = 0
    for j in order:
        while k < len(t) and t[k] <= times[j] + 1e-12:
            cur[sw[k]] = is_open[k]
            k += 1
        out[j] = cur
    return out


def states_at(transitions: tuple[np.ndarray, np.ndarray, np.ndarray], n: int,
              times_h: Sequence[float] | np.ndarray) -> np.ndarray:
    """States (int8, ``(len(times_h), n)``) at each time from :func:`state_transitions`.

    A transition at exactly ``t`` is applied at ``t`` (right-continuous).
    """
    tt, cc, ss = transitions
    times = np.asarray(times_h, dtype=float)
    out = np.zeros((len(times), n), dtype=np.int8)
    cur = np.zeros(n, dtype=np.int8)
    order = np.argsort(times, kind="stable")
    k = 0
    for j in order:
        stop = int(np.searchsorted(tt, times[j], side="right"))
        if stop > k:
            c, st = cc[k:stop][::-1], ss[k:stop][::-1]
            first = np.unique(c, return_index=True)[1]  # last transition per component
            cur[c[first]] = st[first]
            k = stop
        out[j] = cur
    return out


def component_states(events: pd.DataFrame, ids: Sequence[str] | np.ndarray,
                     times_h: Sequence[float] | np.ndarray, *, realization: int = 0,
                     restored_show_h: float = 6.0) -> np.ndarray:
    """States (int8, ``(len(times_h), len(ids))``, codes of :data:`STATES`) of one realization."""
    ev = realization_events(events, realization)
    tr = state_transitions(ev, ids, restored_show_h=restored_show_h)
    return states_at(tr, len(ids), times_h)


def crew_tracks(events: pd.DataFrame, ids: Sequence[str] | np.ndarray, access_xy: np.ndarray,
                times_h: Sequence[float] | np.ndarray, *, realization: int = 0,
                ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Crew positions and activity at each time of one realization.

    Parameters
    ----------
    events
        The events table (all realizations, or one).
    ids
        Component ids (order of ``access_xy``).
    access_xy
        ``(n, 2)`` position (metres) of the road node a crew drives to for each component.
    times_h
        Sample times (hours).

    Returns
    -------
    names, xy, activity
        Crew names (sorted), positions ``(T, C, 2)`` and activity ``(T, C)`` int8
        (:data:`CREW_IDLE`, :data:`CREW_TRAVELLING`, :data:`CREW_REPAIRING`).
    """
    times = np.asarray(times_h, dtype=float)
    ev = realization_events(events, realization)
    ev = ev[(ev["crew_id"].astype(str) != "")
            & ev["event"].isin(["crew_dispatched", "repair_started", "restored"])]
    names = sorted(ev["crew_id"].astype(str).unique())
    index = pd.Index(np.asarray(ids).astype(str))
    xy = np.full((len(times), len(names), 2), np.nan)
    act = np.zeros((len(times), len(names)), dtype=np.int8)
    for c, name in enumerate(names):
        e = ev[ev["crew_id"] == name]
        comp = index.get_indexer(e["asset_id"].astype(str).to_numpy())
        t = e["time_h"].to_numpy(dtype=float)
        kind = e["event"].astype(str).to_numpy()
        # knots of the piecewise-linear path: (time, x, y), plus activity intervals
        kt: list[float] = []
        kx: list[float] = []
        ky: list[float] = []
        pos = None
        for k in range(len(t)):
            if comp[k] < 0:
                continue
            dest = access_xy[comp[k]]
            if kind[k] == "crew_dispatched":
                if pos is None:
                    pos = dest  # depot unknown: start at the first job
                kt.append(max(t[k], kt[-1] + 1e-9) if kt else t[k])
                kx.append(pos[0])
                ky.append(pos[1])
                span = (t[k], _next_time(t, kind, k, "repair_started"))
                sel = (times >= span[0]) & (times < span[1])
                act[sel, c] = CREW_TRAVELLING
            elif kind[k] == "repair_started":
                # no travel time: arrive at once (knot times must increase for interp)
                kt.append(max(t[k], kt[-1] + 1e-9) if kt else t[k])
                kx.append(dest[0])
                ky.append(dest[1])
                pos = dest
                sel = (times >= t[k]) & (times < _next_time(t, kind, k, "restored"))
                act[sel, c] = CREW_REPAIRING
        if not kt:
            continue
        kt_a = np.asarray(kt)
        before = times < kt_a[0]  # not dispatched yet: not on the map
        xy[:, c, 0] = np.where(before, np.nan, np.interp(times, kt_a, kx))
        xy[:, c, 1] = np.where(before, np.nan, np.interp(times, kt_a, ky))
    return names, xy, act


def _next_time(t: np.ndarray, kind: np.ndarray, k: int, what: str) -> float:
    for j in range(k + 1, len(t)):
        if kind[j] == what:
            return float(t[j])
    return np.inf
