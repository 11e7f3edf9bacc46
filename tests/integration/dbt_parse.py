"""The dbt project parsed afresh the way a loader does it (``ensure_dbt_manifest(force=True)``), in a
process of its own with the environment and working directory a test gives it."""

import subprocess
from pathlib import Path

PARSE = "from dagster_project.settings import ensure_dbt_manifest; ensure_dbt_manifest(force=True)"


def force_dbt_parse(python: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-c", PARSE], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
