"""numba kernels of the parametric surface wind field (array-only signatures).

The equations (documented in :mod:`hazards.typhoon.wind`) for a site at east/north
offset (dx, dy) from the eye, r = |(dx, dy)|, per time step k:

* symmetric wind (Holland 1980 form, parameters per step)::

      x   = (rmw / r) ** b
      V   = vscale * ( sqrt(b/rho * x * dp * exp(-x) + (r f/2)^2) - r f/2 )

* translation: weight c = min(1, rmw / r) (Mouton & Nordbeck 2005, as CLIMADA);
  the rotating part is V_ang = max(0, V - c |v_t|) and the vector sum is
  ``V_ang * (cos(a) t_hat - sin(a) r_hat) + c v_t``, t_hat the cyclonic tangent
  (counter-clockwise in the northern hemisphere, ``hemi = +1``; clockwise for -1),
  r_hat the outward radial unit vector and ``a`` the inflow angle;
* exposure: sustained = |vector| * site_factor; gust = sustained * site_gust.

Distances use the equirectangular approximation with a wrapped longitude difference
(CLIMADA's default metric); beyond ``max_dist_m`` the wind is 0. Arithmetic is mixed
precision (see :func:`_speed`): within ~1e-6 relative of the float64 numpy reference
:func:`hazards.typhoon.wind.wind_at_sites_numpy`. The pure-Python path runs with
``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.core import config
from numba.extending import intrinsic

#: sites per parallel block (writes to out[t, i] stay contiguous inside a block)
BLOCK = 2048

#: LLVM fast-math flags of every kernel here. Only the flags that let the optimiser assume
#: finite inputs: they keep min/max and selects branch-free (vectorisable) but cannot change
#: the value of any operation. Left out on purpose: 'contract' (fusing a*b+c into an FMA),
#: 'reassoc', 'arcp' and 'afn' (reciprocal and sqrt estimates): LLVM applies those
#: differently to the SIMD loop body and to its scalar remainder (FMA in one and not the
#: other, an estimate plus a Newton step instead of sqrt or division), and differently per
#: CPU, so a site's wind depended on its position in a block and therefore on how the sites
#: were chunked and threaded (issue #8: 1.1e-5 relative on an AVX-512 AMD EPYC). With these
#: flags every operation is IEEE-rounded the same way in every lane and in scalar code, so a
#: site's value depends on its own inputs only; the speed of contraction is kept by explicit
#: fused multiply-adds (:func:`_fma`), which are exact in every path.
FASTMATH = {"nnan", "ninf"}

# --- branch-free exp / log (vectorisable; no libm calls) ---------------------------------
# SVML is not available, so math.exp / math.log stay scalar libm calls and keep LLVM from
# vectorising the loop over sites. The helpers below are polynomials with the binary
# exponent handled by bit manipulation, in small LLVM intrinsics (bitcasts, integer shifts,
# llvm.floor) so that every operation has a SIMD form:
#
# * :func:`_expf` float32 exp (Cephes expf, relative error < 3e-7 on [-87, 88]);
# * :func:`_exp64` / :func:`_log64` float64 exp (Taylor, degree 8 on |y| <= ln2/2) and
#   log (least-squares Chebyshev fit of ln(1+f)/f, degree 9, on [sqrt(1/2), sqrt(2)));
#   relative / absolute error < 2e-9, used for the sensitive x = (rmw/r)^b.
#
# Pure-Python equivalents serve ``NUMBA_DISABLE_JIT=1``.

_SQRTHF_BITS = 0x3F3504F3  # float32 bits of sqrt(1/2)
_SQRTH_BITS = 0x3FE6A09E667F3BCD  # float64 bits of sqrt(1/2)

if config.DISABLE_JIT:  # pragma: no cover - exercised only without the JIT
    def _floor(x):
        return type(x)(math.floor(x))

    def _pow2(n):
        return type(n)(2.0 ** int(n))

    def _log_exponent(x):
        m, e = math.frexp(float(x))  # x = m 2**e, m in [1/2, 1)
        return type(x)(e if m >= math.sqrt(0.5) else e - 1)

    def _log_mantissa(x):
        return type(x)(math.ldexp(float(x), -int(_log_exponent(x))))

    def _fma(a, b, c):
        return a * b + c
else:
    from llvmlite import ir as _ir

    def _float_int(ty):
        """(LLVM float type, LLVM int type of the same width, sqrt(1/2) bits, mantissa bits)"""
        if ty == types.float32:
            return _ir.FloatType(), _ir.IntType(32), _SQRTHF_BITS, 23
        if ty == types.float64:
            return _ir.DoubleType(), _ir.IntType(64), _SQRTH_BITS, 52
        return None

    @intrinsic
    def _floor(typingctx, x):
        """floor of a float32 / float64 (llvm.floor: vrndscale under SIMD)."""
        if _float_int(x) is None:
            return None
        fty = _float_int(x)[0]

        def codegen(context, builder, sig, args):
            fn = builder.module.declare_intrinsic("llvm.floor", [fty])
            return builder.call(fn, [args[0]])
        return x(x), codegen

    @intrinsic
    def _pow2(typingctx, n):
        """2**n for an integral n (float32: [-126, 127], float64: [-1022, 1023]), from the
        exponent bits."""
        if _float_int(n) is None:
            return None
        fty, ity, _, nm = _float_int(n)
        bias = (1 << (ity.width - nm - 2)) - 1

        def codegen(context, builder, sig, args):
            i = builder.fptosi(args[0], ity)
            i = builder.shl(builder.add(i, _ir.Constant(ity, bias)), _ir.Constant(ity, nm))
            return builder.bitcast(i, fty)
        return n(n), codegen

    @intrinsic
    def _log_exponent(typingctx, x):
        """e (as a float) with x = m 2**e, m in [sqrt(1/2), sqrt(2)), for normal x > 0."""
        if _float_int(x) is None:
            return None
        fty, ity, sq, nm = _float_int(x)

        def codegen(context, builder, sig, args):
            b = builder.sub(builder.bitcast(args[0], ity), _ir.Constant(ity, sq))
            return builder.sitofp(builder.ashr(b, _ir.Constant(ity, nm)), fty)
        return x(x), codegen

    @intrinsic
    def _log_mantissa(typingctx, x):
        """m in [sqrt(1/2), sqrt(2)) with x = m 2**e, for normal x > 0."""
        if _float_int(x) is None:
            return None
        fty, ity, sq, nm = _float_int(x)

        def codegen(context, builder, sig, args):
            b = builder.sub(builder.bitcast(args[0], ity), _ir.Constant(ity, sq))
            b = builder.and_(b, _ir.Constant(ity, (1 << nm) - 1))
            return builder.bitcast(builder.add(b, _ir.Constant(ity, sq)), fty)
        return x(x), codegen


    def _target_has_fma(context) -> bool:
        """Whether numba compiles for a CPU with fused multiply-add (its feature string)."""
        feats = getattr(context.codegen(), "_tm_features", "") or ""
        return "+fma" in feats.split(",")

    @intrinsic
    def _fma(typingctx, a, b, c):
        """a * b + c with one rounding (llvm.fma) where the target CPU has FMA, else with two
        (fmul, fadd). Either way the same in every SIMD lane and in scalar code, unlike the
        'contract' fast-math flag, which LLVM applies to some code paths and not others."""
        if _float_int(a) is None or not (a == b == c):
            return None
        fty = _float_int(a)[0]

        def codegen(context, builder, sig, args):
            x, y, z = args
            if _target_has_fma(context):
                fn = builder.module.declare_intrinsic("llvm.fma", [fty],
                                                      _ir.FunctionType(fty, [fty] * 3))
                return builder.call(fn, [x, y, z])
            return builder.fadd(builder.fmul(x, y), z)
        return a(a, b, c), codegen


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _expf(y):
    """exp(y) in float32 for y in [-87, 88] (clamped there), Cephes expf polynomial."""
    y = min(max(y, np.float32(-87.0)), np.float32(88.0))
    n = _floor(y * np.float32(1.44269504088896341) + np.float32(0.5))
    y = y - n * np.float32(0.693359375)
    y = y - n * np.float32(-2.12194440e-4)
    z = y * y
    p = np.float32(1.9875691500e-4)
    p = _fma(p, y, np.float32(1.3981999507e-3))
    p = _fma(p, y, np.float32(8.3334519073e-3))
    p = _fma(p, y, np.float32(4.1665795894e-2))
    p = _fma(p, y, np.float32(1.6666665459e-1))
    p = _fma(p, y, np.float32(5.0000001201e-1))
    return (_fma(p, z, y) + np.float32(1.0)) * _pow2(n)


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _exp64(y):
    """exp(y) in float64 for y in [-700, 700] (clamped there), relative error < 1e-9."""
    y = min(max(y, -700.0), 700.0)
    n = _floor(y * 1.4426950408889634 + 0.5)
    y = (y - n * 0.693145751953125) - n * 1.4286068203094173e-06  # ln 2 = hi + lo
    p = 2.48015873015873e-05
    p = _fma(p, y, 0.0001984126984126984)
    p = _fma(p, y, 0.001388888888888889)
    p = _fma(p, y, 0.008333333333333333)
    p = _fma(p, y, 0.041666666666666664)
    p = _fma(p, y, 0.16666666666666666)
    p = _fma(p, y, 0.5)
    p = _fma(p, y, 1.0)
    return _fma(p, y, 1.0) * _pow2(n)


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _log64(x):
    """ln(x) in float64 for normal x > 0, absolute error < 2e-9."""
    e = _log_exponent(x)
    f = _log_mantissa(x) - 1.0
    p = -0.07638592451282993
    p = _fma(p, f, 0.12914170324156782)
    p = _fma(p, f, -0.1324084269354533)
    p = _fma(p, f, 0.14180078718728542)
    p = _fma(p, f, -0.16609126504948107)
    p = _fma(p, f, 0.20002071674782576)
    p = _fma(p, f, -0.2500158512304325)
    p = _fma(p, f, 0.33333324023639416)
    p = _fma(p, f, -0.4999998829414201)
    p = _fma(p, f, 1.0000000000182154)
    return _fma(e, 0.6931471805599453, f * p)


@njit(cache=True, inline="always", fastmath=FASTMATH)
def _speed(dx: float, dy: float, rmw: float, log_rmw: float, b: float, bdp_rho: float,
           half_f: float, vte: float, vtn: float, vt: float, vscale: float, hemi: float,
           cos_a: float, sin_a: float) -> float:
    """Wind speed at east/north offset (dx, dy) m from the eye (inside the cut-off).

    ``bdp_rho`` = b dp / rho and ``log_rmw`` = ln(rmw) are per-step constants.
    Precision: distances and the exponent b ln(rmw/r) in float64 (it is sensitive to
    ln r); the exponentials, the profile, the vector sum and the square roots in float32,
    which more than halves the cost and stays within ~1e-6 relative of the float64
    numpy reference (the output is float32 anyway).
    """
    r = max(1.0, math.sqrt(dx * dx + dy * dy))
    inv_r = 1.0 / r
    x = math.exp(np.float32(b * (log_rmw - math.log(r))))
    ex = np.float32(dx * inv_r)
    ey = np.float32(dy * inv_r)
    rf2 = np.float32(half_f * r)
    term = np.float32(bdp_rho) * x * math.exp(-x) + rf2 * rf2
    v = np.float32(vscale) * (math.sqrt(term) - rf2)
    c = min(np.float32(1.0), np.float32(rmw * inv_r))
    vang = max(np.float32(0.0), v - c * np.float32(vt))
    h = np.float32(hemi)
    ca = np.float32(cos_a)
    sa = np.float32(sin_a)
    u = vang * (ca * (-h * ey) - sa * ex) + c * np.float32(vte)
    w = vang * (ca * (h * ex) - sa * ey) + c * np.float32(vtn)
    return math.sqrt(u * u + w * w)


@njit(cache=True, inline="always", fastmath=FASTMATH)
def _offset(lat_r: float, lon_r: float, cos_h: float, sin_h: float, clat: float, clon: float,
            ccos_h: float, csin_h: float, r_earth: float) -> tuple[float, float]:
    """Equirectangular east/north offset (m) of a site from the eye, longitude wrapped;
    cos(mean latitude) from the half-angle products."""
    dlon = lon_r - clon
    if dlon >= math.pi:
        dlon -= 2.0 * math.pi
    elif dlon < -math.pi:
        dlon += 2.0 * math.pi
    return r_earth * (cos_h * ccos_h - sin_h * csin_h) * dlon, r_earth * (lat_r - clat)


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _speed_simd(dx: float, dy: float, r2: float, x: float, rmw: float, bdp_rho: float,
                half_f: float, vte: float, vtn: float, vt: float, vscale: float,
                hemi_ca: float, sa: float) -> float:
    """:func:`_speed` for the vectorised loop of :func:`wind_at_sites`: float32 arguments
    and arithmetic, no calls, so that LLVM emits SIMD code for it.

    ``r2`` = dx^2 + dy^2 and ``x`` = (rmw / r)^b come from float64 (the profile is
    sensitive to the exponent: x e^-x has relative error (x - 1) times that of x);
    ``hemi_ca`` = hemi cos(a), ``sa`` = sin(a).
    """
    r2 = max(np.float32(1.0), r2)
    r = math.sqrt(r2)
    inv_r = np.float32(1.0) / r
    # x e^-x; beyond x = 87 it is < 1e-35, zero in float32 as in the float64 reference
    xex = x * _expf(-x)
    if x > np.float32(87.0):
        xex = np.float32(0.0)
    ex = dx * inv_r
    ey = dy * inv_r
    rf2 = half_f * r
    v = vscale * (math.sqrt(_fma(bdp_rho, xex, rf2 * rf2)) - rf2)
    c = min(np.float32(1.0), rmw * inv_r)
    vang = max(np.float32(0.0), v - c * vt)
    u = _fma(vang, -hemi_ca * ey - sa * ex, c * vte)
    w = _fma(vang, hemi_ca * ex - sa * ey, c * vtn)
    return math.sqrt(_fma(u, u, w * w))


@njit(cache=True)
def _step_constants(c_lat_deg, c_lon_deg, rmw_m, b, dp_pa, rho, f, vt_east, vt_north, vscale,
                    hemi, cos_a):
    """Per-step constants of :func:`wind_at_sites`: float64 ``[T, 6]`` (eye latitude and
    longitude in rad, cos and sin of half the latitude, 1/rmw^2, -b/2) and float32
    ``[T, 8]`` (rmw, b dp/rho, f/2, vt_e, vt_n, |vt|, vscale, hemi cos a)."""
    nt = c_lat_deg.shape[0]
    deg = math.pi / 180.0
    c64 = np.empty((nt, 6))
    c32 = np.empty((nt, 8), dtype=np.float32)
    for k in range(nt):
        clat = c_lat_deg[k] * deg
        c64[k, 0] = clat
        c64[k, 1] = c_lon_deg[k] * deg
        c64[k, 2] = math.cos(0.5 * clat)
        c64[k, 3] = math.sin(0.5 * clat)
        c64[k, 4] = 1.0 / (rmw_m[k] * rmw_m[k])
        c64[k, 5] = -0.5 * b[k]
        c32[k, 0] = rmw_m[k]
        c32[k, 1] = b[k] * dp_pa[k] / rho[k]
        c32[k, 2] = 0.5 * f[k]
        c32[k, 3] = vt_east[k]
        c32[k, 4] = vt_north[k]
        c32[k, 5] = math.sqrt(vt_east[k] * vt_east[k] + vt_north[k] * vt_north[k])
        c32[k, 6] = vscale[k]
        c32[k, 7] = hemi[k] * cos_a
    return c64, c32


@njit(parallel=True, cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def wind_at_sites(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray, site_factor: np.ndarray,
                  site_gust: np.ndarray, c_lat_deg: np.ndarray, c_lon_deg: np.ndarray,
                  rmw_m: np.ndarray, b: np.ndarray, dp_pa: np.ndarray, rho: np.ndarray,
                  f: np.ndarray, vt_east: np.ndarray, vt_north: np.ndarray,
                  vscale: np.ndarray, hemi: np.ndarray, inflow_rad: float, max_dist_m: float,
                  r_earth_m: float, out_sustained: np.ndarray, out_gust: np.ndarray) -> None:
    """Sustained and gust wind (m/s) at ``n`` sites for ``T`` steps, into ``out_*[T, n]``.

    Parallel over blocks of sites; inside a block, time steps outer and sites inner so
    that the float32 outputs are written contiguously. Per step two branch-free loops over
    the block's sites, which LLVM vectorises (selects only, polynomial exp / log):

    1. float64: offset from the eye (longitude differences cancel), the cut-off test and
       x = (rmw/r)^b = exp(-b/2 ln(r^2/rmw^2)), rounded to float32 into block buffers;
    2. float32 (full SIMD width): the rest of the profile, the asymmetry and the outputs.

    Within ~1e-6 of the float64 numpy reference (relative, absolute below 1 m/s).
    """
    n = site_lat_deg.shape[0]
    deg = math.pi / 180.0
    sa = np.float32(math.sin(inflow_rad))
    c64, c32 = _step_constants(c_lat_deg, c_lon_deg, rmw_m, b, dp_pa, rho, f, vt_east,
                               vt_north, vscale, hemi, math.cos(inflow_rad))
    nt = c64.shape[0]
    max2 = max_dist_m * max_dist_m
    two_pi = 2.0 * math.pi
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        i0 = blk * BLOCK
        m = min(n, i0 + BLOCK) - i0
        # site terms of the block (float64 position, float32 exposure) and step buffers
        lat_r = np.empty(m)
        lon_r = np.empty(m)
        cos_h = np.empty(m)
        sin_h = np.empty(m)
        fac = np.empty(m, dtype=np.float32)
        gfac = np.empty(m, dtype=np.float32)
        dx32 = np.empty(m, dtype=np.float32)
        dy32 = np.empty(m, dtype=np.float32)
        r232 = np.empty(m, dtype=np.float32)
        x32 = np.empty(m, dtype=np.float32)
        fac_k = np.empty(m, dtype=np.float32)
        for j in range(m):
            la = site_lat_deg[i0 + j] * deg
            lat_r[j] = la
            lon_r[j] = site_lon_deg[i0 + j] * deg
            cos_h[j] = math.cos(0.5 * la)
            sin_h[j] = math.sin(0.5 * la)
            fac[j] = site_factor[i0 + j]
            gfac[j] = site_gust[i0 + j]
        for k in range(nt):
            clat = c64[k, 0]
            clon = c64[k, 1]
            ccos = r_earth_m * c64[k, 2]
            csin = r_earth_m * c64[k, 3]
            inv_rmw2 = c64[k, 4]
            mhalf_b = c64[k, 5]
            # pass 1 (float64)
            for j in range(m):
                dlon = lon_r[j] - clon
                dlon = dlon - two_pi if dlon >= math.pi else dlon
                dlon = dlon + two_pi if dlon < -math.pi else dlon
                dx = (cos_h[j] * ccos - sin_h[j] * csin) * dlon
                dy = r_earth_m * (lat_r[j] - clat)
                r2 = _fma(dx, dx, dy * dy)
                dx32[j] = dx
                dy32[j] = dy
                r232[j] = r2
                # (rmw/r)^b, capped at e^88 (float32 range; x e^-x is 0 there anyway)
                x32[j] = _exp64(min(88.0, mhalf_b * _log64(max(1.0, r2) * inv_rmw2)))
                # the cut-off folded into the exposure factor
                fac_k[j] = fac[j] if r2 <= max2 else np.float32(0.0)
            # pass 2 (float32)
            rmw = c32[k, 0]
            bdp_rho = c32[k, 1]
            half_f = c32[k, 2]
            vte = c32[k, 3]
            vtn = c32[k, 4]
            vt = c32[k, 5]
            vsc = c32[k, 6]
            hca = c32[k, 7]
            os_ = out_sustained[k, i0:i0 + m]
            og = out_gust[k, i0:i0 + m]
            for j in range(m):
                s = _speed_simd(dx32[j], dy32[j], r232[j], x32[j], rmw, bdp_rho, half_f, vte,
                                vtn, vt, vsc, hca, sa) * fac_k[j]
                os_[j] = s
                og[j] = s * gfac[j]


# --- the Holland et al. (2010) profile fitted to wind radii (hazards.typhoon.wind_radii) ----
#: per-step float32 constants of :func:`wind_at_sites_radii`: rm, vm, vt_e, vt_n, |vt|,
#: hemi cos(a), then 3 knots x (4 depth harmonics, 4 decay harmonics)
RADII_C32 = 6 + 3 * 8
#: smallest knot depth and largest exponent x = y / L (Holland et al. 2010 fit x of
#: about 0.3-1.5; the bounds only keep undershooting harmonics harmless)
KNOT_DEPTH_MIN = 1e-3
KNOT_X_MAX = 5.0


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _harm(a0, a1, a2, a3, ex, ey, s2):
    """a0 + a1 cos(theta) + a2 sin(theta) + a3 sin(2 theta), with sin = ex, cos = ey."""
    return _fma(a3, s2, _fma(a2, ex, _fma(a1, ey, a0)))


@njit(cache=True, inline="always", fastmath=FASTMATH, error_model="numpy")
def _segment(depth, y, l0, y0, l1, y1):
    """y on the segment from knot (l0, y0) to (l1, y1) where depth is beyond l0."""
    s = (y1 - y0) / max(np.float32(1e-6), l1 - l0)
    return _fma(depth - l0, s, y0) if depth > l0 else y


@njit(parallel=True, cache=True, fastmath=FASTMATH, error_model="numpy", boundscheck=False)
def wind_at_sites_radii(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray,
                        site_factor: np.ndarray, site_gust: np.ndarray, c64: np.ndarray,
                        c32: np.ndarray, inflow_rad: float, max_dist_m: float,
                        r_earth_m: float, out_sustained: np.ndarray,
                        out_gust: np.ndarray) -> None:
    """:func:`wind_at_sites` for the profile fitted to wind radii.

    ``c64[T, 6]``: eye latitude and longitude (rad), cos and sin of half the latitude,
    1/rm^2, -b/2; ``c32[T, RADII_C32]`` (see :data:`RADII_C32`). Same blocks, passes and
    precision as :func:`wind_at_sites`; pass 2 evaluates ``V = vm exp(-y)`` with ``y``
    piecewise linear in the depth ``L = xb - 1 - ln xb``, ``xb = (rm/r)^b``, through the
    knots along the site's azimuth (:func:`hazards.typhoon.wind_radii.decay`).
    """
    n = site_lat_deg.shape[0]
    deg = math.pi / 180.0
    sa = np.float32(math.sin(inflow_rad))
    nt = c64.shape[0]
    max2 = max_dist_m * max_dist_m
    two_pi = 2.0 * math.pi
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        i0 = blk * BLOCK
        m = min(n, i0 + BLOCK) - i0
        lat_r = np.empty(m)
        lon_r = np.empty(m)
        cos_h = np.empty(m)
        sin_h = np.empty(m)
        fac = np.empty(m, dtype=np.float32)
        gfac = np.empty(m, dtype=np.float32)
        dx32 = np.empty(m, dtype=np.float32)
        dy32 = np.empty(m, dtype=np.float32)
        r232 = np.empty(m, dtype=np.float32)
        x32 = np.empty(m, dtype=np.float32)
        lx32 = np.empty(m, dtype=np.float32)
        fac_k = np.empty(m, dtype=np.float32)
        for j in range(m):
            la = site_lat_deg[i0 + j] * deg
            lat_r[j] = la
            lon_r[j] = site_lon_deg[i0 + j] * deg
            cos_h[j] = math.cos(0.5 * la)
            sin_h[j] = math.sin(0.5 * la)
            fac[j] = site_factor[i0 + j]
            gfac[j] = site_gust[i0 + j]
        for k in range(nt):
            clat = c64[k, 0]
            clon = c64[k, 1]
            ccos = r_earth_m * c64[k, 2]
            csin = r_earth_m * c64[k, 3]
            inv_rmw2 = c64[k, 4]
            mhalf_b = c64[k, 5]
            for j in range(m):  # pass 1 (float64)
                dlon = lon_r[j] - clon
                dlon = dlon - two_pi if dlon >= math.pi else dlon
                dlon = dlon + two_pi if dlon < -math.pi else dlon
                dx = (cos_h[j] * ccos - sin_h[j] * csin) * dlon
                dy = r_earth_m * (lat_r[j] - clat)
                r2 = _fma(dx, dx, dy * dy)
                dx32[j] = dx
                dy32[j] = dy
                r232[j] = r2
                lx = min(88.0, mhalf_b * _log64(max(1.0, r2) * inv_rmw2))  # ln (rm/r)^b
                lx32[j] = lx
                x32[j] = _exp64(lx)
                fac_k[j] = fac[j] if r2 <= max2 else np.float32(0.0)
            q = c32[k]
            rm, vm, vte, vtn, vt, hca = q[0], q[1], q[2], q[3], q[4], q[5]
            p0, p1, p2, p3, q0, q1, q2, q3 = q[6], q[7], q[8], q[9], q[10], q[11], q[12], q[13]
            u0, u1, u2, u3, w0, w1, w2, w3 = (q[14], q[15], q[16], q[17], q[18], q[19], q[20],
                                              q[21])
            g0, g1, g2, g3, h0, h1, h2, h3 = (q[22], q[23], q[24], q[25], q[26], q[27], q[28],
                                              q[29])
            os_ = out_sustained[k, i0:i0 + m]
            og = out_gust[k, i0:i0 + m]
            lmin = np.float32(KNOT_DEPTH_MIN)
            xmax = np.float32(KNOT_X_MAX)
            for j in range(m):  # pass 2 (float32)
                r = math.sqrt(max(np.float32(1.0), r232[j]))
                inv_r = np.float32(1.0) / r
                ex = dx32[j] * inv_r
                ey = dy32[j] * inv_r
                s2 = np.float32(2.0) * ex * ey
                depth = x32[j] - np.float32(1.0) - lx32[j]  # -ln[(rm/r)^b e^(1-(rm/r)^b)]
                # knots along the site's azimuth (kept positive and ordered: harmonics
                # between very unequal quadrants can undershoot)
                l1 = max(lmin, _harm(p0, p1, p2, p3, ex, ey, s2))
                y1 = max(np.float32(0.0), _harm(q0, q1, q2, q3, ex, ey, s2))
                l2 = max(l1, _harm(u0, u1, u2, u3, ex, ey, s2))
                y2 = max(y1, _harm(w0, w1, w2, w3, ex, ey, s2))
                l3 = max(l2, _harm(g0, g1, g2, g3, ex, ey, s2))
                y3 = max(y2, _harm(h0, h1, h2, h3, ex, ey, s2))
                y = depth * min(xmax, y1 / l1)
                y = _segment(depth, y, l1, y1, l2, y2)
                y = _segment(depth, y, l2, y2, l3, y3)
                y = depth * min(xmax, y3 / l3) if depth > l3 else y
                y = np.float32(0.5) * depth if r < rm else y
                v = vm * _expf(-y)
                c = min(np.float32(1.0), rm * inv_r)
                vang = max(np.float32(0.0), v - c * vt)
                u = _fma(vang, -hca * ey - sa * ex, c * vte)
                w = _fma(vang, hca * ex - sa * ey, c * vtn)
                s = math.sqrt(_fma(u, u, w * w)) * fac_k[j]
                os_[j] = s
                og[j] = s * gfac[j]


@njit(cache=True)
def empty_outputs(nt: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two uninitialised ``float32[nt, n]`` output arrays for :func:`wind_at_sites`.

    Allocated by numba's runtime (malloc) rather than by numpy, which advises the kernel
    to back large arrays with transparent huge pages: on the virtual machines measured,
    the first touch of fresh huge pages cost ~1.2 s per 800 MB against ~0.2 s for 4 KiB
    pages, more than the whole computation of 10^8 site-steps.
    """
    return np.empty((nt, n), dtype=np.float32), np.empty((nt, n), dtype=np.float32)


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def peak_wind_at_sites(site_lat_deg: np.ndarray, site_lon_deg: np.ndarray,
                       site_factor: np.ndarray, c_lat_deg: np.ndarray, c_lon_deg: np.ndarray,
                       rmw_m: np.ndarray, b: np.ndarray, dp_pa: np.ndarray, rho: np.ndarray,
                       f: np.ndarray, vt_east: np.ndarray, vt_north: np.ndarray,
                       vscale: np.ndarray, hemi: np.ndarray, inflow_rad: float,
                       max_dist_m: float, r_earth_m: float, out_peak: np.ndarray,
                       out_step: np.ndarray) -> None:
    """Maximum over time of the sustained wind at each site, and the step where it occurs
    (first maximum). Memory O(n) instead of O(T n), for large grids."""
    n = site_lat_deg.shape[0]
    nt = c_lat_deg.shape[0]
    deg = math.pi / 180.0
    cos_a = math.cos(inflow_rad)
    sin_a = math.sin(inflow_rad)
    max2 = max_dist_m * max_dist_m
    for i in prange(n):
        best = -1.0
        kbest = 0
        slat = site_lat_deg[i] * deg
        slon = site_lon_deg[i] * deg
        ch = math.cos(0.5 * slat)
        sh = math.sin(0.5 * slat)
        for k in range(nt):
            clat = c_lat_deg[k] * deg
            dx, dy = _offset(slat, slon, ch, sh, clat, c_lon_deg[k] * deg, math.cos(0.5 * clat),
                             math.sin(0.5 * clat), r_earth_m)
            s = 0.0
            if dx * dx + dy * dy <= max2:
                vt = math.sqrt(vt_east[k] * vt_east[k] + vt_north[k] * vt_north[k])
                s = _speed(dx, dy, rmw_m[k], math.log(rmw_m[k]), b[k], b[k] * dp_pa[k] / rho[k],
                           0.5 * f[k], vt_east[k], vt_north[k], vt, vscale[k], hemi[k], cos_a,
                           sin_a)
            if s > best:
                best = s
                kbest = k
        out_peak[i] = best * site_factor[i]
        out_step[i] = kbest
