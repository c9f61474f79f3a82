"""How bmdkit creates the folders and files it writes: owner-only, atomic, checked before work starts.

A batch folder's ``results.jsonl`` and ``state.sqlite`` hold patient names,
hospital IDs and birth dates; review pages and subject tables can show them
too. Every such file is created readable by its owner only
(:data:`PRIVATE_FILE`, ``0600``), and a folder bmdkit creates is ``0700``.
The mode is set on the open descriptor, so an older file written ``0644``
is tightened when rewritten, whatever the umask.

Every rewrite of an output file goes through :func:`atomic_write` (or
:func:`write_bytes_atomic`): a temporary file in the same folder, flushed
to disk, then :func:`os.replace`, so a crash leaves the old file or the new
one, never half of either, and no temporary file behind. A set of outputs
regenerated together (the batch's results files) is staged with
:func:`staged_files` and moved into place file by file the same way.

:func:`prepare_output_dir` checks an output folder before anything runs,
so a mistyped ``--out`` is a one-line usage error, never a traceback after
hours of work.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
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


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, make_parents: bool = False,
                 **kwargs: Any) -> Iterator[IO[Any]]:
    """Write ``path`` all at once: yields an owner-only temporary file beside it, then replaces ``path``.

    ``mode`` is ``"w"`` (text; pass ``encoding``/``newline``) or ``"wb"``. On
    leaving the block the file is flushed and fsync'ed, then moved over
    ``path``; on an exception the temporary file is removed and ``path`` is
    left as it was. ``make_parents`` creates missing parent folders first
    (with the umask's mode, as :meth:`pathlib.Path.mkdir` does).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "a.txt", encoding="utf-8") as fh:
    ...     _ = fh.write("done")
    >>> (d / "a.txt").read_text(encoding="utf-8"), oct((d / "a.txt").stat().st_mode & 0o777)
    ('done', '0o600')
    """
    target = Path(path)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent))
    os.close(fd)
    try:
        with open_private(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes, *, make_parents: bool = False) -> Path:
    """Write ``data`` to ``path`` with :func:`atomic_write` (owner-only); returns the path."""
    with atomic_write(path, "wb", make_parents=make_parents) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def staged_files(folder: str | Path, names: Sequence[str], work_dir: str | Path) -> Iterator[dict[str, Path]]:
    """Write a set of outputs together: yields a staging path per name, then moves each into ``folder``.

    The staging folder is made (``0700``) inside ``work_dir``, which must be on
    the same file system as ``folder``. The caller writes every file there
    (owner-only, e.g. with :func:`open_private`) and flushes it; on leaving the
    block each replaces ``folder/name`` in the order of ``names``, so each
    output is whole (old or new). On an exception nothing is replaced. The
    staging folder is removed either way.
    """
    tmp = Path(tempfile.mkdtemp(prefix="out-", dir=str(work_dir)))
    try:
        yield {n: tmp / n for n in names}
        for n in names:
            os.replace(tmp / n, Path(folder) / n)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
