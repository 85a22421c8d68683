"""One definition of "unverified": the `[check]` entries of the shipped default data.

An *entry* is one top-level key of ``wind_constants.yaml``, ``restoration.yaml`` and
``repair_costs.yaml``, or one item of the ``curves:`` / ``outages:`` lists of
``fragility.yaml``; its text runs from its first line to the first line of the next
entry (comments included). A file's header (the lines before its first entry) speaks
for the whole file and counts as one more entry when it carries the marker. An entry is
*unverified* when its text carries the marker ``[check]`` at least once; a marker quoted
in backticks (`` `[check]` ``, as when a comment explains the convention) is not one.

README.md states the total and the count per file; this test keeps the two equal.
Scenario files carry their own markers and are not counted.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_FILES = (
    ROOT / "hazards" / "typhoon" / "data" / "wind_constants.yaml",
    ROOT / "networks" / "data" / "fragility.yaml",
    ROOT / "networks" / "data" / "restoration.yaml",
    ROOT / "networks" / "data" / "repair_costs.yaml",
)
MARKER = re.compile(r"(?<!`)\[check\](?!`)")
_TOP_KEY = re.compile(r"^([A-Za-z0-9_]+):")
_ITEM = "  - "


def _is_comment_or_blank(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def unverified_entries(text: str) -> list[str]:
    """Names of the entries of one data file whose text carries the marker."""
    lines = text.splitlines()
    starts: list[tuple[int, str]] = []
    container = ""
    for i, line in enumerate(lines):
        key = _TOP_KEY.match(line)
        if key:
            following = next((x for x in lines[i + 1:] if not _is_comment_or_blank(x)), "")
            if following.startswith(_ITEM):
                container = key.group(1)  # a list of entries, not an entry
            else:
                starts.append((i, key.group(1)))
        elif line.startswith(_ITEM):
            asset = re.search(r"asset_class:\s*(\w+)", line)
            starts.append((i, f"{container}[{asset.group(1) if asset else i}]"))
    first = starts[0][0] if starts else len(lines)
    blocks = [("(file header)", lines[:first])]
    for n, (i, name) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        block = lines[i:end]
        measure = next((m.group(1) for x in block if (m := re.search(r"measure:\s*(\w+)", x))),
                       None)
        blocks.append((f"{name[:-1]}/{measure}]" if measure and name.endswith("]") else name,
                       block))
    return [name for name, block in blocks if any(MARKER.search(x) for x in block)]


def unverified_counts() -> dict[str, int]:
    return {p.name: len(unverified_entries(p.read_text(encoding="utf-8"))) for p in DATA_FILES}


def test_entry_definition_on_a_small_file():
    text = "\n".join([
        "# header that explains `[check]` without being one",
        "a:",
        "  value: 1",
        "  source: \"recalled [check]\"  # [check] twice in one entry counts once",
        "b: {value: 2, source: \"verified\"}",
        "# a comment after b belongs to b: [check]",
        "c: {value: 3}",
    ])
    assert unverified_entries(text) == ["a", "b"]
    assert unverified_entries("# file-wide [check]\nx: 1\n") == ["(file header)"]
    lists = "\n".join([
        "curves:",
        "  - asset_class: pipe",
        "    measure: gust_mps",
        "    source: \"[check]\"",
        "outages:",
        "  - asset_class: pipe",
        "    measure: gust_mps",
        "    source: \"ok\"",
    ])
    assert unverified_entries(lists) == ["curves[pipe/gust_mps]"]


def test_readme_states_the_number_of_unverified_entries():
    counts = unverified_counts()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    total = re.search(r"Unverified defaults: \*\*(\d+)\*\* entries", readme)
    assert total, "README.md must state 'Unverified defaults: **N** entries'"
    assert int(total.group(1)) == sum(counts.values()), counts
    for name, n in counts.items():
        stated = re.search(rf"`{re.escape(name)}` (\d+)", readme)
        assert stated and int(stated.group(1)) == n, (name, n)


def test_every_data_file_is_read_and_has_entries():
    for path in DATA_FILES:
        assert path.is_file(), path
        text = path.read_text(encoding="utf-8")
        assert any(_TOP_KEY.match(x) for x in text.splitlines()), path
