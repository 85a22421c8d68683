"""2D drawing on a VTK renderer in its normalized viewport coordinates (0..1 each way):
text, rectangles, polylines and the two-column legend of the scene's side panel.

Colours are RGB in 0..255 (or 0..1 when every channel is at most 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: a legend entry: (text, kind, colour); kind None is a heading, else "dot", "box",
#: "line" or "crew" (colour then a (core, halo) pair)
Entry = tuple[str, str | None, object]


def _rgb(rgb) -> tuple[float, float, float]:
    c = np.asarray(rgb, float)[:3]
    return tuple(c / 255 if c.max(initial=0) > 1 else c)  # type: ignore[return-value]


def text(ren, words: str, x: float, y: float, size: int, *, bold: bool = False,
         color=(0.08, 0.08, 0.08), align: str = "left", valign: str = "bottom"):
    """A text actor at (x, y); ``size`` in pixels. Returns the actor (``SetInput`` it)."""
    import vtk

    a = vtk.vtkTextActor()
    a.SetInput(words)
    a.SetTextScaleModeToNone()
    tp = a.GetTextProperty()
    tp.SetFontSize(int(size))
    tp.SetColor(*_rgb(color))
    tp.SetBold(bold)
    tp.SetFontFamilyToArial()
    {"left": tp.SetJustificationToLeft, "center": tp.SetJustificationToCentered,
     "right": tp.SetJustificationToRight}[align]()
    {"bottom": tp.SetVerticalJustificationToBottom, "top": tp.SetVerticalJustificationToTop,
     "center": tp.SetVerticalJustificationToCentered}[valign]()
    c = a.GetPositionCoordinate()
    c.SetCoordinateSystemToNormalizedViewport()
    c.SetValue(x, y)
    ren.AddViewProp(a)
    return a


def _actor(ren, pts, poly, rgb, opacity: float, width: float):
    import vtk

    coord = vtk.vtkCoordinate()
    coord.SetCoordinateSystemToNormalizedViewport()
    mapper = vtk.vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.SetTransformCoordinate(coord)
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*_rgb(rgb))
    actor.GetProperty().SetOpacity(opacity)
    actor.GetProperty().SetLineWidth(width)
    ren.AddViewProp(actor)
    return pts, poly, actor


def rect(ren, x0: float, y0: float, x1: float, y1: float, rgb, opacity: float = 1.0, *,
         outline: bool = False):
    """A filled (or outlined) rectangle; returns (points, polydata, actor) for updates."""
    import vtk

    pts = vtk.vtkPoints()
    for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
        pts.InsertNextPoint(x, y, 0)
    poly = vtk.vtkPolyData()
    poly.SetPoints(pts)
    cells = vtk.vtkCellArray()
    if outline:
        cells.InsertNextCell(5, [0, 1, 2, 3, 0])
        poly.SetLines(cells)
    else:
        cells.InsertNextCell(4, [0, 1, 2, 3])
        poly.SetPolys(cells)
    return _actor(ren, pts, poly, rgb, opacity, 1.5)


def polyline(ren, x: Sequence[float], y: Sequence[float], rgb, width: float = 1.5):
    """A polyline; returns (points, polydata) for updates."""
    import vtk

    pts = vtk.vtkPoints()
    for a, b in zip(x, y, strict=True):
        pts.InsertNextPoint(float(a), float(b), 0.0)
    cells = vtk.vtkCellArray()
    cells.InsertNextCell(len(x), list(range(len(x))))
    poly = vtk.vtkPolyData()
    poly.SetPoints(pts)
    poly.SetLines(cells)
    return _actor(ren, pts, poly, rgb, 1.0, width)[:2]


def legend(ren, entries: Sequence[Entry], *, top: float, bottom: float, line: float,
           font: int, aspect: float, height_px: int) -> None:
    """Black text beside colour swatches, in two columns of whole groups (a heading and
    its entries), shrunk to fit between ``top`` and ``bottom`` (normalized heights).

    ``line`` is one text line's height (normalized), ``font`` the largest font size in
    pixels, ``aspect`` the renderer's width / height in pixels.
    """
    groups: list[list[Entry]] = []
    for e in entries:
        if e[1] is None or not groups:
            groups.append([])
        groups[-1].append(e)
    total = sum(len(g) for g in groups)
    cols: list[list[list[Entry]]] = [[], []]
    for g in groups:
        cols[0 if sum(len(x) for x in cols[0]) + len(g) / 2 <= total / 2 else 1].append(g)
    rows = max(sum(len(g) + 0.25 for g in c) for c in cols if c)
    step = min(line, (top - bottom) / max(rows, 1))
    size = max(7, int(min(font - 1, step * height_px / 1.3)))
    for ci, col in enumerate(cols):
        y = top
        x0 = 0.04 + 0.48 * ci  # column origin
        sw = 0.07  # swatch width
        for g in col:
            for words, kind, rgb in g:
                if kind is None:
                    y -= 0.25 * step  # a little air above each heading
                    text(ren, words, x0, y, size, bold=True, valign="top")
                    y -= step
                    continue
                yc = y - 0.5 * step
                hh = 0.32 * step
                ww = hh / aspect
                xs = x0 + 0.01
                if kind == "line":
                    rect(ren, xs, yc - 0.12 * step, xs + sw, yc + 0.12 * step, rgb)
                elif kind == "crew":
                    core, halo = rgb  # type: ignore[misc]
                    xm = xs + 0.5 * sw
                    for k, c in ((1.3, halo), (0.7, core)):
                        rect(ren, xm - ww * k, yc - hh * k, xm + ww * k, yc + hh * k, c)
                    rect(ren, xm - ww * 1.3, yc - hh * 1.3, xm + ww * 1.3, yc + hh * 1.3,
                         (0.3, 0.3, 0.3), outline=True)
                else:
                    rect(ren, xs, yc - hh, xs + sw, yc + hh, rgb)
                    rect(ren, xs, yc - hh, xs + sw, yc + hh, (0.4, 0.4, 0.4), outline=True)
                text(ren, words, xs + sw + 0.025, yc, size, valign="center")
                y -= step
