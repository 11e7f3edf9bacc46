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
# how every text either pattern above matches ends (the end of a _VALUE_TOKEN: a digit, a thousands
# separator, a dash or slash, 无)
_VALUE_END_RE = r"(?:\d|[,，/／\\\-—–－]|无)$"


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
    # Every regex, split and rewrite below runs on the lines its branch concerns only, gathered out of
    # the frame and scattered back: a string kernel on a column nulled by when/then still scans every
    # value it holds (Polars 1.x keeps the values under the nulls), so the null mask saves nothing, and
    # a pattern over the long paragraph lines costs ten times its run over the few lines it can match.
    # The tests read several times are columns, each made once.
    stripped = pl.col("_stripped")
    lines = lines.with_columns(pl.col("text").str.strip_chars().alias("_stripped")).with_columns(
        stripped.str.starts_with("|").alias("_pipe_like"),
        # a pipe anywhere makes a table row: exports write "规章 | 0 | 0 | 0 |" without the outer bar,
        # one cell per line ("0 |") or a lone "|" between cells
        stripped.str.contains("|", literal=True).alias("_has_pipe"),
        pl.col("text").str.contains("\t", literal=True).alias("_has_tab"),
        # A spaced row ends in a value token (a digit, a separator, a dash or slash, 无), and so does a
        # page marker: their patterns run only on the lines without a pipe or a tab that end so (an
        # end-anchored pattern, searched from the end)
        stripped.str.contains(_VALUE_END_RE).alias("_ends_like_value"),
    )
    pipe_like, has_pipe, has_tab = pl.col("_pipe_like"), pl.col("_has_pipe"), pl.col("_has_tab")
    # A delimiter row (|---|---|) is the second line of a pipe-table block; elsewhere a row of
    # dashes is data (every cell "-").
    if lines["doc_id"].is_sorted():
        # documents one after the other (a batch without a repeated document): the line one or two
        # back is in the same document when its doc_id is this one's, a shift and a comparison
        # instead of a window over the documents
        doc = pl.col("doc_id")
        second_of_block = (pipe_like.shift(1) & (doc.shift(1) == doc)).fill_null(False) & ~(
            pipe_like.shift(2) & (doc.shift(2) == doc)
        ).fill_null(False)
    else:
        second_of_block = pipe_like.shift(1).over("doc_id").fill_null(False) & ~pipe_like.shift(2).over("doc_id").fill_null(False)
    at = lines.select(
        pipe_like.arg_true().implode().alias("piped"),
        second_of_block.filter(pipe_like).implode().alias("second_of_block"),
        (~has_pipe & ~has_tab & pl.col("_ends_like_value")).arg_true().implode().alias("unpiped"),
    ).row(0)
    piped_at, piped_second, unpiped_at = (pl.Series(v, dtype=d) for v, d in zip(at, (pl.UInt32, pl.Boolean, pl.UInt32)))
    piped = lines["_stripped"].gather(piped_at)
    is_sep = piped.str.contains(_PIPE_SEP_RE) & (piped_second | piped.str.contains(_RULE_ROW_RE))
    unpiped = lines["_stripped"].gather(unpiped_at)
    is_spaced = unpiped.str.contains(_SPACED_ROW_RE) & ~unpiped.str.contains(_PAGE_MARKER_RE)
    no = pl.repeat(False, lines.height, dtype=pl.Boolean, eager=True)
    kind = (
        pl.when(stripped == "")
        .then(pl.lit("blank"))
        .when(has_tab)
        .then(pl.lit("tab"))
        .when(no.clone().scatter(piped_at, is_sep))
        .then(pl.lit("sep"))
        .when(has_pipe)
        .then(pl.lit("pipe"))
        .when(no.clone().scatter(unpiped_at, is_spaced))
        .then(pl.lit("spaced"))
        .otherwise(pl.lit("para"))
    )
    lines = lines.select("doc_id", "line_no", "text", kind.alias("kind")).filter(~pl.col("kind").is_in(["blank", "sep"]))

    # Each kind's cells joined by tabs, then one split: only a tab line holds a tab (the kind says so),
    # so a pipe row's "|" and the breaks put before list markers or between a spaced row's label and
    # values become the only tabs, and a paragraph stays one cell (its text as it is). (A when/then over
    # lists, one split a kind, costs several times this.)
    text = lines["text"]
    kinds = lines["kind"]
    joined = text.clone()

    def rewrite(rows: pl.Series, fn) -> None:
        at = rows.arg_true()
        if not at.is_empty():
            joined.scatter(at, fn(text.gather(at)))

    rewrite(kinds == "tab", lambda t: t.str.slice(0, MAX_LINE_CHARS))
    rewrite(kinds == "pipe", lambda t: t.str.slice(0, MAX_LINE_CHARS).str.strip_chars().str.strip_prefix("|")
            .str.strip_suffix("|").str.replace_all("|", "\t", literal=True))
    # the few spaced rows are split apart from the others and put back in their places
    rewrite(kinds == "spaced", lambda t: _spaced_cells(t.str.slice(0, MAX_LINE_CHARS).str.strip_chars()))
    # two labels on one line without values (三、本年度办理结果 (一)予以公开, (三)不予公开 1.属于国家秘密):
    # split before a list marker that follows a space; a short line only, a paragraph stays whole
    short_para = (kinds == "para") & (text.str.len_chars() <= 80)
    two_labels = pl.repeat(False, lines.height, dtype=pl.Boolean, eager=True)
    short_at = short_para.arg_true()
    two_labels.scatter(short_at, text.gather(short_at).str.contains(_LIST_MARKER_AFTER_SPACE_RE))
    rewrite(two_labels, lambda t: t.str.strip_chars().str.replace_all(_LIST_MARKER_AFTER_SPACE_RE, "\t$1"))
    cells = (
        lines.select("doc_id", "line_no", "kind", joined.str.split("\t").alias("raw_text"))
        # numbered before the explode: no window over the lines needed
        .with_columns(pl.int_ranges(pl.col("raw_text").list.len(), dtype=pl.Int32).alias("cell_idx"))
        .explode("raw_text", "cell_idx")
        .with_columns(cleaned_cell_expr("raw_text").alias("raw_text"))
    )
    return cells.with_columns(
        _cell_locators(cells["line_no"], cells["cell_idx"]).alias("locator"),
        # a spaced row is a table row to the mapper; its kind only mattered for the split
        pl.when(pl.col("kind") == "spaced").then(pl.lit("tab")).otherwise(pl.col("kind")).alias("kind"),
    )


def _cell_locators(line_no: pl.Series, cell_idx: pl.Series) -> pl.Series:
    """"line {line_no}, cell {cell_idx + 1}" of every cell. A batch has few distinct positions (its
    longest document's lines times its widest row's cells) and many cells at each: every position's
    text is formatted once and gathered, where the batch has fewer positions than cells."""
    last_line, last_cell = line_no.max(), cell_idx.max()
    if last_line is None or last_cell is None or min(line_no.min(), cell_idx.min()) < 0 or (
        (last_line + 1) * (last_cell + 1) > len(line_no)
    ):
        return pl.select(pl.format("line {}, cell {}", line_no, cell_idx + 1)).to_series()
    width = last_cell + 1
    position = pl.int_range(0, (last_line + 1) * width, dtype=pl.Int64)
    texts = pl.select(pl.format("line {}, cell {}", position // width, position % width + 1)).to_series()
    return texts.gather(line_no.cast(pl.Int64) * width + cell_idx.cast(pl.Int64))


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
