"""The two OCR engines behind one small interface.

- ``rapidocr``: PP-OCR detection + recognition in ONNX (rapidocr_onnxruntime
  1.4.4 ships its models inside the wheel; nothing is downloaded). It finds
  text segments on the whole page well, including small table text and mixed
  Chinese/English. The per-line angle classifier is kept off: it has turned
  "-0.8" into "8.0-"; page orientation is handled in preprocessing instead.
- ``tesseract``: via pytesseract (eng + chi_sim). Used to re-read cells:
  all cell crops of a page are stacked into one strip and read in a single
  process call with a numeric character whitelist, so it costs one start-up
  per page, not one per cell.

Both return :class:`Token` records: text, box in page pixels, confidence in
[0, 1], engine name.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence

import numpy as np

from bmdkit.report.tokens import Token

log = logging.getLogger(__name__)

#: threads one RapidOCR session may use; a batch worker sets 1 (its siblings use the other cores)
_RAPID_THREADS = [2]


def set_single_threaded() -> None:
    """Use one thread per OCR call: for batch workers, which already run one per core.

    Tesseract's OpenMP threads (``OMP_THREAD_LIMIT``, read by each tesseract
    process this one starts) and RapidOCR's onnxruntime session both follow.
    """
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _RAPID_THREADS[0] = 1
    _rapid.cache_clear()


class OCRTimeout(Exception):
    """An OCR call ran past the time it was given."""


@functools.lru_cache(maxsize=1)
def _rapid() -> object:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(use_cls=False, intra_op_num_threads=_RAPID_THREADS[0], inter_op_num_threads=1)


def rapid_page(image: np.ndarray) -> list[Token]:
    """Text segments of a whole page (grey or RGB uint8)."""
    eng = _rapid()
    result, _ = eng(image, use_cls=False)  # type: ignore[operator]
    out: list[Token] = []
    for quad, text, score in result or []:
        xs = [int(p[0]) for p in quad]
        ys = [int(p[1]) for p in quad]
        out.append(Token(str(text), (min(xs), min(ys), max(xs), max(ys)), float(score), "rapidocr"))
    return out


def rapid_crops(crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """Recognition only (no detection) on each crop."""
    eng = _rapid()
    out: list[tuple[str, float]] = []
    for c in crops:
        res, _ = eng(c, use_det=False, use_cls=False, use_rec=True)  # type: ignore[operator]
        if res:
            text, score = res[0][0], res[0][1]
            out.append((str(text), float(score)))
        else:
            out.append(("", 0.0))
    return out


def _tess_cfg(psm: int, whitelist: str | None) -> str:
    cfg = f"--psm {psm} --oem 1"
    if whitelist:
        cfg += f" -c tessedit_char_whitelist={whitelist}"
    return cfg


def tesseract_page(image: np.ndarray, languages: Sequence[str], timeout: float | None = None) -> list[Token]:
    """Words of a whole page with boxes and confidences.

    ``timeout`` (seconds) stops the tesseract process: a page of noise can
    keep it busy for a minute. Raises :class:`OCRTimeout` then.
    """
    import pytesseract

    if timeout is not None and timeout <= 0:
        raise OCRTimeout("no time left for a tesseract page")
    try:
        d = pytesseract.image_to_data(image, lang="+".join(languages), config=_tess_cfg(6, None),
                                      output_type=pytesseract.Output.DICT, timeout=timeout or 0)
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OCRTimeout(f"tesseract took longer than {timeout:.0f} s on the page") from None
        raise
    out: list[Token] = []
    for i, text in enumerate(d["text"]):
        if not str(text).strip():
            continue
        x, y, w, h = d["left"][i], d["top"][i], d["width"][i], d["height"][i]
        conf = max(0.0, float(d["conf"][i])) / 100.0
        out.append(Token(str(text), (x, y, x + w, y + h), min(conf, 1.0), "tesseract"))
    return out


NUMERIC_WHITELIST = "0123456789.-"


def tesseract_crops(crops: Sequence[np.ndarray], gap: int = 24, languages: Sequence[str] = ("eng",),
                    whitelist: str | None = NUMERIC_WHITELIST, joiner: str = "") -> list[tuple[str, float]]:
    """Read many single-value crops with one tesseract call.

    Crops (grey uint8) are stacked into one strip, each in its own band with a
    white gap; the words tesseract finds are put back into their band by
    their vertical centre. Numbers by default (digits, point, minus; words
    joined with nothing); labels with ``whitelist=None, joiner=" "``.
    """
    import pytesseract

    if not crops:
        return []
    h_target = 48
    resized = []
    for c in crops:
        scale = h_target / max(c.shape[0], 1)
        import cv2

        r = cv2.resize(c, (max(1, int(c.shape[1] * scale)), h_target), interpolation=cv2.INTER_CUBIC)
        resized.append(r)
    width = max(r.shape[1] for r in resized) + 2 * gap
    bands: list[tuple[int, int]] = []
    strip = np.full((len(resized) * (h_target + gap) + gap, width), 255, np.uint8)
    y = gap
    for r in resized:
        strip[y:y + h_target, gap:gap + r.shape[1]] = r
        bands.append((y, y + h_target))
        y += h_target + gap
    d = pytesseract.image_to_data(strip, lang="+".join(languages), config=_tess_cfg(6, whitelist),
                                  output_type=pytesseract.Output.DICT)
    texts: list[list[tuple[int, str, float]]] = [[] for _ in crops]
    for i, text in enumerate(d["text"]):
        t = str(text).strip()
        if not t:
            continue
        yc = d["top"][i] + d["height"][i] / 2
        for k, (a, b) in enumerate(bands):
            if a - gap / 2 <= yc < b + gap / 2:
                texts[k].append((d["left"][i], t, max(0.0, float(d["conf"][i])) / 100.0))
                break
    out: list[tuple[str, float]] = []
    for parts in texts:
        parts.sort()
        if not parts:
            out.append(("", 0.0))
        else:
            out.append((joiner.join(p[1] for p in parts), min(p[2] for p in parts)))
    return out


def tesseract_alone(crop: np.ndarray, height: int = 96, whitelist: str | None = NUMERIC_WHITELIST) -> tuple[str, float]:
    """Read one crop on its own (not stacked with others), enlarged to ``height`` pixels with a
    white margin: a closer look for a cell the stacked reading left in doubt. Stacked strips lose
    a faint minus that the cell read alone shows. One tesseract process per call."""
    import cv2
    import pytesseract

    scale = height / max(crop.shape[0], 1)
    big = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), height), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
    d = pytesseract.image_to_data(big, lang="eng", config=_tess_cfg(6, whitelist),
                                  output_type=pytesseract.Output.DICT)
    parts = sorted((d["left"][i], str(t).strip(), max(0.0, float(d["conf"][i])) / 100.0)
                   for i, t in enumerate(d["text"]) if str(t).strip())
    if not parts:
        return ("", 0.0)
    return ("".join(p[1] for p in parts), min(p[2] for p in parts))


def available_engines() -> list[str]:
    """Engines that can run here (both are plain package installs)."""
    import rapidocr_onnxruntime  # noqa: F401  - a runtime dependency: missing means a broken install

    found = ["rapidocr"]
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
        found.append("tesseract")
    except Exception:  # missing binary shows in many ways
        log.debug("tesseract not usable", exc_info=True)
    return found
