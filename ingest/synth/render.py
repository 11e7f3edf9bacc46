"""Table renderers: tab-separated text (docx export style) and markdown pipe tables.

Each renderer takes the printed cells (``Cell`` objects keyed by (table, row, col)) and the template
spec, and returns text lines.  Label text comes from the YAML (canonical label or one of its
aliases), then gets the report's punctuation style (full/half-width parentheses, spaces, quotes).
"""

from __future__ import annotations

import functools
import random
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from .cells import Cell
from .schema import (
    RowSpec,
    TemplateSpec,
    normalise_label,
    t3_balance_note,
    t3_header_groups,
    t4_physical_order,
    template_spec,
)
from .schema import (
    _label_variants as _variants,
)

# First header cell of every 表二 sub-table (a fixed form token; not in the YAML).
T2_FIRST_HEADER = "信息内容"

CellMap = dict[tuple[str, str, str], Cell]

_HALF = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":"})
_FULL = str.maketrans({"(": "（", ")": "）", ",": "，", ":": "："})
_LEAD_MARKER = re.compile(r"^(\([一二三四五六七八九十]+\))")
_APPLY_CACHE: dict[tuple, str] = {}


@dataclass
class LabelStyle:
    paren: str = "half"  # full | half | half_space
    comma_space: bool = False
    quote: str = "curly"  # curly | straight | none
    alias_p: float = 0.0  # chance to print a YAML alias instead of the canonical label
    split_header_p: float = 0.0  # chance to write 4-char header words with a space (结果 维持)

    @classmethod
    def random(cls, rng: random.Random) -> LabelStyle:
        return cls(
            paren=rng.choices(["full", "half", "half_space"], weights=(4, 3, 3))[0],
            comma_space=rng.random() < 0.4,
            quote=rng.choices(["curly", "straight", "none"], weights=(6, 2, 2))[0],
            alias_p=rng.choice([0.0, 0.0, 0.15, 0.35]),
            split_header_p=rng.choice([0.0, 0.0, 0.5, 1.0]),
        )

    def apply(self, s: str) -> str:
        key = (self.paren, self.comma_space, self.quote, s)
        out = _APPLY_CACHE.get(key)
        if out is None:
            out = _APPLY_CACHE[key] = self._apply(s)
        return out

    def _apply(self, s: str) -> str:
        s = s.translate(_HALF)
        if self.quote == "straight":
            s = s.replace("“", '"').replace("”", '"')
        elif self.quote == "none":
            s = s.replace("“", "").replace("”", "")
        if self.paren == "full":
            return s.translate(_FULL)
        if self.comma_space:
            s = s.replace(",", ", ")
        if self.paren == "half_space":
            s = _LEAD_MARKER.sub(r"\1 ", s)
        return s

    def pick(self, rng: random.Random, spec_item) -> str:
        variants = _variants(spec_item)
        if len(variants) > 1 and rng.random() < self.alias_p:
            return self.apply(rng.choice(variants[1:]))
        return self.apply(variants[0])

    def header_word(self, rng: random.Random, s: str) -> str:
        s = self.apply(s)
        if len(s) == 4 and rng.random() < self.split_header_p:
            return s[:2] + " " + s[2:]
        return s


# ------------------------------------------------------------------------------------------------
# Structured tables (for the HTML/DOCX/PDF renderers in ``formats.py``)
# ------------------------------------------------------------------------------------------------
# While a ``capture()`` block is active, every table renderer also records the table it drew as a
# grid of merged cells (the structure a CMS page or a Word file would have), together with the text
# lines it returned, so another format can replace those lines by a real table.  Recording never
# draws from the rng: the text output is byte-identical with or without capture.


@dataclass
class SpanCell:
    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass
class SpanTable:
    table: str  # t2 | t3 | t4
    rows: list[list[SpanCell]]
    text_lines: list[str]
    captions_outside: list[str] = field(default_factory=list)  # captions printed as paragraphs


_RECORDER: list[SpanTable] | None = None


@contextmanager
def capture():
    """Record the structured tables drawn inside the block: ``with capture() as tables: ...``."""
    global _RECORDER
    prev, _RECORDER = _RECORDER, []
    try:
        yield _RECORDER
    finally:
        _RECORDER = prev


def _record(table: SpanTable) -> None:
    if _RECORDER is not None:
        _RECORDER.append(table)


def _t2_span_rows(grids: list[tuple[str, list[list[str]]]], width: int = 4) -> list[list[SpanCell]]:
    """表二 as one 4-column table: caption rows span the width; a short row's spare columns are
    merged into its label (even sub-tables) or its last cell (odd ones). ``grids`` are unpadded."""
    rows: list[list[SpanCell]] = []
    for i, (caption, body) in enumerate(grids):
        rows.append([SpanCell(caption, colspan=width)])
        for row in body:
            cells = [SpanCell(c) for c in row]
            gap = width - len(cells)
            if gap > 0:
                (cells[0] if i % 2 == 0 else cells[-1]).colspan += gap
            rows.append(cells)
    return rows


_T2_LAST: list[tuple[str, list[list[str]]]] = []


def _t3_span_rows(
    spec: TemplateSpec, note: str, top: str, legal: str, hl: dict, outcome_label: str, data: list[tuple]
) -> list[list[SpanCell]]:
    """表三 the way the official form merges it: a 3-column label block and 1+5+1+1 value columns.
    ``data``: (kind, label, group_label | None, n_children, values) per data row."""
    cols = [c.key for c in spec.t3_cols]
    appl = cols[:-1]
    rows = [
        [SpanCell(note, colspan=3, rowspan=3), SpanCell(top, colspan=len(appl)), SpanCell(hl["total"], rowspan=3)],
        [SpanCell(hl[appl[0]], rowspan=2), SpanCell(legal, colspan=len(appl) - 1)],
        [SpanCell(hl[c]) for c in appl[1:]],
    ]
    n_outcome = sum(1 for d in data if d[0] != "L0")
    group_left = 0
    for kind, label, group, n_children, vals in data:
        lab: list[SpanCell] = []
        if kind == "L0":
            lab = [SpanCell(label, colspan=3)]
        elif kind == "first_outcome":
            lab = [SpanCell(outcome_label, rowspan=n_outcome), SpanCell(label, colspan=2)]
        elif kind in ("L1", "total"):
            lab = [SpanCell(label, colspan=2)]
        else:  # L2
            if group_left == 0:
                lab = [SpanCell(group, rowspan=n_children)]
                group_left = n_children
            group_left -= 1
            lab.append(SpanCell(label))
        rows.append(lab + [SpanCell(v) for v in vals])
    return rows


def _t4_span_rows(review: str, lit: str, without: str, after: str, sub: list[str], data: list[str]):
    n = len(sub)
    return [
        [SpanCell(review, colspan=n), SpanCell(lit, colspan=2 * n)],
        [SpanCell(s, rowspan=2) for s in sub] + [SpanCell(without, colspan=n), SpanCell(after, colspan=n)],
        [SpanCell(s) for s in sub + sub],
        [SpanCell(v) for v in data],
    ]


def _t3_children(spec: TemplateSpec) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in spec.t3_data_rows:
        if r.parent:
            out[r.parent] = out.get(r.parent, 0) + 1
    return out


# ------------------------------------------------------------------------------------------------
# Table "grids": lists of rows of cell strings, shared by tab and pipe serialisers
# ------------------------------------------------------------------------------------------------


def _caption(rng: random.Random, ls: LabelStyle, t) -> str:
    cap = ls.apply(t.caption)
    if rng.random() < 0.08:
        cap = cap.replace("条第", "条 第", 1)
    return cap


def t2_grids(
    rng: random.Random,
    spec: TemplateSpec,
    cells: CellMap,
    ls: LabelStyle,
    right_align: bool,
    width: int = 4,
    overrides: dict | None = None,
) -> list[tuple[str, list[list[str]]]]:
    """[(caption, rows)] where rows = header row + data rows, each ``width`` cells wide (padded).
    ``overrides`` maps (table_id, col_key) to a fixed header text (money columns and their unit)."""
    out = []
    overrides = overrides or {}
    _T2_LAST.clear()
    for t in spec.t2:
        head = [T2_FIRST_HEADER] + [overrides.get((t.table_id, c.key)) or ls.pick(rng, c) for c in t.cols]
        body = []
        for r in t.rows:
            body.append([ls.pick(rng, r)] + [cells[(t.table_id, r.key, c.key)].raw_text for c in t.cols])
        rows = [head] + body
        _T2_LAST.append((_caption(rng, ls, t), rows))
        padded = []
        for row in rows:
            gap = width - len(row)
            if gap > 0 and right_align and len(t.cols) == 1:
                row = [row[0]] + [""] * gap + row[1:]
            elif gap > 0:
                row = row + [""] * gap
            padded.append(row)
        out.append((_T2_LAST[-1][0], padded))
    return out


def _t3_header_labels(rng: random.Random, spec: TemplateSpec, ls: LabelStyle) -> dict[str, str]:
    return {c.key: ls.header_word(rng, ls.pick(rng, c)) for c in spec.t3_cols}


def _t3_row_kind(spec: TemplateSpec) -> dict[str, tuple[str, bool]]:
    """row key -> (kind, first_child) where kind in L0, first_outcome, L1, L2, total."""
    kinds: dict[str, tuple[str, bool]] = {}
    in_outcome = False
    first_outcome_done = False
    seen_parent: set[str] = set()
    for r in spec.t3_rows:
        if not r.data:
            if r.level == 0:
                in_outcome = True  # 三、本年度办理结果
            continue
        if r.key == "total_processed":
            kinds[r.key] = ("total", False)
            in_outcome = False
            continue
        if not in_outcome:
            kinds[r.key] = ("L0", False)
            continue
        if not first_outcome_done:
            kinds[r.key] = ("first_outcome", False)
            first_outcome_done = True
            continue
        if r.parent:
            first = r.parent not in seen_parent
            seen_parent.add(r.parent)
            kinds[r.key] = ("L2", first)
        else:
            kinds[r.key] = ("L1", False)
    return kinds


def _rows_by_key(spec: TemplateSpec) -> dict[str, RowSpec]:
    return {r.key: r for r in spec.t3_rows}


# ------------------------------------------------------------------------------------------------
# Tab-separated text
# ------------------------------------------------------------------------------------------------


@dataclass
class TabStyle:
    pads: dict  # row kind -> empties between label cells and values
    trails: dict  # row kind -> trailing empties
    header_lead: int  # extra empty cells after the note cell in the header block
    total_in_first_header_row: bool
    total_label_first_col: bool  # (七)总计 printed in the first column (no leading empty cell)
    blank_line_before_outcomes: bool
    phantom_zero: bool  # all-zero (六)/(七) rows carry an extra 0 cell
    t2_right_align: bool
    jitter_p: float

    @classmethod
    def random(cls, rng: random.Random) -> TabStyle:
        pad_l0 = rng.choices([0, 1, 2], weights=(5, 4, 1))[0]
        return cls(
            pads={
                "L0": pad_l0,
                "carried_to_next_year": rng.choice([pad_l0, 1, 2]),
                "first_outcome": rng.choices([1, 0, 2], weights=(6, 2, 1))[0],
                "L1": rng.choices([1, 0, 2], weights=(6, 2, 1))[0],
                "L2": rng.choices([1, 0], weights=(7, 2))[0],
                "total": rng.choices([1, 0, 2], weights=(6, 2, 1))[0],
            },
            trails={
                k: rng.choice([0, 1])
                for k in ("L0", "carried_to_next_year", "first_outcome", "L1", "L2", "total")
            },
            header_lead=rng.choices([0, 1], weights=(3, 2))[0],
            total_in_first_header_row=rng.random() < 0.7,
            total_label_first_col=rng.random() < 0.4,
            blank_line_before_outcomes=rng.random() < 0.3,
            phantom_zero=rng.random() < 0.2,
            t2_right_align=rng.random() < 0.5,
            jitter_p=rng.choice([0.0, 0.0, 0.05]),
        )


def tab_t2(
    rng: random.Random,
    spec: TemplateSpec,
    cells: CellMap,
    ls: LabelStyle,
    ts: TabStyle,
    overrides: dict | None = None,
) -> list[str]:
    lines = []
    for caption, rows in t2_grids(rng, spec, cells, ls, ts.t2_right_align, overrides=overrides):
        lines.append(f"{caption}\t\t\t")
        for row in rows:
            lines.append("\t".join(row))
    _record(SpanTable("t2", _t2_span_rows(list(_T2_LAST)), list(lines)))
    return lines


def tab_t3(rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle, ts: TabStyle) -> list[str]:
    note = ls.apply(t3_balance_note())
    top, legal = (ls.apply(x) for x in t3_header_groups())
    hl = _t3_header_labels(rng, spec, ls)
    cols = [c.key for c in spec.t3_cols]
    appl = cols[:-1]
    lead = [""] * ts.header_lead
    if ts.total_in_first_header_row:
        h1 = [note] + lead + [top] + [""] * (len(appl) - 1) + [hl["total"]]
        h2 = [""] + lead + [hl[appl[0]], legal] + [""] * (len(appl) - 2) + [""]
    else:
        h1 = [note] + lead + [top] + [""] * len(appl)
        h2 = [""] + lead + [hl[appl[0]], legal] + [""] * (len(appl) - 2) + [hl["total"]]
    h3 = [""] + lead + [""] + [hl[c] for c in appl[1:]] + [""]
    lines = ["\t".join(h1), "\t".join(h2), "\t".join(h3)]

    kinds = _t3_row_kind(spec)
    rows = _rows_by_key(spec)
    outcome_label = ls.pick(rng, next(r for r in spec.t3_rows if not r.data and r.level == 0))
    children = _t3_children(spec)
    span_data: list[tuple] = []
    for r in spec.t3_data_rows:
        kind, first_child = kinds[r.key]
        label = ls.pick(rng, r)
        if kind == "L0":
            lab = [label]
            style_key = "carried_to_next_year" if r.key == "carried_to_next_year" else "L0"
        elif kind == "first_outcome":
            if ts.blank_line_before_outcomes:
                lines.append("")
            lab, style_key = [outcome_label, label], "first_outcome"
        elif kind == "L1":
            lab, style_key = ["", label], "L1"
        elif kind == "L2":
            group = ls.pick(rng, rows[r.parent]) if first_child else ""
            lab, style_key = ["", group, label], "L2"
            span_data.append((kind, label, group, children.get(r.parent, 1), [cells[("t3", r.key, c)].raw_text for c in cols]))
        else:  # total
            lab = [label] if ts.total_label_first_col else ["", label]
            style_key = "total"
        if kind != "L2":
            span_data.append((kind, label, None, 0, [cells[("t3", r.key, c)].raw_text for c in cols]))
        pad = ts.pads[style_key] + (1 if rng.random() < ts.jitter_p else 0)
        vals = [cells[("t3", r.key, c)].raw_text for c in cols]
        trail = [""] * ts.trails[style_key]
        if (
            ts.phantom_zero
            and kind in ("L1", "total")
            and r.parent is None
            and all(v == "0" for v in vals)
            and r.key in ("other_processing", "total_processed")
        ):
            vals = vals + ["0"]
        lines.append("\t".join(lab + [""] * pad + vals + trail))
    _record(SpanTable("t3", _t3_span_rows(spec, note, top, legal, hl, outcome_label, span_data), list(lines)))
    return lines


def _t4_headers(
    rng: random.Random, spec: TemplateSpec, ls: LabelStyle
) -> tuple[str, str, str, str, list[str]]:
    review = spec.t4_rows[0].zh
    lit_parent, without = spec.t4_rows[1].zh.split("/")
    after = spec.t4_rows[2].zh.split("/")[-1]
    sub = [ls.header_word(rng, ls.pick(rng, c)) for c in spec.t4_cols]
    return review, lit_parent, without, after, sub


def tab_t4(
    rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle, trailing: bool
) -> list[str]:
    review, lit, without, after, sub = _t4_headers(rng, spec, ls)
    n = len(sub)
    h1 = [review] + [""] * (n - 1) + [lit] + [""] * (2 * n - 1)
    h2 = sub + [without] + [""] * (n - 1) + [after] + [""] * (n - 1)
    h3 = [""] * n + sub + sub
    data = [cells[("t4", r, c)].raw_text for r, c in t4_physical_order()]
    out = ["\t".join(h1), "\t".join(h2), "\t".join(h3), "\t".join(data + ([""] if trailing else []))]
    _record(SpanTable("t4", _t4_span_rows(review, lit, without, after, sub, data), list(out)))
    return out


# ------------------------------------------------------------------------------------------------
# Markdown pipe tables
# ------------------------------------------------------------------------------------------------


@dataclass
class PipeStyle:
    spaced: bool
    sep: str  # '---' | ':---:' | '-'
    repeat_spans: bool  # merged cells repeated in every spanned cell (HTML converter style)
    t2_separate: bool  # one markdown table per 表二 sub-table
    caption_bold: bool
    total_in_first_header_row: bool

    @classmethod
    def random(cls, rng: random.Random) -> PipeStyle:
        return cls(
            spaced=rng.random() < 0.7,
            sep=rng.choice(["---", "---", ":---:", "-"]),
            repeat_spans=rng.random() < 0.2,
            t2_separate=rng.random() < 0.5,
            caption_bold=rng.random() < 0.5,
            total_in_first_header_row=rng.random() < 0.5,
        )

    def row(self, cells: list[str]) -> str:
        if self.spaced:
            return "| " + " | ".join(cells) + " |"
        return "|" + "|".join(cells) + "|"

    def separator(self, n: int) -> str:
        return self.row([self.sep] * n)

    def table(self, rows: list[list[str]]) -> list[str]:
        return [self.row(rows[0]), self.separator(len(rows[0]))] + [self.row(r) for r in rows[1:]]


def _fill(row: list[str], repeat: bool) -> list[str]:
    """Repeat the last non-empty cell into the empty cells that follow it (colspan duplication)."""
    if not repeat:
        return row
    out, last = [], ""
    for c in row:
        if c:
            last = c
        out.append(c or last)
    return out


def pipe_t2(
    rng: random.Random,
    spec: TemplateSpec,
    cells: CellMap,
    ls: LabelStyle,
    ps: PipeStyle,
    overrides: dict | None = None,
) -> list[str]:
    lines: list[str] = []
    if ps.t2_separate:
        for caption, rows in t2_grids(rng, spec, cells, ls, right_align=False, width=0, overrides=overrides):
            lines += [f"**{caption}**" if ps.caption_bold else caption, ""]
            lines += ps.table(rows)
            lines.append("")
        _record(SpanTable("t2", _t2_span_rows(list(_T2_LAST)), list(lines)))
        return lines
    grid: list[list[str]] = []
    for caption, rows in t2_grids(rng, spec, cells, ls, right_align=True, width=4, overrides=overrides):
        grid.append(_fill([caption, "", "", ""], ps.repeat_spans))
        for row in rows:
            if ps.repeat_spans and row[1] == "" and row[-1] != "":  # right-aligned single value
                row = [row[0]] * 3 + [row[-1]]
            grid.append(row)
    out = ps.table(grid)
    _record(SpanTable("t2", _t2_span_rows(list(_T2_LAST)), list(out)))
    return out


def pipe_t3(
    rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle, ps: PipeStyle
) -> list[str]:
    note = ls.apply(t3_balance_note())
    top, legal = (ls.apply(x) for x in t3_header_groups())
    hl = _t3_header_labels(rng, spec, ls)
    cols = [c.key for c in spec.t3_cols]
    appl = cols[:-1]
    rep = ps.repeat_spans
    lab_blank = [note] * 3 if rep else ["", "", ""]
    if ps.total_in_first_header_row:
        h1 = [note, "", ""] + [top] + [""] * (len(appl) - 1) + [hl["total"]]
        h2 = lab_blank + [hl[appl[0]], legal] + [""] * (len(appl) - 2) + [hl["total"] if rep else ""]
    else:
        h1 = [note, "", ""] + [top] + [""] * len(appl)
        h2 = lab_blank + [hl[appl[0]], legal] + [""] * (len(appl) - 2) + [hl["total"]]
    h3 = lab_blank + [hl[appl[0]] if rep else ""] + [hl[c] for c in appl[1:]] + [hl["total"] if rep else ""]
    grid = [_fill(h1, rep), _fill(h2, rep) if rep else h2, h3]

    kinds = _t3_row_kind(spec)
    rows = _rows_by_key(spec)
    outcome_label = ls.pick(rng, next(r for r in spec.t3_rows if not r.data and r.level == 0))
    children = _t3_children(spec)
    span_data: list[tuple] = []
    children = _t3_children(spec)
    span_data: list[tuple] = []
    for r in spec.t3_data_rows:
        kind, first_child = kinds[r.key]
        label = ls.pick(rng, r)
        if kind == "L0":
            lab = [label] * 3 if rep else [label, "", ""]
        elif kind in ("first_outcome", "L1", "total"):
            head = outcome_label if (rep or kind == "first_outcome") else ""
            lab = [head, label, label if rep else ""]
        else:
            group = ls.pick(rng, rows[r.parent]) if (rep or first_child) else ""
            lab = [outcome_label if rep else "", group, label]
        vals = [cells[("t3", r.key, c)].raw_text for c in cols]
        span_data.append((kind, label, lab[1] if kind == "L2" else None, children.get(r.parent, 1), vals))
        grid.append(lab + vals)
    out = ps.table(grid)
    _record(SpanTable("t3", _t3_span_rows(spec, note, top, legal, hl, outcome_label, span_data), list(out)))
    return out


def pipe_t4(
    rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle, ps: PipeStyle
) -> list[str]:
    review, lit, without, after, sub = _t4_headers(rng, spec, ls)
    n = len(sub)
    rep = ps.repeat_spans
    h1 = _fill([review] + [""] * (n - 1) + [lit] + [""] * (2 * n - 1), rep)
    h2 = sub + _fill([without] + [""] * (n - 1) + [after] + [""] * (n - 1), rep)
    h3 = (sub if rep else [""] * n) + sub + sub
    data = [cells[("t4", r, c)].raw_text for r, c in t4_physical_order()]
    out = ps.table([h1, h2, h3, data])
    _record(SpanTable("t4", _t4_span_rows(review, lit, without, after, sub, data), list(out)))
    return out


# ------------------------------------------------------------------------------------------------
# Text layouts of published reports: pipes without the outer bars, pipes padded one cell a line, one
# cell per line, columns separated by spaces
# ------------------------------------------------------------------------------------------------
# Web pages and office exports of the official form break its rows anywhere. These renderers draw
# each table as a list of logical rows (label cells first, then values) and then write the rows in
# one of the physical forms found in published reports. A row remembers which truth cells it prints,
# so that a report cut off inside a table (a web-page opening) can keep exactly the rows it shows.

REAL_FORMS = ("pipe_bare", "pipe_padded", "cell_lines", "spaced_cols")


@dataclass
class TRow:
    cells: list[str]
    n_label: int  # leading label/header cells; "" is a merged cell left empty
    kind: str = "data"  # caption | header | data
    keys: tuple = ()  # (table, row, col) of the printed values


@dataclass
class RealStyle:
    form: str  # one of REAL_FORMS
    sep: str  # cell_lines: blank | bar | trail; spaced_cols: runs | single; pipes: ""
    extra_empty: bool  # rows end with one more empty cell ("0 | |")
    caption_tail: str  # after a caption: "" | " |" | " | |||"
    bar_line: str  # cell_lines/bar: the line between rows ("|", "||", "|||||")
    t3_header: str  # stacked | total_first | split_words
    next_line_p: float  # chance a data row's values start on the line after its label
    spaced_label_p: float  # chance a short row label is printed with a space inside (规 章)
    short_header_p: float  # chance a 表二 column header is cut short (本年新, 现行有效件)
    split_header_p: float  # chance a long 表二 column header has a space inside (本年新 制作数量)
    gap: int  # spaced_cols/runs: spaces between columns
    header_break_p: float  # pipe_bare: chance a header row breaks after its first two cells, "| " a line

    @classmethod
    def random(cls, rng: random.Random, form: str) -> RealStyle:
        sep = ""
        if form == "cell_lines":
            sep = rng.choice(["blank", "bar", "trail"])
        elif form == "spaced_cols":
            sep = rng.choices(["runs", "single"], weights=(3, 1))[0]
        return cls(
            form=form,
            sep=sep,
            extra_empty=rng.random() < 0.3,
            caption_tail=rng.choice(["", " |", " | |||"]),
            bar_line=rng.choice(["|", "||", "|||||"]),
            t3_header=rng.choice(["stacked", "total_first", "split_words"]),
            # a form that writes every cell on its own line has no line for the values to move to
            next_line_p=0.0 if form in ("pipe_padded", "cell_lines") else rng.choice([0.0, 0.0, 0.3, 1.0]),
            spaced_label_p=rng.choice([0.0, 0.0, 0.3]),
            short_header_p=rng.choice([0.0, 0.0, 0.4]),
            split_header_p=rng.choice([0.0, 0.3]),
            gap=rng.choice([2, 4, 6]),
            header_break_p=rng.choice([0.0, 0.0, 0.5]) if form == "pipe_bare" else 0.0,
        )


_CJK = re.compile(r"^[\u4e00-\u9fff]{2,6}$")


def _spaced_label(rng: random.Random, rs: RealStyle, s: str) -> str:
    """A short label with a space inside (规 章, 行政 许可), as a justified Word cell prints it."""
    if rs.spaced_label_p and _CJK.match(s) and rng.random() < rs.spaced_label_p:
        k = 1 if len(s) == 2 else rng.randint(1, len(s) - 1)
        return s[:k] + " " + s[k:]
    return s


@functools.cache
def _other_version_t2_aliases(version: str) -> dict[str, tuple[str, ...]]:
    other = template_spec("v2021" if version == "v2019" else "v2019")
    return {t.table_id: tuple(normalise_label(v) for c in t.cols for v in _variants(c)) for t in other.t2}


def _t2_header(rng: random.Random, rs: RealStyle, text: str, table_id: str, spec: TemplateSpec) -> str:
    """A 表二 column header, sometimes cut short or split the way narrow cells print it. A cut form
    must still name its template version: no column of the other version may start with it."""
    if "元" in text:
        return text  # the money unit the header carries must survive
    if rs.short_header_p and len(text) >= 5 and rng.random() < rs.short_header_p:
        others = _other_version_t2_aliases(spec.version).get(table_id, ())
        cuts = [
            k
            for k in range(max(3, len(text) - 4), len(text))
            if not any(o.startswith(normalise_label(text[:k])) for o in others)
        ]
        if cuts:
            return text[: rng.choice(cuts)]
    if rs.split_header_p and len(text) >= 6 and rng.random() < rs.split_header_p:
        return text[:3] + " " + text[3:]
    return text


def real_t2_rows(
    rng: random.Random,
    spec: TemplateSpec,
    cells: CellMap,
    ls: LabelStyle,
    rs: RealStyle,
    overrides: dict | None = None,
) -> tuple[list[TRow], SpanTable]:
    out: list[TRow] = []
    grids = t2_grids(rng, spec, cells, ls, right_align=False, width=0, overrides=overrides)
    for t, (caption, rows) in zip(spec.t2, grids, strict=True):
        out.append(TRow([caption], 1, "caption"))
        head = rows[0]
        head = [head[0]] + [_t2_header(rng, rs, h, t.table_id, spec) for h in head[1:]]
        out.append(TRow(head, len(head), "header"))
        for r, row in zip(t.rows, rows[1:], strict=True):
            keys = tuple((t.table_id, r.key, c.key) for c in t.cols)
            out.append(TRow([_spaced_label(rng, rs, row[0])] + row[1:], 1, "data", keys))
    return out, SpanTable("t2", _t2_span_rows(list(_T2_LAST)), [])


def _split_words(words: list[str]) -> tuple[list[str], list[str]]:
    """商业企业 | 科研机构 | … over two header rows: 商业 | 科研 | … then 企业 | 机构."""
    top, bottom = [], []
    for w in words:
        if len(w) == 4 and " " not in w:
            top.append(w[:2])
            bottom.append(w[2:])
        else:
            top.append(w)
    return top, bottom


def real_t3_rows(
    rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle, rs: RealStyle
) -> tuple[list[TRow], SpanTable]:
    note = ls.apply(t3_balance_note())
    top, legal = (ls.apply(x) for x in t3_header_groups())
    hl = _t3_header_labels(rng, spec, ls)
    cols = [c.key for c in spec.t3_cols]
    appl = cols[:-1]
    org_words = [hl[c] for c in appl[1:]]
    if rs.t3_header == "total_first":
        heads = [[note, top, hl["total"]], [hl[appl[0]], legal], org_words]
    elif rs.t3_header == "split_words":
        upper, lower = _split_words(org_words)
        heads = [[note, top], [hl[appl[0]], legal, hl["total"]], upper] + ([lower] if lower else [])
    else:
        heads = [[note, top], [hl[appl[0]], legal, hl["total"]], org_words]
    out = [TRow(h, len(h), "header") for h in heads]

    kinds = _t3_row_kind(spec)
    rows = _rows_by_key(spec)
    outcome_label = ls.pick(rng, next(r for r in spec.t3_rows if not r.data and r.level == 0))
    children = _t3_children(spec)
    span_data: list[tuple] = []
    for r in spec.t3_data_rows:
        kind, first_child = kinds[r.key]
        label = _spaced_label(rng, rs, ls.pick(rng, r))
        vals = [cells[("t3", r.key, c)].raw_text for c in cols]
        # the group label rides on the first row of its group, the way a merged cell exports
        if kind == "L0":
            lab = [label]
        elif kind == "first_outcome":
            lab = [outcome_label, label]
        elif kind == "L1":
            lab = ["", label]
        elif kind == "L2":
            group = ls.pick(rng, rows[r.parent]) if first_child else ""
            lab = ["", group, label]
        else:
            lab = [label] if rng.random() < 0.4 else ["", label]
        span_data.append((kind, label, lab[1] if kind == "L2" else None, children.get(r.parent, 1), vals))
        out.append(TRow(lab + vals, len(lab), "data", tuple(("t3", r.key, c) for c in cols)))
    return out, SpanTable("t3", _t3_span_rows(spec, note, top, legal, hl, outcome_label, span_data), [])


def real_t4_rows(
    rng: random.Random, spec: TemplateSpec, cells: CellMap, ls: LabelStyle
) -> tuple[list[TRow], SpanTable]:
    review, lit, without, after, sub = _t4_headers(rng, spec, ls)
    order = t4_physical_order()
    data = [cells[("t4", r, c)].raw_text for r, c in order]
    heads = [[review, lit], sub + [without, after], sub + sub]
    out = [TRow(h, len(h), "header") for h in heads]
    out.append(TRow(data, 0, "data", tuple(("t4", r, c) for r, c in order)))
    return out, SpanTable("t4", _t4_span_rows(review, lit, without, after, sub, data), [])


def _bar_line(cells: list[str], values_only: bool) -> str:
    s = " | ".join(cells) + " |"
    # a leading empty value must keep its bar, or every value would move one column left; a
    # leading empty label cell is only a merged cell (| (二)部分公开 | …)
    return "|" + s if values_only and cells and cells[0] == "" else s.lstrip()


def real_lines(rng: random.Random, rows: list[TRow], rs: RealStyle) -> tuple[list[str], list[int]]:
    """Write logical rows in the style's physical form -> (lines, index of each row's last line)."""
    lines: list[str] = []
    ends: list[int] = []
    for row in rows:
        labels, values = row.cells[: row.n_label], row.cells[row.n_label :]
        next_line = row.kind == "data" and labels and values and rng.random() < rs.next_line_p
        short = 4 - len(row.cells)  # a row narrower than the 4-column 表二 grid leaves empty cells
        if rs.form == "pipe_bare":
            if row.kind == "caption":
                lines.append(row.cells[0] + rs.caption_tail)
            elif row.kind == "header" and len(row.cells) > 2 and rng.random() < rs.header_break_p:
                # 信息内容 | 上一年项目数量 / | 本年增/减 / | 处理决定数量 / |
                lines.append(" | ".join(row.cells[:2]))
                lines += [f"| {c}" for c in row.cells[2:]] + ["|"]
            elif next_line:
                lines.append(_bar_line(labels, False))
                lines.append(_bar_line(values, True) + (" |" if rs.extra_empty else ""))
            else:
                extra = " |" if rs.extra_empty and row.kind == "data" else ""
                lines.append(_bar_line(row.cells, values_only=not labels) + extra)
        elif rs.form == "pipe_padded":
            if row.kind == "caption":
                lines.append(f" {row.cells[0]}  | |||")
            else:
                lines.append("| ")
                for i, c in enumerate(row.cells):
                    tail = " " + "|" * short if i == len(row.cells) - 1 and short > 0 else ""
                    lines.append(f" {c}  | {tail}" if c else " | ")
        elif rs.form == "cell_lines":
            printed = [c for c in row.cells if c]
            if rs.sep == "blank":
                for c in printed:
                    lines += [c, ""]
                ends.append(len(lines) - 2)
                continue
            if rs.sep == "bar" and row.kind != "caption":
                lines.append(rs.bar_line)
            if row.kind == "caption":
                lines.append(row.cells[0] + (" | ||||" if rs.sep == "bar" else " | |||"))
            else:
                for i, c in enumerate(printed):
                    last = i == len(printed) - 1
                    tail = ""
                    if last:
                        tail = " |" if rs.sep == "bar" else (" " + "|" * short if short > 0 else "")
                    lines.append(f"{c} |{tail}")
        else:  # spaced_cols
            gap = " " if rs.sep == "single" else " " * rs.gap
            printed = [c for c in row.cells if c]
            if next_line:
                lines.append(gap.join(c for c in labels if c))
                lines.append(gap.join(values))
            else:
                lines.append(gap.join(printed))
        ends.append(len(lines) - 1)
    return lines, ends


def real_table(
    rng: random.Random, rows: list[TRow], span: SpanTable, rs: RealStyle, record: bool = True
) -> tuple[list[str], list[int]]:
    """The table's lines and each row's last line; recorded for the other formats unless the report
    is to be cut (a cut table has no whole grid to draw)."""
    lines, ends = real_lines(rng, rows, rs)
    if record:
        span.text_lines = list(lines)
        _record(span)
    return lines, ends


def real_cut_line(row: TRow, rs: RealStyle, k: int) -> str:
    """The one line of a one-line row as a cut page prints it: the labels and its first ``k``
    values only (k is fewer than the row's values, so the row is visibly incomplete)."""
    cells = row.cells[: row.n_label + k]
    if rs.form == "pipe_bare":
        return _bar_line(cells, values_only=row.n_label == 0)
    gap = " " if rs.sep == "single" else " " * rs.gap
    return gap.join(c for c in cells if c)
