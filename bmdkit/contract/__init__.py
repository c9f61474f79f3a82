"""The JSON contract bmdkit writes, shipped with the package.

``exam.schema.json`` is what ``bmdkit check --format json`` prints and each
line of a batch's ``results.jsonl`` holds. It is the project's shared
contract plus bmdkit's optional additions (``outcome``); nothing of the
shared contract is renamed or dropped, so a line valid here is valid there.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_NAME = "exam.schema.json"


def schema_text() -> str:
    """The schema's JSON text, as shipped in the installed package."""
    return resources.files(__name__).joinpath(SCHEMA_NAME).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The exam schema as a dict (JSON Schema draft 2020-12)."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema
