"""Imported once by the multiprocess executor's fork server (dagster_project.defs.executors): the
definitions and every job resolved there, so a step process is a fork that only runs its step (a
fresh interpreter spends seconds importing Dagster, dbt and Polars and resolving the asset graph)."""

import gc

from dagster_project.settings import lighten_garbage_collection

lighten_garbage_collection()  # the step processes are forks of this one: they inherit it
from dagster_project.definitions import defs  # noqa: E402  (after the collector is set)

for _job in ("ogi_refresh", "ogi_parse", "ogi_marts", "ogi_discover"):
    defs.resolve_job_def(_job)
import ingest.parse_stage  # noqa: E402,F401  (Polars, the table reader and the front ends)

# what is loaded here lives as long as every step process: the collector need not look at it again
# in each of them (and, not touched by it, its memory stays shared with the fork server)
gc.freeze()
