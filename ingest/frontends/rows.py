"""Shared shape of the structured front ends (HTML, DOCX, PDF): a document is a list of blocks in
reading order, each a paragraph or one table row already expanded to its grid (merged cells repeated
in every position they cover, flagged as ``span_copy``), with one locator per cell.

``frames`` turns the blocks of a batch into the ``lines`` and ``grid`` frames every front end yields.
The blocks travel as JSON between the decode stage (which reads DOCX/PDF bytes) and the parse stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from ingest.values import cleaned_cell_expr

# A table wider than this is not a report table (and would blow up the grid).
MAX_COLS = 200
MAX_SPAN = 500


@dataclass
class Block:
    kind: str  # 'para' | 'tab'
    cells: list[str]
    locators: list[str]
    copies: list[bool] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\t".join(self.cells) if self.kind == "tab" else self.cells[0]

    def to_json(self) -> list:
        return [self.kind, self.cells, self.locators, [int(c) for c in self.copies]]

    @classmethod
    def from_json(cls, obj: list) -> Block:
        kind, cells, locs, copies = obj
        return cls(kind, cells, locs, [bool(c) for c in copies])


def para(text: str, locator: str) -> Block:
    return Block("para", [text], [locator], [False])


def dumps(blocks: list[Block]) -> str:
    return json.dumps([b.to_json() for b in blocks], ensure_ascii=False)


def loads(payload: str) -> list[Block]:
    return [Block.from_json(o) for o in json.loads(payload)]


def expand(rows: list[list[tuple[str, int, int, str]]]) -> list[tuple[list[str], list[str], list[bool]]]:
    """Rows of (text, colspan, rowspan, locator) -> rows of the expanded grid (text, locator, copy).

    The standard HTML table model: each cell takes the first free column of its row; a cell covering
    several positions repeats its text there with ``copy`` set (the mapper keeps label copies and blanks
    value copies). Spans are capped; a row is padded to the table width with empty non-copy cells.
    """
    taken: dict[int, dict[int, tuple[str, str, bool]]] = {}
    for r, row in enumerate(rows):
        mine = taken.setdefault(r, {})
        c = 0
        for text, colspan, rowspan, loc in row:
            while c in mine:
                c += 1
            colspan = max(1, min(colspan, MAX_SPAN))
            rowspan = max(1, min(rowspan, MAX_SPAN, len(rows) - r))
            if c + colspan > MAX_COLS:
                colspan = max(1, MAX_COLS - c)
            for dr in range(rowspan):
                target = taken.setdefault(r + dr, {})
                for dc in range(colspan):
                    copy = bool(dr or dc)
                    target.setdefault(c + dc, (text, loc + (f" (merged, spans here {dr},{dc})" if copy else ""), copy))
            c += colspan
    out: list[tuple[list[str], list[str], list[bool]]] = []
    for r in range(len(rows)):
        mine = taken.get(r, {})
        w = max(mine) + 1 if mine else 0
        texts, locs, copies = [], [], []
        for k in range(w):
            text, loc, copy = mine.get(k, ("", f"row {r + 1}, col {k + 1} (no cell)", False))
            texts.append(text)
            locs.append(loc)
            copies.append(copy)
        out.append((texts, locs, copies))
    return out


def frames(docs: list[tuple[str, list[Block]]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """[(doc_id, blocks)] -> (lines, grid) with 1-based line numbers."""
    l_doc, l_no, l_text = [], [], []
    g_doc, g_line, g_idx, g_text, g_kind, g_loc, g_copy = [], [], [], [], [], [], []
    for doc_id, blocks in docs:
        for n, b in enumerate(blocks, start=1):
            l_doc.append(doc_id)
            l_no.append(n)
            l_text.append(b.text)
            if b.kind == "para" and not b.cells[0].strip():
                continue
            k = len(b.cells)
            g_doc.extend([doc_id] * k)
            g_line.extend([n] * k)
            g_idx.extend(range(k))
            g_text.extend(b.cells)
            g_kind.extend([b.kind] * k)
            g_loc.extend(b.locators)
            g_copy.extend(b.copies or [False] * k)
    lines = pl.DataFrame(
        {"doc_id": l_doc, "line_no": l_no, "text": l_text},
        schema={"doc_id": pl.String, "line_no": pl.Int32, "text": pl.String},
    )
    grid = pl.DataFrame(
        {
            "doc_id": g_doc,
            "line_no": g_line,
            "kind": g_kind,
            "raw_text": g_text,
            "cell_idx": g_idx,
            "locator": g_loc,
            "span_copy": g_copy,
        },
        schema={
            "doc_id": pl.String,
            "line_no": pl.Int32,
            "kind": pl.String,
            "raw_text": pl.String,
            "cell_idx": pl.Int32,
            "locator": pl.String,
            "span_copy": pl.Boolean,
        },
    ).with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))
    return lines, grid
