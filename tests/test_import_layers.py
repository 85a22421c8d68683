"""Every import arrow points down: common < networks < hazards < twin engine < CLI/batch/views.

A module may import its own package and the floors below it, never a floor above
(lazy imports inside functions count too: an arrow is an arrow).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "networks", "hazards", "twin", "viz")
#: modules on the top floor although they live in a lower package: command-line mounts
TOP = ("twin.cli", "twin.batch", "twin.drill", "hazards.flood.cli", "hazards.typhoon.cli",
       "networks.importers.cli")
FLOOR = {"common": 0, "networks": 1, "hazards": 2, "twin": 3, "viz": 4}


def floor(module: str) -> int:
    if any(module == t or module.startswith(t + ".") for t in TOP):
        return 4
    return FLOOR[module.split(".")[0]]


def project_imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out += [(node.lineno, n) for n in names if n.split(".")[0] in PACKAGES]
    return out


MODULES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_packages_found():
    assert len(MODULES) > 50
    assert (ROOT / "common" / "errors.py") in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    mine = floor(module)
    up = [f"line {ln}: {name}" for ln, name in project_imports(path)
          if floor(name) > mine or (mine == 0 and floor(name) != 0)]
    assert not up, f"{module} imports upward: {up}"
