"""Ingest stages as assets: discovery -> decoding -> Polars parsing -> DuckDB raw tables."""


import os
import shutil
import sys
import time
from collections import Counter
from datetime import UTC

import dagster as dg
import polars as pl

from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import landing_problem
from ingest import PARSER_VERSION
from ingest.discovery import abs_paths, count_files, known_files, landed_frame, scan_landing
from ingest.pipeline import ParsedBatch, parse_documents
from ingest.progress import Progress
from ingest.reader import read_files
from ingest.registry import registry
from ingest.schemas import conform
from ingest.warehouse import (
    connect,
    merge_landed,
    rebuild_source_files,
    replace_table,
    shas_needing_parse,
    store_parsed,
)

# Documents parsed together in one Polars pass; bounds memory on very large landings.
PARSE_CHUNK = 2000
# Decoded documents per stage file: the decode stage never holds more than this many texts.
DECODED_PART = 5000
DECODED_SCHEMA = {
    "source_sha256": pl.String,
    "source_path": pl.String,
    "source_format": pl.String,
    "encoding": pl.String,
    "text": pl.String,
    "problem": pl.String,
    "converted_from_traditional": pl.Boolean,
}
OUTCOME_SCHEMA = {"source_sha256": pl.String, "ingest_status": pl.String, "reason": pl.String,
                  "report_id": pl.String, "encoding": pl.String}


def _fresh_dir(path):
    """An empty stage directory (what an earlier, possibly killed, run left there is gone)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


class _PartWriter:
    """Rows buffered and written as numbered parquet parts of DECODED_PART rows."""

    def __init__(self, directory, schema):
        self.directory, self.schema = directory, schema
        self.buffer: list[tuple] = []
        self.parts = 0

    def add(self, row: tuple) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= DECODED_PART:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            pl.DataFrame(self.buffer, schema=self.schema, orient="row").write_parquet(
                self.directory / f"part-{self.parts:05d}.parquet"
            )
            self.parts += 1
            self.buffer = []

    close = flush
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
def landed_files(context: dg.AssetExecutionContext, paths: WarehousePaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    problem = landing_problem(paths.landing)
    if problem:
        # before the stage folder or the warehouse is touched
        raise dg.Failure(description=problem, allow_retries=False)
    scan_file = paths.stage_dir / "landing_scan.parquet"
    known = known_files(pl.read_parquet(scan_file)) if scan_file.exists() else {}
    progress = Progress("discovery", count_files(paths.landing), _emitter(context))
    files = scan_landing(paths.landing, known=known, on_file=progress.advance)
    progress.finish()
    reused = sum(1 for f in files if f.abs_path in known and known[f.abs_path][2] == f.source_sha256)
    scan = landed_frame(files)
    scan.write_parquet(scan_file)
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


@dg.asset(
    key=["stage", "decoded_documents"],
    deps=[landed_files],
    group_name="ingest",
    kinds={"python", "parquet"},
    description="Files not yet read by this parser version, decoded: text (UTF-8, GB18030/GBK, UTF-16 with BOM), "
    "HTML (charset from BOM, meta tag or bytes), DOCX and PDF (read from the bytes into paragraphs and table rows; "
    "zip bombs, scanned and encrypted PDFs refused with a reason).",
)
def decoded_documents(context: dg.AssetExecutionContext, paths: WarehousePaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    scan = pl.read_parquet(paths.stage_dir / "landing_scan.parquet")
    readable = scan.filter(pl.col("problem").is_null()).sort("source_path").unique("source_sha256", keep="first")
    unreadable = scan.filter(pl.col("problem").is_not_null()).unique("source_sha256", keep="first")
    with connect(paths.warehouse_file) as con:
        todo = shas_needing_parse(con, scan["source_sha256"].to_list(), PARSER_VERSION)
    decoded_dir = _fresh_dir(paths.stage_dir / "decoded")
    writer = _PartWriter(decoded_dir, DECODED_SCHEMA)
    to_read = readable.filter(pl.col("source_sha256").is_in(list(todo)))
    progress = Progress("decoding", to_read.height, _emitter(context))
    pairs = list(zip(abs_paths(to_read), to_read["source_format"].to_list(), strict=True))
    results = read_files(pairs, on_file=progress.advance)
    for rec, (encoding, text, problem, converted) in zip(to_read.iter_rows(named=True), results, strict=True):
        writer.add((rec["source_sha256"], rec["source_path"], rec["source_format"], encoding, text, problem, converted))
    progress.finish()
    for rec in unreadable.filter(pl.col("source_sha256").is_in(list(todo))).iter_rows(named=True):
        writer.add((rec["source_sha256"], rec["source_path"], rec["source_format"], None, None, rec["problem"], False))
    writer.close()
    summary = pl.scan_parquet(decoded_dir / "*.parquet").drop("text").collect() if writer.parts else \
        pl.DataFrame(schema={k: v for k, v in DECODED_SCHEMA.items() if k != "text"})
    ok = summary.filter(pl.col("problem").is_null())
    return dg.MaterializeResult(
        metadata={
            "to_read": len(todo),
            "already_read_by_this_parser": scan["source_sha256"].n_unique() - len(todo),
            "decoded": ok.height,
            "refused": summary.height - ok.height,
            "encodings": dict(Counter(ok["encoding"].to_list())),
            "traditional_converted": int(summary["converted_from_traditional"].sum() or 0),
            "problems": _md_preview(summary.filter(pl.col("problem").is_not_null()).select("source_path", "problem")),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _parse_isolated(chunk: pl.DataFrame, context: dg.AssetExecutionContext) -> ParsedBatch:
    """``parse_documents`` over the chunk; if it raises, the chunk is halved until the documents that
    make it raise are alone, and each of those is quarantined: one document never fails the run."""
    try:
        return parse_documents(chunk)
    except Exception as exc:
        if chunk.height == 1:
            context.log.error(f"parser failed on {chunk['source_path'][0]}: {type(exc).__name__}: {exc}")
            return ParsedBatch(*(getattr(ParsedBatch.empty(), f) for f in RAW_FROM_PARSE), outcomes=pl.DataFrame({
                "source_sha256": chunk["source_sha256"],
                "ingest_status": ["quarantined"],
                "reason": ["the parser failed on this document (an internal error, logged for a fix); not read"],
                "report_id": pl.Series([None], dtype=pl.String),
            }))
        half = chunk.height // 2
        return ParsedBatch.concat([_parse_isolated(chunk.slice(0, half), context),
                                   _parse_isolated(chunk.slice(half), context)])


@dg.asset(
    key=["stage", "parsed_facts"],
    deps=[decoded_documents],
    group_name="ingest",
    kinds={"polars", "parquet"},
    description="Polars parsing of the decoded text into long-form facts, narrative figures and parse warnings.",
)
def parsed_facts(context: dg.AssetExecutionContext, paths: WarehousePaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    decoded_parts = sorted((paths.stage_dir / "decoded").glob("*.parquet"))
    parsed_dir = _fresh_dir(paths.stage_dir / "parsed")
    total = sum(pl.scan_parquet(part).filter(pl.col("problem").is_null()).select(pl.len()).collect().item()
                for part in decoded_parts)
    progress = Progress("parsing", total, _emitter(context), unit="reports", every_seconds=2.0)
    outcomes, rows = [], Counter()
    for part_no, part in enumerate(decoded_parts):
        decoded = pl.read_parquet(part)
        docs = decoded.filter(pl.col("problem").is_null())
        for offset in range(0, docs.height, PARSE_CHUNK):
            chunk = docs.slice(offset, PARSE_CHUNK)
            batch = _parse_isolated(chunk, context)
            # facts go to disk chunk by chunk: memory stays bounded by one chunk however large the landing
            for name in RAW_FROM_PARSE:
                frame = conform(getattr(batch, name), name)
                rows[name] += frame.height
                frame.write_parquet(parsed_dir / f"{name}-{part_no:05d}-{offset:07d}.parquet")
            outcomes.append(batch.outcomes.join(chunk.select("source_sha256", "encoding"), on="source_sha256", how="left"))
            progress.advance(chunk.height)
        outcomes.append(decoded.filter(pl.col("problem").is_not_null()).select(
            "source_sha256",
            pl.lit("quarantined").alias("ingest_status"),
            pl.col("problem").alias("reason"),
            pl.lit(None, pl.String).alias("report_id"),
            "encoding",
        ))
    progress.finish()
    outcomes_frame = pl.concat(outcomes) if outcomes else pl.DataFrame(schema=OUTCOME_SCHEMA)
    outcomes_frame.write_parquet(paths.stage_dir / "parsed_outcomes.parquet")
    elapsed = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "documents": total,
            **{name: rows[name] for name in RAW_FROM_PARSE},
            "by_status": dict(Counter(outcomes_frame["ingest_status"].to_list())),
            "reports_per_second": round(total / elapsed, 1) if elapsed and total else 0.0,
            "seconds": round(elapsed, 3),
        }
    )


RAW_KEYS = ["source_files", "reports", "table_cells", "narrative_facts", "parse_warnings", "ref_row_keys"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", name], deps=[parsed_facts, landed_files], group_name="ingest", kinds={"duckdb"})
        for name in RAW_KEYS
    ],
    description="Loads the parsed frames into DuckDB raw tables, replacing the rows of re-read contents.",
)
def raw_tables(context: dg.AssetExecutionContext, paths: WarehousePaths):
    from datetime import datetime

    from ingest.warehouse import table_counts

    started = time.perf_counter()
    stage = paths.stage_dir
    parts = {name: sorted((stage / "parsed").glob(f"{name}-*.parquet")) for name in RAW_FROM_PARSE}
    outcomes = pl.read_parquet(stage / "parsed_outcomes.parquet").with_columns(
        pl.lit(PARSER_VERSION).alias("parser_version"),
        pl.lit(datetime.now(UTC)).alias("parsed_at"),
    )
    with connect(paths.warehouse_file) as con:
        stored = store_parsed(con, parts, outcomes)
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
