"""Recovery and loss curves (matplotlib). Reads result tables; never changes them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from common.names import SERIES

COLORS = {"power": "#d62728", "water": "#1f77b4", "roads": "#7f7f7f", "system": "#2ca02c"}


def recovery_figure(curves: pd.DataFrame, summary: dict | None = None, *, title: str = ""):
    """Median served fraction with the 5-95 % band across realizations, one panel per series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(SERIES)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, sharey=True)
    for ax, name in zip(axes.flat, names, strict=True):
        g = curves[curves.network == name].pivot(index="time_h", columns="realization",
                                                 values="served_fraction")
        t = g.index.to_numpy()
        v = g.to_numpy() * 100
        med = np.median(v, axis=1)
        lo, hi = np.percentile(v, 5, axis=1), np.percentile(v, 95, axis=1)
        c = COLORS[name]
        ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.25, lw=0, label="5–95 %")
        ax.step(t, med, where="post", color=c, lw=2, label="median")
        ax.set_title(name.capitalize())
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        if summary is not None:
            s = summary["networks"][name]
            t90 = s["time_to_90_h"]["median"]
            rl = s["resilience_loss_h"]["median"]
            txt = [f"min {s['min_service']['median'] * 100:.0f} %"]
            txt.append("t90 " + (f"{t90:.0f} h" if t90 is not None else "> horizon"))
            txt.append(f"R loss {rl:.1f} h")
            ax.text(0.98, 0.04, "\n".join(txt), transform=ax.transAxes, ha="right",
                    va="bottom", fontsize=9, bbox=dict(fc="white", ec="0.8", alpha=0.9))
            ax.axhline(90, color="0.5", lw=0.8, ls=":")
    for ax in axes[1]:
        ax.set_xlabel("time since scenario start (h)")
    for ax in axes[:, 0]:
        ax.set_ylabel("customers served (%)")
    axes[0, 0].legend(loc="lower left", fontsize=8)
    n = curves.realization.nunique()
    fig.suptitle(f"{title} — recovery curves ({n} realization{'s' * (n != 1)})")
    fig.tight_layout()
    return fig


def save_recovery_png(curves: pd.DataFrame, path: Path, summary: dict | None = None, *,
                      title: str = "") -> None:
    import matplotlib.pyplot as plt

    fig = recovery_figure(curves, summary, title=title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
