"""Parse shards: the parse stage's output as Parquet files on a local disk or an object store.

The parse stage runs as partitions (hash buckets of ``source_sha256``), possibly on many machines that
share nothing but this store. Each partition run writes one *generation*:

    <root>/<table>/<partition>/part-<generation>-<chunk>.parquet   facts, one file per table and chunk
    <root>/_commits/<partition>/<generation>.json                   the commit: the generation's files

A generation exists only once its commit file is written (written last, in one rename on a local
disk or one PUT on an object store): a partition killed mid-write leaves parts that no commit names,
which no reader reads and the partition's next run deletes. Generation names start with the UTC time
of the write, so across all partitions the newest generation holding a content is its current parse
(a content re-parsed by a new parser version, or a bucket count changed, simply has a newer one).

The store is addressed by URL (``fsspec``): a folder path, ``file://…``, ``s3://bucket/prefix`` (s3fs)
or any other fsspec protocol whose package is installed; ``storage_options`` go to the filesystem
(e.g. ``endpoint_url`` for an S3-compatible server). DuckDB reads the shards through the same
filesystem object, so no credentials are configured twice.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import fsspec
import polars as pl

# what a partition writes per generation: the four content-keyed raw tables and the file outcomes
FACT_TABLES = ("reports", "table_cells", "narrative_facts", "parse_warnings")
OUTCOMES = "outcomes"
SHARD_TABLES = (*FACT_TABLES, OUTCOMES)
COMMITS = "_commits"
LANDING_SCAN = "_landing/landing_scan.parquet"

OUTCOME_SCHEMA = {
    "source_sha256": pl.String,
    "ingest_status": pl.String,
    "reason": pl.String,
    "report_id": pl.String,
    "encoding": pl.String,
    "parser_version": pl.String,
    "parsed_at": pl.Datetime("us", "UTC"),
}


def partition_keys(count: int) -> list[str]:
    """``count`` hash buckets named with the count (``03-of-08``): changing the count makes new
    partitions, never a bucket that means two things."""
    width = max(2, len(str(count - 1)))
    return [f"{i:0{width}d}-of-{count:0{width}d}" for i in range(count)]


def bucket_of(key: str) -> tuple[int, int]:
    """``03-of-08`` -> (3, 8)."""
    index, _, count = key.partition("-of-")
    return int(index), int(count)


def bucket_expr(sha: pl.Expr, count: int) -> pl.Expr:
    """The bucket of a content: its sha256 read as a number, modulo the bucket count. Uniform (a hash)
    and stable (the content's own key): a file always lands in the same partition. The placeholder key
    of a file discovery could not hash (``unread:…``) is not hex: those few go to bucket 0."""
    return sha.str.slice(0, 12).str.to_integer(base=16, strict=False).fill_null(0) % count


def new_generation() -> str:
    """Sortable by write time (UTC, to the microsecond), unique across machines."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Commit:
    generation: str
    partition: str
    parser_version: str
    files: dict[str, list[str]]  # table -> paths relative to the root
    rows: dict[str, int]


class ShardStore:
    """The parse shards under one URL (see the module docstring)."""

    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        self.url = url
        self.fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.root = root.rstrip("/")
        self.is_local = "file" in (self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,))

    # ---- paths
    def _path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def uri(self, relative: str) -> str:
        """A path DuckDB (with ``register``) and fsspec both open."""
        path = self._path(relative)
        if self.is_local:
            return path
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"{protocol}://{path}"

    # ---- writing
    def _write_atomic(self, relative: str, data: bytes) -> None:
        path = self._path(relative)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        if self.is_local:
            tmp = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        else:
            # an object store's PUT is atomic: readers see the whole object or none
            self.fs.pipe_file(path, data)

    def write_frame(self, relative: str, frame: pl.DataFrame) -> None:
        path = self._path(relative)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(path, "wb") as fh:
            frame.write_parquet(fh)

    def write_scan(self, scan: pl.DataFrame) -> None:
        """The landing scan every partition reads (partitions may run where the warehouse is not)."""
        import io

        buffer = io.BytesIO()
        scan.write_parquet(buffer)
        self._write_atomic(LANDING_SCAN, buffer.getvalue())

    def read_scan(self) -> pl.DataFrame:
        with self.fs.open(self._path(LANDING_SCAN), "rb") as fh:
            return pl.read_parquet(fh)

    def writer(self, partition: str, parser_version: str) -> GenerationWriter:
        return GenerationWriter(self, partition, parser_version)

    def commit(self, commit: Commit) -> None:
        body = json.dumps({"generation": commit.generation, "partition": commit.partition,
                           "parser_version": commit.parser_version, "files": commit.files,
                           "rows": commit.rows}, indent=1, sort_keys=True).encode()
        self._write_atomic(f"{COMMITS}/{commit.partition}/{commit.generation}.json", body)

    # ---- reading
    def commits(self) -> list[Commit]:
        """Every committed generation, oldest first."""
        base = self._path(COMMITS)
        if not self.fs.exists(base):
            return []
        found = []
        for path in self.fs.find(base):
            if not path.endswith(".json"):
                continue
            with self.fs.open(path, "rb") as fh:
                body = json.loads(fh.read())
            found.append(Commit(body["generation"], body["partition"], body["parser_version"], body["files"],
                                body["rows"]))
        return sorted(found, key=lambda c: c.generation)

    def connect(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection that reads this store's URIs (remote filesystems registered)."""
        con = con if con is not None else duckdb.connect()
        if not self.is_local:
            con.register_filesystem(self.fs)
        return con

    def current_outcomes(self, commits: list[Commit] | None = None) -> pl.DataFrame:
        """Per content, the outcome of its newest committed parse, with the generation holding it."""
        commits = self.commits() if commits is None else commits
        schema = {**OUTCOME_SCHEMA, "generation": pl.String}
        frames = []
        for commit in commits:
            for relative in commit.files.get(OUTCOMES, []):
                with self.fs.open(self._path(relative), "rb") as fh:
                    frames.append(pl.read_parquet(fh).with_columns(pl.lit(commit.generation).alias("generation")))
        if not frames:
            return pl.DataFrame(schema=schema)
        return (
            pl.concat(frames, how="diagonal_relaxed")
            .select(list(schema))
            .cast(schema)
            .sort("generation", descending=True, maintain_order=True)
            .unique("source_sha256", keep="first", maintain_order=True)
        )

    def remove_uncommitted(self, partition: str, commits: list[Commit]) -> int:
        """Delete this partition's parts that no commit names (left by a killed write); only the
        partition's own writer calls this, before it writes."""
        named = {f for c in commits if c.partition == partition for fs in c.files.values() for f in fs}
        removed = 0
        for table in SHARD_TABLES:
            folder = self._path(f"{table}/{partition}")
            if not self.fs.exists(folder):
                continue
            for path in self.fs.find(folder):
                relative = path[len(self.root) + 1:]
                if relative not in named:
                    self.fs.rm(path)
                    removed += 1
        return removed


class GenerationWriter:
    """One partition run's output: parts appended chunk by chunk, then one commit."""

    def __init__(self, store: ShardStore, partition: str, parser_version: str) -> None:
        self.store, self.partition, self.parser_version = store, partition, parser_version
        self.generation = new_generation()
        self.files: dict[str, list[str]] = {t: [] for t in SHARD_TABLES}
        self.rows: dict[str, int] = dict.fromkeys(SHARD_TABLES, 0)
        self.statuses: dict[str, int] = {}

    def add(self, table: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        if table == OUTCOMES:
            for status, n in frame.group_by("ingest_status").len().iter_rows():
                self.statuses[status] = self.statuses.get(status, 0) + n
        relative = f"{table}/{self.partition}/part-{self.generation}-{len(self.files[table]):05d}.parquet"
        self.store.write_frame(relative, frame)
        self.files[table].append(relative)
        self.rows[table] += frame.height

    def commit(self) -> Commit | None:
        """Publish the generation; None (nothing written, nothing committed) when it holds no outcome."""
        if not self.files[OUTCOMES]:
            return None
        commit = Commit(self.generation, self.partition, self.parser_version,
                        {t: f for t, f in self.files.items() if f}, dict(self.rows))
        self.store.commit(commit)
        return commit
