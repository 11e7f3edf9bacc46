"""Schemas of the raw tables that ingest writes into DuckDB schema ``raw``.

These are the contract between the Python side (ingest, expectations) and the dbt sources in
``dbt/models/staging/ogi/_ogi__sources.yml``. Change one, change the other.
"""

from __future__ import annotations

import polars as pl

RAW_SCHEMA = "raw"

# One row per distinct file version (path x content) ever seen in the landing directory.
LANDED_FILES = {
    "source_path": pl.String,  # relative to the landing dir, '/'-separated
    "source_sha256": pl.String,
    "bytes": pl.Int64,
    "source_format": pl.String,  # txt | md | html | docx | pdf | unknown (sniffed from bytes)
    "first_seen_at": pl.Datetime("us", "UTC"),
    "last_seen_at": pl.Datetime("us", "UTC"),
    "is_present": pl.Boolean,  # present in the landing dir at the last discovery
}

# One row per file version: the outcome of reading it (written by the parse stage).
SOURCE_FILES = {
    "source_path": pl.String,
    "source_sha256": pl.String,
    "bytes": pl.Int64,
    "source_format": pl.String,
    "ingest_status": pl.String,  # parsed | partial | duplicate | not_a_report | quarantined
    "reason": pl.String,  # NULL when parsed
    "report_id": pl.String,  # NULL when quarantined or not a report
    "encoding": pl.String,  # utf-8 | gb18030 | utf-16 ... NULL when not decoded
    "first_seen_at": pl.Datetime("us", "UTC"),
    "parser_version": pl.String,
}

# One row per distinct report document (distinct bytes that parsed as a report).
REPORTS = {
    "report_id": pl.String,
    "source_sha256": pl.String,
    "source_path": pl.String,  # first path the bytes were seen under
    "source_format": pl.String,
    "agency_name": pl.String,  # as printed
    "agency_name_source": pl.String,  # title | metadata | compiled_by | opening_sentence | first_paragraph | contact | signature
    "agency_id": pl.String,
    "report_year": pl.Int32,
    "report_year_source": pl.String,  # title | statistics_period | opening | publication_date (year - 1) | text_mode
    "publication_date": pl.Date,
    "template_version": pl.String,  # pre2019 | v2019 | v2021
    "t2_version": pl.String,  # version detected for 表二 (NULL when absent)
    "t3_version": pl.String,
    "has_t2": pl.Boolean,  # the table carries at least one number
    "has_t3": pl.Boolean,
    "has_t4": pl.Boolean,
    # the tables the document prints (a caption, header or row label of theirs), e.g. 't2,t3': each one
    # either gave facts or has a parse warning (the no-silent-loss asset check reads this)
    "tables_seen": pl.String,
    "period_partial": pl.Boolean,  # figures cover part of the year (截至11月)
    "period_end_text": pl.String,
    "parse_status": pl.String,  # parsed | partial
    "parser_version": pl.String,
    "line_count": pl.Int32,
    # added by issue #4 (agency dimension): from the gazetteer, see ingest/agency.py
    "agency_canonical_name": pl.String,  # canonical place path + department, e.g. 河南省焦作市温县教育局
    "province": pl.String,  # full names (河南省 / 焦作市 / 温县); NULL when not applicable or unknown
    "city": pl.String,
    "county": pl.String,
    "admin_level": pl.String,  # central | province | city | county | township | unknown
    "agency_kind": pl.String,  # government | department | institution | township
    # added by issue #13: ocr | text_layer+ocr | text_layer | converted | text (see ingest/frontends)
    "text_source": pl.String,
}

# Long-form table facts: report x table x row x column, one row per placed cell.
TABLE_CELLS = {
    "report_id": pl.String,
    "table_id": pl.String,  # t2_art20_1 .. t2_art20_9, t3, t4
    "template_version": pl.String,  # version of this table
    "row_key": pl.String,
    "col_key": pl.String,
    "raw_text": pl.String,  # cell text as extracted (trimmed)
    "cell_state": pl.String,  # number | blank | zero_word | dash | slash | none_word | text
    "value": pl.Float64,  # in the canonical unit; NULL unless cell_state in (number, zero_word)
    "unit": pl.String,  # canonical unit (件, 项, 万元) or NULL
    "unit_raw": pl.String,  # unit as written in the cell or header
    "unit_assumed": pl.Boolean,
    "is_derived": pl.Boolean,
    "locator": pl.String,  # e.g. 'line 57, cell 3'
    "ocr_confidence": pl.Float64,  # issue #13: lowest recognition score in the cell; NULL when not OCR
}

# Figures stated in sentences.
NARRATIVE_FACTS = {
    "report_id": pl.String,
    "metric": pl.String,  # requests_received_total | admin_review_total | admin_litigation_total | ...
    "value": pl.Float64,
    "unit_raw": pl.String,  # 件, 例, 项 ...
    "qualifier": pl.String,  # exact | approx_more_than | approx_nearly
    "is_zero_phrase": pl.Boolean,  # stated by a phrase such as 未收到 / 未发生
    "evidence": pl.String,  # the sentence
    "locator": pl.String,
}

# What the parser was unsure of: never a silent guess.
PARSE_WARNINGS = {
    "report_id": pl.String,
    "source_sha256": pl.String,
    "table_id": pl.String,
    "row_key": pl.String,
    "code": pl.String,  # alignment_extra_cells | ambiguous_alignment | unplaced_cells | non_integer_count | text_in_number_cell ...
    "severity": pl.String,  # info | warn (warn makes the report partial)
    "detail": pl.String,
    "raw_text": pl.String,
    "locator": pl.String,
}

# Row keys of the templates with their grouping, generated from the schema registry.
REF_ROW_KEYS = {
    "table_id": pl.String,
    "template_version": pl.String,
    "row_key": pl.String,
    "label_zh": pl.String,
    "row_group": pl.String,  # t3: received | outcome | carried_forward
    "outcome_category": pl.String,  # t3 outcomes: granted | partially_granted | withheld | unable | not_processed | other | total
    "sort_order": pl.Int32,
    "article_item": pl.String,  # t2: 20_1 ...
}

# Accounting-rule outcomes, written from Great Expectations validation results.
RULE_RESULTS = {
    "report_id": pl.String,
    "rule_id": pl.String,  # e.g. t3.balance.total
    "identity_id": pl.String,  # YAML identity id, e.g. v2019.t3.balance
    "rule_family": pl.String,  # t3.balance | t3.row_total | ...
    "severity": pl.String,  # error | warn | info
    "status": pl.String,  # pass | fail | not_assessable
    "lhs": pl.Float64,
    "rhs": pl.Float64,
    "detail": pl.String,
    "expectation": pl.String,  # the GE expectation type that decided it
}

RAW_TABLES: dict[str, dict[str, pl.DataType]] = {
    "landed_files": LANDED_FILES,
    "source_files": SOURCE_FILES,
    "reports": REPORTS,
    "table_cells": TABLE_CELLS,
    "narrative_facts": NARRATIVE_FACTS,
    "parse_warnings": PARSE_WARNINGS,
    "ref_row_keys": REF_ROW_KEYS,
    "rule_results": RULE_RESULTS,
}


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_TABLES[table])


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Select and cast ``df`` to the raw table's columns (missing columns become NULL)."""
    schema = RAW_TABLES[table]
    return df.select(
        [
            (pl.col(c) if c in df.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in schema.items()
        ]
    )
