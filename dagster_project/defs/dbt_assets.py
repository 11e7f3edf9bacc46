"""The dbt project as Dagster assets: core marts first, then the rule marts after validation."""


import functools
import json
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

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=test_description(manifest["nodes"][unique_id], manifest))


def _ref_name(to: str) -> str:
    return to.split("'")[1] if "'" in to else to


def test_description(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """The test's YAML description, else what the generic test asserts, in a sentence."""
    if (test.get("description") or "").strip():
        return " ".join(test["description"].split())
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name")
    model = (test.get("attached_node") or "").rsplit(".", 1)[-1] or "the model"
    kind = meta.get("name")
    if kind == "not_null":
        return f"{model}.{column} is never NULL."
    if kind == "unique":
        return f"{model}.{column} is unique: no two rows share a value."
    if kind == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values", []))
        return f"{model}.{column} is one of: {values} (NULL allowed)."
    if kind == "relationships":
        return f"Every {model}.{column} is a {kwargs.get('field')} of {_ref_name(str(kwargs.get('to', '')))} (NULL allowed)."
    if kind == "unique_combination_of_columns":
        return f"No two rows of {model} share ({', '.join(kwargs.get('combination_of_columns', []))}): its grain."
    if kind == "non_negative_integer":
        return f"{model}.{column} is a non-negative whole number wherever it is not NULL."
    if kind == "expression_is_true":
        return f"For every row of {model}: {' '.join(str(kwargs.get('expression', '')).split())}."
    return f"dbt test {test['name']}: no row of {model} fails it."


def marts_are_current(paths: WarehousePaths) -> bool:
    """True when the last published refresh was built from exactly the present raw tables with the
    present code, and its serving copy is still there: rebuilding would change nothing."""
    if not paths.serving_file.exists():
        return False
    with connect(paths.warehouse_file) as con:
        return published_fingerprint(con) == marts_inputs_fingerprint(con, code_version())


PREVIEW_ROWS = 10


@functools.cache
def _manifest_nodes() -> dict[str, Mapping[str, Any]]:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"]


def _relation_metadata(con, node: Mapping[str, Any]) -> dict[str, Any]:
    """Row count, column types (with the YAML descriptions) and a preview, read from DuckDB after the
    build: the dbt adapter cannot open the file while the dbt process holds its write lock."""
    schema, name = node["schema"], node.get("alias") or node["name"]
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not columns:
        return {}
    described = {k: (v.get("description") or None) for k, v in (node.get("columns") or {}).items()}
    meta: dict[str, Any] = {
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c, t, description=described.get(c)) for c, t in columns]
        ),
        "dagster/relation_identifier": f"{schema}.{name}",
    }
    if node.get("config", {}).get("materialized") == "table":
        # views are not counted: at national scale a count re-reads the raw tables
        meta["dagster/row_count"] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        preview = con.execute(f'select * from "{schema}"."{name}" limit {PREVIEW_ROWS}').fetchall()
        meta["preview"] = dg.MetadataValue.md(_md_table([c for c, _ in columns], preview))
    return meta


def _md_table(cols: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "_(no rows)_"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "\\|")[:60] for v in row) + " |")
    return "\n".join(lines)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    # the profile reads the warehouse path from the environment of the dbt subprocess
    os.environ["OGI_WAREHOUSE"] = str(paths.warehouse_file)
    # "buildable": a test runs in the build that has all of its parents (a rule-mart test whose
    # other parent is a core source would otherwise run, and fail, in the core build)
    events = list(dbt.cli(["build", "--indirect-selection", "buildable"], context=context).stream())
    nodes = _manifest_nodes()
    with connect(paths.warehouse_file, read_only=True) as con:
        for event in events:
            node = nodes.get((event.metadata or {}).get("unique_id").value) \
                if isinstance(event, dg.Output) and "unique_id" in (event.metadata or {}) else None
            if node is not None:
                try:
                    event = event.with_metadata({**event.metadata, **_relation_metadata(con, node)})
                except Exception as exc:  # metadata is a convenience: never fail the build on it
                    context.log.warning(f"no table metadata for {node['name']}: {exc}")
            yield event


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
