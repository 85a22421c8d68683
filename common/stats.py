"""The statistics every table and picture of a run shares: one median, one t90.

**Median.** Across realizations the twin reports the *lower median*: the smallest
value that at least half of the realizations reach or stay below (the inverted
empirical CDF, ``numpy.quantile(..., method="inverted_cdf")``). It is always the
value of one simulated outcome, never an average of two, so the realization a
replay shows (:func:`median_index`) has exactly the median loss the summary
prints, and a "never recovered" outcome (+inf) stays a plain "never" instead of
turning the average into infinity. The 5-95 % band uses the same quantile rule.
``summary.json``, the batch table, the plots and ``twin compare`` all call
:func:`median` / :func:`quantile`; nothing else computes a median.

**t90.** ``time_to_90_h`` is a duration: the hours from the first time the served
fraction fell below 90 % until it is back at or above 90 % for the rest of the
horizon (0 when it never fell below; NaN, shown "never", when it is not back by
the horizon). :func:`recovery_window` gives both ends, so a plot can draw it where
it happens on the time axis.
"""

from __future__ import annotations

import numpy as np

METHOD = "inverted_cdf"


def quantile(x, q: float, *, axis: int | None = None) -> np.ndarray | float:
    """The ``q`` quantile by the inverted empirical CDF; NaN counts as +inf ("never")."""
    a = np.asarray(x, dtype=float)
    a = np.where(np.isnan(a), np.inf, a)
    if a.size == 0:
        return float("nan")
    out = np.quantile(a, q, axis=axis, method=METHOD)
    return float(out) if np.ndim(out) == 0 else out


def median(x, *, axis: int | None = None) -> np.ndarray | float:
    """The lower median (see the module docstring); +inf where "never" is the median."""
    return quantile(x, 0.5, axis=axis)


def median_index(x) -> int:
    """Index of the element whose value is :func:`median` of ``x`` (first by a stable sort)."""
    a = np.asarray(x, dtype=float)
    if a.size == 0:
        raise ValueError("median_index of an empty sequence")
    a = np.where(np.isnan(a), np.inf, a)
    order = np.argsort(a, kind="stable")
    return int(order[int(np.ceil(0.5 * len(a))) - 1])


def recovery_window(times: np.ndarray, q: np.ndarray, level: float) -> tuple[float, float]:
    """(start, end) hours of the drop below ``level``: first time below, back for good.

    ``(nan, nan)`` when ``q`` never falls below; ``end`` is NaN when it is not back by
    the last time.
    """
    below = np.asarray(q) < level - 1e-12
    if not below.any():
        return float("nan"), float("nan")
    start = float(times[np.argmax(below)])
    if below[-1]:
        return start, float("nan")
    last_below = np.nonzero(below)[0][-1]
    return start, float(times[last_below + 1])


def time_to_level(times: np.ndarray, q: np.ndarray, level: float) -> float:
    """Hours to recover to ``level`` (the t90 of ``level = 0.9``; see the module docstring)."""
    start, end = recovery_window(times, q, level)
    if np.isnan(start):
        return 0.0
    return end - start
