"""PDF front end (pdfplumber text layer): ruled tables found from their lines, merged boxes expanded
into the grid (text repeated as a ``span_copy``), the rest of each page as text lines, in reading order
across pages (a table continued on the next page is simply more rows of the same section).

A PDF without a text layer (scanned) or one that needs a password is refused with a clear reason;
nothing is guessed (no OCR). Locators are page + bounding box (PDF points, top-left origin).
Unruled tables fall back to text lines whose words are split into cells at wide gaps; digits of one
number are one word (pdfplumber joins characters closer than ``x_tolerance``), so two numbers are
never glued and one is never split.
"""

from __future__ import annotations

import io
import re

from ingest.frontends.rows import Block, para

MAX_PAGES = 500
# pdfplumber puts a space where glyphs are further apart than x_tolerance; between CJK characters
# (and CJK next to a digit) that space is layout, not text.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef\d])|(?<=\d) (?=[\u3000-\u9fff])")


def read(data: bytes) -> tuple[list[Block] | None, str | None]:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = pdf.pages
    except Exception as e:  # pdfminer raises its own types for encryption and corruption
        name = type(e).__name__
        cause = f"{name} {e!r} {type(e.__cause__).__name__ if e.__cause__ else ''}"
        if "Password" in cause or "Encrypt" in cause or "password" in cause.lower() or b"/Encrypt" in data[-65536:]:
            return None, "pdf: encrypted, a password is needed to read it (no text layer read)"
        return None, f"pdf could not be opened: {name}: {e}"[:300]
    with pdf:
        if len(pages) > MAX_PAGES:
            return None, f"pdf has {len(pages)} pages, above the {MAX_PAGES}-page cap"
        blocks: list[Block] = []
        n_chars = 0
        n_tables = 0
        try:
            for pno, page in enumerate(pages, start=1):
                n_chars += len(page.chars)
                if not page.chars:
                    continue
                items = []  # (top, order, blocks)
                tables = page.find_tables()
                for t in tables:
                    n_tables += 1
                    items.append((t.bbox[1], 0, _table_blocks(t, pno, n_tables)))
                rest = page
                for t in tables:
                    rest = rest.outside_bbox(t.bbox)
                text_lines = rest.extract_text_lines(layout=False, strip=True, return_chars=True)
                right = max((ln["x1"] for ln in text_lines), default=0.0)
                prev = None  # the open paragraph: [top, block, x1, bottom, size]
                for ln in text_lines:
                    block = _line_block(ln, pno)
                    size = max((c.get("size") or 10.0) for c in ln["chars"]) if ln["chars"] else 10.0
                    if (
                        block.kind == "para"
                        and prev is not None
                        and prev[1].kind == "para"
                        and prev[2] >= right - 1.5 * size
                        and 0 <= ln["top"] - prev[3] < 0.8 * size
                    ):
                        # a line wrapped by the layout, not a new paragraph: rejoin it
                        prev[1].cells[0] += block.cells[0]
                        prev[2], prev[3] = ln["x1"], ln["bottom"]
                        continue
                    prev = [ln["top"], block, ln["x1"], ln["bottom"], size]
                    items.append((ln["top"], 1, [block]))
                items.sort(key=lambda x: (x[0], x[1]))
                for _, _, bl in items:
                    blocks.extend(bl)
        except Exception as e:
            name = type(e).__name__
            if "Password" in name or "Encrypt" in name:
                return None, "pdf: encrypted, a password is needed to read it (no text layer read)"
            return None, f"pdf text layer could not be read: {name}: {e}"[:300]
        if n_chars == 0:
            return None, "pdf: no text layer (a scanned PDF?): quarantined, not guessed (no OCR)"
        return blocks, None


def _line_block(ln: dict, pno: int) -> Block:
    """A text line outside ruled tables: one paragraph, or - when its characters fall into groups
    separated by gaps wider than two character widths (an unruled table row) - one cell per group.
    A group is never cut inside a run of digits, so one number stays one cell."""
    chars = [c for c in ln["chars"] if c["text"].strip()]
    loc = f"page {pno}, bbox {ln['x0']:.0f},{ln['top']:.0f},{ln['x1']:.0f},{ln['bottom']:.0f}"
    if len(chars) < 2:
        return para(_CJK_GAP.sub("", ln["text"]), loc)
    groups: list[list[dict]] = [[chars[0]]]
    for prev, ch in zip(chars, chars[1:], strict=False):
        size = max(prev.get("size") or 10.0, 1.0)
        if ch["x0"] - prev["x1"] > 2.0 * size:
            groups.append([ch])
        else:
            groups[-1].append(ch)
    if len(groups) == 1:
        return para(_CJK_GAP.sub("", ln["text"]), loc)
    cells = ["".join(c["text"] for c in g) for g in groups]
    locs = [f"page {pno}, bbox {g[0]['x0']:.0f},{ln['top']:.0f},{g[-1]['x1']:.0f},{ln['bottom']:.0f}" for g in groups]
    return Block("tab", cells, locs, [False] * len(cells))


def _table_blocks(table, pno: int, tno: int) -> list[Block]:
    """Rows of one ruled table; a position inside a merged box repeats its text as a copy."""
    texts = table.extract(x_tolerance=1.5, y_tolerance=3)
    rows = table.rows
    cols = table.columns
    # merged boxes: every cell bbox with its origin (row, col)
    origin_of: dict[tuple[int, int], tuple[int, int]] = {}
    row_tops = [r.bbox[1] for r in rows]
    col_lefts = [c.bbox[0] for c in cols]
    for cell in table.cells:
        x0, top, x1, bottom = cell
        r0 = _index(row_tops, top)
        c0 = _index(col_lefts, x0)
        if r0 is None or c0 is None:
            continue
        for ri, r in enumerate(rows):
            if r.bbox[1] >= top - 0.5 and r.bbox[3] <= bottom + 0.5:
                for ci, c in enumerate(cols):
                    if c.bbox[0] >= x0 - 0.5 and c.bbox[2] <= x1 + 0.5:
                        origin_of[(ri, ci)] = (r0, c0)
    out = []
    for ri, r in enumerate(rows):
        cells, locs, copies = [], [], []
        for ci, c in enumerate(cols):
            o = origin_of.get((ri, ci), (ri, ci))
            text = ""
            if o[0] < len(texts) and o[1] < len(texts[o[0]]):
                text = texts[o[0]][o[1]] or ""
            text = " ".join(text.split())
            cells.append(text)
            copies.append(o != (ri, ci))
            x0, x1 = c.bbox[0], c.bbox[2]
            locs.append(f"page {pno}, table {tno}, row {ri + 1}, col {ci + 1}, bbox {x0:.0f},{r.bbox[1]:.0f},{x1:.0f},{r.bbox[3]:.0f}")
        if any(cells):
            out.append(Block("tab", cells, locs, copies))
    return out


def _index(values: list[float], v: float) -> int | None:
    for i, x in enumerate(values):
        if abs(x - v) < 1.0:
            return i
    return None
