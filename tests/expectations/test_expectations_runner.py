"""run_rules end to end on a hand-made scratch warehouse (marts.* tables created here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.schemas import RULE_RESULTS

REPO = Path(__file__).resolve().parents[2]

APPLICANTS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
]
COMMON_LEAVES = [
    "granted",
    "partially_granted",
    "withheld_state_secret",
    "withheld_prohibited_by_law",
    "withheld_three_security_one_stability",
    "withheld_third_party_rights",
    "withheld_internal_affairs",
    "withheld_process_info",
    "withheld_enforcement_case_file",
    "withheld_administrative_query",
    "unable_not_held",
    "unable_requires_creation",
    "unable_unclear_after_correction",
    "not_processed_petition_complaint",
    "not_processed_duplicate",
    "not_processed_publication",
    "not_processed_excessive",
    "not_processed_confirm_or_reissue",
]
LEAVES = {
    "v2019": COMMON_LEAVES + ["other_processing"],
    "v2021": COMMON_LEAVES + ["other_no_correction_overdue", "other_fee_unpaid_overdue", "other_misc"],
}
T4_GROUPS = ["administrative_review", "litigation_without_review", "litigation_after_review"]
T4_PARTS = ["upheld", "corrected", "other_outcome", "pending"]


def clean_t3(version: str) -> dict[tuple[str, str], int]:
    """A t3 where every identity holds (non-trivial numbers)."""
    cells: dict[tuple[str, str], int] = {}
    for i, row in enumerate(LEAVES[version]):
        for j, col in enumerate(APPLICANTS):
            cells[(row, col)] = (i + 2 * j) % 4
    for j, col in enumerate(APPLICANTS):
        tp = sum(cells[(r, col)] for r in LEAVES[version])
        cf, ct = j % 2, (j + 1) % 3
        cells[("total_processed", col)] = tp
        cells[("carried_from_prev_year", col)] = cf
        cells[("carried_to_next_year", col)] = ct
        cells[("new_received", col)] = tp + ct - cf
    rows = {r for r, _ in cells}
    for row in rows:
        cells[(row, "total")] = sum(cells[(row, c)] for c in APPLICANTS)
    return cells


def clean_t4() -> dict[tuple[str, str], int]:
    cells = {}
    for g, group in enumerate(T4_GROUPS):
        parts = {"upheld": g + 1, "corrected": 1, "other_outcome": 0, "pending": g}
        for k, v in parts.items():
            cells[(group, k)] = v
        cells[(group, "total")] = sum(parts.values())
    return cells


class Warehouse:
    def __init__(self) -> None:
        self.reports: list[dict] = []
        self.apps: list[dict] = []
        self.t4: list[dict] = []
        self.warnings: list[dict] = []

    def report(self, rid: str, version: str, has_t3: bool, has_t4: bool) -> None:
        self.reports.append(
            {
                "report_id": rid,
                "template_version": version,
                "t3_version": version if has_t3 else None,
                "has_t3": has_t3,
                "has_t4": has_t4,
                "parse_status": "parsed",
            }
        )

    def t3_cells(self, rid, version, cells, states=None, derived=None, source="table") -> None:
        states = states or {}
        for (row, col), value in cells.items():
            state = states.get((row, col), "number")
            self.apps.append(
                {
                    "report_id": rid,
                    "template_version": version,
                    "row_key": row,
                    "applicant_type": col,
                    "value": value if state in ("number", "zero_word") else None,
                    "cell_state": state,
                    "is_derived": False,
                    "source": source,
                }
            )
        for (row, col), value in (derived or {}).items():
            self.apps.append(
                {
                    "report_id": rid,
                    "template_version": version,
                    "row_key": row,
                    "applicant_type": col,
                    "value": value,
                    "cell_state": "number",
                    "is_derived": True,
                    "source": "table",
                }
            )

    def t4_cells(self, rid, version, cells, states=None) -> None:
        states = states or {}
        for (proc, res), value in cells.items():
            state = states.get((proc, res), "number")
            self.t4.append(
                {
                    "report_id": rid,
                    "template_version": version,
                    "proceeding": proc,
                    "result": res,
                    "value": value if state in ("number", "zero_word") else None,
                    "cell_state": state,
                    "source": "table",
                }
            )

    def warn(self, rid, table_id, row_key, code, severity="warn") -> None:
        self.warnings.append(
            {"report_id": rid, "table_id": table_id, "row_key": row_key, "code": code, "severity": severity}
        )

    def write(self, path: Path) -> None:
        con = duckdb.connect(str(path))
        con.execute("create schema marts")
        con.execute(
            """create table marts.dim_report (report_id varchar, template_version varchar, t3_version varchar,
               has_t3 boolean, has_t4 boolean, parse_status varchar)"""
        )
        con.execute(
            """create table marts.fct_applications (report_id varchar, template_version varchar, row_key varchar,
               applicant_type varchar, value bigint, cell_state varchar, is_derived boolean, source varchar)"""
        )
        con.execute(
            """create table marts.fct_review_litigation (report_id varchar, template_version varchar,
               proceeding varchar, result varchar, value bigint, cell_state varchar, source varchar)"""
        )
        con.execute(
            """create table marts.fct_parse_warnings (report_id varchar, table_id varchar, row_key varchar,
               code varchar, severity varchar)"""
        )
        for table, rows in [
            ("dim_report", self.reports),
            ("fct_applications", self.apps),
            ("fct_review_litigation", self.t4),
            ("fct_parse_warnings", self.warnings),
        ]:
            if not rows:
                continue
            cols = list(rows[0])
            con.executemany(
                f"insert into marts.{table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
                [[r[c] for c in cols] for r in rows],
            )
        con.close()


def build_scratch(path: Path) -> None:
    w = Warehouse()

    # 1. clean v2019: all identities hold
    w.report("clean19", "v2019", True, True)
    w.t3_cells("clean19", "v2019", clean_t3("v2019"))
    w.t4_cells("clean19", "v2019", clean_t4())

    # 2. one broken cell: granted / natural_person is one too high
    cells = clean_t3("v2019")
    cells[("granted", "natural_person")] += 1
    w.report("broken19", "v2019", True, True)
    w.t3_cells("broken19", "v2019", cells)
    w.t4_cells("broken19", "v2019", clean_t4())

    # 3. blank-for-zero (seed 002): only the total column filled (0), breakdown blank / - / / / 无 / not emitted
    cells, states = {}, {}
    for row in ["new_received", "carried_from_prev_year", *LEAVES["v2019"], "total_processed"]:
        cells[(row, "total")] = 0
        for k, col in enumerate(APPLICANTS):
            cells[(row, col)] = 0
            states[(row, col)] = ["blank", "dash", "slash", "none_word", "blank", "blank"][k]
    cells[("carried_to_next_year", "total")] = 0  # its breakdown cells were never emitted
    cells[("new_received", "natural_person")] = 0
    states[("new_received", "natural_person")] = "zero_word"
    w.report("blank19", "v2019", True, True)
    w.t3_cells("blank19", "v2019", cells, states)
    t4 = {(g, r): 0 for g in T4_GROUPS for r in T4_PARTS + ["total"]}
    w.t4_cells("blank19", "v2019", t4, {(g, r): "blank" for g in T4_GROUPS for r in T4_PARTS})

    # 4. pre2019 narrative report
    w.report("pre", "pre2019", False, False)
    w.t3_cells("pre", "pre2019", {("new_received", "total"): 4}, source="narrative")

    # 5. v2019 whose t3 is absent (labels only, blank cells), t4 present and clean
    w.report("absent19", "v2019", False, True)
    w.t3_cells(
        "absent19", "v2019", {k: 0 for k in clean_t3("v2019")}, {k: "blank" for k in clean_t3("v2019")}
    )
    w.t4_cells("absent19", "v2019", clean_t4())

    # 6. v2021 with the three other_* rows; the derived other_processing row is deliberately wrong
    cells = clean_t3("v2021")
    derived = {("other_processing", c): 999 for c in APPLICANTS + ["total"]}
    w.report("clean21", "v2021", True, True)
    w.t3_cells("clean21", "v2021", cells, derived=derived)
    w.t4_cells("clean21", "v2021", clean_t4())

    # 7. a text cell
    cells = clean_t3("v2019")
    w.report("text19", "v2019", True, True)
    w.t3_cells("text19", "v2019", cells, {("partially_granted", "commercial_enterprise"): "text"})
    w.t4_cells("text19", "v2019", clean_t4())

    # 8. a warn-level parse warning on a row whose numbers would fail; an info warning is ignored
    cells = clean_t3("v2019")
    cells[("unable_not_held", "natural_person")] += 5
    w.report("warn19", "v2019", True, True)
    w.t3_cells("warn19", "v2019", cells)
    w.t4_cells("warn19", "v2019", clean_t4())
    w.warn("warn19", "t3", "unable_not_held", "alignment_extra_cells")
    w.warn("warn19", "t3", "granted", "label_fuzzy_match", severity="info")

    # 9. v2021 with a table-wide (row_key NULL) warning on t4
    w.report("t4warn21", "v2021", True, True)
    w.t3_cells("t4warn21", "v2021", clean_t3("v2021"))
    w.t4_cells("t4warn21", "v2021", clean_t4())
    w.warn("t4warn21", "t4", None, "unplaced_cells")

    # 10. v2019 with neither table
    w.report("none19", "v2019", False, False)

    w.write(path)


ARITH_FAMILIES = ("t3.balance", "t3.outcome_sum", "t3.row_total", "t4.group_total")


def _arith(df: pl.DataFrame) -> pl.DataFrame:
    """The t3/t4 cell-arithmetic rules (the other families are tested in test_expectations_families)."""
    return df.filter(pl.col("rule_family").is_in(ARITH_FAMILIES))


@pytest.fixture(scope="module")
def all_results(tmp_path_factory) -> pl.DataFrame:
    from expectations.runner import run_rules

    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    build_scratch(path)
    return run_rules(str(path))


@pytest.fixture(scope="module")
def results(all_results) -> pl.DataFrame:
    return _arith(all_results)


def test_every_report_gets_the_other_families_too(all_results):
    assert all_results.select("report_id", "rule_id").is_duplicated().sum() == 0
    fams = set(all_results["rule_family"])
    assert {"nonneg", "integer", "xy.t3.carryover_chain", "nt.t3.new_received", "t3.printed_subtotals"} <= fams
    # no report ever fails an error rule of the new families on this scratch warehouse
    other = all_results.filter(~pl.col("rule_family").is_in(ARITH_FAMILIES))
    assert other.filter((pl.col("status") == "fail") & (pl.col("severity") == "error")).is_empty()


def _status(results: pl.DataFrame, rid: str) -> dict[str, str]:
    return dict(results.filter(pl.col("report_id") == rid).select("rule_id", "status").iter_rows())


def _detail(results: pl.DataFrame, rid: str, rule_id: str) -> str:
    return results.filter((pl.col("report_id") == rid) & (pl.col("rule_id") == rule_id))["detail"].item()


def test_schema_and_grain(results):
    assert results.schema == pl.Schema(RULE_RESULTS)
    assert results.select("report_id", "rule_id").is_duplicated().sum() == 0
    per_report = dict(results.group_by("report_id").len().iter_rows())
    for rid in ("clean19", "broken19", "blank19", "pre", "absent19", "text19", "warn19", "none19"):
        assert per_report[rid] == 40
    assert per_report["clean21"] == per_report["t4warn21"] == 42
    assert len(results) == 8 * 40 + 2 * 42
    assert set(results["expectation"]) == {"expect_column_sums_to_balance"}
    assert set(results["status"]) <= {"pass", "fail", "not_assessable"}
    na = results.filter(pl.col("status") == "not_assessable")
    assert na["lhs"].null_count() == len(na) and na["rhs"].null_count() == len(na)
    assessed = results.filter(pl.col("status") != "not_assessable")
    assert assessed["lhs"].null_count() == 0


def test_clean_v2019_all_pass(results):
    st = _status(results, "clean19")
    assert set(st.values()) == {"pass"}
    row = results.filter((pl.col("report_id") == "clean19") & (pl.col("rule_id") == "t3.balance.total")).row(
        0, named=True
    )
    cells = clean_t3("v2019")
    expected = cells[("new_received", "total")] + cells[("carried_from_prev_year", "total")]
    assert row["lhs"] == row["rhs"] == expected
    assert row["identity_id"] == "v2019.t3.balance" and row["rule_family"] == "t3.balance"
    assert row["severity"] == "error"
    assert "lenient" not in row["detail"]


def test_broken_cell_fails_exactly_expected_rules(results):
    st = _status(results, "broken19")
    assert {k for k, v in st.items() if v == "fail"} == {
        "t3.row_total.granted",
        "t3.outcome_sum.natural_person",
    }
    assert {k for k, v in st.items() if v == "not_assessable"} == set()
    d = _detail(results, "broken19", "t3.row_total.granted")
    assert d.startswith("fails:")


def test_blank_for_zero_passes_with_lenient_detail(results):
    st = _status(results, "blank19")
    assert set(st.values()) == {"pass"}
    d = _detail(results, "blank19", "t3.row_total.granted")
    assert "lenient policy: blank cells counted as 0 in" in d
    assert "t3.granted.natural_person" in d
    assert "lenient policy" in _detail(results, "blank19", "t3.row_total.carried_to_next_year")  # not emitted
    assert "lenient policy" in _detail(results, "blank19", "t4.group_total.administrative_review")
    assert "lenient" not in _detail(results, "blank19", "t3.balance.total")  # only printed zeros


def test_pre2019_not_assessable(results):
    rows = results.filter(pl.col("report_id") == "pre")
    assert set(rows["status"]) == {"not_assessable"}
    assert set(rows["detail"]) == {"no statistical tables (pre2019 narrative report)"}
    assert set(rows["identity_id"].str.slice(0, 5)) == {"v2019"}


def test_absent_t3_not_assessable(results):
    st = _status(results, "absent19")
    for rule_id, status in st.items():
        if rule_id.startswith("t3."):
            assert status == "not_assessable"
            assert _detail(results, "absent19", rule_id) == "table absent"
        else:
            assert status == "pass"
    none = results.filter(pl.col("report_id") == "none19")
    assert set(none["status"]) == {"not_assessable"} and set(none["detail"]) == {"table absent"}


def test_v2021_with_other_rows(results):
    st = _status(results, "clean21")
    assert set(st.values()) == {"pass"}
    for leaf in ("other_no_correction_overdue", "other_fee_unpaid_overdue", "other_misc"):
        assert st[f"t3.row_total.{leaf}"] == "pass"
    assert "t3.row_total.other_processing" not in st
    ident = results.filter((pl.col("report_id") == "clean21") & (pl.col("rule_id") == "t3.balance.total"))
    assert ident["identity_id"].item() == "v2021.t3.balance"


def test_text_cell_not_assessable(results):
    st = _status(results, "text19")
    na = {k for k, v in st.items() if v == "not_assessable"}
    assert na == {"t3.row_total.partially_granted", "t3.outcome_sum.commercial_enterprise"}
    assert {v for k, v in st.items() if k not in na} == {"pass"}
    assert "t3.partially_granted.commercial_enterprise" in _detail(
        results, "text19", "t3.row_total.partially_granted"
    )


def test_parse_warning_not_assessable(results):
    st = _status(results, "warn19")
    na = {k for k, v in st.items() if v == "not_assessable"}
    expected = {"t3.row_total.unable_not_held"} | {f"t3.outcome_sum.{c}" for c in APPLICANTS + ["total"]}
    assert na == expected
    assert "fail" not in st.values()  # parser doubt is not a report error
    d = _detail(results, "warn19", "t3.row_total.unable_not_held")
    assert "alignment_extra_cells" in d and "t3.unable_not_held" in d
    assert "label_fuzzy_match" not in " ".join(results.filter(pl.col("report_id") == "warn19")["detail"])


def test_table_wide_warning(results):
    st = _status(results, "t4warn21")
    for rule_id, status in st.items():
        assert status == ("not_assessable" if rule_id.startswith("t4.") else "pass"), rule_id
    assert "unplaced_cells" in _detail(results, "t4warn21", "t4.group_total.litigation_after_review")


def test_summarise(results):
    from expectations.runner import summarise

    s = summarise(results)
    assert s["rows"] == len(results)
    assert s["reports"] == 10
    assert s["by_family"]["t3.row_total"]["fail"] == 1
    assert sum(s["by_status"].values()) == len(results)
    assert s["worst_reports"][0] == {
        "report_id": "broken19",
        "error_failures": 2,
        "failed_rules": ["t3.outcome_sum.natural_person", "t3.row_total.granted"],
    }
    import json

    json.dumps(s)


def test_status_comes_from_ge(tmp_path, monkeypatch):
    """If GE reports a row as unexpected, the runner says fail, whatever the numbers."""
    from expectations import runner

    path = tmp_path / "w.duckdb"
    w = Warehouse()
    w.report("a", "v2019", True, True)
    w.t3_cells("a", "v2019", clean_t3("v2019"))
    w.t4_cells("a", "v2019", clean_t4())
    w.write(path)

    real = runner.validate_frame

    def fake(frame, rules, name, gx_and_context=None):
        out = real(frame, rules, name, gx_and_context)
        res = out["t3.balance.total"].result
        res["unexpected_index_list"] = [0]
        res["unexpected_count"] = 1
        return out

    monkeypatch.setattr(runner, "validate_frame", fake)
    st = _status(runner.run_rules(str(path)), "a")
    assert st["t3.balance.total"] == "fail"
    assert st["t3.balance.natural_person"] == "pass"


def test_empty_warehouse(tmp_path):
    from expectations.runner import run_rules

    path = tmp_path / "empty.duckdb"
    Warehouse().write(path)
    out = run_rules(str(path))
    assert out.is_empty() and out.schema == pl.Schema(RULE_RESULTS)


def test_imports_are_light():
    code = (
        "import sys, expectations.runner, expectations.identities;"
        "assert 'dagster' not in sys.modules;"
        "assert 'great_expectations' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    code = "import sys, expectations.custom; assert 'dagster' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_breakdown_missing_is_named(tmp_path):
    """templates.md §6.6: a non-zero total with a blank breakdown fails, and the detail says so."""
    from expectations.runner import run_rules

    cells = clean_t3("v2019")
    states = {("granted", c): "blank" for c in APPLICANTS}
    w = Warehouse()
    w.report("b", "v2019", True, False)
    w.t3_cells("b", "v2019", cells, states)
    path = tmp_path / "b.duckdb"
    w.write(path)
    out = run_rules(str(path))
    row = out.filter(pl.col("rule_id") == "t3.row_total.granted").row(0, named=True)
    assert row["status"] == "fail"
    assert row["rhs"] == 0 and row["lhs"] == cells[("granted", "total")] > 0
    assert "right-hand side is entirely blank" in row["detail"]
    assert "lenient policy: blank cells counted as 0 in" in row["detail"]
    assert set(out.filter(pl.col("rule_id").str.starts_with("t4."))["detail"]) == {"table absent"}


def test_existing_connection(tmp_path):
    """Inside a process holding a read-write connection, pass it instead of the path."""
    from expectations.runner import run_rules

    path = tmp_path / "c.duckdb"
    w = Warehouse()
    w.report("a", "v2019", True, True)
    w.t3_cells("a", "v2019", clean_t3("v2019"))
    w.t4_cells("a", "v2019", clean_t4())
    w.write(path)
    con = duckdb.connect(str(path))
    try:
        out = _arith(run_rules(connection=con))
        assert set(out["status"]) == {"pass"} and len(out) == 40
        con.execute("select 1")  # still open
    finally:
        con.close()
    with pytest.raises(ValueError):
        run_rules()
