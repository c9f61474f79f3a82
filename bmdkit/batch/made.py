"""A file's output pieces, made once where its exam is at hand, and stored with its result.

A batch regenerates its outputs from the ledger at checkpoints and at the end,
over every file the output folder ever held (a folder that grows over months of
deliveries). Made from each stored contract line every time, a file's
``results.csv`` rows cost parsing the line and building its exam again. The
worker that read the file has the exam: it makes the pieces there
(:func:`make`), the batch stores them beside the line, and the outputs take them
as they are whenever the line is shown as it was stored (under the one name it
was made for, no name collision, no reviewer decision: :func:`bmdkit.batch.outputs.write_outputs`).
Otherwise the outputs are made from the line, as before. Pieces made by another
version of bmdkit, or in another format, are not used (:data:`MADE_BY`).

The pieces:

- ``csv``: the file's rows of ``results.csv`` as CSV text, every cell made
  spreadsheet-safe (:func:`~bmdkit.export.results_csv.safe_exam_cells`), the
  regions in the order of the contract object (:func:`in_contract_order`),
  which is the order of an exam read back from its line;
- ``listed``: its row of ``failures.csv`` or ``skipped.csv`` (``listed_in``),
  if it is listed in one (:func:`failure_row`);
- ``outcome``: the line's outcome, for the batch's counts;
- ``visit``: what placing it in a visit and scan type needs (:class:`~bmdkit.merge.Visit`).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from bmdkit import __version__
from bmdkit.batchfolder.cells import join_list
from bmdkit.export.jsonout import in_contract_order
from bmdkit.export.results_csv import safe_exam_cells
from bmdkit.flags import SKIP_CODES
from bmdkit.merge import Visit, visit_of
from bmdkit.model import Exam
from bmdkit.privacy import Redactor

#: the format of the pieces: raise it whenever what they hold or how they are made changes, so
#: pieces stored by the code before are made again from their lines
PIECES_FORMAT = 1
#: what stored pieces must say made them to be used
MADE_BY = f"{__version__}/{PIECES_FORMAT}"


def outcome_of(line: dict[str, Any]) -> str:
    """A line's outcome; a line from before outcomes existed has none, and its status stands in."""
    return str(line.get("outcome") or line["status"])


def listed_in(line: dict[str, Any]) -> str:
    """The list a line is also written to: ``skipped`` (skipped.csv), ``failures`` (failures.csv) or none."""
    if line.get("outcome") == "skipped":
        return "skipped"
    return "failures" if line["status"] == "failed" else ""


def failure_row(d: dict[str, Any]) -> dict[str, str]:
    """A failed (or skipped) file's row: its error flags, or the flags that made it skipped.

    The reasons have the file's own patient identifiers masked (a message may quote a row
    label that holds the name); ``seen_as`` lists the names with :func:`join_list`, so a
    name holding ``;`` stays one name.
    """
    skip_codes = {c.value for c in SKIP_CODES}
    errors = ([f for f in d["flags"] if f.get("severity") == "error"]
              or [f for f in d["flags"] if f["code"] in skip_codes])
    redact = Redactor.for_contract(d.get("patient")).text
    return {
        "path": d["source"]["path"],
        "sha256": d["source"]["sha256"],
        "kind": d["source"]["kind"],
        "flag_codes": ";".join(dict.fromkeys(f["code"] for f in errors)),
        "reasons": redact("; ".join(f["message"] for f in errors)) or "no values found",
        "seen_as": join_list(d["source"].get("seen_as", [])),
    }


def csv_text(exam: Exam) -> str:
    """``exam``'s rows of results.csv as written there (cells made safe, regions in contract order)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(safe_exam_cells(in_contract_order(exam)))
    return buf.getvalue()


@dataclass(frozen=True)
class Made:
    """A file's output pieces (see the module docstring), made for its line under ``path``."""

    path: str
    csv: str
    listed: dict[str, str] | None
    listed_in: str
    outcome: str
    visit: Visit
    made_by: str = MADE_BY

    def to_json(self) -> str:
        return json.dumps([self.made_by, self.path, self.csv, self.listed, self.listed_in, self.outcome,
                           self.visit.to_json()], ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Made | None:
        """The pieces stored as ``text``, or None when there are none, or they are not this version's."""
        if not text:
            return None
        try:
            v = json.loads(text)
            if v[0] != MADE_BY:
                return None
            return cls(str(v[1]), str(v[2]), v[3], str(v[4]), str(v[5]), Visit.from_json(v[6]), str(v[0]))
        except (ValueError, TypeError, IndexError, KeyError):
            return None


def make(exam: Exam, line: dict[str, Any]) -> Made:
    """The pieces of ``line``, the contract dict of ``exam`` (as :func:`exam_to_dict` made it)."""
    where = listed_in(line)
    return Made(line["source"]["path"], csv_text(exam), failure_row(line) if where else None, where,
                outcome_of(line), visit_of(exam))
