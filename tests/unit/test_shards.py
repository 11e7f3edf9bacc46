"""The shard store (ingest.shards) on its own: buckets, commits, newest generation wins, leftovers of
an interrupted write are never read and are removed by the partition's next write, and the load step
takes each content from its own generation."""

import polars as pl
import pytest

from ingest.schemas import empty_frame
from ingest.shards import OUTCOME_SCHEMA, OUTCOMES, ShardStore, bucket_expr, bucket_of, partition_keys
from ingest.warehouse import connect, load_shards


def _sha(i: int) -> str:
    return f"{i:012x}" + "a" * 52


def _outcomes(shas: list[str], status: str = "parsed", version: str = "v1") -> pl.DataFrame:
    from datetime import UTC, datetime

    return pl.DataFrame({
        "source_sha256": shas,
        "ingest_status": [status] * len(shas),
        "reason": [None] * len(shas),
        "report_id": ["rpt_" + s[:20] for s in shas],
        "encoding": ["utf-8"] * len(shas),
        "parser_version": [version] * len(shas),
        "parsed_at": [datetime.now(UTC)] * len(shas),
    }, schema=OUTCOME_SCHEMA)


def _reports(shas: list[str], agency: str) -> pl.DataFrame:
    frame = empty_frame("reports")
    rows = pl.DataFrame({"report_id": ["rpt_" + s[:20] for s in shas], "source_sha256": shas,
                         "agency_name": [agency] * len(shas)})
    return pl.concat([frame, rows], how="diagonal_relaxed").select(frame.columns).cast(dict(frame.schema))


def test_partition_keys_and_buckets_are_stable():
    assert partition_keys(8)[3] == "03-of-08"
    assert partition_keys(100)[7] == "07-of-100"
    assert bucket_of("03-of-08") == (3, 8)
    shas = pl.DataFrame({"s": [_sha(i) for i in range(64)] + ["unread:abc"]})
    buckets = shas.select(bucket_expr(pl.col("s"), 8))["s"].to_list()
    assert buckets[:8] == list(range(8)) and buckets[-1] == 0
    # the same content, the same bucket, whatever else is in the frame
    assert shas.tail(10).select(bucket_expr(pl.col("s"), 8))["s"].to_list() == buckets[-10:]


@pytest.mark.parametrize("url_kind", ["path", "file_url"])
def test_only_committed_generations_are_read_and_the_newest_wins(tmp_path, url_kind):
    root = tmp_path / "shards"
    store = ShardStore(str(root) if url_kind == "path" else f"file://{root}")
    first = store.writer("00-of-02", "v1")
    first.add(OUTCOMES, _outcomes([_sha(0), _sha(2)]))
    first.add("reports", _reports([_sha(0), _sha(2)], "old"))
    assert store.commits() == []  # written, not committed: invisible
    assert first.commit() is not None
    second = store.writer("00-of-02", "v2")
    second.add(OUTCOMES, _outcomes([_sha(2)], version="v2"))
    second.add("reports", _reports([_sha(2)], "new"))
    second.commit()
    interrupted = store.writer("00-of-02", "v3")
    interrupted.add(OUTCOMES, _outcomes([_sha(0)], version="v3"))  # never committed
    current = store.current_outcomes().sort("source_sha256")
    assert current["parser_version"].to_list() == ["v1", "v2"]

    con = connect(tmp_path / "w.duckdb")
    try:
        loaded = load_shards(con, store, pl.DataFrame({"source_sha256": [_sha(0), _sha(2)]}))
        assert loaded["contents"] == 2 and loaded["reports"] == 2
        rows = dict(con.execute("select source_sha256, agency_name from raw.reports").fetchall())
        assert rows == {_sha(0): "old", _sha(2): "new"}  # each content from its own newest generation
        assert load_shards(con, store, pl.DataFrame({"source_sha256": [_sha(0), _sha(2)]}))["contents"] == 0
    finally:
        con.close()

    leftovers = [p for p in store.fs.find(store.root) if "part-" in p and interrupted.generation in p]
    assert leftovers
    assert store.remove_uncommitted("00-of-02", store.commits()) == len(leftovers)
    assert not [p for p in store.fs.find(store.root) if interrupted.generation in p]
    # committed files of this and other partitions stay
    assert store.current_outcomes().height == 2


def test_a_generation_without_outcomes_is_not_committed(tmp_path):
    store = ShardStore(str(tmp_path / "shards"))
    writer = store.writer("01-of-02", "v1")
    assert writer.commit() is None
    assert store.commits() == []
