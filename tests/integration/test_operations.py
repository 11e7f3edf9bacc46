"""Season operations: hostile files, a killed run, readers during a refresh, one writer at a time."""

import fcntl
import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import run_pipeline
from ingest.synth import generate_corpus
from ingest.warehouse import serving_path_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def _reports(landing: Path, n: int, seed: int) -> None:
    generate_corpus(landing, n, seed=seed)
    (landing / "truth.jsonl").unlink()


def _count(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _zip_bomb() -> bytes:
    """A DOCX-shaped zip whose document.xml inflates to 300 MB of spaces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as fh:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                fh.write(chunk)
    return buf.getvalue()


def _hostile_files(landing: Path) -> dict[str, str | None]:
    """Write the files; return the status each must get (None: any status, with a reason unless parsed)."""
    bad = landing / "hostile"
    bad.mkdir(parents=True)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "random.txt").write_bytes(os.urandom(64 * 1024))
    (bad / "undecodable.txt").write_bytes(("年度报告".encode("utf-8") + b"\x80\x80\xff") * 200)
    (bad / "not_a_report.md").write_text("# 食堂菜单\n\n周一：米饭，青菜。\n", encoding="utf-8")
    (bad / "huge_line.txt").write_text("政府信息公开" * 400_000, encoding="utf-8")
    (bad / "bomb.docx").write_bytes(_zip_bomb())
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("word/document.xml", "<w:document>" + "<w:p/>" * 2000 + "</w:document>")
    (bad / "truncated.docx").write_bytes(docx.getvalue()[: len(docx.getvalue()) // 2])
    (bad / "entities.html").write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><html><body><p>&lol3;</p></body></html>',
        encoding="utf-8",
    )
    (bad / "no_text_layer.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    os.symlink("/etc/hostname", bad / "link_outside.txt")
    return {
        "hostile/empty.txt": "quarantined",
        "hostile/random.txt": "quarantined",
        "hostile/undecodable.txt": "quarantined",
        "hostile/not_a_report.md": "not_a_report",
        "hostile/huge_line.txt": None,
        "hostile/bomb.docx": "quarantined",
        "hostile/truncated.docx": None,
        "hostile/entities.html": None,
        "hostile/no_text_layer.pdf": "quarantined",
        "hostile/link_outside.txt": "quarantined",
    }


def test_hostile_files_are_recorded_and_the_run_goes_on(tmp_path):
    landing = tmp_path / "landing"
    _reports(landing, 6, seed=31)
    expected = _hostile_files(landing)
    warehouse = tmp_path / "w.duckdb"
    assert run_pipeline(landing, warehouse)
    con = duckdb.connect(str(serving_path_for(warehouse)), read_only=True)
    rows = {p: (s, r) for p, s, r in con.execute(
        "select source_path, ingest_status, reason from marts.dim_source_file").fetchall()}
    reports = con.execute("select count(*) from marts.dim_report").fetchone()[0]
    con.close()
    for path, status in expected.items():
        assert path in rows, path
        got_status, reason = rows[path]
        if status is not None:
            assert got_status == status, (path, rows[path])
        assert (reason is None) == (got_status == "parsed"), (path, rows[path])
    assert "link" in rows["hostile/link_outside.txt"][1]
    assert reports >= 6


def test_killed_run_leaves_serving_copy_and_next_run_completes(tmp_path):
    landing = tmp_path / "landing"
    warehouse = tmp_path / "w.duckdb"
    serving = serving_path_for(warehouse)
    _reports(landing, 8, seed=41)
    assert run_pipeline(landing, warehouse)
    before = _count(serving, "select count(*) from marts.dim_report")

    _reports(landing / "more", 8, seed=42)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # kill it in the middle: once the new reports are parsed and dbt is running
    deadline = time.monotonic() + 120
    commits = warehouse.with_name("w.shards") / "_commits"
    before_commits = len(list(commits.rglob("*.json")))
    while time.monotonic() < deadline and len(list(commits.rglob("*.json"))) == before_commits:
        time.sleep(0.2)
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # the serving copy is the previous, complete one, and it opens
    assert _count(serving, "select count(*) from marts.dim_report") == before

    assert run_pipeline(landing, warehouse)
    assert _count(serving, "select count(*) from marts.dim_report") == before + 8
    assert _count(serving, "select count(*) from marts.dim_source_file") == 16
    assert _count(serving, "select count(distinct report_id) from marts.fct_rule_results") == before + 8
    assert not list(tmp_path.glob("*.tmp-*"))


def test_open_reader_never_blocks_a_refresh(tmp_path):
    landing = tmp_path / "landing"
    warehouse = tmp_path / "w.duckdb"
    _reports(landing, 5, seed=51)
    assert run_pipeline(landing, warehouse)
    reader = duckdb.connect(str(serving_path_for(warehouse)), read_only=True)
    try:
        before = reader.execute("select count(*) from marts.dim_report").fetchone()[0]
        _reports(landing / "more", 5, seed=52)
        assert run_pipeline(landing, warehouse)
        # the open connection still reads its snapshot; a new one sees the refresh
        assert reader.execute("select count(*) from marts.dim_report").fetchone()[0] == before
    finally:
        reader.close()
    assert _count(serving_path_for(warehouse), "select count(*) from marts.dim_report") == before + 5


def test_a_second_run_waits_for_the_first(tmp_path):
    landing = tmp_path / "landing"
    warehouse = tmp_path / "w.duckdb"
    _reports(landing, 3, seed=61)
    lock = os.open(warehouse.with_name("w.duckdb.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # stands for a run in progress
    outcome: list[bool] = []
    runner = threading.Thread(target=lambda: outcome.append(run_pipeline(landing, warehouse, quiet=True)))
    runner.start()
    time.sleep(8)
    try:
        assert runner.is_alive(), "the second run should wait for the lock, not fail"
        assert not serving_path_for(warehouse).exists()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    runner.join(timeout=300)
    assert outcome == [True]


@pytest.mark.parametrize("edit", ["parser", "schema"])
def test_parser_version_change_reparses(tmp_path, monkeypatch, edit):
    import ingest
    import ingest.parse_stage
    import ingest.pipeline

    landing = tmp_path / "landing"
    warehouse = tmp_path / "w.duckdb"
    _reports(landing, 3, seed=71)
    assert run_pipeline(landing, warehouse, quiet=True)
    assert _count(warehouse, "select count(*) from raw.parse_history") == 3
    assert run_pipeline(landing, warehouse, quiet=True)
    assert _count(warehouse, "select count(*) from raw.parse_history") == 3  # nothing new: nothing re-read
    new_version = ingest.PARSER_VERSION + (".next" if edit == "parser" else "+schema.edited")
    for module in (ingest, ingest.pipeline, ingest.parse_stage):
        monkeypatch.setattr(module, "PARSER_VERSION", new_version, raising=False)
    import dagster_project.defs.ingest_assets as assets

    monkeypatch.setattr(assets, "PARSER_VERSION", new_version)
    assert run_pipeline(landing, warehouse, quiet=True)
    history = duckdb.connect(str(warehouse), read_only=True).execute(
        "select parser_version, count(*) from raw.parse_history group by 1 order by 1").fetchall()
    assert [n for _, n in history] == [3, 3]
    assert _count(serving_path_for(warehouse),
                  f"select count(*) from marts.dim_report where parser_version = '{new_version}'") == 3
