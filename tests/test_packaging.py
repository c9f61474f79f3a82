"""Every third-party module bmdkit imports is declared, and where.

A fresh ``pip install .`` gets only what ``pyproject.toml`` declares. A
module imported but not declared works on a developer's machine (where the
test extras happen to pull it in) and breaks on a user's: this test walks
every import in ``bmdkit/`` and maps it to the distribution that provides
it. Runtime modules may import only runtime dependencies; a module named in
:data:`EXTRA_MODULES` may import its extra's packages as well.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: modules that belong to an optional extra: they may import that extra's packages
EXTRA_MODULES: dict[str, str] = {
    "bmdkit/batch/dask_runner.py": "dask",
}


@dataclass(frozen=True)
class Undeclared:
    """One import that a fresh install would not satisfy."""

    module: str  # the file, relative to the project root
    name: str  # the top-level module imported
    why: str


def _norm(name: str) -> str:
    """A distribution name in PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(req: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
    assert m, req
    return _norm(m.group(1))


def declared(pyproject: Path) -> tuple[set[str], dict[str, set[str]]]:
    """Runtime dependency names and each extra's names, normalized."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    runtime = {_req_name(r) for r in project.get("dependencies", [])}
    extras = {k: {_req_name(r) for r in v} for k, v in project.get("optional-dependencies", {}).items()}
    return runtime, extras


def imports_of(path: Path) -> set[str]:
    """Top-level names of the absolute imports in one file (function-level ones included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def undeclared_imports(root: Path, package: str = "bmdkit") -> list[Undeclared]:
    """Every third-party import under ``root/package`` that ``root/pyproject.toml`` does not declare
    for that module (runtime, or the module's own extra)."""
    runtime, extras = declared(root / "pyproject.toml")
    providers = packages_distributions()
    found: list[Undeclared] = []
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        allowed = runtime | extras.get(EXTRA_MODULES.get(rel, ""), set())
        for name in sorted(imports_of(path)):
            if name == package or name in sys.stdlib_module_names:
                continue
            dists = {_norm(d) for d in providers.get(name, [])}
            if not dists:
                found.append(Undeclared(rel, name, "no installed distribution provides it"))
            elif not dists & allowed:
                where = "runtime" if rel not in EXTRA_MODULES else f"runtime or [{EXTRA_MODULES[rel]}]"
                found.append(Undeclared(rel, name, f"provided by {sorted(dists)}, not declared as {where}"))
    return found


def test_every_import_is_declared() -> None:
    problems = undeclared_imports(ROOT)
    assert problems == [], "\n".join(f"{p.module}: import {p.name}: {p.why}" for p in problems)


def test_an_undeclared_import_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a copy of the project with a test-only import in a runtime module."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "bmdkit", tmp_path / "bmdkit", ignore=shutil.ignore_patterns("__pycache__"))
    sneaky = tmp_path / "bmdkit" / "checks" / "sneaky.py"
    sneaky.write_text("def f():\n    import jsonschema  # test extra only\n    from distributed import Client\n")
    problems = undeclared_imports(tmp_path)
    assert {(p.module, p.name) for p in problems} == {
        ("bmdkit/checks/sneaky.py", "jsonschema"),
        ("bmdkit/checks/sneaky.py", "distributed"),
    }


def test_the_dask_runner_may_use_its_extra_only() -> None:
    runtime, extras = declared(ROOT / "pyproject.toml")
    assert "distributed" in extras["dask"] and "distributed" not in runtime
    assert "distributed" in imports_of(ROOT / "bmdkit" / "batch" / "dask_runner.py")


def test_nothing_declared_goes_unused() -> None:
    """Runtime dependencies are imported somewhere in bmdkit (or are a named engine's backend)."""
    runtime, _ = declared(ROOT / "pyproject.toml")
    providers = packages_distributions()
    used: set[str] = set()
    for path in (ROOT / "bmdkit").rglob("*.py"):
        for name in imports_of(path):
            used.update(_norm(d) for d in providers.get(name, []))
    assert runtime - used == set()


def test_lock_files_pin_every_declared_dependency() -> None:
    """The committed lock files pin an exact version of every declared dependency."""
    runtime, extras = declared(ROOT / "pyproject.toml")

    def pinned(lock: Path) -> set[str]:
        names = set()
        for line in lock.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if line:
                assert "==" in line, f"{lock.name}: not an exact pin: {line}"
                names.add(_req_name(line))
        return names

    rt = pinned(ROOT / "requirements" / "runtime.lock")
    test = pinned(ROOT / "requirements" / "test.lock")
    assert runtime <= rt
    assert runtime | extras["test"] | extras["dask"] <= test
    assert (extras["test"] - runtime) & rt == set()  # the runtime lock holds no test-only package


def _extends(shipped: object, shared: object, where: str = "$") -> list[str]:
    """Where ``shipped`` is not ``shared`` plus optional properties (recursively); [] when it is."""
    if isinstance(shared, dict) and isinstance(shipped, dict):
        problems = []
        if shipped.get("required", []) != shared.get("required", []):
            problems.append(f"{where}: required changed")
        for key, value in shared.items():
            if key not in shipped:
                problems.append(f"{where}.{key}: dropped")
            elif key != "required":
                problems += _extends(shipped[key], value, f"{where}.{key}")
        is_property_map = where.endswith(".properties")  # new keys here are new (optional) properties
        if not is_property_map and set(shipped) - set(shared) - {"properties", "description"}:
            problems.append(f"{where}: new keywords {sorted(set(shipped) - set(shared))}")
        return problems
    return [] if shipped == shared else [f"{where}: changed"]


def test_the_shipped_schema_only_adds_optional_fields() -> None:
    """bmdkit/contract/exam.schema.json is the shared contract plus optional fields, nothing renamed or dropped."""
    import json

    from bmdkit.contract import load_schema

    shared = json.loads((ROOT / "tests" / "data" / "exam.schema.json").read_text(encoding="utf-8"))
    shipped = load_schema()
    assert _extends(shipped, shared) == []
    added = set(shipped["properties"]) - set(shared["properties"])
    assert "outcome" in added and not added & set(shipped["required"])
    assert set(shipped["properties"]["outcome"]["enum"]) == {"extracted", "flagged", "failed", "skipped"}


def test_the_schema_check_catches_a_dropped_or_changed_field() -> None:
    shared = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"enum": [1, 2]}}}
    assert _extends({**shared, "properties": {**shared["properties"], "c": {"type": "number"}}}, shared) == []
    assert _extends({**shared, "properties": {"a": {"type": "string"}}}, shared) == ["$.properties.b: dropped"]
    assert _extends({**shared, "properties": {**shared["properties"], "b": {"enum": [1]}}}, shared) != []
    assert _extends({**shared, "required": ["a", "c"]}, shared) == ["$: required changed"]
