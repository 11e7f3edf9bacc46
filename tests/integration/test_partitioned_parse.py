"""The partitioned parse stage (issue 14): the multiprocess executor over 8 hash-bucket partitions gives
marts identical row for row to the in-process run, on the sample data and on a generated corpus; a
partition killed mid-write leaves no shard that is read, and its retry completes the work; the
object-store path (an S3-compatible server on 127.0.0.1, started here) passes the same tests.

Every run is a real ``ogi run`` (a subprocess, so the executor is chosen the way a user chooses it:
``OGI_EXECUTOR``), into a real DuckDB file, with the real dbt project and validations."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from ingest.shards import ShardStore, partition_keys
from ingest.synth.formats import generate_formats_corpus
from ingest.synth.generator import generate_corpus
from ingest.warehouse import connect, load_shards, marts_differences, serving_path_for

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "sample_data" / "landing"
PARTITIONS = 8


def _ogi_run(landing: Path, warehouse: Path, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "OGI_PARSE_PARTITIONS": str(PARTITIONS), **env},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _assert_identical(first: Path, second: Path) -> None:
    differences = marts_differences(serving_path_for(first), serving_path_for(second))
    assert "fct_applications" in differences and differences["fct_applications"][0] > 0
    assert all(a == 0 and b == 0 for _, a, b in differences.values()), differences


def _parse_steps(proc: subprocess.CompletedProcess) -> list[str]:
    return [line.split()[-1] for line in proc.stdout.splitlines() if "parse_partition_op[" in line]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Every format the generator writes (text layouts, HTML, DOCX, PDF), and corrected republications."""
    landing = tmp_path_factory.mktemp("partitioned") / "landing"
    generate_formats_corpus(landing / "formats", 25, seed=1401)
    generate_corpus(landing / "text", 40, seed=1402, republish_rate=0.2, inject_error_rate=0.1)
    for truth in landing.rglob("truth.jsonl"):
        truth.unlink()
    return landing


@pytest.fixture(scope="module")
def corpus_in_process(corpus, tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("in_process") / "w.duckdb"
    proc = _ogi_run(corpus, warehouse, OGI_EXECUTOR="in_process")
    # in-process: one parse step for every partition of the run
    assert _parse_steps(proc) == ["stage__parsed_facts.parse_partition_op[in_process]"]
    return warehouse


@pytest.fixture(scope="module")
def s3_server():
    moto = pytest.importorskip("moto.server")
    server = moto.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    options = {"endpoint_url": f"http://{host}:{port}", "key": "testing", "secret": "testing"}
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"  # the server's default region (the subprocesses inherit it)
    store = ShardStore("s3://ogi-shards", options)
    store.fs.mkdir("ogi-shards")
    yield options
    server.stop()
    if region is None:
        os.environ.pop("AWS_DEFAULT_REGION", None)
    else:
        os.environ["AWS_DEFAULT_REGION"] = region


def test_sample_data_multiprocess_over_8_partitions_matches_in_process(tmp_path):
    in_process, multiprocess = tmp_path / "a" / "w.duckdb", tmp_path / "b" / "w.duckdb"
    _ogi_run(SAMPLE, in_process, OGI_EXECUTOR="in_process")
    proc = _ogi_run(SAMPLE, multiprocess, OGI_EXECUTOR="multiprocess", OGI_WORKERS="2")
    # one step per partition, run by Dagster's multiprocess executor
    assert sorted(_parse_steps(proc)) == [f"stage__parsed_facts.parse_partition_op[{k.replace('-', '_')}]"
                                          for k in partition_keys(PARTITIONS)]
    commits = ShardStore(str(multiprocess.with_name("w.shards"))).commits()
    assert sorted(c.partition for c in commits) == partition_keys(PARTITIONS)
    _assert_identical(in_process, multiprocess)


# The cluster layout (deploy/): discovery, then the parse partitions as their own job on the parallel
# executor, then the marts build as one job; each job launched the way the chaining sensors launch it.
_THREE_JOBS = textwrap.dedent("""
    import sys, tempfile
    import dagster as dg
    from dagster_project import definitions
    from dagster_project.defs.automation import parse_run_tags
    landing, warehouse, url, options = sys.argv[1:5]
    config = {"resources": {"paths": {"config": {"landing_dir": landing, "warehouse": warehouse}},
                            "shards": {"config": {"url": url, "storage_options": options}}}}
    with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.local_temp(home) as instance:
        for job, tags in ((definitions.ogi_discover_job, {}), (definitions.ogi_parse_job, parse_run_tags()),
                          (definitions.ogi_marts_job, {})):
            with dg.execute_job(dg.reconstructable(job), instance=instance, run_config=config, tags=tags) as result:
                assert result.success, job.__name__
                steps = [s.step_key for s in instance.get_run_step_stats(result.run_id)]
                print(job.__name__, result.dagster_run.job_name, " ".join(sorted(steps)))
""")


def test_generated_corpus_as_three_jobs_multiprocess_on_object_storage_matches_in_process(
        corpus, corpus_in_process, s3_server, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    url = "s3://ogi-shards/multiprocess"
    env = {**os.environ, "OGI_EXECUTOR": "multiprocess", "OGI_WORKERS": "2", "OGI_PARSE_PARTITIONS": str(PARTITIONS)}
    proc = subprocess.run([sys.executable, "-c", _THREE_JOBS, str(corpus), str(warehouse), url, json.dumps(s3_server)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    parse_line = next(line for line in proc.stdout.splitlines() if line.startswith("ogi_parse_job"))
    assert parse_line.count("parse_partition_op[") == PARTITIONS
    store = ShardStore(url, s3_server)
    assert {c.partition for c in store.commits()} == set(partition_keys(PARTITIONS))
    assert not warehouse.with_name("w.shards").exists()  # nothing written beside the warehouse
    _assert_identical(corpus_in_process, warehouse)
    # a whole-graph run on the same store finds every partition complete: no parse step, nothing changes
    proc = _ogi_run(corpus, warehouse, OGI_EXECUTOR="multiprocess", OGI_WORKERS="2", OGI_SHARD_URL=url,
                    OGI_SHARD_STORAGE_OPTIONS=json.dumps(s3_server))
    assert _parse_steps(proc) == []
    _assert_identical(corpus_in_process, warehouse)


# A partition's writer process dies (SIGKILL-like: no cleanup, no exception handler) after it has
# written part of its shards and before its commit.
_KILLED_WRITER = textwrap.dedent("""
    import json, os, sys
    from ingest import shards
    from ingest.parse_stage import parse_partitions
    store = shards.ShardStore(sys.argv[1], json.loads(sys.argv[2]) or None)
    store.write_scan(__import__("polars").read_parquet(sys.argv[3]))
    written = []
    original = shards.GenerationWriter.add
    def add(self, table, frame):
        original(self, table, frame)
        written.append(table)
        if len(written) >= 3:
            os._exit(9)
    shards.GenerationWriter.add = add
    parse_partitions(store, sys.argv[4].split(","))
    raise SystemExit("the writer was expected to die before its commit")
""")


@pytest.mark.parametrize("where", ["local", "s3"])
def test_partition_killed_mid_write_leaves_nothing_read_and_its_retry_completes(where, corpus, corpus_in_process,
                                                                                 tmp_path, request):
    warehouse = tmp_path / "w.duckdb"
    if where == "s3":
        options = request.getfixturevalue("s3_server")
        url, env = f"s3://ogi-shards/killed-{os.getpid()}", {"OGI_SHARD_STORAGE_OPTIONS": json.dumps(options)}
        env["OGI_SHARD_URL"] = url
    else:
        options, url, env = {}, str(warehouse.with_name("w.shards")), {}
    scan = corpus_in_process.with_name("w.stage") / "landing_scan.parquet"
    keys = ",".join(partition_keys(PARTITIONS))
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, url, json.dumps(options), str(scan), keys],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 9, proc.stderr[-2000:]
    store = ShardStore(url, options or None)
    parts = [p for p in store.fs.find(store.root) if "/part-" in p]
    assert parts, "the killed writer wrote shard files before dying"
    # nothing it wrote is committed, so nothing of it is read ...
    assert store.commits() == []
    assert store.current_outcomes().is_empty()
    con = connect(tmp_path / "probe.duckdb")
    try:
        import polars as pl

        loaded = load_shards(con, store, pl.read_parquet(scan, columns=["source_sha256"]))
        assert loaded["contents"] == 0
        assert con.execute("select count(*) from raw.table_cells").fetchone()[0] == 0
    finally:
        con.close()
    # ... and the retry (the next run) removes the leftovers, parses every partition and gives the marts
    # of a run that was never interrupted
    _ogi_run(corpus, warehouse, OGI_EXECUTOR="in_process", **env)
    remaining = {p[len(store.root) + 1:] for p in store.fs.find(store.root) if "/part-" in p}
    committed = {f for c in store.commits() for files in c.files.values() for f in files}
    assert remaining == committed
    _assert_identical(corpus_in_process, warehouse)


def test_a_warehouse_rebuilt_from_its_shards_matches(corpus, corpus_in_process, tmp_path):
    """The shards are the parse's durable output: a lost warehouse file is rebuilt from them (nothing
    is parsed again) and gives the same marts."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copytree(corpus_in_process.with_name("w.shards"), warehouse.with_name("w.shards"))
    proc = _ogi_run(corpus, warehouse, OGI_EXECUTOR="in_process")
    assert _parse_steps(proc) == []
    _assert_identical(corpus_in_process, warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from raw.content_outcomes where shard_generation is null").fetchone()[0] == 0
    finally:
        con.close()
