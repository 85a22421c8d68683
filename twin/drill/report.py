"""The after-action report: one self-contained HTML file (inline SVG and PNG, no
scripts, no CDN), printable to PDF from any browser.

Sections: the timeline of injects and decisions; the curves and metrics of the
drill against the baseline (median and 5–95 % across realizations); maps at key
moments; what each decision changed (each left out in turn, across the
realizations); the N-1 weak points.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.names import NETWORKS, series_of
from twin.drill.i18n import render, tr
from twin.drill.session import MAIN, DrillSession
from twin.drill.weak_points import WeakPoint


@dataclass(frozen=True)
class DecisionEffect:
    """People-hours (system) saved by one decision: without it minus with it, per realization."""

    time_h: float
    label: str
    saved: np.ndarray
    by: str = ""


_CSS = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;
color:#222;max-width:1100px}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;font-size:.9em}th{background:#f2f2f2}.num{text-align:right}
.maps{display:flex;flex-wrap:wrap;gap:8px}.maps figure{margin:0;width:340px}
figcaption{font-size:.8em}@media print{body{margin:0}h2{page-break-after:avoid}
figure,table{page-break-inside:avoid}}"""


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float | np.floating):
        return f"{v:,.{digits}g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return html.escape(str(v))


def _band(b: dict) -> str:
    return f"{_fmt(b['median'])} ({_fmt(b['p05'])}–{_fmt(b['p95'])})"


def _svg(fig) -> str:
    """The figure as inline SVG whose text stays text (``svg.fonttype: none``): the
    reader's browser draws it with its own fonts, so Chinese labels need no CJK font
    on the machine that wrote the report (matplotlib's DejaVu has none)."""
    import re
    import warnings

    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}), warnings.catch_warnings():
        # measured with DejaVu, which lacks CJK glyphs; the browser renders them
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    # the RDF metadata block only names its vocabularies; drop it (and any date)
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def curves_figure(drill: Any, baseline: Any, branches: dict[str, Any], lang: str):
    """Median and 5–95 % band of each series, drill vs baseline; branches as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(series_of(drill.network.unique()))  # the city's kinds, then the system
    fig, axes = plt.subplots(1, len(names), figsize=(3.5 * len(names), 3.2), sharey=True)
    for ax, net in zip(axes, names, strict=True):
        for df, label, colour in ((baseline, tr("baseline", lang), "#888888"),
                                  (drill, tr("drill", lang), "#1f77b4")):
            g = df[df.network == net].groupby("time_h").served_fraction
            med, lo, hi = g.median(), g.quantile(0.05), g.quantile(0.95)
            ax.fill_between(med.index, lo.values, hi.values, color=colour, alpha=0.15, lw=0)
            ax.plot(med.index, med.values, color=colour, label=label)
        for name, res in branches.items():
            ax.step(res.times_h, res.served[:, names.index(net)], where="post", lw=0.9,
                    ls="--", label=name)
        ax.set_title(tr(net, lang))
        ax.set_xlabel(tr("hour_axis", lang), fontsize=8)
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel(tr("served_axis", lang))
    axes[-1].legend(fontsize=7, loc="lower right")
    return fig


def map_figure(session: DrillSession, snapshot, title: str | None = None):
    """Assets at a moment: working grey, out orange, damaged red; crews as triangles.
    The report gives the title as the figure's caption (HTML text, any language)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = session.prep.twin
    idx = {a: i for i, a in enumerate(t.ids)}
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.scatter(t.x_m, t.y_m, s=0.3, c="#bbbbbb", lw=0)
    out = [idx[a] for a in snapshot.out_of_service if a in idx]
    dmg = [idx[a] for a in snapshot.damaged if a in idx]
    ax.scatter(t.x_m[out], t.y_m[out], s=2, c="#ff9900", lw=0)
    ax.scatter(t.x_m[dmg], t.y_m[dmg], s=8, c="#d62728", lw=0)
    crews = [idx[c.location] for c in snapshot.crews if c.location in idx]
    ax.scatter(t.x_m[crews], t.y_m[crews], s=18, marker="^", c="#1f77b4", lw=0)
    if title:
        ax.set_title(title, fontsize=8)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def render_report(session: DrillSession, *, drill_tables, baseline_tables, drill_summary: dict,
                  baseline_summary: dict, effects: list[DecisionEffect],
                  weak: list[WeakPoint], lang: str = "en") -> str:
    """The report as one HTML document (see module docstring)."""
    import matplotlib.pyplot as plt

    spec = session.spec
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
             f"<meta charset='utf-8'><title>{e(tr('report_title', lang, name=spec.name))}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(tr('report_title', lang, name=spec.name))}</h1>"]
    # timeline
    parts.append(f"<h2>{e(tr('timeline', lang))}</h2>")
    for name, eng in session.branches.items():
        rows = [d for d in eng.decisions]
        if len(session.branches) > 1:
            origin = session.parents.get(name)
            extra = f" ← {e(origin[0])} @ {origin[1]:g} h" if origin else ""
            parts.append(f"<h3>{e(tr('branch', lang))}: {e(name)}{extra}</h3>")
        if not rows:
            parts.append(f"<p>{e(tr('no_decisions', lang))}</p>")
            continue
        parts.append(f"<table class='timeline' data-branch='{e(name)}'><tr><th>"
                     f"{e(tr('time', lang))}</th><th>{e(tr('by', lang))}</th><th>"
                     f"{e(tr('what', lang))}</th><th>{e(tr('effect', lang))}</th></tr>")
        for d, note in zip(eng.decisions, eng.notes, strict=True):
            parts.append(f"<tr><td class='num'>{e(tr('hours', lang, h=f'{d.time_h:g}'))}</td>"
                         f"<td>{e(d.by)}</td><td>"
                         f"{e(d.action.describe())}</td><td>{e(note.render(lang))}</td></tr>")
        parts.append("</table>")
    # curves and metrics
    parts.append(f"<h2>{e(tr('curves', lang))}</h2>")
    others = {n: session.result(n) for n in session.branches if n != MAIN}
    fig = curves_figure(drill_tables.curves, baseline_tables.curves, others, lang)
    parts.append(f"<figure class='curves'>{_svg(fig)}</figure>")
    plt.close(fig)
    n = drill_summary["realizations"]
    parts.append(f"<h2>{e(tr('metrics', lang))}</h2><p>{e(tr('median_band', lang, n=n))}</p>")
    parts.append(f"<table class='metrics'><tr><th>{e(tr('metric', lang))}</th><th>"
                 f"{e(tr('drill', lang))}</th><th>{e(tr('baseline', lang))}</th><th>"
                 f"{e(tr('difference', lang))}</th></tr>")
    names = series_of(drill_summary["networks"])  # the city's series
    rows = [(tr("people_hours", lang, net=tr(s, lang)), s, "customer_hours_lost")
            for s in names]
    rows += [(tr("time_to_90", lang, net=tr(s, lang)), s, "time_to_90_h")
             for s in names if s in NETWORKS]
    rows.append((tr("repair_cost", lang), "system", "repair_cost_usd"))
    for label, s, key in rows:
        a = drill_summary["networks"][s][key]
        b = baseline_summary["networks"][s][key]
        diff = (a["median"] - b["median"]) if a["median"] is not None and \
            b["median"] is not None else None
        parts.append(f"<tr><td>{e(label)}</td><td class='num'>{_band(a)}</td><td class='num'>"
                     f"{_band(b)}</td><td class='num'>{_fmt(diff)}</td></tr>")
    parts.append("</table>")
    # maps
    parts.append(f"<h2>{e(tr('maps', lang))}</h2><div class='maps'>")
    moments = list(session.moments[:5])
    worst = _worst_moment(session, lang)
    if worst is not None:
        moments.append(worst)
    for m in moments:
        label = render(m.label, lang)
        fig = map_figure(session, m.snapshot)
        parts.append(f"<figure><img alt='{e(label)}' src='{_png(fig)}' width='340'>"
                     f"<figcaption>{e(label)} <small>({e(tr('branch', lang))} "
                     f"{e(m.branch)})</small></figcaption></figure>")
        plt.close(fig)
    parts.append("</div>")
    # decision effects
    parts.append(f"<h2>{e(tr('decision_effects', lang))}</h2>")
    if effects:
        parts.append(f"<p>{e(tr('decision_effects_help', lang, n=len(effects[0].saved)))}</p>"
                     f"<table class='effects'><tr><th>{e(tr('time', lang))}</th><th>"
                     f"{e(tr('by', lang))}</th><th>{e(tr('what', lang))}</th><th>"
                     f"{e(tr('saved', lang))}</th></tr>")
        for ef in effects:
            q = np.quantile(ef.saved, [0.5, 0.05, 0.95])
            parts.append(f"<tr><td class='num'>{e(tr('hours', lang, h=f'{ef.time_h:g}'))}</td>"
                         f"<td>{e(ef.by)}</td>"
                         f"<td>{e(ef.label)}</td>"
                         f"<td class='num'>{_fmt(q[0])} ({_fmt(q[1])}–{_fmt(q[2])})</td></tr>")
        parts.append("</table>")
    else:
        parts.append(f"<p>{e(tr('no_decisions', lang))}</p>")
    # weak points
    parts.append(f"<h2>{e(tr('weak_points', lang))}</h2><p>{e(tr('weak_points_help', lang))}"
                 f"</p><table class='weak'><tr><th>{e(tr('rank', lang))}</th><th>"
                 f"{e(tr('name', lang))}</th><th>{e(tr('class', lang))}</th><th>"
                 f"{e(tr('people_cut', lang))}</th><th>{e(tr('repair_h', lang))}</th><th>"
                 f"{e(tr('people_hours_short', lang))}</th></tr>")
    for k, w in enumerate(weak, 1):
        parts.append(f"<tr><td class='num'>{k}</td><td>{e(w.asset_id)}</td><td>"
                     f"{e(w.asset_class)}</td><td class='num'>{_fmt(w.people_cut)}</td>"
                     f"<td class='num'>{_fmt(w.repair_h)}</td><td class='num'>"
                     f"{_fmt(w.people_hours)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p><small>{e(tr('generated', lang, scenario=spec.name, seed=spec.seed))}"
                 "</small></p></body></html>")
    return "\n".join(parts)


def _worst_moment(session: DrillSession, lang: str):
    """The main branch's lowest system service, as a moment (replayed by a fork)."""
    from twin.drill.session import Moment

    res = session.result(MAIN)
    k = int(np.argmin(res.served[:, -1]))  # the system: the last series
    t = float(res.times_h[k])
    eng = session.branches[MAIN]
    if t <= 0:
        return None
    at = eng.fork(min(t + 1e-6, eng.now))
    return Moment(MAIN, tr("lowest_service", lang, t=f"{t:g}",
                           pct=f"{res.served[k, -1] * 100:.0f}"), at.snapshot())
