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

from ingest.values import PY_WHITESPACE, cleaned_cell_expr

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
        # most rows have no merged cell: skip the per-cell conversion for them
        return cls(kind, cells, locs, list(map(bool, copies)) if any(copies) else [False] * len(copies))


def para(text: str, locator: str) -> Block:
    return Block("para", [text], [locator], [False])


# The blocks travel column by column, one JSON object per document: {"kind": [..], "cells": [[..]],
# "locators": [[..]], "copies": [[..]]} (one entry per block). Polars decodes that shape straight into
# list columns (``frames_from_json``) at a third of the cost of json.loads, and without making a Python
# object per cell. A list of blocks (``Block.to_json`` each, the earlier form) is still read.
_PAYLOAD_DTYPE = pl.Struct({
    "kind": pl.List(pl.String),
    "cells": pl.List(pl.List(pl.String)),
    "locators": pl.List(pl.List(pl.String)),
    "copies": pl.List(pl.List(pl.Boolean)),
})


def dumps(blocks: list[Block]) -> str:
    return json.dumps({
        "kind": [b.kind for b in blocks],
        "cells": [b.cells for b in blocks],
        "locators": [b.locators for b in blocks],
        # a block without copy flags has none: one False a cell, as Block.from_json reads it
        "copies": [[bool(c) for c in b.copies] if b.copies else [False] * len(b.cells) for b in blocks],
    }, ensure_ascii=False)


def loads(payload: str) -> list[Block]:
    obj = json.loads(payload)
    if isinstance(obj, dict):
        obj = [list(block) for block in zip(obj["kind"], obj["cells"], obj["locators"], obj["copies"], strict=True)]
    return [Block.from_json(o) for o in obj]


def expand(rows: list[list[tuple[str, int, int, str]]]) -> list[tuple[list[str], list[str], list[bool]]]:
    """Rows of (text, colspan, rowspan, locator) -> rows of the expanded grid (text, locator, copy).

    The standard HTML table model: each cell takes the first free column of its row; a cell covering
    several positions repeats its text there with ``copy`` set (the mapper keeps label copies and blanks
    value copies). Spans are capped; a row is padded to the table width with empty non-copy cells.
    """
    taken: dict[int, dict[int, tuple[str, str, bool]]] = {}
    # most rows: no cell above spans into them and none of theirs spans: the row is its cells as given
    plain: dict[int, tuple[list[str], list[str], list[bool]]] = {}
    n_rows = len(rows)
    for r, row in enumerate(rows):
        if r not in taken and all(cell[1] == 1 and cell[2] == 1 for cell in row):
            plain[r] = ([cell[0] for cell in row], [cell[3] for cell in row], [False] * len(row))
            continue
        mine = taken.setdefault(r, {})
        c = 0
        for text, colspan, rowspan, loc in row:
            while c in mine:
                c += 1
            if colspan == 1 and rowspan == 1:
                # most cells: one position, free (the loop above found it), nothing to clamp
                mine[c] = (text, loc, False)
                c += 1
                continue
            colspan = max(1, min(colspan, MAX_SPAN))
            rowspan = max(1, min(rowspan, MAX_SPAN, n_rows - r))
            if c + colspan > MAX_COLS:
                colspan = max(1, MAX_COLS - c)
            for dr in range(rowspan):
                target = taken.setdefault(r + dr, {})
                for dc in range(colspan):
                    copy = bool(dr or dc)
                    target.setdefault(c + dc, (text, loc + (f" (merged, spans here {dr},{dc})" if copy else ""), copy))
            c += colspan
    out: list[tuple[list[str], list[str], list[bool]]] = []
    for r in range(n_rows):
        if r in plain:
            out.append(plain[r])
            continue
        mine = taken.get(r, {})
        if not mine:
            out.append(([], [], []))
            continue
        w = max(mine) + 1
        if len(mine) == w:
            # no hole: every position holds a cell
            cells = [mine[k] for k in range(w)]
        else:
            cells = [mine.get(k) or ("", f"row {r + 1}, col {k + 1} (no cell)", False) for k in range(w)]
        texts, locs, copies = zip(*cells)
        out.append((list(texts), list(locs), list(copies)))
    return out


def frames(docs: list[tuple[str | int, list[Block]]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """[(doc_id, blocks)] -> (lines, grid) with 1-based line numbers. ``doc_id`` is the sha256 string,
    or the integer document number the pipeline gives each document of its batch."""
    return _frames([(doc_id, [(b.kind, b.cells, b.locators, b.copies) for b in blocks]) for doc_id, blocks in docs])


def frames_from_json(docs: list[tuple[str | int, str | None]] | pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frames`` of [(doc_id, blocks as ``dumps`` wrote them)] or of a frame (doc_id, text), read
    straight from the JSON (no ``Block`` objects made on the way)."""
    if not isinstance(docs, pl.DataFrame):
        docs = pl.DataFrame(
            list(docs), schema={"doc_id": pl.Int64 if docs and isinstance(docs[0][0], int) else pl.String,
                                "text": pl.String}, orient="row",
        )
    payload = pl.col("text").fill_null("")
    # an empty payload holds no block in either form
    columnar = payload.str.starts_with("{") | (payload == "")
    if not docs.select(columnar.all()).item():
        # the earlier form (a list of blocks) or an empty payload: read in Python
        return _frames([(doc_id, json.loads(text or "[]")) for doc_id, text in docs.select("doc_id", "text").rows()])
    return _frames_columnar(docs)


def _frames_columnar(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``_frames`` of the documents' column-by-column payloads, all of it in Polars: the blocks
    exploded to lines (numbered from 1 in each document), the cells of the blocks that give cells to
    the grid exploded once more."""
    columns = ["kind", "cells", "locators", "copies"]
    blocks = (
        docs.filter(pl.col("text").fill_null("") != "")
        .select("doc_id", pl.col("text").str.json_decode(_PAYLOAD_DTYPE).alias("_b"))
        .unnest("_b")
        .with_columns(pl.int_ranges(1, pl.col("kind").list.len() + 1, dtype=pl.Int32).alias("line_no"))
        .explode("line_no", *columns, empty_as_null=False)
    )
    cells = pl.col("cells")
    lines = blocks.select(
        "doc_id", "line_no", "kind",
        pl.when(pl.col("kind") == "tab").then(cells.list.join("\t")).otherwise(cells.list.first()).alias("text"),
    )
    # no cells, or a paragraph of whitespace only (str.strip's whitespace): a line without cells
    width = cells.list.len()
    grid = (
        blocks.filter((width > 0) & ~((pl.col("kind") == "para")
                                      & (cells.list.first().str.strip_chars(PY_WHITESPACE) == "")))
        .select(
            "doc_id", "line_no", "kind",
            cells.alias("raw_text"),
            pl.int_ranges(width, dtype=pl.Int32).alias("cell_idx"),
            pl.col("locators").alias("locator"),
            pl.col("copies").alias("span_copy"),
        )
        .explode("raw_text", "cell_idx", "locator", "span_copy", empty_as_null=False)
    )
    return lines.drop("kind"), grid.with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))


def _frames(docs: list[tuple[str | int, list]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frames`` of [(doc_id, [(kind, cells, locators, copies) per block])]."""
    doc_id_dtype = pl.Int64 if docs and isinstance(docs[0][0], int) else pl.String
    l_doc, l_no, l_kind, l_text = [], [], [], []
    # the cells of every block with cells, flat, and per such block its line (row of `lines`) and width;
    # Polars repeats each line's doc_id, line_no and kind over its cells
    g_line, g_width, g_text, g_loc, g_copy = [], [], [], [], []
    for doc_id, blocks in docs:
        for n, (kind, cells, locators, copies) in enumerate(blocks, start=1):
            l_doc.append(doc_id)
            l_no.append(n)
            l_kind.append(kind)
            l_text.append("\t".join(cells) if kind == "tab" else cells[0])
            k = len(cells)
            if k == 0 or (kind == "para" and not cells[0].strip()):
                continue
            g_line.append(len(l_doc) - 1)
            g_width.append(k)
            g_text.extend(cells)
            g_loc.extend(locators)
            g_copy.extend(map(bool, copies) if copies else [False] * k)
    blocks = pl.DataFrame(
        {"doc_id": l_doc, "line_no": l_no, "kind": l_kind, "text": l_text},
        schema={"doc_id": doc_id_dtype, "line_no": pl.Int32, "kind": pl.String, "text": pl.String},
    )
    spread = pl.DataFrame({"line": g_line, "width": g_width}, schema={"line": pl.UInt32, "width": pl.Int32}).select(
        pl.col("line").repeat_by("width").explode(),
        pl.int_ranges("width", dtype=pl.Int32).explode().alias("cell_idx"),
    )
    grid = blocks.select(pl.col("doc_id", "line_no", "kind").gather(spread["line"])).with_columns(
        pl.Series("raw_text", g_text, dtype=pl.String),
        spread["cell_idx"],
        pl.Series("locator", g_loc, dtype=pl.String),
        pl.Series("span_copy", g_copy, dtype=pl.Boolean),
    )
    return blocks.drop("kind"), grid.with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))
