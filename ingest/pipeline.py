"""Parse a batch of decoded documents into the raw tables (reports, cells, narrative, warnings).

The whole batch goes through each stage as one Polars frame: lines -> cells -> facts. Only the
per-document metadata (agency, year; a few regexes on the opening lines) runs once per document.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest import PARSER_VERSION
from ingest.agency import resolve_agency
from ingest.channels import channel_facts
from ingest.frontends import build
from ingest.metadata import extract_metadata
from ingest.narrative import extract_narrative, partial_period, sentences_frame
from ingest.schemas import conform, empty_frame
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


def parse_documents(docs: pl.DataFrame) -> ParsedBatch:
    """docs: source_sha256, source_path, source_format, text (decoded, simplified)."""
    if docs.is_empty():
        return ParsedBatch.empty()
    docs = docs.with_columns(pl.col("source_sha256").alias("doc_id"))
    lines, grid = build(docs)
    tables = map_tables(grid)
    sentences = sentences_frame(lines)
    narrative = pl.concat(
        [extract_narrative(lines, sentences), channel_facts(lines, sentences)], how="vertical_relaxed"
    )
    partial = partial_period(lines)
    line_counts = lines.group_by("doc_id").agg(pl.len().cast(pl.Int32).alias("line_count"))

    # metadata reads the readable text the front end produced (for HTML/DOCX/PDF, not the markup)
    texts = lines.group_by("doc_id", maintain_order=True).agg(pl.col("text").str.join("\n"))
    meta = pl.DataFrame(
        [_meta_row(sha, text) for sha, text in zip(texts["doc_id"], texts["text"], strict=True)],
        schema={
            "doc_id": pl.String,
            "agency_name": pl.String,
            "agency_name_source": pl.String,
            "agency_id": pl.String,
            "report_year": pl.Int32,
            "report_year_source": pl.String,
            "publication_date": pl.Date,
            "has_report_title": pl.Boolean,
            "mentions_disclosure": pl.Boolean,
            "agency_canonical_name": pl.String,
            "province": pl.String,
            "city": pl.String,
            "county": pl.String,
            "admin_level": pl.String,
            "agency_kind": pl.String,
        },
        orient="row",
    )
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
        .with_columns(
            pl.col("has_t2", "has_t3", "has_t4", "period_partial").fill_null(False),
            pl.col("v2019_headings", "n_warn", "n_narrative").fill_null(0),
            pl.col("has_form_heading").fill_null(False),
        )
    )
    is_report = (
        pl.col("has_report_title")
        | (pl.col("v2019_headings") >= 3)
        | pl.col("has_t2")
        | pl.col("has_t3")
        | pl.col("has_t4")
        | (pl.col("mentions_disclosure") & (pl.col("n_narrative") > 0))
    )
    headings_version = pl.when(pl.col("report_year") >= 2021).then(pl.lit("v2021")).otherwise(pl.lit("v2019"))
    reports = reports.with_columns(
        pl.lit(PARSER_VERSION).alias("parser_version"),
        pl.col("doc_id").map_elements(report_id_for, return_dtype=pl.String).alias("report_id"),
        pl.when(pl.col("has_t3"))
        .then(pl.col("t3_version"))
        .when(pl.col("has_t2"))
        .then(pl.col("t2_version"))
        .when((pl.col("v2019_headings") >= 3) & pl.col("has_form_heading"))
        .then(headings_version)
        .otherwise(pl.lit("pre2019"))
        .alias("template_version"),
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
        pl.when(~pl.col("is_report"))
        .then(pl.lit("no annual-report title, template headings, statistical tables or disclosure figures found"))
        .when(pl.col("parse_status") == "partial")
        .then(pl.format("{} value(s) could not be placed with certainty ({}); kept in fct_parse_warnings",
                        pl.col("n_warn"), pl.col("warn_codes")))
        .alias("reason"),
        pl.when(pl.col("is_report")).then(pl.col("report_id")).alias("report_id"),
    )
    kept = reports.filter(pl.col("is_report"))
    ids = kept.select("doc_id", "report_id")
    cells = tables.cells.join(ids, on="doc_id").with_columns(pl.lit(False).alias("is_derived"))
    facts = narrative.join(ids, on="doc_id")
    warnings = tables.warnings.join(ids, on="doc_id").with_columns(pl.col("doc_id").alias("source_sha256"))
    return ParsedBatch(
        reports=conform(kept, "reports"),
        table_cells=conform(cells, "table_cells"),
        narrative_facts=conform(facts, "narrative_facts"),
        parse_warnings=conform(warnings, "parse_warnings"),
        outcomes=outcomes,
    )


def _meta_row(sha: str, text: str) -> tuple:
    meta = extract_metadata(text)
    agency = resolve_agency(meta.agency_name)
    return (
        sha,
        meta.agency_name,
        meta.agency_name_source,
        meta.agency_id,
        meta.report_year,
        meta.report_year_source,
        meta.publication_date,
        meta.has_report_title,
        "政府信息公开" in text or "信息公开" in text[:5000],
        # place, level and kind from the gazetteer (cached per name: cheap across a batch)
        agency.canonical_name,
        agency.province,
        agency.city,
        agency.county,
        agency.admin_level,
        agency.agency_kind,
    )
