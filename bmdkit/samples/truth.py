"""Ground truth for synthetic DXA exams: plausible, internally consistent values.

Every sample file bmdkit generates (DICOM, report page, PDF, photo) is
rendered from one :class:`TruthExam`. Values follow the rules a real
scanner's output obeys, as printed:

- per region, BMD = BMC / area after rounding (area and BMC 2 decimals, BMD 3);
- the spine total is ΣBMC / ΣArea over the included vertebrae, and its label
  names them (``L1-L4``, ``L2-L4``);
- T- and Z-scores are computed from a named reference population in
  ``reference_data/reference_populations.csv`` and printed to one decimal.

This is development data. The reference population used for the T-scores
of the synthetic vertebrae (the L1-L4 reference applied to each level) is a
simplification a real scanner does not make; the truth records it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from bmdkit import reference

CENTERS: tuple[tuple[str, str], ...] = (
    ("beijing", "北京协和医院"),
    ("huaian", "淮安市第一人民医院"),
    ("jiangxi", "江西省人民医院"),
    ("kunshan", "昆山市中医医院"),
)

VENDOR_MODELS: dict[str, tuple[tuple[str, str], ...]] = {
    # (model, software version); names as the vendors print them
    "hologic": (("Discovery W", "13.2"), ("Horizon W", "13.6.0.4"), ("Horizon A", "13.5.3.1")),
    "ge_lunar": (("Lunar iDXA", "16.20.059"), ("Lunar Prodigy Advance", "13.60.033"), ("Lunar Prodigy", "14.10.022")),
    "norland": (("Norland XR-800", "4.7.5"),),
}

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡")
SURNAMES_PY = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu")
GIVEN_F = (("秀英", "Xiuying"), ("桂兰", "Guilan"), ("淑珍", "Shuzhen"), ("玉梅", "Yumei"), ("丽华", "Lihua"),
           ("凤英", "Fengying"))
GIVEN_M = (("建国", "Jianguo"), ("志强", "Zhiqiang"), ("国平", "Guoping"), ("德明", "Deming"))

SCAN_KINDS = ("spine", "hip_left", "hip_right", "hip_dual")

# Typical adult region areas (cm2) and the spread between subjects: generator
# shape parameters, not reference numbers.
_VERTEBRA_AREA = {"L1": 13.8, "L2": 15.0, "L3": 16.3, "L4": 17.9}
_VERTEBRA_BMD_OFFSET = {"L1": -0.06, "L2": -0.01, "L3": 0.02, "L4": 0.03}
_HIP_AREA = {"femoral_neck": 5.1, "trochanter": 11.6, "intertrochanter": 19.5, "wards": 1.1}
_HIP_BMD_FACTOR = {"femoral_neck": 1.0, "trochanter": 0.82, "intertrochanter": 1.28, "wards": 0.78}


@dataclass
class TruthPatient:
    name_zh: str
    name_pinyin: str
    patient_id: str
    sex: str
    birth_date: str
    age: int
    height_cm: float
    weight_kg: float


@dataclass
class TruthRegion:
    region: str
    side: str | None
    bmd: float | None
    bmc: float | None
    area: float | None
    t_score: float | None
    z_score: float | None
    label: str
    evaluable: bool | None = None
    vertebrae: list[str] | None = None
    reference: str | None = None
    in_contract: bool = True


@dataclass
class TruthExam:
    """Everything a sample file shows, as the scanner computed it."""

    sample_id: str
    vendor: str
    scanner_model: str
    scanner_serial: str
    scanner_software: str
    center: str
    institution: str
    exam_date: str
    study_instance_uid: str
    scan_type: str
    patient: TruthPatient
    reference: str
    regions: list[TruthRegion] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def contract_regions(self) -> list[TruthRegion]:
        return [r for r in self.regions if r.in_contract]


def _ref(population: str, region: str) -> tuple[float, float]:
    for row in reference.table("reference_populations"):
        if row["population"] == population and row["region"] == region:
            return float(row["mean"]), float(row["sd"])
    raise KeyError((population, region))


def _population(sex: str) -> str:
    return "China multicenter women" if sex == "F" else "Southern Chinese men"


def t_score(bmd: float, population: str, region: str) -> float:
    mean, sd = _ref(population, region)
    return round((bmd - mean) / sd + 0.0, 1) + 0.0


def _z_shift(age: int) -> float:
    """Age-matched mean lies below the young-adult mean by ~0.7%/year after 40."""
    return max(0, age - 40) * 0.007


def _finish(area: float, bmd_target: float) -> tuple[float, float, float]:
    """(area, bmc, bmd) rounded as printed and consistent after rounding."""
    area = round(area, 2)
    bmc = round(bmd_target * area, 2)
    bmd = round(bmc / area, 3)
    return area, bmc, bmd


class TruthGenerator:
    """Deterministic stream of :class:`TruthExam` from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self._n = 0

    # -- people and scanners -------------------------------------------------
    def patient(self) -> TruthPatient:
        r = self.rng
        i = r.randrange(len(SURNAMES))
        sex = r.choice("FFFM")
        given, given_py = r.choice(GIVEN_F if sex == "F" else GIVEN_M)
        age = r.randint(52, 79)
        born = dt.date(2026 - age, r.randint(1, 12), r.randint(1, 28))
        return TruthPatient(
            name_zh=SURNAMES[i] + given,
            name_pinyin=f"{SURNAMES_PY[i]}^{given_py}",
            patient_id=f"{r.choice('BHJK')}{r.randint(1000000, 9999999)}",
            sex=sex,
            birth_date=born.isoformat(),
            age=age,
            height_cm=round(r.uniform(148, 178), 1),
            weight_kg=round(r.uniform(45, 88), 1),
        )

    def exam(
        self,
        vendor: str | None = None,
        scan_type: str | None = None,
        exclude: list[str] | None = None,
        force_t: float | None = None,
        t_shift: float | None = None,
    ) -> TruthExam:
        """One synthetic exam.

        ``exclude`` lists vertebrae the scanner excluded; ``force_t`` makes the
        main region's T-score exactly that value (boundary cases such as -2.0);
        ``t_shift`` moves the subject's bone density (negative = osteoporotic).
        """
        r = self.rng
        self._n += 1
        vendor = vendor or r.choice(("hologic", "hologic", "ge_lunar", "ge_lunar", "norland"))
        scan_type = scan_type or r.choice(SCAN_KINDS)
        model, software = r.choice(VENDOR_MODELS[vendor])
        center, institution = r.choice(CENTERS)
        pat = self.patient()
        date = dt.date(2026, 1, 5) + dt.timedelta(days=r.randint(0, 300))
        uid_tail = f"{self.seed}.{self._n}.{r.randint(10**8, 10**9)}"
        ex = TruthExam(
            sample_id=f"s{self.seed}-{self._n:04d}",
            vendor=vendor,
            scanner_model=model,
            scanner_serial=str(r.randint(100000, 999999)),
            scanner_software=software,
            center=center,
            institution=institution,
            exam_date=date.isoformat(),
            study_instance_uid=f"1.2.826.0.1.3680043.10.1111.{uid_tail}",
            scan_type=scan_type,
            patient=pat,
            reference=_population(pat.sex),
        )
        shift = t_shift if t_shift is not None else r.uniform(-3.2, 0.6)
        if scan_type == "spine":
            self._spine(ex, shift, exclude or [], force_t)
        else:
            sides = {"hip_left": ["left"], "hip_right": ["right"], "hip_dual": ["left", "right"]}[scan_type]
            self._hips(ex, shift, sides, force_t)
        return ex

    # -- regions ---------------------------------------------------------------
    def _spine(self, ex: TruthExam, shift: float, exclude: list[str], force_t: float | None) -> None:
        r = self.rng
        pop = ex.reference
        mean, sd = _ref(pop, "L1-L4")
        base = mean + shift * sd
        scale = r.uniform(0.9, 1.12)
        rows: dict[str, tuple[float, float, float]] = {}
        for v in ("L1", "L2", "L3", "L4"):
            area = _VERTEBRA_AREA[v] * scale * r.uniform(0.96, 1.04)
            bmd = max(0.35, base + _VERTEBRA_BMD_OFFSET[v] + r.gauss(0, 0.025))
            rows[v] = _finish(area, bmd)
        included = [v for v in rows if v not in exclude]
        if force_t is not None:
            # adjust every included vertebra so that the total's T is exactly force_t
            target = mean + force_t * sd
            for _ in range(20):
                tot_bmc = sum(rows[v][1] for v in included)
                tot_area = sum(rows[v][0] for v in included)
                cur = round(tot_bmc / tot_area, 3)
                if round((cur - mean) / sd, 1) == force_t and abs((cur - mean) / sd - force_t) < 0.03:
                    break
                k = target / cur
                for v in included:
                    a, b, _ = rows[v]
                    rows[v] = _finish(a, b / a * k)
        shift_z = _z_shift(ex.patient.age)
        for v, (area, bmc, bmd) in rows.items():
            ex.regions.append(TruthRegion(
                region=v, side=None, bmd=bmd, bmc=bmc, area=area,
                t_score=t_score(bmd, pop, "L1-L4"),
                z_score=round((bmd - (mean - shift_z * mean)) / sd, 1) + 0.0,
                label=v, evaluable=v not in exclude, reference=pop,
            ))
        tot_area = round(sum(rows[v][0] for v in included), 2)
        tot_bmc = round(sum(rows[v][1] for v in included), 2)
        tot_bmd = round(tot_bmc / tot_area, 3)
        label = f"{included[0]}-{included[-1]}" if _contiguous(included) else ",".join(included)
        ex.regions.append(TruthRegion(
            region="L1-L4", side=None, bmd=tot_bmd, bmc=tot_bmc, area=tot_area,
            t_score=t_score(tot_bmd, pop, "L1-L4"),
            z_score=round((tot_bmd - (mean - shift_z * mean)) / sd, 1) + 0.0,
            label=label, vertebrae=included, reference=pop,
        ))
        ex.excluded = list(exclude)

    def _hips(self, ex: TruthExam, shift: float, sides: list[str], force_t: float | None) -> None:
        r = self.rng
        pop = ex.reference
        n_mean, n_sd = _ref(pop, "femoral_neck")
        h_mean, h_sd = _ref(pop, "total_hip")
        shift_z = _z_shift(ex.patient.age)
        per_side: dict[str, dict[str, tuple[float, float, float]]] = {}
        for side in sides:
            scale = r.uniform(0.88, 1.12)
            neck_bmd = max(0.33, n_mean + (shift + r.gauss(0, 0.15)) * n_sd)
            if force_t is not None and side == sides[0]:
                neck_bmd = n_mean + force_t * n_sd
            sub: dict[str, tuple[float, float, float]] = {}
            for reg in ("femoral_neck", "trochanter", "intertrochanter", "wards"):
                sub[reg] = _finish(_HIP_AREA[reg] * scale * r.uniform(0.95, 1.05),
                                   neck_bmd * _HIP_BMD_FACTOR[reg] * r.uniform(0.97, 1.03))
            if force_t is not None and side == sides[0]:
                a, b, _ = sub["femoral_neck"]
                for _ in range(20):
                    bmd = round(b / a, 3)
                    if abs((bmd - n_mean) / n_sd - force_t) < 0.02:
                        break
                    b = round(b + (n_mean + force_t * n_sd - bmd) * a, 2)
                sub["femoral_neck"] = (a, b, round(b / a, 3))
            parts = ("femoral_neck", "trochanter", "intertrochanter")
            t_area = round(sum(sub[p][0] for p in parts), 2)
            t_bmc = round(sum(sub[p][1] for p in parts), 2)
            sub["total_hip"] = (t_area, t_bmc, round(t_bmc / t_area, 3))
            per_side[side] = sub
        for side, sub in per_side.items():
            for reg, (area, bmc, bmd) in sub.items():
                self._add_hip(ex, reg, side, area, bmc, bmd, pop, shift_z)
        if len(sides) == 2:
            for reg in ("femoral_neck", "total_hip"):
                bmd = round((per_side["left"][reg][2] + per_side["right"][reg][2]) / 2, 3)
                self._add_hip(ex, reg, "mean", None, None, bmd, pop, shift_z)

    def _add_hip(self, ex: TruthExam, reg: str, side: str, area: float | None, bmc: float | None,
                 bmd: float, pop: str, shift_z: float) -> None:
        ref_region = reg if reg in ("femoral_neck", "total_hip") else None
        if ref_region is not None:
            mean, sd = _ref(pop, ref_region)
            t = t_score(bmd, pop, ref_region)
            z = round((bmd - (mean - shift_z * mean)) / sd, 1) + 0.0
        else:
            t = z = None
        labels = {"femoral_neck": "Neck", "total_hip": "Total", "trochanter": "Troch",
                  "intertrochanter": "Inter", "wards": "Ward's"}
        ex.regions.append(TruthRegion(
            region=reg, side=side, bmd=bmd, bmc=bmc, area=area, t_score=t, z_score=z,
            label=labels[reg], reference=pop if t is not None else None,
            in_contract=reg in ("femoral_neck", "total_hip"),
        ))


def _contiguous(levels: list[str]) -> bool:
    idx = [int(v[1]) for v in levels]
    return idx == list(range(idx[0], idx[0] + len(idx)))


# -- values a page leaves out -------------------------------------------------
# A page may leave a score column blank or print "-" on every row (a patient too
# young for a T-score, no reference for a Z-score). The truth of such a page must
# say the value is absent, so that a reader reporting one counts as a silent error.
# The mark lives in ``notes`` (one line per measure) so that ``TruthExam.to_dict``
# keeps its shape for every existing sample.
NOT_PRINTED_PREFIX = "not printed: "
PRINTABLE_SCORES = ("t_score", "z_score")


def mark_not_printed(truth: TruthExam, measures: tuple[str, ...] | list[str], shown: str = "") -> TruthExam:
    """A copy of ``truth`` whose page prints none of ``measures`` on any row.

    Each measure (``t_score`` or ``z_score``) is set to None on every region and
    recorded in ``notes`` as ``"not printed: t_score (shown as '-')"``, so
    :func:`not_printed` can tell a column left blank from a value never computed.
    """
    import copy

    bad = [m for m in measures if m not in PRINTABLE_SCORES]
    if bad:
        raise ValueError(f"only {', '.join(PRINTABLE_SCORES)} can be left out of a page, not {bad}")
    out = copy.deepcopy(truth)
    for m in measures:
        for r in out.regions:
            setattr(r, m, None)
        note = f"{NOT_PRINTED_PREFIX}{m} (shown as {shown!r})"
        if note not in out.notes:
            out.notes.append(note)
    return out


def not_printed(truth: TruthExam) -> set[str]:
    """The measures ``truth``'s page leaves blank or dashed on every row (see :func:`mark_not_printed`)."""
    return {n[len(NOT_PRINTED_PREFIX):].split(" ", 1)[0] for n in truth.notes if n.startswith(NOT_PRINTED_PREFIX)}
