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
# |---|---| anywhere (converters repeat it after every row): three dashes a cell are a rule, where a
# single - in every cell is a row of dash values
_RULE_ROW_RE = r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$"

# A value as a table cell prints it: a number (signed, thousands, decimals), a dash, a slash, 无.
_VALUE_TOKEN = r"(?:[+\-−－＋]?\d[\d,，]*(?:\.\d+)?|[/／\\\-—–－]+|无)"
# "规章 0 0 0", "规  章    0   0   0", "0 0 0 0 0 0 0": a label (optional) and values separated by
# whitespace. The label ends in a character no value ends in, and is short: a sentence that happens
# to end in a number stays a paragraph. Rust regexes are linear, whatever the input.
_SPACED_ROW_RE = (
    r"^(?P<label>[^\t|]{0,60}?[^\s\d.,，+\-−/／\\—–－])?(?P<values>(?:[\s\u3000]+" + _VALUE_TOKEN
    + r")+|" + _VALUE_TOKEN + r"(?:[\s\u3000]+" + _VALUE_TOKEN + r")+)$"
)
_LIST_MARKER_AFTER_SPACE_RE = r"[\s\u3000]+([(（][一二三四五六七八九十]+[)）]|\d+[.、．]|[一二三四五六七八九十]+、)"
# page furniture a PDF or a word processor leaves between table rows: "- 3 -", "— 12 —"
_PAGE_MARKER_RE = r"^[\-—–－]\s*\d{1,4}\s*[\-—–－]$"


def lines_frame(docs: pl.DataFrame) -> pl.DataFrame:
    """docs(doc_id, text) -> lines(doc_id, line_no, text), 1-based line numbers."""
    if docs["doc_id"].is_duplicated().any():
        # the same document twice in a batch numbers its lines on from the first copy
        return (
            docs.select("doc_id", pl.col("text").str.split("\n").alias("text"))
            .explode("text")
            .with_columns((pl.int_range(pl.len()).over("doc_id") + 1).cast(pl.Int32).alias("line_no"))
            .with_columns(pl.col("text").fill_null(""))
            .select("doc_id", "line_no", "text")
        )
    # numbered before the explode: no window over the documents needed
    split = pl.col("text").fill_null("").str.split("\n")
    return docs.select(
        "doc_id",
        pl.int_ranges(1, split.list.len() + 1, dtype=pl.Int32).alias("line_no"),
        split.alias("text"),
    ).explode("line_no", "text")


def cells_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """lines -> one row per cell; blank lines and markdown separator rows carry no cells."""
    # Polars computes a subexpression at every use in an eager select and every branch of a when/then
    # over every row: the stripped line is a column, made once, and each regex or split reads only
    # the lines that can reach its branch (the others null, which the string kernels skip)
    lines = lines.with_columns(pl.col("text").str.strip_chars().alias("_stripped"))
    stripped = pl.col("_stripped")
    pipe_like = stripped.str.starts_with("|")
    # a pipe anywhere makes a table row: exports write "规章 | 0 | 0 | 0 |" without the outer bar,
    # one cell per line ("0 |") or a lone "|" between cells
    has_pipe = stripped.str.contains("|", literal=True)
    # A delimiter row (|---|---|) is the second line of a pipe-table block; elsewhere a row of
    # dashes is data (every cell "-").
    second_of_block = pipe_like.shift(1).over("doc_id").fill_null(False) & ~pipe_like.shift(2).over("doc_id").fill_null(False)
    piped = pl.when(pipe_like).then(stripped)
    unpiped = pl.when(~has_pipe).then(stripped)  # a line with a pipe is a pipe or sep row before the spaced test
    kind = (
        pl.when(stripped == "")
        .then(pl.lit("blank"))
        .when(pl.col("text").str.contains("\t"))
        .then(pl.lit("tab"))
        .when(pipe_like & piped.str.contains(_PIPE_SEP_RE) & (second_of_block | piped.str.contains(_RULE_ROW_RE)))
        .then(pl.lit("sep"))
        .when(has_pipe)
        .then(pl.lit("pipe"))
        .when(unpiped.str.contains(_SPACED_ROW_RE) & ~unpiped.str.contains(_PAGE_MARKER_RE))
        .then(pl.lit("spaced"))
        .otherwise(pl.lit("para"))
    )
    lines = lines.with_columns(kind.alias("kind")).filter(~pl.col("kind").is_in(["blank", "sep"]))

    def text_of(kind: str) -> pl.Expr:
        return pl.when(pl.col("kind") == kind).then(pl.col("text"))

    def short(kind: str) -> pl.Expr:
        return text_of(kind).str.slice(0, MAX_LINE_CHARS)

    # two labels on one line without values (三、本年度办理结果 (一)予以公开, (三)不予公开 1.属于国家秘密):
    # split before a list marker that follows a space; a short line only, a paragraph stays whole
    para = text_of("para")
    lines = lines.with_columns(
        ((para.str.len_chars() <= 80) & para.str.contains(_LIST_MARKER_AFTER_SPACE_RE)).alias("_two_labels"),
    )
    # the few spaced rows are split apart from the others and put back in their places
    spaced_at = (lines["kind"] == "spaced").arg_true()
    spaced = pl.repeat(None, lines.height, dtype=pl.String, eager=True).scatter(
        spaced_at, _spaced_cells(lines["text"].gather(spaced_at).str.slice(0, MAX_LINE_CHARS).str.strip_chars())
    )
    two_labels = pl.col("_two_labels")
    # Each kind's cells joined by tabs, then one split: only a tab line holds a tab (the kind says so),
    # so a pipe row's "|" and the breaks put before list markers or between a spaced row's label and
    # values become the only tabs, and a paragraph stays one cell. (A when/then over lists, one split
    # a kind, costs several times this.)
    joined = (
        pl.when(two_labels)
        .then(pl.when(two_labels).then(pl.col("text")).str.strip_chars()
              .str.replace_all(_LIST_MARKER_AFTER_SPACE_RE, "\t$1"))
        .when(pl.col("kind") == "tab")
        .then(short("tab"))
        .when(pl.col("kind") == "pipe")
        .then(short("pipe").str.strip_chars().str.strip_prefix("|").str.strip_suffix("|")
              .str.replace_all("|", "\t", literal=True))
        .when(pl.col("kind") == "spaced")
        .then(spaced)
        .otherwise(pl.col("text"))
    )
    parts = joined.str.split("\t")
    cells = (
        lines.select("doc_id", "line_no", "kind", parts.alias("raw_text"))
        # numbered before the explode: no window over the lines needed
        .with_columns(pl.int_ranges(pl.col("raw_text").list.len(), dtype=pl.Int32).alias("cell_idx"))
        .explode("raw_text", "cell_idx")
        .with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))
    )
    return cells.with_columns(
        pl.format("line {}, cell {}", pl.col("line_no"), pl.col("cell_idx") + 1).alias("locator"),
        # a spaced row is a table row to the mapper; its kind only mattered for the split
        pl.when(pl.col("kind") == "spaced").then(pl.lit("tab")).otherwise(pl.col("kind")).alias("kind"),
    )


def _spaced_cells(rows: pl.Series) -> pl.Series:
    """Whitespace-separated rows -> "label\tvalue\tvalue..." (no label cell when none is printed): the
    cells joined by tabs, which none of them holds (the label has none, a value is a token). Each
    step once, as a column: the pattern's capture groups are costly, and an eager expression is
    computed again at every use."""
    groups = rows.to_frame("row").select(pl.col("row").str.extract_groups(_SPACED_ROW_RE).alias("g"))
    parts = groups.select(
        pl.col("g").struct.field("label").str.strip_chars().alias("label"),
        pl.col("g").struct.field("values").str.extract_all(_VALUE_TOKEN).list.join("\t").alias("values"),
    )
    label, values = pl.col("label"), pl.col("values")
    # a group label and its first row on one line (三、本年度办理结果 (一)予以公开 2 ...): split before a
    # list marker that follows a space; a label spaced inside (规  章) stays whole
    labels = label.str.replace_all(_LIST_MARKER_AFTER_SPACE_RE, "\t$1")
    return parts.select(
        pl.when(label.is_null() | (label == "")).then(values).otherwise(labels + "\t" + values)
    ).to_series()
