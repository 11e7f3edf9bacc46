"""A new warehouse's dbt target folder starts from the project's partial-parse state (what dbt wrote
when the definitions loaded); dbt itself decides whether that state fits the warehouse's profile."""

import json
import os
import sys

from dagster_project import settings
from dagster_project.defs.dbt_assets import dbt_target_dir
from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import PARTIAL_PARSE_FILE
from tests.integration.dbt_parse import force_dbt_parse


def _paths(tmp_path) -> WarehousePaths:
    return WarehousePaths(landing_dir=str(tmp_path), warehouse=str(tmp_path / "w.duckdb"))


def test_new_target_folder_starts_from_the_projects_parse_state(tmp_path, monkeypatch):
    project_target = tmp_path / "project_target"
    project_target.mkdir()
    (project_target / PARTIAL_PARSE_FILE).write_bytes(b"project state")
    monkeypatch.setattr(settings, "DBT_MANIFEST", project_target / "manifest.json")

    target = dbt_target_dir(_paths(tmp_path))
    assert (target / PARTIAL_PARSE_FILE).read_bytes() == b"project state"
    assert [p.name for p in target.iterdir()] == [PARTIAL_PARSE_FILE]  # no temporary copy left

    # the warehouse's own state, once dbt has written it, is never replaced by the project's
    (target / PARTIAL_PARSE_FILE).write_bytes(b"warehouse state")
    (project_target / PARTIAL_PARSE_FILE).write_bytes(b"newer project state")
    assert (dbt_target_dir(_paths(tmp_path)) / PARTIAL_PARSE_FILE).read_bytes() == b"warehouse state"


def test_no_project_state_leaves_the_folder_to_dbt(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DBT_MANIFEST", tmp_path / "absent" / "manifest.json")
    assert not (dbt_target_dir(_paths(tmp_path)) / PARTIAL_PARSE_FILE).exists()


def test_project_parse_state_is_the_quickstart_warehouses_whoever_parses(tmp_path):
    """A run on another warehouse that finds the dbt project changed parses it for the quickstart's
    warehouse all the same, so that the next quickstart run's first build parses partially."""
    elsewhere = tmp_path / "elsewhere" / "other.duckdb"
    env = {**os.environ, "OGI_WAREHOUSE": str(elsewhere)}
    parse = force_dbt_parse(sys.executable, tmp_path, env)
    assert parse.returncode == 0, parse.stdout + parse.stderr
    manifest = json.loads(settings.DBT_MANIFEST.read_text(encoding="utf-8"))
    databases = {node["database"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert databases == {settings.QUICKSTART_WAREHOUSE.stem}
    assert settings.QUICKSTART_WAREHOUSE.stem != elsewhere.stem
