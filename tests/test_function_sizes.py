"""Size limits issue 21 set for the report reader: no ``bmdkit/report/`` module over 400 lines,
no function body over 60.

A function's body runs from its first statement (the docstring, if any) to its last line, so the
signature does not count; nested functions and methods are measured too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPORT = Path(__file__).resolve().parents[1] / "bmdkit" / "report"
MAX_MODULE_LINES = 400
MAX_BODY_LINES = 60
MODULES = sorted(REPORT.rglob("*.py"))


def body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement of ``fn``'s body to its last line."""
    assert fn.end_lineno is not None
    return fn.end_lineno - fn.body[0].lineno + 1


def oversize(source: str) -> list[str]:
    """What in ``source`` passes the limits: the module's length, each function body too long."""
    found = []
    n = len(source.splitlines())
    if n > MAX_MODULE_LINES:
        found.append(f"module: {n} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and body_lines(node) > MAX_BODY_LINES:
            found.append(f"{node.name} (line {node.lineno}): body of {body_lines(node)} lines")
    return found


def test_report_package_has_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPORT)))
def test_report_module_sizes(path: Path) -> None:
    found = oversize(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(REPORT.parents[1])} passes the issue-21 limits: " + "; ".join(found)


def test_oversize_counts_bodies_and_modules() -> None:
    short = "def f():\n    return 1\n"
    long_body = "def f():\n" + "    x = 1\n" * MAX_BODY_LINES + "    return x\n"
    assert oversize(short) == []
    assert oversize(long_body) == [f"f (line 1): body of {MAX_BODY_LINES + 1} lines"]
    assert oversize("x = 1\n" * (MAX_MODULE_LINES + 1)) == [f"module: {MAX_MODULE_LINES + 1} lines"]
