"""Front ends: one per source format, all producing the same two frames for the shared mapper.

- ``lines``: doc_id, line_no, text: the document's readable text in reading order, one row per
  paragraph or table row (table rows tab-joined); read by the narrative and metadata extractors.
- ``grid``: doc_id, line_no, cell_idx, raw_text, kind ('tab' | 'pipe' | 'para'), locator: one row per
  cell; read by the template mapper (``ingest.tables``). ``line_no`` ties a cell to its line.

A front end never guesses a value: it only reports what is printed and where.
"""

from __future__ import annotations

import polars as pl

from ingest.frontends.text import cells_frame, lines_frame

# Formats with a front end, by the name dim_source_file uses.
TEXT_FORMATS = frozenset({"txt", "md"})
SUPPORTED_FORMATS = TEXT_FORMATS


def build(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """docs(doc_id, source_format, text) -> (lines, grid) for every document of the batch."""
    text_docs = docs.filter(pl.col("source_format").is_in(list(TEXT_FORMATS)) | pl.col("source_format").is_null())
    lines = lines_frame(text_docs.select("doc_id", "text"))
    grid = cells_frame(lines)
    return lines, grid
