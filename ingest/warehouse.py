"""Reading and writing the DuckDB warehouse: raw tables, file outcomes, the serving copy.

Raw tables are keyed by content (``source_sha256`` / ``report_id``): re-running over the same files
replaces their rows with identical ones, adding files adds rows, and a file that left the landing
directory keeps its history (``is_present = false``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest.schemas import RAW_SCHEMA, RAW_TABLES, conform, empty_frame
from ingest.shards import ShardStore

# Per content hash: what reading it gave, with which parser (internal to ingest, not a dbt source).
CONTENT_OUTCOMES = {
    "source_sha256": pl.String,
    "parser_version": pl.String,
    "ingest_status": pl.String,
    "reason": pl.String,
    "report_id": pl.String,
    "encoding": pl.String,
    "parsed_at": pl.Datetime("us", "UTC"),
    # the parse shard generation the rows were loaded from (ingest.shards): a newer one is loaded
    "shard_generation": pl.String,
}

# Every parse of every content, appended: which parser version produced which facts, when.
PARSE_HISTORY = {
    "source_sha256": pl.String,
    "report_id": pl.String,
    "parser_version": pl.String,
    "ingest_status": pl.String,
    "parsed_at": pl.Datetime("us", "UTC"),
    "table_cells": pl.Int64,
    "narrative_facts": pl.Int64,
    "parse_warnings": pl.Int64,
}

# The inputs of the last published refresh (see marts_inputs_fingerprint): lets a run with nothing
# new skip dbt, validation and publishing.
REFRESH_STATE = {"fingerprint": pl.String, "published_at": pl.Datetime("us", "UTC")}

# Content-keyed raw tables replaced per parsed report.
REPORT_TABLES = ("reports", "table_cells", "narrative_facts", "parse_warnings")


def memory_limit() -> str:
    """DuckDB's memory cap for the pipeline's connections and dbt (``OGI_DUCKDB_MEMORY_LIMIT``).
    DuckDB's own default is 80 % of the machine; with a cap it spills to disk instead, so a run at
    national scale stays within a few GiB."""
    return os.environ.get("OGI_DUCKDB_MEMORY_LIMIT", "2GB")


def limit_memory(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # a runtime setting, not connection config: connections to one file in one process must agree on config
    con.execute("set memory_limit = ?", [memory_limit()])
    return con


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return limit_memory(duckdb.connect(str(path), read_only=read_only))


def lock_path_for(warehouse: str | Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


class WarehouseLock:
    """The one-writer lock of a warehouse: an exclusive ``flock`` on ``<warehouse>.lock``.

    Re-entrant within a process (the ``ogi run`` command holds it around the Dagster run, whose
    resource takes it again, and a second ``flock`` on a new descriptor would wait for itself);
    other threads and processes wait until the holder releases it.
    """

    _registry: dict[str, WarehouseLock] = {}
    _registry_guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._state = threading.Condition()
        self._owner: int | None = None  # thread holding (or taking) the lock
        self._depth = 0
        self._fd: int | None = None

    @classmethod
    def for_warehouse(cls, warehouse: str | Path) -> WarehouseLock:
        return cls.for_path(lock_path_for(warehouse))

    @classmethod
    def for_steps_of_a_run(cls, warehouse: str | Path) -> WarehouseLock:
        """The lock the step processes of one run take in turn while a process that started them holds
        the warehouse lock for the whole run (``held_by_ancestor``): its steps open DuckDB one at a time."""
        warehouse = Path(warehouse)
        return cls.for_path(warehouse.with_name(warehouse.name + ".steps.lock"))

    @classmethod
    def for_path(cls, lock_file: str | Path) -> WarehouseLock:
        path = os.path.realpath(lock_file)
        with cls._registry_guard:
            return cls._registry.setdefault(path, cls(path))

    def acquire(self, on_wait: Callable[[], None] | None = None) -> float:
        """Block until held; returns the seconds waited. ``on_wait`` is called once if another holds it."""
        started = time.monotonic()
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return 0.0
            if self._owner is not None and on_wait is not None:
                on_wait()
                on_wait = None
            while self._owner is not None:
                self._state.wait()
            self._owner = me
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            with self._state:
                self._owner = None
                self._state.notify_all()
            raise
        with self._state:
            self._fd, self._depth = fd, 1
        return time.monotonic() - started

    def is_held(self) -> bool:
        """Held by this process (any thread)."""
        with self._state:
            return self._fd is not None

    def release(self) -> None:
        """Any thread may release (Dagster may tear a resource down on another thread than set it up)."""
        with self._state:
            self._depth -= 1
            if self._depth > 0:
                return
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None
            self._owner = None
            self._state.notify_all()


LOCK_HOLDER_ENV = "OGI_WAREHOUSE_LOCK_HOLDER"


def lock_holder_value(warehouse: str | Path) -> str:
    """What a process holding a warehouse's lock puts in ``OGI_WAREHOUSE_LOCK_HOLDER`` for the step
    processes it starts (an out-of-process executor): ``<pid>:<lock path>``."""
    return f"{os.getpid()}:{os.path.realpath(lock_path_for(warehouse))}"


def held_by_ancestor(warehouse: str | Path) -> bool:
    """True when a process that started this one holds the warehouse's lock for it (see
    ``lock_holder_value``): a step of that run must not wait for its own run's lock."""
    value = os.environ.get(LOCK_HOLDER_ENV, "")
    pid, _, path = value.partition(":")
    if not pid.isdigit() or path != os.path.realpath(lock_path_for(warehouse)):
        return False
    current = os.getppid()
    while current > 1:
        if current == int(pid):
            return True
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            return False
        current = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)
    return False


@contextlib.contextmanager
def warehouse_lock(warehouse: str | Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's one-writer lock for the block (see ``WarehouseLock``)."""
    lock = WarehouseLock.for_warehouse(warehouse)
    lock.acquire(on_wait)
    try:
        yield
    finally:
        lock.release()


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for table in RAW_TABLES:
        _create_if_missing(con, table, empty_frame(table))
    _create_if_missing(con, "content_outcomes", pl.DataFrame(schema=CONTENT_OUTCOMES))
    _create_if_missing(con, "parse_history", pl.DataFrame(schema=PARSE_HISTORY))
    _create_if_missing(con, "refresh_state", pl.DataFrame(schema=REFRESH_STATE))


def _create_if_missing(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Create the table, or add the columns a newer schema has (a warehouse outlives versions)."""
    con.register("_empty_frame", frame.to_arrow())
    con.execute(f"create table if not exists {RAW_SCHEMA}.{table} as select * from _empty_frame")
    have = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, table],
        ).fetchall()
    }
    for column in frame.columns:
        if column not in have:
            con.execute(f"alter table {RAW_SCHEMA}.{table} add column {column} {_duckdb_type(con, column)}")
    con.unregister("_empty_frame")


def _duckdb_type(con: duckdb.DuckDBPyConnection, column: str) -> str:
    return con.execute(
        "select column_type from (describe select * from _empty_frame) where column_name = ?", [column]
    ).fetchone()[0]


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    con.register("_insert_frame", frame.to_arrow())
    cols = ", ".join(frame.columns)
    con.execute(f"insert into {RAW_SCHEMA}.{table} ({cols}) select {cols} from _insert_frame")
    con.unregister("_insert_frame")


def merge_landed(con: duckdb.DuckDBPyConnection, scan: pl.DataFrame) -> dict[str, int]:
    """Record a discovery scan: new (path, sha) rows, last_seen_at, and who left the landing dir."""
    ensure_raw_schema(con)
    now = datetime.now(UTC)
    current = conform(scan.with_columns(pl.lit(now).alias("first_seen_at"), pl.lit(now).alias("last_seen_at"),
                                        pl.lit(True).alias("is_present")), "landed_files")
    con.register("_scan", current.to_arrow())
    new = con.execute(
        f"""select count(*) from _scan s where not exists (select 1 from {RAW_SCHEMA}.landed_files l
             where l.source_path = s.source_path and l.source_sha256 = s.source_sha256)"""
    ).fetchone()[0]
    con.execute(
        f"""update {RAW_SCHEMA}.landed_files l set is_present = exists (select 1 from _scan s
             where s.source_path = l.source_path and s.source_sha256 = l.source_sha256),
             last_seen_at = case when exists (select 1 from _scan s where s.source_path = l.source_path
             and s.source_sha256 = l.source_sha256) then ? else l.last_seen_at end""",
        [now],
    )
    con.execute(
        f"""insert into {RAW_SCHEMA}.landed_files select s.* from _scan s where not exists (select 1 from
             {RAW_SCHEMA}.landed_files l where l.source_path = s.source_path and l.source_sha256 = s.source_sha256)"""
    )
    con.unregister("_scan")
    gone = con.execute(f"select count(*) from {RAW_SCHEMA}.landed_files where not is_present").fetchone()[0]
    return {"files_seen": current.height, "new_file_versions": int(new), "no_longer_present": int(gone)}


def load_shards(con: duckdb.DuckDBPyConnection, store: ShardStore, present: pl.DataFrame) -> dict[str, int]:
    """Bring the raw tables up to date with the parse shards, in one transaction.

    For every content in ``present`` (the landing scan's ``source_sha256``) whose newest committed
    parse is not the one loaded (new content, a re-parse by a newer parser, a warehouse rebuilt from
    its shards, content forgotten and landed again), its rows are replaced by that parse's. DuckDB
    streams the shard files in: memory does not grow with the landing. Returns rows inserted per table.
    """
    ensure_raw_schema(con)
    commits = store.commits()
    store.connect(con)
    current = store.current_outcomes(commits)
    con.register("_current", current.to_arrow())
    con.register("_present", present.select("source_sha256").unique().to_arrow())
    need = con.execute(
        f"""select c.* from _current c
            where c.source_sha256 in (select source_sha256 from _present)
              and not exists (select 1 from {RAW_SCHEMA}.content_outcomes o
                              where o.source_sha256 = c.source_sha256
                                and o.shard_generation is not distinct from c.generation)"""
    ).pl()
    con.unregister("_current")
    con.unregister("_present")
    inserted: dict[str, int] = dict.fromkeys(REPORT_TABLES, 0)
    if need.is_empty():
        inserted["values_kept_as_text"] = 0
        inserted["contents"] = 0
        return inserted
    generations = set(need["generation"].to_list())
    files = {t: [(store.uri(f), c.generation) for c in commits if c.generation in generations
                 for f in c.files.get(t, [])] for t in REPORT_TABLES}
    con.execute("begin transaction")
    try:
        con.register("_need", need.select("source_sha256", "generation", "report_id").to_arrow())
        ids = "select 'rpt_' || substr(source_sha256, 1, 20) from _need"
        for table in REPORT_TABLES:
            con.execute(f"delete from {RAW_SCHEMA}.{table} where report_id in ({ids})")
        con.execute(f"delete from {RAW_SCHEMA}.content_outcomes where source_sha256 in (select source_sha256 from _need)")
        for table in REPORT_TABLES:
            inserted[table] = _insert_shards(con, table, files[table])
        outcomes = need.rename({"generation": "shard_generation"}).select(list(CONTENT_OUTCOMES)).cast(CONTENT_OUTCOMES)
        _insert(con, "content_outcomes", outcomes)
        _insert(con, "parse_history", _history_rows(con, files, outcomes))
        con.unregister("_need")
        inserted["values_kept_as_text"] = repair_unstorable_values(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    inserted["contents"] = need.height
    return inserted


# Above this a DOUBLE no longer holds every integer exactly, and the marts' BIGINT casts may fail
# (a 23-digit cell once broke every later dbt run): such a value is kept as text, never stored.
MAX_EXACT_INTEGER = 2**53
_UNSTORABLE = f"(value is not null and (isnan(value) or isinf(value) or abs(value) > {MAX_EXACT_INTEGER}))"
_UNSTORABLE_DETAIL = (
    f"a number too large to store exactly (beyond 2^53 = {MAX_EXACT_INTEGER}); kept as text, no value"
)


def repair_unstorable_values(con: duckdb.DuckDBPyConnection) -> int:
    """Values the marts cannot hold become text: ``cell_state = 'text'`` and no value in
    ``raw.table_cells``, no value in ``raw.narrative_facts``, each with a ``value_not_storable``
    warning, and the report partial. Run at every load over the whole raw tables, so a warehouse
    whose history already holds such a value (written by an older parser) is repaired by the next
    run. Returns the number of values repaired."""
    cells = con.execute(f"select count(*) from {RAW_SCHEMA}.table_cells where {_UNSTORABLE}").fetchone()[0]
    facts = con.execute(f"select count(*) from {RAW_SCHEMA}.narrative_facts where {_UNSTORABLE}").fetchone()[0]
    if not cells and not facts:
        return 0
    con.execute(
        f"""insert into {RAW_SCHEMA}.parse_warnings
                (report_id, source_sha256, table_id, row_key, code, severity, detail, raw_text, locator)
            select c.report_id, r.source_sha256, c.table_id, c.row_key, 'value_not_storable', 'warn', ?,
                   c.raw_text, c.locator
            from {RAW_SCHEMA}.table_cells c left join {RAW_SCHEMA}.reports r using (report_id)
            where {_UNSTORABLE.replace("value", "c.value")}
            union all
            select n.report_id, r.source_sha256, null, n.metric, 'value_not_storable', 'warn', ?,
                   n.evidence, n.locator
            from {RAW_SCHEMA}.narrative_facts n left join {RAW_SCHEMA}.reports r using (report_id)
            where {_UNSTORABLE.replace("value", "n.value")}""",
        [_UNSTORABLE_DETAIL, _UNSTORABLE_DETAIL],
    )
    affected = f"""select report_id from {RAW_SCHEMA}.table_cells where {_UNSTORABLE}
                   union select report_id from {RAW_SCHEMA}.narrative_facts where {_UNSTORABLE}"""
    con.execute(f"update {RAW_SCHEMA}.reports set parse_status = 'partial' where report_id in ({affected})")
    con.execute(
        f"""update {RAW_SCHEMA}.content_outcomes set ingest_status = 'partial',
                reason = coalesce(reason || '; ', '') || 'a number too large to store exactly was kept as text'
            where ingest_status in ('parsed', 'partial') and report_id in ({affected})"""
    )
    con.execute(f"update {RAW_SCHEMA}.table_cells set cell_state = 'text', value = null where {_UNSTORABLE}")
    con.execute(f"update {RAW_SCHEMA}.narrative_facts set value = null where {_UNSTORABLE}")
    # the raw tables changed under the recorded refresh: the marts must be rebuilt
    con.execute(f"delete from {RAW_SCHEMA}.refresh_state")
    return int(cells + facts)


def _insert_shards(con: duckdb.DuckDBPyConnection, table: str, files: list[tuple[str, str]]) -> int:
    """Insert the rows of the contents in ``_need`` from their own generation's shard files (a file of
    that generation may hold other contents, whose newest parse is elsewhere)."""
    if not files:
        return 0
    cols = ", ".join(f"t.{c}" for c in RAW_TABLES[table])
    con.register("_files", pl.DataFrame(files, schema=["filename", "generation"], orient="row").to_arrow())
    before = con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0]
    con.execute(
        f"""insert into {RAW_SCHEMA}.{table} ({", ".join(RAW_TABLES[table])})
            select {cols} from read_parquet({_parquet_list([f for f, _ in files])}, filename = true,
                                            union_by_name = true) t
            join _files f using (filename)
            join _need n on n.report_id = t.report_id and n.generation = f.generation"""
    )
    con.unregister("_files")
    return con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0] - before


def _parquet_list(files: list[str]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _history_rows(con: duckdb.DuckDBPyConnection, files: dict[str, list[tuple[str, str]]],
                  outcomes: pl.DataFrame) -> pl.DataFrame:
    rows = outcomes.select("source_sha256", "report_id", "parser_version", "ingest_status", "parsed_at")
    for name in ("table_cells", "narrative_facts", "parse_warnings"):
        counts = con.execute(
            f"select report_id, count(*)::bigint as {name} from {RAW_SCHEMA}.{name} "
            "where report_id in (select report_id from _need) group by report_id"
        ).pl()
        rows = rows.join(counts, on="report_id", how="left")
    return rows.with_columns(pl.col("table_cells", "narrative_facts", "parse_warnings").fill_null(0)).select(
        list(PARSE_HISTORY)
    ).cast(PARSE_HISTORY)


def rebuild_source_files(con: duckdb.DuckDBPyConnection) -> None:
    """One row per file version ever seen; copies of the same bytes under another name are duplicates."""
    ensure_raw_schema(con)
    con.execute(
        f"""
        create or replace table {RAW_SCHEMA}.source_files as
        with ranked as (
            select l.*, row_number() over (
                partition by l.source_sha256 order by l.first_seen_at, l.source_path) as copy_rank,
                first_value(l.source_path) over (
                partition by l.source_sha256 order by l.first_seen_at, l.source_path) as original_path
            from {RAW_SCHEMA}.landed_files l
        )
        select
            r.source_path,
            r.source_sha256,
            r.bytes,
            r.source_format,
            case
                when o.ingest_status is null then 'quarantined'
                when r.copy_rank > 1 and o.ingest_status in ('parsed', 'partial') then 'duplicate'
                else o.ingest_status
            end as ingest_status,
            case
                when o.ingest_status is null then 'not read yet: the file has no parse outcome'
                when r.copy_rank > 1 and o.ingest_status in ('parsed', 'partial')
                    then 'same bytes as ' || r.original_path
                else o.reason
            end as reason,
            o.report_id,
            o.encoding,
            r.first_seen_at,
            o.parser_version
        from ranked r
        left join {RAW_SCHEMA}.content_outcomes o using (source_sha256)
        """
    )


def marts_inputs_fingerprint(con: duckdb.DuckDBPyConnection, code_version: str) -> str:
    """A digest of everything the marts are built from: which files are present (not when they were
    last seen), every parse stored, every file outcome, and ``code_version`` (dbt models, rules,
    parser). Equal digests mean a rebuild would produce the same marts."""
    ensure_raw_schema(con)
    landed, parses, outcomes = con.execute(
        f"""
        select
            (select count(*) || ':' || coalesce(bit_xor(hash(source_path, source_sha256, is_present, first_seen_at)), 0)
             from {RAW_SCHEMA}.landed_files),
            (select count(*) || ':' || coalesce(max(parsed_at)::varchar, '') from {RAW_SCHEMA}.parse_history),
            (select count(*) || ':' || coalesce(bit_xor(hash(source_path, source_sha256, ingest_status, reason,
                                                              report_id, parser_version)), 0)
             from {RAW_SCHEMA}.source_files)
        """
    ).fetchone()
    return hashlib.sha256("|".join((landed, parses, outcomes, code_version)).encode()).hexdigest()


def published_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The marts_inputs_fingerprint of the last refresh that published a serving copy."""
    ensure_raw_schema(con)
    row = con.execute(
        f"select fingerprint from {RAW_SCHEMA}.refresh_state order by published_at desc limit 1"
    ).fetchone()
    return row[0] if row else None


def record_published(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    ensure_raw_schema(con)
    con.execute(f"delete from {RAW_SCHEMA}.refresh_state")
    con.execute(f"insert into {RAW_SCHEMA}.refresh_state values (?, ?)", [fingerprint, datetime.now(UTC)])


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, schema: dict) -> None:
    """A raw table owned by another package (e.g. the rule suites' validation state)."""
    ensure_raw_schema(con)
    _create_if_missing(con, table, pl.DataFrame(schema=schema))


def replace_table_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace a raw table that is not one of the conformed RAW_TABLES with ``frame`` as it is."""
    con.register("_replace_frame", frame.to_arrow())
    con.execute(f"create or replace table {RAW_SCHEMA}.{table} as select * from _replace_frame")
    con.unregister("_replace_frame")


def merge_rule_results(
    con: duckdb.DuckDBPyConnection, results: pl.DataFrame, validated: pl.DataFrame, current: pl.DataFrame
) -> None:
    """Replace the rule results of the ``validated`` reports and drop those of reports no longer
    ``current`` (superseded or gone), in one transaction."""
    ensure_raw_schema(con)
    con.execute("begin transaction")
    try:
        con.register("_validated", validated.select("report_id").to_arrow())
        con.register("_current", current.select("report_id").to_arrow())
        con.execute(
            f"""delete from {RAW_SCHEMA}.rule_results where report_id in (select report_id from _validated)
                 or report_id not in (select report_id from _current)"""
        )
        con.unregister("_validated")
        con.unregister("_current")
        _insert(con, "rule_results", conform(results, "rule_results"))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace one of the RAW_TABLES with ``frame`` conformed to its schema."""
    ensure_raw_schema(con)
    replace_table_frame(con, table, conform(frame, table))


def table_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()
    ]
    return {t: con.execute(f"select count(*) from {schema}.{t}").fetchone()[0] for t in tables}


def serving_path_for(warehouse: str | Path) -> Path:
    """``data/warehouse.duckdb`` -> ``data/warehouse.serving.duckdb`` (contract)."""
    warehouse = Path(warehouse)
    return warehouse.with_name(f"{warehouse.stem}.serving{warehouse.suffix or '.duckdb'}")


# Bytes copied per read and write of ``copy_uncached``.
UNCACHED_COPY_CHUNK = 16 << 20


def copy_uncached(source: str | Path, target: str | Path) -> None:
    """Copy a file, writing the copy around the page cache (O_DIRECT) where the platform, the file
    system and the device allow it, else as ``shutil.copyfile`` does.

    Why: the serving copy is as large as the warehouse (1 GiB at 100,000 reports), and writing it
    through the page cache means finding 1 GiB of fresh page-cache memory. On this project's
    virtual machines that is where the time went: in a +1,000 run the copy took 2.3-2.8 s, all of it
    kernel time, against 0.35 s when the pages had just been freed by the same copy. Written
    directly (the source is read through the cache, where the run has just left it) the copy takes
    0.9-1.0 s whatever state the memory is in. The copy is opened by DuckDB right after, which reads
    only its catalogue; BI tools then read it from disk, as they would after any reboot."""
    if not _copy_direct(source, target):
        shutil.copyfile(source, target)  # a full disk fails here too, with its own error


def _copy_direct(source: str | Path, target: str | Path) -> bool:
    """``copy_uncached`` with direct I/O; False when there is none: no O_DIRECT on the platform
    (macOS), a file system that refuses it at open (tmpfs, some network file systems), or a device
    that takes it at open but refuses the writes (a larger sector size)."""
    import mmap

    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return False
    try:
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct, 0o644)
    except OSError:
        return False
    buffer = mmap.mmap(-1, UNCACHED_COPY_CHUNK)  # page-aligned, as direct I/O requires
    view = memoryview(buffer)
    try:
        with open(source, "rb", buffering=0) as src:
            offset = 0
            while n := src.readinto(view):
                if n % mmap.PAGESIZE:
                    # a piece that is not a whole number of pages (the file's last): the rest through the cache
                    fcntl.fcntl(out, fcntl.F_SETFL, fcntl.fcntl(out, fcntl.F_GETFL) & ~direct)
                written = 0
                while written < n:
                    written += os.pwrite(out, view[written:n], offset + written)
                offset += n
        return True
    except OSError:
        return False
    finally:
        os.close(out)
        view.release()
        buffer.close()


def publish_serving_copy(warehouse: str | Path, schemas: tuple[str, ...] = ("marts",)) -> dict[str, int]:
    """Copy the warehouse file, keep only ``schemas`` (their tables) in the copy, then rename it over
    the serving copy (atomic on POSIX).

    A file copy runs at disk speed where re-inserting the marts row by row took half a minute at
    national scale; the price is a serving file that keeps the dropped schemas' blocks as free space.
    Readers holding the old serving file keep reading the old inode; new connections see the new
    data; a crash before the rename leaves the previous serving copy intact.
    """
    serving = serving_path_for(warehouse)
    # a run killed while publishing leaves its temporary file behind; runs are serialised, so any
    # temporary file found now is stale
    for stale in serving.parent.glob(serving.name + ".tmp-*"):
        stale.unlink(missing_ok=True)
    tmp = serving.with_name(serving.name + f".tmp-{os.getpid()}")
    # after a checkpoint the file holds every committed change (nothing left in the write-ahead log)
    with connect(warehouse) as con:
        con.execute("checkpoint")
    copy_uncached(warehouse, tmp)
    counts: dict[str, int] = {}
    con = limit_memory(duckdb.connect(str(tmp)))
    try:
        for (schema,) in con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database() and not internal"
        ).fetchall():
            if schema not in schemas:
                con.execute(f'drop schema "{schema}" cascade')
        for (schema, view) in con.execute(
            "select schema_name, view_name from duckdb_views() where database_name = current_database() "
            "and not internal"
        ).fetchall():
            con.execute(f'drop view "{schema}"."{view}"')
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = 'main'"
        ).fetchall():
            con.execute(f'drop table main."{table}"')
        for schema in schemas:
            for (table,) in con.execute(
                "select table_name from duckdb_tables() where database_name = current_database() "
                "and schema_name = ? order by 1",
                [schema],
            ).fetchall():
                counts[f"{schema}.{table}"] = con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
        con.execute("checkpoint")
    finally:
        con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, serving)
    return counts


# digests that include when a content was parsed (see marts_differences)
RUN_DEPENDENT_COLUMNS = {"report_fingerprint"}


def marts_differences(first: str | Path, second: str | Path, schema: str = "marts") -> dict[str, tuple[int, int, int]]:
    """Per table of ``schema`` in either file: (rows in the first, rows only in the first, rows only in
    the second), as multisets (a duplicated row counts). Columns that say when a run happened are left
    out: timestamps, and digests over them (``dim_report.report_fingerprint`` includes the parse time,
    for the incremental marts); a table missing from one file counts all its rows as only in the other."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{first}' as a (read_only)")
        con.execute(f"attach '{second}' as b (read_only)")

        def tables(db: str) -> set[str]:
            return {r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = ? and schema_name = ?",
                [db, schema]).fetchall()}

        out: dict[str, tuple[int, int, int]] = {}
        in_a, in_b = tables("a"), tables("b")
        for table in sorted(in_a | in_b):
            if table not in in_a or table not in in_b:
                db = "a" if table in in_a else "b"
                n = con.execute(f'select count(*) from {db}.{schema}."{table}"').fetchone()[0]
                out[table] = (n if db == "a" else 0, n if db == "a" else 0, n if db == "b" else 0)
                continue
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'a' and schema_name = ? "
                "and table_name = ? and data_type not like 'TIMESTAMP%' order by column_index",
                [schema, table]).fetchall() if r[0] not in RUN_DEPENDENT_COLUMNS]
            cols = ", ".join(f'"{c}"' for c in columns)
            a, b = f'a.{schema}."{table}"', f'b.{schema}."{table}"'
            n = con.execute(f"select count(*) from {a}").fetchone()[0]
            only_a = con.execute(f"select count(*) from (select {cols} from {a} except all select {cols} from {b})").fetchone()[0]
            only_b = con.execute(f"select count(*) from (select {cols} from {b} except all select {cols} from {a})").fetchone()[0]
            out[table] = (n, only_a, only_b)
        return out
    finally:
        con.close()
