"""The flags on values read: each names its region, side and measure and says what to check.

Engines that read different numbers: ENGINE_DISAGREEMENT; one engine's reading
no other confirms, a repaired or unreadable cell, a low confidence:
LOW_CONFIDENCE; a cell holding ink that nothing read: REGION_NOT_READ; a blank
cell or a placeholder dash: MISSING_VALUE (information). A value other cells
of the table settled (BMD = BMC / area, a Mean row the mean of its sides) or a
closer look settled is a note saying how. A row placed by a second reading of
its label, or by the nearest label word both engines' readings agree on, is
noted; by one engine's nearest label word, flagged (LABEL_UNCERTAIN). Engines
that differed only on a score's sign are settled, as a note, where the site's
other rows fit only the sign kept, or fit it and a second witness (a closer
look, the cell's pixels) backs it (:func:`settle_signs`); the page-wide
low-confidence flag becomes a note where every doubtful value has a flag of
its own (:func:`scope_page_flags`). The row's young-adult or age-matched
percent, both engines reading it alike, witnesses a disputed sign
(:mod:`bmdkit.report.percents`): one that fits only the sign kept settles it
as a note, one that fits only the other keeps it for review and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bmdkit.flags import FlagCode, Severity
from bmdkit.model import Flag, Region, RegionResult, Side
from bmdkit.report import crosscheck, ink, percents, vote, words
from bmdkit.report.cells import Row, Table
from bmdkit.report.reading import PageResult
from bmdkit.report.repairs import NEVER_NEGATIVE

#: a score named by region, side and measure
SignKey = tuple[Region, Side | None, str]

#: the witness of a sign dispute that is the cell's own pixels (vote.Reading.minus_in_print)
IN_PRINT = "print"


class SignDispute(NamedTuple):
    """A score the engines read alike but for the sign: its review flag, and the engine whose
    closer look at the cell alone read the value kept (vote.third_look), or ``IN_PRINT`` where
    the cell's pixels show the minus kept (vote.Reading.minus_in_print); "" if neither; and the
    row's matching percent cell as read (percents.witnesses), None where none was read."""

    flag: Flag
    third: str
    percent: percents.PercentWitness | None = None


def value_flags(region: RegionResult, rds: dict[str, vote.Reading], columns: set[str],
                 unprinted: dict[str, str] | None = None,
                 sign_disputes: dict[SignKey, SignDispute] | None = None,
                 witnesses: dict[str, percents.PercentWitness] | None = None) -> list[Flag]:
    """Flags for one region's readings, each naming its region, side and measure, in plain words.

    Engines that read different numbers: ENGINE_DISAGREEMENT; one engine's reading
    that no other confirms, a repaired or unreadable cell, a low confidence:
    LOW_CONFIDENCE; a cell holding ink that nothing read: REGION_NOT_READ. A cell
    blank on the page or a placeholder dash is information (MISSING_VALUE), not
    a review item. A score whose sign alone is disputed goes into ``sign_disputes`` with its
    percent witness from ``witnesses`` (by measure; see :func:`settle_signs`).
    """
    flags: list[Flag] = []
    unprinted = unprinted or {}
    where = words.place(region.region, region.side, region.label)
    code, side = region.region.value, region.side

    def flag(c: FlagCode, m: str, msg: str, severity: Severity | None = None) -> Flag:
        return Flag(c, words.opening(msg), region=code, side=side, measure=m, severity=severity)

    for m, rd in rds.items():
        what = f"the {words.measure_word(m)} of {where}"
        read = rd.values_read
        repair = f" ({rd.repair})" if rd.repair else ""
        settled = _rechecked(rd, m, what, flag)
        if settled is not None:
            flags.append(settled)
            continue
        if rd.disagreement and len(read) >= 2:
            others = ", ".join(read[1:])
            flags.append(flag(FlagCode.ENGINE_DISAGREEMENT, m,
                              f"the two OCR engines read {what} differently: {read[0]} and {others}; "
                              f"{words.value_text(rd.value)} was kept{repair}: check it on the page"))
            if sign_disputes is not None and percents.sign_in_dispute(rd, m):
                sign_disputes[(region.region, side, m)] = SignDispute(
                    flags[-1], rd.third or (IN_PRINT if rd.minus_in_print else ""), (witnesses or {}).get(m))
        elif rd.value is None and not rd.blank:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} could not be read "
                              f"(read as {rd.raw.strip()!r}): enter it from the page" if rd.raw.strip() else
                              f"{what} could not be read: enter it from the page"))
        elif rd.value is not None and rd.disagreement:
            dropped = " without its minus (it cannot be negative)" if m in NEVER_NEGATIVE and "-" in rd.raw else ""
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} was read as {words.value_text(rd.value)}"
                              f"{dropped}{repair}: check it on the page"))
        elif rd.value is not None and rd.single:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"only one of the two OCR engines could read {what} "
                              f"({words.value_text(None, rd.raw)}): check it on the page"))
        elif rd.value is not None and rd.conf < vote.MIN_CONFIDENCE:
            flags.append(flag(FlagCode.LOW_CONFIDENCE, m, f"{what} was read as {words.value_text(None, rd.raw)} "
                              f"with low confidence ({rd.conf:.2f}): check it on the page"))
    if region.region.in_contract:
        flags += _unprinted_flags(where, rds, columns, unprinted, flag)
    return flags


def _rechecked(rd: vote.Reading, m: str, what: str, flag: Callable[..., Flag]) -> Flag | None:
    """The flag of a value read again after its first reading: impossible still (a misread),
    re-read on its crop (repairs.recheck_implausible), or a disagreement a closer look settled;
    None for any other reading."""
    read = rd.values_read
    if rd.misread:
        return flag(FlagCode.OUT_OF_RANGE, m, f"{what} was read as {words.value_text(rd.value, rd.raw)}, "
                   f"outside any plausible {words.measure_word(m)} for this region, and reading its "
                   f"cell again gave no plausible value ({rd.reread}): a misread, not anatomy; "
                   "enter it from the page")
    if rd.reread and rd.value is not None:
        # a value outside its plausible range, read again on its crop (repairs.recheck_implausible)
        settled = not rd.disagreement and rd.conf >= vote.MIN_CONFIDENCE
        return flag(FlagCode.LOW_CONFIDENCE, m, f"{what} was {rd.repair}" + (
            ", as kept" if settled else ": check it on the page"),
            severity=Severity.INFO if settled else None)
    if rd.settled and rd.value is not None and len(read) >= 2:
        # engines that read the cell differently, settled by a closer look (vote.confirm_by_closer_look)
        # or by other cells of the table (repairs.confirm_by_ratio, repairs.confirm_by_mean)
        return flag(FlagCode.ENGINE_DISAGREEMENT, m,
                   f"the two OCR engines first read {what} differently: {read[0]} and "
                   f"{', '.join(read[1:])}; {rd.settled}", severity=Severity.INFO)
    if rd.settled and rd.value is not None:
        # one engine alone read it, settled by other cells of the table
        return flag(FlagCode.LOW_CONFIDENCE, m, f"only one of the two OCR engines could read {what} "
                   f"({words.value_text(None, rd.raw)}); {rd.settled}", severity=Severity.INFO)
    return None


def _unprinted_flags(where: str, rds: dict[str, vote.Reading], columns: set[str], unprinted: dict[str, str],
                     flag: Callable[..., Flag]) -> list[Flag]:
    """Why a contract row's BMD or T-score has no value: blank or a dash on the page (information),
    a column whose cell holds ink nothing read (review), or no such column in the table."""
    flags: list[Flag] = []
    for m in ("bmd", "t_score"):
        what = f"the {words.measure_word(m)} of {where}"
        if m not in rds and m in columns and m in unprinted:
            how = "is blank" if unprinted[m] == ink.BLANK else "holds only a dash"
            flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (its cell {how})"))
        elif m not in rds and m in columns:
            flags.append(flag(FlagCode.REGION_NOT_READ, m, f"the table has a {words.measure_word(m)} column "
                              f"and its cell for {where} holds print that could not be read: "
                              "enter it from the page"))
        elif m not in rds:
            flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (the table has no such column)"))
        elif rds[m].blank:
            flags.append(flag(FlagCode.MISSING_VALUE, m, f"{what} is not printed (a dash)"))
    return flags


def label_flags(rr: RegionResult, row: Row, tab: Table, pno: int) -> list[Flag]:
    """Flags on how a row's values were placed: its label (:func:`row_label_flags`), and the
    values it holds in columns whose header was taken from the nearest header word (those
    values only: the columns named by headers read exactly are not in doubt)."""
    flags = row_label_flags(rr, row, tab, pno)
    guessed = tuple(sorted(m for m, how in tab.reread_columns.items() if how == "approximate"
                           and rr.value(m) is not None))
    if guessed:
        what = " and ".join(f"the {words.measure_word(m)}" for m in guessed)
        flags.append(Flag(FlagCode.LABEL_UNCERTAIN,
                          f"Page {pno}: {what} of {words.place(rr.region, rr.side)} were taken from a column "
                          "whose header was misread and named by the nearest header word: check on the page "
                          "that the column holds this measure",
                          region=rr.region.value, side=rr.side, measure=guessed[0] if len(guessed) == 1 else None,
                          measures=guessed if len(guessed) > 1 else ()))
    return flags


def row_label_flags(rr: RegionResult, row: Row, tab: Table, pno: int) -> list[Flag]:
    """A row placed by a second reading of its label, or by the nearest label word both engines'
    readings of it agree on, is noted; one placed by one engine's nearest label word, or whose
    side is that of a misread heading, is flagged (its region and side only)."""
    where = words.place(rr.region, rr.side)
    if row.side is None and tab.heading_approx and rr.side is not None:
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the values taken as {where} get their side from a "
                     "table heading that was misread or printed away from the table: check the side on the page",
                     region=rr.region.value, side=rr.side)]
    if row.label_read == "approximate":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: a row label read as {row.label!r} was taken as "
                     f"{where}: check that this row is {where}",
                     region=rr.region.value, side=rr.side)]
    if row.label_read == "reread":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the row label of {where} was read on a second look",
                     region=rr.region.value, side=rr.side, severity=Severity.INFO)]
    if row.label_read == "paired":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the row label of {where} was misread "
                     f"({row.label!r}); the table's other rows of this region leave only {where}",
                     region=rr.region.value, side=rr.side, severity=Severity.INFO)]
    if row.label_read == "agreed":
        return [Flag(FlagCode.LABEL_UNCERTAIN, f"Page {pno}: the row label of {where} was misread "
                     f"({row.label!r}); both OCR engines' readings of it on a second look come nearest to {where}",
                     region=rr.region.value, side=rr.side, severity=Severity.INFO)]
    return []


def settle_signs(regions: list[RegionResult], flags: list[Flag],
                 disputes: dict[SignKey, SignDispute]) -> list[Flag]:
    """Engines that differed only on a score's sign: the review flag becomes a note where the
    site's other rows show which sign is right (crosscheck.confirm_signs), or where a closer
    look at the cell alone by the other engine read the value kept (vote.third_look: two
    engines agree), or the cell's pixels show the minus kept (vote.Reading.minus_in_print: an
    engine and the print agree), and the site's rows fit it (crosscheck.sign_fits), or where the
    row's young-adult (T) or age-matched (Z) percent, both engines reading it alike, fits only
    the sign kept (percents.FITS), or, for a T-score, where its own row's BMD allows only the
    sign kept under any plausible young-adult reference (crosscheck.sign_by_reference: a one-hip
    page has no other row to witness). A percent that fits only the other sign
    (percents.CONTRADICTS) keeps the flag for review whatever else witnesses, and says so."""
    if not disputes:
        return flags
    against = {k for k, d in disputes.items() if d.percent is not None and d.percent.verdict == percents.CONTRADICTS}
    confirmed = crosscheck.confirm_signs(regions, set(disputes)) - against
    seconded = {k for k, (_, third, _) in disputes.items()
                if third and k not in confirmed | against and crosscheck.sign_fits(regions, k)}
    by_percent = {k for k, d in disputes.items() if d.percent is not None and d.percent.verdict == percents.FITS
                  and k not in confirmed | seconded}
    by_row = {(r.region, r.side): r for r in regions}
    referenced = {k for k in disputes if k[2] == "t_score" and k not in confirmed | seconded | by_percent | against
                  and (r := by_row.get(k[:2])) is not None and crosscheck.sign_by_reference(r)}
    done = {id(disputes[k].flag): k for k in confirmed | seconded | by_percent | referenced | against}
    if not done:
        return flags
    out = []
    for f in flags:
        key = done.get(id(f))
        if key is None:
            out.append(f)
            continue
        r = next(r for r in regions if (r.region, r.side) == key[:2])
        what = f"the {words.measure_word(key[2])} of {words.place(r.region, r.side, r.label)}"
        kept = r.value(key[2])
        witness = disputes[key].percent
        if key in against and witness is not None and kept is not None:
            out.append(Flag(f.code, f"{f.message}; {witness.says(kept)}", region=f.region, side=f.side,
                            measure=f.measure, severity=f.severity))
            continue
        if key in confirmed:
            msg = (f"The two OCR engines read {what} with different signs; the other rows of this "
                   f"site fit only {kept:g}, which was kept")
        elif key in by_percent and witness is not None and kept is not None:
            msg = f"The two OCR engines read {what} with different signs; {witness.says(kept)}, which was kept"
        elif key in referenced:
            msg = (f"The two OCR engines read {what} with different signs; with its BMD {r.bmd:g}, only "
                   f"{kept:g} fits any plausible young-adult reference (mean and SD), which was kept")
        elif disputes[key].third == IN_PRINT:
            msg = (f"The two OCR engines read {what} with different signs; the cell's print shows a minus "
                   f"before its digits, as kept ({kept:g}), and the other rows of this site fit it")
        else:
            msg = (f"The two OCR engines first read {what} with different signs; {disputes[key].third} read "
                   f"the cell alone as {kept:g}, as kept, and the other rows of this site fit it")
        out.append(Flag(f.code, msg, region=f.region, side=f.side, measure=f.measure, severity=Severity.INFO))
    return out


def scope_page_flags(results: list[PageResult], regions: list[RegionResult], flags: list[Flag]) -> list[Flag]:
    """A page-wide image flag ("values read with low confidence", "page ... is blurred") adds
    nothing where every doubtful value of the page (a confidence below vote.MIN_CONFIDENCE:
    not read alike by both engines) already carries a flag of its own (a review flag, or a
    note saying how its doubt was settled): it becomes a note then. Where one doubtful value
    has no flag of its own, the page-wide flag stays for review. Rows the page holds but whose
    values were not read are flagged on their own (UNPLACED_DATA, REGION_NOT_READ), whatever
    becomes of these."""
    out = list(flags)
    own = [f for f in flags if f.region is not None and (f.measure is not None or f.measures)]
    for res in results:
        pno = res.page
        # the page-wide image flags of this page: low confidence, and a blurred image (pageimage)
        page_wide = [f for f in res.flags if (res.rows or res.sentence_lines) and f is not res.low_conf and f.code is FlagCode.PAGE_QUALITY
                     and f.region is None and f.level is Severity.REVIEW]
        if res.low_conf is not None:
            page_wide.append(res.low_conf)
        if not page_wide:
            continue
        doubtful = [(r, m) for r in regions for m, src in r.sources.items()
                    if src.location is not None and src.location.page == pno
                    and (src.confidence is None or src.confidence < vote.MIN_CONFIDENCE)]
        if not all(any(f.covers(r.region.value, r.side, m) for f in own) for r, m in doubtful):
            continue
        for pf in page_wide:
            k = next((i for i, f in enumerate(out) if f is pf), None)
            if k is not None:
                out[k] = Flag(FlagCode.PAGE_QUALITY, f"{pf.message}; each doubtful value is flagged on its own",
                              severity=Severity.INFO)
    return out
