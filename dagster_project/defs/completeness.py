"""Checks on the parser's own output: what a document prints is read or flagged, never lost silently."""

import dagster as dg

from dagster_project.defs.quality import _md
from dagster_project.defs.resources import WarehousePaths
from ingest.warehouse import connect

# A table the parser saw printed (raw.reports.tables_seen) with neither a fact nor a warning of it:
# the one kind of loss nobody would notice. The parser warns `table_not_read` for these itself, so a
# row here is a parser defect, not a bad report.
_SILENT_TABLES = """
with seen as (
    select r.report_id, r.source_path, unnest(string_split(r.tables_seen, ',')) as family
    from raw.reports r where coalesce(r.tables_seen, '') <> ''
),
read as (
    select distinct report_id, left(table_id, 2) as family from raw.table_cells
    union
    select distinct report_id, left(table_id, 2) as family from raw.parse_warnings where severity = 'warn'
)
select s.report_id, s.source_path, s.family from seen s
left join read r using (report_id, family)
where r.report_id is null
order by s.source_path, s.family
"""


@dg.asset_check(
    asset=dg.AssetKey(["raw", "reports"]),
    description=(
        "No silent loss: every table a report prints (its caption, header or row labels) gave facts or a "
        "parse warning. A failure is a parser defect; the reports are listed."
    ),
)
def every_seen_table_read_or_flagged(paths: WarehousePaths) -> dg.AssetCheckResult:
    with connect(paths.warehouse_file, read_only=True) as con:
        silent = con.execute(_SILENT_TABLES).pl()
        seen = con.execute("select count(*) from raw.reports where coalesce(tables_seen, '') <> ''").fetchone()[0]
    return dg.AssetCheckResult(
        passed=silent.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "reports_with_tables": seen,
            "silent_tables": silent.height,
            "examples": dg.MetadataValue.md(_md(silent)),
        },
    )

