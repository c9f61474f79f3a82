"""Old name of :mod:`bmdkit.decisions.exam_fields` (reviewer decisions are used by the batch and exports too).

``import bmdkit.review.exam_fields`` gives the very same module object, so old imports keep working.
"""

import sys

from bmdkit.decisions import exam_fields as _module

sys.modules[__name__] = _module
