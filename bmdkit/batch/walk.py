"""Find the input files of a batch: folders, single files and zip archives.

Zip members are extracted one at a time into a private temporary folder
under names chosen by bmdkit (never the member's own name, so no path in an
archive can point outside it), with a byte cap counted while decompressing
(a header's declared size is not trusted). Symbolic links inside folders and
archives are not followed; they are reported. Each archive member is named
``archive.zip!member/path`` in every output.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bmdkit.detect import Format, sniff
from bmdkit.flags import FlagCode
from bmdkit.read import display_path

ARCHIVE_SEP = "!"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WalkLimits:
    """Caps on archives; operating limits, not reference numbers."""

    max_member_bytes: int = 512 * 1024 * 1024
    max_archive_bytes: int = 16 * 1024 * 1024 * 1024
    max_members: int = 200_000


DEFAULT_LIMITS = WalkLimits()


@dataclass(frozen=True)
class InputItem:
    """One input as the batch sees it.

    ``display`` is the name used in outputs; ``path`` where the bytes are on
    disk (a temporary file for archive members, removed by the caller when
    ``temporary``); ``problem`` a flag code and reason when the item cannot
    be processed at all (then ``path`` is None). ``stamp`` (size and mtime)
    lets the ledger skip re-hashing an unchanged file.
    """

    display: str
    path: Path | None
    temporary: bool = False
    problem: tuple[FlagCode, str] | None = None
    stamp: str | None = None
    known: bool = False


def _shown(path: str | Path) -> str:
    """The name shown for ``path`` in every output: file-name bytes that are not
    UTF-8 become ``\\xNN`` (as :func:`bmdkit.read.display_path`), so odd names
    can be stored, written to UTF-8 outputs and matched on resume."""
    return display_path(path)


def _stamp(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}"


def count_inputs(inputs: Iterable[str | Path]) -> int:
    """How many items :func:`walk_inputs` will yield (cheap: names and zip directories only)."""
    n = 0
    for item in _files(inputs):
        if isinstance(item, InputItem):
            n += 1
            continue
        path, _ = item
        if _is_zip(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    n += max(1, sum(1 for i in zf.infolist() if not i.is_dir()))
            except (zipfile.BadZipFile, OSError, ValueError):
                n += 1
        else:
            n += 1
    return n


def walk_inputs(
    inputs: Iterable[str | Path],
    work_dir: Path,
    limits: WalkLimits = DEFAULT_LIMITS,
    known: Callable[[str, str], bool] | None = None,
) -> Iterator[InputItem]:
    """Every input file, in a stable order (arguments as given, folders sorted).

    ``known(display, stamp)`` says whether an item with this name and stamp
    was already processed; such archive members are not extracted again
    (the item comes back with ``known=True`` and no path).
    """
    counter = 0
    for item in _files(inputs):
        if isinstance(item, InputItem):
            yield item
            continue
        path, st = item
        if _is_zip(path):
            for member in _zip_members(path, work_dir, limits, counter, known):
                counter += 1
                yield member
        else:
            stamp = _stamp(st)
            seen = known is not None and known(_shown(path), stamp)
            yield InputItem(display=_shown(path), path=path, stamp=stamp, known=seen)


def _files(inputs: Iterable[str | Path]) -> Iterator[InputItem | tuple[Path, os.stat_result]]:
    for raw in inputs:
        p = Path(raw)
        try:
            st = p.stat()
        except OSError as exc:
            yield InputItem(_shown(p), None, problem=(FlagCode.UNREADABLE, f"cannot be read ({exc.strerror})"))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(p)
        elif stat.S_ISREG(st.st_mode):
            yield p, st
        else:
            yield InputItem(_shown(p), None, problem=(FlagCode.UNSUPPORTED_KIND, "not a regular file"))


def _walk_dir(root: Path) -> Iterator[InputItem | tuple[Path, os.stat_result]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # symlinked folders are listed in dirnames but not entered: report them
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                yield InputItem(_shown(here / d), None,
                                problem=(FlagCode.UNSUPPORTED_KIND, "symbolic link not followed"))
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            p = here / name
            try:
                st = p.lstat()
            except OSError as exc:
                yield InputItem(_shown(p), None, problem=(FlagCode.UNREADABLE, f"cannot be read ({exc.strerror})"))
                continue
            if stat.S_ISLNK(st.st_mode):
                yield InputItem(_shown(p), None, problem=(FlagCode.UNSUPPORTED_KIND, "symbolic link not followed"))
            elif stat.S_ISREG(st.st_mode):
                yield p, st
            else:
                yield InputItem(_shown(p), None, problem=(FlagCode.UNSUPPORTED_KIND, "not a regular file"))


def _is_zip(path: Path) -> bool:
    try:
        return sniff(path) is Format.ZIP
    except OSError:
        return False


def safe_member_name(name: str) -> str | None:
    """The member's name as shown, or None when it is absolute or climbs out (``..``)."""
    name = name.replace("\\", "/")
    pure = PurePosixPath(name)
    if pure.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return None
    if any(part == ".." for part in pure.parts):
        return None
    return str(pure)


def member_display_name(info: zipfile.ZipInfo) -> str:
    """The member's name as the site wrote it.

    Zip tools on Chinese Windows store names in the local code page (GBK)
    without the UTF-8 flag; :mod:`zipfile` then decodes them as CP437. Such
    names are re-decoded as GB18030 when that succeeds; otherwise the name
    is kept as :mod:`zipfile` gives it.
    """
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    if raw.isascii():
        return name
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return name


def _zip_members(
    archive: Path, work_dir: Path, limits: WalkLimits, counter: int,
    known: Callable[[str, str], bool] | None,
) -> Iterator[InputItem]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield InputItem(_shown(archive), None, problem=(FlagCode.UNREADABLE, f"zip archive cannot be opened ({type(exc).__name__})"))
        return
    total = 0
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            yield InputItem(_shown(archive), None, problem=(FlagCode.NO_RESULTS, "zip archive holds no files"))
            return
        for n, info in enumerate(infos):
            raw_name = member_display_name(info)
            shown_name = safe_member_name(raw_name)
            display = f"{_shown(archive)}{ARCHIVE_SEP}{shown_name if shown_name else raw_name}"
            if n >= limits.max_members:
                yield InputItem(display, None, problem=(FlagCode.RESOURCE_LIMIT, "archive member count cap reached"))
                continue
            if shown_name is None:
                yield InputItem(display, None, problem=(FlagCode.UNSUPPORTED_KIND, "unsafe member path (absolute or '..')"))
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode == stat.S_IFLNK:
                yield InputItem(display, None, problem=(FlagCode.UNSUPPORTED_KIND, "symbolic link not followed"))
                continue
            if info.flag_bits & 0x1:
                yield InputItem(display, None, problem=(FlagCode.UNREADABLE, "encrypted archive member"))
                continue
            stamp = f"zip:{info.CRC}:{info.file_size}:{info.compress_size}"
            if known is not None and known(display, stamp):
                yield InputItem(display, None, stamp=stamp, known=True)
                continue
            cap = min(limits.max_member_bytes, limits.max_archive_bytes - total)
            target = work_dir / f"m{os.getpid()}-{counter + n:07d}"
            try:
                written = _extract(zf, info, target, cap)
            except _TooBig:
                target.unlink(missing_ok=True)
                yield InputItem(display, None, problem=(FlagCode.RESOURCE_LIMIT, f"member exceeds the {cap}-byte extraction cap"))
                continue
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                target.unlink(missing_ok=True)
                yield InputItem(display, None, problem=(FlagCode.UNREADABLE, f"member cannot be extracted ({type(exc).__name__})"))
                continue
            total += written
            yield InputItem(display, target, temporary=True, stamp=stamp)


class _TooBig(Exception):
    pass


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int) -> int:
    written = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out, zf.open(info) as src:
        while block := src.read(_CHUNK):
            written += len(block)
            if written > cap:
                raise _TooBig
            out.write(block)
    return written
