"""Imports run one way: readers below checks and exports, the CLI on top, no sideways arrows.

Every ``import`` in ``bmdkit/`` (module level or inside a function: a lazy
import is still an arrow) is read with :mod:`ast` and checked against
:data:`RULES`. A rule names who may not import what and why. The few arrows
that still run the wrong way are listed in :data:`KNOWN` with the reason;
the list may only shrink (a known arrow that disappears must be removed
from it, so it cannot hide a new one later).
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READERS = ("bmdkit.report", "bmdkit.dicom", "bmdkit.read", "bmdkit.detect")


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@dataclass(frozen=True)
class Rule:
    """Modules for which ``applies(source)`` holds may not import anything under ``forbidden``."""

    name: str
    applies: Callable[[str], bool]
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule("reader imports an exporter or a check", lambda m: _under(m, *READERS), ("bmdkit.export", "bmdkit.checks"),
         "readers turn files into exams; checks and exports consume exams"),
    Rule("something outside the CLI imports the CLI",
         lambda m: not _under(m, "bmdkit.cli") and m != "bmdkit.__main__", ("bmdkit.cli",),
         "the CLI is the top layer: a command calls the library, never the other way"),
    Rule("a check imports an exporter", lambda m: _under(m, "bmdkit.checks"), ("bmdkit.export",),
         "checks read exams; the batch folder's files are bmdkit.batchfolder's"),
    Rule("review imports an exporter", lambda m: _under(m, "bmdkit.review"), ("bmdkit.export",),
         "the review reads the batch folder through bmdkit.batchfolder"),
    Rule("the batch imports the review", lambda m: _under(m, "bmdkit.batch"), ("bmdkit.review",),
         "the review page sits beside the batch, not under it; decisions are bmdkit.decisions's"),
    Rule("an exporter imports the review", lambda m: _under(m, "bmdkit.export"), ("bmdkit.review",),
         "exports hold back what is in doubt through bmdkit.decisions, not the review page"),
)

#: Arrows that still break a rule, with the reason; (importing module, imported module).
KNOWN: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path) -> str:
    """``bmdkit/report/ocr.py`` -> ``bmdkit.report.ocr``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``path``; relative imports resolved against ``module``.

    ``from bmdkit import reference`` counts as an import of ``bmdkit.reference``
    (and of ``bmdkit``), so a name imported from a package is seen as the module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names if a.name != "*"]
    return found


def violations(root: Path) -> list[tuple[str, str, int, str]]:
    """(importing module, imported module, line, rule) for every arrow that breaks a rule under ``root/bmdkit``."""
    out = []
    for path in sorted((root / "bmdkit").rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        source = module_name(path, root)
        for lineno, target in imports_of(path, source):
            for rule in RULES:
                if rule.applies(source) and _under(target, *rule.forbidden) and not _under(source, *rule.forbidden):
                    out.append((source, target, lineno, rule.name))
    # an import named both as the module and as ``module.name`` is one arrow: keep the module's
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for v in sorted(out, key=lambda v: (v[0], v[2], len(v[1]))):
        if (v[0], v[2], v[3]) not in seen:
            seen.add((v[0], v[2], v[3]))
            unique.append(v)
    return unique


def _known(source: str, target: str) -> bool:
    return any(source == s and _under(target, t) for s, t in KNOWN)


def test_imports_run_one_way() -> None:
    bad = [v for v in violations(ROOT) if not _known(v[0], v[1])]
    assert not bad, "\n".join(f"{s} line {n} imports {t}: {rule}" for s, t, n, rule in bad)


def test_the_known_exceptions_are_still_needed() -> None:
    found = {(s, t) for s, t, _, _ in violations(ROOT)}
    gone = [k for k in KNOWN if not any(s == k[0] and _under(t, k[1]) for s, t in found)]
    assert not gone, f"remove from KNOWN, the arrow is gone: {gone}"


def test_a_wrong_way_import_is_caught(tmp_path: Path) -> None:
    """Inject bad imports into a copy of the package: each is reported with its rule."""
    shutil.copytree(ROOT / "bmdkit", tmp_path / "bmdkit", ignore=shutil.ignore_patterns("__pycache__"))
    assert [v for v in violations(tmp_path) if not _known(v[0], v[1])] == []
    (tmp_path / "bmdkit" / "report" / "sneaky.py").write_text(
        "def f():\n    from bmdkit.checks import spine  # lazy, still an arrow\n")
    (tmp_path / "bmdkit" / "dicom" / "sneaky.py").write_text("from ..export import odm\n")
    (tmp_path / "bmdkit" / "harmonize" / "sneaky.py").write_text("import bmdkit.cli.app\n")
    (tmp_path / "bmdkit" / "checks" / "sneaky.py").write_text("from bmdkit.export.jsonout import exam_from_dict\n")
    (tmp_path / "bmdkit" / "batch" / "sneaky.py").write_text("from bmdkit.review import page\n")
    found = {(s, rule) for s, t, _, rule in violations(tmp_path) if not _known(s, t)}
    assert found == {
        ("bmdkit.report.sneaky", RULES[0].name),
        ("bmdkit.dicom.sneaky", RULES[0].name),
        ("bmdkit.harmonize.sneaky", RULES[1].name),
        ("bmdkit.checks.sneaky", RULES[2].name),
        ("bmdkit.batch.sneaky", RULES[4].name),
    }
