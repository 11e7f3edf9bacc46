"""The README's UI command works from a fresh shell: no activated venv (PATH without .venv/bin), no
OGI_* variable set. The code location is loaded the way ``dagster dev`` loads it (its dev flag makes
dagster-dbt prepare the project), in a subprocess, and must report LOADED."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dagster_project.settings import DBT_MANIFEST, PARSE_SCRATCH_PREFIX, QUICKSTART_WAREHOUSE

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _fresh_shell_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGI_") and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != BIN.resolve()) or "/usr/bin:/bin"
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    (tmp_path / "dagster_home" / "dagster.yaml").write_bytes((REPO_ROOT / "dagster_home" / "dagster.yaml").read_bytes())
    return env


# Both tests that parse the project afresh are in this file: pytest-xdist runs a file's tests on one
# worker, one after the other, and a parse in progress elsewhere would leave its scratch folder in
# dbt/target while the first test looks for one.
def _force_dbt_parse(python: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-c", "from dagster_project.settings import ensure_dbt_manifest; ensure_dbt_manifest(force=True)"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def test_dbt_parses_without_venv_on_path_or_ogi_variables(tmp_path):
    """What a fresh clone does first when the definitions load: parse the dbt project."""
    left_by_a_killed_parse = DBT_MANIFEST.parent / (PARSE_SCRATCH_PREFIX + "killed")
    left_by_a_killed_parse.mkdir(parents=True, exist_ok=True)
    parse = _force_dbt_parse(BIN / "python", REPO_ROOT, _fresh_shell_env(tmp_path))
    assert parse.returncode == 0, parse.stdout + parse.stderr
    assert DBT_MANIFEST.stat().st_mtime > time.time() - 300
    # dbt parsed into a folder of its own, whose files replaced the target's
    assert not list(DBT_MANIFEST.parent.glob(PARSE_SCRATCH_PREFIX + "*"))


def test_project_parse_state_is_the_quickstart_warehouses_whoever_parses(tmp_path):
    """A run on another warehouse that finds the dbt project changed parses it for the quickstart's
    warehouse all the same, so that the next quickstart run's first build parses partially."""
    elsewhere = tmp_path / "elsewhere" / "other.duckdb"
    env = {**os.environ, "OGI_WAREHOUSE": str(elsewhere)}
    parse = _force_dbt_parse(sys.executable, tmp_path, env)
    assert parse.returncode == 0, parse.stdout + parse.stderr
    manifest = json.loads(DBT_MANIFEST.read_text(encoding="utf-8"))
    databases = {node["database"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert databases == {QUICKSTART_WAREHOUSE.stem}
    assert QUICKSTART_WAREHOUSE.stem != elsewhere.stem


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LOCATIONS = ('{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus '
              'locationOrLoadError { __typename ... on PythonError { message } } } } } }')


def test_dagster_dev_serves_the_loaded_location(tmp_path):
    env = _fresh_shell_env(tmp_path)
    port = _free_port()
    log = open(tmp_path / "dev.log", "w")
    dev = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    entries = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and dev.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": _LOCATIONS}).encode(),
                    headers={"content-type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except OSError:
                pass
            time.sleep(2)
    finally:
        # Ctrl-C as a user would, then whatever of the session (code server, daemon) is still there
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(dev.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        dev.wait()
        log.close()
    output = (tmp_path / "dev.log").read_text(errors="replace")
    assert entries, f"dagster dev never answered on port {port}:\n{output[-3000:]}"
    (entry,) = entries
    assert entry["name"] == "ogi_warehouse"
    assert entry["loadStatus"] == "LOADED"
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
