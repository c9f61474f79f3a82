"""Shared test fixtures: the contract validator and paths."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def _schema_path() -> Path:
    for cand in (ROOT.parent / "shared" / "contract" / "exam.schema.json",
                 ROOT / "tests" / "data" / "exam.schema.json"):
        if cand.is_file():
            return cand
    raise FileNotFoundError("exam.schema.json not found beside the checkout")


@pytest.fixture(scope="session")
def contract() -> jsonschema.Draft202012Validator:
    """Validator for the shared contract and the schema bmdkit ships (both must hold)."""
    from bmdkit.contract import load_schema

    shared = json.loads(_schema_path().read_text())
    packaged = load_schema()
    for schema in (shared, packaged):
        schema.pop("$id", None)
        schema.pop("$schema", None)
    return jsonschema.Draft202012Validator({"allOf": [shared, packaged]})


def assert_valid(validator: jsonschema.Draft202012Validator, obj: dict) -> None:
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
