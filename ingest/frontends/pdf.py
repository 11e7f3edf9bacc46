"""PDF front end on PDFium (pypdfium2): the text layer's characters with their boxes and the page's
drawn lines go through ``layout`` (ruled tables from the lines, merged boxes expanded, wrapped labels
and numbers joined inside their box, unruled rows split at wide gaps, the rest as paragraphs), page by
page in reading order (a table continued on the next page is simply more rows of the same section).

Pages without a text layer (a scan), and the picture areas of pages that have one, are read by OCR
(``ocr``) when it is on (``OGI_OCR``, default on): the page is rendered and its recognised text boxes
and ruling lines go through the same ``layout``. With OCR off, a PDF with no text at all is
quarantined with that reason. An encrypted PDF is refused. Locators are page + bounding box (PDF
points, top-left origin).

Hostile files: at most ``MAX_PAGES`` pages, ``MAX_CHARS`` characters and ``MAX_OBJECTS`` drawing
objects a page are read (beyond that the page's lines are ignored and its text is read unruled), OCR
renders at most ``ocr.MAX_OCR_PAGES`` pages at a capped size, and a document stops at a time limit.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import re
import time

import numpy as np

from ingest.frontends.layout import Rulings, Units, page_blocks
from ingest.frontends.rows import Block

MAX_PAGES = 500
MAX_CHARS = 200_000  # a page; a report page has 1-3 thousand
MAX_OBJECTS = 100_000  # drawing objects walked on one page (forms included)
TIME_LIMIT_S = 300.0  # one document, text layer and OCR together (OCR: ~4 s a page on one core)
# A page whose image objects cover this share of it (and that has text elsewhere) gets its picture
# areas read by OCR: a scanned table pasted into an otherwise typed report.
IMAGE_SHARE_FOR_OCR = 0.2

# text_source of a document read here (dim_report.text_source)
TEXT_LAYER, OCR, MIXED = "text_layer", "ocr", "text_layer+ocr"


class PdfRefused(Exception):
    pass


def read(data: bytes) -> tuple[list[Block] | None, str | None]:
    blocks, problem, _ = read_with_source(data)
    return blocks, problem


def read_with_source(data: bytes) -> tuple[list[Block] | None, str | None, str | None]:
    """bytes -> (blocks, problem, text_source)."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower() or b"/Encrypt" in data[-65536:]:
            return None, "pdf: encrypted, a password is needed to read it (no text layer read)", None
        # PDFium's own words ("Data format error") say little to a person
        return None, "pdf could not be opened: the file is damaged or is not a PDF (PDFium could not load it)", None
    try:
        return _read_doc(doc, data)
    except PdfRefused as e:
        return None, str(e), None
    finally:
        doc.close()


# A font with a predefined CJK CMap (UniGB-UCS2-H, GBK-EUC-H, ...) rather than Identity-H: the kind of
# non-embedded font whose one-glyph text objects PDFium drops. Hidden inside compressed object streams,
# so a file with those is checked object by object too.
_PREDEFINED_CMAP = re.compile(rb"/Encoding\s*/(?!Identity-)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*-[HV]\b|/ObjStm")


def _read_doc(doc, data: bytes) -> tuple[list[Block] | None, str | None, str | None]:
    from ingest.frontends import ocr

    check_lost = _PREDEFINED_CMAP.search(data) is not None
    fallback = _PdfminerPages(data)

    n_pages = len(doc)
    if n_pages > MAX_PAGES:
        return None, f"pdf has {n_pages} pages, above the {MAX_PAGES}-page cap", None
    deadline = time.monotonic() + TIME_LIMIT_S
    blocks: list[Block] = []
    table_no = [0]
    n_text_pages = n_ocr_pages = 0
    for pno in range(1, n_pages + 1):
        if time.monotonic() > deadline:
            raise PdfRefused(f"pdf: reading stopped at page {pno} of {n_pages}, over the {TIME_LIMIT_S:.0f} s limit")
        page = doc[pno - 1]
        try:
            units, rulings, images, lost = page_geometry(page, check_lost)
            if lost:
                units = fallback.chars(pno)
            page_units = units
            ocr_region = None
            if len(units) == 0:
                ocr_region = "page"
            elif images and _image_share(images, page) >= IMAGE_SHARE_FOR_OCR:
                ocr_region = "images"
            if ocr_region is not None and ocr.enabled() and n_ocr_pages < ocr.MAX_OCR_PAGES:
                o_units, o_rulings = ocr.read_pdf_page(page, deadline)
                n_ocr_pages += len(o_units) > 0
                if ocr_region == "page":
                    page_units, rulings = o_units, o_rulings
                else:
                    page_units = _with_image_text(units, o_units, images)
            if len(units):
                n_text_pages += 1
            blocks.extend(page_blocks(page_units, rulings, pno, table_no))
        finally:
            page.close()
    if n_text_pages == 0 and n_ocr_pages == 0:
        if not ocr.enabled():
            return None, "pdf: no text layer (a scanned PDF?) and OCR is off (OGI_OCR=0): quarantined", None
        return None, "pdf: no text layer, and OCR recognised no text on any page: quarantined", None
    source = OCR if n_text_pages == 0 else (MIXED if n_ocr_pages else TEXT_LAYER)
    return blocks, None, source


def _image_share(images: list[tuple[float, float, float, float]], page) -> float:
    w, h = page.get_size()
    area = sum(max(0.0, x1 - x0) * max(0.0, y1 - y0) for x0, y0, x1, y1 in images)
    return min(1.0, area / max(w * h, 1.0))


def _with_image_text(units: Units, o: Units, images: list[tuple[float, float, float, float]]) -> Units:
    """The text layer plus the OCR pieces that lie inside a picture and on no character of the text layer."""
    if len(o) == 0:
        return units
    cx, cy = (o.x0 + o.x1) / 2, (o.top + o.bottom) / 2
    in_image = np.zeros(len(o), bool)
    for x0, y0, x1, y1 in images:
        in_image |= (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
    if len(units):
        ux, uy = (units.x0 + units.x1) / 2, (units.top + units.bottom) / 2
        covered = (
            (ux[None, :] >= o.x0[:, None]) & (ux[None, :] <= o.x1[:, None])
            & (uy[None, :] >= o.top[:, None]) & (uy[None, :] <= o.bottom[:, None])
        ).any(axis=1)
        in_image &= ~covered
    keep = np.nonzero(in_image)[0]
    if keep.size == 0:
        return units
    extra = o.take(keep)
    conf = np.concatenate([np.ones(len(units)), extra.conf if extra.conf is not None else np.ones(len(extra))])
    return Units(units.text + extra.text, np.concatenate([units.x0, extra.x0]), np.concatenate([units.top, extra.top]),
                 np.concatenate([units.x1, extra.x1]), np.concatenate([units.bottom, extra.bottom]), conf)


# --------------------------------------------------------------------------- PDFium geometry
def page_geometry(page, check_lost: bool = True) -> tuple[Units, Rulings, list[tuple[float, float, float, float]], int]:
    """(characters, ruling lines, picture boxes, text objects PDFium could not decode) of one page,
    top-left origin."""
    import pypdfium2.raw as raw

    _, height = page.get_size()
    units = _chars(page, height)
    h, v, images = [], [], []
    lost = _walk(raw, page, height, h, v, images, check_lost)
    rulings = Rulings(np.array(h, float).reshape(-1, 3), np.array(v, float).reshape(-1, 3))
    return units, rulings, images, lost


class _PdfminerPages:
    """The characters of the pages PDFium could not decode, as pdfminer decodes them. The document is
    parsed once, on the first such page, and its pages are taken in order (``_read_doc`` asks in page
    order); fonts are decoded once for the document. No layout analysis: ``extract_pages`` runs it
    whatever ``laparams`` says (None means its defaults), and grouping the characters into lines and
    boxes took about half of pdfminer's time on such a page for nothing (``layout`` groups them)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._pages = None
        self._next = 1  # the page the pages iterator gives next

    def chars(self, pno: int) -> Units:
        from pdfminer.converter import PDFPageAggregator
        from pdfminer.layout import LTChar
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        if self._pages is None:
            self._pages = PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(self.data))))
            resources = PDFResourceManager(caching=True)
            self._device = PDFPageAggregator(resources, laparams=None)
            self._interpreter = PDFPageInterpreter(resources, self._device)
        # the pages in between were decoded by PDFium; the page tree as pdfminer reads it may be shorter
        # than PDFium's: no such page, no characters
        page = next(itertools.islice(self._pages, pno - self._next, None), None)
        self._next = pno + 1
        text, x0, top, x1, bottom = [], [], [], [], []
        if page is not None:
            self._interpreter.process_page(page)
            lt_page = self._device.get_result()
            height = lt_page.height
            stack = list(lt_page)
            while stack:
                item = stack.pop()
                if isinstance(item, LTChar):
                    ch = item.get_text()
                    if ch.strip() and item.x1 > item.x0:
                        text.append(ch)
                        x0.append(item.x0)
                        x1.append(item.x1)
                        top.append(height - item.y1)
                        bottom.append(height - item.y0)
                elif hasattr(item, "__iter__"):
                    stack.extend(item)
        return Units(text, np.array(x0), np.array(top), np.array(x1), np.array(bottom))


def _chars(page, height: float) -> Units:
    import pypdfium2.raw as raw

    tp = page.get_textpage()
    try:
        n = raw.FPDFText_CountChars(tp.raw)
        if n <= 0:
            return Units([], *(np.zeros(0),) * 4)
        if n > MAX_CHARS:
            raise PdfRefused(f"pdf: a page has {n} characters, above the {MAX_CHARS} cap")
        buf = (ctypes.c_ushort * (n + 1))()
        got = raw.FPDFText_GetText(tp.raw, 0, n, buf)
        text = bytes(buf)[: max(0, got - 1) * 2].decode("utf-16-le", errors="replace")
        if len(text) != n:  # characters outside the BMP: one index, two UTF-16 units
            text = "".join(chr(raw.FPDFText_GetUnicode(tp.raw, i) or 32) for i in range(n))
        # one call per character is PDFium's only way to its boxes; the loose box (font ascent to
        # descent) gives every character of a line the same height, which the line grouping wants
        rect = raw.FS_RECTF()
        get = raw.FPDFText_GetLooseCharBox
        h = tp.raw
        flat: list[float] = []
        ext = flat.extend
        for i in range(n):
            get(h, i, rect)
            ext((rect.left, rect.top, rect.right, rect.bottom))
        boxes = np.array(flat).reshape(n, 4)
        # the loose box is wrong for some fonts (vertical labels in a narrow column get boxes 200 pt
        # square): there the glyph's own box, made as tall as it is wide (an em square), is used instead
        lw, lh = boxes[:, 2] - boxes[:, 0], boxes[:, 1] - boxes[:, 3]
        med = float(np.median(lh[lh > 0])) if (lh > 0).any() else 10.0
        bad = np.nonzero((lw > 2.5 * np.maximum(lh, 0.1)) | (lh > 4 * med))[0]
        if bad.size:
            left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            for i in bad:
                raw.FPDFText_GetCharBox(h, int(i), left, right, bottom, top)
                cy = (top.value + bottom.value) / 2
                em = max(right.value - left.value, top.value - bottom.value) / 2
                boxes[i] = (left.value, cy + em, right.value, cy - em)
    finally:
        tp.close()
    chars = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    # whitespace (including the spaces and line breaks PDFium generates) is layout, not text
    keep = ~np.isin(chars, (9, 10, 13, 32, 0xA0, 0x3000, 0xFFFE, 0xFFFF, 0)) & (boxes[:, 2] > boxes[:, 0])
    idx = np.nonzero(keep)[0]
    return Units([text[i] for i in idx], boxes[idx, 0], height - boxes[idx, 1], boxes[idx, 2],
                 height - boxes[idx, 3])


def _walk(raw, page, height: float, h: list, v: list, images: list, check_lost: bool = True) -> int:
    """Ruling lines and picture boxes of a page, forms (XObjects) entered with their matrices; -> the
    number of text objects PDFium decoded to nothing although they hold a string (a lost glyph)."""
    budget = MAX_OBJECTS
    lost = 0
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    TEXT, PATH, IMAGE, FORM = raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_FORM
    get_type, get_bounds = raw.FPDFPageObj_GetType, raw.FPDFPageObj_GetBounds
    # (page or form, object count, matrix of its content (None: the page's own), getter)
    stack = [(page.raw, raw.FPDFPage_CountObjects(page.raw), None, raw.FPDFPage_GetObject)]
    while stack:
        parent, count, m, get = stack.pop()
        budget -= count
        if budget < 0:
            h.clear()
            v.clear()
            return lost
        for k in range(count):
            obj = get(parent, k)
            t = get_type(obj)
            if t == TEXT:
                if not check_lost:
                    continue
                # a single CJK glyph of a non-embedded CID font comes out zero-wide and textless
                if get_bounds(obj, left, bottom, right, top) and right.value - left.value < 0.01:
                    lost += 1
            elif t == PATH:
                _path(raw, obj, m, height, h, v)
            elif t == IMAGE:
                box = _bounds(raw, obj, m, height)
                if box is not None:
                    images.append(box)
            elif t == FORM:
                stack.append((obj, raw.FPDFFormObj_CountObjects(obj), _compose(_matrix(raw, obj), m),
                              raw.FPDFFormObj_GetObject))
    return lost


Matrix = tuple[float, float, float, float, float, float]


def _compose(inner: Matrix, outer: Matrix | None) -> Matrix:
    """inner then outer (PDF row-vector convention)."""
    if outer is None:
        return inner
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: Matrix | None, x: float, y: float) -> tuple[float, float]:
    if m is None:
        return x, y
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _matrix(raw, obj) -> Matrix:
    fs = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, fs):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    return (fs.a, fs.b, fs.c, fs.d, fs.e, fs.f)


def _bounds(raw, obj, m: Matrix | None, height: float):
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    if not raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return None
    # bounds of an object inside a form are in the form's space
    xa, ya = _apply(m, left.value, bottom.value)
    xb, yb = _apply(m, right.value, top.value)
    return min(xa, xb), height - max(ya, yb), max(xa, xb), height - min(ya, yb)


def _add_if_line(box, max_thickness: float, h: list, v: list) -> None:
    """A box at most ``max_thickness`` thick and at least 3 pt long is a ruling line: horizontal ones go
    to ``h`` as (y, x0, x1), vertical ones to ``v`` as (x, y0, y1)."""
    if box is None:
        return
    x0, y0, x1, y1 = box
    w, hh = x1 - x0, y1 - y0
    if min(w, hh) <= max_thickness and max(w, hh) >= 3.0:
        if w >= hh:
            h.append(((y0 + y1) / 2, x0, x1))
        else:
            v.append(((x0 + x1) / 2, y0, y1))


def _path(raw, obj, m: Matrix | None, height: float, h: list, v: list) -> None:
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    raw.FPDFPath_GetDrawMode(obj, fill, stroke)
    if not stroke.value:
        # a filled shape is a line only when it is a thin bar (borders drawn as filled rectangles);
        # larger fills are cell shading or backgrounds. Its bounds suffice.
        _add_if_line(_bounds(raw, obj, m, height), 2.5, h, v)
        return
    n = raw.FPDFPath_CountSegments(obj)
    if n <= 0 or n > 10_000:
        return
    if n == 2:  # one straight stroke (most table borders): its bounds are the line, however thick
        _add_if_line(_bounds(raw, obj, m, height), 3.0, h, v)
        return
    mm = _compose(_matrix(raw, obj), m)
    x, y = ctypes.c_float(), ctypes.c_float()
    MOVETO, LINETO = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_LINETO
    start = prev = None
    for i in range(n):
        seg = raw.FPDFPath_GetPathSegment(obj, i)
        raw.FPDFPathSegment_GetPoint(seg, x, y)
        px, py = _apply(mm, x.value, y.value)
        pt = (px, height - py)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == MOVETO:
            start = pt
        elif kind == LINETO and prev is not None:
            _segment(prev[0], prev[1], pt[0], pt[1], h, v)
        if raw.FPDFPathSegment_GetClose(seg) and start is not None:
            _segment(pt[0], pt[1], start[0], start[1], h, v)
        prev = pt


def _segment(x0: float, y0: float, x1: float, y1: float, h: list, v: list) -> None:
    if abs(y1 - y0) < 1.0 and abs(x1 - x0) >= 3.0:
        h.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
    elif abs(x1 - x0) < 1.0 and abs(y1 - y0) >= 3.0:
        v.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
