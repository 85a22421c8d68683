"""numba kernels with array-only signatures (``cache=True``).

Run the pure-Python path with ``NUMBA_DISABLE_JIT=1`` to debug or test them.
"""
