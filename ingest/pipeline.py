"""Parse a batch of decoded documents into the raw tables (reports, cells, narrative, warnings).

The whole batch goes through each stage as one Polars frame: lines -> cells -> facts. Only the
per-document metadata (agency, year; a few regexes on the opening lines) runs once per document.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from ingest import PARSER_VERSION
from ingest.channels import channel_facts
from ingest.frontends import any_ocr_locator, build, ocr_confidence_expr, ocr_warnings, text_sources
from ingest.metadata import layout_markers, metadata_frame
from ingest.narrative import extract_narrative, partial_period, sentences_frame
from ingest.schemas import RAW_TABLES, conform, empty_frame
from ingest.tables import map_tables


@dataclass
class ParsedBatch:
    reports: pl.DataFrame  # raw.reports
    table_cells: pl.DataFrame  # raw.table_cells
    narrative_facts: pl.DataFrame  # raw.narrative_facts
    parse_warnings: pl.DataFrame  # raw.parse_warnings
    outcomes: pl.DataFrame  # source_sha256, ingest_status, reason, report_id

    @classmethod
    def empty(cls) -> ParsedBatch:
        return cls(
            empty_frame("reports"),
            empty_frame("table_cells"),
            empty_frame("narrative_facts"),
            empty_frame("parse_warnings"),
            pl.DataFrame(schema={"source_sha256": pl.String, "ingest_status": pl.String, "reason": pl.String,
                                 "report_id": pl.String}),
        )

    @classmethod
    def concat(cls, batches: list[ParsedBatch]) -> ParsedBatch:
        if not batches:
            return cls.empty()
        return cls(*(pl.concat([getattr(b, f) for b in batches]) for f in
                     ("reports", "table_cells", "narrative_facts", "parse_warnings", "outcomes")))


def report_id_for(sha256: str) -> str:
    """Stable report id derived from the source bytes."""
    return "rpt_" + sha256[:20]


def report_id_expr(sha256: pl.Expr) -> pl.Expr:
    """``report_id_for`` over a column."""
    return pl.lit("rpt_") + sha256.str.slice(0, 20)


def parse_documents(docs: pl.DataFrame) -> ParsedBatch:
    """docs: source_sha256, source_path, source_format, text (decoded, simplified)."""
    if docs.is_empty():
        return ParsedBatch.empty()
    # Every join, window and sort below is keyed by document: a small integer is a much cheaper key
    # than the 64-char sha. Documents are numbered in batch order (the order the front ends keep, so
    # the grid needs no sorting); a repeated sha gets the number of its first copy, as the sha key did.
    docs = docs.with_row_index("doc_id").with_columns(
        pl.col("doc_id").cast(pl.Int64).first().over("source_sha256")
    )
    lines, grid = build(docs)
    # The table mapper reads the grid, everything else the lines: the two run side by side (Polars
    # releases the GIL, and many of its steps use a single core).
    with ThreadPoolExecutor(max_workers=1) as pool:
        mapped = pool.submit(map_tables, grid)
        narrative, partial, line_counts, meta = _from_lines(lines)
        tables = mapped.result()
    # issue 13: a value read by OCR below the documented confidence is a warning (the report is partial)
    low = ocr_warnings(tables.cells)
    if not low.is_empty():
        warn = tables.warnings
        tables.warnings = pl.concat([warn, low.select(warn.columns).cast(dict(warn.schema))])
    warn_counts = (
        tables.warnings.filter(pl.col("severity") == "warn")
        .group_by("doc_id")
        .agg(pl.len().alias("n_warn"), pl.col("code").unique().sort().str.join(", ").alias("warn_codes"))
    )
    reports = (
        docs.select("doc_id", "source_sha256", "source_path", "source_format")
        .join(meta, on="doc_id", how="left")
        .join(tables.versions, on="doc_id", how="left")
        .join(partial, on="doc_id", how="left")
        .join(line_counts, on="doc_id", how="left")
        .join(warn_counts, on="doc_id", how="left")
        .join(narrative.group_by("doc_id").agg(pl.len().alias("n_narrative")), on="doc_id", how="left")
        .join(text_sources(docs, grid), on="doc_id", how="left")
        .with_columns(
            pl.col("has_t2", "has_t3", "has_t4", "period_partial").fill_null(False),
            pl.col("v2019_headings", "n_warn", "n_narrative").fill_null(0),
            pl.col("has_form_heading").fill_null(False),
            pl.col("legacy_headings", "v2019_form_headings").fill_null(0),
            pl.col("has_report_title", "has_report_preamble", "cites_regulation").fill_null(False),
        )
    )
    tables_found = pl.col("has_t2") | pl.col("has_t3") | pl.col("has_t4")
    # what only a report's own body shows; a notice about a report must show it to count as the report
    report_body = (
        pl.col("has_report_preamble")
        | (pl.col("v2019_headings") >= 3)
        | (pl.col("legacy_headings") >= 2)
        | tables_found
    )
    evidence = (
        pl.col("has_report_title")
        | report_body
        | (pl.col("mentions_disclosure") & (pl.col("n_narrative") > 0))
        | (pl.col("cites_regulation") & ((pl.col("legacy_headings") + pl.col("v2019_form_headings")) > 0))
    )
    is_report = (
        pl.when(pl.col("document_kind") == "notice")
        .then(report_body)
        .when(pl.col("document_kind") == "guide")
        .then(tables_found)
        .otherwise(evidence)
    )
    headings_version = pl.when(pl.col("report_year") >= 2021).then(pl.lit("v2021")).otherwise(pl.lit("v2019"))
    # the old layout, shown by its own headings and no table of the 2019 form
    legacy_layout = ~tables_found & (
        (pl.col("legacy_headings") >= 2)
        | ((pl.col("legacy_headings") >= 1) & (pl.col("v2019_form_headings") == 0))
    )
    template_version = (
        pl.when(pl.col("report_year") < 2019)
        .then(pl.lit("pre2019"))
        .when(pl.col("report_year").is_not_null() & legacy_layout)
        .then(pl.lit("pre2019"))
        .when(pl.col("report_year").is_between(2019, 2020))
        .then(pl.lit("v2019"))
        .when(pl.col("report_year") >= 2021)
        .then(pl.lit("v2021"))
        # no year read: the tables' own version, else the form's headings
        .when(pl.col("has_t3"))
        .then(pl.col("t3_version"))
        .when(pl.col("has_t2"))
        .then(pl.col("t2_version"))
        .when((pl.col("v2019_headings") >= 3) & pl.col("has_form_heading"))
        .then(headings_version)
        .otherwise(pl.lit("pre2019"))
    )
    reports = reports.with_columns(
        pl.lit(PARSER_VERSION).alias("parser_version"),
        report_id_expr(pl.col("source_sha256")).alias("report_id"),
        template_version.alias("template_version"),
        pl.when(pl.col("n_warn") > 0).then(pl.lit("partial")).otherwise(pl.lit("parsed")).alias("parse_status"),
        is_report.alias("is_report"),
        pl.when(pl.col("has_t2")).then(pl.col("t2_version")).alias("t2_version"),
        pl.when(pl.col("has_t3")).then(pl.col("t3_version")).alias("t3_version"),
    )
    outcomes = reports.select(
        "source_sha256",
        pl.when(~pl.col("is_report"))
        .then(pl.lit("not_a_report"))
        .otherwise(pl.col("parse_status"))
        .alias("ingest_status"),
        pl.when(~pl.col("is_report") & (pl.col("document_kind") == "notice"))
        .then(pl.lit("a notice about an annual report (its title announces, forwards or asks for the report), "
                     "not the report itself"))
        .when(~pl.col("is_report") & (pl.col("document_kind") == "guide"))
        .then(pl.lit("a government-information disclosure guide (信息公开指南), not an annual report"))
        .when(~pl.col("is_report"))
        .then(pl.lit("no annual-report title, template headings, statistical tables or disclosure figures found"))
        .when(pl.col("parse_status") == "partial")
        .then(pl.format("{} value(s) could not be placed with certainty ({}); kept in fct_parse_warnings",
                        pl.col("n_warn"), pl.col("warn_codes")))
        .alias("reason"),
        pl.when(pl.col("is_report")).then(pl.col("report_id")).alias("report_id"),
    )
    kept = reports.filter(pl.col("is_report"))
    ids = kept.select("doc_id", "report_id", "source_sha256")
    # only the columns raw.table_cells keeps: the mapper's cells carry many working columns
    cell_columns = ["doc_id", *(c for c in RAW_TABLES["table_cells"] if c in tables.cells.columns)]
    cells = tables.cells.lazy().select(cell_columns).join(ids.lazy(), on="doc_id").collect()
    confidence = ocr_confidence_expr() if any_ocr_locator(cells["locator"]) else pl.lit(None, pl.Float64)
    cells = cells.with_columns(pl.lit(False).alias("is_derived"), confidence.alias("ocr_confidence"))
    facts = narrative.join(ids, on="doc_id")
    warnings = pl.concat([tables.warnings, _version_mismatches(kept, tables.warnings)]).join(ids, on="doc_id")
    return ParsedBatch(
        reports=conform(kept, "reports"),
        table_cells=conform(cells, "table_cells"),
        narrative_facts=conform(facts, "narrative_facts"),
        parse_warnings=conform(warnings, "parse_warnings"),
        outcomes=outcomes,
    )


def _version_mismatches(reports: pl.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """An info warning where a table prints the other template's rows than the report's year gives (a
    2021 report that still prints the single （六）其他处理 row): the report keeps its year's template,
    the table keeps its own version (raw.table_cells.template_version)."""
    parts = []
    for table_id, version_col in (("t2", "t2_version"), ("t3", "t3_version")):
        parts.append(
            reports.filter(
                pl.col(version_col).is_not_null()
                & pl.col("template_version").is_in(["v2019", "v2021"])
                & (pl.col(version_col) != pl.col("template_version"))
            ).select(
                "doc_id",
                pl.lit(table_id).alias("table_id"),
                pl.lit(None, pl.String).alias("row_key"),
                pl.lit("table_version_differs").alias("code"),
                pl.lit("info").alias("severity"),
                pl.format("the report's year gives template {}, its table prints the {} rows; each keeps its own",
                          pl.col("template_version"), pl.col(version_col)).alias("detail"),
                pl.lit(None, pl.String).alias("raw_text"),
                pl.lit(None, pl.String).alias("locator"),
            )
        )
    return pl.concat(parts).cast(like.schema)


def _from_lines(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Stated figures, partial-period flags, line counts and metadata of every document."""
    if lines["doc_id"].is_sorted():
        # documents one after the other (``build`` gives them so): every window and grouping by
        # document below runs over slices of the sorted column instead of hashing every line
        lines = lines.with_columns(pl.col("doc_id").set_sorted())
    sentences = sentences_frame(lines)
    narrative = pl.concat(
        [extract_narrative(lines, sentences), channel_facts(lines, sentences)], how="vertical_relaxed"
    )
    partial = partial_period(lines)
    line_counts = lines.group_by("doc_id").agg(pl.len().cast(pl.Int32).alias("line_count"))

    # metadata reads the readable text the front end produced (for HTML/DOCX/PDF, not the markup)
    texts = (
        lines.group_by("doc_id", maintain_order=True)
        .agg("text")
        .select("doc_id", pl.col("text").list.join("\n"))  # faster than str.join inside the aggregation
    )
    meta = metadata_frame(texts, lines)
    mentions = texts.select(
        "doc_id",
        (
            pl.col("text").str.contains("政府信息公开", literal=True)
            | pl.col("text").str.slice(0, 5000).str.contains("信息公开", literal=True)
        ).alias("mentions_disclosure"),
    )
    # place, level and kind come with the metadata (resolved with the places the document prints)
    meta = meta.join(mentions, on="doc_id", how="left").join(layout_markers(lines), on="doc_id", how="left")
    return narrative, partial, line_counts, meta
