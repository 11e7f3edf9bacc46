"""The one entry point: ``dagster dev`` and ``ogi run`` load these same definitions."""


import dagster as dg

from dagster_project.defs.automation import (
    build_marts_after_parse,
    discover_job,
    landing_directory_sensor,
    marts_job,
    parse_after_discovery,
    parse_job,
    refresh_job,
    reporting_season_schedule,
)
from dagster_project.defs.completeness import every_seen_table_read_or_flagged
from dagster_project.defs.dbt_assets import OgiDbtCliResource, dbt_core_marts, dbt_project, dbt_rule_marts
from dagster_project.defs.ingest_assets import landed_files, parsed_facts, raw_tables
from dagster_project.defs.publish import serving_copy
from dagster_project.defs.quality import (
    every_landed_file_recorded,
    every_report_assessed,
    report_arithmetic_findings,
    rule_results,
)
from dagster_project.defs.resources import ShardStorage, WarehousePaths
from dagster_project.settings import (
    OWNERS,
    dbt_executable,
    landing_dir,
    quiet_telemetry,
    shard_storage_options,
    shard_url_for,
    warehouse_path,
)

quiet_telemetry()

# owners in one place, for the Python stages and every dbt model alike
assets = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(owners=OWNERS),
    [landed_files, parsed_facts, raw_tables, dbt_core_marts, rule_results, dbt_rule_marts,
     serving_copy],
)



defs = dg.Definitions(
    assets=assets,
    asset_checks=[
        report_arithmetic_findings,
        every_report_assessed,
        every_landed_file_recorded,
        every_seen_table_read_or_flagged,
    ],
    jobs=[refresh_job, discover_job, parse_job, marts_job],
    schedules=[reporting_season_schedule],
    sensors=[landing_directory_sensor, parse_after_discovery, build_marts_after_parse],
    resources={
        "paths": WarehousePaths(landing_dir=str(landing_dir()), warehouse=str(warehouse_path())),
        "shards": ShardStorage(url=shard_url_for(warehouse_path()), storage_options=shard_storage_options()),
        "dbt": OgiDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
    # the jobs choose their own executors (dagster_project.defs.executors)
    executor=dg.in_process_executor,
)


def ogi_refresh_job() -> dg.JobDefinition:
    """The refresh job, for ``dg.reconstructable``: out-of-process executors rebuild it in each step."""
    return defs.resolve_job_def("ogi_refresh")


def ogi_discover_job() -> dg.JobDefinition:
    return defs.resolve_job_def("ogi_discover")


def ogi_parse_job() -> dg.JobDefinition:
    return defs.resolve_job_def("ogi_parse")


def ogi_marts_job() -> dg.JobDefinition:
    return defs.resolve_job_def("ogi_marts")
