"""Expansion of the YAML identities into rule instances (no Great Expectations needed)."""

from __future__ import annotations

from collections import Counter

import pytest

from expectations.identities import (
    ExpressionError,
    Term,
    load_schema,
    parse_expression,
    rule_set,
    wide_column,
)


def _yaml_row_total_count(version: str) -> int:
    """Independent count from the YAML: the for_each list of row_total with '@group' items expanded."""
    schema = load_schema()
    ident = next(i for i in schema[version]["identities"] if i["id"] == f"{version}.t3.row_total")
    groups = schema[version]["tables"]["t3"]["row_groups"]
    n = 0
    for item in ident["for_each"]["r"]:
        if item.startswith("@"):
            members = groups[item[1:]]
            if isinstance(members, dict):  # {ref: shared.t3_row_groups.x}
                node = schema
                for part in members["ref"].split("."):
                    node = node[part]
                members = node
            n += len(members)
        else:
            n += 1
    return n


def test_counts_v2019():
    rs = rule_set("v2019")
    counts = Counter(r.rule_family for r in rs.rules)
    assert counts == {"t3.balance": 7, "t3.outcome_sum": 7, "t3.row_total": 23, "t4.group_total": 3}
    assert counts["t3.row_total"] == _yaml_row_total_count("v2019")
    assert len(rs.rules) == 40
    assert len(rs.columns) == 23 * 7 + 15


def test_counts_v2021():
    rs = rule_set("v2021")
    counts = Counter(r.rule_family for r in rs.rules)
    assert counts == {"t3.balance": 7, "t3.outcome_sum": 7, "t3.row_total": 25, "t4.group_total": 3}
    assert counts["t3.row_total"] == _yaml_row_total_count("v2021")
    assert len(rs.rules) == 42
    assert len(rs.columns) == 25 * 7 + 15


def test_rule_ids_and_metadata():
    rs = rule_set("v2019")
    by_id = {r.rule_id: r for r in rs.rules}
    for rid in ("t3.balance.total", "t3.row_total.granted", "t4.group_total.administrative_review"):
        assert rid in by_id
    r = by_id["t3.balance.total"]
    assert r.identity_id == "v2019.t3.balance"
    assert r.rule_family == "t3.balance"
    assert r.severity == "error"
    assert r.template_version == "v2019"
    assert r.lhs_columns == ["t3__new_received__total", "t3__carried_from_prev_year__total"]
    assert r.rhs_columns == ["t3__total_processed__total", "t3__carried_to_next_year__total"]
    assert r.signs == [1, 1, 1, 1]
    assert r.tolerance == 0.0
    # balance / outcome_sum bind c over t3_all_cols (7 columns incl. total)
    assert sorted(k for k in by_id if k.startswith("t3.balance.")) == sorted(
        f"t3.balance.{c}" for c in load_schema()["sets"]["t3_all_cols"]
    )


def test_row_total_expands_groups():
    v19 = {r.rule_id: r for r in rule_set("v2019").rules}
    v21 = {r.rule_id: r for r in rule_set("v2021").rules}
    assert "t3.row_total.withheld_state_secret" in v19
    assert "t3.row_total.other_processing" in v19
    assert "t3.row_total.other_processing" not in v21  # derived in v2021: rules use the leaves
    for leaf in ("other_no_correction_overdue", "other_fee_unpaid_overdue", "other_misc"):
        assert f"t3.row_total.{leaf}" in v21
    r = v19["t3.row_total.granted"]
    assert r.lhs_columns == ["t3__granted__total"]
    assert r.rhs_columns == [
        wide_column("t3", "granted", c) for c in load_schema()["sets"]["t3_applicant_types"]
    ]


def test_outcome_sum_leaves():
    v19 = {r.rule_id: r for r in rule_set("v2019").rules}["t3.outcome_sum.total"]
    v21 = {r.rule_id: r for r in rule_set("v2021").rules}["t3.outcome_sum.total"]
    assert v19.lhs_columns == ["t3__total_processed__total"]
    assert len(v19.rhs) == 2 + 8 + 3 + 5 + 1
    assert len(v21.rhs) == 2 + 8 + 3 + 5 + 3
    assert "t3__other_processing__total" in v19.rhs_columns
    assert "t3__other_processing__total" not in v21.rhs_columns


def test_group_total():
    r = {x.rule_id: x for x in rule_set("v2021").rules}["t4.group_total.litigation_after_review"]
    assert r.lhs_columns == ["t4__litigation_after_review__total"]
    assert r.rhs_columns == [
        f"t4__litigation_after_review__{c}" for c in ("upheld", "corrected", "other_outcome", "pending")
    ]


def test_prose_identities_are_skipped():
    for version in ("v2019", "v2021"):
        skipped = {s.identity_id for s in rule_set(version).skipped}
        assert {f"{version}.nonneg", f"{version}.integer"} <= skipped
    assert "v2019.t3.printed_subtotals" in {s.identity_id for s in rule_set("v2019").skipped}
    # warn-level identities are not selected by default, but expand when asked for
    warn = rule_set("v2019", levels=("warn",))
    assert not warn.rules  # t2 identities use <= / >= / implies: not an equality
    assert {s.identity_id for s in warn.skipped} >= {"v2019.t2.published_le_made", "v2019.t2.total_ge_new"}


def test_parse_expression_grammar():
    schema = load_schema()
    op, lhs, rhs = parse_expression("t3.a.total - t3.b.total == sum(t3.@withheld.total)", schema, "v2019")
    assert op == "=="
    assert lhs == [Term("t3", "a", "total", 1), Term("t3", "b", "total", -1)]
    assert len(rhs) == 8 and all(t.sign == 1 for t in rhs)
    op, lhs, rhs = parse_expression("t3.x.total >= t3.y.total", schema, "v2019")
    assert op == ">="
    with pytest.raises(ExpressionError):
        parse_expression("t3.@withheld.total == t3.x.total", schema, "v2019")  # group outside sum()
    with pytest.raises(ExpressionError):
        parse_expression("every cell of type count >= 0", schema, "v2019")
    with pytest.raises(ExpressionError):
        parse_expression("t3.{c}.total == t3.x.total", schema, "v2019")
    with pytest.raises(ExpressionError):
        parse_expression(
            "t3.carried_from_prev_year.total == prev.t3.carried_to_next_year.total", schema, "v2019"
        )
    with pytest.raises(ExpressionError):
        parse_expression("sum(t3.@nope.total) == t3.x.total", schema, "v2019")


def test_unknown_version():
    with pytest.raises(ValueError):
        rule_set("pre2019")
