"""Results in vendor XML (Hologic "Image Analysis Data in XML", or any XML in a private element).

The XML's root and element names are unknown (vendor_dicom.md §8), so it is
read by meaning, whatever the schema: every element and attribute name is
classified with :mod:`bmdkit.dicom.words`, and so is what *identifies* an
element: a non-numeric identity attribute (``name="L1"``, ``side="Left"``)
or a non-numeric identity child element (``<Region><Name>L1</Name>
<BMD>0.933</BMD></Region>``, ``<Side>Left</Side>``); the identity names
(Name, Label, Site, Side ...) are ``identity_field`` rows of
``reference_data/dicom_vocabulary.csv``. Meanings flow from parents to
children, so a region named on an ancestor reaches nested measures. A
numeric text or attribute becomes a value when both its region and its
measure are known. Numbers that carry a measure or region word but cannot be
placed are reported with their element paths, never guessed.

Namespaces are ignored (local names), and a UTF-8 BOM or an XML declaration
naming another encoding does not matter: the text is already decoded when it
gets here, so the declaration is dropped before parsing.

Parsing goes through defusedxml (no DTDs, entities or external references)
after a size cap; depth is capped while walking.
"""

from __future__ import annotations

import functools
import re
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from bmdkit import reference
from bmdkit.dicom import words
from bmdkit.dicom.base import parse_number
from bmdkit.dicom.collect import Collector
from bmdkit.errors import ResourceLimit
from bmdkit.model import Method

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


class XmlRejected(ValueError):
    """The XML was refused (hostile constructs, malformed); the reason is in the message."""


def looks_like_xml(text: str) -> bool:
    head = text.lstrip("\ufeff \r\n\t")[:200]
    return head.startswith("<") and ("<?xml" in head or head[1:2].isalpha())


def parse(text: str, max_bytes: int, max_depth: int) -> Element:
    """Parse untrusted XML safely, or raise :class:`XmlRejected` / :class:`ResourceLimit`."""
    if len(text.encode("utf-8", "ignore")) > max_bytes:
        raise ResourceLimit(f"embedded XML larger than the {max_bytes}-byte cap")
    if text.count("<") > max_bytes // 4:
        raise ResourceLimit("embedded XML has too many elements")
    body = _DECLARATION.sub("", text.lstrip("\ufeff \r\n\t"), count=1).lstrip("\ufeff \r\n\t")
    try:
        root = safe_et.fromstring(body.encode("utf-8"), forbid_dtd=True,
                                  forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlRejected(f"hostile XML refused ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - expat's ParseError and friends
        raise XmlRejected(f"malformed XML ({type(exc).__name__}: {str(exc)[:80]})") from None
    if _depth(root, max_depth) > max_depth:
        raise ResourceLimit(f"embedded XML nested deeper than {max_depth} levels")
    return root


def _depth(root: Element, cap: int) -> int:
    stack = [(root, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > cap:
            return deepest
        stack.extend((c, d + 1) for c in node)
    return deepest


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_xml(root: Element, element: str, context: words.Meaning) -> Collector:
    """Values of a parsed XML tree held by DICOM ``element``."""
    col = Collector(Method.DICOM_PRIVATE, "vendor XML")
    _walk(root, context, f"{element} /{_local(root.tag)}", col, 0)
    return col


@functools.lru_cache(maxsize=1)
def _identity_names() -> frozenset[str]:
    """Lower-case names of attributes and child elements that identify an element (vocabulary)."""
    return frozenset(row["word"].lower() for row in reference.table("dicom_vocabulary")
                     if row["kind"] == "identity_field")


def _is_identity(name: str) -> bool:
    low = name.lower()
    return low in _identity_names() or "".join(words.tokens(name)) in _identity_names()


def _identity_child(child: Element) -> str | None:
    """The text of a leaf child that names its parent (``<Name>L1</Name>``), else None."""
    if len(child) or child.attrib and not _is_identity(_local(child.tag)):
        return None
    value = (child.text or "").strip()
    if not value or parse_number(value) is not None or not _is_identity(_local(child.tag)):
        return None
    return value


def _own_meaning(node: Element) -> words.Meaning:
    m = words.meaning(_local(node.tag))
    for key, value in node.attrib.items():
        if parse_number(value) is None and (_is_identity(_local(key)) or words.meaning(value).region):
            m = _combine(m, words.meaning(value))
    for child in node:
        value = _identity_child(child)
        if value is not None:
            m = _combine(m, words.meaning(value))
    return m


def _combine(a: words.Meaning, b: words.Meaning) -> words.Meaning:
    """Both meanings of one node (tag and attribute): b fills and refines a."""
    return b.merged_under(a) if (b.region or b.total or b.side or b.measure or b.context
                                 or b.excluded is not None) else a


def _walk(node: Element, ctx: words.Meaning, path: str, col: Collector, depth: int) -> None:
    own = _own_meaning(node)
    here = own.merged_under(ctx) if not (own.region or own.total) else own.merged_under(
        words.Meaning(context=ctx.context, side=ctx.side, measure=ctx.measure))
    children = list(node)
    text = (node.text or "").strip()
    if not children and text:
        _value(text, own, here, path, col, _unit_attr(node))
    for key, value in node.attrib.items():
        if parse_number(value) is not None:
            am = words.meaning(_local(key))
            _value(value, am, am.merged_under(here), f"{path}/@{_local(key)}", col)
    counts: dict[str, int] = {}
    for child in children:
        if _identity_child(child) is not None:
            continue  # already part of this element's meaning
        name = _local(child.tag)
        counts[name] = counts.get(name, 0) + 1
        _walk(child, here, f"{path}/{name}[{counts[name]}]", col, depth + 1)


def _unit_attr(node: Element) -> str | None:
    for key, value in node.attrib.items():
        if _local(key).lower() in ("unit", "units", "uom"):
            return value
    return None


def _value(raw: str, own: words.Meaning, full: words.Meaning, path: str, col: Collector,
           unit: str | None = None) -> None:
    """A leaf: a number to place, or a yes/no that includes/excludes a vertebra."""
    if own.excluded is not None:
        flag = words.boolean(raw)
        vertebra = full.region
        if flag is not None and vertebra is not None and vertebra.is_vertebra:
            col.mark(vertebra, own.excluded if flag else not own.excluded, path)
        return
    value = parse_number(raw)
    if value is None:
        return
    measure = full.measure
    region = words.resolve_region(full)
    if measure == "percent" or full.diff:
        return
    if measure is None or region is None:
        if measure is not None or own.region is not None:
            col.unplaced_value(f"{path}")
        return
    unit_says = words.unit_measure(unit) if unit else None
    if unit_says is not None and unit_says != measure and {unit_says, measure} != {"t_score", "z_score"}:
        col.unplaced_value(f"{path} (unit {unit!r} does not fit {measure})")
        return
    side = full.side if region.is_hip else None
    col.add(region, side, measure, value, path, raw=raw, label=None, vertebrae=full.vertebrae)


def numeric_paths(root: Element, element: str) -> list[str]:
    """Paths of every numeric text or attribute in the tree (for 'not understood' reasons)."""
    out: list[str] = []
    stack = [(root, f"{element} /{_local(root.tag)}")]
    while stack and len(out) < 50:
        node, path = stack.pop()
        if not len(node) and parse_number((node.text or "").strip()) is not None:
            out.append(path)
        out.extend(f"{path}/@{_local(k)}" for k, v in node.attrib.items() if parse_number(v) is not None)
        counts: dict[str, int] = {}
        kids = []
        for child in node:
            name = _local(child.tag)
            counts[name] = counts.get(name, 0) + 1
            kids.append((child, f"{path}/{name}[{counts[name]}]"))
        stack.extend(reversed(kids))
    return out
