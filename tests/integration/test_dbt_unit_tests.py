"""dbt's unit tests (the models' SQL on fixtures: supersession, derived rows, channel metrics).

Refreshes build with ``--exclude-resource-type unit_test`` (they check code, not data); they run
here, against an empty warehouse whose core models exist (dbt reads the input columns from it).
"""

import os
import subprocess

from dagster_project.settings import DBT_PROJECT_DIR, dbt_executable, seed_partial_parse
from ingest.warehouse import connect, ensure_raw_schema


def test_dbt_unit_tests_pass(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        ensure_raw_schema(con)
    env = {**os.environ, "OGI_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "target"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    (tmp_path / "target").mkdir()
    seed_partial_parse(tmp_path / "target")  # the session's parse (conftest): no full parse per invocation
    dbt = [dbt_executable()]
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    subprocess.run(dbt + ["run", "--quiet", "--select", "tag:core", *project], cwd=DBT_PROJECT_DIR, env=env, check=True)
    done = subprocess.run(dbt + ["test", "--select", "test_type:unit", *project], cwd=DBT_PROJECT_DIR, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    # the 4 unit tests and the project's two on-run-start and two on-run-end hooks
    assert "PASS=8" in done.stdout and "ERROR=0" in done.stdout
