"""One digest of a user's file, for every cache key that depends on file contents.

A cache key must change whenever anything a reader takes from a file changes. A
shapefile is several files (the ``.dbf`` holds the attributes, the ``.prj`` the
CRS, the ``.cpg`` the text encoding) and an ESRI ASCII grid takes its CRS from a
``.prj`` beside it, so :func:`file_digest` hashes these *sidecars* too. Only
file *contents* and sidecar *suffixes* enter the digest, never absolute paths,
so the same inputs give the same key on every machine.

Only regular files are read: ``/dev/zero``, a FIFO or a folder would make a
digest read forever or fail obscurely, and are refused with one line.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from common.errors import InputError

#: Files GDAL/OGR read beside the main file, by the main file's suffix (lower case).
SIDECARS: dict[str, tuple[str, ...]] = {
    ".shp": (".shx", ".dbf", ".prj", ".cpg", ".qpj"),
    ".asc": (".prj",),
    ".tif": (".tfw", ".aux.xml"),
    ".tiff": (".tfw", ".aux.xml"),
}

_CHUNK = 1 << 20


def sidecar_files(path: Path | str) -> list[Path]:
    """The existing sidecar files of ``path`` (see :data:`SIDECARS`), sorted by suffix.

    Matching is case-insensitive on the suffix (``roads.DBF`` is the sidecar of
    ``roads.shp``), as GDAL's is on case-insensitive file systems.
    """
    path = Path(path)
    wanted = SIDECARS.get(path.suffix.lower(), ())
    if not wanted:
        return []
    found: dict[str, Path] = {}
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return []
    stem = path.stem
    for p in siblings:
        if p == path or not p.name.startswith(stem):
            continue
        rest = p.name[len(stem):].lower()
        # "city.aux.xml" is the sidecar of "city.tif": GDAL appends to the full name
        rest_full = p.name[len(path.name):].lower() if p.name.startswith(path.name) else ""
        for suffix in wanted:
            if rest == suffix or rest_full == suffix:
                found.setdefault(suffix, p)
    return [found[s] for s in sorted(found)]


def regular_file_problem(path: Path | str) -> str | None:
    """Why ``path`` cannot be read as a data file (missing, a folder, a device such as
    ``/dev/zero``, a FIFO), or None when it is a regular file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "expected a file, found a folder"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a device, FIFO or socket cannot be a data file)"
    return None


def require_regular_file(path: Path | str, *, error: type[InputError] = InputError) -> None:
    """Raise ``error`` (one line naming ``path``) unless ``path`` is a regular file."""
    problem = regular_file_problem(path)
    if problem is not None:
        raise error(problem, where=str(path))


def file_digest(path: Path | str, *, error: type[InputError] = InputError) -> str:
    """sha256 (hex) of a file's bytes and of its sidecars' bytes.

    Parameters
    ----------
    path : Path or str
        The main file (e.g. ``roads.shp``, ``dem.asc``, ``depth.tif``).

    Returns
    -------
    str
        64 hex digits. Changing any byte of the file or of a sidecar (see
        :data:`SIDECARS`), adding or removing a sidecar, changes the digest; moving
        the files elsewhere does not.

    Raises
    ------
    error
        (:class:`InputError` by default) the file does not exist, cannot be read, or
        is not a regular file.
    """
    path = Path(path)
    require_regular_file(path, error=error)
    h = hashlib.sha256()
    for p in [path, *sidecar_files(path)]:
        require_regular_file(p, error=error)
        # the suffix, not the name: a renamed copy of the same data has the same digest
        h.update(b"\0" + (p.name[len(path.stem):] if p != path else "").lower().encode() + b"\0")
        try:
            with open(p, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(_CHUNK), b""):
                    h.update(chunk)
        except OSError as exc:
            raise error(f"cannot read file ({exc.strerror or exc})", where=str(p)) from None
    return h.hexdigest()
