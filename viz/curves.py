"""Recovery and loss curves (matplotlib). Reads result tables; never changes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.names import series_of
from common.stats import median, quantile, recovery_window

COLORS = {"power": "#d62728", "water": "#1f77b4", "roads": "#7f7f7f", "gas": "#ff7f0e",
          "telecom": "#9467bd", "system": "#2ca02c"}


def recovery_figure(curves: pd.DataFrame, summary: dict | None = None, *, title: str = ""):
    """Median served fraction with the 5-95 % band across realizations, one panel per series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(series_of(curves.network.unique()))  # the city's kinds, then the system
    cols = 2 if len(names) <= 4 else 3
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.5 * rows), sharex=True,
                             sharey=True, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        g = curves[curves.network == name].pivot(index="time_h", columns="realization",
                                                 values="served_fraction")
        t = g.index.to_numpy()
        v = g.to_numpy() * 100
        med = median(v, axis=1)
        lo, hi = quantile(v, 0.05, axis=1), quantile(v, 0.95, axis=1)
        c = COLORS[name]
        ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.25, lw=0, label="5–95 %")
        ax.step(t, med, where="post", color=c, lw=2, label="median")
        ax.set_title(name.capitalize())
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        nets = (summary or {}).get("networks") or {}
        s = nets.get(name) if isinstance(nets, dict) else None
        if isinstance(s, dict):
            _annotate(ax, s, g, c)
    for ax in axes[-1]:
        ax.set_xlabel("time since scenario start (h)")
    for ax in axes[:, 0]:
        ax.set_ylabel("customers served (%)")
    axes[0, 0].legend(loc="lower left", fontsize=8)
    n = curves.realization.nunique()
    fig.suptitle(f"{title} — recovery curves (median and 5–95 % of {n} simulated "
                 f"outcome{'s' * (n != 1)})")
    fig.tight_layout()
    return fig


def _num(band) -> float | None:
    v = band.get("median") if isinstance(band, dict) else None
    return float(v) if isinstance(v, int | float) else None


def _annotate(ax, s: dict, g: pd.DataFrame, color: str) -> None:
    """Key numbers of one series and t90 drawn where it happens: a bracket on the 90 %
    line from the (median) first drop below 90 % for the (median) time to recover."""
    t = g.index.to_numpy(float)
    t90 = _num(s.get("time_to_90_h"))
    ms, rl = _num(s.get("min_service")), _num(s.get("resilience_loss_h"))
    txt = []
    if ms is not None:
        txt.append(f"lowest: {ms * 100:.0f} % served")
    if t90 is None:
        txt.append("back to 90 %: not within the horizon")
    elif t90 > 0:
        txt.append(f"back to 90 % after {t90:.0f} h (t90)")
    if rl is not None:
        txt.append(f"service lost: {rl:.1f} h-equivalent")
    if t90 is not None and t90 > 0:
        # t90 is a duration of one outcome (the lower median is always one outcome's
        # value): draw that outcome's curve and its drop-to-recovery window on 90 %
        # (the table samples the curves every output step; the summary's t90 is exact,
        # so the outcome is the one closest to it within a step)
        per = {c: recovery_window(t, g[c].to_numpy(float) * 100, 90.0) for c in g.columns}
        dur = {c: (e - s0) for c, (s0, e) in per.items() if np.isfinite(s0) and np.isfinite(e)}
        step = float(np.min(np.diff(t))) if len(t) > 1 else 1.0
        best = min(dur, key=lambda c: abs(dur[c] - t90)) if dur else None
        if best is not None and abs(dur[best] - t90) <= 2 * step:
            c = best
            t0, t1 = per[c]
            ax.step(t, g[c].to_numpy(float) * 100, where="post", color=color, lw=0.9, ls="--",
                    label="outcome with the median t90")
            ax.annotate("", xy=(t1, 90), xytext=(t0, 90),
                        arrowprops=dict(arrowstyle="|-|", color="0.15", lw=1.2,
                                        shrinkA=0, shrinkB=0))
            ax.text(0.5 * (t0 + t1), 92, f"t90 = {t90:.0f} h", ha="center", va="bottom",
                    fontsize=8, color="0.15")
    ax.axhline(90, color="0.5", lw=0.8, ls=":")
    if txt:
        ax.text(0.98, 0.04, "\n".join(txt), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=8.5, bbox=dict(fc="white", ec="0.8", alpha=0.9))


def save_recovery_png(curves: pd.DataFrame, path: Path, summary: dict | None = None, *,
                      title: str = "") -> None:
    import matplotlib.pyplot as plt

    fig = recovery_figure(curves, summary, title=title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
