"""Page geometry -> blocks, shared by the PDF text layer and OCR: positioned pieces of text (characters
from PDFium, or recognised boxes from OCR) and the ruling lines drawn on the page become paragraphs and
expanded table rows (``rows.Block``) in reading order.

- Ruled tables come from the lines: the row and column boundaries are the distinct positions of the
  horizontal and vertical lines of one connected set of lines; two neighbouring grid positions with no
  line between them are one merged box (its text repeated in every position as a ``span_copy``).
- Every piece of text is placed in the box its centre falls in, so a label or a number that wraps
  inside its box (``5、要求行政机关确认或重新出`` / ``具已获取信息``; ``424.823`` / ``6``) is one cell
  again: the lines of a box are joined without a separator (a space only between two Latin words).
- Text outside ruled tables becomes lines; a line whose pieces fall into groups separated by gaps wider
  than two character heights is an unruled table row (one cell per group), anything else a paragraph;
  a paragraph line that reaches the right margin continues on the next line (layout wrap, rejoined).

Coordinates are PDF points (or image pixels) with a top-left origin. Locators: ``page N, bbox
x0,top,x1,bottom`` for lines, ``page N, table T, row R, col C, bbox ...`` for table positions, with
``, ocr 0.87`` appended when the text was recognised (the lowest recognition confidence in the cell).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ingest.frontends.rows import MAX_COLS, Block

# Two ruling lines closer than this (points) are one boundary (thick or doubled borders).
SNAP = 2.0
# A grid column narrower than this with no text in it is a drawing artefact (two borders side by side).
MIN_COL_WIDTH = 4.0
# Lines per page above which the page is read as unruled (a hostile or plotted page, not a table).
MAX_SEGMENTS = 20_000


@dataclass
class Units:
    """Positioned pieces of text on one page (a character, or an OCR box)."""

    text: list[str]
    x0: np.ndarray
    top: np.ndarray
    x1: np.ndarray
    bottom: np.ndarray
    conf: np.ndarray | None = None  # recognition confidence per piece (None: a text layer, exact)

    def __len__(self) -> int:
        return len(self.text)

    def take(self, idx: np.ndarray) -> Units:
        return Units([self.text[i] for i in idx], self.x0[idx], self.top[idx], self.x1[idx], self.bottom[idx],
                     None if self.conf is None else self.conf[idx])


@dataclass
class Rulings:
    """Axis-aligned ruling lines of one page: horizontal (y, x0, x1) and vertical (x, y0, y1)."""

    h: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    v: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


def units_from_lists(text, x0, top, x1, bottom, conf=None) -> Units:
    return Units(list(text), np.asarray(x0, float), np.asarray(top, float), np.asarray(x1, float),
                 np.asarray(bottom, float), None if conf is None else np.asarray(conf, float))


# --------------------------------------------------------------------------- tables from lines
@dataclass
class _Table:
    xs: np.ndarray  # column boundaries
    ys: np.ndarray  # row boundaries
    region: np.ndarray  # (rows, cols) -> merged-box id (the flat index of its top-left position)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return float(self.xs[0]), float(self.ys[0]), float(self.xs[-1]), float(self.ys[-1])


def _snap(values: np.ndarray) -> np.ndarray:
    """Sorted distinct positions, values within SNAP of the previous one merged (their mean)."""
    v = np.sort(values)
    if v.size == 0:
        return v
    starts = np.concatenate([[True], np.diff(v) > SNAP])
    groups = np.cumsum(starts) - 1
    return np.bincount(groups, weights=v) / np.bincount(groups)


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_tables(rulings: Rulings) -> list[_Table]:
    h, v = rulings.h, rulings.v
    if len(h) < 2 or len(v) < 2 or len(h) + len(v) > MAX_SEGMENTS:
        return []
    # a horizontal and a vertical line touch: they belong to the same table
    touch = (
        (v[None, :, 0] >= h[:, None, 1] - SNAP)
        & (v[None, :, 0] <= h[:, None, 2] + SNAP)
        & (h[:, None, 0] >= v[None, :, 1] - SNAP)
        & (h[:, None, 0] <= v[None, :, 2] + SNAP)
    )
    nh = len(h)
    parent = np.arange(nh + len(v))
    for i, j in zip(*np.nonzero(touch)):
        a, b = _find(parent, int(i)), _find(parent, nh + int(j))
        if a != b:
            parent[a] = b
    roots = np.array([_find(parent, i) for i in range(len(parent))])
    tables = []
    for root in np.unique(roots):
        hs, vs = h[roots[:nh] == root], v[roots[nh:] == root]
        if len(hs) < 2 or len(vs) < 2:
            continue
        ys, xs = _snap(hs[:, 0]), _snap(vs[:, 0])
        # a table cut by a page break has no closing border on this page: its vertical lines run on
        # past the last horizontal one (and the other way round), and that open band is a row too
        ys = _open_edges(ys, vs[:, 1].min(), vs[:, 2].max())
        xs = _open_edges(xs, hs[:, 1].min(), hs[:, 2].max())
        if len(ys) < 2 or len(xs) < 2 or len(xs) - 1 > MAX_COLS:
            continue
        tables.append(_grid(xs, ys, hs, vs))
    return tables


def _open_edges(bounds: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if lo < bounds[0] - 3 * SNAP:
        bounds = np.concatenate([[lo], bounds])
    if hi > bounds[-1] + 3 * SNAP:
        bounds = np.concatenate([bounds, [hi]])
    return bounds


def _grid(xs: np.ndarray, ys: np.ndarray, hs: np.ndarray, vs: np.ndarray) -> _Table:
    nr, nc = len(ys) - 1, len(xs) - 1
    ymid = (ys[:-1] + ys[1:]) / 2
    xmid = (xs[:-1] + xs[1:]) / 2
    # vwall[r, k]: a vertical line at inner boundary xs[k] (k = 1..nc-1) crosses the middle of row r
    vwall = np.zeros((nr, nc + 1), bool)
    for x, y0, y1 in vs:
        k = int(np.argmin(np.abs(xs - x)))
        vwall[:, k] |= (ymid >= y0 - SNAP) & (ymid <= y1 + SNAP)
    hwall = np.zeros((nr + 1, nc), bool)
    for y, x0, x1 in hs:
        k = int(np.argmin(np.abs(ys - y)))
        hwall[k, :] |= (xmid >= x0 - SNAP) & (xmid <= x1 + SNAP)
    parent = np.arange(nr * nc)
    for r in range(nr):
        for c in range(nc):
            i = r * nc + c
            if c + 1 < nc and not vwall[r, c + 1]:
                a, b = _find(parent, i), _find(parent, i + 1)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            if r + 1 < nr and not hwall[r + 1, c]:
                a, b = _find(parent, i), _find(parent, i + nc)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    region = np.array([_find(parent, i) for i in range(nr * nc)]).reshape(nr, nc)
    return _Table(xs, ys, region)


# --------------------------------------------------------------------------- text of pieces
def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _lines(u: Units, idx: np.ndarray) -> list[np.ndarray]:
    """Pieces -> lines (top to bottom), each sorted left to right: sorted by their vertical centre, a
    new line starts where the centre moves down by more than half a piece's height."""
    if idx.size == 0:
        return []
    cy = (u.top[idx] + u.bottom[idx]) / 2
    o = np.argsort(cy, kind="stable")
    order, cys = idx[o], cy[o]
    hgt = np.maximum(u.bottom[order] - u.top[order], 0.1)
    breaks = np.nonzero(np.diff(cys) > 0.5 * np.minimum(hgt[1:], hgt[:-1]))[0] + 1
    out = []
    for ln in np.split(order, breaks) if breaks.size else [order]:
        out.append(ln[np.argsort(u.x0[ln], kind="stable")])
    return out


def _join(u: Units, line: np.ndarray) -> str:
    """One line's pieces as text: no separator between CJK pieces or between a digit and a CJK
    character (layout spacing); a space where two Latin letters or digits stand apart; the same glyph
    painted twice on itself (fake bold) once."""
    if line.size == 1:
        return u.text[line[0]]
    texts = [u.text[i] for i in line]
    size = np.maximum(u.bottom[line] - u.top[line], 1.0)[1:]
    gap = u.x0[line[1:]] - u.x1[line[:-1]]
    dup = (np.abs(u.x0[line[1:]] - u.x0[line[:-1]]) < 0.3 * size) & np.array(
        [a == b for a, b in zip(texts, texts[1:])])
    an_last = np.array([t[-1].isascii() and t[-1].isalnum() for t in texts])
    an_first = np.array([t[0].isascii() and t[0].isalnum() for t in texts])
    space = (gap > 0.25 * size) & an_last[:-1] & an_first[1:]
    parts = [texts[0]]
    for k in range(1, len(texts)):
        if dup[k - 1]:
            continue
        if space[k - 1]:
            parts.append(" ")
        parts.append(texts[k])
    return "".join(parts)


def _cell_text(u: Units, idx: np.ndarray) -> str:
    """All lines of a box joined: a label or number wrapped inside its box is one text again."""
    out = ""
    for ln in _lines(u, idx):
        s = _join(u, ln)
        if out and s and _is_latin(out[-1]) and _is_latin(s[0]):
            out += " "
        out += s
    return out


def _conf_suffix(u: Units, idx: np.ndarray) -> str:
    if u.conf is None or idx.size == 0:
        return ""
    return f", ocr {float(u.conf[idx].min()):.2f}"


# --------------------------------------------------------------------------- one page
def page_blocks(u: Units, rulings: Rulings, pno: int, table_no: list[int]) -> list[Block]:
    """Blocks of one page in reading order. ``table_no`` is the running table count of the document."""
    tables = find_tables(rulings)
    n = len(u)
    cx = (u.x0 + u.x1) / 2
    cy = (u.top + u.bottom) / 2
    free = np.ones(n, bool)
    items: list[tuple[float, int, list[Block]]] = []
    for t in tables:
        x0, y0, x1, y1 = t.bbox
        inside = free & (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
        idx = np.nonzero(inside)[0]
        if idx.size == 0:
            continue  # a drawn frame without text (a box, a stamp outline)
        free &= ~inside
        blocks = _table_rows(u, t, idx, pno, table_no)
        if blocks:
            items.append((y0, 0, blocks))
    items.extend(_free_lines(u, np.nonzero(free)[0], pno))
    items.sort(key=lambda x: (x[0], x[1]))
    return [b for _, _, bl in items for b in bl]


def _table_rows(u: Units, t: _Table, idx: np.ndarray, pno: int, table_no: list[int]) -> list[Block]:
    nr, nc = t.region.shape
    cx = (u.x0[idx] + u.x1[idx]) / 2
    cy = (u.top[idx] + u.bottom[idx]) / 2
    r = np.clip(np.searchsorted(t.ys, cy) - 1, 0, nr - 1)
    c = np.clip(np.searchsorted(t.xs, cx) - 1, 0, nc - 1)
    reg = t.region[r, c]
    by_region: dict[int, np.ndarray] = {}
    order = np.argsort(reg, kind="stable")
    reg_sorted = reg[order]
    bounds = np.nonzero(np.diff(reg_sorted))[0] + 1
    for chunk in np.split(order, bounds):
        if chunk.size:
            by_region[int(reg[chunk[0]])] = idx[chunk]
    # narrow empty columns are artefacts of doubled borders: drop them
    keep_cols = [
        k for k in range(nc)
        if t.xs[k + 1] - t.xs[k] >= MIN_COL_WIDTH or any(int(t.region[rr, k]) in by_region for rr in range(nr))
    ]
    regions_used = {int(x) for x in t.region[:, keep_cols].ravel()}
    # a table of one box per row spanning the whole width is a framed text, not a table
    if all(len({int(x) for x in t.region[rr, keep_cols]}) == 1 for rr in range(nr)):
        return [b for _, _, bl in _free_lines(u, idx, pno) for b in bl]
    table_no[0] += 1
    tno = table_no[0]
    texts = {g: _cell_text(u, by_region[g]) for g in regions_used if g in by_region}
    confs = {g: _conf_suffix(u, by_region[g]) for g in regions_used if g in by_region}
    # a merged box's own position is its first kept one (row-major): the rest are copies
    origin: dict[int, tuple[int, int]] = {}
    for rr in range(nr):
        for out_c, k in enumerate(keep_cols):
            origin.setdefault(int(t.region[rr, k]), (rr, out_c))
    out = []
    for rr in range(nr):
        cells, locs, copies = [], [], []
        for out_c, k in enumerate(keep_cols):
            g = int(t.region[rr, k])
            o = origin[g]
            copy = o != (rr, out_c)
            cells.append(texts.get(g, ""))
            copies.append(copy)
            loc = (f"page {pno}, table {tno}, row {rr + 1}, col {out_c + 1}, bbox {t.xs[k]:.0f},{t.ys[rr]:.0f},"
                   f"{t.xs[k + 1]:.0f},{t.ys[rr + 1]:.0f}{confs.get(g, '')}")
            if copy:
                loc += f" (merged, spans here {rr - o[0]},{out_c - o[1]})"
            locs.append(loc)
        if any(cells):
            out.append(Block("tab", cells, locs, copies))
    return out


def _free_lines(u: Units, idx: np.ndarray, pno: int) -> list[tuple[float, int, list[Block]]]:
    lines = _lines(u, idx)
    if not lines:
        return []
    right = max(float(u.x1[ln].max()) for ln in lines)
    items: list[tuple[float, int, list[Block]]] = []
    prev = None  # the open paragraph: [block, x1, bottom]
    for ln in lines:
        top, bottom = float(u.top[ln].min()), float(u.bottom[ln].max())
        x0, x1 = float(u.x0[ln].min()), float(u.x1[ln].max())
        size = float(np.median(u.bottom[ln] - u.top[ln])) or 10.0
        groups = _groups(u, ln, size)
        if len(groups) > 1:
            cells = [_join(u, g) for g in groups]
            locs = [f"page {pno}, bbox {u.x0[g].min():.0f},{top:.0f},{u.x1[g].max():.0f},{bottom:.0f}"
                    f"{_conf_suffix(u, g)}" for g in groups]
            items.append((top, 1, [Block("tab", cells, locs, [False] * len(cells))]))
            prev = None
            continue
        text = _join(u, ln)
        if prev is not None and prev[1] >= right - 1.5 * size and 0 <= top - prev[2] < 0.8 * size:
            prev[0].cells[0] += text  # a line wrapped by the layout, not a new paragraph
            prev[1], prev[2] = x1, bottom
            continue
        block = Block("para", [text], [f"page {pno}, bbox {x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}"
                                       f"{_conf_suffix(u, ln)}"], [False])
        prev = [block, x1, bottom]
        items.append((top, 1, [block]))
    return items


def _groups(u: Units, line: np.ndarray, size: float) -> list[np.ndarray]:
    """A line cut where the gap between pieces is wider than two character heights; never inside a run
    of digits, so one number stays one cell."""
    if line.size < 2:
        return [line]
    gaps = u.x0[line[1:]] - u.x1[line[:-1]]
    cuts = np.nonzero(gaps > 2.0 * size)[0] + 1
    return np.split(line, cuts) if cuts.size else [line]
