"""Find the input files of a batch: folders, single files and zip archives.

Zip members are extracted one at a time into a private temporary folder
under names chosen by bmdkit (never the member's own name, so no path in an
archive can point outside it). Every compression method is decompressed by
bmdkit itself in bounded steps (at most one block of output per step), so a
member's bytes are counted while they are produced: a header's declared
size is not trusted, a member past its cap (or expanding more than
``max_ratio`` times) stops at once as ``resource_limit``, and every byte
decompressed, refused members' included, counts toward the archive's cap.
Symbolic links inside folders and archives are not followed; they are
reported, and so is a sub-folder that cannot be listed.

Each input has a *place* that no other input shares: the absolute path
bytes of a file, or the archive's place plus the member's exact stored name
and its occurrence among members of that name. The ledger keys inputs by
place, never by the name shown, so two inputs shown alike (the same member
name twice in a zip, ``a/./b.dcm`` beside ``a/b.dcm``, a file named
``a.zip!x.dcm`` beside ``a.zip``, a non-UTF-8 name beside its escaped text)
stay two inputs. Each archive member is shown as ``archive.zip!member/path``.
"""

from __future__ import annotations

import bz2
import lzma
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, quote_from_bytes

from bmdkit.detect import ZIP_LOCAL_HEADER, Format, sniff
from bmdkit.flags import FlagCode
from bmdkit.options import DEFAULT_OPTIONS
from bmdkit.read import display_path

ARCHIVE_SEP = "!"
_CHUNK = 1 << 20
_RAW_CHUNK = 1 << 16
#: characters kept as they are in a place (everything else is %-encoded, so places are plain ASCII)
_PLACE_SAFE = "/!._-~+=,@:()[] "
#: ``ready(path, stat)``: whether a regular file is complete and may be read now (see :func:`walk_inputs`)
Ready = Callable[[Path, os.stat_result], bool]


@dataclass(frozen=True)
class WalkLimits:
    """Caps on inputs and archives; operating limits, not reference numbers.

    ``max_file_bytes``: a plain file larger than this is refused by its size
    alone, before it is hashed. ``max_member_bytes`` and
    ``max_archive_bytes``: bytes one member, and all members of one archive
    together (refused ones included), may decompress to. ``max_ratio``: a
    member may expand to more than ``max_ratio`` times its compressed size
    only up to ``ratio_free_bytes`` (a zip bomb is refused early).
    """

    max_member_bytes: int = 512 * 1024 * 1024
    max_archive_bytes: int = 16 * 1024 * 1024 * 1024
    max_members: int = 200_000
    max_file_bytes: int = DEFAULT_OPTIONS.max_file_bytes
    max_ratio: int = 100
    ratio_free_bytes: int = 64 * 1024 * 1024


DEFAULT_LIMITS = WalkLimits()


@dataclass(frozen=True)
class InputItem:
    """One input as the batch sees it.

    ``display`` is the name used in outputs; ``place`` where the input is
    (unique per input, see the module docstring; the ledger's key);
    ``path`` where the bytes are on disk (a temporary file for archive
    members, removed by the caller when ``temporary``); ``problem`` a flag
    code and reason when the item cannot be processed at all (then ``path``
    is None). ``stamp`` (size and mtime, or a member's CRC and sizes) lets
    the ledger skip re-hashing an unchanged input; ``size`` is its size in
    bytes when known.
    """

    display: str
    path: Path | None
    temporary: bool = False
    problem: tuple[FlagCode, str] | None = None
    stamp: str | None = None
    known: bool = False
    place: str = ""
    size: int | None = None


def _shown(path: str | Path) -> str:
    """The name shown for ``path`` in every output: file-name bytes that are not
    UTF-8 become ``\\xNN`` (as :func:`bmdkit.read.display_path`), so odd names
    can be stored, written to UTF-8 outputs and matched on resume."""
    return display_path(path)


def file_place(path: str | Path) -> str:
    """The place of a file or folder: its absolute path bytes, %-encoded (lossless, ASCII)."""
    return "file:" + quote_from_bytes(os.fsencode(os.path.abspath(os.fsencode(path))), safe=_PLACE_SAFE)


def member_place(archive_place: str, stored_name: str, occurrence: int) -> str:
    """The place of a zip member: the archive's place, the exact stored name, and which of that name."""
    name = quote(stored_name, safe=_PLACE_SAFE.replace("!", ""), errors="surrogateescape")
    return f"zip:{archive_place.removeprefix('file:')}!{name}#{occurrence}"


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
    ready: Ready | None = None,
) -> Iterator[InputItem]:
    """Every input file, in a stable order (arguments as given, folders sorted).

    ``known(place, stamp)`` says whether the input at this place was
    already processed with this stamp; such archive members are not
    extracted again (the item comes back with ``known=True`` and no path).
    ``ready(path, stat)``, when given, says whether a regular file is
    complete (``--watch``: a file still being written is not); a file that
    is not ready is left out, unrecorded, for a later walk to find.
    """
    counter = 0
    for item in _files(inputs, ready):
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
            place = file_place(path)
            seen = known is not None and known(place, stamp)
            yield InputItem(display=_shown(path), path=path, stamp=stamp, known=seen, place=place,
                            size=st.st_size)


def _problem(path: Path, code: FlagCode, reason: str) -> InputItem:
    return InputItem(_shown(path), None, problem=(code, reason), place=file_place(path))


def _files(inputs: Iterable[str | Path], ready: Ready | None = None,
           ) -> Iterator[InputItem | tuple[Path, os.stat_result]]:
    for raw in inputs:
        p = Path(raw)
        try:
            st = p.stat()
        except OSError as exc:
            yield _problem(p, FlagCode.UNREADABLE, f"cannot be read ({exc.strerror})")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(p, ready)
        elif stat.S_ISREG(st.st_mode):
            if ready is None or ready(p, st):
                yield p, st
        else:
            yield _problem(p, FlagCode.UNSUPPORTED_KIND, "not a regular file")


def _walk_dir(root: Path, ready: Ready | None = None) -> Iterator[InputItem | tuple[Path, os.stat_result]]:
    """Files under ``root`` (those ``ready`` accepts, when given); a folder that cannot be listed is an
    item of its own (unreadable)."""
    unlisted: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unlisted.append):
        yield from _unlisted(unlisted)
        here = Path(dirpath)
        # symlinked folders are listed in dirnames but not entered: report them
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                yield _problem(here / d, FlagCode.UNSUPPORTED_KIND, "symbolic link not followed")
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            p = here / name
            try:
                st = p.lstat()
            except OSError as exc:
                yield _problem(p, FlagCode.UNREADABLE, f"cannot be read ({exc.strerror})")
                continue
            if stat.S_ISLNK(st.st_mode):
                yield _problem(p, FlagCode.UNSUPPORTED_KIND, "symbolic link not followed")
            elif stat.S_ISREG(st.st_mode):
                if ready is None or ready(p, st):
                    yield p, st
            else:
                yield _problem(p, FlagCode.UNSUPPORTED_KIND, "not a regular file")
    yield from _unlisted(unlisted)


def _unlisted(errors: list[OSError]) -> Iterator[InputItem]:
    """Folders :func:`os.walk` could not list (its ``onerror`` collected them), as failed items."""
    while errors:
        exc = errors.pop(0)
        where = Path(exc.filename) if exc.filename is not None else Path(".")
        yield _problem(where, FlagCode.UNREADABLE,
                       f"folder cannot be listed ({exc.strerror or type(exc).__name__}); "
                       "its files were not read")


def _is_zip(path: Path) -> bool:
    """True when :func:`~bmdkit.detect.sniff` calls the file a zip archive.

    Only a file that starts with a zip's local header can be one, so the
    other files (nearly all) are told apart by their first four bytes.
    """
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != ZIP_LOCAL_HEADER:
                return False
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


class _TooBig(Exception):
    """A member passed a cap while decompressing; ``seen`` bytes were decompressed by then."""

    def __init__(self, seen: int, why: str) -> None:
        super().__init__(why)
        self.seen = seen
        self.why = why


@dataclass
class _ArchiveBudget:
    """Bytes one archive has decompressed so far, refused members' included."""

    limits: WalkLimits
    total: int = 0

    @property
    def spent(self) -> bool:
        return self.total >= self.limits.max_archive_bytes

    def member_cap(self, info: zipfile.ZipInfo) -> tuple[int, str]:
        """The most bytes this member may decompress to, and what that cap is, in words."""
        room = self.limits.max_archive_bytes - self.total
        lim = self.limits
        caps = [(lim.max_member_bytes, f"member exceeds the {lim.max_member_bytes}-byte extraction cap"),
                (room, f"the archive reached its {lim.max_archive_bytes}-byte extraction cap"),
                (max(lim.ratio_free_bytes, lim.max_ratio * info.compress_size),
                 f"member expands more than {lim.max_ratio} times its compressed size (zip bomb guard)")]
        return min(caps, key=lambda c: c[0])


def _zip_members(
    archive: Path, work_dir: Path, limits: WalkLimits, counter: int,
    known: Callable[[str, str], bool] | None,
) -> Iterator[InputItem]:
    aplace = file_place(archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield InputItem(_shown(archive), None, place=aplace,
                        problem=(FlagCode.UNREADABLE, f"zip archive cannot be opened ({type(exc).__name__})"))
        return
    budget = _ArchiveBudget(limits)
    with zf, open(archive, "rb") as raw:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            yield InputItem(_shown(archive), None, place=aplace,
                            problem=(FlagCode.NO_RESULTS, "zip archive holds no files"))
            return
        occurrences: dict[str, int] = {}
        for n, info in enumerate(infos):
            k = occurrences.get(info.filename, 0)
            occurrences[info.filename] = k + 1
            item = _member(raw, info, n, k, archive, aplace, work_dir / f"m{os.getpid()}-{counter + n:07d}",
                           budget, known)
            yield item


def _member(
    raw: Any, info: zipfile.ZipInfo, n: int, occurrence: int, archive: Path, aplace: str, target: Path,
    budget: _ArchiveBudget, known: Callable[[str, str], bool] | None,
) -> InputItem:
    """One member as an input item: extracted under its caps, or refused with the reason."""
    limits = budget.limits
    raw_name = member_display_name(info)
    shown_name = safe_member_name(raw_name)
    display = f"{_shown(archive)}{ARCHIVE_SEP}{shown_name if shown_name else raw_name}"
    place = member_place(aplace, info.filename, occurrence)

    def refused(code: FlagCode, why: str) -> InputItem:
        return InputItem(display, None, problem=(code, why), place=place)

    if n >= limits.max_members:
        return refused(FlagCode.RESOURCE_LIMIT, "archive member count cap reached")
    if shown_name is None:
        return refused(FlagCode.UNSUPPORTED_KIND, "unsafe member path (absolute or '..')")
    if (info.external_attr >> 16) & 0o170000 == stat.S_IFLNK:
        return refused(FlagCode.UNSUPPORTED_KIND, "symbolic link not followed")
    if info.flag_bits & 0x1:
        return refused(FlagCode.UNREADABLE, "encrypted archive member")
    if budget.spent:
        return refused(FlagCode.RESOURCE_LIMIT, f"the archive reached its {limits.max_archive_bytes}-byte "
                                                "extraction cap before this member")
    if info.file_size > limits.max_member_bytes:  # a claim of "too big" is believed; a small claim is not
        return refused(FlagCode.RESOURCE_LIMIT, f"member declares {info.file_size} bytes, over the "
                                                f"{limits.max_member_bytes}-byte extraction cap")
    stamp = f"zip:{info.CRC}:{info.file_size}:{info.compress_size}"
    if known is not None and known(place, stamp):
        return InputItem(display, None, stamp=stamp, known=True, place=place)
    cap, why = budget.member_cap(info)
    try:
        written = _extract(raw, info, target, cap, why)
    except _TooBig as exc:
        target.unlink(missing_ok=True)
        budget.total += exc.seen
        return refused(FlagCode.RESOURCE_LIMIT, exc.why)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, lzma.LZMAError,
            zlib.error) as exc:
        target.unlink(missing_ok=True)
        return refused(FlagCode.UNREADABLE, f"member cannot be extracted ({_why(exc)})")
    budget.total += written
    return InputItem(display, target, temporary=True, stamp=stamp, place=place, size=written)


def _why(exc: Exception) -> str:
    if isinstance(exc, NotImplementedError):
        return str(exc) or "unsupported compression"
    return type(exc).__name__


def _extract(raw: Any, info: zipfile.ZipInfo, target: Path, cap: int, why: str) -> int:
    """Write the member's bytes to ``target``; raise :class:`_TooBig` past ``cap`` bytes."""
    written = 0
    crc = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        for block in member_blocks(raw, info):
            written += len(block)
            if written > cap:
                raise _TooBig(written, why)
            crc = zlib.crc32(block, crc)
            out.write(block)
    if crc != info.CRC:
        raise zipfile.BadZipFile("CRC check failed")
    return written


_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
            zipfile.ZIP_LZMA: "lzma"}


def member_blocks(raw: Any, info: zipfile.ZipInfo, block: int = _CHUNK) -> Iterator[bytes]:
    """A member's decompressed bytes, at most ``block`` bytes per step, from the archive file ``raw``.

    Python's :mod:`zipfile` bounds each read for deflate only (bzip2 and
    LZMA decompress a whole compressed chunk at once, which a few KB can
    turn into gigabytes); here every method gets ``max_length``.
    """
    if info.compress_type not in _METHODS:
        raise NotImplementedError(f"compression method {info.compress_type} is not supported")
    raw.seek(info.header_offset)
    head = raw.read(30)
    if len(head) != 30 or head[:4] != ZIP_LOCAL_HEADER:
        raise zipfile.BadZipFile("bad local file header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size

    def read(n: int) -> bytes:
        nonlocal left
        data = raw.read(min(n, left))
        left -= len(data)
        return data

    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0 and (data := read(block)):
            yield data
        return
    dec = _decompressor(info.compress_type, read)
    while left > 0 and (data := read(_RAW_CHUNK)):
        yield from _bounded(dec, data, block)
        if getattr(dec, "eof", False):
            return
    yield from _bounded(dec, b"", block)


def _decompressor(method: int, read: Callable[[int], bytes]) -> Any:
    if method == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15)
    if method == zipfile.ZIP_BZIP2:
        return bz2.BZ2Decompressor()
    head = read(4)  # LZMA in zip: version (2 bytes), properties size (2 bytes), properties
    if len(head) != 4:
        raise EOFError("truncated LZMA header")
    props = read(struct.unpack("<H", head[2:4])[0])
    filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # type: ignore[attr-defined]
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])


def _bounded(dec: Any, data: bytes, block: int) -> Iterator[bytes]:
    """Feed ``data`` to ``dec``, taking out at most ``block`` bytes per call until it needs input."""
    if isinstance(dec, type(zlib.decompressobj())):
        while True:
            out = dec.decompress(data, block)
            if out:
                yield out
            data = dec.unconsumed_tail
            if not data and len(out) < block:
                return
    while not dec.eof:
        out = dec.decompress(data, block)
        data = b""
        if out:
            yield out
        if dec.needs_input:
            return
