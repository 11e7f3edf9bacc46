"""Shared fixtures: the dbt manifest exists before definitions load; paths to the seeds."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    from dagster_project.settings import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip("../shared/seeds is not present")
    return SEEDS_DIR
