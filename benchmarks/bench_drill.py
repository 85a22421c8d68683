"""Drill speed on the built-in city: a console step, the N-1 weak points, the report.

Each figure runs beside a peer in the same run and prints the ratio:

1. **console step**: advance one hour and build the page's state (what ``+1 h`` costs)
   vs the stateless peer, replaying the scenario from t = 0 to the same time (what a
   server that kept no engine would do). Goal: the step in < 1 s.
2. **N-1 weak points**: every component tried with the numba service kernel vs the
   networkx peer (copy the graph, remove the asset, connected components from the
   sources; power and water only, dependencies ignored) on a sample, per asset.
   Goal: the whole ranking in < 60 s on 2 cores.
3. **page update** (when Debian's chromium + chromedriver are installed): ``+1 h``
   clicked in the console in headless Chromium until the page has redrawn, vs the
   server's share (the same request without a browser). Goal: < 1 s.
4. **report**: the scripted demo drill (scenarios/drill_demo_steps.yaml) written with
   its report (drill and baseline realizations, each decision left out, N-1) vs the
   peer ``twin run`` of the same scenario (realizations only). Goal: < 2 minutes.

    python benchmarks/bench_drill.py [--realizations 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from twin.drill import view
from twin.drill.outputs import write_drill
from twin.drill.session import DrillSession
from twin.drill.steps import read_steps, run_steps
from twin.drill.weak_points import rank_weak_points
from twin.run import run_monte_carlo, write_run

ROOT = Path(__file__).resolve().parents[1]


def bench_step(session: DrillSession) -> None:
    session.advance(24)
    view.state(session)  # warm
    steps = []
    for _ in range(5):
        t0 = time.perf_counter()
        session.advance(1)
        json.dumps(view.state(session))
        steps.append(time.perf_counter() - t0)
    at = session.now
    t0 = time.perf_counter()
    eng = session.engine.fork(at)  # the peer: replay from the start to the same time
    replay = time.perf_counter() - t0
    assert eng.now == at
    step = float(np.median(steps))
    print(f"console +1 h (advance + page state, median of 5): {step * 1000:7.0f} ms; "
          f"replay to {at:g} h: {replay * 1000:7.0f} ms; ratio {replay / step:5.1f}x "
          f"[goal < 1 s: {'ok' if step < 1 else 'MISSED'}]")


def _nx_cut(g: nx.Graph, sources: list, node) -> int:
    h = g.copy()
    h.remove_node(node)
    reach = set()
    for s in sources:
        if s in h and s not in reach:
            reach |= nx.node_connected_component(h, s)
    return g.number_of_nodes() - 1 - len(reach)


def bench_n1(session: DrillSession, sample: int = 30) -> None:
    twin, models = session.prep.twin, session.prep.models
    t0 = time.perf_counter()
    weak = rank_weak_points(twin, models)
    ours = time.perf_counter() - t0
    per_ours = ours / twin.n
    # the peer on power + water graphs (nodes only; edges become graph edges)
    g = nx.Graph()
    nodes = np.nonzero(~twin.is_edge & (twin.network < 2))[0]
    g.add_nodes_from(nodes.tolist())
    e = np.nonzero(twin.is_edge & (twin.network < 2))[0]
    g.add_edges_from(zip(twin.edge_u[e].tolist(), twin.edge_v[e].tolist(), strict=True))
    sources = np.nonzero(twin.is_source & ~twin.is_edge & (twin.network < 2))[0].tolist()
    pick = np.random.default_rng(0).choice(nodes, size=min(sample, len(nodes)), replace=False)
    t0 = time.perf_counter()
    for i in pick:
        _nx_cut(g, sources, int(i))
    per_peer = (time.perf_counter() - t0) / len(pick)
    print(f"N-1 weak points: {twin.n} components in {ours:5.1f} s ({per_ours * 1000:.2f} ms "
          f"each); networkx peer {per_peer * 1000:.1f} ms each (sample of {len(pick)}): "
          f"{per_peer / per_ours:5.1f}x [goal < 60 s: {'ok' if ours < 60 else 'MISSED'}]; "
          f"worst: {weak[0].asset_id} ({weak[0].people_hours:,.0f} people-hours)")


def bench_page(port: int = 8791) -> None:
    import shutil
    import subprocess
    import sys
    import urllib.request

    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("page update: skipped (no chromium/chromedriver)")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "drill",
                                 str(ROOT / "scenarios" / "demo.yaml"), "--port", str(port),
                                 "--no-browser", "--out", str(Path(tmp) / "out")],
                                stderr=subprocess.DEVNULL)
        opts = Options()
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
            opts.add_argument(flag)
        d = None
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
            d.get(base + "/")
            while not d.execute_script("return document.body.dataset.ready === '1'"):
                time.sleep(0.05)
            pages, server = [], []
            for k in range(5):
                t0 = time.perf_counter()
                d.find_element("id", "plus1").click()
                while d.execute_script("return document.body.dataset.time") != str(k + 1):
                    time.sleep(0.005)
                pages.append(time.perf_counter() - t0)
            for _ in range(5):
                t0 = time.perf_counter()
                req = urllib.request.Request(base + "/api/advance", data=b'{"hours": 1}',
                                             headers={"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=60).read()
                server.append(time.perf_counter() - t0)
        finally:
            if d is not None:
                d.quit()
            proc.terminate()
            proc.wait(timeout=30)
    page, srv = float(np.median(pages)), float(np.median(server))
    print(f"page update after +1 h in headless Chromium (median of 5): {page * 1000:6.0f} ms; "
          f"the request alone: {srv * 1000:6.0f} ms; page / request {page / srv:4.1f}x "
          f"[goal < 1 s: {'ok' if page < 1 else 'MISSED'}]")


def bench_report(realizations: int, workers: int) -> None:
    scenario = ROOT / "scenarios" / "demo.yaml"
    steps = read_steps(ROOT / "scenarios" / "drill_demo_steps.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = DrillSession.from_file(scenario, realizations=realizations)
        run_steps(s, steps)
        write_drill(Path(tmp) / "drill", s, workers=workers)
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        prep = DrillSession.from_file(scenario, realizations=realizations).prep
        write_run(Path(tmp) / "run", prep, run_monte_carlo(prep, workers=workers))
        peer = time.perf_counter() - t0
    print(f"scripted demo drill + report ({realizations} realizations, {workers} workers): "
          f"{ours:5.1f} s; twin run of the scenario: {peer:5.1f} s; ratio {ours / peer:4.1f}x "
          f"[goal < 120 s: {'ok' if ours < 120 else 'MISSED'}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realizations", "-n", type=int, default=20)
    ap.add_argument("--workers", "-w", type=int, default=2)
    a = ap.parse_args()
    t0 = time.perf_counter()
    session = DrillSession.from_file(ROOT / "scenarios" / "demo.yaml")
    print(f"built-in city: {session.prep.twin.n} components; prepared in "
          f"{time.perf_counter() - t0:.1f} s")
    bench_step(session)
    bench_n1(session)
    bench_page()
    bench_report(a.realizations, a.workers)


if __name__ == "__main__":
    main()
