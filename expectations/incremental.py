"""Validate only what changed: the reports whose facts, currency or rules changed since the last
validation, with every report of the same agencies (the cross-year rules read an agency's chain).

A report's validation key digests its report_id, when its content was parsed, whether it is current,
and the code version of the rules. Reports whose key is new or different are *changed*; the reports
to validate are the current reports of every agency with a changed report (current or superseded),
plus changed current reports with no agency. The rule results of every other current report are
kept; those of reports no longer current are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb
import polars as pl

from ingest.warehouse import limit_memory

from .runner import run_rules

# The marts the rule suites read (expectations.runner and expectations.families): the rule assets'
# dependencies, and the views a subset validation restricts.
MARTS_READ = (
    "dim_report",
    "fct_applications",
    "fct_review_litigation",
    "fct_proactive_disclosure",
    "fct_narrative_metrics",
    "fct_parse_warnings",
)

VALIDATION_STATE = {"report_id": pl.String, "validation_key": pl.String}


def validation_keys(con: duckdb.DuckDBPyConnection, code_version: str) -> pl.DataFrame:
    """report_id, agency_id, is_current, validation_key for every report of marts.dim_report."""
    return con.execute(
        """
        select d.report_id, d.agency_id, d.is_current,
            md5(concat_ws('|', d.report_id, o.parsed_at::varchar, d.is_current::varchar, ?)) as validation_key
        from marts.dim_report d
        left join raw.content_outcomes o on o.source_sha256 = d.source_sha256
        """,
        [code_version],
    ).pl()


def reports_to_validate(keys: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """The current reports to validate (report_id), from this run's keys and the stored ones."""
    changed = keys.join(previous, on=["report_id", "validation_key"], how="anti")
    agencies = changed.filter(pl.col("agency_id").is_not_null()).select("agency_id").unique()
    current = keys.filter(pl.col("is_current"))
    by_agency = current.join(agencies, on="agency_id", how="semi")
    lone = changed.filter(pl.col("agency_id").is_null() & pl.col("is_current"))
    return pl.concat([by_agency.select("report_id"), lone.select("report_id")]).unique()


def run_rules_for(warehouse_path: str | os.PathLike, report_ids: Iterable[str]) -> pl.DataFrame:
    """``run_rules`` over a subset of the reports: the marts are seen through views restricted to
    ``report_ids``, in a throwaway in-memory database attached to the warehouse read-only."""
    ids = pl.DataFrame({"report_id": list(report_ids)}, schema={"report_id": pl.String})
    con = limit_memory(duckdb.connect())
    try:
        source = str(warehouse_path).replace("'", "''")
        con.execute(f"attach '{source}' as wh (read_only)")
        con.register("_subset_frame", ids.to_arrow())
        con.execute("create table subset as select distinct report_id from _subset_frame")
        con.execute("create schema marts")
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'wh' and table_schema = 'marts'"
            ).fetchall()
        }
        for mart in MARTS_READ:
            if mart in present:
                con.execute(
                    f"create view marts.{mart} as select * from wh.marts.{mart} "
                    "where report_id in (select report_id from subset)"
                )
        return run_rules(connection=con)
    finally:
        con.close()


def agency_batches(keys: pl.DataFrame, report_ids: pl.DataFrame, batch_size: int) -> list[list[str]]:
    """``report_ids`` split into batches of about ``batch_size`` reports that never split an agency
    (its cross-year chain must be validated together); reports without an agency go anywhere."""
    if report_ids.height <= batch_size:
        return [report_ids["report_id"].to_list()] if report_ids.height else []
    n = -(-report_ids.height // batch_size)
    grouped = (
        report_ids.join(keys.select("report_id", "agency_id"), on="report_id", how="left")
        .with_columns((pl.coalesce("agency_id", "report_id").hash(seed=0) % n).alias("batch"))
        .group_by("batch", maintain_order=True)
        .agg("report_id")
        .sort("batch")
    )
    return grouped["report_id"].to_list()
