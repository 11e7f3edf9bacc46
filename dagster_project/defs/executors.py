"""Executors by ``OGI_EXECUTOR`` (dagster_project.settings.executor_name).

In-process by default: one process, no definitions reloaded per step (the quickstart, ``ogi run``,
``dagster dev``). ``multiprocess`` runs the parse partitions as parallel steps on this machine;
``k8s`` and ``celery`` run them as Kubernetes jobs or on Celery workers (the ``ogi_parse`` job, see
deploy/). Whatever the executor, the steps after the parse open one DuckDB file and run one at a
time (their dependencies chain them, and each takes the warehouse lock).
"""

import dagster as dg

from dagster_project.settings import executor_name, worker_count


def multiprocess_executor() -> dg.ExecutorDefinition:
    # a fork server that has imported the definitions once: a step starts as a fork, not as a fresh
    # interpreter importing Dagster, dbt and Polars (7-10 s a step otherwise, shared/reference/stack.md)
    return dg.multiprocess_executor.configured(
        {"max_concurrent": worker_count(),
         "start_method": {"forkserver": {"preload_modules": ["dagster_project.preload"]}}},
        name="multiprocess",
    )


def parse_executor() -> dg.ExecutorDefinition:
    """The executor of the jobs whose steps are the parse partitions."""
    name = executor_name()
    if name == "multiprocess":
        return multiprocess_executor()
    if name == "k8s":
        # uv sync --extra k8s; configured by the run config in deploy/k8s
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if name == "celery":
        # uv sync --extra celery; configured by the run config in deploy/celery
        from dagster_celery import celery_executor

        return celery_executor
    return dg.in_process_executor


def refresh_executor() -> dg.ExecutorDefinition:
    """The whole-graph refresh (``ogi run``, the UI, the schedule) runs on one machine: in-process, or
    its parse partitions in parallel processes there. On a cluster the graph runs as three jobs."""
    return multiprocess_executor() if executor_name() == "multiprocess" else dg.in_process_executor
