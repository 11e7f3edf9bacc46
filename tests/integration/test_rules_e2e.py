"""The cross-year carry-over rule on generated series of reports, through the real pipeline.

Two agencies, four consecutive years each (2019-2022, across the v2019 -> v2021 template change):
one series keeps the 表三 carry-over chain, the other breaks it once (2021: 上年结转 differs from the
2020 report's 结转下年度继续办理). Every report is internally consistent, so the cross-year rule must
fail exactly on the broken year and no error-severity rule may fail anywhere.
"""

import random
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import run_pipeline
from ingest.synth import make_agency
from ingest.synth.series import generate_series, write_series

YEARS = [2019, 2020, 2021, 2022]


@pytest.fixture(scope="module")
def series_warehouse(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("series")
    landing = root / "landing"
    rng = random.Random(20261122)
    intact = make_agency("河南省", "焦作市", None, "edu")
    broken = make_agency("湖南省", "岳阳市", None, "audit")
    truth: dict[str, dict] = {}
    for agency, brk in ((intact, False), (broken, True)):
        reports = generate_series(rng, agency, YEARS, break_carryover=brk, break_year=2021 if brk else None)
        write_series(landing, reports, root / "series_truth.jsonl")
        for rep in reports:
            truth[rep.filename] = {"agency": agency.name, "year": rep.truth["report_year"], **rep.truth["series"]}
    warehouse = root / "w.duckdb"
    assert run_pipeline(landing, warehouse, quiet=True)
    return warehouse, truth


def _rows(db: Path, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_series_is_one_agency_per_series(series_warehouse):
    db, truth = series_warehouse
    rows = _rows(db, "select source_path, agency_id, report_year, template_version from marts.dim_report")
    assert len(rows) == len(truth) == 8
    by_agency: dict[str, set] = {}
    for path, agency_id, year, _ in rows:
        t = truth[Path(path).name]
        assert year == t["year"]
        by_agency.setdefault(t["agency"], set()).add(agency_id)
    assert all(len(ids) == 1 for ids in by_agency.values()), by_agency


def test_carryover_chain_fails_only_where_broken(series_warehouse):
    db, truth = series_warehouse
    rows = _rows(
        db,
        """select d.source_path, r.rule_id, r.severity, r.status, r.detail
           from marts.fct_rule_results r join marts.dim_report d using (report_id)
           where r.rule_family = 'xy.t3.carryover_chain'""",
    )
    seen = set()
    for path, rule_id, severity, status, detail in rows:
        t = truth[Path(path).name]
        seen.add(rule_id)
        assert severity == ("warn" if rule_id.endswith(".total") else "info")
        if t["year"] == YEARS[0]:
            assert status == "not_assessable", (path, rule_id, detail)
            assert "Y-1" in detail
        elif t["carryover_broken"] and rule_id in ("xy.t3.carryover_chain.total", "xy.t3.carryover_chain.natural_person"):
            assert status == "fail", (path, rule_id, detail)
            assert f"difference {t['break_delta']}" in detail
        else:
            assert status == "pass", (path, rule_id, detail)
    assert len(seen) == 7


def test_audit_flags_the_broken_year(series_warehouse):
    db, truth = series_warehouse
    rows = _rows(db, "select source_path, carryover_status, corrections_zh, error_failures from marts.rpt_report_audit")
    for path, carry, corrections, errors in rows:
        t = truth[Path(path).name]
        assert errors == 0, path
        expected = "not_checkable" if t["year"] == YEARS[0] else ("inconsistent" if t["carryover_broken"] else "consistent")
        assert carry == expected, (path, carry)
        if t["carryover_broken"]:
            assert "上年结转" in corrections


def test_no_error_rule_fails_on_consistent_reports(series_warehouse):
    db, _ = series_warehouse
    bad = _rows(db, "select rule_id, detail from marts.fct_rule_results where severity = 'error' and status = 'fail'")
    assert bad == []


def test_rule_catalogue_lists_every_evaluated_rule(series_warehouse):
    db, _ = series_warehouse
    missing = _rows(
        db,
        """select distinct r.rule_id, r.identity_id from marts.fct_rule_results r
           anti join marts.rpt_rule_catalogue c using (rule_id, identity_id)""",
    )
    assert missing == []
    fams = {f for (f,) in _rows(db, "select distinct rule_family from marts.rpt_rule_catalogue")}
    assert {"t3.balance", "t2.total_ge_new", "nonneg", "xy.t3.carryover_chain", "nt.t3.new_received"} <= fams


def test_findings_checks_name_the_broken_reports(series_warehouse):
    """The asset checks on fct_rule_results, run as Dagster runs them (direct invocation of the real
    check): the cross-year family fails on the broken year's report alone, with its failing rules;
    no error-level rule fails; every family's counts are the mart's."""
    from dagster_project.defs.quality import FAMILY_CHECKS, report_arithmetic_findings
    from dagster_project.defs.resources import WarehousePaths

    db, truth = series_warehouse
    paths = WarehousePaths(landing_dir=str(db.parent / "landing"), warehouse=str(db))
    results = {r.check_name: r for r in report_arithmetic_findings(paths=paths)}
    assert set(results) == {"report_arithmetic_findings", *FAMILY_CHECKS}
    assert results["report_arithmetic_findings"].passed
    assert results["report_arithmetic_findings"].metadata["reports_with_error_failures"].value == 0
    (broken_id,) = {r[0] for r in _rows(db, """select report_id from marts.fct_rule_results
                                               where status = 'fail' and rule_family = 'xy.t3.carryover_chain'""")}
    failing = {r[0] for r in _rows(db, "select report_id from marts.fct_rule_results where status = 'fail' "
                                       "and starts_with(rule_family, 'xy.')")}
    cross_year = results["rules_cross_year"]
    assert not cross_year.passed
    worst = cross_year.metadata["worst_reports"].value
    assert worst.count("| rpt_") == min(10, len(failing)) and all(r in worst for r in failing)
    broken_row = next(line for line in worst.splitlines() if broken_id in line)
    assert broken_row.endswith("| 2 | xy.t3.carryover_chain.natural_person, xy.t3.carryover_chain.total |")
    for name, (_, prefixes) in FAMILY_CHECKS.items():
        where = " or ".join(f"starts_with(rule_family, '{p}')" for p in prefixes)
        expected = dict(_rows(db, f"select status, count(*) from marts.fct_rule_results where {where} group by 1"))
        for status in ("pass", "fail", "not_assessable"):
            assert results[name].metadata[status].value == expected.get(status, 0), (name, status)
