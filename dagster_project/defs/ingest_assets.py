"""Ingest stages as assets: discovery -> the partitioned parse stage (Parquet shards) -> DuckDB raw tables."""


import os
import sys
import time
from collections import Counter

import dagster as dg
import polars as pl

from dagster_project.defs.dbt_assets import parse_project_in_background
from dagster_project.defs.quality import preload_validation_in_background
from dagster_project.defs.resources import ShardStorage, WarehousePaths
from dagster_project.settings import executor_name, landing_problem, parse_partition_count
from ingest import PARSER_VERSION
from ingest.discovery import known_files, landed_frame, scan_landing
from ingest.parse_stage import bucket_todo, parse_partitions
from ingest.progress import Progress
from ingest.registry import registry
from ingest.shards import partition_keys
from ingest.warehouse import connect, load_shards, merge_landed, rebuild_source_files, replace_table

# Hash buckets of source_sha256 (OGI_PARSE_PARTITIONS, default 8): fixed content-addressed buckets
# rather than a partition per landing batch, so a content always belongs to the same partition, the
# partition set does not grow season after season, and a parser upgrade re-parses by bucket.
PARSE_PARTITIONS = dg.StaticPartitionsDefinition(partition_keys(parse_partition_count()))

RAW_FROM_PARSE = ["reports", "table_cells", "narrative_facts", "parse_warnings"]


def _emitter(context: dg.AssetExecutionContext):
    """Progress lines go to the run's event log, and to stderr when ``ogi run`` hides info logs."""

    def emit(line: str) -> None:
        context.log.info(line)
        if os.environ.get("OGI_PROGRESS") == "stderr":
            print(line, file=sys.stderr, flush=True)

    return emit


def _md_preview(df: pl.DataFrame, n: int = 10) -> dg.MetadataValue:
    head = df.head(n)
    if head.is_empty():
        return dg.MetadataValue.md("_(no rows)_")
    cols = head.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "\\|")[:60] for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset(
    key=["raw", "landed_files"],
    group_name="ingest",
    kinds={"python", "duckdb"},
    description="Every file under the landing directory: path, sha256, size and the format sniffed from its bytes.",
)
def landed_files(context: dg.AssetExecutionContext, paths: WarehousePaths,
                 shards: ShardStorage) -> dg.MaterializeResult:
    started = time.perf_counter()
    problem = landing_problem(paths.landing)
    if problem:
        # before the stage folder or the warehouse is touched
        raise dg.Failure(description=problem, allow_retries=False)
    scan_file = paths.stage_dir / "landing_scan.parquet"
    known = known_files(pl.read_parquet(scan_file)) if scan_file.exists() else {}
    progress: list[Progress] = []
    files = scan_landing(paths.landing, known=known, on_file=lambda: progress[0].advance(),
                         on_start=lambda total: progress.append(Progress("discovery", total, _emitter(context))))
    progress[0].finish()
    reused = sum(1 for f in files if f.abs_path in known and known[f.abs_path][2] == f.source_sha256)
    scan = landed_frame(files)
    scan.write_parquet(scan_file)
    # the partitions read the scan from the shard store: they may run where the warehouse is not
    shards.store().write_scan(scan)
    with connect(paths.warehouse_file) as con:
        stats = merge_landed(con, scan)
    by_format = Counter(scan["source_format"].to_list())
    return dg.MaterializeResult(
        metadata={
            **stats,
            "landing_dir": str(paths.landing),
            "unchanged_since_last_scan": reused,
            "by_format": dict(by_format),
            "preview": _md_preview(scan.select("source_path", "bytes", "source_format", "problem")),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _parse_partition_keys(context) -> list[str]:
    """The partitions this run parses: its key or key range, else (a run launched without one, e.g. a
    job run from the Launchpad) every partition."""
    if context.has_partition_key_range or context.has_partition_key:
        return list(context.partition_keys)
    return PARSE_PARTITIONS.get_partition_keys()


@dg.op(
    out=dg.DynamicOut(str),
    ins={"after_discovery": dg.In(dg.Nothing)},
    description="The partitions of this run that hold contents not yet parsed by this parser version: one step "
    "each under an out-of-process executor; in-process, one step for all of them (one read and parse pass, still "
    "committed partition by partition).",
)
def partitions_with_work(context: dg.OpExecutionContext, shards: ShardStorage, paths: WarehousePaths):
    store = shards.store()
    scan = store.read_scan()
    current = store.current_outcomes()
    with_work = []
    for key in _parse_partition_keys(context):
        todo, in_bucket, _ = bucket_todo(scan, key, current)
        if todo.is_empty():
            context.log.debug(f"partition {key}: all {in_bucket} contents already parsed by {PARSER_VERSION}")
        else:
            with_work.append(key)
    if not with_work:
        return
    if executor_name() == "in_process":
        # the parse step comes next in this process, and the later steps of this run too: what they
        # would start with is done while it parses (here, because the parse step itself takes no
        # warehouse resource: see parse_partition_op)
        if context.job_def.has_node_named("rule_results"):
            preload_validation_in_background()
        if context.job_def.has_node_named("dbt_core_marts"):
            parse_project_in_background(paths)
        yield dg.DynamicOutput(",".join(with_work), mapping_key="in_process")
        return
    for key in with_work:
        yield dg.DynamicOutput(key, mapping_key=key.replace("-", "_"))


@dg.op(
    # a transient failure (an object store's hiccup, a lost step pod) is retried; a retry first removes
    # what the failed attempt left uncommitted, then redoes the bucket
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    description="Read, decode (front ends, OCR) and parse one hash bucket of the contents (or, in-process, every "
    "bucket of the run); writes the facts as Parquet shards and commits each bucket (ingest.parse_stage).",
)
def parse_partition_op(context: dg.OpExecutionContext, shards: ShardStorage, partition: str) -> list[dict]:
    # No WarehousePaths here: that resource holds the warehouse's lock (the run's step lock under `ogi
    # run`) for the whole step, so the partitions of a multiprocess run would take turns; and a step pod
    # on a cluster has no warehouse. A partition needs only the landing paths the scan recorded and the
    # shard store, and has it to itself: a run has one step per partition, and every deployment's instance
    # runs one run at a time (dagster_home/dagster.yaml, deploy/).
    keys = partition.split(",")
    progress: list[Progress] = []

    def start(total: int) -> None:
        progress.append(Progress(f"parsing {keys[0] if len(keys) == 1 else f'{len(keys)} partitions'}", total,
                                 _emitter(context), unit="files", every_seconds=2.0))

    # out of process the steps are the parallelism: one reader process each unless OGI_READ_WORKERS says
    readers = None if executor_name() == "in_process" else int(os.environ.get("OGI_READ_WORKERS") or 1)
    results = parse_partitions(shards.store(), keys, log_error=context.log.error, on_start=start,
                               on_file=lambda: progress[0].advance(), read_workers=readers)
    if progress:
        progress[0].finish()
    for r in results:
        if r.removed_uncommitted:
            context.log.warning(f"partition {r.partition}: removed {r.removed_uncommitted} shard file(s) that an "
                                "interrupted earlier write left uncommitted (never read)")
    return [{"partition": r.partition, "parsed": r.parsed, "generation": r.generation, "rows": r.rows,
             "by_status": r.by_status, "seconds": round(r.seconds, 3)} for r in results]


@dg.op(description="Summarises the committed partitions of this run.")
def parse_summary(context: dg.OpExecutionContext, steps: list[list[dict]]) -> None:
    results = [r for step in steps for r in step]
    rows, statuses = Counter(), Counter()
    for r in results:
        rows.update(r["rows"])
        statuses.update(r["by_status"])
    parsed = sum(r["parsed"] for r in results)
    busiest = max((r["seconds"] for r in results), default=0.0)
    context.add_output_metadata({
        "partitions_parsed": len(results),
        "documents": parsed,
        **{name: rows.get(name, 0) for name in RAW_FROM_PARSE},
        "by_status": dict(statuses),
        "generations": dg.MetadataValue.json({r["partition"]: r["generation"] for r in results}),
        "slowest_partition_seconds": busiest,
    })


@dg.graph_asset(
    key=["stage", "parsed_facts"],
    partitions_def=PARSE_PARTITIONS,
    ins={"landed_files": dg.AssetIn(["raw", "landed_files"], dagster_type=dg.Nothing)},
    group_name="ingest",
    kinds={"polars", "parquet"},
    # one run for any set of partitions: its partitions are steps the executor runs in parallel
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The parse stage, partitioned by hash bucket of source_sha256: each partition reads its files "
    "(UTF-8, GB18030/GBK, UTF-16; HTML, DOCX, PDF text layer, OCR of scans, under per-file budgets), parses them "
    "with Polars into long-form facts, narrative figures and parse warnings, and commits them as Parquet shards "
    "(<table>/<partition>/part-*.parquet) in the shard store. A partition only parses what the store lacks.",
)
def parsed_facts(landed_files):
    return parse_summary(partitions_with_work(landed_files).map(parse_partition_op).collect())


RAW_KEYS = ["source_files", "reports", "table_cells", "narrative_facts", "parse_warnings", "ref_row_keys"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", name], deps=[parsed_facts, landed_files], group_name="ingest", kinds={"duckdb"})
        for name in RAW_KEYS
    ],
    description="Loads the parse shards into the DuckDB raw tables: every content present in the landing directory "
    "whose newest committed parse is not the loaded one gets that parse's rows (ingest.warehouse.load_shards).",
)
def raw_tables(context: dg.AssetExecutionContext, paths: WarehousePaths, shards: ShardStorage):
    from ingest.warehouse import table_counts

    started = time.perf_counter()
    scan = pl.read_parquet(paths.stage_dir / "landing_scan.parquet", columns=["source_sha256"])
    with connect(paths.warehouse_file) as con:
        stored = load_shards(con, shards.store(), scan)
        rebuild_source_files(con)
        replace_table(con, "ref_row_keys", registry().ref_row_keys())
        counts = table_counts(con, "raw")
    elapsed = round(time.perf_counter() - started, 3)
    for name in RAW_KEYS:
        yield dg.MaterializeResult(
            asset_key=["raw", name],
            metadata={"row_count": counts.get(name, 0), "rows_from_this_run": stored.get(name),
                      "seconds": elapsed},
        )
