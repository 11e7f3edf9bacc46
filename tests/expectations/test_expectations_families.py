"""The derived rule families (表二 soft rules, counts, printed subtotals, cross-year, narrative) on a
hand-made scratch warehouse, through run_rules (statuses from the Great Expectations results)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import polars as pl
import pytest

_spec = importlib.util.spec_from_file_location("_runner_tests", Path(__file__).with_name("test_expectations_runner.py"))
_rt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rt)
APPLICANTS, clean_t3, clean_t4 = _rt.APPLICANTS, _rt.clean_t3, _rt.clean_t4


class Wh:
    def __init__(self) -> None:
        self.reports, self.apps, self.t4, self.t2, self.narr, self.warnings = [], [], [], [], [], []

    def report(self, rid, version, agency, year, t2=True, t3=True, t4=True):
        self.reports.append(dict(report_id=rid, template_version=version, agency_id=agency, report_year=year,
                                 has_t2=t2, has_t3=t3, has_t4=t4, parse_status="parsed"))

    def tables(self, rid, version, t3=None, t3_states=None):
        t3 = t3 or clean_t3(version)
        t3_states = t3_states or {}
        for (row, col), v in t3.items():
            st = t3_states.get((row, col), "number")
            self.apps.append(dict(report_id=rid, template_version=version, row_key=row, applicant_type=col,
                                  value=v if st == "number" else None, cell_state=st, is_derived=False, source="table"))
        for (p, r), v in clean_t4().items():
            self.t4.append(dict(report_id=rid, template_version=version, proceeding=p, result=r, value=v,
                                cell_state="number", source="table"))

    def t2cell(self, rid, table, item, measure, value, state="number"):
        self.t2.append(dict(report_id=rid, table_id=table, item=item, measure=measure,
                            value=value if state == "number" else None, cell_state=state))

    def narrative(self, rid, metric, value, qualifier="exact", evidence="共受理申请"):
        self.narr.append(dict(report_id=rid, metric=metric, value=value, qualifier=qualifier, evidence=evidence))

    def warn(self, rid, table, row, code, raw=None):
        self.warnings.append(dict(report_id=rid, table_id=table, row_key=row, code=code, severity="warn", raw_text=raw))

    def write(self, path: Path) -> None:
        con = duckdb.connect(str(path))
        con.execute("create schema marts")
        ddl = {
            "dim_report": "report_id varchar, template_version varchar, agency_id varchar, report_year integer, "
                          "has_t2 boolean, has_t3 boolean, has_t4 boolean, parse_status varchar",
            "fct_applications": "report_id varchar, template_version varchar, row_key varchar, applicant_type varchar, "
                                "value bigint, cell_state varchar, is_derived boolean, source varchar",
            "fct_review_litigation": "report_id varchar, template_version varchar, proceeding varchar, result varchar, "
                                     "value bigint, cell_state varchar, source varchar",
            "fct_proactive_disclosure": "report_id varchar, table_id varchar, item varchar, measure varchar, "
                                        "value double, cell_state varchar",
            "fct_narrative_metrics": "report_id varchar, metric varchar, value double, qualifier varchar, evidence varchar",
            "fct_parse_warnings": "report_id varchar, table_id varchar, row_key varchar, code varchar, severity varchar, "
                                  "raw_text varchar",
        }
        data = {"dim_report": self.reports, "fct_applications": self.apps, "fct_review_litigation": self.t4,
                "fct_proactive_disclosure": self.t2, "fct_narrative_metrics": self.narr,
                "fct_parse_warnings": self.warnings}
        for table, cols in ddl.items():
            con.execute(f"create table marts.{table} ({cols})")
            rows = data[table]
            if rows:
                names = list(rows[0])
                con.executemany(
                    f"insert into marts.{table} ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
                    [[r[c] for c in names] for r in rows],
                )
        con.close()


def _t3_with_carry(version: str, carried_from: int, carried_to: int) -> dict:
    """clean_t3 with natural_person carry-over set, identities repaired through new_received."""
    t3 = clean_t3(version)
    c = "natural_person"
    t3[("carried_from_prev_year", c)] = carried_from
    t3[("carried_to_next_year", c)] = carried_to
    t3[("new_received", c)] = t3[("total_processed", c)] + carried_to - carried_from
    for row in ("carried_from_prev_year", "carried_to_next_year", "new_received"):
        t3[(row, "total")] = sum(t3[(row, a)] for a in APPLICANTS)
    return t3


def _next_year(prev: dict, version: str, delta: int = 0) -> dict:
    """A clean t3 whose carried_from_prev_year is prev's carried_to_next_year (+delta natural persons)."""
    t3 = clean_t3(version)
    for a in APPLICANTS:
        cf = prev[("carried_to_next_year", a)] + (delta if a == "natural_person" else 0)
        t3[("carried_from_prev_year", a)] = cf
        t3[("new_received", a)] = t3[("total_processed", a)] + t3[("carried_to_next_year", a)] - cf
    for row in ("carried_from_prev_year", "new_received"):
        t3[(row, "total")] = sum(t3[(row, a)] for a in APPLICANTS)
    return t3


def build(path: Path) -> None:
    w = Wh()
    # agency A: 2020 (v2019) -> 2021 (v2021), chain holds on natural_person (7 carried)
    w.report("a20", "v2019", "A", 2020)
    w.tables("a20", "v2019", _t3_with_carry("v2019", 2, 7))
    w.report("a21", "v2021", "A", 2021)
    base20 = _t3_with_carry("v2019", 2, 7)
    t3 = _t3_with_carry("v2021", 7, 1)
    # copy the other columns' carried_to_next of 2020 so every column chains
    for a in APPLICANTS[1:]:
        t3[("carried_from_prev_year", a)] = base20[("carried_to_next_year", a)]
        t3[("new_received", a)] = t3[("total_processed", a)] + t3[("carried_to_next_year", a)] - t3[("carried_from_prev_year", a)]
    for row in ("carried_from_prev_year", "new_received"):
        t3[(row, "total")] = sum(t3[(row, a)] for a in APPLICANTS)
    w.tables("a21", "v2021", t3)
    # agency B: chain broken (2020 carried 7 to next year, 2021 says 9 came in)
    w.report("b20", "v2019", "B", 2020)
    w.tables("b20", "v2019", _t3_with_carry("v2019", 0, 7))
    w.report("b21", "v2021", "B", 2021)
    w.tables("b21", "v2021", _next_year(_t3_with_carry("v2019", 0, 7), "v2021", delta=2))
    # agency C: Y-1 is pre2019; agency D: no Y-1 at all
    w.report("c19pre", "pre2019", "C", 2019, False, False, False)
    w.report("c20", "v2019", "C", 2020)
    w.tables("c20", "v2019")
    w.report("d21", "v2021", "D", 2021)
    w.tables("d21", "v2021")
    # 表二 of a20 (v2019): published 5 > made 3 (soft fail); procurement 2 items 50000 万元 (implausible)
    for item in ("regulations", "normative_documents"):
        made, pub, tot = (3, 5, 9) if item == "normative_documents" else (0, 0, 0)
        w.t2cell("a20", "t2_art20_1", item, "newly_made", made)
        w.t2cell("a20", "t2_art20_1", item, "newly_published", pub)
        w.t2cell("a20", "t2_art20_1", item, "total_published", tot)
    w.t2cell("a20", "t2_art20_9", "centralized_procurement", "procurement_items", 2)
    w.t2cell("a20", "t2_art20_9", "centralized_procurement", "procurement_amount", 50000.0)
    # 表二 of b20: zero items but an amount; regulations row slashed (lenient: counted as 0)
    w.t2cell("b20", "t2_art20_9", "centralized_procurement", "procurement_items", 0)
    w.t2cell("b20", "t2_art20_9", "centralized_procurement", "procurement_amount", 12.5)
    for m in ("newly_made", "newly_published", "total_published"):
        w.t2cell("b20", "t2_art20_1", "regulations", m, None, "slash")
    # c20: parser doubt on 表二 normative documents row
    w.warn("c20", "t2_art20_1", "normative_documents", "ambiguous_alignment")
    w.t2cell("c20", "t2_art20_1", "normative_documents", "newly_made", 1)
    w.t2cell("c20", "t2_art20_1", "normative_documents", "newly_published", 4)
    # v2021 in force: a21 issued 3, repealed 0, in force 0 (implausible); d21 fine
    for rid, (iss, rep, inf) in (("a21", (3, 0, 0)), ("d21", (1, 0, 12))):
        for m, v in (("issued", iss), ("repealed", rep), ("in_force", inf)):
            w.t2cell(rid, "t2_art20_1", "normative_documents", m, v)
    # counts printed negative / fractional in d21 (kept as text with a warn-level warning)
    st = {("granted", "natural_person"): "text"}
    w.apps = [r for r in w.apps if r["report_id"] != "d21"]
    w.tables("d21", "v2021", clean_t3("v2021"), st)
    w.warn("d21", "t3", "granted", "negative_value", "-3")
    # narrative: a20 agrees, b20 disagrees, c20 approximate
    t3a = _t3_with_carry("v2019", 2, 7)
    w.narrative("a20", "requests_received_total", t3a[("new_received", "total")])
    w.narrative("b20", "requests_received_total", 999)
    w.narrative("c20", "requests_received_total", 10, "approx_nearly")
    w.narrative("a20", "admin_review_total", clean_t4()[("administrative_review", "total")])
    w.write(path)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> pl.DataFrame:
    from expectations.runner import run_rules

    path = tmp_path_factory.mktemp("fam") / "w.duckdb"
    build(path)
    return run_rules(str(path))


def _row(results, rid, rule_id) -> dict:
    df = results.filter((pl.col("report_id") == rid) & (pl.col("rule_id") == rule_id))
    assert len(df) == 1, (rid, rule_id, len(df))
    return df.row(0, named=True)


def test_grain_and_catalogue(results):
    from expectations.families import rule_catalogue

    assert results.select("report_id", "rule_id").is_duplicated().sum() == 0
    cat = rule_catalogue()
    assert cat.select("rule_id", "identity_id").is_duplicated().sum() == 0
    assert set(cat["severity"]) <= {"error", "warn", "info"}
    produced = results.select("rule_id", "identity_id").unique()
    assert produced.join(cat, on=["rule_id", "identity_id"], how="anti").is_empty()
    assert cat.filter(pl.col("rule_id") == "xy.t3.carryover_chain.total")["severity"].item() == "warn"
    assert cat.filter(pl.col("rule_id") == "xy.t3.carryover_chain.natural_person")["severity"].item() == "info"


def test_carryover_chain(results):
    r = _row(results, "a21", "xy.t3.carryover_chain.total")
    assert r["status"] == "pass" and "compared with the 2020 report a20" in r["detail"]
    assert _row(results, "a21", "xy.t3.carryover_chain.natural_person")["status"] == "pass"
    b = _row(results, "b21", "xy.t3.carryover_chain.total")
    assert (b["status"], b["severity"], b["lhs"] - b["rhs"]) == ("fail", "warn", 2.0)
    n = _row(results, "b21", "xy.t3.carryover_chain.natural_person")
    assert (n["status"], n["severity"], n["lhs"], n["rhs"]) == ("fail", "info", 9.0, 7.0)
    assert _row(results, "b21", "xy.t3.carryover_chain.commercial_enterprise")["status"] == "pass"
    assert "pre2019" in _row(results, "c20", "xy.t3.carryover_chain.total")["detail"]
    assert _row(results, "c20", "xy.t3.carryover_chain.total")["status"] == "not_assessable"
    d = _row(results, "d21", "xy.t3.carryover_chain.total")
    assert d["status"] == "not_assessable" and "no report of this agency for Y-1" in d["detail"]
    assert _row(results, "a20", "xy.t3.carryover_chain.total")["status"] == "not_assessable"


def test_t2_soft_rules(results):
    r = _row(results, "a20", "t2.published_le_made.normative_documents")
    assert (r["status"], r["severity"], r["lhs"], r["rhs"]) == ("fail", "warn", 5.0, 3.0)
    assert _row(results, "a20", "t2.total_ge_new.normative_documents")["status"] == "pass"
    assert _row(results, "a20", "t2.procurement_unit_plausibility")["status"] == "fail"
    assert _row(results, "a20", "t2.procurement_zero_items")["status"] == "pass"
    assert _row(results, "b20", "t2.procurement_zero_items")["status"] == "fail"
    reg = _row(results, "b20", "t2.published_le_made.regulations")
    assert reg["status"] == "pass" and "lenient policy" in reg["detail"]
    inf = _row(results, "a21", "t2.in_force_nonneg_and_plausible.normative_documents")
    assert inf["status"] == "fail"
    assert _row(results, "d21", "t2.in_force_nonneg_and_plausible.normative_documents")["status"] == "pass"
    # v2019 rules are not given to v2021 reports and vice versa
    assert results.filter((pl.col("report_id") == "a21") & pl.col("rule_id").str.starts_with("t2.published")).is_empty()


def test_parser_doubt_is_not_a_report_error(results):
    r = _row(results, "c20", "t2.published_le_made.normative_documents")
    assert r["status"] == "not_assessable" and "parser doubt" in r["detail"]


def test_negative_count_fails_nonneg_and_blocks_arithmetic(results):
    r = _row(results, "d21", "nonneg")
    assert (r["status"], r["severity"], r["lhs"]) == ("fail", "error", 1.0)
    assert "t3.granted (-3)" in r["detail"]
    assert _row(results, "d21", "integer")["status"] == "pass"
    assert _row(results, "d21", "t3.row_total.granted")["status"] == "not_assessable"
    assert _row(results, "a20", "nonneg")["status"] == "pass"
    assert _row(results, "c19pre", "nonneg")["status"] == "not_assessable"


def test_narrative_rules(results):
    assert _row(results, "a20", "nt.t3.new_received")["status"] == "pass"
    b = _row(results, "b20", "nt.t3.new_received")
    assert (b["status"], b["severity"], b["lhs"]) == ("fail", "warn", 999.0)
    assert "approximate" in _row(results, "c20", "nt.t3.new_received")["detail"]
    assert _row(results, "a20", "nt.t4.review.administrative_review")["status"] == "pass"
    assert "states no" in _row(results, "d21", "nt.t3.new_received")["detail"]


def test_printed_subtotals_not_assessable_when_none_printed(results):
    r = _row(results, "a20", "t3.printed_subtotals")
    assert r["status"] == "not_assessable" and "does not emit printed subtotal" in r["detail"]
    assert _row(results, "a21", "t3.printed_other_group")["status"] == "not_assessable"
    assert _row(results, "c19pre", "t3.printed_subtotals")["detail"].startswith("no statistical tables")


def test_custom_expectation_comparisons():
    import pandas as pd

    from expectations.custom import _compare

    d = pd.Series([-1.0, 0.0, 1.0]).to_numpy()
    assert list(_compare(d, "<=", 0)) == [True, True, False]
    assert list(_compare(d, ">=", 0)) == [False, True, True]
    assert list(_compare(d, "==", 0)) == [False, True, False]
    with pytest.raises(ValueError):
        _compare(d, "<", 0)
