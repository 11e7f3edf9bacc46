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
    nh, nv = len(h), len(v)
    # connected sets of lines: each line takes the smallest label among the lines it touches, until
    # nothing changes (a table's lines are a few hops apart)
    big = nh + nv
    lab_h, lab_v = np.arange(nh), np.arange(nh, nh + nv)
    for _ in range(big):
        new_h = np.minimum(lab_h, np.where(touch, lab_v[None, :], big).min(axis=1))
        new_v = np.minimum(lab_v, np.where(touch, new_h[:, None], big).min(axis=0))
        if (new_h == lab_h).all() and (new_v == lab_v).all():
            break
        lab_h, lab_v = new_h, new_v
    roots = np.concatenate([lab_h, lab_v])
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
    # vwall[r, k]: a vertical line at boundary xs[k] crosses the middle of row r (hwall likewise)
    vwall = np.zeros((nc + 1, nr), bool)
    kv = np.abs(xs[None, :] - vs[:, :1]).argmin(axis=1)
    np.logical_or.at(vwall, kv, (ymid[None, :] >= vs[:, 1:2] - SNAP) & (ymid[None, :] <= vs[:, 2:3] + SNAP))
    hwall = np.zeros((nr + 1, nc), bool)
    kh = np.abs(ys[None, :] - hs[:, :1]).argmin(axis=1)
    np.logical_or.at(hwall, kh, (xmid[None, :] >= hs[:, 1:2] - SNAP) & (xmid[None, :] <= hs[:, 2:3] + SNAP))
    join_right = ~vwall.T[:, 1:nc]  # (r, c) and (r, c+1) are one box
    join_down = ~hwall[1:nr, :]  # (r, c) and (r+1, c) are one box
    # every position takes the smallest flat index of its box (its top-left position for a rectangle)
    region = np.arange(nr * nc).reshape(nr, nc)
    for _ in range(nr * nc):
        a = region.copy()
        m = np.minimum(a[:, :-1], a[:, 1:])
        a[:, :-1] = np.where(join_right, m, a[:, :-1])
        a[:, 1:] = np.where(join_right, np.minimum(a[:, 1:], m), a[:, 1:])
        m = np.minimum(a[:-1, :], a[1:, :])
        a[:-1, :] = np.where(join_down, np.minimum(a[:-1, :], m), a[:-1, :])
        a[1:, :] = np.where(join_down, np.minimum(a[1:, :], m), a[1:, :])
        if (a == region).all():
            break
        region = a
    return _Table(xs, ys, region)


# --------------------------------------------------------------------------- text of pieces
def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


# --------------------------------------------------------------------------- one page
def page_blocks(u: Units, rulings: Rulings, pno: int, table_no: list[int]) -> list[Block]:
    """Blocks of one page in reading order. ``table_no`` is the running table count of the document."""
    n = len(u)
    cx = (u.x0 + u.x1) / 2
    cy = (u.top + u.bottom) / 2
    key = np.full(n, -1, np.int64)  # the merged box a piece lies in (a page-wide id), -1: free text
    placed: list[tuple[_Table, int, list[int]]] = []
    base = 0
    for t in find_tables(rulings):
        nr, nc = t.region.shape
        x0, y0, x1, y1 = t.bbox
        idx = np.nonzero((key < 0) & (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1))[0]
        if idx.size == 0:
            continue  # a drawn frame without text (a box, a stamp outline)
        r = np.clip(np.searchsorted(t.ys, cy[idx]) - 1, 0, nr - 1)
        c = np.clip(np.searchsorted(t.xs, cx[idx]) - 1, 0, nc - 1)
        reg = t.region[r, c]
        used = set(np.unique(reg).tolist())
        # narrow empty columns are artefacts of doubled borders: drop them
        keep_cols = [k for k in range(nc)
                     if t.xs[k + 1] - t.xs[k] >= MIN_COL_WIDTH or used & set(t.region[:, k].tolist())]
        # a table of one box per row spanning the whole width is a framed text, not a table
        if all(len(set(t.region[rr, keep_cols].tolist())) == 1 for rr in range(nr)):
            continue
        key[idx] = base + reg
        placed.append((t, base, keep_cols))
        base += nr * nc
    seg = _segments(u, key)
    items: list[tuple[float, int, list[Block]]] = []
    for t, b0, keep_cols in placed:
        items.append((t.bbox[1], 0, _table_rows(t, b0, keep_cols, seg, pno, table_no)))
    items.extend(_free_lines(seg, pno))
    items.sort(key=lambda x: (x[0], x[1]))
    return [b for _, _, bl in items for b in bl]


_ASCII_ALNUM = np.array([chr(i).isalnum() for i in range(128)])
_ASCII_ALPHA = np.array([chr(i).isalpha() for i in range(128)])


@dataclass
class _Segments:
    """The page's pieces as runs of text: a run is a line of one box (tables) or a part of a free line
    between wide gaps. Arrays are per run, in (box, line, x) order."""

    text: list[str]
    key: np.ndarray
    line: np.ndarray
    x0: np.ndarray
    x1: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    size: np.ndarray  # mean piece height of the run's line
    conf: np.ndarray | None


def _segments(u: Units, key: np.ndarray) -> _Segments:
    """All pieces of a page grouped at once (one sort, one pass): by box, then into lines (sorted by
    vertical centre, a new line where the centre moves down by more than half a piece's height), each
    line left to right; free lines cut where the gap is wider than two character heights (never inside
    a run of digits, so one number stays one cell). Joining: no separator between CJK pieces or between
    a digit and a CJK character (layout spacing), a space where two Latin letters or digits stand
    apart, a glyph painted twice on itself (fake bold) once."""
    n = len(u)
    if n == 0:
        z = np.zeros(0)
        return _Segments([], z.astype(np.int64), z.astype(np.int64), z, z, z, z, z, None)
    cy = (u.top + u.bottom) / 2
    hgt = np.maximum(u.bottom - u.top, 0.1)
    o1 = np.lexsort((cy, key))
    k1, c1, h1 = key[o1], cy[o1], hgt[o1]
    newline = np.ones(n, bool)
    newline[1:] = (k1[1:] != k1[:-1]) | (np.diff(c1) > 0.5 * np.minimum(h1[1:], h1[:-1]))
    line_of = np.empty(n, np.int64)
    line_of[o1] = np.cumsum(newline) - 1
    o = np.lexsort((u.x0, line_of))
    lo = line_of[o]
    x0, x1, sz = u.x0[o], u.x1[o], np.maximum(hgt[o], 1.0)
    n_lines = int(lo[-1]) + 1
    line_size = np.bincount(lo, weights=sz, minlength=n_lines) / np.maximum(np.bincount(lo, minlength=n_lines), 1)
    texts = [u.text[i] for i in o]
    joined = "".join(texts)
    single = len(joined) == n  # every piece one character (the text layer; OCR pieces too)
    if single:
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")
        alnum = (codes < 128) & _ASCII_ALNUM[np.minimum(codes, 127)]
        an_last = an_first = alnum
        al_last = al_first = (codes < 128) & _ASCII_ALPHA[np.minimum(codes, 127)]
        eq = codes[1:] == codes[:-1]
    else:
        an_last = np.fromiter((t[-1].isascii() and t[-1].isalnum() for t in texts), bool, n)
        an_first = np.fromiter((t[0].isascii() and t[0].isalnum() for t in texts), bool, n)
        al_last = np.fromiter((t[-1].isascii() and t[-1].isalpha() for t in texts), bool, n)
        al_first = np.fromiter((t[0].isascii() and t[0].isalpha() for t in texts), bool, n)
        eq = np.fromiter((a == b for a, b in zip(texts, texts[1:])), bool, n - 1)
    same = lo[1:] == lo[:-1]
    gap = x0[1:] - x1[:-1]
    dup = same & eq & (np.abs(x0[1:] - x0[:-1]) < 0.3 * sz[1:])
    # a word space is about a quarter em; next to a letter a smaller gap already is one (loose
    # boxes abut inside a word), between two digits it takes the full quarter (a number never splits)
    space_gap = np.where(al_last[:-1] | al_first[1:], 0.12, 0.25) * sz[1:]
    space = same & (gap > space_gap) & an_last[:-1] & an_first[1:] & ~dup
    cut = same & (key[o][1:] < 0) & (gap > 2.0 * line_size[lo[1:]])
    start = np.ones(n, bool)
    start[1:] = ~same | cut
    if single:
        # the page's text in one array: kept characters, a space before those that need one
        keep = np.ones(n, bool)
        keep[1:] = ~dup
        space_before = np.zeros(n, bool)
        space_before[1:] = space & ~cut
        count = keep * (1 + space_before)
        end = np.cumsum(count)
        buf = np.full(int(end[-1]), 32, dtype="<u4")
        buf[(end - 1)[keep]] = codes[keep]
        text_all = buf.tobytes().decode("utf-32-le")
        offs = (end - count)[start].tolist() + [len(text_all)]
        out_text = [text_all[a:b] for a, b in zip(offs, offs[1:])]
    else:
        out_text, parts = [], []
        for p in range(n):
            if start[p]:
                if parts:
                    out_text.append("".join(parts))
                parts = [texts[p]]
            elif not dup[p - 1]:
                if space[p - 1]:
                    parts.append(" ")
                parts.append(texts[p])
        out_text.append("".join(parts))
    starts = np.nonzero(start)[0]
    conf = None if u.conf is None else np.minimum.reduceat(u.conf[o], starts)
    return _Segments(out_text, key[o][starts], lo[starts], np.minimum.reduceat(x0, starts),
                     np.maximum.reduceat(x1, starts), np.minimum.reduceat(u.top[o], starts),
                     np.maximum.reduceat(u.bottom[o], starts), line_size[lo[starts]], conf)


def _table_rows(t: _Table, base: int, keep_cols: list[int], seg: _Segments, pno: int,
                table_no: list[int]) -> list[Block]:
    nr, nc = t.region.shape
    table_no[0] += 1
    tno = table_no[0]
    mine = np.nonzero((seg.key >= base) & (seg.key < base + nr * nc))[0]
    texts: dict[int, str] = {}
    low: dict[int, float] = {}
    for i in mine:  # runs come in (box, line) order: a box's lines are joined in order
        g = int(seg.key[i]) - base
        prev = texts.get(g, "")
        s = seg.text[i]
        texts[g] = prev + (" " if prev and s and _is_latin(prev[-1]) and _is_latin(s[0]) else "") + s
        if seg.conf is not None:
            low[g] = min(low.get(g, 1.0), float(seg.conf[i]))
    # a merged box's own position is its first kept one (row-major): the rest are copies
    origin: dict[int, tuple[int, int]] = {}
    for rr, row in enumerate(t.region[:, keep_cols].tolist()):
        for out_c, g in enumerate(row):
            origin.setdefault(g, (rr, out_c))
    xs = [f"{x:.0f}" for x in t.xs]
    ys = [f"{y:.0f}" for y in t.ys]
    region = t.region.tolist()
    out = []
    for rr in range(nr):
        cells, locs, copies = [], [], []
        row = region[rr]
        head = f"page {pno}, table {tno}, row {rr + 1}, col "
        for out_c, k in enumerate(keep_cols):
            g = row[k]
            o = origin[g]
            copy = o != (rr, out_c)
            cells.append(texts.get(g, ""))
            copies.append(copy)
            loc = f"{head}{out_c + 1}, bbox {xs[k]},{ys[rr]},{xs[k + 1]},{ys[rr + 1]}"
            if g in low:
                loc += f", ocr {low[g]:.2f}"
            if copy:
                loc += f" (merged, spans here {rr - o[0]},{out_c - o[1]})"
            locs.append(loc)
        if any(cells):
            out.append(Block("tab", cells, locs, copies))
    return out


def _free_lines(seg: _Segments, pno: int) -> list[tuple[float, int, list[Block]]]:
    free = np.nonzero(seg.key < 0)[0]
    if free.size == 0:
        return []
    right = float(seg.x1[free].max())
    items: list[tuple[float, int, list[Block]]] = []
    prev = None  # the open paragraph: [block, x1, bottom]
    bounds = np.nonzero(np.diff(seg.line[free]))[0] + 1
    for ln in np.split(free, bounds):
        top, bottom = float(seg.top[ln].min()), float(seg.bottom[ln].max())
        x0, x1 = float(seg.x0[ln].min()), float(seg.x1[ln].max())
        size = float(seg.size[ln[0]]) or 10.0

        def conf(i: int) -> str:
            return "" if seg.conf is None else f", ocr {float(seg.conf[i]):.2f}"

        if ln.size > 1:
            cells = [seg.text[i] for i in ln]
            locs = [f"page {pno}, bbox {seg.x0[i]:.0f},{top:.0f},{seg.x1[i]:.0f},{bottom:.0f}{conf(i)}" for i in ln]
            items.append((top, 1, [Block("tab", cells, locs, [False] * len(cells))]))
            prev = None
            continue
        text = seg.text[ln[0]]
        if prev is not None and prev[1] >= right - 1.5 * size and 0 <= top - prev[2] < 0.8 * size:
            prev[0].cells[0] += text  # a line wrapped by the layout, not a new paragraph
            prev[1], prev[2] = x1, bottom
            continue
        block = Block("para", [text], [f"page {pno}, bbox {x0:.0f},{top:.0f},{x1:.0f},{bottom:.0f}{conf(ln[0])}"],
                      [False])
        prev = [block, x1, bottom]
        items.append((top, 1, [block]))
    return items
