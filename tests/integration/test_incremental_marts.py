"""Incremental marts: after any sequence of runs the marts equal, row for row, a ``--full-refresh``
build of the dbt project over the same raw tables (README "Incremental marts").

Each test drives the real ``ogi run`` / ``ogi forget`` (run_pipeline, the job the UI shows) over small
generated corpora, then copies the warehouse and rebuilds every mart of the copy with
``dbt run --full-refresh``: the two ``marts`` schemas must hold the same tables, columns and rows.
The long sequence with a comparison after every step is marked ``slow`` (``-m "not slow"`` leaves it out).
"""

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import main as ogi
from dagster_project.cli import run_pipeline
from dagster_project.settings import DBT_PROJECT_DIR, code_version, dbt_executable, seed_partial_parse
from ingest.synth import generate_corpus
from ingest.warehouse import serving_path_for
from tests.integration.reports import county_bureau_report as _report


def _builds(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return dict(con.execute("select model, mode from mart_state.builds").fetchall())
    finally:
        con.close()


def _full_refresh_copy(warehouse: Path, workdir: Path) -> Path:
    """The warehouse copied, and every mart of the copy rebuilt by dbt from its raw tables."""
    reference = workdir / "reference.duckdb"
    shutil.copyfile(warehouse, reference)
    target = workdir / "dbt_target"
    target.mkdir(exist_ok=True)
    seed_partial_parse(target)
    env = {**os.environ, "OGI_WAREHOUSE": str(reference), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(target), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [dbt_executable(), "run", "--full-refresh", "--quiet", "--select", "tag:core", "tag:rules",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=env, check=True,
    )
    return reference


def assert_marts_equal_full_refresh(warehouse: Path, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    reference = _full_refresh_copy(warehouse, workdir)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as inc (read_only)")
        con.execute(f"attach '{reference}' as ref (read_only)")

        def tables(db: str) -> dict[str, list[tuple]]:
            rows = con.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_catalog = ? and table_schema = 'marts' order by table_name, ordinal_position",
                [db],
            ).fetchall()
            out: dict[str, list[tuple]] = {}
            for table, column, kind in rows:
                out.setdefault(table, []).append((column, kind))
            return out

        inc, ref = tables("inc"), tables("ref")
        assert inc.keys() == ref.keys()
        for table, columns in ref.items():
            assert inc[table] == columns, table
            n_inc, n_ref = (con.execute(f"select count(*) from {db}.marts.{table}").fetchone()[0] for db in ("inc", "ref"))
            only_inc = con.execute(
                f"select count(*) from (select * from inc.marts.{table} except all select * from ref.marts.{table})"
            ).fetchone()[0]
            only_ref = con.execute(
                f"select count(*) from (select * from ref.marts.{table} except all select * from inc.marts.{table})"
            ).fetchone()[0]
            assert (n_inc, only_inc, only_ref) == (n_ref, 0, 0), f"marts.{table} differs from a full build"
    finally:
        con.close()


def _corrections(tmp: Path, n: int, seed: int) -> tuple[Path, list[Path]]:
    """A corpus with corrected republications: the originals' folder, and the corrections kept apart
    (moved into the landing folder later, they supersede reports already in the warehouse)."""
    corpus = tmp / "corpus"
    paths = generate_corpus(corpus, n, seed=seed, republish_rate=0.6)
    later = tmp / "later"
    later.mkdir()
    moved = []
    for path in paths:
        if path.stem.endswith("_corrected"):
            moved.append(later / path.name)
            path.rename(moved[-1])
    assert moved, "the generator wrote no corrected republication"
    return corpus, moved


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A warehouse after its first build (full): landing/first (with one hand-written report that a
    corrected edition supersedes later) and landing/drop; the corrections wait in later/."""
    base = tmp_path_factory.mktemp("incremental_base")
    landing, warehouse = base / "landing", base / "w.duckdb"
    corpus, _ = _corrections(base, 5, seed=11)
    shutil.copytree(corpus, landing / "first")
    (landing / "first" / "original.txt").write_text(_report("2023-01-20", 4), encoding="utf-8")
    generate_corpus(landing / "drop", 3, seed=22, inject_error_rate=0.3)
    assert run_pipeline(landing, warehouse, quiet=True)
    assert set(_builds(warehouse).values()) == {"full"}
    return base


def _copy(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The built warehouse (file, stage folder, serving copy) and its landing folder, copied."""
    work = tmp_path / "work"
    shutil.copytree(built, work)  # copy2: the landing files keep their mtimes (no re-read)
    return work / "landing", work / "w.duckdb"


def test_adds_supersession_and_removal_equal_a_full_build(built, tmp_path):
    landing, warehouse = _copy(built, tmp_path)
    # new reports, corrected editions of reports already built, and a file gone from the landing folder
    generate_corpus(landing / "second", 2, seed=12)
    corrections = sorted((landing.parent / "later").iterdir())
    for path in corrections:
        shutil.copyfile(path, landing / "first" / path.name)
    (landing / "first" / "republished.txt").write_text(_report("2023-03-02", 5), encoding="utf-8")
    sorted((landing / "drop").glob("*.txt"))[0].unlink()
    assert run_pipeline(landing, warehouse, quiet=True)
    assert set(_builds(warehouse).values()) == {"incremental"}

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        superseded = con.execute("select count(*) from marts.dim_report where not is_current").fetchone()[0]
        leftover = con.execute(
            """select count(*) from marts.fct_applications f join marts.dim_report d using (report_id)
               where not d.is_current"""
        ).fetchone()[0]
    finally:
        con.close()
    assert superseded >= len(corrections) + 1 and leftover == 0
    # the marts' data tests of this build read the rows it inserted (kept beside the mart while the
    # tests run, dropped at the end), not the whole mart filtered by report
    executed = next((warehouse.parent / "w.stage" / "dbt_target" / "run").rglob(
        "accepted_values_fct_applications_row_key.sql")).read_text(encoding="utf-8")
    assert '"mart_state"."fct_applications__rebuilt_rows"' in executed
    # the rule marts read the rule results' digest computed once at the start of their invocation
    rule_mart = next((warehouse.parent / "w.stage" / "dbt_target" / "run").rglob("fct_rule_results.sql"))
    assert '"mart_state"."rule_results_digest"' in rule_mart.read_text(encoding="utf-8")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        kept = con.execute("select count(*) from duckdb_tables() where table_name like '%__rebuilt_rows'").fetchone()[0]
    finally:
        con.close()
    assert kept == 0
    assert_marts_equal_full_refresh(warehouse, tmp_path / "check")
    # the state lives outside `marts`: the serving copy holds the contract's tables only
    serving = duckdb.connect(str(serving_path_for(warehouse)), read_only=True)
    try:
        schemas = {r[0] for r in serving.execute(
            "select distinct table_schema from information_schema.tables").fetchall()}
    finally:
        serving.close()
    assert schemas == {"marts"}


def test_forget_equals_a_full_build(built, tmp_path):
    landing, warehouse = _copy(built, tmp_path)
    assert ogi(["forget", "--landing", str(landing / "drop"), "--warehouse", str(warehouse)]) == 0
    assert set(_builds(warehouse).values()) == {"incremental"}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        gone = con.execute(
            """select count(*) from marts.fct_narrative_metrics where report_id not in
               (select report_id from marts.dim_report)"""
        ).fetchone()[0]
        state = con.execute("select count(*) from mart_state.fct_applications").fetchone()[0]
        reports = con.execute("select count(*) from marts.dim_report").fetchone()[0]
    finally:
        con.close()
    assert gone == 0 and state == reports
    assert_marts_equal_full_refresh(warehouse, tmp_path / "check")


def test_code_version_change_rebuilds_whole(built, tmp_path, monkeypatch):
    import dagster_project.defs.ingest_assets as assets
    import ingest
    import ingest.pipeline

    landing, warehouse = _copy(built, tmp_path)
    before = code_version()
    new_version = ingest.PARSER_VERSION + ".next"
    for module in (ingest, ingest.pipeline, assets):
        monkeypatch.setattr(module, "PARSER_VERSION", new_version, raising=False)
    code_version.cache_clear()  # a new process would compute it afresh
    try:
        assert code_version() != before
        assert run_pipeline(landing, warehouse, quiet=True)
        assert set(_builds(warehouse).values()) == {"full"}
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            recorded = dict(con.execute("select phase, code_version from mart_state.build_info").fetchall())
        finally:
            con.close()
        assert recorded == {"core": code_version(), "rules": code_version()}
        assert_marts_equal_full_refresh(warehouse, tmp_path / "check")
    finally:
        monkeypatch.undo()
        code_version.cache_clear()


@pytest.mark.slow  # six runs, each compared with a full build
def test_every_step_of_a_season_equals_a_full_build(tmp_path, monkeypatch):
    """Add files, supersede, remove a file, forget a folder, change the parser: after every run the
    marts equal a full build."""
    import dagster_project.defs.ingest_assets as assets
    import ingest
    import ingest.pipeline

    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    corpus, corrections = _corrections(tmp_path, 8, seed=41)
    shutil.copytree(corpus, landing / "first")
    (landing / "first" / "original.txt").write_text(_report("2023-01-20", 4), encoding="utf-8")
    steps = []

    def check(name: str) -> None:
        steps.append(name)
        assert_marts_equal_full_refresh(warehouse, tmp_path / f"check{len(steps)}")

    assert run_pipeline(landing, warehouse, quiet=True)
    check("first build")
    generate_corpus(landing / "second", 4, seed=42, inject_error_rate=0.3)
    assert run_pipeline(landing, warehouse, quiet=True)
    check("files added")
    for path in corrections:
        shutil.copyfile(path, landing / "first" / path.name)
    (landing / "first" / "republished.txt").write_text(_report("2023-03-02", 5), encoding="utf-8")
    assert run_pipeline(landing, warehouse, quiet=True)
    check("corrected republications")
    sorted((landing / "second").glob("*.txt"))[0].unlink()
    assert run_pipeline(landing, warehouse, quiet=True)
    check("file removed from the landing folder")
    assert ogi(["forget", "--landing", str(landing / "second"), "--warehouse", str(warehouse)]) == 0
    check("ogi forget")
    new_version = ingest.PARSER_VERSION + ".next"
    for module in (ingest, ingest.pipeline, assets):
        monkeypatch.setattr(module, "PARSER_VERSION", new_version, raising=False)
    code_version.cache_clear()
    try:
        assert run_pipeline(landing, warehouse, quiet=True)
        assert set(_builds(warehouse).values()) == {"full"}
        check("parser version changed")
        # the corrected editions come back with the forgotten folder: superseding again, incrementally
        generate_corpus(landing / "second", 4, seed=42, inject_error_rate=0.3)
        assert run_pipeline(landing, warehouse, quiet=True)
        assert set(_builds(warehouse).values()) == {"incremental"}
        check("forgotten folder back")
    finally:
        monkeypatch.undo()
        code_version.cache_clear()
