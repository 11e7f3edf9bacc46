"""A new warehouse's dbt target folder starts from the project's partial-parse state (what dbt wrote
when the definitions loaded); dbt itself decides whether that state fits the warehouse's profile."""

from dagster_project import settings
from dagster_project.defs.dbt_assets import dbt_target_dir
from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import PARTIAL_PARSE_FILE


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
