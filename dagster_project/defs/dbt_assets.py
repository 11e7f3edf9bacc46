"""The dbt project as Dagster assets: core marts first, then the rule marts after validation."""


import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


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
