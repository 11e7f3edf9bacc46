"""The real Dagster definitions load, with every stage, check, schedule and sensor wired."""

import dagster as dg


def test_definitions_load_with_every_stage():
    from dagster_project.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    for stage in ["raw/landed_files", "stage/parsed_facts", "raw/table_cells",
                  "raw/rule_results", "serving/warehouse_serving_copy"]:
        assert stage in keys
    for mart in ["dim_source_file", "dim_report", "fct_applications", "fct_review_litigation",
                 "fct_proactive_disclosure", "fct_disclosure_channels", "fct_rule_results"]:
        assert f"marts/{mart}" in keys
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"report_arithmetic_findings", "every_report_assessed", "every_landed_file_recorded"} <= checks
    # dbt tests on the marts surface as checks too
    assert any(name.startswith("unique_") for name in checks)


def test_dbt_sources_are_the_python_assets():
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey(["staging", "stg_ogi__table_cells"])).parent_keys}
    assert parents == {"raw/table_cells"}


def test_automation_is_defined_and_off_by_default():
    from dagster_project.definitions import defs

    schedule = defs.resolve_schedule_def("reporting_season_daily")
    sensor = defs.resolve_sensor_def("landing_directory_sensor")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert defs.resolve_job_def("ogi_refresh").executor_def.name == "in_process"


def test_parse_partitions_need_only_the_shard_store():
    """The warehouse resource holds the warehouse's lock (the run's step lock under ``ogi run``) for its
    whole step: a parse partition that took it would wait for every other one, and the multiprocess
    executor's parallel partitions would run one at a time (and a step pod on a cluster has no
    warehouse to lock)."""
    from dagster_project.defs.ingest_assets import parse_partition_op, partitions_with_work

    assert set(parse_partition_op.required_resource_keys) == {"shards"}
    # the in-process run's background preloads (dbt parse, GE import) start in the step before it
    assert "paths" in partitions_with_work.required_resource_keys
