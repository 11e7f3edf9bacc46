"""The reporting-season refresh: a daily schedule (15 January - 31 March) and a landing-directory
sensor. Both are off by default; switch them on in the UI."""


import hashlib
import os

import dagster as dg

from dagster_project.settings import landing_dir
from ingest.discovery import walk_landing

refresh_job = dg.define_asset_job(
    "ogi_refresh",
    selection=dg.AssetSelection.all(),
    description="Discover, decode, parse, load, build the marts, validate the rules and publish the serving copy.",
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
