"""The one entry point: ``dagster dev`` and ``ogi run`` load these same definitions."""


import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.defs.automation import landing_directory_sensor, refresh_job, reporting_season_schedule
from dagster_project.defs.completeness import every_seen_table_read_or_flagged
from dagster_project.defs.dbt_assets import dbt_core_marts, dbt_project, dbt_rule_marts
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
    executor_name,
    landing_dir,
    quiet_telemetry,
    shard_storage_options,
    shard_url_for,
    warehouse_path,
    worker_count,
)

quiet_telemetry()

# owners in one place, for the Python stages and every dbt model alike
assets = dg.map_asset_specs(
    lambda spec: spec.replace_attributes(owners=OWNERS),
    [landed_files, parsed_facts, raw_tables, dbt_core_marts, rule_results, dbt_rule_marts,
     serving_copy],
)



def _executor() -> dg.ExecutorDefinition:
    """``OGI_EXECUTOR`` (dagster_project.settings.executor_name). In-process by default: one process,
    no definitions reloaded per step (the quickstart). The others run the parse partitions as
    parallel steps; every other step is a single step after them, and each step that writes the
    warehouse holds its lock (ingest.warehouse.WarehouseLock)."""
    name = executor_name()
    if name == "multiprocess":
        # a fork server that has imported the definitions once: a step starts in a fork, not a
        # fresh interpreter loading Dagster, dbt and Polars (7-10 s a step otherwise)
        return dg.multiprocess_executor.configured(
            {"max_concurrent": worker_count(),
             "start_method": {"forkserver": {"preload_modules": ["dagster_project.definitions"]}}},
            name="multiprocess",
        )
    if name == "k8s":
        # uv sync --extra k8s; configured by run config (deploy/k8s)
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if name == "celery":
        # uv sync --extra celery; configured by run config (deploy/celery)
        from dagster_celery import celery_executor

        return celery_executor
    return dg.in_process_executor


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
        "shards": ShardStorage(url=shard_url_for(warehouse_path()), storage_options=shard_storage_options()),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    },
    executor=_executor(),
)


def ogi_refresh_job() -> dg.JobDefinition:
    """The refresh job, for ``dg.reconstructable``: out-of-process executors rebuild it in each step."""
    return defs.resolve_job_def("ogi_refresh")
