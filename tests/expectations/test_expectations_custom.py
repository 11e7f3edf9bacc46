"""ExpectColumnSumsToBalance on tiny pandas frames (ephemeral GE context, pandas datasource)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

os.environ["GX_ANALYTICS_ENABLED"] = "false"
gx = pytest.importorskip("great_expectations")

from expectations.custom import EXPECTATION_TYPE, METRIC_NAME, ExpectColumnSumsToBalance


@pytest.fixture(scope="module")
def validate():
    context = gx.get_context(mode="ephemeral")
    counter = {"n": 0}

    def _run(df: pd.DataFrame, expectation):
        counter["n"] += 1
        n = counter["n"]
        batch_def = (
            context.data_sources.add_pandas(f"ds{n}")
            .add_dataframe_asset(f"a{n}")
            .add_batch_definition_whole_dataframe(f"b{n}")
        )
        batch = batch_def.get_batch(batch_parameters={"dataframe": df})
        return batch.validate(expectation, result_format="COMPLETE")

    return _run


def test_passes(validate):
    df = pd.DataFrame({"total": [3, 0, 10], "a": [1, 0, 4], "b": [2, 0, 6]})
    res = validate(df, ExpectColumnSumsToBalance(column_list=["total", "a", "b"], lhs_count=1))
    assert res.success
    assert res.result["unexpected_index_list"] == []
    assert res.expectation_config.type == EXPECTATION_TYPE


def test_fails_with_row_indices(validate):
    df = pd.DataFrame({"total": [3, 5, 10, 1], "a": [1, 1, 4, 1], "b": [2, 1, 6, 1]})
    res = validate(df, ExpectColumnSumsToBalance(column_list=["total", "a", "b"], lhs_count=1))
    assert not res.success
    assert res.result["unexpected_index_list"] == [1, 3]
    assert res.result["unexpected_count"] == 2


def test_two_sided_balance(validate):
    # new + carried_in == processed + carried_out
    df = pd.DataFrame({"new": [5, 5], "cin": [1, 1], "proc": [4, 4], "cout": [2, 1]})
    res = validate(df, ExpectColumnSumsToBalance(column_list=["new", "cin", "proc", "cout"], lhs_count=2))
    assert res.result["unexpected_index_list"] == [1]


def test_missing_values_are_ignored(validate):
    df = pd.DataFrame({"total": [3.0, None, 10.0], "a": [1.0, 9.0, None], "b": [2.0, 1.0, 1.0]})
    res = validate(df, ExpectColumnSumsToBalance(column_list=["total", "a", "b"], lhs_count=1))
    assert res.success  # the only complete row balances; rows 1 and 2 are not assessed
    assert res.result["missing_count"] == 2
    assert res.result["element_count"] == 3


def test_signs_and_tolerance(validate):
    df = pd.DataFrame({"a": [10.0, 10.0], "b": [3.0, 3.0], "c": [7.0, 7.02]})
    strict = ExpectColumnSumsToBalance(column_list=["a", "b", "c"], lhs_count=2, signs=[1, -1, 1])
    assert validate(df, strict).result["unexpected_index_list"] == [1]
    loose = ExpectColumnSumsToBalance(
        column_list=["a", "b", "c"], lhs_count=2, signs=[1, -1, 1], tolerance=0.05
    )
    assert validate(df, loose).success


def test_bad_configuration():
    with pytest.raises(ValueError):
        ExpectColumnSumsToBalance(column_list=["a", "b"], lhs_count=2)  # no rhs
    with pytest.raises(ValueError):
        ExpectColumnSumsToBalance(column_list=["a", "b"], lhs_count=0)
    with pytest.raises(ValueError):
        ExpectColumnSumsToBalance(column_list=["a", "b"], lhs_count=1, signs=[1])
    with pytest.raises(ValueError):
        ExpectColumnSumsToBalance(column_list=["a", "b"], lhs_count=1, signs=[1, 2])


def test_builtin_multicolumn_sum_is_not_this():
    """Documented pitfall: ExpectMulticolumnSumToEqual compares each row's sum with a constant."""
    from great_expectations.expectations import ExpectMulticolumnSumToEqual

    assert "sum_total" in ExpectMulticolumnSumToEqual.__fields__
    assert "lhs_count" in ExpectColumnSumsToBalance.__fields__


def test_sqlalchemy_engine(tmp_path):
    """The optional SQLAlchemy implementation, on SQLite (GE's DuckDB SQL path is broken, see stack.md)."""
    import sqlite3

    db = tmp_path / "t.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table t (tot real, a real, b real)")
    con.executemany("insert into t values (?, ?, ?)", [(3, 1, 2), (5, 1, 1), (None, 1, 1), (2, 2, -1)])
    con.commit()
    con.close()
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_sqlite("sq", connection_string=f"sqlite:///{db}")
        .add_table_asset("t", table_name="t")
        .add_batch_definition_whole_table("b")
        .get_batch()
    )
    res = batch.validate(
        ExpectColumnSumsToBalance(column_list=["tot", "a", "b"], lhs_count=1), result_format="COMPLETE"
    )
    assert not res.success
    assert res.result["unexpected_count"] == 2 and res.result["missing_count"] == 1
    assert {r["tot"] for r in res.result["unexpected_list"]} == {5.0, 2.0}


def test_configuration_follows_the_fields():
    # the configuration is built once per object: assigning a field or copying must not keep a stale one
    e = ExpectColumnSumsToBalance(column_list=["total", "a", "b"], lhs_count=1, meta={"rule_id": "r"})
    assert e.configuration is e.configuration
    assert "tolerance" not in e.configuration.kwargs
    e.tolerance = 0.5
    assert e.configuration.kwargs["tolerance"] == 0.5
    e.id = "0c5d6e1a-0000-4000-8000-000000000001"
    assert e.configuration.id == e.id
    c = e.__copy__()
    assert c.id is None and c.configuration.id is None and c.configuration.kwargs["tolerance"] == 0.5


def test_lean_result_format_keeps_the_failing_rows(validate):
    from expectations.runner import RESULT_FORMAT

    df = pd.DataFrame({"total": [3, 5, None, 2], "a": [1, 1, 1, 2], "b": [2, 1, 1, -1]})
    e = ExpectColumnSumsToBalance(column_list=["total", "a", "b"], lhs_count=1)
    full = validate(df, e)
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("lean").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
        .get_batch(batch_parameters={"dataframe": df})
    )
    lean = batch.validate(e, result_format=dict(RESULT_FORMAT))
    assert lean.success == full.success is False
    for key in ("unexpected_index_list", "unexpected_count", "missing_count", "element_count"):
        assert lean.result[key] == full.result[key]
    assert lean.result["unexpected_index_list"] == [1, 3]
    assert "unexpected_list" not in lean.result and "unexpected_index_query" not in lean.result
    assert "unexpected_list" in full.result
    lean_deps = e.get_validation_dependencies(runtime_configuration={"result_format": dict(RESULT_FORMAT)})
    full_deps = e.get_validation_dependencies(runtime_configuration={"result_format": "COMPLETE"})
    skipped = {f"{METRIC_NAME}.unexpected_values", f"{METRIC_NAME}.unexpected_index_query"}
    assert skipped <= set(full_deps.metric_configurations)
    assert not skipped & set(lean_deps.metric_configurations)
    assert f"{METRIC_NAME}.unexpected_index_list" in lean_deps.metric_configurations
