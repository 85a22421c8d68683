"""Offscreen rendering set-up, shared by every view that renders without a window.

On Linux without a display VTK's render-window factory tries X first, logs "bad X
server connection" and only then falls back to EGL. VTK (>= 9.4) reads the window
class to create from ``VTK_DEFAULT_OPENGL_WINDOW``; naming the headless class
while a plotter makes its window skips the X attempt, so no warning is printed and
nothing on stderr has to be hidden. The variable is set only for that moment, so
child processes (and windows made later with a display) are not affected.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

_VAR = "VTK_DEFAULT_OPENGL_WINDOW"


def headless_window_class() -> str | None:
    """The VTK window class for offscreen rendering here, or None to keep VTK's choice."""
    if sys.platform != "linux" or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    from vtkmodules import vtkRenderingOpenGL2 as gl2

    for name in ("vtkEGLRenderWindow", "vtkOSOpenGLRenderWindow"):
        if hasattr(gl2, name):
            return name
    return None


def use_offscreen() -> None:
    """Render offscreen from now on in this process (pyvista's switch)."""
    import pyvista as pv

    pv.OFF_SCREEN = True


@contextlib.contextmanager
def headless_windows() -> Iterator[None]:
    """Windows made inside this block are headless ones when there is no display."""
    name = headless_window_class()
    if name is None or _VAR in os.environ:
        yield
        return
    os.environ[_VAR] = name
    try:
        yield
    finally:
        os.environ.pop(_VAR, None)
