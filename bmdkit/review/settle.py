"""Old name of :mod:`bmdkit.decisions.settle` (reviewer decisions are used by the batch and exports too).

``import bmdkit.review.settle`` gives the very same module object, so old imports keep working.
"""

import sys

from bmdkit.decisions import settle as _module

sys.modules[__name__] = _module
