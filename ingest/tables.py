"""The one mapper that knows the templates: cell grid -> long-form table facts + parse warnings.

Input is the grid every front end produces (``doc_id, line_no, cell_idx, raw_text, kind, locator``).
Columns of 表三/表四 are placed by physical order (never by header reading order); a row whose cells
cannot be placed with certainty is kept in the warnings with its raw text and no fact is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from ingest.registry import normalise_label, normalise_label_expr, registry, strip_list_marker_expr
from ingest.values import amount_factor_expr, classify_cells, header_unit_expr

# One integer key per line of the batch (document number * 2**32 + line_no): the mapper groups,
# windows and joins by line many times, and one integer is far cheaper than (doc_id, line_no).
LINE = "_line"
_T3_V2021_ONLY = ["other_no_correction_overdue", "other_fee_unpaid_overdue", "other_misc"]
_T3_GROUP_LABELS = ["outcome_header", "withheld_group", "unable_group", "not_processed_group"]


@dataclass
class TableResult:
    cells: pl.DataFrame  # doc_id + TABLE_CELLS columns except report_id
    warnings: pl.DataFrame  # doc_id, table_id, row_key, code, severity, detail, raw_text, locator
    versions: pl.DataFrame  # doc_id, t2_version, t3_version, has_t2, has_t3, has_t4, v2019_headings


WARNING_SCHEMA = {
    "doc_id": pl.String,
    "table_id": pl.String,
    "row_key": pl.String,
    "code": pl.String,
    "severity": pl.String,
    "detail": pl.String,
    "raw_text": pl.String,
    "locator": pl.String,
}


@cache
def _vocab() -> dict[str, pl.DataFrame]:
    reg = registry()
    headings = reg.heading_aliases()
    return {
        "t3_rows": reg.t3_row_aliases().select(pl.col("norm"), pl.col("key").alias("t3_key")),
        "t4_rows": reg.t4_row_aliases().select(pl.col("norm"), pl.col("key").alias("t4_key")),
        "captions": reg.t2_caption_aliases().select(pl.col("norm"), pl.col("key").alias("caption_table")),
        "t2_rows": reg.t2_row_aliases().rename({"scope": "table_id", "key": "row_key"}),
        # a 表二 row label names its sub-table too (规章 is only in 第二十条第(一)项): the rows are read
        # by their labels even where a caption is cut or missing
        "t2_row_labels": _unique_norms(
            reg.t2_row_aliases().select("norm", (pl.col("scope") + "|" + pl.col("key")).alias("t2_label"))
        ),
        "t2_cols": reg.t2_column_aliases(),
        "headings": headings,
    }


def _unique_norms(frame: pl.DataFrame) -> pl.DataFrame:
    """Aliases that name one key only (a norm shared by two keys names neither)."""
    key = frame.columns[1]
    frame = frame.unique()
    return frame.filter(pl.col(key).n_unique().over("norm") == 1).unique("norm")


def map_tables(grid: pl.DataFrame) -> TableResult:
    vocab = _vocab()
    grid = grid.with_columns(
        (pl.col("doc_id").rank("dense").cast(pl.Int64) * 2**32 + pl.col("line_no")).alias(LINE)
    )
    # reading order, once: every later step keeps it (joins keep the left order). A front end
    # usually delivers it already, and checking is much cheaper than sorting.
    in_order = (pl.col(LINE).diff() > 0) | ((pl.col(LINE).diff() == 0) & (pl.col("cell_idx").diff() > 0))
    if not grid.select(in_order.slice(1).all()).item():
        grid = grid.sort(LINE, "cell_idx")
    grid = _in_reading_order(grid)
    grid = _cell_meanings(grid, vocab)
    grid = _blank_value_copies(grid)
    grid = _label_keys(grid)
    grid = _in_reading_order(_assign_sections(grid, vocab))
    grid = _in_reading_order(_logical_rows(grid))

    t2_cells, t2_warn, t2_versions = _map_t2(grid, vocab)
    t3_cells, t3_warn, t3_versions = _map_t3(grid)
    t4_cells, t4_warn = _map_t4(grid)

    # the facts' own columns only: the mappers' working columns stay behind
    cells = pl.concat(
        [c.select(col for col in _FACT_COLUMNS if col in c.columns) for c in (t2_cells, t3_cells, t4_cells)],
        how="diagonal_relaxed",
    )
    cells, type_warn = _check_counts(cells)
    # doc_id keeps the batch's key type (the pipeline's document numbers, or sha strings)
    text_columns = {c: t for c, t in WARNING_SCHEMA.items() if c != "doc_id"}
    warnings = pl.concat(
        [
            w.select(list(WARNING_SCHEMA)).cast(text_columns)
            for w in (t2_warn, t3_warn, t4_warn, type_warn)
        ]
    )

    seen, unread = _tables_seen(grid, cells, warnings)
    warnings = pl.concat([warnings, unread.select(list(WARNING_SCHEMA)).cast(text_columns)])

    docs = grid.select("doc_id").unique()
    # a table is present when it prints a value, placed or not: a number kept only in a warning
    # (a row that could not be placed) makes its rules not assessable, never "table absent"
    printed = pl.concat(
        [
            cells.filter(pl.col("cell_state") != "blank").select("doc_id", "table_id"),
            warnings.filter((pl.col("severity") == "warn") & pl.col("raw_text").str.contains(r"\d")).select(
                "doc_id", "table_id"
            ),
        ]
    )
    presence = printed.group_by("doc_id").agg(
        [
            pl.col("table_id").str.starts_with(prefix).any().alias(name)
            for prefix, name in (("t2_", "has_t2"), ("t3", "has_t3"), ("t4", "has_t4"))
        ]
    )
    headings = (
        grid.filter(pl.col("section_marker").is_not_null())
        .group_by("doc_id")
        .agg(
            pl.col("heading_section").drop_nulls().n_unique().alias("v2019_headings"),
            # 三、收到和处理…申请情况 / 四、…行政复议、行政诉讼情况 exist only in the 2019+ forms
            pl.col("heading_section").is_in(["t3_section", "t4_section"]).any().alias("has_form_heading"),
        )
    )
    versions = (
        docs.join(t2_versions, on="doc_id", how="left")
        .join(seen, on="doc_id", how="left")
        .join(t3_versions, on="doc_id", how="left")
        .join(presence, on="doc_id", how="left")
        .join(headings, on="doc_id", how="left")
        .with_columns(
            pl.col("has_t2", "has_t3", "has_t4").fill_null(False),
            pl.col("v2019_headings").fill_null(0),
            pl.col("has_form_heading").fill_null(False),
        )
    )
    return TableResult(cells, warnings, versions)


def _tables_seen(grid: pl.DataFrame, cells: pl.DataFrame, warnings: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Which tables a document prints (a caption, a header or a row label of the table as a cell of its
    own), and a warning for each one of them that gave no fact and no warning: nothing printed in a
    table is ever lost without a flag. -> (doc_id, tables_seen 't2,t3'), warnings."""
    t3_note, applicant_header = normalise_label("本列数据的勾稽关系"), normalise_label("申请人情况")
    text = pl.col("cell_state") == "text"
    family = (
        pl.when(pl.col("t2_area") & text & (pl.col("caption_table").is_not_null() | pl.col("t2_label").is_not_null()))
        .then(pl.lit("t2"))
        .when(
            (pl.col("section") == "t3")
            & text
            & (pl.col("t3_key").is_not_null() | pl.col("norm").str.contains(t3_note, literal=True)
               | (pl.col("norm") == applicant_header))
        )
        .then(pl.lit("t3"))
        .when((pl.col("section") == "t4") & text & pl.col("t4_key").is_not_null())
        .then(pl.lit("t4"))
    )
    # the family is worked out for the text cells of the tables only (every branch asks for those): a
    # when/then's string tests would read every cell of the grid, nulled or not
    seen = (
        grid.lazy()
        .select("doc_id", "cell_state", "t2_area", "section", "caption_table", "t2_label", "t3_key", "t4_key", "norm",
                "locator")
        .filter(text & (pl.col("t2_area") | pl.col("section").is_in(["t3", "t4"])))
        .select("doc_id", family.alias("family"), "locator")
        .filter(pl.col("family").is_not_null())
        .collect()
        .group_by("doc_id", "family")
        .agg(pl.col("locator").first())
    )
    read = pl.concat([
        cells.select("doc_id", pl.col("table_id").str.slice(0, 2).alias("family")),
        warnings.filter(pl.col("severity") == "warn").select("doc_id", pl.col("table_id").str.slice(0, 2).alias("family")),
    ]).unique()
    unread = seen.join(read, on=["doc_id", "family"], how="anti").select(
        "doc_id",
        pl.col("family").alias("table_id"),
        pl.lit(None, pl.String).alias("row_key"),
        pl.lit("table_not_read").alias("code"),
        pl.lit("warn").alias("severity"),
        pl.format("the document prints this table (its caption, header or row labels) but no value of it could be "
                  "read with certainty").alias("detail"),
        pl.lit(None, pl.String).alias("raw_text"),
        "locator",
    )
    tables_seen = seen.group_by("doc_id").agg(pl.col("family").sort().str.join(",").alias("tables_seen"))
    return tables_seen, unread


def _in_reading_order(grid: pl.DataFrame) -> pl.DataFrame:
    """Flag the line key and the document as sorted, which they are (the grid is in reading order,
    and lines are numbered by document): Polars then groups and windows over them by slices of the
    sorted column instead of hashing every row."""
    return grid.with_columns(pl.col(LINE).set_sorted(), pl.col("doc_id").set_sorted())


def _per_line(cells: pl.DataFrame, *aggs: pl.Expr) -> pl.DataFrame:
    """One row per line, in reading order, with the line's doc_id and line_no and ``aggs``."""
    return cells.group_by(LINE, maintain_order=True).agg(pl.col("doc_id", "line_no").first(), *aggs)


def _cell_meanings(grid: pl.DataFrame, vocab: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Normalised label, cell state, value and candidate row-label keys of every cell.

    All of it depends on the cell text alone, and a batch repeats the same few texts (0, blanks, row
    labels) hundreds of thousands of times: each distinct text is worked out once, then spread back by
    its index among the distinct texts (a categorical of the batch's own). The label keys are kept for
    text cells only later (``_label_keys``), after merged copies are blanked.
    """
    distinct = grid["raw_text"].cast(pl.Categorical(pl.Categories.random()))
    categories = distinct.cat.get_categories()
    # a null text (no front end gives one) is classified too, as the last entry
    texts = pl.DataFrame({"raw_text": categories.append(pl.Series([None], dtype=pl.String))})
    texts = texts.with_columns(normalise_label_expr(pl.col("raw_text")).alias("norm"))
    # a label with the remark a report adds in brackets: 规章(设区的市、自治州人民政府应提供相关数据).
    # Only a text with a "(" has one: the capture pattern runs on those (the distinct texts include
    # every paragraph, long, where it would scan each one to the end)
    norm = texts["norm"]
    bracketed = norm.str.contains("(", literal=True).arg_true()
    texts = texts.with_columns(
        strip_list_marker_expr(pl.col("norm")).alias("norm2"),
        norm.clone().scatter(bracketed, norm.gather(bracketed).str.replace(r"^(.+?)\(.*$", "$1")).alias("norm3"),
    )
    texts = classify_cells(texts)
    for frame, key in ((vocab["t3_rows"], "t3_key"), (vocab["t4_rows"], "t4_key"), (vocab["captions"], "caption_table"),
                       (vocab["t2_row_labels"], "t2_label")):
        # the label as printed, else without its list marker (（一）, 1.)
        aliases = dict(zip(frame["norm"], frame[key], strict=True))
        forms = ["norm", "norm2"] if key == "caption_table" else ["norm", "norm2", "norm3"]
        texts = texts.with_columns(
            pl.coalesce(
                pl.col(form).replace_strict(aliases, default=None, return_dtype=pl.String) for form in forms
            ).alias(key)
        )
    index = distinct.to_physical().fill_null(len(categories))
    # norm2 and norm3 served the key lookups only
    return grid.hstack(texts.drop("raw_text", "norm2", "norm3").select(pl.all().gather(index)))


# --------------------------------------------------------------------------- merged cells
def _blank_value_copies(grid: pl.DataFrame) -> pl.DataFrame:
    """A merged cell repeated into the positions it covers (``span_copy``) is a label there, never a
    second value: copies of text stay (they place the row's label block), other copies become blank."""
    if "span_copy" not in grid.columns:
        return grid.with_columns(pl.lit(False).alias("span_copy"))
    copy = pl.col("span_copy").fill_null(False)
    if not grid["span_copy"].fill_null(False).any():
        return grid.with_columns(copy.alias("span_copy"))  # no merged cell in the batch (text formats)
    value_copy = copy & (pl.col("cell_state") != "text")
    return grid.with_columns(
        copy.alias("span_copy"),
        pl.when(value_copy).then(pl.lit("")).otherwise(pl.col("raw_text")).alias("raw_text"),
        pl.when(value_copy).then(pl.lit("blank")).otherwise(pl.col("cell_state")).alias("cell_state"),
        pl.when(value_copy).then(None).otherwise(pl.col("value")).alias("value"),
        pl.when(value_copy).then(None).otherwise(pl.col("unit_raw")).alias("unit_raw"),
    )


# --------------------------------------------------------------------------- labels and sections
def _label_keys(grid: pl.DataFrame) -> pl.DataFrame:
    """Which row label (of 表三 / 表四 / a 表二 caption) each text cell is, if any."""
    text = pl.col("cell_state") == "text"
    return grid.with_columns(
        pl.when(text).then(pl.col(key)).alias(key) for key in ("t3_key", "t4_key", "caption_table", "t2_label")
    )


def _assign_sections(grid: pl.DataFrame, vocab: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Forward-fill the table each line belongs to from captions, headings and header lines."""
    first = _per_line(
        grid.lazy()
        .select("doc_id", "line_no", LINE, "cell_state", "norm", "caption_table", "t3_key")
        .filter(pl.col("cell_state") != "blank")
        .collect(),
        pl.col("norm").first().alias("first_norm"),
        pl.col("caption_table").first().alias("first_caption"),
        pl.col("t3_key").first().alias("first_t3"),
        # collected as a list and joined after: much faster than str.join inside the aggregation
        pl.col("norm").alias("line_norm"),
    ).with_columns(pl.col("line_norm").list.join(""))
    first = _in_reading_order(first)  # one row a line, in the grid's order
    headings = dict(zip(vocab["headings"]["norm"], vocab["headings"]["section"], strict=True))
    # a report that numbers its parts its own way (三、政府信息公开行政复议、行政诉讼情况 where the template
    # says 四、) or not at all: the heading without its list marker
    unmarked = _unique_norms(
        vocab["headings"].select(strip_list_marker_expr(pl.col("norm")).alias("norm"), "section")
    ).filter(pl.col("norm").str.len_chars() >= 6)
    unmarked_headings = dict(zip(unmarked["norm"], unmarked["section"], strict=True))
    first = first.with_columns(
        pl.coalesce(
            pl.col("line_norm").replace_strict(headings, default=None, return_dtype=pl.String),
            strip_list_marker_expr(pl.col("line_norm")).replace_strict(
                unmarked_headings, default=None, return_dtype=pl.String
            ),
        ).alias("heading_section")
    )
    t3_note = normalise_label("本列数据的勾稽关系")
    applicant_header = normalise_label("申请人情况")
    t4_head = normalise_label("行政复议")
    marker = (
        pl.when(pl.col("first_caption").is_not_null())
        .then(pl.col("first_caption"))
        .when(pl.col("heading_section") == "t3_section")
        .then(pl.lit("t3"))
        .when(pl.col("first_norm").str.contains(t3_note, literal=True) | (pl.col("first_norm") == applicant_header))
        .then(pl.lit("t3"))
        .when(pl.col("first_t3") == "new_received")
        .then(pl.lit("t3"))
        .when((pl.col("heading_section") == "t4_section") | (pl.col("first_norm") == t4_head))
        .then(pl.lit("t4"))
        .when(pl.col("heading_section").is_not_null())
        .then(pl.lit("none"))
    )
    first = first.with_columns(marker.alias("section_marker"))
    # a t3 data label does not restart the section when already inside t3
    first = first.with_columns(
        pl.col("section_marker").forward_fill().over("doc_id").alias("_prev")
    ).with_columns(
        pl.when((pl.col("first_t3") == "new_received") & (pl.col("_prev").shift(1).over("doc_id") == "t3"))
        .then(None)
        .otherwise(pl.col("section_marker"))
        .alias("section_marker")
    )
    # the 表二 area: from its heading or any 第二十条 caption (cut ones too: "第二十条第") to the next
    # section; inside it the sub-table of a row is the one its label belongs to
    t2_caption = normalise_label("第二十条")
    area = (
        pl.when(
            pl.col("first_caption").is_not_null()
            | (pl.col("heading_section") == "t2_section")
            | pl.col("first_norm").str.starts_with(t2_caption)
        )
        .then(pl.lit(True))
        .when(pl.col("section_marker").is_not_null())
        .then(pl.lit(False))
    )
    first = first.with_columns(area.forward_fill().over("doc_id").fill_null(False).alias("t2_area"))
    first = first.with_columns(
        pl.col("section_marker").forward_fill().over("doc_id").fill_null("none").alias("section"),
        pl.when(pl.col("section_marker").is_not_null())
        .then(pl.col("line_no"))
        .forward_fill()
        .over("doc_id")
        .alias("section_start"),
    )
    grid = grid.join(
        first.select(LINE, "section", "section_start", "section_marker", "heading_section", "first_norm", "t2_area"),
        on=LINE,
        how="left",
        maintain_order="left",
    )
    if grid["section"].null_count() == 0:
        # every line has a cell that is not blank (section is never null on a line of ``first``): the
        # three columns are already filled along each document, and the fills below change nothing
        return grid
    return grid.with_columns(
        # a line of blanks only (a lone "|" between cells) lies in the section around it
        pl.col("section").forward_fill().over("doc_id").fill_null("none"),
        pl.col("section_start").forward_fill().over("doc_id"),
        pl.col("t2_area").forward_fill().over("doc_id").fill_null(False),
    )


def _logical_rows(grid: pl.DataFrame) -> pl.DataFrame:
    """Regroup the cells of the tables into logical rows, whatever the line breaks.

    Real exports break a table row anywhere: one cell per line, a lone ``|`` between cells, the values
    on the line after their label. Inside a table a row starts at its label (a row label of that
    table) and runs over the values that follow until the next text cell (another label, a header, a
    caption, a note). ``_LINE`` then keys the logical row, ``line_no`` is its first line and ``_pline``
    each cell's own line (its locator is unchanged); ``cell_idx`` counts within the logical row.
    Outside the tables a line stays a row. Merged-cell copies of a text start nothing: they repeat a
    label or a header already there.
    """
    section = pl.col("section")
    in_t3, in_t4 = section == "t3", section == "t4"
    in_t2 = pl.col("t2_area") & ~in_t3 & ~in_t4
    in_table = in_t2 | in_t3 | in_t4
    # text copies inside a table are dropped: the label or header they copy is already in the row
    # (no copy in the batch: no filter, which would copy every column of the grid)
    if grid["span_copy"].any():
        grid = grid.filter(~(in_table & pl.col("span_copy") & (pl.col("cell_state") == "text")))
    # The grid is in reading order and every step below is a running sum or a fill along it: no
    # window over lines or rows (they cost more than the rest of the regrouping together).
    first_of_line = pl.col(LINE) != pl.col(LINE).shift(1).fill_null(-1)
    # the table family (0 outside the tables) and the cell's kind, each read several times below: columns
    # made once (an eager expression is computed again at every use, string comparisons each time)
    grid = grid.with_columns(
        pl.when(in_t3).then(1).when(in_t4).then(2).when(in_t2).then(3).otherwise(0).alias("_family"),
        (pl.col("cell_state") == "text").alias("_text"),
        (~pl.col("cell_state").is_in(["blank", "text"])).alias("_value"),
    )
    family, text, value = pl.col("_family"), pl.col("_text"), pl.col("_value")
    in_table = family != 0
    # values before each cell, and before the first cell of its line
    grid = grid.with_columns(
        first_of_line.alias("_first_of_line"),
        (value.cast(pl.Int64).cum_sum() - value.cast(pl.Int64)).alias("_values_before"),
    ).with_columns(
        pl.when("_first_of_line").then(pl.col("_values_before")).forward_fill().alias("_line_start_values")
    )
    # a line that prints several values is a whole row (or a positional part of one): values on the next
    # line begin another row, even without a label (a converter that lost it); one value a line is the
    # one-cell-per-line layout, where a row runs on
    previous_line_values = pl.col("_values_before") - pl.col("_line_start_values").shift(1).fill_null(0)
    after_full_line = pl.col("_first_of_line") & (previous_line_values >= 2)
    plain_text = pl.col("plain_text") if "plain_text" in grid.columns else pl.lit(True)
    boundary = (
        (pl.col("_first_of_line") & (~in_table | pl.col("section_marker").is_not_null()))
        | (in_table & text)
        | (in_table & after_full_line & value)
        | (family != family.shift(1).fill_null(-1))
        | (pl.col("doc_id") != pl.col("doc_id").shift(1))
    ).fill_null(True)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    grid = grid.with_columns(boundary.alias("_boundary"), index.alias("_i")).with_columns(
        pl.col("_boundary").cum_sum().cast(pl.Int64).alias("_row"),
        pl.when("_boundary").then(pl.col("_i")).forward_fill().alias("_row_start"),
        pl.when("_boundary").then(pl.col("line_no")).forward_fill().alias("_row_line"),
        (pl.col("doc_id") != pl.col("doc_id").shift(-1)).fill_null(True).alias("_last_of_doc"),
    )
    return grid.with_columns(
        pl.col("line_no").alias("_pline"),
        pl.col("_row_line").alias("line_no"),
        (pl.col("_i") - pl.col("_row_start")).cast(pl.Int32).alias("cell_idx"),
        pl.col("_row").alias(LINE),
        # the document ends inside this row: a page opening or a text capture cut short
        ((pl.col("_row") == pl.when("_last_of_doc").then(pl.col("_row")).backward_fill()) & plain_text).alias("_at_end"),
    ).drop("_row", "_row_start", "_row_line", "_i", "_boundary", "_first_of_line", "_values_before",
           "_line_start_values", "_last_of_doc", "_family", "_text", "_value")


# What a placed cell carries into the facts (and the warnings): the 表三/表四 mappers select these
# before their windows and joins, so that they never copy the grid's many other columns.
_CELL_COLUMNS = [
    "doc_id", "line_no", LINE, "_pline", "_at_end", "cell_idx", "raw_text", "locator", "cell_state", "value",
    "unit_raw", "value_is_integer",
]


# What TableResult.cells keeps (doc_id + raw.table_cells without report_id), and what the count
# check needs besides (the value type of a 表二 column, whether a number is whole)
_FACT_COLUMNS = [
    "doc_id", "table_id", "template_version", "row_key", "col_key", "raw_text", "cell_state", "value", "unit",
    "unit_raw", "unit_assumed", "locator", "value_type", "value_is_integer",
]


# --------------------------------------------------------------------------- 表二
def _map_t2(grid: pl.DataFrame, vocab: dict[str, pl.DataFrame]):
    """表二: each logical row of the 表二 area that starts with a row label is a row of the sub-table
    the label belongs to; its values are placed by the columns of that sub-table in the template
    version its header cells name (a cut header such as 本年新 or 现行有效件 still names one).
    A sub-table whose header names no version takes the version the report's other headers name,
    else the one whose column count is the row's; otherwise its values stay in a warning."""
    t2 = (
        grid.lazy()
        .filter(pl.col("t2_area") & ~pl.col("section").is_in(["t3", "t4"]))
        .select(*_CELL_COLUMNS, "t2_label", "norm")
        .collect()
    )
    label_table = pl.col("t2_label").str.split("|").list.first()
    t2 = t2.with_columns(
        pl.col("t2_label").drop_nulls().first().over(LINE).alias("_label"),
        # a header cell heads the sub-table of the next row label
        label_table.backward_fill().over("doc_id").alias("_next_table"),
    )
    cols = vocab["t2_cols"].rename({"norm": "alias_norm"})
    headers = t2.filter((pl.col("cell_state") == "text") & pl.col("t2_label").is_null() & pl.col("_next_table").is_not_null())
    matched = headers.join(cols, left_on="_next_table", right_on="table_id").filter(
        pl.col("norm").str.starts_with(pl.col("alias_norm"))
        # a header line the export did not split (信息内容    本年制发件数    本年废止件数 ...)
        | (pl.col("norm").str.contains(pl.col("alias_norm"), literal=True) & (pl.col("alias_norm").str.len_chars() >= 4))
        | (pl.col("alias_norm").str.starts_with(pl.col("norm")) & (pl.col("norm").str.len_chars() >= 3))
    )
    votes = (
        matched.select("doc_id", pl.col("_next_table").alias("table_id"), LINE, "cell_idx", "version")
        .unique()
        .group_by("doc_id", "table_id", "version")
        .agg(pl.len().alias("hits"))
    )
    table_version = _single_winner(votes, ["doc_id", "table_id"])
    doc_version = _single_winner(votes.group_by("doc_id", "version").agg(pl.col("hits").sum()), ["doc_id"])
    # the money unit a header prints (本年收费金额(单位:万元), 采购总金额(元))
    header_units = (
        headers.with_columns(header_unit_expr("raw_text").alias("header_unit"))
        .filter(pl.col("header_unit").is_not_null())
        .group_by("doc_id", pl.col("_next_table").alias("table_id"))
        .agg(pl.col("header_unit").first())
    )
    t2, order_warn = _t2_rows_by_template_order(t2)
    rows = t2.filter(pl.col("_label").is_not_null()).with_columns(
        pl.col("_label").str.split("|").list.first().alias("table_id"),
        pl.col("_label").str.split("|").list.last().alias("row_key"),
    )
    widths = cols.group_by("table_id", "version").agg(pl.col("position").max().alias("_width") + 1)
    printed = (pl.col("cell_idx") > 0) & ~pl.col("cell_state").is_in(["blank", "text"])
    rows = (
        rows.join(table_version, on=["doc_id", "table_id"], how="left")
        .join(doc_version.rename({"version": "_doc_version"}), on="doc_id", how="left")
        .with_columns(pl.coalesce("version", "_doc_version").alias("version"), printed.sum().over(LINE).alias("_printed"))
    )
    # no header names a version: the one whose column count is the row's count of values, if one is
    by_width = (
        rows.filter(pl.col("version").is_null())
        .select("doc_id", "table_id", LINE, "_printed")
        .unique()
        .join(widths, on="table_id")
        .filter(pl.col("_printed") == pl.col("_width"))
        .group_by(LINE)
        .agg(pl.col("version").unique())
        .filter(pl.col("version").list.len() == 1)
        .select(LINE, pl.col("version").list.first().alias("_width_version"))
    )
    rows = rows.join(by_width, on=LINE, how="left", maintain_order="left").with_columns(
        pl.coalesce("version", "_width_version").alias("version")
    )
    warnings = []
    unversioned = rows.filter(pl.col("version").is_null() & (pl.col("_printed") > 0))
    warnings.append(
        _per_line(unversioned, pl.col("table_id").first(), pl.col("row_key").first(), pl.col("raw_text").str.join(" | "),
                  pl.col("locator").first())
        .with_columns(
            pl.lit("unknown_template_version").alias("code"),
            pl.lit("warn").alias("severity"),
            pl.lit("a 表二 row whose header names no template version (2019 and 2021 columns differ); values kept here only").alias("detail"),
        )
    )
    warnings.append(order_warn)
    rows = rows.filter(pl.col("version").is_not_null())
    if rows.is_empty():
        facts = rows.clear().with_columns(pl.lit(None, pl.String).alias("col_key"), pl.lit(None, pl.String).alias("value_type"))
    else:
        # every sub-table and version in one pass, each row with its table's width (a logical row is of
        # one sub-table and one version): one alignment, not one per sub-table (each a few dozen small
        # Polars steps of fixed cost)
        rows = rows.join(widths, on=["table_id", "version"], how="left", maintain_order="left")
        placed, warn = _align(rows.sort(LINE, "cell_idx"), "_width", "t2_label", "row_key")
        positions = cols.select("table_id", "version", pl.col("position").cast(pl.Int64).alias("_pos"), "col_key",
                                "value_type").unique(["table_id", "version", "_pos"])
        facts = placed.with_columns(pl.col("_pos").cast(pl.Int64)).join(
            positions, on=["table_id", "version", "_pos"], how="left"
        ).drop("_width")
        row_tables = rows.select(LINE, "table_id").unique(LINE)
        warnings.append(warn.join(row_tables, on=LINE, how="left").drop("_width", strict=False))
    facts = facts.join(header_units, on=["doc_id", "table_id"], how="left")
    facts, dup_warn = _first_occurrence(facts.with_columns((pl.col("table_id") + "." + pl.col("row_key")).alias("row_key")), "t2")
    facts = facts.with_columns(pl.col("row_key").str.split(".").list.last())
    warnings.append(dup_warn.with_columns(pl.col("row_key").str.split(".").list.first().alias("table_id"),
                                          pl.col("row_key").str.split(".").list.last()))
    is_amount = pl.col("value_type") == "amount_wan_yuan"
    unit_written = pl.coalesce(pl.col("unit_raw"), pl.col("header_unit"))
    facts = facts.with_columns(
        pl.when(is_amount).then(unit_written).otherwise(pl.col("unit_raw")).alias("unit_raw"),
        (is_amount & unit_written.is_null() & (pl.col("cell_state") == "number")).alias("unit_assumed"),
    ).with_columns(
        pl.when(is_amount)
        .then(pl.col("value") * amount_factor_expr("unit_raw").fill_null(1.0))
        .otherwise(pl.col("value"))
        .alias("value"),
        pl.when(is_amount)
        .then(pl.lit("万元"))
        .when(pl.col("col_key").is_in(["prev_year_items", "change_this_year", "procurement_items"]))
        .then(pl.lit("项"))
        .otherwise(pl.lit("件"))
        .alias("unit"),
        pl.col("version").alias("template_version"),
    )
    versions = (
        facts.group_by("doc_id", "version")
        .agg(pl.len().alias("n"))
        .sort("n", "version", descending=[True, True])
        .group_by("doc_id", maintain_order=True)
        .first()
        .select("doc_id", pl.col("version").alias("t2_version"))
    )
    return facts, pl.concat([w.with_columns(pl.col("row_key").cast(pl.String)) for w in warnings], how="diagonal_relaxed"), versions


def _t2_rows_by_template_order(t2: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``_rows_by_template_order`` per 表二 sub-table (a row without its label, 209-style: the label
    cell printed empty): a logical row belongs to the sub-table of its label, else to the one whose
    row label comes next."""
    reg = registry()
    value = ~pl.col("cell_state").is_in(["blank", "text"])
    if t2.filter(pl.col("_label").is_null() & value).is_empty():
        return t2, pl.DataFrame(
            schema={"doc_id": t2.schema["doc_id"], "table_id": pl.String, "row_key": pl.String, "raw_text": pl.String,
                    "locator": pl.String, "code": pl.String, "severity": pl.String, "detail": pl.String})
    chunk_table = pl.coalesce(
        pl.col("_label").str.split("|").list.first(), pl.col("_next_table").first().over(LINE)
    )
    t2 = t2.with_columns(chunk_table.alias("_chunk_table"), pl.col("_label").str.split("|").list.last().alias("_t2_row"))
    parts, warns = [], []
    for (table_id,), part in t2.group_by("_chunk_table", maintain_order=True):
        if table_id is None:
            parts.append(part)
            continue
        order: list[tuple[str, bool]] = []
        for version in reg.versions:
            for spec in reg.t2_tables(version):
                if spec.table_id == table_id:
                    order += [(r["key"], True) for r in spec.rows if (r["key"], True) not in order]
        part, warn = _rows_by_template_order(part, "_t2_row", lambda _doc, order=order: order, "表二")
        parts.append(part.with_columns(
            pl.when(pl.col("_t2_row").is_not_null()).then(pl.lit(table_id) + "|" + pl.col("_t2_row")).alias("_label")
        ))
        warns.append(warn.with_columns(pl.lit(table_id).alias("table_id")))
    t2 = pl.concat(parts, how="diagonal_relaxed").sort(LINE, "cell_idx") if parts else t2
    warnings = pl.concat(warns, how="diagonal_relaxed") if warns else pl.DataFrame(
        schema={"doc_id": t2.schema["doc_id"], "table_id": pl.String, "row_key": pl.String, "raw_text": pl.String,
                "locator": pl.String, "code": pl.String, "severity": pl.String, "detail": pl.String})
    return t2.drop("_chunk_table", "_t2_row"), warnings


def _single_winner(votes: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The version with the most hits per ``keys``; none where two versions tie."""
    return (
        votes.filter(pl.col("hits") == pl.col("hits").max().over(keys))
        .filter(pl.len().over(keys) == 1)
        .select(*keys, "version")
    )


# --------------------------------------------------------------------------- row alignment
def _index_in_group(frame: pl.DataFrame, key: str) -> pl.Expr:
    """``int_range(len()).over(key)``: each row's place among the rows of its ``key``. Rows of one key
    next to each other (a sorted key): the row number less that of the group's first row, where the
    window costs ten times as much."""
    if not frame[key].is_sorted():
        return pl.int_range(pl.len()).over(key)
    index = pl.int_range(pl.len(), dtype=pl.Int64)
    first = (pl.col(key) != pl.col(key).shift(1)).fill_null(True)
    return index - pl.when(first).then(index).forward_fill()


def _align(rows: pl.DataFrame, width: int | str, label_col: str, key_col: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Place the data cells after each row's rightmost label into ``width`` physical columns.

    ``rows`` are logical rows (``_logical_rows``). When the row's printed values sit on one line, that
    line's cells are read by position, blanks included: exact when the row has exactly ``width`` data
    cells; otherwise right-anchored on the last non-blank cell when at least ``width`` cells precede
    it. Extra cells on the left that are blank are merged-cell artefacts; extra zeros are dropped with
    an info warning. When the values run over several lines (one cell per line, values after their
    label), the separators between them carry nothing and the printed values are read in order, which
    is certain only when there are exactly ``width`` of them. Anything else, or too few cells, makes the
    row ambiguous: no fact, a warning with the raw cells. ``rows`` come in reading order. ``width``
    is the number of columns, or the name of the column that holds each row's (rows of several
    tables placed in one pass).
    """
    columns = pl.col(width) if isinstance(width, str) else pl.lit(width)
    # a row placed without a readable label may still begin with the fragment of one (止公开)
    is_label = pl.col(label_col).is_not_null() | ((pl.col("cell_idx") == 0) & (pl.col("cell_state") == "text"))
    printed = pl.col("cell_state") != "blank"
    one_line = pl.col("_value_lines") == 1
    # which cells are the rows' data cells reads five columns: the two filters run over those and a row
    # number, and the wide frame is filtered once by the cells kept (a filter copies every column; a
    # mask filter of the wide frame is several times cheaper than a gather of its rows)
    found = (
        rows.select(LINE, "cell_idx", "cell_state", "_pline", label_col,
                    pl.int_range(pl.len(), dtype=pl.UInt32).alias("_ri"))
        .with_columns(pl.col("cell_idx").filter(is_label).max().over(LINE).fill_null(-1).alias("_label_idx"))
        .filter(pl.col("cell_idx") > pl.col("_label_idx"))
        .with_columns(
            pl.col("_pline").filter(printed).n_unique().over(LINE).alias("_value_lines"),
            pl.col("_pline").filter(printed).first().over(LINE).alias("_value_line"),
        )
        .filter(
            (one_line & (pl.col("_pline") == pl.col("_value_line")))
            | (pl.col("_value_lines") == 0)
            | ((pl.col("_value_lines") > 1) & printed)
        )
    )
    kept = pl.repeat(False, rows.height, dtype=pl.Boolean, eager=True).scatter(found["_ri"], True)
    data = rows.filter(kept).hstack(found.select("_label_idx", "_value_lines", "_value_line"))
    if rows[LINE].flags["SORTED_ASC"]:
        data = data.with_columns(pl.col(LINE).set_sorted())  # a subset of sorted rows in their order
    data = data.with_columns(_index_in_group(data, LINE).alias("_di")).with_columns(
        pl.len().over(LINE).alias("_n"),
        pl.col("_di").filter(printed).max().over(LINE).alias("_last"),
    )
    exact = pl.col("_n") == columns
    right = one_line & ((pl.col("_last") + 1) >= columns)
    # the document stops inside the row: what it prints before the cut are the row's first cells
    cut = pl.col("_at_end") & (pl.col("_n") < columns) & pl.col("_last").is_not_null()
    data = data.with_columns(
        pl.when(exact | cut)
        .then(pl.col("_di"))
        .when(right)
        .then(pl.col("_di") - (pl.col("_last") - columns + 1))
        .alias("_pos"),
        pl.when(pl.col("_last").is_null())
        .then(pl.lit("all_blank"))
        .when(exact)
        .then(pl.lit("exact"))
        .when(right)
        .then(pl.lit("right"))
        .when(cut)
        .then(pl.lit("cut"))
        .otherwise(pl.lit("ambiguous"))
        .alias("_mode"),
    )
    extra = pl.col("_pos") < 0
    extra_zero = extra & (pl.col("cell_state") == "number") & (pl.col("value") == 0)
    extra_bad = extra & (pl.col("cell_state") != "blank") & ~extra_zero
    data = data.with_columns(
        pl.when(extra_bad.any().over(LINE)).then(pl.lit("ambiguous")).otherwise(pl.col("_mode")).alias("_mode"),
        extra_zero.any().over(LINE).alias("_extra_zero"),
    )
    placed = data.filter(
        pl.col("_mode").is_in(["exact", "right", "cut"]) & (pl.col("_pos") >= 0) & (pl.col("_pos") < columns)
    )
    # A row of blanks only: emit one blank per column so the row's presence is recorded.
    all_blank = data.filter(pl.col("_mode") == "all_blank")
    widest = width if isinstance(width, int) else int(all_blank[width].max() or 0)
    blank_rows = (
        all_blank
        .group_by(LINE, maintain_order=True)
        .agg(pl.all().exclude("_pos").first())
        .join(pl.DataFrame({"_pos": list(range(widest))}, schema={"_pos": pl.Int32}), how="cross")
        # a row the document ends inside shows only the cells printed before the end
        .filter((pl.col("_pos") < columns) & (~pl.col("_at_end") | (pl.col("_pos") < pl.col("_n"))))
        .with_columns(pl.lit("").alias("raw_text"), pl.format("line {}", pl.col("line_no")).alias("locator"))
    )
    placed = pl.concat([placed, blank_rows], how="diagonal_relaxed")

    row_text = pl.col("raw_text").str.join(" | ")
    row_key = (pl.col(key_col) if key_col else pl.lit(None, pl.String)).first().alias("row_key")
    ambiguous = (
        _per_line(data.filter(pl.col("_mode") == "ambiguous"), row_key, row_text, pl.col("locator").first(),
                  pl.len().alias("_n"), *([pl.col(width).first()] if isinstance(width, str) else []))
        .with_columns(
            pl.lit("ambiguous_alignment").alias("code"),
            pl.lit("warn").alias("severity"),
            pl.format(
                "{} data cells cannot be placed into {} columns with certainty; values kept here, none emitted",
                pl.col("_n"),
                columns,
            ).alias("detail"),
        )
    )
    extra_zeros = (
        _per_line(data.filter(pl.col("_extra_zero") & pl.col("_mode").is_in(["right"]) & extra_zero),
                  row_key, row_text, pl.col("locator").first())
        .with_columns(
            pl.lit("alignment_extra_cells").alias("code"),
            pl.lit("info").alias("severity"),
            pl.lit("extra zero cell(s) left of the row's columns dropped (merged-cell artefact)").alias("detail"),
        )
    )
    cut_rows = (
        _per_line(data.filter(pl.col("_mode") == "cut"), row_key, row_text, pl.col("locator").first())
        .with_columns(
            pl.lit("table_cut").alias("code"),
            pl.lit("info").alias("severity"),
            pl.lit("the document ends inside this row: the cells printed before the end were read, the rest is "
                   "unknown").alias("detail"),
        )
    )
    warnings = pl.concat([ambiguous, extra_zeros, cut_rows], how="diagonal_relaxed")
    _align.last_ambiguous = data.filter(pl.col("_mode") == "ambiguous")
    return placed, warnings


# --------------------------------------------------------------------------- 表三
def _map_t3(grid: pl.DataFrame):
    reg = registry()
    columns = reg.t3_column_order
    t3 = (
        grid.lazy()
        .filter(pl.col("section") == "t3")
        .select(*_CELL_COLUMNS, "t3_key")
        .collect()
    )
    has_number = (pl.col("cell_state") != "blank") & (pl.col("cell_state") != "text")
    t3 = t3.with_columns(
        pl.col("t3_key").drop_nulls().last().over(LINE).alias("_row_key"),
        pl.col("cell_idx").filter(pl.col("t3_key").is_not_null()).max().over(LINE).alias("_last_label_idx"),
    )
    v2021 = pl.col("t3_key").is_in(_T3_V2021_ONLY).any().over("doc_id")
    t3 = t3.with_columns(pl.when(v2021).then(pl.lit("v2021")).otherwise(pl.lit("v2019")).alias("t3_version"))
    # one version a document (the any above is over the document): read on each document's first cell
    # (documents in order), not by a grouping of every cell
    if t3["doc_id"].is_sorted():
        versions = t3.filter((pl.col("doc_id") != pl.col("doc_id").shift(1)).fill_null(True)).select("doc_id", "t3_version")
    else:
        versions = t3.group_by("doc_id").agg(pl.col("t3_version").first())
    orders = {v: [("other_processing" if r["key"] == "other_group" else r["key"], r.get("data", True))
                  for r in reg.t3(v).rows] for v in reg.versions}
    t3, order_warn = _rows_by_template_order(t3, "_row_key", lambda doc: orders[doc["t3_version"]], "t3")
    # the rightmost label decides the row; lines without any known label are headers or notes. A line
    # keeps one row key over all its cells, so it is kept or dropped whole: whether it prints a number
    # is asked of all of t3, and each part is one filter of it
    line_has_number = (pl.col("cell_idx") > pl.col("_last_label_idx")) & has_number
    t3 = t3.with_columns(line_has_number.any().over(LINE).alias("_has_number")).drop("_last_label_idx")
    labelled = pl.col("_row_key").is_not_null()
    group_line = pl.col("_row_key").is_in(_T3_GROUP_LABELS) | (
        (pl.col("_row_key") == "other_processing") & (pl.col("t3_version") == "v2021")
    )
    warn_rows = t3.filter(labelled & group_line & pl.col("_has_number"))
    rows = t3.filter(labelled & ~group_line)
    placed, warnings = _align(rows, len(columns), "t3_key", "_row_key")
    confirmed, confirmed_lines = _confirm_by_identities(_align.last_ambiguous, placed, columns)
    if not confirmed.is_empty():
        placed = pl.concat([placed, confirmed], how="diagonal_relaxed")
        warnings = pl.concat(
            [
                warnings.join(confirmed_lines, on=["doc_id", "line_no"], how="anti"),
                confirmed_lines.with_columns(
                    pl.lit("alignment_confirmed_by_identities").alias("code"),
                    pl.lit("info").alias("severity"),
                    pl.lit("fewer cells than columns (blanks not printed); the only placement that satisfies the "
                           "row total and every column identity of 表三 was used, missing cells recorded blank").alias("detail"),
                ),
            ],
            how="diagonal_relaxed",
        )
    placed = placed.with_columns(
        pl.col("_row_key").alias("row_key"),
        pl.col("_pos").replace_strict(dict(enumerate(columns)), return_dtype=pl.String).alias("col_key"),
        pl.lit("t3").alias("table_id"),
        pl.col("t3_version").alias("template_version"),
        pl.lit("件").alias("unit"),
    )
    placed, dup_warn = _first_occurrence(placed, "t3")
    printed = (
        _per_line(warn_rows, pl.col("_row_key").first().alias("row_key"), pl.col("raw_text").str.join(" | "),
                  pl.col("locator").first())
        .with_columns(
            pl.lit("printed_group_subtotal").alias("code"),
            pl.lit("info").alias("severity"),
            pl.lit("numbers printed on a group label line (a subtotal the template does not print); kept here only").alias("detail"),
        )
    )
    warnings = pl.concat([warnings.with_columns(pl.col("row_key").cast(pl.String)), printed, dup_warn, order_warn],
                         how="diagonal_relaxed")
    warnings = warnings.with_columns(pl.lit("t3").alias("table_id"))
    return placed, warnings, versions


def _rows_by_template_order(
    cells: pl.DataFrame, key_col: str, order_for, table_id: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Logical rows with values but no label they can be read by (a converter split or dropped it: 
    ``止公开`` after ``2.其他法律行政法规禁``, or nothing at all) take the template's rows that are
    missing between the labelled rows around them, in order, when there are exactly as many of them
    as missing rows: an info warning says so. Any other unlabelled row with values is a warning with
    its raw text. ``order_for(first cell of the document)`` gives the template's rows in order as
    (key, carries data). Python runs only over the documents that have such rows."""
    value = ~pl.col("cell_state").is_in(["blank", "text"])
    empty_warn = pl.DataFrame(schema={"doc_id": cells.schema["doc_id"], "line_no": pl.Int32, "row_key": pl.String,
                                      "raw_text": pl.String, "locator": pl.String, "code": pl.String,
                                      "severity": pl.String, "detail": pl.String})
    # most documents have none: find them before any grouping
    # (the documents only: a filter of the frame would copy all its columns)
    orphan_docs = cells.select(pl.col("doc_id").filter(pl.col(key_col).is_null() & value).unique())["doc_id"]
    if orphan_docs.is_empty():
        return cells, empty_warn
    chunks = cells.filter(pl.col("doc_id").is_in(orphan_docs.implode())).group_by(LINE, maintain_order=True).agg(
        pl.col("doc_id").first(),
        pl.col(key_col).drop_nulls().last().alias("_key"),
        value.sum().alias("_values"),
        pl.col("raw_text").str.join(" | ").alias("raw_text"),
        pl.col("locator").first(),
        pl.col("line_no").first(),
        *(pl.col(c).first() for c in cells.columns if c in ("t3_version",)),
    )
    orphans = chunks.filter(pl.col("_key").is_null() & (pl.col("_values") > 0))
    docs = orphans["doc_id"].unique().implode()
    assigned: dict[int, str] = {}
    for (_doc,), doc_chunks in chunks.filter(pl.col("doc_id").is_in(docs)).group_by("doc_id", maintain_order=True):
        first = doc_chunks.row(0, named=True)
        order = order_for(first)
        position = {key: i for i, (key, data) in enumerate(order) if data}
        # the document's rows in reading order: labelled rows with values are the bounds, unlabelled ones
        # with values lie between them. A label without values (a fragment a converter moved away from its
        # row) bounds nothing and leaves its row missing
        sequence = [(line, key) for line, key, n in doc_chunks.select(LINE, "_key", "_values").iter_rows()
                    if n > 0 and (key is None or key in position)]
        labelled = {key for _, key in sequence if key is not None}
        bound, pending = -1, []
        for line, key in [*sequence, (None, None)]:
            if line is not None and key is None:
                pending.append(line)
                continue
            upper = position[key] if key is not None else len(order)
            if pending:
                missing = [k for k, data in order[bound + 1: upper] if data and k not in labelled]
                if len(missing) == len(pending):
                    assigned.update(zip(pending, missing, strict=True))
                pending = []
            bound = max(bound, upper)
    by_order = pl.DataFrame({LINE: list(assigned), "_order_key": list(assigned.values())},
                            schema={LINE: cells.schema[LINE], "_order_key": pl.String})
    cells = cells.join(by_order, on=LINE, how="left", maintain_order="left").with_columns(
        pl.coalesce(key_col, "_order_key").alias(key_col)
    )
    warn_cols = ["doc_id", "line_no", "row_key", "raw_text", "locator"]
    placed = (
        orphans.join(by_order, on=LINE)
        .select(*warn_cols[:2], pl.col("_order_key").alias("row_key"), *warn_cols[3:])
        .with_columns(
            pl.lit("row_placed_by_template_order").alias("code"),
            pl.lit("info").alias("severity"),
            pl.lit(f"a {table_id} row printed without a readable label, between labelled rows; it is the only row of "
                   "the template missing there, so its values were placed in that row").alias("detail"),
        )
    )
    unplaced = (
        orphans.join(by_order, on=LINE, how="anti")
        .select(*warn_cols[:2], pl.lit(None, pl.String).alias("row_key"), *warn_cols[3:])
        .with_columns(
            pl.lit("unknown_row_label").alias("code"),
            pl.lit("warn").alias("severity"),
            pl.lit(f"{table_id} values whose row label matches no row of the template and whose place in the "
                   "template is not certain; kept here only").alias("detail"),
        )
    )
    return cells.drop("_order_key"), pl.concat([placed, unplaced], how="diagonal_relaxed")


# Candidate placements tried per document before giving up (the product over its ambiguous rows).
MAX_CANDIDATES = 20_000


def _confirm_by_identities(amb: pl.DataFrame, placed: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with fewer printed cells than columns (a PDF text line drops blank cells): try every
    order-keeping placement of the printed numbers, the rest blank; keep a placement only when it is
    the single one, over all ambiguous rows of the report together, under which every row total
    (总计 = sum of the applicant columns) and every column identity of 表三 hold
    (一 + 二 = 三(七) + 四; 三(七) = sum of the outcome rows) with every row of the table present.
    Anything else stays ambiguous. Runs in Python only for reports with such rows."""
    from itertools import combinations, product

    doc_id_dtype = placed.schema["doc_id"]
    empty = (placed.clear(), pl.DataFrame(schema={"doc_id": doc_id_dtype, "line_no": pl.Int32}))
    if amb is None or amb.is_empty():
        return empty
    width = len(columns)
    lenient = {"blank": 0.0, "dash": 0.0, "slash": 0.0, "none_word": 0.0}
    out_rows: list[pl.DataFrame] = []
    out_lines: list[tuple[str, int]] = []
    reg = registry()
    for (doc_id,), doc_amb in amb.group_by("doc_id"):
        version = doc_amb["t3_version"][0]
        data_rows = [d["key"] for d in reg.t3_data_rows(version)]
        outcome_rows = data_rows[data_rows.index("granted"): data_rows.index("total_processed")]
        known: dict[str, list[float]] = {}
        doc_placed = placed.filter(pl.col("doc_id") == doc_id)
        for key, grp in doc_placed.group_by("_row_key"):
            vals = [None] * width
            for pos, state, value in grp.select("_pos", "cell_state", "value").iter_rows():
                vals[pos] = value if value is not None else lenient.get(state)
            known[key[0]] = vals
        rows = []
        for (line_no,), cells in doc_amb.sort("cell_idx").group_by("line_no", maintain_order=True):
            key = cells["_row_key"][0]
            printed = cells.filter(pl.col("cell_state") != "blank")
            if key in known or printed.is_empty() or printed.height > width or (printed["cell_state"] != "number").any():
                rows = None
                break
            vals = printed["value"].to_list()
            cands = []
            for pos in combinations(range(width), len(vals)):
                full = [0.0] * width
                for p, v in zip(pos, vals, strict=True):
                    full[p] = v
                if abs(sum(full[:-1]) - full[-1]) < 1e-9:
                    cands.append((pos, full))
            rows.append((line_no, key, printed, cands))
        if not rows or any(not r[3] for r in rows) or len({r[1] for r in rows}) != len(rows):
            continue
        n = 1
        for r in rows:
            n *= len(r[3])
        if n > MAX_CANDIDATES:
            continue
        if any(k not in known and k not in {r[1] for r in rows} for k in data_rows):
            continue
        if any(v is None for k in known for v in known[k]):
            continue
        good = []
        for choice in product(*(r[3] for r in rows)):
            table = dict(known)
            for r, (_, full) in zip(rows, choice, strict=True):
                table[r[1]] = full
            if all(
                abs(sum(table[k][c] for k in outcome_rows) - table["total_processed"][c]) < 1e-9
                and abs(table["new_received"][c] + table["carried_from_prev_year"][c]
                        - table["total_processed"][c] - table["carried_to_next_year"][c]) < 1e-9
                for c in range(width)
            ) and all(abs(sum(v[:-1]) - v[-1]) < 1e-9 for v in table.values()):
                good.append(choice)
                if len(good) > 1:
                    break
        if len(good) != 1:
            continue
        for r, (pos, _) in zip(rows, good[0], strict=True):
            line_no, key, printed, _ = r
            numbers = printed.with_columns(pl.Series("_pos", list(pos), dtype=pl.Int32))
            template = printed.head(1)
            blanks = [
                template.with_columns(
                    pl.lit(p, pl.Int32).alias("_pos"),
                    pl.lit("").alias("raw_text"),
                    pl.lit("blank").alias("cell_state"),
                    pl.lit(None, pl.Float64).alias("value"),
                    pl.lit(None, pl.String).alias("unit_raw"),
                    pl.format("line {}, column {} not printed (placed by identities)", pl.col("line_no"), pl.lit(p + 1)).alias("locator"),
                )
                for p in range(width)
                if p not in pos
            ]
            out_rows.append(pl.concat([numbers.with_columns(pl.col("_pos").cast(pl.Int32)), *blanks], how="diagonal_relaxed"))
            out_lines.append((doc_id, line_no, key, " | ".join(printed["raw_text"].to_list()), printed["locator"][0]))
    if not out_rows:
        return empty
    lines = pl.DataFrame(
        out_lines,
        schema={"doc_id": doc_id_dtype, "line_no": pl.Int32, "row_key": pl.String, "raw_text": pl.String, "locator": pl.String},
        orient="row",
    )
    return pl.concat(out_rows, how="diagonal_relaxed"), lines


def _first_occurrence(placed: pl.DataFrame, table_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A row label printed twice: the first line wins, the later ones are reported."""
    placed = placed.filter(pl.col("row_key").is_not_null())
    # most batches print every row once: a look at the distinct (document, row, line) triples finds
    # that before the window over (document, row) and the two filters of every placed cell
    # (a row's cells are mostly consecutive: repeats of the triple before are dropped first, cheaply)
    triple = ["doc_id", "row_key", "line_no"]
    repeated = pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in triple).fill_null(False)
    rows = placed.select(triple).filter(~repeated).unique()
    if not rows.select(pl.struct("doc_id", "row_key").is_duplicated().any()).item():
        return placed, _duplicate_rows(placed.clear(), table_id)
    placed = placed.with_columns(pl.col("line_no").min().over("doc_id", "row_key").alias("_first_line"))
    dups = _duplicate_rows(placed.filter(pl.col("line_no") != pl.col("_first_line")), table_id)
    return placed.filter(pl.col("line_no") == pl.col("_first_line")).drop("_first_line"), dups


def _duplicate_rows(later: pl.DataFrame, table_id: str) -> pl.DataFrame:
    """The warnings of the lines that print a row label again."""
    return (
        _per_line(later, pl.col("row_key").first(), pl.col("raw_text").str.join(" | "), pl.col("locator").first())
        .with_columns(
            pl.lit(table_id).alias("table_id"),
            pl.lit("duplicate_row").alias("code"),
            pl.lit("warn").alias("severity"),
            pl.lit("the same row label appears again; the first occurrence was kept").alias("detail"),
        )
    )


# --------------------------------------------------------------------------- 表四
def _map_t4(grid: pl.DataFrame):
    reg = registry()
    order = reg.t4_cell_order
    t4 = (
        grid.lazy()
        .filter(pl.col("section") == "t4")
        .select(*_CELL_COLUMNS, "t4_key")
        .collect()
    )
    t4 = t4.with_columns(
        ((pl.col("cell_state") != "text") & (pl.col("cell_state") != "blank")).sum().over(LINE).alias("_values"),
        pl.col("t4_key").drop_nulls().first().over(LINE).alias("_t4_label"),
    )
    results = [c.key for c in reg.t4().columns]
    # each proceeding its own small table (行政复议 / its five headers / five values): the five values
    # belong to the proceeding named last
    cells_after_header = (pl.col("cell_state") != "text").sum().over(LINE)
    own_table = (
        pl.col("_t4_label").is_null()
        & (pl.col("_values") > 0)
        & (cells_after_header == len(results))
        & pl.col("t4_key").forward_fill().over("doc_id").is_not_null()
    )
    t4 = t4.with_columns(
        pl.when(own_table).then(pl.col("t4_key").forward_fill().over("doc_id")).otherwise(pl.col("_t4_label")).alias("_t4_label")
    ).with_columns(pl.col("_t4_label").first().over(LINE))
    # one row of 15 values under the headers (the official layout): the first logical row with values
    # that follows a header cell, not a row label
    flat = t4.filter(pl.col("_t4_label").is_null() & (pl.col("_values") > 0))
    flat = flat.with_columns(pl.col(LINE).min().over("doc_id").alias("_first"))
    later = flat.filter(pl.col(LINE) != pl.col("_first"))
    flat = flat.filter(pl.col(LINE) == pl.col("_first")).drop("_first").with_columns(
        pl.when(pl.col("cell_state") == "text").then(pl.lit("header")).alias("_lbl")
    )
    placed_flat, warn_flat = _align(flat, len(order), "_lbl")
    placed_flat = placed_flat.with_columns(
        pl.col("_pos").replace_strict({i: r for i, (r, _) in enumerate(order)}, return_dtype=pl.String).alias("row_key"),
        pl.col("_pos").replace_strict({i: c for i, (_, c) in enumerate(order)}, return_dtype=pl.String).alias("col_key"),
    )
    # or three labelled rows of five (行政复议 | 未经复议直接起诉 | 复议后起诉)
    labelled = t4.filter(pl.col("_t4_label").is_not_null() & (pl.col("_values") > 0))
    labelled = labelled.filter(~pl.col("doc_id").is_in(flat["doc_id"].unique().implode()))
    placed_rows, warn_rows = _align(labelled, len(results), "t4_key", "_t4_label")
    placed_rows = placed_rows.with_columns(
        pl.col("_t4_label").alias("row_key"),
        pl.col("_pos").replace_strict(dict(enumerate(results)), return_dtype=pl.String).alias("col_key"),
    )
    placed = pl.concat([placed_flat, placed_rows], how="diagonal_relaxed").with_columns(
        pl.lit("t4").alias("table_id"), pl.lit("件").alias("unit")
    )
    placed, dup_warn = _first_occurrence(placed.with_columns(pl.col("row_key") + "." + pl.col("col_key")), "t4")
    placed = placed.with_columns(pl.col("row_key").str.split(".").list.first().alias("row_key"))
    extra_lines = (
        _per_line(later, pl.col("raw_text").str.join(" | "), pl.col("locator").first())
        .with_columns(
            pl.lit(None, pl.String).alias("row_key"),
            pl.lit("unplaced_cells").alias("code"),
            pl.lit("warn").alias("severity"),
            pl.lit("a second line of numbers inside 表四; only the first is the table row").alias("detail"),
        )
    )
    warnings = pl.concat(
        [w.with_columns(pl.col("row_key").cast(pl.String)) for w in (warn_flat, warn_rows, dup_warn)] + [extra_lines],
        how="diagonal_relaxed",
    ).with_columns(pl.lit("t4").alias("table_id"))
    return placed, warnings


# --------------------------------------------------------------------------- value types
def _check_counts(cells: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts must be non-negative integers; a cell that is not is kept as text with a warning."""
    value_type = pl.col("value_type").fill_null("count") if "value_type" in cells.columns else pl.lit("count")
    cells = cells.with_columns(value_type.alias("value_type"))
    is_number = pl.col("cell_state") == "number"
    fractional = is_number & (pl.col("value_type") != "amount_wan_yuan") & ~pl.col("value_is_integer")
    negative = is_number & (pl.col("value_type") != "signed_count") & (pl.col("value") < 0)
    bad = cells.filter(fractional | negative).with_columns(
        pl.when(fractional).then(pl.lit("non_integer_count")).otherwise(pl.lit("negative_value")).alias("code"),
        pl.lit("warn").alias("severity"),
        pl.lit("a count cell holds a fraction or a negative number; kept as text, no value").alias("detail"),
    )
    cells = cells.with_columns(
        pl.when(fractional | negative).then(pl.lit("text")).otherwise(pl.col("cell_state")).alias("cell_state"),
        pl.when(fractional | negative).then(None).otherwise(pl.col("value")).alias("value"),
    )
    return cells, bad
