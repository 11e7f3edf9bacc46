"""The serving copy BI tools read: rebuilt beside the warehouse and swapped in atomically."""


import time

import dagster as dg

from dagster_project.defs.dbt_assets import dbt_core_marts, dbt_rule_marts
from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import code_version
from ingest.warehouse import connect, marts_inputs_fingerprint, publish_serving_copy, record_published


@dg.asset(
    key=["serving", "warehouse_serving_copy"],
    deps=[dbt_core_marts, dbt_rule_marts],
    group_name="serving",
    kinds={"duckdb"},
    description="The warehouse file copied, everything but marts.* dropped from the copy, and the copy renamed over "
    "<warehouse>.serving.duckdb (readers never see a half-built file). Skipped when nothing changed.",
)
def serving_copy(paths: WarehousePaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    with connect(paths.warehouse_file) as con:
        fingerprint = marts_inputs_fingerprint(con, code_version())
    counts = publish_serving_copy(paths.warehouse_file)
    with connect(paths.warehouse_file) as con:
        record_published(con, fingerprint)
    return dg.MaterializeResult(
        metadata={
            "path": str(paths.serving_file),
            "tables": dg.MetadataValue.json(counts),
            "bytes": paths.serving_file.stat().st_size,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
