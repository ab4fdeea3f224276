"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The data goes to a hidden temporary file next to the target (``.<name>.<random>.tmp``:
the same file system, so the rename is atomic; a leading dot, so Spark, Hadoop and
dagstorm's own inbox scanner skip it; a random part, so two writers of the same
file never share a temporary) and is renamed over the target with ``os.replace``.
With ``fsync=True`` the file is fsync'd before the rename and its directory
after, so the new content survives a power cut, not only a crash of the process.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: The mode of a file created without one: the usual 0666, less the process's umask.
DEFAULT_MODE = 0o666


def _temporary_beside(path: Path) -> Path:
    """A hidden, random name next to ``path`` for what will be renamed over it."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def fsync_dir(path: Path) -> None:
    """Make the renames in directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes | str,
    *,
    mode: int | None = None,
    fsync: bool = False,
) -> Path:
    """Replace ``path`` with ``data`` (text is UTF-8) in one rename; returns ``path``.

    ``mode``: the file's exact permissions (``0o600`` for secrets; the umask does
    not widen or narrow it). None gives what ``open()`` would: 0666 less the umask,
    so results and reports stay readable by others where the umask allows.
    ``fsync``: fsync the file and, after the rename, its directory.
    """
    path = Path(path)
    body = data.encode() if isinstance(data, str) else data
    temporary = _temporary_beside(path)
    # O_EXCL: never write through a file (or a symlink) that is already there. A
    # secret's temporary is created with its own mode: never readable by others.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(temporary, flags, DEFAULT_MODE if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)  # exactly ``mode``, whatever the umask
            out.write(body)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(path.parent)
    return path


def atomic_symlink(path: Path, target: str | Path) -> Path:
    """Make ``path`` a symlink to ``target`` in one rename, whatever ``path`` was before.

    The link is made under a hidden random name beside ``path`` (as :func:`atomic_write`
    does its temporary) and renamed over it: a reader sees the old file or the new
    link, never no file.
    """
    path = Path(path)
    temporary = _temporary_beside(path)
    temporary.symlink_to(str(target))
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
