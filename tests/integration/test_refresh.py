"""Refresh behaviour across runs: corrected republications supersede, a run with nothing new keeps
the marts and the serving copy, progress and the summary say what happened."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from dagster_project.cli import run_pipeline
from ingest.warehouse import serving_path_for
from tests.integration.reports import county_bureau_report as _report

REPO_ROOT = Path(__file__).resolve().parents[2]


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_corrected_republication_supersedes_in_the_marts(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    landing.mkdir()
    (landing / "report.txt").write_text(_report("2023-01-20", 4), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)
    (landing / "report_corrected.txt").write_text(_report("2023-03-02", 5), encoding="utf-8")
    # an older edition arriving late does not displace the newest one
    (landing / "report_draft.txt").write_text(_report("2023-01-05", 3), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)

    serving = serving_path_for(warehouse)
    editions = _rows(serving, "select source_path, is_current, edition, edition_count from marts.dim_report "
                              "order by edition")
    assert editions == [("report_draft.txt", False, 1, 3), ("report.txt", False, 2, 3),
                        ("report_corrected.txt", True, 3, 3)]
    (current,) = _rows(serving, "select report_id from marts.dim_report where is_current")[0]
    superseded = _rows(serving, "select source_path, superseded_by_report_id from marts.dim_source_file "
                                "where superseded_by_report_id is not null order by 1")
    assert superseded == [("report.txt", current), ("report_draft.txt", current)]
    # facts of the current edition only; every edition's facts stay in the raw history
    assert _rows(serving, "select report_id, value from marts.fct_applications "
                          "where row_key = 'new_received'") == [(current, 5)]
    assert _rows(serving, "select distinct report_id from marts.fct_rule_results") in ([], [(current,)])
    assert _rows(warehouse, "select count(distinct report_id) from raw.narrative_facts")[0][0] == 3


def test_a_run_with_nothing_new_keeps_marts_and_serving_copy(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    landing.mkdir()
    (landing / "a.txt").write_text(_report("2023-01-20", 4), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)
    serving = serving_path_for(warehouse)
    published = serving.stat().st_mtime_ns

    # same bytes, new modification time: re-hashed, found unchanged, nothing rebuilt
    os.utime(landing / "a.txt")
    cli = [sys.executable, "-m", "dagster_project.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    done = subprocess.run(cli, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert serving.stat().st_mtime_ns == published
    assert "nothing changed since the last refresh" in done.stdout
    assert "skipped" in done.stdout and "serving__warehouse_serving_copy" in done.stdout
    assert "emitted no result" not in done.stderr

    # a new file: the marts are rebuilt and published, and the summary names what happened
    (landing / "b.txt").write_text(_report("2023-03-02", 5), encoding="utf-8")
    done = subprocess.run(cli, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert serving.stat().st_mtime_ns != published
    assert "new 1" in done.stdout
    assert "superseded      : a.txt -> b.txt" in done.stdout
    assert _rows(serving, "select count(*) from marts.dim_report where is_current")[0][0] == 1


def test_incremental_validation_equals_a_full_one(tmp_path, monkeypatch):
    """Adding reports re-validates only the touched agencies, in batches that keep each agency whole;
    the stored results then equal what one validation of every report gives."""
    import polars as pl

    import dagster_project.defs.quality as quality

    monkeypatch.setattr(quality, "VALIDATE_BATCH", 5)

    from expectations.runner import run_rules
    from ingest.synth import generate_corpus

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate_corpus(landing / "first", 12, seed=5, inject_error_rate=0.3)
    (landing / "first" / "original.txt").write_text(_report("2023-01-20", 4), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)
    generate_corpus(landing / "second", 4, seed=6, inject_error_rate=0.3)
    # a corrected republication of a report of the first batch
    (landing / "second" / "republished.txt").write_text(_report("2023-03-02", 5), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stored = con.execute("select * exclude (expectation) from raw.rule_results").pl()
    finally:
        con.close()
    full = run_rules(str(warehouse)).drop("expectation")
    key = ["report_id", "rule_id"]
    assert stored.height == full.height
    assert stored.select(full.columns).sort(key).equals(full.sort(key))
    assert stored["report_id"].n_unique() == _rows(serving_path_for(warehouse),
                                                   "select count(*) from marts.dim_report where is_current")[0][0]
    assert pl.Series(stored["report_id"]).is_in(
        [r[0] for r in _rows(warehouse, "select report_id from marts.dim_report where not is_current")]
    ).sum() == 0
