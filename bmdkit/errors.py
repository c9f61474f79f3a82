"""The few exceptions bmdkit raises.

Exceptions are for files that cannot be read at all; a doubtful value is a
:class:`bmdkit.model.Flag`, not an exception. Every exception carries the
input's path and a reason in plain words, and never patient identifiers.
Each maps to the flag code a failed exam carries.
"""

from __future__ import annotations

from bmdkit.flags import FlagCode


class BmdkitError(Exception):
    """Base class: ``path`` and ``reason`` are shown to the user."""

    flag_code: FlagCode = FlagCode.INTERNAL_ERROR

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path}: {reason}" if path else reason)


class UnreadableInput(BmdkitError):
    """The file is corrupt, truncated or otherwise cannot be parsed."""

    flag_code = FlagCode.UNREADABLE


class EmptyInput(UnreadableInput):
    flag_code = FlagCode.EMPTY_FILE


class UnsupportedInput(BmdkitError):
    """The content is of a kind bmdkit does not read."""

    flag_code = FlagCode.UNSUPPORTED_KIND


class NotAScan(BmdkitError):
    """A file that is plainly not a scan or report (notes, data, office documents, DICOMDIR):
    the batch lists it as skipped, not failed."""

    flag_code = FlagCode.NOT_A_SCAN


class NotDXA(BmdkitError):
    """A valid file that is not a bone densitometry exam or report."""

    flag_code = FlagCode.NOT_DXA


class NoResults(BmdkitError):
    """A DXA file with no numeric results (e.g. only the scan image)."""

    flag_code = FlagCode.NO_RESULTS


class NoReader(BmdkitError):
    """No reader exists (yet) for this kind of input."""

    flag_code = FlagCode.NO_READER


class ResourceLimit(BmdkitError):
    """A configured cap (time, memory, pixels, pages, bytes) was reached."""

    flag_code = FlagCode.RESOURCE_LIMIT


class ReferenceDataError(BmdkitError):
    """A reference_data file is missing, malformed or lacks a citation."""


class ConfigError(BmdkitError):
    """A configuration or input table (sites, mapping, fractures) is invalid."""


class ExportError(BmdkitError):
    """An export could not be written or would not validate."""
