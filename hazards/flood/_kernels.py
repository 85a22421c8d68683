"""numba kernels of the local-inertial flood solver (array-only signatures).

Grid layout (all arrays C-contiguous, float64 state):

- cells ``(ny, nx)``, row 0 at the north edge; ``wall[i, j] != 0`` marks a cell
  that holds no water (NoData, building footprint);
- x-faces ``qx (ny, nx + 1)``: ``qx[i, j]`` is the unit discharge (m2/s) across
  the face between cells ``(i, j-1)`` and ``(i, j)``, positive towards +col (east);
  ``j = 0`` and ``j = nx`` are the west and east domain edges;
- y-faces ``qy (ny + 1, nx)``: ``qy[i, j]`` crosses the face between cells
  ``(i-1, j)`` and ``(i, j)``, positive towards +row (south); rows ``0`` and ``ny``
  are the north and south domain edges.

Edges are indexed N=0, E=1, S=2, W=3 in ``edge_kind`` (0 closed wall, 1 free
outflow, 2 imposed stage ``edge_eta``).

The momentum update is the local-inertial scheme of Bates et al. (2010) with
the theta-weighted inertial term of de Almeida et al. (2012) (their eq. 23,
the form Landlab's ``OverlandFlow`` uses), semi-implicit Manning friction, and
the flow depth ``h_flow = max(eta_i, eta_j) - max(z_i, z_j)`` (no flux when
``h_flow <= h_eps``).

Work is restricted to per-row column bounds ``[lo[i], hi[i])`` that cover every
cell that has ever been wet, expanded by one cell in every direction; faces
outside the bounds have never carried water and hold 0 in both flux buffers.

A step (:func:`step_serial`, :func:`step_parallel`) is one sweep over the rows
that pipelines four row operations, so each row's data is still in cache when
the next operation needs it: momentum (fluxes), the outflow-limiter factors of
the cells, scaling of the faces by the factor of their upstream cell (skipped
for rows without a limited cell), continuity. The parallel driver runs row
chunks through the same pipeline and finishes the few rows at the chunk seams
afterwards; every cell goes through the same operations, so both drivers agree
bit for bit. Hot inner loops are branch-free over contiguous row views with
unsigned indices (no wraparound checks), so LLVM vectorises them.

The kernels run unchanged as plain Python with ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

EDGE_N, EDGE_E, EDGE_S, EDGE_W = 0, 1, 2, 3
EDGE_CLOSED, EDGE_FREE, EDGE_STAGE = 0, 1, 2


#: Initial guess of the bit-level cube root of a positive float64.
_CBRT_MAGIC = 0x2A9F7893782DA1CE

#: Face flag bits: the face carries water, its lower-index parallel neighbour
#: does, its higher-index parallel neighbour does.
OPEN, OPEN_A, OPEN_B = 1, 2, 4


@njit(cache=True, inline="always", error_model="numpy")
def _cbrt(x):
    """Cube root of ``x > 0`` to ~1e-13 relative: bit-level guess + 2 Halley steps.

    Branch- and memory-free (the bit casts are register moves), so loops that
    call it vectorise; libm's ``cbrt`` costs several times more and has no
    vector version here.
    """
    i = np.float64(x).view(np.int64)
    y = np.int64(np.int64(np.float64(i) * (1.0 / 3.0)) + _CBRT_MAGIC).view(np.float64)
    y3 = y * y * y
    y = y * (y3 + 2.0 * x) / (2.0 * y3 + x)
    y3 = y * y * y
    y = y * (y3 + 2.0 * x) / (2.0 * y3 + x)
    return y


@njit(cache=True, inline="always", error_model="numpy")
def _flux(is_open, eta1, z1, eta2, z2, q_old, q_mean, n_face, gdt, gdt_d, h_eps):
    """New unit discharge across a face from cell 1 to cell 2 (m2/s); branch-free.

    ``gdt = g dt`` and ``gdt_d = g dt / dist``. The friction denominator
    ``1 + g dt n^2 |q| / h^(7/3)`` is multiplied through by ``h^(7/3)`` (one
    division less). A closed face or one with ``h_flow <= h_eps`` carries 0;
    its arithmetic runs on a dummy depth of 1 m and is discarded.
    """
    h_flow = max(eta1, eta2) - max(z1, z2)
    wet = is_open & (h_flow > h_eps)
    hf = h_flow if wet else 1.0
    h73 = hf * hf * _cbrt(hf)
    num = q_mean - gdt_d * hf * (eta2 - eta1)
    den = max(h73 + gdt * n_face * n_face * abs(q_old), 1e-300)
    q = num * h73 / den
    return q if wet else 0.0


@njit(cache=True, inline="always")
def _theta_mean(flags, q_self, q_a, q_b, theta, c1, c2):
    """de Almeida's theta-weighted discharge; closed neighbours are left out.

    ``c1 = 1 - theta``, ``c2 = (1 - theta) / 2``; branch-free.
    """
    has_a = (flags & OPEN_A) != 0
    has_b = (flags & OPEN_B) != 0
    s = (q_a if has_a else 0.0) + (q_b if has_b else 0.0)
    any_ = has_a | has_b
    w = c2 if (has_a & has_b) else (c1 if any_ else 0.0)
    ws = theta if any_ else 1.0
    return ws * q_self + w * s


def face_flags(wall: np.ndarray, edge_kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-face flag bytes (``OPEN``, ``OPEN_A``, ``OPEN_B``) for x- and y-faces.

    A face is open when both its cells hold water (not walls); an edge face is
    open when its edge is not a closed wall and its cell is not a wall.
    """
    ny, nx = wall.shape
    free = wall == 0
    ox = np.zeros((ny, nx + 1), dtype=bool)
    ox[:, 1:nx] = free[:, :-1] & free[:, 1:]
    ox[:, 0] = free[:, 0] & (edge_kind[EDGE_W] != EDGE_CLOSED)
    ox[:, nx] = free[:, nx - 1] & (edge_kind[EDGE_E] != EDGE_CLOSED)
    oy = np.zeros((ny + 1, nx), dtype=bool)
    oy[1:ny, :] = free[:-1, :] & free[1:, :]
    oy[0, :] = free[0, :] & (edge_kind[EDGE_N] != EDGE_CLOSED)
    oy[ny, :] = free[ny - 1, :] & (edge_kind[EDGE_S] != EDGE_CLOSED)
    fx = ox.astype(np.uint8)
    fx[:, 1:] |= ox[:, :-1].astype(np.uint8) * OPEN_A
    fx[:, :-1] |= ox[:, 1:].astype(np.uint8) * OPEN_B
    fy = oy.astype(np.uint8)
    fy[1:, :] |= oy[:-1, :].astype(np.uint8) * OPEN_A
    fy[:-1, :] |= oy[1:, :].astype(np.uint8) * OPEN_B
    return np.ascontiguousarray(fx), np.ascontiguousarray(fy)


@njit(cache=True, error_model="numpy")
def _edge_flux(kind, eta_edge, z_b, h_b, eta_in, q_o, q_m, n_b, gdt, gdt_d, h_eps, inward_sign):
    """Flux across an edge face, positive in +index direction.

    ``inward_sign`` is +1 for the W and N edges (positive flux enters the
    domain), -1 for E and S. A stage edge has a ghost cell at the stage (or dry
    at the bed when the stage is lower); a free edge extrapolates the water
    surface slope of the last two cells outward and lets water only leave.
    """
    eta_b = z_b + h_b
    eta_g = max(eta_edge, z_b) if kind == EDGE_STAGE else 2.0 * eta_b - eta_in
    if inward_sign > 0:
        q = _flux(True, eta_g, z_b, eta_b, z_b, q_o, q_m, n_b, gdt, gdt_d, h_eps)
    else:
        q = _flux(True, eta_b, z_b, eta_g, z_b, q_o, q_m, n_b, gdt, gdt_d, h_eps)
    if kind == EDGE_FREE:
        q = min(q, 0.0) if inward_sign > 0 else max(q, 0.0)
    return q


@njit(cache=True, error_model="numpy")
def _maxima_at(j, nx, hr, hu, hd, qxo, qno, qso, wet_depth, t_now, hp, ar, vp):
    """Running maxima of one cell at a west or east domain edge (see momentum)."""
    hc = hr[j]
    if hc > hp[j]:
        hp[j] = hc
    if hc >= wet_depth:
        if math.isnan(ar[j]):
            ar[j] = t_now
        hw = max(hc, hr[j - 1]) if j > 0 else hc
        he = max(hc, hr[j + 1]) if j < nx - 1 else hc
        ux = 0.5 * (qxo[j] / hw + qxo[j + 1] / he)
        uy = 0.5 * (qno[j] / max(hc, hu[j]) + qso[j] / max(hc, hd[j]))
        v = math.sqrt(ux * ux + uy * uy)
        if v > vp[j]:
            vp[j] = v


@njit(cache=True, error_model="numpy")
def _momentum_row(i, ny, nx, z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new, lo, hi,
                  edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps, track, t_now, wet_depth,
                  h_peak, v_peak, arrival):
    """Fluxes of the x-faces of row ``i`` and of the y-faces north of it (plus the
    south edge for the last row), and the running maxima of row ``i``.

    Reads depths of rows ``i - 1 .. i + 1`` as they were at the start of the step.
    Inner loops are branch-free over contiguous row views (they vectorise).
    """
    j0 = lo[i]
    j1 = hi[i]
    if j0 >= j1:
        return
    gdt = g * dt
    gdt_x = gdt / dx
    gdt_y = gdt / dy
    c1 = 1.0 - theta
    c2 = 0.5 * c1
    zr = z[i]
    hr = h[i]
    nr = n_cell[i]
    # ---- interior x-faces of row i
    fxr = fx[i]
    qo = qx_old[i]
    qn = qx_new[i]
    for jj in range(max(j0, 1), min(j1, nx - 1) + 1):
        j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
        jw = np.uint64(jj - 1)
        je = np.uint64(jj + 1)
        fl = fxr[j]
        q_o = qo[j]
        q_m = _theta_mean(fl, q_o, qo[jw], qo[je], theta, c1, c2)
        z1 = zr[jw]
        z2 = zr[j]
        qn[j] = _flux((fl & OPEN) != 0, z1 + hr[jw], z1, z2 + hr[j], z2, q_o, q_m,
                      0.5 * (nr[jw] + nr[j]), gdt, gdt_x, h_eps)
    # ---- west / east edge faces
    if j0 == 0:
        fl = fxr[0]
        if fl & OPEN:
            q_o = qo[0]
            q_m = _theta_mean(fl, q_o, 0.0, qo[1], theta, c1, c2)
            eta_in = zr[1] + hr[1] if (nx > 1 and wall[i, 1] == 0) else zr[0] + hr[0]
            qn[0] = _edge_flux(edge_kind[EDGE_W], edge_eta[EDGE_W], zr[0], hr[0], eta_in, q_o,
                               q_m, nr[0], gdt, gdt_x, h_eps, 1)
        else:
            qn[0] = 0.0
    if j1 == nx:
        fl = fxr[nx]
        if fl & OPEN:
            q_o = qo[nx]
            q_m = _theta_mean(fl, q_o, qo[nx - 1], 0.0, theta, c1, c2)
            jb = nx - 1
            eta_in = zr[jb - 1] + hr[jb - 1] if (nx > 1 and wall[i, jb - 1] == 0) \
                else zr[jb] + hr[jb]
            qn[nx] = _edge_flux(edge_kind[EDGE_E], edge_eta[EDGE_E], zr[jb], hr[jb], eta_in,
                                q_o, q_m, nr[jb], gdt, gdt_x, h_eps, -1)
        else:
            qn[nx] = 0.0
    # ---- y-faces north of row i
    fyr = fy[i]
    qyo = qy_old[i]
    qyn = qy_new[i]
    if i > 0:
        zu = z[i - 1]
        hu = h[i - 1]
        nu = n_cell[i - 1]
        qyu = qy_old[i - 1]
        qyd = qy_old[i + 1]
        for jj in range(j0, j1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            fl = fyr[j]
            q_o = qyo[j]
            q_m = _theta_mean(fl, q_o, qyu[j], qyd[j], theta, c1, c2)
            z1 = zu[j]
            z2 = zr[j]
            qyn[j] = _flux((fl & OPEN) != 0, z1 + hu[j], z1, z2 + hr[j], z2, q_o, q_m,
                           0.5 * (nu[j] + nr[j]), gdt, gdt_y, h_eps)
    else:
        for j in range(j0, j1):
            fl = fyr[j]
            if fl & OPEN:
                q_o = qyo[j]
                q_m = _theta_mean(fl, q_o, 0.0, qy_old[1, j], theta, c1, c2)
                eta_in = z[1, j] + h[1, j] if (ny > 1 and wall[1, j] == 0) \
                    else zr[j] + hr[j]
                qyn[j] = _edge_flux(edge_kind[EDGE_N], edge_eta[EDGE_N], zr[j], hr[j], eta_in,
                                    q_o, q_m, nr[j], gdt, gdt_y, h_eps, 1)
            else:
                qyn[j] = 0.0
    if i == ny - 1:
        ib = ny - 1
        fys = fy[ny]
        qys_o = qy_old[ny]
        qys_n = qy_new[ny]
        for j in range(j0, j1):
            fl = fys[j]
            if fl & OPEN:
                q_o = qys_o[j]
                q_m = _theta_mean(fl, q_o, qy_old[ny - 1, j], 0.0, theta, c1, c2)
                eta_in = z[ib - 1, j] + h[ib - 1, j] if (ny > 1 and wall[ib - 1, j] == 0) \
                    else zr[j] + hr[j]
                qys_n[j] = _edge_flux(edge_kind[EDGE_S], edge_eta[EDGE_S], zr[j], hr[j], eta_in,
                                      q_o, q_m, nr[j], gdt, gdt_y, h_eps, -1)
            else:
                qys_n[j] = 0.0
    # ---- running maxima from the state at the start of the step
    if track != 0:
        hp = h_peak[i]
        ar = arrival[i]
        # face velocity = q / (deeper of the two cells): a thin cell fed by a
        # deep neighbour does not show the neighbour's discharge as speed
        vp = v_peak[i]
        hu = h[i - 1] if i > 0 else hr
        hd = h[i + 1] if i < ny - 1 else hr
        qno = qy_old[i]
        qso = qy_old[i + 1]
        for jj in range(max(j0, 1), min(j1, nx - 1)):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            jw = np.uint64(jj - 1)
            je = np.uint64(jj + 1)
            hc = hr[j]
            wet = hc >= wet_depth
            hp[j] = max(hp[j], hc)
            a = ar[j]
            ar[j] = t_now if (wet & math.isnan(a)) else a
            # on wet cells max(., wet_depth) changes nothing; dry ones are discarded
            hw = max(max(hc, hr[jw]), wet_depth)
            he = max(max(hc, hr[je]), wet_depth)
            hn_ = max(max(hc, hu[j]), wet_depth)
            hs = max(max(hc, hd[j]), wet_depth)
            # |u| = sqrt(ux^2 + uy^2) with ux = (qw/hw + qe/he)/2 = ax/dx_ over one
            # division: sqrt((ax^2 dy_^2 + ay^2 dx_^2) / (dx_ dy_)^2) / 2
            ax = qo[j] * he + qo[je] * hw
            ay = qno[j] * hs + qso[j] * hn_
            dx_ = hw * he
            dy_ = hn_ * hs
            dd = dx_ * dy_
            v = 0.5 * math.sqrt((ax * ax * (dy_ * dy_) + ay * ay * (dx_ * dx_)) / (dd * dd))
            vo = vp[j]
            vp[j] = v if (wet & (v > vo)) else vo
        if j0 == 0:
            _maxima_at(0, nx, hr, hu, hd, qo, qno, qso, wet_depth, t_now, hp, ar, vp)
        if j1 == nx and nx > 1:
            _maxima_at(nx - 1, nx, hr, hu, hd, qo, qno, qso, wet_depth, t_now, hp, ar, vp)


@njit(cache=True, error_model="numpy")
def _limit_row(i, nx, h, qx, qy, lo, hi, dt_dx, dt_dy, fscale, row_nflag):
    """Outflow factor ``fscale`` of row ``i`` from the unlimited fluxes.

    A cell whose outflow over ``dt`` exceeds its depth at the start of the step
    gets ``fscale = depth / outflow`` (< 1), every other cell 1; ``row_nflag[i]``
    counts the former.
    """
    row_nflag[i] = 0
    j0 = lo[i]
    j1 = hi[i]
    if j0 >= j1:
        return
    hr = h[i]
    qxr = qx[i]
    qn = qy[i]
    qs = qy[i + 1]
    fr = fscale[i]
    nflag = 0
    for jj in range(j0, j1):
        j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
        je = np.uint64(jj + 1)
        od = ((max(-qxr[j], 0.0) + max(qxr[je], 0.0)) * dt_dx
              + (max(-qn[j], 0.0) + max(qs[j], 0.0)) * dt_dy)
        h0 = hr[j]
        flag = od > h0
        fr[j] = h0 / (od if flag else 1.0) if flag else 1.0
        nflag += 1 if flag else 0
    row_nflag[i] = nflag


@njit(cache=True, error_model="numpy")
def _scale_row(i, ny, nx, qx, qy, lo, hi, fscale, row_nflag):
    """Scale the x-faces of row ``i`` and the y-faces north of it (plus the south
    edge for the last row) by the factor of their upstream cell.

    Each face is outgoing for exactly one cell, so this is exactly conservative.
    Skipped when neither row ``i`` nor row ``i - 1`` has a flagged cell.
    """
    j0 = lo[i]
    j1 = hi[i]
    if j0 >= j1:
        return
    fl_here = row_nflag[i] != 0
    fl_up = i > 0 and row_nflag[i - 1] != 0
    if not (fl_here or fl_up):
        return
    fr = fscale[i]
    if fl_here:
        qxr = qx[i]
        for jj in range(max(j0, 1), min(j1, nx - 1) + 1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            jw = np.uint64(jj - 1)
            q = qxr[j]
            qxr[j] = q * (fr[jw] if q > 0.0 else fr[j])
        if j0 == 0 and qxr[0] < 0.0:
            qxr[0] *= fr[0]
        if j1 == nx and qxr[nx] > 0.0:
            qxr[nx] *= fr[nx - 1]
        if i == ny - 1:
            qs = qy[ny]
            for jj in range(j0, j1):
                j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
                q = qs[j]
                qs[j] = q * (fr[j] if q > 0.0 else 1.0)
    qn = qy[i]
    if i > 0:
        fu = fscale[i - 1]
        for jj in range(j0, j1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            q = qn[j]
            qn[j] = q * (fu[j] if q > 0.0 else fr[j])
    else:
        for jj in range(j0, j1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            q = qn[j]
            qn[j] = q * (1.0 if q > 0.0 else fr[j])


@njit(cache=True, error_model="numpy")
def _continuity_row(i, ny, nx, area, h, wall, qx, qy, lo, hi, dt, dx, dy, rain_ms, rain_field,
                    use_rain_field, row_bin, row_bout, row_clamp, row_hmax, row_wlo, row_whi):
    """Depths of row ``i`` from the (limited) face fluxes and rain, and the row's
    edge volumes, clamp volume, maximum depth and first/last wet column."""
    row_bin[i] = 0.0
    row_bout[i] = 0.0
    row_clamp[i] = 0.0
    row_hmax[i] = 0.0
    row_wlo[i] = nx
    row_whi[i] = -1
    j0 = lo[i]
    j1 = hi[i]
    if j0 >= j1:
        return
    dt_dx = dt / dx
    dt_dy = dt / dy
    hr = h[i]
    wr = wall[i]
    qxr = qx[i]
    qn = qy[i]
    qs = qy[i + 1]
    neg = 0
    hbits = 0  # max of the bit patterns of the new depths: an integer max (vectorises)
    if use_rain_field != 0:
        rf = rain_field[i]
        for jj in range(j0, j1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            je = np.uint64(jj + 1)
            h0 = hr[j]
            hn = h0 + ((qxr[j] - qxr[je]) * dt_dx + (qn[j] - qs[j]) * dt_dy) \
                + dt * (rain_ms + rf[j])
            hn = h0 if wr[j] != 0 else hn
            hr[j] = hn
            neg += 1 if hn < 0.0 else 0
            hbits = max(hbits, np.float64(hn).view(np.int64))
    else:
        r = dt * rain_ms
        for jj in range(j0, j1):
            j = np.uint64(jj)  # unsigned: no wraparound check, the loop vectorises
            je = np.uint64(jj + 1)
            h0 = hr[j]
            hn = h0 + ((qxr[j] - qxr[je]) * dt_dx + (qn[j] - qs[j]) * dt_dy) + r
            hn = h0 if wr[j] != 0 else hn
            hr[j] = hn
            neg += 1 if hn < 0.0 else 0
            hbits = max(hbits, np.float64(hn).view(np.int64))
    clamp = 0.0
    if neg > 0:  # round-off below zero on cells emptied by the limiter
        for j in range(j0, j1):
            if hr[j] < 0.0:
                clamp -= hr[j] * area
                hr[j] = 0.0
    wlo = nx
    whi = -1
    for j in range(j0, j1):
        if hr[j] > 0.0:
            wlo = j
            break
    if wlo < nx:
        for j in range(j1 - 1, wlo - 1, -1):
            if hr[j] > 0.0:
                whi = j
                break
    b_in = 0.0
    b_out = 0.0
    if j0 == 0:
        q = qxr[0]
        b_in += max(q, 0.0) * dt * dy
        b_out += max(-q, 0.0) * dt * dy
    if j1 == nx:
        q = qxr[nx]
        b_in += max(-q, 0.0) * dt * dy
        b_out += max(q, 0.0) * dt * dy
    if i == 0:
        for j in range(j0, j1):
            q = qn[j]
            b_in += max(q, 0.0) * dt * dx
            b_out += max(-q, 0.0) * dt * dx
    if i == ny - 1:
        for j in range(j0, j1):
            q = qs[j]
            b_in += max(-q, 0.0) * dt * dx
            b_out += max(q, 0.0) * dt * dx
    row_bin[i] = b_in
    row_bout[i] = b_out
    row_clamp[i] = clamp
    row_hmax[i] = np.int64(hbits).view(np.float64)
    row_wlo[i] = wlo
    row_whi[i] = whi


@njit(cache=True, error_model="numpy")
def _chunk_rows(a, b, z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new, lo, hi,
                edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps, track, t_now, wet_depth,
                h_peak, v_peak, arrival, rain_ms, rain_field, use_rain_field, fscale, row_nflag,
                row_bin, row_bout, row_clamp, row_hmax, row_wlo, row_whi):
    """Rows ``[a, b)`` of a step as a pipeline, as far as rows of other chunks allow.

    Iteration ``k``: momentum M(k), limit factors F(k-1), flux scaling S(k-1),
    continuity C(k-2). F(r) needs M(r), M(r+1); S(r) needs F(r-1), F(r); C(r) needs
    S(r), S(r+1) and must follow M(r+1) (the last reader of the depths of row r).
    Left for :func:`_chunk_seams`: F(b-1), S(a), S(b-1), C(a), C(b-2), C(b-1).
    """
    ny, nx = h.shape
    area = dx * dy
    for k in range(a, b + 2):
        if k < b:
            _momentum_row(k, ny, nx, z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new,
                          lo, hi, edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps, track, t_now,
                          wet_depth, h_peak, v_peak, arrival)
        r = k - 1
        if r >= a and r < b - 1:
            _limit_row(r, nx, h, qx_new, qy_new, lo, hi, dt / dx, dt / dy, fscale, row_nflag)
            if r >= a + 1:
                _scale_row(r, ny, nx, qx_new, qy_new, lo, hi, fscale, row_nflag)
        r = k - 2
        if r >= a + 1 and r < b - 2:
            _continuity_row(r, ny, nx, area, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy,
                            rain_ms, rain_field, use_rain_field, row_bin, row_bout, row_clamp,
                            row_hmax, row_wlo, row_whi)


@njit(cache=True, error_model="numpy")
def _chunk_seams(starts, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy, rain_ms, rain_field,
                 use_rain_field, fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax,
                 row_wlo, row_whi):
    """The rows each :func:`_chunk_rows` left, once every chunk has run."""
    ny, nx = h.shape
    area = dx * dy
    nc = starts.shape[0] - 1
    for c in range(nc):
        b = starts[c + 1]
        if starts[c] < b:
            _limit_row(b - 1, nx, h, qx_new, qy_new, lo, hi, dt / dx, dt / dy, fscale, row_nflag)
    for c in range(nc):
        a = starts[c]
        b = starts[c + 1]
        if a < b:
            _scale_row(a, ny, nx, qx_new, qy_new, lo, hi, fscale, row_nflag)
            if b - 1 > a:
                _scale_row(b - 1, ny, nx, qx_new, qy_new, lo, hi, fscale, row_nflag)
    for c in range(nc):
        a = starts[c]
        b = starts[c + 1]
        if a < b:
            _continuity_row(a, ny, nx, area, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy,
                            rain_ms, rain_field, use_rain_field, row_bin, row_bout, row_clamp,
                            row_hmax, row_wlo, row_whi)
            for r in range(max(a + 1, b - 2), b):
                _continuity_row(r, ny, nx, area, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy,
                                rain_ms, rain_field, use_rain_field, row_bin, row_bout,
                                row_clamp, row_hmax, row_wlo, row_whi)


@njit(cache=True, parallel=True, error_model="numpy")
def step_parallel(
    starts, z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new, lo, hi,
    edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps,
    track, t_now, wet_depth, h_peak, v_peak, arrival,
    rain_ms, rain_field, use_rain_field,
    fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax, row_wlo, row_whi,
):
    """One time step over the active bounds; the row chunks ``[starts[c], starts[c+1])``
    run in parallel, then the few rows at their seams.

    Momentum (fluxes from ``*_old`` into ``*_new``; ``fx``/``fy`` are the flag bytes
    of :func:`face_flags`), with ``track != 0`` the running maxima ``h_peak`` (m),
    ``v_peak`` (m/s, cells deeper than ``wet_depth``; x and y velocities are the
    means of the two face velocities ``q / max(h_cell, h_neighbour)``) and the
    first time ``arrival`` (s, NaN until then) that a cell is deeper than
    ``wet_depth``, all from the state at the start of the step (time ``t_now``);
    then the outflow limiter: a cell whose outflow over ``dt`` exceeds its depth
    gets ``fscale = depth / outflow`` (counted in ``row_nflag``) and every face
    is scaled by the factor of its upstream cell; then continuity with rain.
    Per-row outputs: volumes that crossed the domain edges inwards ``row_bin``
    and outwards ``row_bout`` (m3, both >= 0), round-off clamps ``row_clamp``
    (m3 added), ``row_hmax`` (m) and the first and last wet column
    ``row_wlo``/``row_whi`` (``nx``/-1 for none).

    Every cell and face goes through the same operations whatever the chunks,
    so the result is the same bit for bit as :func:`step_serial`.
    """
    nc = starts.shape[0] - 1
    for c in prange(nc):
        _chunk_rows(starts[c], starts[c + 1], z, h, wall, n_cell, fx, fy, qx_old, qy_old,
                    qx_new, qy_new, lo, hi, edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps,
                    track, t_now, wet_depth, h_peak, v_peak, arrival, rain_ms, rain_field,
                    use_rain_field, fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax,
                    row_wlo, row_whi)
    _chunk_seams(starts, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy, rain_ms, rain_field,
                 use_rain_field, fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax,
                 row_wlo, row_whi)


@njit(cache=True, error_model="numpy")
def step_serial(
    z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new, lo, hi,
    edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps,
    track, t_now, wet_depth, h_peak, v_peak, arrival,
    rain_ms, rain_field, use_rain_field,
    fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax, row_wlo, row_whi,
):
    """:func:`step_parallel` in one serial sweep over the rows (one chunk).

    One pass over memory and no thread start-up: the faster choice for small
    active areas and on a machine whose cores are busy (OpenMP threads that wait
    for a core cost milliseconds per parallel region).
    """
    ny = h.shape[0]
    starts = np.empty(2, dtype=np.int64)
    starts[0] = 0
    starts[1] = ny
    _chunk_rows(0, ny, z, h, wall, n_cell, fx, fy, qx_old, qy_old, qx_new, qy_new, lo, hi,
                edge_kind, edge_eta, dt, dx, dy, g, theta, h_eps, track, t_now, wet_depth,
                h_peak, v_peak, arrival, rain_ms, rain_field, use_rain_field, fscale, row_nflag,
                row_bin, row_bout, row_clamp, row_hmax, row_wlo, row_whi)
    _chunk_seams(starts, h, wall, qx_new, qy_new, lo, hi, dt, dx, dy, rain_ms, rain_field,
                 use_rain_field, fscale, row_nflag, row_bin, row_bout, row_clamp, row_hmax,
                 row_wlo, row_whi)


@njit(cache=True)
def _touch(h, i, j, row_hmax, row_wlo, row_whi):
    hc = h[i, j]
    if hc > row_hmax[i]:
        row_hmax[i] = hc
    if hc > 0.0:
        if j < row_wlo[i]:
            row_wlo[i] = j
        if j > row_whi[i]:
            row_whi[i] = j


@njit(cache=True)
def apply_losses(h, lo, hi, loss_depth, dt):
    """Remove ``loss_depth[i, j] * dt`` (m) from each cell, at most what it holds.

    ``loss_depth`` is a rate (m/s; zero where nothing drains). Returns the volume
    removed as depth summed over cells (m); the caller multiplies by the cell area.
    """
    ny = h.shape[0]
    total = 0.0
    for i in range(ny):
        for j in range(lo[i], hi[i]):
            r = loss_depth[i, j] * dt
            if r > 0.0:
                hc = h[i, j]
                if hc > 0.0:
                    d = r if r < hc else hc
                    h[i, j] = hc - d
                    total += d
    return total


@njit(cache=True)
def add_sources(h, rows, cols, depth_m, row_hmax, row_wlo, row_whi):
    """Add ``depth_m[k]`` of water to cell ``(rows[k], cols[k])``."""
    for k in range(rows.shape[0]):
        i = rows[k]
        j = cols[k]
        h[i, j] += depth_m[k]
        _touch(h, i, j, row_hmax, row_wlo, row_whi)


@njit(cache=True)
def force_stage(h, z, rows, cols, group, stage_m, row_hmax, row_wlo, row_whi):
    """Set cells to the water level of their stage boundary.

    ``depth = max(stage - z, 0)``: a stage below the bed empties the cell (the
    sea takes what reaches it). Returns ``(added_m, removed_m)``: the summed
    depth added to and removed from the forced cells (m, both >= 0).
    """
    added = 0.0
    removed = 0.0
    for k in range(rows.shape[0]):
        i = rows[k]
        j = cols[k]
        new = max(stage_m[group[k]] - z[i, j], 0.0)
        d = new - h[i, j]
        if d > 0.0:
            added += d
        else:
            removed -= d
        h[i, j] = new
        _touch(h, i, j, row_hmax, row_wlo, row_whi)
    return added, removed


@njit(cache=True)
def expand_bounds(lo, hi, row_wlo, row_whi, nx):
    """Grow the active bounds to cover every wet cell plus one cell around it."""
    ny = lo.shape[0]
    for i in range(ny):
        if row_whi[i] < 0:
            continue
        a = max(row_wlo[i] - 1, 0)
        b = min(row_whi[i] + 2, nx)
        for r in range(max(i - 1, 0), min(i + 2, ny)):
            if a < lo[r]:
                lo[r] = a
            if b > hi[r]:
                hi[r] = b
