"""The optional fields bmdkit adds to the contract JSON survive a round trip and validate.

``flags[].measures`` (a flag about some but not all of a row's values, e.g. a
BMD = BMC / area mismatch, which says nothing of the T- and Z-scores) and
``source.input_form`` (a text report, which the contract's kinds cannot name).
"""

from __future__ import annotations

from conftest import assert_valid

from bmdkit.export.jsonout import exam_from_dict, exam_to_dict, flag_from_dict, flag_to_dict
from bmdkit.flags import FlagCode
from bmdkit.model import Exam, Flag, InputKind, Method, Region, RegionResult, Side, Source


def _exam(flag: Flag, input_form: str | None) -> Exam:
    src = Source("report.txt", "a" * 64, InputKind.UNKNOWN, 120, input_form=input_form)
    row = RegionResult(Region.TOTAL_HIP, Method.OCR, Side.LEFT, bmd=0.8, bmc=30.0, area=37.5, t_score=-1.6)
    return Exam(source=src, regions=(row,), flags=(flag,))


def test_flag_measures_round_trip_and_scope(contract) -> None:
    f = Flag(FlagCode.BMD_BMC_AREA_MISMATCH, "BMD 0.8 but BMC/area = 30.0/37.5", region="total_hip",
             side=Side.LEFT, measures=("bmd", "bmc", "area"))
    d = flag_to_dict(f)
    assert d["measures"] == ["bmd", "bmc", "area"]
    back = flag_from_dict(d)
    assert back == f
    # the flag covers its three measures of its row only, never the row's T-score
    assert back.covers("total_hip", Side.LEFT, "bmc") and not back.covers("total_hip", Side.LEFT, "t_score")
    assert not back.covers("total_hip", Side.RIGHT, "bmd")
    doc = exam_to_dict(_exam(f, None))
    assert_valid(contract, doc)
    assert exam_from_dict(doc).flags == (f,)


def test_a_flag_without_measures_writes_none() -> None:
    d = flag_to_dict(Flag(FlagCode.LOW_CONFIDENCE, "check it", region="total_hip", measure="t_score"))
    assert "measures" not in d and d["measure"] == "t_score"


def test_source_input_form_round_trip(contract) -> None:
    f = Flag(FlagCode.LOW_CONFIDENCE, "check it", region="total_hip", side=Side.LEFT, measure="bmd")
    doc = exam_to_dict(_exam(f, "text_report"))
    assert doc["source"]["input_form"] == "text_report" and doc["source"]["kind"] == "unknown"
    assert_valid(contract, doc)
    assert exam_from_dict(doc).source.input_form == "text_report"
    assert "input_form" not in exam_to_dict(_exam(f, None))["source"]
