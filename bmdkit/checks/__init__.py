"""Checks run on every exam after reading: evaluability, plausibility, consistency.

:func:`apply_all` is what :mod:`bmdkit.pipeline` calls. It adds flags and a
computed spine total and writes each vertebra's ``evaluable`` decision; it
never changes a value that was read, with one exception that runs first: two
measures of one row read from the same ink on the page are withdrawn and
flagged (:mod:`.cells`), since at most one of them is what the page prints. It is total (an odd or failed exam
passes through; an unexpected bug becomes a review flag, not an exception)
and idempotent (running it twice adds nothing the second time).

Trial-level functions built on the same rules live beside it:
:mod:`.eligibility` (inclusion 5 and 6) and :mod:`.change` (follow-up).
"""

from __future__ import annotations

import logging

from bmdkit.checks.cells import withdraw_shared
from bmdkit.checks.consistency import check_consistency
from bmdkit.checks.evaluability import apply_evaluation, evaluate
from bmdkit.checks.plausibility import check_plausibility
from bmdkit.checks.settings import CheckSettings, default_settings
from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Exam, Flag

__all__ = ["CheckSettings", "apply_all", "default_settings"]

log = logging.getLogger(__name__)


def _about(f: Flag) -> frozenset[str] | None:
    """The measures a flag is about: its one measure, its ``measures``, or ``None`` for the whole row."""
    if f.measure is not None:
        return frozenset((f.measure,))
    return frozenset(f.measures) if f.measures else None


def _merge_flags(exam: Exam, new: list[Flag]) -> Exam:
    """Add ``new`` flags except those an exam's flag of the same code already covers: the same
    region, its side the same or not named, and every value the new flag is about among those
    the flag it has is about (a flag naming no measure is about the whole row)."""
    have = list(exam.flags)

    def covered(f: Flag) -> bool:
        mine = _about(f)
        for g in have:
            if g.code is f.code and g.region == f.region and g.side in (None, f.side):
                theirs = _about(g)
                if theirs is None or (mine is not None and mine <= theirs):
                    return True
        return False

    return exam.with_flags(f for f in new if not covered(f))


def apply_all(exam: Exam, settings: CheckSettings | None = None) -> Exam:
    """Run every per-exam check on ``exam`` and return the checked exam."""
    if not exam.regions:
        return exam
    try:
        s = settings or default_settings()
        exam, withdrawn = withdraw_shared(exam)
        ev = evaluate(exam, s)
        checked = apply_evaluation(exam, ev)
        flags = [*withdrawn, *ev.flags, *check_plausibility(checked, s), *check_consistency(checked, s)]
        return _merge_flags(checked, flags)
    except Exception as exc:
        log.exception("checks failed on %s", exam.source.sha256[:12])
        return exam.with_flags([Flag(
            FlagCode.INTERNAL_ERROR,
            f"the checks could not run ({type(exc).__name__}); values are unchecked",
            severity=Severity.REVIEW,
        )])
