"""Where things are: the repository, the dbt project, and the paths a run reads and writes.

Paths come from the environment (``OGI_LANDING_DIR``, ``OGI_WAREHOUSE``) with the contract's
defaults, relative to the current directory.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
SAMPLE_LANDING_DIR = REPO_ROOT / "sample_data" / "landing"


def landing_dir() -> Path:
    return Path(os.environ.get("OGI_LANDING_DIR") or "data/landing").resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("OGI_WAREHOUSE") or "data/warehouse.duckdb").resolve()


def dbt_executable() -> str:
    """The dbt installed beside this Python, so runs work without an activated venv."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def quiet_telemetry() -> None:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")


@functools.cache
def code_version() -> str:
    """Digest of the code that turns raw tables into marts: the dbt project, the rule suites and the
    parser version (which includes the schema registry). Part of the no-op test of a refresh."""
    from ingest import PARSER_VERSION

    digest = hashlib.sha256(PARSER_VERSION.encode())
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in (DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "macros", DBT_PROJECT_DIR / "tests",
                   REPO_ROOT / "expectations"):
        sources += [p for p in folder.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".py"}]
    for path in sorted(sources):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
