"""Offscreen rendering set-up, shared by every view that renders without a window.

On Linux without a display VTK's render-window factory tries X first, logs "bad X
server connection" and only then falls back to EGL. VTK (>= 9.4) reads the window
class to create from ``VTK_DEFAULT_OPENGL_WINDOW``; naming the headless class
before the first window is made skips the X attempt, so no warning is printed and
nothing on stderr has to be hidden.
"""

from __future__ import annotations

import os
import sys


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
    """Render offscreen from now on in this process (call before the first plotter)."""
    import pyvista as pv

    pv.OFF_SCREEN = True
    name = headless_window_class()
    if name is not None:
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", name)
