"""Printed DXA report pages built from a :class:`~bmdkit.samples.truth.TruthExam`.

One job per module: ``ops`` (drawing instructions), ``fonts``, ``style``
(per-sample look), ``words`` (number/date formatting, Chinese wording),
``raster`` (Pillow rendering), ``builder`` (text and table placement),
``truth_values`` (reference-derived figures a page prints), ``pictures``
(scan picture, reference graph), ``sections`` (header, WHO lines, footer),
one module per layout (``hologic``, ``ge_lunar``, ``chinese``, ``norland``)
and ``render`` (the entry points). :mod:`bmdkit.samples.report_gen` re-exports
the public names for existing callers.

Layouts that imitate real vendor screenshots (``apex``, ``encore``,
``norland_screen``, drawn with ``screen_table`` and ``screen_values``) are
rendered by :mod:`bmdkit.samples.real_like`; they are new modules and change no
module the print layouts use, so those pages stay byte-identical.
"""
