"""2D plots of a run (matplotlib): loss curves, loss exceedance, damage map, crew timeline,
and comparisons of several runs. Reads result tables; never changes them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from common.names import NETWORKS, SYSTEM, series_of
from common.stats import median, quantile
from viz import look, story
from viz import states as st
from viz.curves import COLORS, save_recovery_png
from viz.rundata import RunData
from viz.scene import NETWORK_RGB, STATE_RGB
from viz.service import block_service, has_blocks


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Write a figure atomically (temporary file, then rename) and close it."""
    plt = _plt()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def loss_figure(loss: pd.DataFrame, title: str):
    """Cumulative customer-hours lost and repair cost over time (median, 5-95 %), and the
    loss exceedance curves across realizations, from a run's ``loss`` table."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    for ax, col, label, scale in ((axes[0, 0], "customer_hours_lost", "customer-hours lost", 1.0),
                                  (axes[0, 1], "repair_cost", "repair cost (million USD)", 1e-6)):
        g = loss.pivot(index="time_h", columns="realization", values=col)
        t, v = g.index.to_numpy(), g.to_numpy() * scale
        ax.fill_between(t, quantile(v, 0.05, axis=1), quantile(v, 0.95, axis=1),
                        color="#1f77b4", alpha=0.25, lw=0, label="5–95 %")
        ax.plot(t, median(v, axis=1), color="#1f77b4", lw=2, label="median (system)")
        if col == "customer_hours_lost":
            for n in NETWORKS:
                c = f"customer_hours_lost_{n}"
                if c in loss:
                    m = loss.pivot(index="time_h", columns="realization", values=c)
                    ax.plot(m.index, median(m.to_numpy(float), axis=1), color=COLORS[n],
                            lw=1.2, ls="--",
                            label=f"median ({n})")
        ax.set_xlabel("time since scenario start (h)")
        ax.set_ylabel(label)
        ax.set_title(f"cumulative {label}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    final = loss[loss.time_h == loss.time_h.max()]
    for ax, col, label, scale in ((axes[1, 0], "customer_hours_lost", "customer-hours lost", 1.0),
                                  (axes[1, 1], "repair_cost", "repair cost (million USD)", 1e-6)):
        x = np.sort(final[col].to_numpy() * scale)
        p = 1.0 - np.arange(len(x)) / len(x)  # P(L >= x_i)
        ax.step(x, p, where="post", color="#d62728", lw=2, marker="o", ms=3)
        ax.set_xlabel(label + " at the horizon")
        ax.set_ylabel("exceedance probability P(L ≥ x)")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"loss exceedance ({len(x)} simulated outcomes)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title} — losses")
    fig.tight_layout()
    return fig


def busiest_time(run: RunData, realization: int) -> float:
    """The time (on the curves grid) when the most components are out of service."""
    times = np.unique(run.curves.time_h.to_numpy())
    if "ids" not in run.replay:
        return float(times[len(times) // 4])
    s = st.component_states(run.events, run.ids, times, realization=realization)
    bad = ((s != st.WORKING) & (s != st.RESTORED)).sum(axis=1)
    return float(times[int(np.argmax(bad))])


def damage_map_figure(run: RunData, time_h: float, realization: int):
    """A 2D map of component states at ``time_h`` over the terrain (and flood depth)."""
    import geopandas as gpd
    from matplotlib.lines import Line2D
    from shapely import linestrings, points

    plt = _plt()
    rp = run.replay
    s = st.component_states(run.events, run.ids, [time_h], realization=realization)[0]
    fig, ax = plt.subplots(figsize=(12.5, 9))
    if "terrain_elevation_m" in rp:
        from viz.scene import hypsometric_rgb

        x0, x1, y0, y1 = run.bounds
        ax.imshow(hypsometric_rgb(rp["terrain_elevation_m"]), extent=(x0, x1, y0, y1),
                  origin="upper" if rp["terrain_transform"][4] < 0 else "lower", alpha=0.55)
    flood = run.grid("flood_depth_m")
    if flood is not None:
        d = flood.at(time_h)
        d = np.zeros(flood.values.shape[1:]) if d is None else np.nan_to_num(d, nan=0.0)
        cx, cy = flood.cell_centres()
        d = np.where(run.ground_m(cx.ravel(), cy.ravel()).reshape(d.shape) < 0, 0.0, d)
        a, _, c, _, e, f = flood.transform
        ny, nx = d.shape
        ext = (c, c + a * nx, f + e * ny, f) if e < 0 else (c, c + a * nx, f, f + e * ny)
        # the depth classes of every view (legend in metres); the sea is not a flood
        ax.imshow(look.flood_rgba(d), extent=ext, origin="upper" if e < 0 else "lower",
                  interpolation="nearest")
    served = None
    if has_blocks(run):
        served = block_service(run, realization, np.array([time_h])).served[0]
        rgba = look.block_rgba(served)
        on = rgba[:, 3] > 0
        bxy = np.asarray(rp["block_xy"], float)
        if on.any():
            ax.scatter(bxy[on, 0], bxy[on, 1], s=14, marker="s", c=rgba[on, :3] / 255,
                       alpha=look.BLOCK_ALPHA, linewidths=0, zorder=2)
    o, xy = rp["line_offsets"], rp["line_xy"]
    is_edge = rp["is_edge"].astype(bool)
    net = rp["network"].astype(str)
    edges = np.nonzero(is_edge & (np.diff(o) >= 2))[0]
    geoms = linestrings(xy[np.concatenate([np.arange(o[i], o[i + 1]) for i in edges])],
                        indices=np.repeat(np.arange(len(edges)), np.diff(o)[edges]))
    col = np.where((s[edges] == st.WORKING)[:, None],
                   np.array([NETWORK_RGB[k] for k in net[edges]]), STATE_RGB[s[edges]]) / 255
    lines = gpd.GeoDataFrame({"state": s[edges]}, geometry=geoms)
    bad = s[edges] != st.WORKING
    for sel, lw in ((~bad, 0.5), (bad, 1.8)):
        if sel.any():
            lines[sel].plot(ax=ax, color=col[sel], linewidth=lw)
    nodes = np.nonzero(~is_edge & (s != st.WORKING))[0]
    if len(nodes):
        pts = gpd.GeoDataFrame(geometry=points(run.comp_xy[nodes]))
        pts.plot(ax=ax, color=STATE_RGB[s[nodes]] / 255, markersize=14, edgecolor="k",
                 linewidth=0.3, zorder=5)
    handles = [Line2D([], [], color=STATE_RGB[k] / 255, marker="o", ls="-", lw=2, label=name)
               for k, name in enumerate(look.STATE_WORDS) if k]
    handles += [Line2D([], [], color=np.array(c) / 255, lw=1.5, label=look.NETWORK_WORDS[k])
                for k, c in NETWORK_RGB.items() if k in set(net)]  # the city's kinds
    if served is not None:
        handles += [Line2D([], [], color=np.array(c) / 255, marker="s", ls="", alpha=0.7,
                           label=f"homes without {w}")
                    for c, w in ((look.NO_SERVICE_RGB[k], story.SERVICE_WORDS[k])
                                 for k in story.city_kinds(rp))]
    if flood is not None:
        edges = look.FLOOD_EDGES_M
        handles += [Line2D([], [], color=look.FLOOD_RGB[k] / 255, marker="s", ls="",
                           label=f"flood {edges[k]:g}–{edges[k + 1]:g} m" if k + 1 < len(edges)
                           else f"flood over {edges[k]:g} m") for k in range(len(edges))]
    # the legend beside the map, not on the city
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              framealpha=0.9)
    counts = ", ".join(f"{name} {int((s == k).sum()):,}"
                       for k, name in enumerate(look.STATE_WORDS) if k)
    when = story.clock_text(time_h, rp.get("t0_utc"), rp.get("timezone"))
    ax.set_title(f"{run.title}\n{when}, outcome no. {realization + 1} of "
                 f"{len(run.realizations)}: {counts}", fontsize=10)
    ax.set_xlabel(f"x (m, {rp['crs']})")
    ax.set_ylabel("y (m)")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def crew_intervals(events: pd.DataFrame, realization: int) -> pd.DataFrame:
    """One row per crew job: ``crew_id, asset_id, dispatched_h, started_h, restored_h``."""
    ev = st.realization_events(events, realization)
    ev = ev[ev.crew_id.astype(str) != ""]
    rows = []
    for crew, g in ev.groupby("crew_id", sort=True):
        job = None
        for t, a, e in zip(g.time_h, g.asset_id, g.event, strict=True):
            if e == "crew_dispatched":
                job = {"crew_id": crew, "asset_id": a, "dispatched_h": t, "started_h": np.nan,
                       "restored_h": np.nan}
                rows.append(job)
            elif job is not None and e == "repair_started":
                job["started_h"] = t
            elif job is not None and e == "restored":
                job["restored_h"] = t
                job = None
    return pd.DataFrame(rows, columns=["crew_id", "asset_id", "dispatched_h", "started_h",
                                       "restored_h"])


def crew_timeline_figure(run: RunData, realization: int):
    """Gantt-like timeline: per crew, travel (light) and repair (dark) bars."""
    plt = _plt()
    jobs = crew_intervals(run.events, realization)
    crews = sorted(jobs.crew_id.unique()) if len(jobs) else []
    fig, ax = plt.subplots(figsize=(12, max(3.0, 0.32 * len(crews) + 1.5)))
    horizon = run.horizon_h
    for y, crew in enumerate(crews):
        j = jobs[jobs.crew_id == crew]
        net = crew.split("-")[0]
        c = COLORS.get(net, "#555555")
        start = j.started_h.fillna(horizon).to_numpy()
        end = j.restored_h.fillna(horizon).to_numpy()
        ax.broken_barh(list(zip(j.dispatched_h, start - j.dispatched_h, strict=True)),
                       (y - 0.35, 0.7), color=c, alpha=0.3, lw=0)
        ax.broken_barh(list(zip(start, end - start, strict=True)), (y - 0.35, 0.7), color=c,
                       lw=0.3, edgecolor="white")
    ax.set_yticks(range(len(crews)), crews, fontsize=8)
    ax.set_ylim(-0.8, max(len(crews), 1) - 0.2)
    ax.invert_yaxis()
    ax.set_xlim(0, horizon)
    ax.set_xlabel("time since scenario start (h)")
    ax.grid(axis="x", alpha=0.3)
    n_done = int(jobs.restored_h.notna().sum())
    ax.set_title(f"{run.title} — crew timeline, outcome no. {realization + 1} "
                 f"({len(jobs)} jobs, {n_done} finished; light: travel, dark: repair)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(run: RunData, out: Path, *, time_h: float | None = None,
                realization: int | None = None) -> list[Path]:
    """Write ``recovery.png``, ``loss.png``, ``damage_map.png`` and ``crew_timeline.png``."""
    out = Path(out)
    files = []
    r = run.default_realization() if realization is None else realization
    p = out / "recovery.png"
    tmp = p.with_name(".recovery.tmp.png")
    save_recovery_png(run.curves, tmp, run.summary if "networks" in run.summary else None,
                      title=run.title)
    tmp.replace(p)
    files.append(p)
    if run.loss is not None:
        files.append(save_figure(loss_figure(run.loss, run.title), out / "loss.png"))
    if "ids" in run.replay:
        if time_h is not None:
            t = time_h
        elif has_blocks(run):  # when the most people lack a service (as the poster)
            from viz.poster import worst_time

            t = worst_time(run, r)
        else:
            t = busiest_time(run, r)
        files.append(save_figure(damage_map_figure(run, t, r), out / "damage_map.png"))
    files.append(save_figure(crew_timeline_figure(run, r), out / "crew_timeline.png"))
    return files


# ---------------------------------------------------------------------- compare
METRIC_COLUMNS = ("min_service", "time_to_90_h", "resilience_loss_h", "customer_hours_lost",
                  "repair_cost_usd")


def metric_table(runs: Sequence[RunData], labels: Sequence[str]) -> pd.DataFrame:
    """Median (and 5-95 %) of each metric per run and network, from the runs' metrics."""
    rows = []
    for run, label in zip(runs, labels, strict=True):
        m = run.metrics
        if m is None:
            continue
        for net, g in m.groupby("network", sort=False):
            row = {"run": label, "network": net, "realizations": len(g)}
            for c in METRIC_COLUMNS:
                if c not in g:
                    continue
                v = g[c].to_numpy(float)
                ok = v[np.isfinite(v)]
                # one rule with summary.json: lower median, "never" (NaN) counts as +inf
                row[f"{c}_median"] = median(v) if len(v) else np.nan
                row[f"{c}_p05"] = quantile(v, 0.05) if len(ok) else np.nan
                row[f"{c}_p95"] = quantile(v, 0.95) if len(ok) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


READABLE_HEADERS = ("run", "network", "lowest service", "back to 90 % (t90)", "service lost",
                    "customer-hours lost", "repair cost")


def readable_metric_rows(table: pd.DataFrame) -> list[list[str]]:
    """Rows of the metric table for people: units, thousands separators, the repair cost
    once (on the system row: the run books it for the whole system)."""

    def val(row, col):
        v = row.get(f"{col}_median", np.nan)
        return float(v) if v is not None else np.nan

    rows = []
    for _, r in table.iterrows():
        ms, t90 = val(r, "min_service"), val(r, "time_to_90_h")
        rl, ch, cost = (val(r, "resilience_loss_h"), val(r, "customer_hours_lost"),
                        val(r, "repair_cost_usd"))
        rows.append([
            str(r["run"]), str(r["network"]),
            f"{ms * 100:.0f} %" if np.isfinite(ms) else "–",
            "never" if not np.isfinite(t90) else f"{t90:,.0f} h",
            f"{rl:,.1f} h" if np.isfinite(rl) else "–",
            f"{ch:,.0f}" if np.isfinite(ch) else "–",
            f"$ {cost:,.0f}" if r["network"] == SYSTEM and np.isfinite(cost) else "",
        ])
    return rows


def write_compare(runs: Sequence[RunData], labels: Sequence[str], out: Path) -> list[Path]:
    """``compare_curves.png`` (median recovery per series, median cumulative loss), and
    ``metrics.csv`` / ``metrics.png`` (median metrics per run and network)."""
    plt = _plt()
    out = Path(out)
    names = series_of(n for run in runs for n in run.curves["network"].unique())
    # the series first (power, water, roads / system for a three-kind city), then losses
    cols = 3
    rows = -(-(len(names) + 2) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(15, 4 * rows), squeeze=False)
    loss_axes = axes.flat[len(names)], axes.flat[len(names) + 1]
    for ax in axes.flat[len(names) + 2:]:
        ax.set_visible(False)
    cyc = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (run, label) in enumerate(zip(runs, labels, strict=True)):
        c = cyc[k % len(cyc)]
        for ax, name in zip(axes.flat, names, strict=False):
            t, q = run.service(None, name)
            ax.step(t, q * 100, where="post", color=c, lw=2, label=label)
            ax.set_title(f"{name} (median)")
            ax.set_ylim(-2, 102)
            ax.set_ylabel("served (%)")
        if run.loss is not None:
            for ax, col, scale in ((loss_axes[0], "customer_hours_lost", 1.0),
                                   (loss_axes[1], "repair_cost", 1e-6)):
                m = run.loss.pivot(index="time_h", columns="realization", values=col)
                ax.plot(m.index, median(m.to_numpy(float), axis=1) * scale, color=c, lw=2,
                        label=label)
    loss_axes[0].set_title("cumulative customer-hours lost (median)")
    loss_axes[1].set_title("cumulative repair cost, M USD (median)")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_xlabel("time (h)")
    axes[0, 0].legend(fontsize=8)
    loss_axes[0].legend(fontsize=8)
    fig.suptitle("comparison: " + " vs ".join(labels))
    fig.tight_layout()
    files = [save_figure(fig, out / "compare_curves.png")]
    table = metric_table(runs, labels)
    csv = out / "metrics.csv"
    tmp = csv.with_name(".metrics.tmp.csv")
    table.to_csv(tmp, index=False)
    tmp.replace(csv)
    files.append(csv)
    # the table as a figure: medians only, one row per network and one for the system
    cells = readable_metric_rows(table)
    fig, ax = plt.subplots(figsize=(13, 0.32 * len(cells) + 0.9))
    ax.axis("off")
    t = ax.table(cellText=cells, colLabels=list(READABLE_HEADERS), loc="upper center",
                 cellLoc="right", colLoc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(9)
    t.scale(1, 1.4)
    for (row, col), cell in t.get_celld().items():
        if col < 2 and row > 0:
            cell.get_text().set_horizontalalignment("left")
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e8eef4")
    n = ", ".join(f"{lb}: {int(g)}" for lb, g in
                  table.groupby("run", sort=False)["realizations"].max().items())
    ax.set_title(f"median of the simulated outcomes per run ({n}); repair cost is for the "
                 "whole system", fontsize=10)
    fig.tight_layout()
    files.append(save_figure(fig, out / "metrics.png"))
    return files


def write_run_figures(folder: Path, tables, summary: dict, title: str) -> None:
    """The figures every ``twin run`` writes: ``recovery.png`` and ``loss.png``."""
    from viz.curves import save_recovery_png

    save_recovery_png(tables.curves, Path(folder) / "recovery.png", summary, title=title)
    save_figure(loss_figure(tables.loss, title), Path(folder) / "loss.png")
