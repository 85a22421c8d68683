"""Atomic output directories: write everything in a temporary sibling, then rename.

A run that fails or is interrupted leaves nothing at ``--out``; an existing
directory is replaced only when the new one is complete. The temporary sibling
``.<name>.tmp-<pid>-*`` carries the writer's process id, so a writer killed
with SIGKILL (no clean-up runs) leaves a folder that the next writer of the same
output recognises as orphaned and removes.
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


def check_output(out: Path | str, *, overwrite: bool = False, is_dir: bool = True) -> None:
    """Refuse ``out`` before long work: existing without ``overwrite``, or not writable.

    Also removes temporary folders that killed writers of ``out`` left behind.
    """
    out = Path(out)
    what = "directory" if is_dir else "file"
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output {what} exists; pass --overwrite to replace it",
                                where=str(out))
    if out.exists() and out.is_dir() != is_dir:
        raise OutputExistsError(f"output path exists and is not a {what}", where=str(out))
    parent = _existing_ancestor(out.resolve().parent)
    if not parent.is_dir():
        raise InputError("cannot write here: not a directory", where=str(parent))
    try:  # a real write, not os.access: root passes access checks on a read-only mount
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
    except OSError as e:
        raise InputError(f"cannot write here: {e.strerror or e}", where=str(parent)) from None
    if parent == out.resolve().parent:
        remove_orphans(out)


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def remove_orphans(out: Path | str) -> list[Path]:
    """Remove ``.<name>.tmp-<pid>-*`` / ``.old-`` siblings of ``out`` whose writer is dead."""
    out = Path(out)
    parent = out.resolve().parent
    removed = []
    for kind in ("tmp", "old"):
        for p in parent.glob(f".{out.name}.{kind}-*"):
            pid_text = p.name[len(f".{out.name}.{kind}-"):].split("-", 1)[0]
            if pid_text.isdigit() and not _pid_alive(int(pid_text)):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def _mkdtemp(out: Path, parent: Path, kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.{kind}-{os.getpid()}-", dir=parent))


@contextlib.contextmanager
def atomic_dir(out: Path | str, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` when the block succeeds.

    An OS error while writing (full disk, permissions) is reported against ``out``,
    never against the temporary folder the user never asked for.
    """
    out = Path(out)
    check_output(out, overwrite=overwrite)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = _mkdtemp(out, parent, "tmp")
    except OSError as e:
        raise InputError(f"cannot create the output directory: {e.strerror}",
                         where=str(out)) from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; results are for sharing
    try:
        try:
            yield tmp
            if out.exists():
                old = _mkdtemp(out, parent, "old")
                os.replace(out, old / "x")
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
        except OSError as e:
            raise InputError(f"cannot write the output: {e.strerror or e}",
                             where=str(out)) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
