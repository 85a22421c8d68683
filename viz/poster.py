"""A still poster of a run for a briefing: the map at the worst moment, the curves, the
key numbers (``twin replay RUN --poster FILE.png``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from common.names import series_of
from viz import story
from viz.curves import COLORS
from viz.rundata import RunData
from viz.scene import Scene, SceneOptions
from viz.service import block_service


def worst_time(run: RunData, realization: int) -> float:
    """When the most people lack a service in the outcome shown (the lowest system
    service without population blocks), on the run's output times."""
    times = np.unique(run.curves["time_h"].to_numpy(float))
    bs = block_service(run, realization, times)
    if bs is not None:
        return float(times[int(np.argmax(bs.people_without_any()))])
    t, q = run.service(realization, "system")
    return float(t[int(np.argmin(q))])


def write_poster(run: RunData, path: Path, *, options: SceneOptions | None = None,
                 time_h: float | None = None) -> float:
    """Write the poster PNG atomically; returns the time (h) of the map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from viz.replay import atomic_file

    opt = options or SceneOptions()
    opt = dataclasses.replace(opt, size=(1600, 900))
    scene = Scene(run, opt)
    try:
        r = scene.realization
        t = worst_time(run, r) if time_h is None else float(time_h)
        scene.update(t)
        img = scene.screenshot()
    finally:
        scene.close()
    fig = plt.figure(figsize=(16, 13), dpi=100)
    gs = fig.add_gridspec(2, 2, height_ratios=[9, 4], width_ratios=[3, 2], hspace=0.12,
                          wspace=0.08)
    ax = fig.add_subplot(gs[0, :])
    ax.imshow(img)
    ax.axis("off")
    ax.set_title(f"{run.title} — the worst moment of "
                 f"{story.outcome_words(run, r, chosen=opt.realization is not None)}",
                 fontsize=13, loc="left")
    ax = fig.add_subplot(gs[1, 0])
    for name in series_of(run.curves["network"].unique()):
        tt, q = run.service(r, name)
        ax.step(tt, q * 100, where="post", color=COLORS[name], lw=2.2 if name == "system"
                else 1.4, label="everyone with every service" if name == "system" else name)
    tm, qm = run.service(None, "system")
    ax.step(tm, qm * 100, where="post", color="k", lw=1, ls="--",
            label="every service, median of the outcomes")
    ax.axvline(t, color="0.3", lw=1, ls=":")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("hours after the start")
    ax.set_ylabel("people or customers served (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax = fig.add_subplot(gs[1, 1])
    ax.axis("off")
    ax.text(0, 1, "\n".join(_key_numbers(run, r, t)), va="top", ha="left", fontsize=12,
            family="DejaVu Sans", linespacing=1.6)
    with atomic_file(Path(path)) as tmp:
        fig.savefig(tmp, dpi=100, format="png", bbox_inches="tight")
    plt.close(fig)
    return t


def _key_numbers(run: RunData, r: int, t: float) -> list[str]:
    rp = run.replay
    when = story.clock_text(t, rp.get("t0_utc"), rp.get("timezone"))
    lines = ["Key numbers", f"worst moment: {when}"]
    bs = block_service(run, r, np.array([t, run.horizon_h]))
    if bs is not None:
        w, end = bs.people_without()
        lines.append(f"people without power: {story.people(w[0])}")
        lines.append(f"people without water: {story.people(w[1])}")
        lines.append(f"people without road access: {story.people(w[2])}")
        lines.append(f"after {run.horizon_h:g} h still without power: {story.people(end[0])}, "
                     f"water: {story.people(end[1])}")
    nets = run.summary.get("networks") if isinstance(run.summary, dict) else None
    sysm = nets.get("system") if isinstance(nets, dict) else None
    if isinstance(sysm, dict):
        def med(key):
            b = sysm.get(key)
            return b.get("median") if isinstance(b, dict) else None

        t90 = med("time_to_90_h")
        lines.append("back to 90 % served: " + ("not within the horizon" if t90 is None
                                                 else f"after {t90:,.0f} h") + " (median)")
        cost = med("repair_cost_usd")
        if cost is not None:
            lines.append(f"repair cost: $ {cost:,.0f} (median)")
    lines.append(f"{len(run.realizations)} simulated outcomes; the map shows one of them")
    return lines
