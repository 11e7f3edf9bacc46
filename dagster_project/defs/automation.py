"""The reporting-season refresh: a daily schedule (15 January - 31 March) and a landing-directory
sensor. Both are off by default; switch them on in the UI."""


import hashlib
import os

import dagster as dg

from dagster_project.defs.executors import parse_executor, refresh_executor
from dagster_project.settings import landing_dir
from ingest.discovery import walk_landing

refresh_job = dg.define_asset_job(
    "ogi_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=refresh_executor(),
    description="Discover, decode, parse, load, build the marts, validate the rules and publish the serving copy.",
)

# The same graph as three jobs, for a cluster (deploy/): discovery and the marts build run where the
# warehouse file is, the parse partitions wherever the executor puts them (Kubernetes jobs, Celery
# workers), sharing only the landing volume and the shard store. Each job starts the next when it
# succeeds (the sensors below).
_DISCOVERY = dg.AssetSelection.assets(dg.AssetKey(["raw", "landed_files"]))
_PARSE = dg.AssetSelection.assets(dg.AssetKey(["stage", "parsed_facts"]))

discover_job = dg.define_asset_job(
    "ogi_discover",
    selection=_DISCOVERY,
    executor_def=dg.in_process_executor,
    description="Discovery only: scan the landing directory into raw.landed_files and the shard store's landing scan.",
)
parse_job = dg.define_asset_job(
    "ogi_parse",
    selection=_PARSE,
    executor_def=parse_executor(),
    description="The parse partitions only (OGI_EXECUTOR: multiprocess, k8s or celery run them in parallel); reads "
    "the landing scan and writes committed shards to the shard store; opens no warehouse.",
)
marts_job = dg.define_asset_job(
    "ogi_marts",
    selection=dg.AssetSelection.all() - _DISCOVERY - _PARSE,
    executor_def=dg.in_process_executor,
    description="After the parse: load the shards into the raw tables, build the marts, validate the rules and "
    "publish the serving copy: one job on the warehouse's machine.",
)

# Departments report by 31 January, governments by 31 March (条例 2019 art. 49).
reporting_season_schedule = dg.ScheduleDefinition(
    name="reporting_season_daily",
    job=refresh_job,
    cron_schedule=["0 6 15-31 1 *", "0 6 * 2,3 *"],
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Reporting season: refreshes the warehouse daily at 06:00 Asia/Shanghai from 15 January to "
    "31 March, when departments (by 31 January) and governments (by 31 March) publish their annual reports "
    "(条例 2019 art. 49). Off by default; a run with nothing new keeps the marts and the serving copy.",
)


def landing_fingerprint(path: str) -> str:
    """Cheap fingerprint of the landing directory: names, sizes and modification times."""
    digest = hashlib.sha256()
    top = os.fsencode(os.path.abspath(path))
    # discovery's walk: no recursion limit, and names that are not UTF-8 are hashed as their bytes
    for raw, _ in walk_landing(top):
        try:
            st = os.lstat(raw)
        except OSError:
            continue
        digest.update(os.path.relpath(raw, top) + f"\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Starts a refresh when files in the landing directory were added, changed or removed.",
)
def landing_directory_sensor(context: dg.SensorEvaluationContext):
    path = str(landing_dir())
    if not os.path.isdir(path):
        return dg.SkipReason(f"landing directory {path} does not exist")
    fingerprint = landing_fingerprint(path)
    if fingerprint == context.cursor:
        return dg.SkipReason("no change in the landing directory")
    context.update_cursor(fingerprint)
    return dg.RunRequest(run_key=fingerprint)


def parse_run_tags() -> dict[str, str]:
    """Every parse partition in one run (a single-run backfill): the executor runs them as steps."""
    from dagster_project.defs.ingest_assets import PARSE_PARTITIONS

    keys = PARSE_PARTITIONS.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[discover_job],
    request_job=parse_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Cluster chain: when ogi_discover succeeds, parse every partition (ogi_parse).",
)
def parse_after_discovery(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=context.dagster_run.run_id, tags=parse_run_tags())


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[parse_job],
    request_job=marts_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Cluster chain: when ogi_parse succeeds, load the shards and build the marts (ogi_marts).",
)
def build_marts_after_parse(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=context.dagster_run.run_id)
