"""Static impact of each component: the customers that lose service if it alone fails.

Computed once per twin from the dominator tree of the component graph
(:mod:`twin.kernels.dominators`): component ``c`` cuts off exactly the nodes it
dominates. Functional dependencies add the dependents' impact to the supplier and
to everything that dominates the supplier (a substation that feeds a pump also
"serves" the pump's water customers). Repair policies use it to rank jobs; it is
an estimate (single failure, capacity ignored), not the service computation.
"""

from __future__ import annotations

import numpy as np

from twin.kernels.dominators import accumulate_impact, immediate_dominators


def dominator_impact(n: int, network: np.ndarray, is_edge: np.ndarray, edge_u: np.ndarray,
                     edge_v: np.ndarray, is_source: np.ndarray, customers: np.ndarray,
                     dep_indptr: np.ndarray, dep_supplier: np.ndarray,
                     adj_indptr: np.ndarray, adj_edge: np.ndarray) -> np.ndarray:
    idom, rpo = immediate_dominators(is_source, is_edge, edge_u.astype(np.int64),
                                     edge_v.astype(np.int64), adj_indptr, adj_edge)
    return accumulate_impact(idom, rpo, customers.astype(np.float64), dep_indptr, dep_supplier)
