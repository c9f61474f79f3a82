"""Old name of :mod:`bmdkit.privacy` (de-identification and redaction serve the batch, review and exports alike).

``import bmdkit.export.privacy`` gives the very same module object, so old imports keep working.
"""

import sys

from bmdkit import privacy as _privacy

sys.modules[__name__] = _privacy
