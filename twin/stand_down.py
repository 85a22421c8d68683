"""Crews stand down in high wind: work at a site pauses while the wind there is too strong.

Line crews work from bucket trucks and aerial platforms, tree crews with chainsaws at
height; neither works in a gale. A crew that reaches its site while the sustained wind
there is at or above the limit waits for it to drop, and work in progress pauses
while the wind is back above the limit, resuming where it stopped. The limit is the
scenario's ``crews.stand_down_wind_mps`` (1-min sustained wind at 10 m, the
``sustained_wind_mps`` measure of the wind hazards).

Default 15.6 m/s (35 mph): the sustained wind above which US utilities ground their
bucket trucks during hurricane restoration, as their storm-restoration statements say
(e.g. Duke Energy, Florida Power & Light) [check: a utility work rule, not a standard].
Stricter: EN 280 designs mobile elevating work platforms for 12.5 m/s (Beaufort 6).

The wind is piecewise constant in time, as the engine reads every hazard: value ``i``
holds on ``[times_h[i], times_h[i+1])`` and the last one for one more step; it is calm
before the first time and after that.
"""

from __future__ import annotations

import numpy as np

#: default limit (m/s, 1-min sustained at 10 m); see the module docstring for sources
DEFAULT_STAND_DOWN_MPS = 15.6


def _windows(times_h: np.ndarray, windy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints ``b`` (k+1) and, per interval, whether it is windy (k)."""
    t = np.asarray(times_h, dtype=float)
    step = t[-1] - t[-2] if len(t) > 1 else 1.0
    return np.append(t, t[-1] + step), np.asarray(windy, dtype=bool)


def calm_start(now_h: float, times_h: np.ndarray, windy: np.ndarray) -> float:
    """The first moment at or after ``now_h`` when the site is calm."""
    if len(times_h) == 0:
        return now_h
    b, w = _windows(times_h, windy)
    i = int(np.searchsorted(b, now_h, side="right")) - 1
    while 0 <= i < len(w) and w[i]:
        i += 1
        now_h = b[i]
    return float(now_h)


def calm_finish(start_h: float, work_h: float, times_h: np.ndarray, windy: np.ndarray) -> float:
    """When ``work_h`` hours of work begun at ``start_h`` end, pausing in windy intervals."""
    if len(times_h) == 0 or not np.any(windy):
        return start_h + work_h
    b, w = _windows(times_h, windy)
    # calm hours accumulated since b[0] at each breakpoint: flat across windy intervals
    cc = np.concatenate([[0.0], np.cumsum(np.where(w, 0.0, np.diff(b)))])

    def calm_at(t: float) -> float:
        if t <= b[0]:
            return t - b[0]
        if t >= b[-1]:
            return cc[-1] + (t - b[-1])
        i = int(np.searchsorted(b, t, side="right")) - 1
        return cc[i] + (0.0 if w[i] else t - b[i])

    target = calm_at(start_h) + work_h
    if target <= 0.0:
        return float(b[0] + target)
    if target > cc[-1]:
        return float(b[-1] + (target - cc[-1]))
    j = int(np.searchsorted(cc, target, side="left"))
    return float(b[j - 1] + (target - cc[j - 1]))
