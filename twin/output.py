"""Atomic output directories: write everything in a temporary sibling, then rename.

A run that fails or is interrupted leaves nothing at ``--out``; an existing
directory is replaced only when the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from common.errors import InputError


class OutputExistsError(InputError):
    """The output directory exists and overwriting was not asked for."""


def check_output(out: Path | str, *, overwrite: bool = False) -> None:
    """Refuse an existing ``out`` unless overwriting (call it before long work, too)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise OutputExistsError("output directory exists; pass --overwrite to replace it",
                                where=str(out))
    if out.exists() and not out.is_dir():
        raise OutputExistsError("output path exists and is not a directory", where=str(out))


@contextlib.contextmanager
def atomic_dir(out: Path | str, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` when the block succeeds."""
    out = Path(out)
    check_output(out, overwrite=overwrite)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output's parent directory: {e.strerror}",
                         where=str(parent)) from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; results are for sharing
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
