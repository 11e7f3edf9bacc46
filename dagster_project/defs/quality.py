"""Accounting rules: Great Expectations validation of the marts, and the checks shown in the UI.

Report findings (an agency's own arithmetic) never fail a run: their checks are WARN, one per rule
family, each with counts, the worst reports and the path of the Great Expectations Data Docs. Only
checks about our own output are ERROR: every file recorded, every report assessed, and (blocking)
no negative or fractional count in the parser's output.
"""


import json
import os
import time

import dagster as dg
import polars as pl

from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import code_version, data_docs_dir_for
from expectations.incremental import MARTS_READ
from ingest.warehouse import connect, ensure_table, merge_rule_results, replace_table, replace_table_frame

# Data Docs render every unexpected row; above this many reports they are skipped (the rule marts
# carry the same facts). Override with OGI_DATA_DOCS_MAX_REPORTS (0 = never build).
DATA_DOCS_MAX_REPORTS = 20000
GATE_CHECK = "parser_counts_nonneg_integer"
# Reports validated together: above this, validation runs agency by agency in batches of this size.
# Great Expectations spends about the same time per expectation whatever the batch's rows (~150
# expectations a batch), so batches are large; 100,000 reports peak at about 2.8 GB resident.
VALIDATE_BATCH = 150000

# one Dagster check per rule family (rule_family prefixes)
FAMILY_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rules_t3_balance": ("表三 balance: new + carried = processed + carried to next year", ("t3.balance",)),
    "rules_t3_outcome_sum": ("表三 outcome sum: processed = sum of the outcomes", ("t3.outcome_sum",)),
    "rules_t3_row_total": ("表三 row totals: 总计 = sum of the applicant columns", ("t3.row_total",)),
    "rules_t3_printed_subtotals": ("表三 printed subtotals = sum of their children", ("t3.printed_",)),
    "rules_t4_group_total": ("表四 group totals", ("t4.group_total",)),
    "rules_t2_soft": ("表二 soft rules (warn)", ("t2.",)),
    "rules_counts_nonneg_integer": ("Counts printed negative or fractional", ("nonneg", "integer")),
    "rules_cross_year": ("Cross-year chains (carry-over, items, in force)", ("xy.",)),
    "rules_narrative_vs_table": ("Narrative figures versus the tables", ("nt.",)),
}


def data_docs_dir(paths: WarehousePaths):
    """Great Expectations Data Docs of the last run: <warehouse stem>.data_docs/index.html."""
    return data_docs_dir_for(paths.warehouse_file)


_GATE_SQL = """
select 'fct_applications' as mart, report_id, row_key || '.' || applicant_type as cell, value::double as value
from marts.fct_applications where value < 0 or value <> floor(value)
union all
select 'fct_review_litigation', report_id, proceeding || '.' || result, value::double
from marts.fct_review_litigation where value < 0 or value <> floor(value)
union all
select 'fct_proactive_disclosure', report_id, table_id || '.' || item || '.' || measure, value
from marts.fct_proactive_disclosure
where measure <> 'change_this_year' and (value < 0 or (coalesce(unit, '') <> '万元' and value <> floor(value)))
"""


_RULE_RESULTS = dg.AssetKey(["raw", "rule_results"])
_RULE_CATALOGUE = dg.AssetKey(["raw", "rule_catalogue"])


def preload_validation_in_background() -> None:
    """Import Great Expectations (about 6 s of CPU) in a thread while the parse stage runs, so that the
    validation step starts at once. Only where the steps share one process (the in-process executor:
    the quickstart, ``ogi run``): the parse step mostly waits for its reader processes and for Polars,
    which release the interpreter, whereas dbt, which runs in this process too, would compete with the
    import for it. An import error is left for the validation step to raise."""
    import threading

    def load() -> None:
        try:
            from expectations.runner import preload

            preload()
        except Exception:  # noqa: BLE001
            pass

    threading.Thread(target=load, name="preload-great-expectations", daemon=True).start()


@dg.multi_asset(
    name="rule_results",
    specs=[
        dg.AssetSpec(
            _RULE_RESULTS,
            deps=[dg.AssetKey(["marts", name]) for name in MARTS_READ],
            group_name="rules",
            kinds={"great_expectations", "duckdb"},
            description=(
                "Great Expectations suites (one per template version for 表三/表四, one for every other rule"
                " family) over the marts; one row per report and rule. Also builds the Data Docs."
            ),
        ),
        dg.AssetSpec(
            _RULE_CATALOGUE,
            deps=[dg.AssetKey(["marts", name]) for name in MARTS_READ],
            group_name="rules",
            kinds={"duckdb"},
            description="Every rule of the YAML catalogue with formula, severity and rationale (expectations.families.rule_catalogue).",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            GATE_CHECK,
            asset=_RULE_RESULTS,
            blocking=True,
            description=(
                "Our own output: no negative or fractional count in the marts (the parser keeps such cells as"
                " text with a parse warning). Blocks the rule marts when it fails."
            ),
        )
    ],
)
def rule_results(context: dg.AssetExecutionContext, paths: WarehousePaths):
    from expectations.families import rule_catalogue
    from expectations.incremental import (
        VALIDATION_STATE,
        agency_batches,
        previous_state,
        reports_to_validate,
        run_rules_for,
        validation_keys,
        with_previous_years,
    )
    from expectations.runner import (  # GE imports are slow: only when run
        build_data_docs,
        run_rules,
        summarise,
    )

    started = time.perf_counter()
    with connect(paths.warehouse_file) as con:
        bad = con.execute(_GATE_SQL).pl()
        keys = validation_keys(con, code_version())
        ensure_table(con, "validation_state", VALIDATION_STATE)
        previous = previous_state(con)
    todo = reports_to_validate(keys, previous)
    current_ids = keys.filter(pl.col("is_current")).select("report_id")
    everything = todo.height >= current_ids.height
    if not everything:
        context.log.info(f"validating {todo.height} of {current_ids.height} current reports (the rest are unchanged)")
    with connect(paths.warehouse_file) as con:
        # forget the validation of what is about to be re-validated: a run killed half-way re-validates it
        if everything:
            con.execute("delete from raw.validation_state")
        else:
            # a changed report keeps its old row: it stays changed, and its old (agency, year) says
            # whose neighbour it was
            unchanged = todo.join(keys.select("report_id", "validation_key"), on="report_id")
            con.register("_todo", unchanged.to_arrow())
            con.execute(
                """delete from raw.validation_state s using _todo t
                   where s.report_id = t.report_id and s.validation_key = t.validation_key"""
            )
            con.unregister("_todo")
    summary: dict = {}
    if everything and current_ids.height <= VALIDATE_BATCH:
        results = run_rules(str(paths.warehouse_file))
        with connect(paths.warehouse_file) as con:
            replace_table(con, "rule_results", results)
        summary = summarise(results)
    else:
        # agency by agency in batches, each stored before the next: memory stays bounded at national scale
        with connect(paths.warehouse_file) as con:
            if everything:
                con.execute("delete from raw.rule_results")
        for batch in agency_batches(keys, todo, VALIDATE_BATCH) or [[]]:
            batch_ids = pl.DataFrame({"report_id": batch}, schema={"report_id": pl.String})
            # the Y-1 reports are read beside them for the cross-year rules; their own results,
            # computed without their Y-1, are not kept
            batch_results = run_rules_for(paths.warehouse_file, with_previous_years(keys, batch_ids)["report_id"])
            batch_results = batch_results.join(batch_ids, on="report_id", how="semi")
            with connect(paths.warehouse_file) as con:
                merge_rule_results(con, batch_results, batch_ids, current_ids)
            del batch_results
    t_rules = time.perf_counter()
    catalogue = rule_catalogue()
    with connect(paths.warehouse_file) as con:
        replace_table_frame(con, "validation_state", keys.select(list(VALIDATION_STATE)))
        con.register("_rule_catalogue", catalogue.to_arrow())
        con.execute("create or replace table raw.rule_catalogue as select * from _rule_catalogue")
        con.unregister("_rule_catalogue")
        stored = con.execute(
            "select count(*), count(distinct report_id), count(distinct rule_id) from raw.rule_results"
        ).fetchone()
        by_status = dict(con.execute("select status, count(*) from raw.rule_results group by 1 order by 1").fetchall())
    reports = stored[1]
    limit = int(os.environ.get("OGI_DATA_DOCS_MAX_REPORTS", DATA_DOCS_MAX_REPORTS))
    docs_url, docs_seconds = None, 0.0
    if reports <= limit:
        t = time.perf_counter()
        try:
            docs_url = build_data_docs(data_docs_dir(paths), paths.warehouse_file)
        except Exception as exc:  # Data Docs are a convenience: never fail the run on them
            context.log.warning(f"Great Expectations Data Docs not built: {exc}")
        docs_seconds = time.perf_counter() - t
    else:
        context.log.info(f"{reports} reports > {limit}: Great Expectations Data Docs skipped")
    gate = dg.AssetCheckResult(
        check_name=GATE_CHECK,
        asset_key=_RULE_RESULTS,
        passed=bad.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "bad_cells": bad.height,
            "examples": dg.MetadataValue.md(_md(bad)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=_RULE_CATALOGUE,
        metadata={"rows": catalogue.height, "evaluated": int(catalogue["is_evaluated"].sum())},
    )
    yield dg.MaterializeResult(
        asset_key=_RULE_RESULTS,
        metadata={
            "rows": stored[0],
            "reports": reports,
            "reports_validated_this_run": min(todo.height, current_ids.height),
            "current_reports": current_ids.height,
            "rule_ids": stored[2],
            "catalogue_rules": catalogue.height,
            "by_status": by_status,
            "summary": dg.MetadataValue.json(json.loads(json.dumps(summary, default=str)))
            if summary else "see the rule family checks on marts/fct_rule_results",
            "data_docs": dg.MetadataValue.path(str(data_docs_dir(paths) / "index.html")) if docs_url else "skipped",
            "data_docs_seconds": round(docs_seconds, 3),
            "rules_seconds": round(t_rules - started, 3),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    yield gate


def _read(paths: WarehousePaths, sql: str) -> pl.DataFrame:
    with connect(paths.warehouse_file, read_only=True) as con:
        return con.execute(sql).pl()


_FCT_RULES = dg.AssetKey(["marts", "fct_rule_results"])


def _worst_reports(fails: pl.DataFrame, count_name: str, n: int) -> pl.DataFrame:
    """The reports with the most failing rules: report, agency, year, how many, the rules (sorted)."""
    return (
        fails.group_by("report_id", "agency_name", "report_year")
        .agg(pl.len().cast(pl.Int64).alias(count_name), pl.col("rule_id").sort().str.join(", ").alias("rules"))
        .sort([count_name, "report_id"], descending=[True, False])
        .head(n)
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "report_arithmetic_findings",
            asset=_FCT_RULES,
            description="Reports whose own arithmetic breaks an error-level rule (a finding about the report, never a pipeline failure).",
        )
    ]
    + [
        dg.AssetCheckSpec(name, asset=_FCT_RULES, description=f"{label} (findings about the reports: WARN, never blocking)")
        for name, (label, _) in FAMILY_CHECKS.items()
    ],
    can_subset=False,
)
def report_arithmetic_findings(paths: WarehousePaths):
    docs = data_docs_dir(paths) / "index.html"
    docs_meta = dg.MetadataValue.path(str(docs)) if docs.exists() else "not built (see the raw/rule_results asset)"
    # two reads of fct_rule_results (6.5 million rows at 100,000 reports) on one connection; every
    # check's figures come from them (one query and one connection per check took 1.4 s)
    with connect(paths.warehouse_file, read_only=True) as con:
        counts = con.execute(
            "select rule_family, severity, status, count(*) as n from marts.fct_rule_results group by all order by all"
        ).pl()
        fails = con.execute(
            """select r.report_id, d.agency_name, d.report_year, r.rule_family, r.severity, r.rule_id
               from marts.fct_rule_results r join marts.dim_report d using (report_id)
               where r.status = 'fail'"""
        ).pl()
    failing = _worst_reports(fails.filter(pl.col("severity") == "error"), "error_failures", 20)
    yield dg.AssetCheckResult(
        check_name="report_arithmetic_findings",
        asset_key=_FCT_RULES,
        passed=failing.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "reports_with_error_failures": failing.height,
            "by_family_and_status": dg.MetadataValue.md(_md(counts)),
            "worst_reports": dg.MetadataValue.md(_md(failing)),
            "data_docs": docs_meta,
        },
    )
    for name, (label, prefixes) in FAMILY_CHECKS.items():
        in_family = pl.any_horizontal([pl.col("rule_family").str.starts_with(p) for p in prefixes])
        fam_counts = counts.filter(in_family)
        worst = _worst_reports(fails.filter(in_family), "failures", 10)
        by_status = {s: 0 for s in ("pass", "fail", "not_assessable")}
        for st, n in fam_counts.group_by("status").agg(pl.col("n").sum()).iter_rows():
            by_status[st] = int(n)
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=_FCT_RULES,
            passed=by_status["fail"] == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "family": label,
                "pass": by_status["pass"],
                "fail": by_status["fail"],
                "not_assessable": by_status["not_assessable"],
                "by_rule_family": dg.MetadataValue.md(_md(fam_counts)),
                "worst_reports": dg.MetadataValue.md(_md(worst)),
                "data_docs": docs_meta,
            },
        )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "fct_rule_results"]),
    description="Every report has a result for every rule of its template version (our own output is complete).",
)
def every_report_assessed(paths: WarehousePaths) -> dg.AssetCheckResult:
    missing = _read(
        paths,
        """select d.report_id from marts.dim_report d
           left join marts.fct_rule_results r using (report_id)
           where d.is_current
           group by d.report_id having count(r.rule_id) = 0""",
    )
    return dg.AssetCheckResult(
        passed=missing.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"reports_without_results": missing.height, "examples": dg.MetadataValue.md(_md(missing))},
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "dim_source_file"]),
    description="Every file found in the landing directory has a dim_source_file row with a status.",
)
def every_landed_file_recorded(paths: WarehousePaths) -> dg.AssetCheckResult:
    scan = pl.read_parquet(paths.stage_dir / "landing_scan.parquet").select("source_path", "source_sha256")
    recorded = _read(paths, "select source_path, source_sha256, ingest_status from marts.dim_source_file")
    missing = scan.join(recorded, on=["source_path", "source_sha256"], how="anti")
    return dg.AssetCheckResult(
        passed=missing.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "files_in_landing": scan.height,
            "missing_from_dim_source_file": missing.height,
            "by_status": dict(recorded.group_by("ingest_status").len().sort("ingest_status").iter_rows()),
        },
    )


def _md(df: pl.DataFrame, n: int = 20) -> str:
    if df.is_empty():
        return "_(none)_"
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * df.width]
    for row in df.head(n).iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)
