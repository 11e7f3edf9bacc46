"""The whole asset graph, materialized in-process into a temporary warehouse, as `ogi run` does.

Landing: reports from our generator (known truth) plus broken and hostile files; and the seeds.
"""

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import run_pipeline
from ingest.pipeline import report_id_for
from ingest.synth import generate_corpus
from ingest.synth.evaluate import evaluate
from ingest.warehouse import serving_path_for

CONTRACT_COLUMNS = {
    "dim_source_file": ["source_path", "source_sha256", "bytes", "source_format", "ingest_status", "reason",
                        "report_id", "first_seen_at"],
    "dim_report": ["report_id", "source_path", "source_format", "agency_name", "agency_id", "province", "city",
                   "county", "admin_level", "report_year", "template_version", "parse_status", "parser_version"],
    "fct_applications": ["report_id", "report_year", "agency_id", "row_key", "row_group", "outcome_category",
                         "applicant_type", "value", "cell_state", "raw_text", "is_derived", "source", "locator"],
    "fct_review_litigation": ["report_id", "report_year", "agency_id", "proceeding", "result", "value", "cell_state",
                              "raw_text", "source", "locator"],
    "fct_proactive_disclosure": ["report_id", "report_year", "agency_id", "item", "measure", "article_item", "value",
                                 "unit", "unit_raw", "cell_state", "raw_text", "locator"],
    "fct_disclosure_channels": ["report_id", "report_year", "agency_id", "channel", "metric", "value",
                                "is_approximate", "evidence"],
    "fct_rule_results": ["report_id", "report_year", "agency_id", "rule_id", "severity", "status", "lhs", "rhs",
                         "detail"],
}


def _query(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _fingerprint(db: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash of every mart (timestamps excluded)."""
    out = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall():
            cols = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? and data_type not like 'TIMESTAMP%' order by ordinal_position", [table]).fetchall()]
            rows = con.execute(f"select {', '.join(cols)} from marts.{table}").fetchall()
            digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            out[table] = (len(rows), digest)
    finally:
        con.close()
    return out


def _gbk(path: Path) -> bytes:
    return path.read_text(encoding="utf-8").encode("gb18030")


def _report_id(data: bytes) -> str:
    return report_id_for(hashlib.sha256(data).hexdigest())


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    landing = base / "landing"
    generate_corpus(landing, 40, seed=20261122, inject_error_rate=0.15)
    (landing / "broken").mkdir()
    (landing / "broken" / "empty.txt").write_bytes(b"")
    (landing / "broken" / "random.txt").write_bytes(bytes(range(256)) * 64)
    (landing / "broken" / "scan.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (landing / "broken" / "minutes.txt").write_text("会议纪要\n今天讨论了食堂菜单。\n", encoding="utf-8")
    first_report = sorted(landing.glob("*.txt"))[0]
    shutil.copy(first_report, landing / "broken" / "copy_of_first.txt")
    # a GB18030 re-encoding is another edition of the same agency and year; with the same printed date
    # and the same first sighting the greater report_id is current, so re-encode a report whose
    # original wins and the scored report stays in the fact marts
    original = next(p for p in sorted(landing.glob("*.txt")) if _report_id(p.read_bytes()) > _report_id(_gbk(p)))
    (landing / "broken" / "gbk.txt").write_bytes(_gbk(original))
    warehouse = base / "wh" / "warehouse.duckdb"
    assert run_pipeline(landing, warehouse)
    return landing, warehouse


def first_report_name(landing: Path) -> str:
    return sorted(landing.glob("*.txt"))[0].name


def test_every_file_has_a_row_with_the_right_status(synthetic_run):
    landing, warehouse = synthetic_run
    rows = dict(
        (path, (status, reason))
        for path, status, reason in _query(warehouse, "select source_path, ingest_status, reason from marts.dim_source_file")
    )
    on_disk = {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    assert set(rows) == on_disk
    assert rows["broken/empty.txt"] == ("quarantined", "the file is empty")
    assert rows["broken/random.txt"][0] == "quarantined"
    assert rows["broken/scan.pdf"][0] == "quarantined" and "pdf" in rows["broken/scan.pdf"][1]
    assert rows["broken/minutes.txt"][0] == "not_a_report"
    # same bytes under two names, seen in the same scan: the first path in order is the original
    copy, original = "broken/copy_of_first.txt", first_report_name(landing)
    assert rows[copy][0] == "duplicate" and rows[copy][1] == f"same bytes as {original}" or (
        rows[original] == ("duplicate", f"same bytes as {copy}") and rows[copy][0] == "parsed"
    )
    assert rows["broken/gbk.txt"][0] in ("parsed", "partial")
    ((current_path,),) = _query(
        warehouse,
        """select d.source_path from marts.dim_source_file f
           join marts.dim_report d on d.report_id = f.superseded_by_report_id
           where f.source_path = 'broken/gbk.txt'""",
    )
    assert current_path != "broken/gbk.txt" and (landing / current_path).read_bytes().decode("utf-8") == \
        (landing / "broken/gbk.txt").read_bytes().decode("gb18030")
    for status, reason in rows.values():
        assert (reason is None) == (status == "parsed")


def test_contract_tables_in_warehouse_and_serving_copy(synthetic_run):
    _, warehouse = synthetic_run
    serving = serving_path_for(warehouse)
    assert serving.name == "warehouse.serving.duckdb"
    for db in (warehouse, serving):
        have = {}
        for table, column in _query(db, "select table_name, column_name from information_schema.columns "
                                        "where table_schema = 'marts'"):
            have.setdefault(table, set()).add(column)
        for table, columns in CONTRACT_COLUMNS.items():
            assert table in have, (db, table)
            assert set(columns) <= have[table], (db, table, set(columns) - have[table])


def test_cells_match_the_generator_truth(synthetic_run):
    landing, warehouse = synthetic_run
    result = evaluate(landing, warehouse)
    cells = result["cells"]["overall"]
    assert cells["precision"] == 1.0, result["cells"]
    assert cells["recall"] >= 0.99, result["cells"]
    meta = result["metadata"]["overall"]
    assert meta["agency_name"] >= 0.99 and meta["report_year"] >= 0.99, meta
    assert meta["template_version"] >= 0.95, meta
    narrative = result["narrative"]["overall"]
    assert narrative["spurious"] == 0 and narrative["precision"] == 1.0, narrative


def test_rules_find_injected_errors_and_never_fail_clean_reports(synthetic_run):
    landing, warehouse = synthetic_run
    errors = evaluate(landing, warehouse)["injected_errors"]
    assert errors["injected"] > 0, "the corpus should contain reports with injected errors"
    assert errors["detection_rate"] == 1.0, errors
    assert errors["clean_reports_with_error_fail"] == 0, errors


def test_running_twice_changes_nothing(synthetic_run):
    landing, warehouse = synthetic_run
    before = _fingerprint(warehouse)
    assert run_pipeline(landing, warehouse)
    assert _fingerprint(warehouse) == before


def test_seeds_give_the_published_values(seeds_dir, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert run_pipeline(seeds_dir, warehouse)
    db = serving_path_for(warehouse)

    def report(prefix):
        (row,) = _query(db, f"select report_id, agency_name, report_year, template_version from marts.dim_report "
                            f"where source_path like '{prefix}%'")
        return row

    assert len(_query(db, "select * from marts.dim_source_file")) == 5
    rid, agency, year, version = report("001_")
    assert (agency, year, version) == ("温县教育局", 2020, "v2019")
    states = _query(db, f"select distinct cell_state, value from marts.fct_applications where report_id = '{rid}' "
                        "and source = 'table'")
    assert states == [("number", 0)]
    assert _query(db, f"select value from marts.fct_proactive_disclosure where report_id = '{rid}' "
                      "and item = 'other_external_services' and measure = 'decisions'") == [(12336.0,)]
    assert _query(db, f"select measure, value, unit from marts.fct_proactive_disclosure where report_id = '{rid}' "
                      "and item = 'centralized_procurement' order by measure") == [
        ("procurement_amount", 2873.495, "万元"), ("procurement_items", 7.0, "项")]
    failing = _query(db, f"select rule_id from marts.fct_rule_results where report_id = '{rid}' "
                         "and severity = 'error' and status = 'fail'")
    assert failing == []
    not_passing = _query(db, f"select rule_id from marts.fct_rule_results where report_id = '{rid}' and "
                             "split_part(rule_id, '.', 2) in ('balance', 'row_total') and status <> 'pass'")
    assert not_passing == []

    rid, agency, year, _ = report("002_")
    assert (agency, year) == ("柳州市教育局", 2020)
    t3 = _query(db, f"select applicant_type, count(*), count(value), min(value), max(value), "
                    f"bool_and(cell_state = 'blank') from marts.fct_applications where report_id = '{rid}' "
                    "and source = 'table' and row_key <> 'carried_to_next_year' group by 1 order by 1")
    for applicant, n, n_values, lo, hi, all_blank in t3:
        if applicant == "total":
            assert (n_values, lo, hi) == (n, 0, 0)
        else:
            assert (n_values, all_blank) == (0, True), applicant
    assert _query(db, f"select measure, value from marts.fct_proactive_disclosure where report_id = '{rid}' "
                      "and item = 'centralized_procurement' order by measure") == [
        ("procurement_amount", 25380.84), ("procurement_items", 468.0)]

    rid, _, year, version = report("000_")
    assert (year, version) == (2020, "pre2019")
    assert _query(db, f"select value from marts.fct_applications where report_id = '{rid}' and source = 'narrative' "
                      "and row_key = 'new_received' and applicant_type = 'total'") == [(4,)]
    assert _query(db, f"select proceeding, value from marts.fct_review_litigation where report_id = '{rid}' "
                      "and result = 'total' order by 1") == [("administrative_review", 1), ("litigation_all", 0)]

    rid, _, year, version = report("003_")
    assert (year, version) == (2014, "pre2019")
    assert _query(db, f"select value from marts.fct_applications where report_id = '{rid}' and source = 'narrative' "
                      "and row_key = 'new_received'") == [(5,)]

    rid, _, year, _ = report("004_")
    assert year == 2019
    assert _query(db, f"select count(*) from marts.fct_applications where report_id = '{rid}' and source = 'table'") == [(0,)]
    statuses = _query(db, f"select distinct status from marts.fct_rule_results where report_id = '{rid}' "
                          "and rule_id like 't3.%'")
    assert statuses == [("not_assessable",)]
