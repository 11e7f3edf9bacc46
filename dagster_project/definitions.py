"""The one entry point: ``dagster dev`` and ``ogi run`` load these same definitions."""


import dagster as dg

from dagster_project.defs.automation import landing_directory_sensor, refresh_job, reporting_season_schedule
from dagster_project.defs.completeness import every_seen_table_read_or_flagged
from dagster_project.defs.dbt_assets import OgiDbtCliResource, dbt_core_marts, dbt_project, dbt_rule_marts
from dagster_project.defs.ingest_assets import decoded_documents, landed_files, parsed_facts, raw_tables
from dagster_project.defs.publish import serving_copy
from dagster_project.defs.quality import (
    every_landed_file_recorded,
    every_report_assessed,
    report_arithmetic_findings,
    rule_results,
)
from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import OWNERS, dbt_executable, landing_dir, quiet_telemetry, warehouse_path

quiet_telemetry()

# owners in one place, for the Python stages and every dbt model alike
assets = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(owners=OWNERS),
    [landed_files, decoded_documents, parsed_facts, raw_tables, dbt_core_marts, rule_results, dbt_rule_marts,
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
    jobs=[refresh_job],
    schedules=[reporting_season_schedule],
    sensors=[landing_directory_sensor],
    resources={
        "paths": WarehousePaths(landing_dir=str(landing_dir()), warehouse=str(warehouse_path())),
        "dbt": OgiDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
    # one process: the multiprocess executor reloads definitions per step and lets steps open
    # DuckDB concurrently (shared/reference/stack.md)
    executor=dg.in_process_executor,
)
