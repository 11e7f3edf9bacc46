"""The dbt project as Dagster assets: core marts first, then the rule marts after validation."""


import logging
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import DBT_PROJECT_DIR, code_version, ensure_dbt_manifest
from ingest.warehouse import connect, marts_inputs_fingerprint, published_fingerprint


class _SkippedMartsChecks(logging.Filter):
    """When the marts are kept (nothing changed), dbt_core_marts yields neither models nor test
    results by design, and Dagster would warn once per dbt test and downstream step."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step 'dbt_core_marts'" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_SkippedMartsChecks())

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
ensure_dbt_manifest()


class OgiDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (``marts/fct_applications``); sources keep ``raw/<table>``,
    which is exactly the key of the Python asset that writes them, so lineage needs no wiring."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return "rules" if "rules" in dbt_resource_props.get("tags", []) else dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)


def marts_are_current(paths: WarehousePaths) -> bool:
    """True when the last published refresh was built from exactly the present raw tables with the
    present code, and its serving copy is still there: rebuilding would change nothing."""
    if not paths.serving_file.exists():
        return False
    with connect(paths.warehouse_file) as con:
        return published_fingerprint(con) == marts_inputs_fingerprint(con, code_version())


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    # the profile reads the warehouse path from the environment of the dbt subprocess
    os.environ["OGI_WAREHOUSE"] = str(paths.warehouse_file)
    # "buildable": a test runs in the build that has all of its parents (a rule-mart test whose
    # other parent is a core source would otherwise run, and fail, in the core build)
    yield from dbt.cli(["build", "--indirect-selection", "buildable"], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="tag:core",
    name="dbt_core_marts",
    dagster_dbt_translator=OgiDbtTranslator(),
)
def dbt_core_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    if marts_are_current(paths):
        # yielding no output skips every downstream step (validation, rule marts, serving copy)
        context.log.info("nothing changed since the last published refresh: marts, rules and serving copy kept")
        return
    yield from _build(context, dbt, paths)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="tag:rules",
    name="dbt_rule_marts",
    dagster_dbt_translator=OgiDbtTranslator(),
)
def dbt_rule_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    yield from _build(context, dbt, paths)
