"""Ingest stages as assets: discovery -> decoding -> Polars parsing -> DuckDB raw tables."""


import time
from collections import Counter
from datetime import UTC

import dagster as dg
import polars as pl

from dagster_project.defs.resources import WarehousePaths
from ingest import PARSER_VERSION
from ingest.decoding import decode_bytes
from ingest.discovery import landed_frame, read_bytes, scan_landing
from ingest.frontends import SUPPORTED_FORMATS, TEXT_FORMATS
from ingest.pipeline import ParsedBatch, parse_documents
from ingest.registry import registry
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
RAW_FROM_PARSE = ["reports", "table_cells", "narrative_facts", "parse_warnings"]


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
    files = scan_landing(paths.landing) if paths.landing.exists() else []
    if not paths.landing.exists():
        context.log.warning(f"landing directory {paths.landing} does not exist: nothing to ingest")
    scan = landed_frame(files)
    scan.write_parquet(paths.stage_dir / "landing_scan.parquet")
    with connect(paths.warehouse_file) as con:
        stats = merge_landed(con, scan)
    by_format = Counter(scan["source_format"].to_list())
    return dg.MaterializeResult(
        metadata={
            **stats,
            "landing_dir": str(paths.landing),
            "by_format": dict(by_format),
            "preview": _md_preview(scan.select("source_path", "bytes", "source_format", "problem")),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _decode_structured(fmt: str, data: bytes) -> tuple[str | None, str | None, str | None, bool]:
    """HTML (charset from BOM / meta / bytes), DOCX and PDF -> their front end's blocks (paragraphs
    and expanded table rows) as JSON, read here from the bytes so that the parse stage never needs the
    file and a file no front end can read is quarantined with its reason. -> (text, encoding, problem,
    converted_from_traditional)."""
    from ingest.decoding import _is_traditional, _to_simplified
    from ingest.frontends import rows

    encoding = fmt
    try:
        if fmt == "html":
            from ingest.frontends import html

            page, encoding, problem = html.decode_html(data)
            if problem is not None:
                return None, None, problem, False
            blocks, problem = html.extract(page), None
        elif fmt == "docx":
            from ingest.frontends import docx

            blocks, problem = docx.read(data)
        else:
            from ingest.frontends import pdf

            blocks, problem = pdf.read(data)
    except Exception as e:  # one hostile file never stops the batch: it is recorded with the reason
        return None, None, f"{fmt} front end failed: {type(e).__name__}: {e}"[:300], False
    if problem is not None:
        return None, None, problem, False
    payload = rows.dumps(blocks)
    if _is_traditional(payload):
        return _to_simplified(payload), encoding, None, True
    return payload, encoding, None, False


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
    rows = []
    for rec in readable.filter(pl.col("source_sha256").is_in(list(todo))).iter_rows(named=True):
        text = encoding = problem = None
        converted = False
        if rec["source_format"] in TEXT_FORMATS or rec["source_format"] == "unknown":
            decoded = decode_bytes(read_bytes(rec["abs_path"]))
            text, encoding, problem = decoded.text, decoded.encoding, decoded.problem
            converted = decoded.converted_from_traditional
            if problem is None and rec["source_format"] == "unknown":
                problem = "unrecognised file format"
        elif rec["source_format"] in SUPPORTED_FORMATS:
            text, encoding, problem, converted = _decode_structured(rec["source_format"], read_bytes(rec["abs_path"]))
        else:
            problem = f"{rec['source_format']} files are not read by parser {PARSER_VERSION}"
        rows.append((rec["source_sha256"], rec["source_path"], rec["source_format"], encoding, text, problem, converted))
    for rec in unreadable.filter(pl.col("source_sha256").is_in(list(todo))).iter_rows(named=True):
        rows.append((rec["source_sha256"], rec["source_path"], rec["source_format"], None, None, rec["problem"], False))
    decoded_frame = pl.DataFrame(
        rows,
        schema={
            "source_sha256": pl.String,
            "source_path": pl.String,
            "source_format": pl.String,
            "encoding": pl.String,
            "text": pl.String,
            "problem": pl.String,
            "converted_from_traditional": pl.Boolean,
        },
        orient="row",
    )
    decoded_frame.write_parquet(paths.stage_dir / "decoded.parquet")
    ok = decoded_frame.filter(pl.col("problem").is_null())
    return dg.MaterializeResult(
        metadata={
            "to_read": len(todo),
            "already_read_by_this_parser": scan["source_sha256"].n_unique() - len(todo),
            "decoded": ok.height,
            "refused": decoded_frame.height - ok.height,
            "encodings": dict(Counter(ok["encoding"].to_list())),
            "traditional_converted": int(decoded_frame["converted_from_traditional"].sum() or 0),
            "problems": _md_preview(decoded_frame.filter(pl.col("problem").is_not_null()).select("source_path", "problem")),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(
    key=["stage", "parsed_facts"],
    deps=[decoded_documents],
    group_name="ingest",
    kinds={"polars", "parquet"},
    description="Polars parsing of the decoded text into long-form facts, narrative figures and parse warnings.",
)
def parsed_facts(context: dg.AssetExecutionContext, paths: WarehousePaths) -> dg.MaterializeResult:
    started = time.perf_counter()
    decoded = pl.read_parquet(paths.stage_dir / "decoded.parquet")
    docs = decoded.filter(pl.col("problem").is_null())
    batches = []
    for offset in range(0, docs.height, PARSE_CHUNK):
        batches.append(parse_documents(docs.slice(offset, PARSE_CHUNK)))
        context.log.info(f"parsed {min(offset + PARSE_CHUNK, docs.height)}/{docs.height} documents")
    batch = ParsedBatch.concat(batches)
    refused = decoded.filter(pl.col("problem").is_not_null()).select(
        "source_sha256",
        pl.lit("quarantined").alias("ingest_status"),
        pl.col("problem").alias("reason"),
        pl.lit(None, pl.String).alias("report_id"),
    )
    outcomes = pl.concat([batch.outcomes, refused]).join(
        decoded.select("source_sha256", "encoding"), on="source_sha256", how="left"
    )
    stage = paths.stage_dir
    for name in RAW_FROM_PARSE:
        getattr(batch, name).write_parquet(stage / f"parsed_{name}.parquet")
    outcomes.write_parquet(stage / "parsed_outcomes.parquet")
    elapsed = time.perf_counter() - started
    return dg.MaterializeResult(
        metadata={
            "documents": docs.height,
            "reports": batch.reports.height,
            "table_cells": batch.table_cells.height,
            "narrative_facts": batch.narrative_facts.height,
            "parse_warnings": batch.parse_warnings.height,
            "by_status": dict(Counter(outcomes["ingest_status"].to_list())),
            "reports_per_second": round(docs.height / elapsed, 1) if elapsed and docs.height else 0.0,
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
    frames = {name: pl.read_parquet(stage / f"parsed_{name}.parquet") for name in RAW_FROM_PARSE}
    outcomes = pl.read_parquet(stage / "parsed_outcomes.parquet").with_columns(
        pl.lit(PARSER_VERSION).alias("parser_version"),
        pl.lit(datetime.now(UTC)).alias("parsed_at"),
    )
    with connect(paths.warehouse_file) as con:
        store_parsed(con, frames, outcomes)
        rebuild_source_files(con)
        replace_table(con, "ref_row_keys", registry().ref_row_keys())
        counts = table_counts(con, "raw")
    elapsed = round(time.perf_counter() - started, 3)
    for name in RAW_KEYS:
        yield dg.MaterializeResult(
            asset_key=["raw", name],
            metadata={"row_count": counts.get(name, 0), "rows_from_this_run": frames[name].height if name in frames else None,
                      "seconds": elapsed},
        )
