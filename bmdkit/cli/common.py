"""Options and arguments several commands share, declared once.

Each function returns a fresh ``typer.Option``/``typer.Argument`` to use as a
parameter default, so a flag is spelled, typed and explained in one place
(``--out`` was written eight times, ``--mapping`` and ``--windows`` three
times each). A command passes only what is its own: the help of ``--out``
says what that command writes.
"""

from __future__ import annotations

from typing import Any

import typer

MAPPING_HELP = "Subject mapping CSV: center,hospital_patient_id,subject_id."
WINDOWS_HELP = "Visit windows CSV (default: reference_data/visit_windows.csv)."
SUBJECTS_HELP = ("CSV: sha256|path,subject_id,visit  or  patient_id,subject_id[,visit,center]. "
                 "Default: subjects.csv beside results.jsonl (written by 'bmdkit batch').")


def out_option(default: Any, help: str) -> Any:
    """``--out/-o PATH``: where the command writes; ``help`` says what (a file, a folder, stdout if absent)."""
    return typer.Option(default, "--out", "-o", help=help)


def mapping_option(default: Any, also: str = "") -> Any:
    """``--mapping CSV``: hospital patient IDs to trial subjects (``also``: what the command does with it)."""
    return typer.Option(default, "--mapping", help=f"{MAPPING_HELP} {also}".strip())


def windows_option() -> Any:
    """``--windows CSV``: the trial's visit windows; the shipped table when absent."""
    return typer.Option(None, "--windows", help=WINDOWS_HELP)


def results_argument() -> Any:
    """``RESULTS``: a batch output folder (``results.jsonl`` inside) or a ``.jsonl`` file."""
    return typer.Argument(..., help="A batch output folder (results.jsonl inside) or a .jsonl file.")


def batch_folder_argument(must_exist: bool = False) -> Any:
    """``DIR``: a ``bmdkit batch`` output folder; ``must_exist`` lets typer refuse a missing one."""
    if must_exist:
        return typer.Argument(..., help="A batch output folder (holds results.jsonl).", exists=True, file_okay=False)
    return typer.Argument(..., help="A 'bmdkit batch' output folder.")


def subjects_option() -> Any:
    """``--subjects CSV``: the subject mapping of the trial analyses (default: the batch's subjects.csv)."""
    return typer.Option(None, "--subjects", exists=True, dir_okay=False, help=SUBJECTS_HELP)


def checks_config_option() -> Any:
    """``--config TOML``: a ``[checks]`` table overriding thresholds."""
    return typer.Option(None, "--config", exists=True, dir_okay=False,
                        help="TOML with a [checks] table overriding thresholds.")
