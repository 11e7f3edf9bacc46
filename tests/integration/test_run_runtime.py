"""What ``ogi run`` changes in how Dagster and dbt run, beside the results: the event log on kept-open
connections must be Dagster's own (the UI, with the default storage, reads it), and dbt run in this
process must fail a step as a dbt subprocess did."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.cli import _instance
from dagster_project.defs.dbt_assets import InProcessDbtBuild, _dbt_flags, _parse_args
from dagster_project.instance_storage import PooledSqliteEventLogStorage
from dagster_project.settings import DBT_PROJECT_DIR


@dg.asset
def numbers() -> int:
    return 3


@dg.asset_check(asset=numbers)
def numbers_positive(numbers: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=numbers > 0)


@dg.asset
def doubled(numbers: int) -> int:
    return numbers * 2


def test_runs_recorded_on_kept_open_connections_are_read_by_the_default_storage(tmp_path):
    home = tmp_path / "dagster_home"
    job = dg.Definitions(assets=[numbers, doubled], asset_checks=[numbers_positive]).resolve_implicit_global_asset_job_def()
    instance = _instance(home)
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    runs = [job.execute_in_process(instance=instance).run_id for _ in range(6)]  # more runs than pools kept
    instance.dispose()

    ui = dg.DagsterInstance.from_config(str(home))  # what `dagster dev` opens: Dagster's default storage
    assert not isinstance(ui.event_log_storage, PooledSqliteEventLogStorage)
    for run_id in runs:
        assert ui.get_run_by_id(run_id).is_success
        events = ui.all_logs(run_id)
        assert sum(e.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
                   for e in events if e.is_dagster_event) == 2
    latest = ui.get_latest_materialization_event(dg.AssetKey("doubled"))
    assert latest is not None and latest.run_id == runs[-1]
    check = ui.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_positive")])
    assert next(iter(check.values())).run_id == runs[-1]


def test_a_configured_storage_is_kept(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {tmp_path / 'elsewhere'}\n", encoding="utf-8")
    instance = _instance(home)
    assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)


@pytest.mark.parametrize("command", [["run-operation", "no_such_macro_in_this_project"]])
def test_a_failing_dbt_invocation_fails_with_dbt_s_message(tmp_path, monkeypatch, command):
    monkeypatch.setenv("OGI_WAREHOUSE", str(tmp_path / "w.duckdb"))
    flags = _dbt_flags(DBT_PROJECT_DIR, DBT_PROJECT_DIR, tmp_path / "target", None, None)
    build = InProcessDbtBuild(args=[*command, *flags], parse_args=_parse_args([], flags), manifest={},
                              translator=None, context=None, target_path=tmp_path / "target", project=None)
    with pytest.raises(dg.Failure) as failed:
        list(build.stream())
    assert build.success is False
    assert "no_such_macro_in_this_project" in failed.value.description
