"""Who a report page is about: patient identifiers and the institution, from page text lines.

A report's header prints ``Label: value`` pairs, several to a line once a
page's words are joined into lines ("Name: Zhou, Lihua  Sex: Female  Scan
Date: …"; "姓名: 赵凤英 性别: 女 年龄: 76岁"). Every known header label on a
line is located (label words: ``reference_data/report_labels.csv``, kinds
``patient_label``, ``sex_value``, ``institution_word``); a patient field's
value is the text after its label up to the next label (known, or any
``Word:``) on the same line. The colon is optional ("Patient ID B123").

The hospital patient ID is what maps a page to a trial subject, so it is
taken as printed (no character "fixing"); when a page prints none of the
patient-ID labels, an outpatient / inpatient / exam number stands in (in
that order) and every such number is also kept in ``PatientIdentity.other``.
The institution is the hospital named on the first title lines of a page.

Identifiers are returned only inside :class:`PatientIdentity` (whose repr is
redacted); nothing here logs them or puts them in a message.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

from bmdkit import reference
from bmdkit.model import PatientIdentity
from bmdkit.report import exam_facts

#: lines of a page, from the top, in which the institution's title line is looked for
#: (operating setting: a title sits above the header fields and results table)
TOP_LINES = 8

#: ID labels in the order they are used as the patient ID (the first one printed wins)
ID_KEYS = ("patient_id", "outpatient_no", "inpatient_no", "exam_no")

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_CJK_PAIR = re.compile(rf"(?<=[{_CJK}])(?=[{_CJK}])")
_WORD_COLON = re.compile(r"(?:(?<=\s)|^)[^\s:]{1,24}:(?=\s|$)")
_LEAD = re.compile(r"^[\s:：.\-#=]+")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/]{1,39}")
_NAME_OK = re.compile(rf"^[A-Za-z{_CJK}][A-Za-z{_CJK}\s,.'\-^·•]{{0,63}}$")


@functools.cache
def _rows(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Patterns of ``kind``; an OCR space may sit between any two CJK characters of a label."""
    return tuple((r["key"], re.compile(_CJK_PAIR.sub(r"\\s*", r["pattern"]), re.IGNORECASE))
                 for r in reference.table("report_labels") if r["kind"] == kind)


_LOOKBEHIND = re.compile(r"\(\?<![^)]*\)")


@functools.cache
def _glued(kind: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The patterns without their word-start guard, for labels OCR glued to the word before."""
    return tuple((k, re.compile(_LOOKBEHIND.sub("", p.pattern), re.IGNORECASE)) for k, p in _rows(kind))


def _glued_ok(line: str, start: int, end: int) -> bool:
    """A label glued to the text before it ('MaGuilanPatientID:', '58ID:') counts only when a
    colon follows it and its first letter starts a word (capital, or after a non-letter)."""
    if not re.match(r"\s*:", line[end:]):
        return False
    return start == 0 or not line[start - 1].isalpha() or line[start].isupper()


def clean_line(line: str) -> str:
    """NFKC (full-width colons and letters to ASCII), runs of spaces folded."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", line)).strip()


@dataclass(frozen=True)
class _Label:
    key: str
    start: int
    end: int


def labels_in(line: str) -> list[_Label]:
    """Known header labels on a cleaned line, left to right; where two overlap, the one
    starting first (then the longer) wins, so 'Patient ID' beats 'ID' and
    'Physician Name' beats 'Name'."""
    found = [_Label(key, m.start(), m.end()) for key, pat in _rows("patient_label")
             for m in pat.finditer(line) if m.end() > m.start()]
    for key, pat in _glued("patient_label"):
        for m in pat.finditer(line):
            if m.end() > m.start() and _glued_ok(line, m.start(), m.end()):
                found.append(_Label(key, m.start(), m.end()))
    found.sort(key=lambda f: (f.start, f.start - f.end))
    out: list[_Label] = []
    for f in found:
        if not out or f.start >= out[-1].end:
            out.append(f)
    return out


def field_values(line: str) -> list[tuple[str, str]]:
    """(label key, raw value text) for each known label on a cleaned line."""
    labs = labels_in(line)
    out: list[tuple[str, str]] = []
    for i, lab in enumerate(labs):
        stop = labs[i + 1].start if i + 1 < len(labs) else len(line)
        rest = line[lab.end:stop]
        m = _LEAD.match(rest)
        if m:
            rest = rest[m.end():]
        elif rest and not rest[0].isspace() and not re.match(rf"[{_CJK}]", line[lab.end - 1]):
            continue  # 'Sexual', 'Identity': a label word inside a longer word
        generic = _WORD_COLON.search(rest)
        if generic:
            rest = rest[:generic.start()]
        out.append((lab.key, rest.strip()))
    return out


def parse_name(raw: str) -> str | None:
    """The name as printed ('Zhou, Lihua', '赵凤英'), or None if the text is no name."""
    words = raw.split()
    for i, w in enumerate(words):
        if any(c.isdigit() for c in w):  # a glued ID, age or date ends the name
            words = words[:i]
            break
    if words and re.match(rf"[{_CJK}]", words[0]):
        # a Chinese name is one run of characters; OCR may space them out ('赵 凤 英'),
        # but a run of two or more is the whole name ('赵凤英 男' : the sex, unlabelled)
        if len(words[0]) == 1:
            singles = [w for w in words[:4] if len(w) == 1]
            n = next((i for i, w in enumerate(words) if len(w) != 1), len(words))
            words = ["".join(words[:min(n, 4)])] if len(singles) >= 2 else words[:1]
        else:
            words = words[:1]
    t = " ".join(words).strip(" ,;|/")
    if not t or not _NAME_OK.match(t) or not any(c.isalpha() for c in t):
        return None
    return t


def parse_id(raw: str) -> str | None:
    """The first token of the value if it looks like an identifier (two digits or more)."""
    m = _ID.match(raw.strip())
    if not m:
        return None
    tok = m.group(0).rstrip("-_/")
    return tok if sum(c.isdigit() for c in tok) >= 2 else None


def parse_sex(raw: str) -> str | None:
    """'F' or 'M' (DICOM PatientSex codes) from the first word of the value."""
    first = raw.strip().split(" ")[0].strip(".,;") if raw.strip() else ""
    if not first:
        return None
    for key, pat in _rows("sex_value"):
        if pat.match(first.lower()):
            return key
    # CJK glued to what follows ('女76岁' when the age label was not printed)
    for key, pat in _rows("sex_value"):
        if re.search(rf"[{_CJK}]", first[:1]) and pat.match(first[:1]):
            return key
    return None


def parse_birth_date(raw: str, page_lines: list[str]) -> dt.date | None:
    """The birth date; a slash date that reads both ways is settled by the page's other
    dates, else left out (a guessed birth date is worse than none)."""
    found = exam_facts.dates_in(raw)
    if not found:
        return None
    text, cands, style = found[0]
    if len(cands) == 1:
        return cands[0]
    orders = exam_facts.slash_orders(page_lines)
    if len(orders) != 1 or style != "slash":
        return None
    a, b = (int(x) for x in re.findall(r"\d+", text)[:2])
    month, day = (a, b) if "mdy" in orders else (b, a)
    return next((d for d in cands if (d.month, d.day) == (month, day)), None)


def find_institution(lines: list[str]) -> str | None:
    """The hospital named on one of the page's first lines, or None."""
    for line in lines[:TOP_LINES]:
        text = _CJK_GAP.sub("", clean_line(line))
        if any(f[0] in ("name", "patient_id", "sex", "birth_date") for f in field_values(text)):
            continue  # a header field line ('Hospital No.: …' is an ID, not a title)
        hits = [m for key, pat in _rows("institution_word") if key == "institution" for m in pat.finditer(text)]
        if not hits:
            continue
        end = max(m.end() for m in hits)
        cjk = [m for m in hits if re.match(rf"[{_CJK}]", m.group(0))]
        if cjk:
            # the run of non-space characters that ends with the last hospital word
            last = max(cjk, key=lambda m: m.end())
            start = text.rfind(" ", 0, last.start()) + 1
            name = text[start:last.end()]
        else:
            name = _english_institution(text, max(m.start() for m in hits), end)
        name = name.strip(" ,;:|-")
        if len(name) >= 2:
            return name
    return None


def _english_institution(text: str, last: int, end: int) -> str:
    """'The First Affiliated Hospital of X University' from a title line: the words up to
    the hospital word, the 'of …' capitalised words after it, without a department before it."""
    tail = re.match(r"(\s+(of|and|the|&|[A-Z][\w'.\-]*))+", text[end:])
    if tail and re.match(r"\s+of\s", text[end:]):
        end += tail.end()
    start = 0
    sep = max(text.rfind(s, 0, last) for s in (",", "|", " - ", "–", "—", ";", ":"))
    if sep >= 0:
        start = sep + 1
    for _, pat in (r for r in _rows("institution_word") if r[0] == "affix"):
        m = pat.match(text[start:].lstrip())
        if m:  # 'Radiology Department XYZ Hospital'
            start = text.find(m.group(0), start) + len(m.group(0))
    words = text[start:end].split()
    while words and words[0][:1].islower() and words[0].lower() not in ("the",):
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class PageIdentity:
    """What one page says about who it is about."""

    identity: PatientIdentity
    institution: str | None


def read_page(lines: list[str]) -> PageIdentity:
    """Patient identifiers and institution from one page's text lines (top to bottom)."""
    name = sex = None
    birth: dt.date | None = None
    ids: dict[str, str] = {}
    for line in lines:
        for key, raw in field_values(clean_line(line)):
            if not raw:
                continue
            if key == "name" and name is None:
                name = parse_name(raw)
            elif key in ID_KEYS and key not in ids:
                pid = parse_id(raw)
                if pid:
                    ids[key] = pid
            elif key == "sex" and sex is None:
                sex = parse_sex(raw)
            elif key == "birth_date" and birth is None:
                birth = parse_birth_date(raw, lines)
    pid = next((ids[k] for k in ID_KEYS if k in ids), None)
    other = {k: v for k, v in ids.items() if k != "patient_id"}
    ident = PatientIdentity(name=name, patient_id=pid, birth_date=birth, sex=sex, other=other)
    return PageIdentity(ident, find_institution(lines))


@dataclass(frozen=True)
class ReportIdentity:
    """The identity a report's pages give, merged (first page that prints a field wins)."""

    identity: PatientIdentity | None
    institution: str | None
    #: pages print different patient IDs (pages of two patients in one file?)
    ids_disagree: bool = False


def read_pages(pages: list[list[str]]) -> ReportIdentity:
    """Merge the identity of each page (lines per page, in page order)."""
    found = [read_page(lines) for lines in pages]
    if not found:
        return ReportIdentity(None, None)

    def first(attr: str) -> object:
        return next((getattr(p.identity, attr) for p in found if getattr(p.identity, attr)), None)

    other: dict[str, str] = {}
    for p in found:
        for k, v in p.identity.other.items():
            other.setdefault(k, v)
    ident = PatientIdentity(name=first("name"), patient_id=first("patient_id"),  # type: ignore[arg-type]
                            birth_date=first("birth_date"), sex=first("sex"), other=other)  # type: ignore[arg-type]
    pids = {p.identity.patient_id for p in found if p.identity.patient_id}
    inst = next((p.institution for p in found if p.institution), None)
    return ReportIdentity(None if ident.is_empty() else ident, inst, len(pids) > 1)
