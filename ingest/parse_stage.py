"""One partition of the parse stage: read, decode, front ends, OCR and Polars parsing of the contents
of one hash bucket, written to the shard store as one committed generation (ingest.shards).

Plain library code: the Dagster op in dagster_project/defs/ingest_assets.py only wires it in. A
partition needs the landing files (at the paths the scan recorded) and the shard store, not the
warehouse: partitions may run on other machines than the load step.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ingest import PARSER_VERSION
from ingest.discovery import abs_paths
from ingest.pipeline import ParsedBatch, parse_documents, report_id_expr
from ingest.reader import read_files
from ingest.schemas import conform
from ingest.shards import FACT_TABLES, OUTCOME_SCHEMA, OUTCOMES, ShardStore, bucket_expr, bucket_of

# Documents parsed together in one Polars pass; bounds memory on very large partitions.
PARSE_CHUNK = 2000


def parse_threads() -> int:
    """Chunks parsed at once (``OGI_PARSE_THREADS``, default 1). Most of a parse is inside Polars,
    which releases the GIL, and one chunk already keeps about 1.5 cores busy: two chunks side by side
    parsed 1.18x faster alone on this 2-core machine, but in a whole run, beside the reader's worker
    processes, the 100,000-report parse step was no faster (222 s against 210 s) and the run process
    peaked at 4.3 GiB instead of 2.4. On more cores, with readers to spare, raise it."""
    value = os.environ.get("OGI_PARSE_THREADS", "").strip()
    return max(1, int(value)) if value else 1

Log = Callable[[str], None]


@dataclass
class PartitionResult:
    partition: str
    in_bucket: int = 0
    already_parsed: int = 0
    parsed: int = 0
    generation: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    removed_uncommitted: int = 0
    seconds: float = 0.0


def bucket_todo(scan: pl.DataFrame, partition: str, current: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """The scan rows of this bucket not yet parsed by this parser version (one row per content),
    the bucket's size and how many it already has."""
    index, count = bucket_of(partition)
    bucket = (
        scan.filter(bucket_expr(pl.col("source_sha256"), count) == index)
        .sort("source_path")
        .unique("source_sha256", keep="first", maintain_order=True)
    )
    done = current.filter(pl.col("parser_version") == PARSER_VERSION).select("source_sha256")
    todo = bucket.join(done, on="source_sha256", how="anti")
    return todo, bucket.height, bucket.height - todo.height


@contextlib.contextmanager
def _read_ahead(results: Iterator, depth: int, idle_after: float = 0.25) -> Iterator[Iterator]:
    """``results`` pulled by a thread up to ``depth`` items ahead of the consumer. The reader's loop
    mostly waits on its worker processes, and Polars releases the GIL while it parses, so reading and
    parsing overlap on two cores instead of taking turns. ``IDLE`` is yielded whenever nothing came for
    ``idle_after`` seconds (a scan in OCR): the consumer may parse what it has meanwhile."""
    done = object()
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pull() -> None:
        try:
            for item in results:
                while not stop.is_set():
                    try:
                        ahead.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            ahead.put(exc)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stops the reader's workers

    def items() -> Iterator:
        while True:
            try:
                item = ahead.get(timeout=idle_after)
            except queue.Empty:
                yield IDLE
                continue
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=pull, name="ogi-read-ahead", daemon=True)
    thread.start()
    try:
        yield items()
    finally:
        stop.set()
        thread.join(timeout=30)


def parse_isolated(chunk: pl.DataFrame, log_error: Log) -> ParsedBatch:
    """``parse_documents`` over the chunk; if it raises, the chunk is halved until the documents that
    make it raise are alone, and each of those is quarantined: one document never fails the run."""
    try:
        return parse_documents(chunk)
    except Exception as exc:
        if chunk.height == 1:
            log_error(f"parser failed on {chunk['source_path'][0]}: {type(exc).__name__}: {exc}")
            empty = ParsedBatch.empty()
            return ParsedBatch(empty.reports, empty.table_cells, empty.narrative_facts, empty.parse_warnings,
                               outcomes=pl.DataFrame({
                                   "source_sha256": chunk["source_sha256"],
                                   "ingest_status": ["quarantined"],
                                   "reason": ["the parser failed on this document (an internal error, logged for a "
                                              "fix); not read"],
                                   "report_id": pl.Series([None], dtype=pl.String),
                               }))
        half = chunk.height // 2
        return ParsedBatch.concat([parse_isolated(chunk.slice(0, half), log_error),
                                   parse_isolated(chunk.slice(half), log_error)])


IDLE = object()
_READ_ORDER = {"txt": 0, "md": 0, "unknown": 0, "html": 1, "docx": 2, "doc": 3, "pdf": 4}

_DOC_SCHEMA = {"source_sha256": pl.String, "source_path": pl.String, "source_format": pl.String,
               "encoding": pl.String, "text": pl.String, "problem": pl.String,
               "converted_from_traditional": pl.Boolean}


def parse_partitions(
    store: ShardStore,
    partitions: list[str],
    *,
    log_error: Log = lambda line: None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[], None] | None = None,
    scan: pl.DataFrame | None = None,
    read_workers: int | None = None,
    threads: int | None = None,
) -> list[PartitionResult]:
    """Parse what these buckets lack and commit one generation per bucket. Several buckets in one call
    share one read and parse pass (an in-process run: the fixed cost of a pass is paid once); each
    bucket's facts still go to its own shards and commit. ``read_workers``: reader processes (default
    ``OGI_READ_WORKERS``, else one per core); ``threads``: chunks parsed at once (``parse_threads``).
    The shards do not depend on either: chunks are written in reading order. Safe to re-run at any point: a call killed
    before a commit leaves nothing of that bucket that is read, and the next call redoes its work."""
    started = time.perf_counter()
    commits = store.commits()
    current = store.current_outcomes(commits=commits)
    scan = store.read_scan() if scan is None else scan
    results = {key: PartitionResult(key) for key in partitions}
    todos = []
    for key, result in results.items():
        result.removed_uncommitted = store.remove_uncommitted(key, commits)
        todo, result.in_bucket, result.already_parsed = bucket_todo(scan, key, current)
        todos.append(todo.with_columns(pl.lit(key).alias("partition")))
    todo = pl.concat(todos) if todos else scan.clear().with_columns(pl.lit("").alias("partition"))
    if on_start is not None:
        on_start(todo.height)
    writers = {key: store.writer(key, PARSER_VERSION) for key in partitions}
    of_report = todo.select(report_id_expr(pl.col("source_sha256")).alias("report_id"), "source_sha256", "partition")
    parsed_at = datetime.now(UTC)

    def write(table: str, frame: pl.DataFrame) -> None:
        """Each bucket's rows to its own writer."""
        if frame.is_empty():
            return
        key_col = "source_sha256" if "source_sha256" in frame.columns else "report_id"
        tagged = frame.join(of_report.select(key_col, "partition").unique(key_col), on=key_col, how="left")
        for (key,), part in tagged.partition_by("partition", as_dict=True, maintain_order=True).items():
            writers[key].add(table, part.drop("partition"))

    def emit_outcomes(frame: pl.DataFrame) -> None:
        frame = frame.with_columns(pl.lit(PARSER_VERSION).alias("parser_version"), pl.lit(parsed_at).alias("parsed_at"))
        write(OUTCOMES, frame.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA))

    refused = todo.filter(pl.col("problem").is_not_null())
    # the quick formats first and PDFs (perhaps scans for OCR) last: the documents read early are parsed
    # while the slow ones are still being read
    readable = todo.filter(pl.col("problem").is_null()).sort(
        pl.col("source_format").replace_strict(_READ_ORDER, default=len(_READ_ORDER)), maintain_order=True)
    if not refused.is_empty():
        emit_outcomes(refused.select(
            "source_sha256",
            pl.lit("quarantined").alias("ingest_status"),
            pl.col("problem").alias("reason"),
            pl.lit(None, pl.String).alias("report_id"),
            pl.lit(None, pl.String).alias("encoding"),
        ))
    pairs = list(zip(abs_paths(readable), readable["source_format"].to_list(), strict=True))
    meta = readable.select("source_sha256", "source_path", "source_format").iter_rows()
    buffer: list[tuple] = []
    threads = threads or parse_threads()
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ogi-parse")
    in_flight: deque[tuple[pl.DataFrame, Future]] = deque()

    def write_parsed(docs: pl.DataFrame, parsed: Future) -> None:
        batch = parsed.result()
        for name in FACT_TABLES:
            write(name, conform(getattr(batch, name), name))
        emit_outcomes(batch.outcomes.join(docs.select("source_sha256", "encoding"), on="source_sha256", how="left"))

    def write_finished(wait_for: int) -> None:
        """Write the parsed chunks in the order they were read, until at most ``wait_for`` are pending."""
        while in_flight and (len(in_flight) > wait_for or in_flight[0][1].done()):
            write_parsed(*in_flight.popleft())

    def flush() -> None:
        if not buffer:
            return
        decoded = pl.DataFrame(buffer, schema=_DOC_SCHEMA, orient="row")
        buffer.clear()
        emit_outcomes(decoded.filter(pl.col("problem").is_not_null()).select(
            "source_sha256",
            pl.lit("quarantined").alias("ingest_status"),
            pl.col("problem").alias("reason"),
            pl.lit(None, pl.String).alias("report_id"),
            "encoding",
        ))
        docs = decoded.filter(pl.col("problem").is_null())
        if docs.is_empty():
            return
        # no more chunks in memory than threads parse them
        write_finished(wait_for=threads - 1)
        in_flight.append((docs, pool.submit(parse_isolated, docs, log_error)))

    # the reader workers read the next chunk while this process parses the current ones; while a slow
    # file (OCR) holds the reader up, what has been read is parsed (the facts do not depend on how the
    # documents are chunked)
    try:
        with _read_ahead(read_files(pairs, workers=read_workers), depth=PARSE_CHUNK) as read:
            for item in read:
                if item is IDLE:
                    flush()
                    write_finished(wait_for=threads)
                    continue
                (encoding, text, problem, converted) = item
                sha, path, fmt = next(meta)
                buffer.append((sha, path, fmt, encoding, text, problem, converted))
                if on_file is not None:
                    on_file()
                if len(buffer) >= PARSE_CHUNK:
                    flush()
        flush()
        write_finished(wait_for=0)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for key, writer in writers.items():
        commit = writer.commit()
        result = results[key]
        if commit is not None:
            result.generation = commit.generation
            result.rows = dict(commit.rows)
            result.parsed = commit.rows.get(OUTCOMES, 0)
        result.by_status = dict(writer.statuses)
        result.seconds = time.perf_counter() - started
    return list(results.values())
