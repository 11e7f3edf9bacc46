"""The documented cluster configurations (deploy/) are complete and valid: their run configs pass
the real executors' config schemas (dagster-k8s, dagster-celery) and the resources' schemas, and
the three-job chain is wired (discovery -> parse -> marts)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"

_VALIDATE = textwrap.dedent("""
    import sys, yaml
    import dagster as dg
    from dagster_project.definitions import defs
    job, config_file, executor = sys.argv[1:4]
    job_def = defs.resolve_job_def(job)
    assert job_def.executor_def.name == executor, (job_def.executor_def.name, executor)
    config = yaml.safe_load(open(config_file))
    config.setdefault("resources", {}).setdefault("paths", {"config": {"landing_dir": "/data/landing",
                                                                       "warehouse": "/data/w.duckdb"}})
    dg.validate_run_config(job_def, config)
    print("valid")
""")


@pytest.mark.parametrize(("executor", "job", "config", "executor_name"), [
    ("k8s", "ogi_parse", DEPLOY / "k8s" / "ogi_parse.run_config.yaml", "k8s"),
    ("k8s", "ogi_marts", DEPLOY / "k8s" / "ogi_marts.run_config.yaml", "in_process"),
    ("k8s", "ogi_discover", DEPLOY / "k8s" / "ogi_marts.run_config.yaml", "in_process"),
    ("celery", "ogi_parse", DEPLOY / "celery" / "ogi_parse.run_config.yaml", "celery"),
])
def test_deploy_run_configs_pass_the_executor_schemas(executor, job, config, executor_name):
    pytest.importorskip({"k8s": "dagster_k8s", "celery": "dagster_celery"}[executor])
    proc = subprocess.run([sys.executable, "-c", _VALIDATE, job, str(config), executor_name], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OGI_EXECUTOR": executor})
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stderr[-3000:]


def test_helm_values_set_what_the_code_reads():
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text(encoding="utf-8"))
    deployment = values["dagster-user-deployments"]["deployments"][0]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert env["OGI_EXECUTOR"] == "k8s"
    assert env["OGI_SHARD_URL"].startswith("s3://")
    for name in ("OGI_LANDING_DIR", "OGI_WAREHOUSE", "OGI_PARSE_PARTITIONS"):
        assert env[name]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "dagster_project.definitions"]


def test_the_cluster_chain_is_wired():
    from dagster_project.definitions import defs

    parse = defs.resolve_sensor_def("parse_after_discovery")
    marts = defs.resolve_sensor_def("build_marts_after_parse")
    assert parse.job_name == "ogi_parse" and marts.job_name == "ogi_marts"
    parse_assets = defs.resolve_job_def("ogi_parse").asset_layer.selected_asset_keys
    assert {k.to_user_string() for k in parse_assets} == {"stage/parsed_facts"}
    marts_assets = {k.to_user_string() for k in defs.resolve_job_def("ogi_marts").asset_layer.selected_asset_keys}
    assert "raw/table_cells" in marts_assets and "serving/warehouse_serving_copy" in marts_assets
    assert "stage/parsed_facts" not in marts_assets and "raw/landed_files" not in marts_assets
