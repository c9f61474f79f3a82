"""Report pages as PDF files: text PDFs with real words, and image-only (scanned) PDFs.

A text PDF is drawn with reportlab from the same drawing instructions as the
raster page (:func:`bmdkit.samples.report_gen.build_page`), with the fonts
embedded, so ``pdfplumber``/``pypdfium2`` extract the printed words. reportlab
embeds TrueType outlines only; the Debian Noto CJK fonts are OpenType/CFF
collections, so for Chinese text the needed glyphs are subset and converted
to TrueType quadratic outlines with fontTools first (about half a second).

An image-only PDF holds nothing but page images (as a scanner or a
"print to PDF" of a photo makes them): no text layer to extract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image

from bmdkit.samples import report_gen as rg
from bmdkit.samples.truth import TruthExam


def _cff_to_ttf(path: str, index: int, text: str, out: Path) -> None:
    """Subset an OpenType/CFF font (or .ttc member) to ``text`` and write it as TrueType."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(path, fontNumber=index, lazy=False, recalcTimestamp=False)
    opts = subset.Options()
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.layout_features = []
    opts.hinting = False
    opts.desubroutinize = True
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    if "CFF " in font:
        glyphs = font.getGlyphSet()
        order = font.getGlyphOrder()
        glyf = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[name] = pen.glyph()
        font["glyf"] = glyf
        font["loca"] = newTable("loca")
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                     "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["head"].indexToLocFormat = 0
        font["head"].glyphDataFormat = 0
        del font["CFF "]
        if "VORG" in font:
            del font["VORG"]
        font.sfntVersion = "\x00\x01\x00\x00"
        font["post"].formatType = 2.0
        font["post"].extraNames = []
        font["post"].mapping = {}
    # reportlab keys embedded glyph data by the PostScript name: give each subset its own
    tag = hashlib.sha256(text.encode()).hexdigest()[:8]
    for rec in font["name"].names:
        if rec.nameID in (4, 6):
            rec.string = f"{rec.toUnicode().replace(' ', '')}-{tag}"
    font.save(str(out))


def _register_fonts(page: rg.Page, workdir: Path) -> dict[tuple[str, bool], str]:
    """Register every font the page uses with reportlab; returns (key, bold) -> reportlab name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    used: dict[tuple[str, bool], set[str]] = {}
    for op in page.ops:
        if isinstance(op, rg.Text):
            used.setdefault((op.font, op.bold), set()).update(op.text)
    names: dict[tuple[str, bool], str] = {}
    for (key, bold), chars in sorted(used.items()):
        path, index = rg.font_file(key, bold)
        digest = hashlib.sha256("".join(sorted(chars)).encode()).hexdigest()[:10]
        name = f"bmdkit-{key}-{'b' if bold else 'r'}-{digest}"
        if path.endswith((".ttc", ".otf")):
            ttf = workdir / f"{name}.ttf"
            _cff_to_ttf(path, index, "".join(sorted(chars)), ttf)
            path = str(ttf)
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, path))
        names[(key, bold)] = name
    return names


def page_to_pdf(pages: Sequence[rg.Page], path: str | Path, title: str = "DXA report") -> None:
    """Write drawn pages to a text PDF whose words can be extracted."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    with tempfile.TemporaryDirectory(prefix="bmdkit-fonts-") as tmp:
        c = canvas.Canvas(str(path), pagesize=(pages[0].width, pages[0].height), invariant=1)
        c.setTitle(title)
        for page in pages:
            c.setPageSize((page.width, page.height))
            fonts = _register_fonts(page, Path(tmp))
            h = page.height

            def g(v: int) -> float:
                return v / 255.0

            for op in page.ops:
                if isinstance(op, rg.Text):
                    c.setFont(fonts[(op.font, op.bold)], op.size)
                    c.setFillGray(g(op.gray))
                    draw = {"left": c.drawString, "right": c.drawRightString, "center": c.drawCentredString}
                    draw[op.align](op.x, h - op.y, op.text)
                elif isinstance(op, rg.Line):
                    c.setStrokeGray(g(op.gray))
                    c.setLineWidth(op.width)
                    c.line(op.x0, h - op.y0, op.x1, h - op.y1)
                elif isinstance(op, rg.Rect):
                    if op.fill is not None:
                        if isinstance(op.fill, int):
                            c.setFillGray(g(op.fill))
                        else:
                            c.setFillColorRGB(*(g(v) for v in op.fill))
                    if op.stroke is not None:
                        c.setStrokeGray(g(op.stroke))
                        c.setLineWidth(op.width)
                    c.rect(op.x0, h - op.y1, op.x1 - op.x0, op.y1 - op.y0,
                           stroke=int(op.stroke is not None), fill=int(op.fill is not None))
                elif isinstance(op, rg.Poly):
                    c.setStrokeGray(g(op.gray))
                    c.setLineWidth(op.width)
                    p = c.beginPath()
                    p.moveTo(op.points[0][0], h - op.points[0][1])
                    for x, y in op.points[1:]:
                        p.lineTo(x, h - y)
                    c.drawPath(p, stroke=1, fill=0)
                elif isinstance(op, rg.Dot):
                    c.setFillGray(g(op.gray))
                    c.circle(op.x, h - op.y, op.r, stroke=0, fill=1)
                elif isinstance(op, rg.Picture):
                    img = ImageReader(Image.fromarray(op.pixels, "L"))
                    c.drawImage(img, op.x0, h - op.y1, op.x1 - op.x0, op.y1 - op.y0)
            c.showPage()
        c.save()


def render_pdf(truth: TruthExam, layout: str, lang: str, path: str | Path,
               style: rg.Style | None = None) -> rg.Page:
    """Write ``truth`` as a one-page text PDF in ``layout``; returns the drawn page (cells in points)."""
    page = rg.build_page(truth, layout, lang, style)
    page_to_pdf([page], path, title=f"{layout} report")
    return page


def write_image_pdf(images: Iterable[Image.Image], path: str | Path, dpi: int = 150) -> None:
    """Write page images as an image-only PDF (JPEG-compressed, no text layer)."""
    pages = [im.convert("RGB") for im in images]
    if not pages:
        raise ValueError("no pages to write")
    buf = io.BytesIO()
    # a fixed creation date keeps the file byte-identical from run to run
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timetuple()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpi),
                  creationDate=stamp, modDate=stamp)
    Path(path).write_bytes(buf.getvalue())
