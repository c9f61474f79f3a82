"""Files of one study grouped into one exam (spine and hip scans of one visit).

Two files belong together when they share a ``study_instance_uid``, or
the same hospital patient ID and exam date; the relation is transitive
(union-find), so a spine file with a UID and a hip file without one still
join through patient and date. A file with neither stays alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from bmdkit.model import Exam


def group_exams(exams: Iterable[Exam]) -> list[list[Exam]]:
    """Groups of exams, each sorted by path; groups in order of their first path."""
    exams = list(exams)
    parent = list(range(len(exams)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, e in enumerate(exams):
        for key in _keys(e):
            if key in owner:
                a, b = find(i), find(owner[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = i
    groups: dict[int, list[Exam]] = {}
    for i, e in enumerate(exams):
        groups.setdefault(find(i), []).append(e)
    out = [sorted(g, key=lambda e: e.source.path) for g in groups.values()]
    return sorted(out, key=lambda g: g[0].source.path)


def _keys(e: Exam) -> list[str]:
    keys = []
    if e.study_instance_uid:
        keys.append("uid:" + e.study_instance_uid)
    pid = e.patient.patient_id.strip() if e.patient and e.patient.patient_id else ""
    if pid and e.exam_date:
        keys.append(f"pd:{pid}\x1f{e.exam_date.isoformat()}")
    return keys
