"""Reading the user's text documents (scenarios, steps, tables) strictly.

Two traps that a plain ``yaml.safe_load(path.read_text())`` falls into: a file in
another encoding (UTF-16 from a Windows editor, Latin-1, random bytes) ends in a
``UnicodeDecodeError`` traceback, and a key written twice silently keeps the last
value. Here both are one-line :class:`~common.errors.InputError` messages naming
the file (and the line).
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from common.errors import InputError

#: Byte-order marks of encodings a user's editor may have chosen instead of UTF-8.
_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def read_text(path: Path | str, *, what: str = "file", max_bytes: int = 64 * 2**20) -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is accepted and dropped).

    Raises
    ------
    InputError
        the file is missing, not a regular file, larger than ``max_bytes``, or not UTF-8
        (the message names the encoding when a byte-order mark gives it away, else the
        byte offset of the first bad byte).
    """
    from common.digest import regular_file_problem

    path = Path(path)
    problem = regular_file_problem(path)
    if problem == "file not found":
        raise InputError(f"{what} not found", where=str(path))
    if problem:
        raise InputError(f"{what}: {problem}", where=str(path))
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"cannot read the {what}: {e.strerror}", where=str(path)) from None
    if len(data) > max_bytes:
        raise InputError(f"{what} is larger than {max_bytes // 2**20} MiB; is it the right file?",
                         where=str(path))
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise InputError(f"{what} is encoded as {name}; save it as UTF-8", where=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{what} is not UTF-8 text (bad byte 0x{data[e.start]:02x} at offset "
                         f"{e.start}); save it as UTF-8", where=str(path)) from None


def parse_yaml(text: str, *, where: str) -> Any:
    """Parse YAML safely; a mapping key given twice is an error, not a silent overwrite."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise InputError(f"key '{key}' appears twice (lines {seen[key]} and "
                                 f"{key_node.start_mark.line + 1}); remove one", where=where)
            try:
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # unhashable key: let PyYAML say so below
                break
        return loader.construct_mapping(node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"not valid YAML{line}: {problem}", where=where) from None
    except RecursionError:
        raise InputError("YAML nests too deeply", where=where) from None
