"""How bmdkit creates the folders and files it writes: owner-only, checked before work starts.

A batch folder's ``results.jsonl`` and ``state.sqlite`` hold patient names,
hospital IDs and birth dates; review pages and subject tables can show them
too. Every such file is created readable by its owner only
(:data:`PRIVATE_FILE`, ``0600``), and a folder bmdkit creates is ``0700``.
The mode is set on the open descriptor, so an older file written ``0644``
is tightened when rewritten, whatever the umask.

:func:`prepare_output_dir` checks an output folder before anything runs,
so a mistyped ``--out`` is a one-line usage error, never a traceback after
hours of work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from bmdkit.errors import ConfigError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class OutputPathError(ConfigError):
    """An output folder or file cannot be used (it is a file, has no parent, is not writable)."""


def prepare_output_dir(path: str | Path) -> Path:
    """Make ``path`` ready as an output folder, creating it ``0700`` if it does not exist.

    Raises :class:`OutputPathError` (with the path and the reason) when it is
    an existing non-folder, when its parent folder does not exist, or when it
    cannot be created or written.
    """
    out = Path(path)
    shown = os.fsdecode(out)
    if out.exists() and not out.is_dir():
        raise OutputPathError("the output folder is an existing file, not a folder", shown)
    if not out.exists():
        parent = out.parent if str(out.parent) else Path(".")
        if not parent.is_dir():
            raise OutputPathError(f"its parent folder {os.fsdecode(parent)} does not exist", shown)
        try:
            out.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass
        except OSError as exc:
            raise OutputPathError(f"cannot be created ({exc.strerror or type(exc).__name__})", shown) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputPathError("the output folder is not writable", shown)
    return out


def make_private(path: str | Path) -> None:
    """Set an existing file to owner read/write only (``0600``); a missing file is left alone."""
    try:
        os.chmod(path, PRIVATE_FILE)
    except FileNotFoundError:
        pass


def open_private(path: str | Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (truncating) as an owner-only file; text or binary per ``mode``."""
    if not set(mode) <= set("wbt"):
        raise ValueError(f"open_private writes only ('w', 'wb'), not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def touch_private(path: str | Path) -> None:
    """Create ``path`` empty and owner-only if it does not exist; tighten its mode if it does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
