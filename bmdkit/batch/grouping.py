"""Files of one study grouped together: kept for older imports; the one implementation is
:func:`bmdkit.merge.group_exams` (with :func:`bmdkit.merge.merge_exams`, which the batch uses)."""

from bmdkit.merge import group_exams

__all__ = ["group_exams"]
