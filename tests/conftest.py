"""Shared fixtures: the dbt manifest exists before definitions load; ``ogi`` subprocesses record
their runs in a throwaway Dagster instance; paths to the seeds."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"


def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto`` (pyproject's default): one worker per core this process may use, but no more than
    one per 2 GiB of memory (a worker's end-to-end runs hold dbt, Great Expectations and DuckDB at
    once). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(1, min(cores, memory // (2 << 30)))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    from dagster_project.settings import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory) -> Path:
    """``ogi run`` records in $DAGSTER_HOME, else the project's dagster_home/: tests must not fill
    the instance a developer's UI reads."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_bytes((REPO_ROOT / "dagster_home" / "dagster.yaml").read_bytes())
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip("../shared/seeds is not present")
    return SEEDS_DIR
