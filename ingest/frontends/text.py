"""Text front end: decoded text -> lines -> cell grid (tab tables, markdown/pipe tables, paragraphs).

Every front end produces the same grid: one row per cell with ``doc_id``, ``line_no``, ``cell_idx``,
``raw_text``, ``kind`` (tab | pipe | para) and a ``locator``, which the shared mapper reads.
"""

from __future__ import annotations

import polars as pl

from ingest.values import cleaned_cell_expr

# Lines longer than this are cut for table parsing (a minified page or a binary blob is not a table
# row); the paragraph text stays whole for the narrative extractor.
MAX_LINE_CHARS = 20_000

_PIPE_SEP_RE = r"^\|?[\s:\-|]*-[\s:\-|]*\|?$"


def lines_frame(docs: pl.DataFrame) -> pl.DataFrame:
    """docs(doc_id, text) -> lines(doc_id, line_no, text), 1-based line numbers."""
    return (
        docs.select("doc_id", pl.col("text").str.split("\n").alias("text"))
        .explode("text")
        .with_columns((pl.int_range(pl.len()).over("doc_id") + 1).cast(pl.Int32).alias("line_no"))
        .with_columns(pl.col("text").fill_null(""))
        .select("doc_id", "line_no", "text")
    )


def cells_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """lines -> one row per cell; blank lines and markdown separator rows carry no cells."""
    stripped = pl.col("text").str.strip_chars()
    pipe_like = stripped.str.starts_with("|")
    # A delimiter row (|---|---|) is the second line of a pipe-table block; elsewhere a row of
    # dashes is data (every cell "-").
    second_of_block = pipe_like.shift(1).over("doc_id").fill_null(False) & ~pipe_like.shift(2).over("doc_id").fill_null(False)
    kind = (
        pl.when(stripped == "")
        .then(pl.lit("blank"))
        .when(pl.col("text").str.contains("\t"))
        .then(pl.lit("tab"))
        .when(pipe_like & stripped.str.contains(_PIPE_SEP_RE) & second_of_block)
        .then(pl.lit("sep"))
        .when(stripped.str.starts_with("|") & (stripped.str.count_matches(r"\|", literal=False) >= 2))
        .then(pl.lit("pipe"))
        .otherwise(pl.lit("para"))
    )
    lines = lines.with_columns(kind.alias("kind")).filter(~pl.col("kind").is_in(["blank", "sep"]))
    short = pl.col("text").str.slice(0, MAX_LINE_CHARS)
    parts = (
        pl.when(pl.col("kind") == "tab")
        .then(short.str.split("\t"))
        .when(pl.col("kind") == "pipe")
        .then(short.str.strip_chars().str.replace(r"^\|", "").str.replace(r"\|$", "").str.split("|"))
        .otherwise(pl.concat_list(pl.col("text")))
    )
    cells = (
        lines.select("doc_id", "line_no", "kind", parts.alias("raw_text"))
        .explode("raw_text")
        .with_columns(
            (pl.int_range(pl.len()).over("doc_id", "line_no")).cast(pl.Int32).alias("cell_idx"),
        )
        .with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))
    )
    return cells.with_columns(
        pl.format("line {}, cell {}", pl.col("line_no"), pl.col("cell_idx") + 1).alias("locator")
    )
