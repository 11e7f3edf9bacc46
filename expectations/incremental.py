"""Validate only what changed: the reports whose facts, currency or rules changed since the last
validation, and the reports whose cross-year rules read one of them.

A report's validation key digests its report_id, when its content was parsed, whether it is current,
and the code version of the rules; the state also keeps its agency and year. A report whose key is
new or different, or that is gone, is *changed*. Every rule of a report reads only that report and,
for the cross-year rules, the current reports of the same agency for the year before. So a changed
report touches its (agency, year) slot, before and after the change (a re-parse may move it), and
the current reports to validate are those in a touched slot or in the slot one year after it, plus
changed current reports without an agency or a year (nobody's neighbour). They are validated with
their Y-1 reports beside them (read, their own results discarded). The rule results of every other
current report are kept; those of reports no longer current are dropped.
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

VALIDATION_STATE = {
    "report_id": pl.String,
    "validation_key": pl.String,
    "agency_id": pl.String,
    "report_year": pl.Int32,
}


def validation_keys(con: duckdb.DuckDBPyConnection, code_version: str) -> pl.DataFrame:
    """report_id, agency_id, report_year, is_current, validation_key for every report of marts.dim_report."""
    return con.execute(
        """
        select d.report_id, d.agency_id, d.report_year::integer as report_year, d.is_current,
            md5(concat_ws('|', d.report_id, o.parsed_at::varchar, d.is_current::varchar, ?)) as validation_key
        from marts.dim_report d
        left join raw.content_outcomes o on o.source_sha256 = d.source_sha256
        """,
        [code_version],
    ).pl()


def previous_state(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The stored validation state; empty (validate everything) when it predates the agency and year
    columns, since without them the neighbours of a moved or gone report are unknown."""
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'validation_state'"
        ).fetchall()
    }
    if not set(VALIDATION_STATE) <= have:
        return pl.DataFrame(schema=VALIDATION_STATE)
    return con.execute(f"select {', '.join(VALIDATION_STATE)} from raw.validation_state").pl().cast(VALIDATION_STATE)


def changed_reports(keys: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """report_id, agency_id, report_year of every changed report: a new or different key (with its
    agency and year now, and before when it had a key), or a report gone since (its agency and year
    then)."""
    cols = ["report_id", "agency_id", "report_year"]
    keys = keys.with_columns(pl.col("report_year").cast(pl.Int32))
    new_or_different = keys.join(previous, on=["report_id", "validation_key"], how="anti")
    before = previous.join(new_or_different.select("report_id"), on="report_id", how="semi")
    gone = previous.join(keys.select("report_id"), on="report_id", how="anti")
    return pl.concat([new_or_different.select(cols), before.select(cols), gone.select(cols)]).unique()


def reports_to_validate(keys: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """The current reports to validate (report_id), from this run's keys and the stored ones."""
    keys = keys.with_columns(pl.col("report_year").cast(pl.Int32))
    changed = changed_reports(keys, previous)
    slots = changed.filter(pl.col("agency_id").is_not_null() & pl.col("report_year").is_not_null())
    touched = pl.concat(
        [
            slots.select("agency_id", "report_year"),
            slots.select("agency_id", (pl.col("report_year") + 1).cast(pl.Int32).alias("report_year")),
        ]
    ).unique()
    current = keys.filter(pl.col("is_current"))
    in_slots = current.join(touched, on=["agency_id", "report_year"], how="semi")
    lone = current.join(
        changed.filter(pl.col("agency_id").is_null() | pl.col("report_year").is_null()), on="report_id", how="semi"
    )
    return pl.concat([in_slots.select("report_id"), lone.select("report_id")]).unique().sort("report_id")


def with_previous_years(keys: pl.DataFrame, report_ids: pl.DataFrame) -> pl.DataFrame:
    """``report_ids`` and the current reports their cross-year rules read (same agency, year - 1)."""
    keys = keys.with_columns(pl.col("report_year").cast(pl.Int32))
    current = keys.filter(pl.col("is_current"))
    prev_slots = (
        current.join(report_ids, on="report_id", how="semi")
        .filter(pl.col("agency_id").is_not_null() & pl.col("report_year").is_not_null())
        .select("agency_id", (pl.col("report_year") - 1).cast(pl.Int32).alias("report_year"))
        .unique()
    )
    prev = current.join(prev_slots, on=["agency_id", "report_year"], how="semi").select("report_id")
    return pl.concat([report_ids.select("report_id"), prev]).unique().sort("report_id")


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
