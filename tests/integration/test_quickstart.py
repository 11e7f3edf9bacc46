"""The documented paths of ``ogi``, on a few of the sample reports chosen from their truth (reports
with an injected arithmetic error, one of them with a narrative that also states its table's figure,
and a narrative report):
the run recorded in the Dagster instance the UI reads, the summary's rule counts, the offline Data
Docs, one figure per cell, a wrong landing folder refused, and ``ogi forget``."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.cli import main
from expectations.data_docs import remote_references
from ingest.warehouse import serving_path_for

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "sample_data" / "landing"


def _pick() -> tuple[list[str], str, list[str]]:
    """From the sample truth: three reports with an injected error (kept), one of them a table report
    whose narrative also states its 表三 figure, and a narrative report plus another one (forgotten)."""
    truth = [json.loads(line) for line in (REPO_ROOT / "sample_data" / "truth.jsonl").read_text("utf-8").splitlines()
             if line]
    states = {t["filename"]: {n["metric"] for n in t["narrative"]} for t in truth}
    errors = sorted(t["filename"] for t in truth if t["injected_errors"] and t["tables_present"])
    with_figure = [f for f in errors if "requests_received_total" in states[f]]
    keep = sorted({with_figure[0], *[f for f in errors if f != with_figure[0]][:2]})
    narrative = sorted(t["filename"] for t in truth if t["layout"] == "narrative")[0]
    other = sorted(f for f in errors if f not in keep)[:1] or sorted(
        t["filename"] for t in truth if t["tables_present"] and t["filename"] not in keep)[:1]
    return keep, with_figure[0], [narrative, *other]


WITH_ERRORS, WITH_FIGURE, TO_FORGET = _pick()
def _rows(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    base = tmp_path_factory.mktemp("quickstart")
    landing, warehouse, home = base / "landing", base / "w.duckdb", base / "dagster_home"
    (landing / "forget_me").mkdir(parents=True)
    for name in WITH_ERRORS:
        shutil.copy(SAMPLE / name, landing / name)
    for name in TO_FORGET:
        shutil.copy(SAMPLE / name, landing / "forget_me" / name)
    capture = pytest.MonkeyPatch()
    import io
    import sys

    out = io.StringIO()
    capture.setattr(sys, "stdout", out)
    try:
        rc = main(["run", "--landing", str(landing), "--warehouse", str(warehouse), "--dagster-home", str(home)])
    finally:
        capture.undo()
    return {"landing": landing, "warehouse": warehouse, "home": home, "rc": rc, "stdout": out.getvalue()}


def test_run_is_recorded_in_the_instance_the_ui_reads(quickstart):
    assert quickstart["rc"] == 0, quickstart["stdout"]
    instance = dg.DagsterInstance.from_config(str(quickstart["home"]))
    runs = instance.get_runs()
    assert [(r.job_name, r.status) for r in runs] == [("ogi_refresh", dg.DagsterRunStatus.SUCCESS)]
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_applications"]))
    assert event is not None and event.run_id == runs[0].run_id
    assert f"DAGSTER_HOME={quickstart['home']}" in quickstart["stdout"]


def test_summary_counts_rule_outcomes_and_names_the_data_docs(quickstart):
    (line,) = [x for x in quickstart["stdout"].splitlines() if x.strip().startswith("rules  ")]
    counts = _rows(quickstart["warehouse"], "select status, count(*) from marts.fct_rule_results group by 1")
    for status, n in counts:
        assert f"{n} {status}" in line
    # the reports without tables (the narrative one) and no other
    without_tables = _rows(quickstart["warehouse"], "select count(*) from marts.dim_report "
                           "where not coalesce(has_t3, false) and not coalesce(has_t4, false)")[0][0]
    assert without_tables >= 1
    assert f"{without_tables} of 5 current reports not assessable at all" in line
    docs = quickstart["warehouse"].with_name("w.data_docs") / "index.html"
    assert f"Data Docs (rules) : {docs}" in quickstart["stdout"]


def test_one_figure_per_cell(quickstart):
    serving = serving_path_for(quickstart["warehouse"])
    assert _rows(serving, "select report_id, row_key, applicant_type, count(*) from marts.fct_applications "
                          "group by all having count(*) > 1") == []
    assert _rows(serving, "select report_id, proceeding, result, count(*) from marts.fct_review_litigation "
                          "group by all having count(*) > 1") == []
    # a report with a 表三 whose narrative also states its figure: the sentence stays in
    # fct_narrative_metrics, where the nt.* rules read it, and is not a second figure in fct_applications
    (rid,) = _rows(serving, f"select report_id from marts.dim_report where source_path = '{WITH_FIGURE}'")[0]
    assert _rows(serving, f"select distinct source from marts.fct_applications where report_id = '{rid}'") == [
        ("table",)]
    assert _rows(serving, f"select count(*) from marts.fct_narrative_metrics where report_id = '{rid}' "
                          "and metric = 'requests_received_total'")[0][0] >= 1
    assert _rows(serving, f"select status from marts.fct_rule_results where report_id = '{rid}' "
                          "and rule_id = 'nt.t3.new_received'") == [("pass",)]


def test_data_docs_are_offline_and_readable(quickstart):
    site = quickstart["warehouse"].with_name("w.data_docs")
    assert not (quickstart["warehouse"].with_name("w.stage") / "data_docs").exists()
    assert remote_references(site) == []
    index = (site / "index.html").read_text(encoding="utf-8")
    for suite in ("accounting_rules_v2019", "accounting_rules_v2021", "accounting_rules_derived"):
        assert f'href="suites/{suite}.html"' in index
        assert (site / "suites" / f"{suite}.html").exists()
    for version in ("v2019", "v2021"):
        page = (site / "suites" / f"accounting_rules_{version}.html").read_text(encoding="utf-8")
        assert "一 + 二 = 三(七) + 四 for the 总计 column of 表三" in page
    # a failing report by id, agency, year and source file, in the suite of its template
    (rid, agency, year, version) = _rows(quickstart["warehouse"], "select report_id, agency_name, report_year, "
                                         f"template_version from marts.dim_report where source_path = '{WITH_ERRORS[0]}'")[0]
    suite = (site / "suites" / f"accounting_rules_{version}.html").read_text(encoding="utf-8")
    row = f"<td><code>{rid}</code></td><td>{agency}</td><td>{year}</td><td>{WITH_ERRORS[0]}</td>"
    assert row in suite and row in index
    # Great Expectations' own pages are kept, without any remote script or style sheet
    assert list((site / "ge" / "validations").rglob("*.html"))


def test_a_missing_or_empty_landing_folder_is_refused_and_changes_nothing(quickstart, tmp_path, capsys):
    warehouse = quickstart["warehouse"]
    before = {p.name: p.stat().st_mtime_ns for p in warehouse.parent.iterdir()}
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    for landing in (tmp_path / "does_not_exist", empty):
        assert main(["run", "--landing", str(landing), "--warehouse", str(warehouse)]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(landing) in err[0] and "nothing was changed" in err[0], err
    assert {p.name: p.stat().st_mtime_ns for p in warehouse.parent.iterdir()} == before


def test_forget_removes_a_landing_folders_reports(quickstart, capsys):
    warehouse, serving = quickstart["warehouse"], serving_path_for(quickstart["warehouse"])
    forgotten = quickstart["landing"] / "forget_me"
    assert main(["forget", "--landing", str(forgotten), "--warehouse", str(warehouse),
                 "--dagster-home", str(quickstart["home"])]) == 0
    assert "removed 2 file version(s) and 2 report(s)" in capsys.readouterr().out
    paths = {p for (p,) in _rows(serving, "select source_path from marts.dim_source_file")}
    assert paths == set(WITH_ERRORS)
    assert _rows(serving, "select count(*) from marts.dim_report")[0][0] == 3
    assert _rows(serving, "select count(distinct report_id) from marts.fct_rule_results")[0][0] == 3
    assert _rows(warehouse, "select count(*) from raw.reports")[0][0] == 3
    # the rebuild is a run of the same job, recorded where the UI looks
    runs = dg.DagsterInstance.from_config(str(quickstart["home"])).get_runs()
    assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
