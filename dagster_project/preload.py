"""Imported once by the multiprocess executor's fork server (dagster_project.defs.executors): the
definitions and every job resolved there, so a step process is a fork that only runs its step (a
fresh interpreter spends seconds importing Dagster, dbt and Polars and resolving the asset graph)."""

from dagster_project.definitions import defs

for _job in ("ogi_refresh", "ogi_parse", "ogi_marts", "ogi_discover"):
    defs.resolve_job_def(_job)
import ingest.parse_stage  # noqa: E402,F401  (Polars, the table reader and the front ends)
