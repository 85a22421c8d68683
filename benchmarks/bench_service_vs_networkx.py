"""Service on a damaged 100k-node / 200k-edge network: numba kernel vs networkx, one run.

networkx does the same job as the kernel: copy the graph, remove failed nodes and
edges, take the connected components that hold a functioning source. Both must
give the same set of served nodes. Goal: kernel >= 30x faster.

    python benchmarks/bench_service_vs_networkx.py [--nodes 100000] [--edges 200000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from benchmarks_support import networkx_served, random_twin  # noqa: E402

from twin.kernels.service import compute_service  # noqa: E402


def best_of(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--edges", type=int, default=200_000)
    ap.add_argument("--sources", type=int, default=20)
    ap.add_argument("--failed", type=float, default=0.05, help="fraction of components failed")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(42)
    t0 = time.perf_counter()
    t, g, sources = random_twin(a.nodes, a.edges, a.sources, rng)
    print(f"built {a.nodes} nodes / {a.edges} edges in {time.perf_counter() - t0:.1f} s")
    up = rng.random(t.n) > a.failed
    up[sources] = True
    so = np.ones(t.n, bool)
    ex = np.zeros(t.n, bool)

    def kernel():
        return compute_service(up, so, ex, t.is_source, t.is_edge, t.edge_u, t.edge_v,
                               t.adj_indptr, t.adj_node, t.adj_edge, t.dep_indptr,
                               t.dep_supplier, t.capacity, t.demand, 100, t.is_source)[0]

    kernel()  # JIT (cached on disk after the first run)
    failed_nodes = [t.ids[i] for i in np.nonzero(~up & ~t.is_edge)[0]]
    fe = np.nonzero(~up & t.is_edge)[0]
    failed_edges = [(t.ids[t.edge_u[i]], t.ids[t.edge_v[i]]) for i in fe]
    src = {t.ids[i] for i in sources}

    def reference():
        return networkx_served(g, src, failed_nodes, failed_edges)

    tk, s = best_of(kernel, a.repeat)
    tn, ref = best_of(reference, max(1, a.repeat // 2))
    got = {t.ids[i] for i in np.nonzero((s > 0) & ~t.is_edge & (t.network == 0))[0]}
    same = got == ref
    print(f"served nodes: kernel {len(got)}, networkx {len(ref)}, identical: {same}")
    print(f"numba kernel : {tk * 1e3:9.2f} ms per service computation")
    print(f"networkx     : {tn * 1e3:9.2f} ms (copy + remove failed + components from sources)")
    ratio = tn / tk
    print(f"ratio        : {ratio:9.1f}x   (goal >= 30x) {'OK' if ratio >= 30 else 'BELOW GOAL'}")
    if not same:
        raise SystemExit("answers differ")


if __name__ == "__main__":
    main()
