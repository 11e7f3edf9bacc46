"""Accounting rules: Great Expectations validation of the marts, and the checks shown in the UI.

Report findings (an agency's own arithmetic) never fail a run: their check is a WARN. Only checks
about our own output (every file recorded, every report assessed) are ERROR.
"""


import json
import time

import dagster as dg
import polars as pl

from dagster_project.defs.resources import WarehousePaths
from ingest.warehouse import connect, replace_table

MARTS_VALIDATED = ["dim_report", "fct_applications", "fct_review_litigation", "fct_parse_warnings"]


@dg.asset(
    key=["raw", "rule_results"],
    deps=[dg.AssetKey(["marts", name]) for name in MARTS_VALIDATED],
    group_name="rules",
    kinds={"great_expectations", "duckdb"},
    description="Great Expectations suites (one per template version) over the marts; one row per report and rule.",
)
def rule_results(context: dg.AssetExecutionContext, paths: WarehousePaths) -> dg.MaterializeResult:
    from expectations.runner import run_rules, summarise  # GE imports are slow: only when run

    started = time.perf_counter()
    results = run_rules(str(paths.warehouse_file))
    with connect(paths.warehouse_file) as con:
        replace_table(con, "rule_results", results)
    summary = summarise(results)
    return dg.MaterializeResult(
        metadata={
            "rows": results.height,
            "reports": results["report_id"].n_unique(),
            "by_status": dict(results.group_by("status").len().sort("status").iter_rows()),
            "summary": dg.MetadataValue.json(json.loads(json.dumps(summary, default=str))),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _read(paths: WarehousePaths, sql: str) -> pl.DataFrame:
    with connect(paths.warehouse_file, read_only=True) as con:
        return con.execute(sql).pl()


@dg.asset_check(
    asset=dg.AssetKey(["marts", "fct_rule_results"]),
    description="Reports whose own arithmetic breaks an error-level rule (a finding about the report, never a pipeline failure).",
)
def report_arithmetic_findings(paths: WarehousePaths) -> dg.AssetCheckResult:
    counts = _read(
        paths,
        "select rule_family, severity, status, count(*) as n from marts.fct_rule_results group by all order by all",
    )
    failing = _read(
        paths,
        """select r.report_id, d.agency_name, d.report_year, count(*) as error_failures,
                  string_agg(r.rule_id, ', ' order by r.rule_id) as rules
           from marts.fct_rule_results r join marts.dim_report d using (report_id)
           where r.status = 'fail' and r.severity = 'error'
           group by all order by error_failures desc, report_id limit 20""",
    )
    return dg.AssetCheckResult(
        passed=failing.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "reports_with_error_failures": failing.height,
            "by_family_and_status": dg.MetadataValue.md(_md(counts)),
            "worst_reports": dg.MetadataValue.md(_md(failing)),
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
