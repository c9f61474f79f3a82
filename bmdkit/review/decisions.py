"""Old name of :mod:`bmdkit.decisions.records` (reviewer decisions are used by the batch and exports too).

``import bmdkit.review.decisions`` gives the very same module object, so old imports keep working.
"""

import sys

from bmdkit.decisions import records as _module

sys.modules[__name__] = _module
