"""Young-adult reference lookup for T-scores the checks compute or verify.

A T-score can be computed only where the exam names its reference
population, that population is in ``reference_populations.csv`` for the
patient's sex and the exact region (a spine total over L2-L4 needs an L2-L4
row: ISCD uses the reference of that combination of vertebrae), and the
row's BMD scale is unknown or the exam's vendor. Otherwise there is no
T-score: bmdkit never borrows a reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmdkit import reference
from bmdkit.model import Exam
from bmdkit.vocabulary import key_of


@dataclass(frozen=True)
class YoungAdult:
    """Mean and SD of young-adult BMD for one population, sex and region."""

    population: str
    mean: float
    sd: float
    source: str

    def t_score(self, bmd: float) -> float:
        return (bmd - self.mean) / self.sd


def patient_sex(exam: Exam) -> str | None:
    """``female``/``male`` from the exam's patient record, else ``None``."""
    if exam.patient is None or not exam.patient.sex:
        return None
    return key_of("sex", exam.patient.sex)  # F/女/female..., words in reference_data/vocabulary.csv


def young_adult(exam: Exam, region_key: str, population: str | None) -> YoungAdult | None:
    """The reference row for ``population``/sex/``region_key``, or ``None`` if not known."""
    sex = patient_sex(exam)
    if not population or sex is None:
        return None
    for row in reference.table("reference_populations"):
        if (row.get("population", "").lower() == population.strip().lower()
                and row.get("sex") == sex and row.get("region") == region_key
                and row.get("scale") in ("unknown", "", exam.vendor.value)):
            try:
                return YoungAdult(row["population"], float(row["mean"]), float(row["sd"]), row["source"])
            except (KeyError, ValueError):
                return None
    return None
