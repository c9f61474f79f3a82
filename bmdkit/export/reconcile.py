"""Old name of :mod:`bmdkit.reconcile` (reconciling EDC values with extracted ones is not an export).

``import bmdkit.export.reconcile`` gives the very same module object, so old imports keep working.
"""

import sys

from bmdkit import reconcile as _reconcile

sys.modules[__name__] = _reconcile
