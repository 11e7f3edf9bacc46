"""Custom Great Expectations expectation: per row, a signed sum of columns balances another one.

``ExpectColumnSumsToBalance`` checks, for every row of a batch,

    sum(signs[i] * column_list[i] for i < lhs_count)  ==  sum(signs[i] * column_list[i] for i >= lhs_count)

within an absolute ``tolerance``. It is the row-wise "total equals the sum of its parts" check that the
built-in ``ExpectMulticolumnSumToEqual`` does not provide (that one compares each row's sum with a
*constant*); see shared/reference/stack.md §2c.

Rows with a missing value in any of the columns are ignored (``ignore_row_if="any_value_is_missing"``,
the default here): the caller reports them as ``not_assessable``. With ``result_format="COMPLETE"`` the
validation result carries ``unexpected_index_list`` (the pandas index of every failing row); with
``exclude_unexpected_values`` (and ``partial_unexpected_count`` 0) or ``return_unexpected_index_query``
false, the metrics behind what is excluded are not computed at all.

This module imports great_expectations at import time (slow, about 5 s); import it lazily.
"""

from __future__ import annotations

import os
from typing import ClassVar, Literal

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import numpy as np
import pandas as pd

from expectations import gx_lean  # noqa: F401  (before great_expectations)

# isort: split
from great_expectations.compatibility import pydantic
from great_expectations.execution_engine import (
    PandasExecutionEngine,
    SqlAlchemyExecutionEngine,
)
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)

METRIC_NAME = "multicolumn_values.sums_balance"
EXPECTATION_TYPE = "expect_column_sums_to_balance"


def _signs(n_columns: int, signs: list | None) -> list[int]:
    if signs is None:
        return [1] * n_columns
    if len(signs) != n_columns:
        raise ValueError(f"signs has {len(signs)} entries for {n_columns} columns")
    return [int(s) for s in signs]


class MulticolumnValuesSumsBalance(MulticolumnMapMetricProvider):
    """Row-wise condition: |signed sum of the lhs columns - signed sum of the rhs columns| <= tolerance."""

    condition_metric_name = METRIC_NAME
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("lhs_count", "signs", "tolerance", "op")

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column_list, lhs_count, signs=None, tolerance=0, op="==", **kwargs):
        # column_list is the DataFrame of the domain columns (rows with missing values already dropped)
        cols = list(column_list.columns)
        sg = _signs(len(cols), signs)
        values = column_list.to_numpy(dtype="float64", na_value=float("nan"))
        coef = [s if i < lhs_count else -s for i, s in enumerate(sg)]
        diff = values @ np.asarray(coef, dtype="float64")
        return pd.Series(_compare(diff, op or "==", tolerance or 0), index=column_list.index)

    @multicolumn_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column_list, lhs_count, signs=None, tolerance=0, op="==", **kwargs):
        from great_expectations.compatibility.sqlalchemy import sqlalchemy as sa

        sg = _signs(len(column_list), signs)
        diff = None
        for i, (col, s) in enumerate(zip(column_list, sg)):
            term = col * (s if i < lhs_count else -s)
            diff = term if diff is None else diff + term
        tol = tolerance or 0
        if op == "<=":
            return diff <= tol
        if op == ">=":
            return diff >= -tol
        return sa.func.abs(diff) <= tol


def _compare(diff, op: str, tol: float):
    """lhs - rhs compared with 0: ``==`` within tol, ``<=`` / ``>=`` with tol of slack."""
    if op == "<=":
        return diff <= tol
    if op == ">=":
        return diff >= -tol
    if op != "==":
        raise ValueError(f"unsupported comparison {op!r}")
    return abs(diff) <= tol


class ExpectColumnSumsToBalance(MulticolumnMapExpectation):
    """Expect, per row, sum(lhs columns) == sum(rhs columns) within ``tolerance``.

    Args:
        column_list: the lhs columns followed by the rhs columns.
        lhs_count: how many of ``column_list`` (from the start) form the left-hand side (>= 1).
        signs: optional +1/-1 per column, applied inside its side (``a - b == c`` is
            ``column_list=[a, b, c], lhs_count=2, signs=[1, -1, 1]``). Default: all +1.
        tolerance: absolute tolerance (0 for counts, 0.01 for amounts in 万元).
        op: ``==`` (default), ``<=`` or ``>=``: the comparison of the two sides (soft rules such as
            ``newly_published <= newly_made``).
        ignore_row_if: default ``any_value_is_missing``: a row with a missing value is not assessed.
    """

    lhs_count: int = pydantic.Field(description="number of leading columns of column_list on the lhs")
    signs: list[int] | None = pydantic.Field(default=None, description="+1/-1 per column")
    tolerance: float = pydantic.Field(default=0.0, description="absolute tolerance")
    op: Literal["==", "<=", ">="] = pydantic.Field(default="==", description="lhs OP rhs")
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "any_value_is_missing"

    map_metric = METRIC_NAME
    success_keys = ("mostly", "lhs_count", "signs", "tolerance", "op")
    args_keys = ("column_list", "lhs_count")

    library_metadata: ClassVar[dict] = {
        "maturity": "experimental",
        "tags": ["multi-column expectation", "accounting identity"],
        "contributors": ["ogi-warehouse"],
    }

    # GE rebuilds ``configuration`` (a pydantic ``dict()`` of every field, then an
    # ExpectationConfiguration) for each domain, success and runtime key it looks up, about 13 times
    # per metric of each expectation: ~40% of the validation's CPU. The fields do not change during a
    # validation, so it is built once and dropped whenever a field is assigned or the object copied.
    _configuration_cache: object = pydantic.PrivateAttr(default=None)

    @property
    def configuration(self):
        cached = self._configuration_cache
        if cached is None:
            cached = super().configuration
            self._configuration_cache = cached
        return cached

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name != "_configuration_cache":
            self._configuration_cache = None

    def copy(self, *args, **kwargs):
        # pydantic's copy(update=...) writes the fields without __setattr__ (GE's __copy__ clears the id)
        new = super().copy(*args, **kwargs)
        new._configuration_cache = None
        return new

    def get_validation_dependencies(self, execution_engine=None, runtime_configuration=None):
        # GE resolves the unexpected values and the unexpected-index query for a COMPLETE result even
        # when the result format then leaves them out: two of the six metrics of every expectation, each
        # a pass over the batch. They are not resolved when the result format excludes them.
        deps = super().get_validation_dependencies(
            execution_engine=execution_engine, runtime_configuration=runtime_configuration
        )
        result_format = deps.result_format if isinstance(deps.result_format, dict) else {}
        if result_format.get("exclude_unexpected_values") and not result_format.get("partial_unexpected_count"):
            deps.remove_metric_configuration(f"{self.map_metric}.unexpected_values")
        if result_format.get("return_unexpected_index_query") is False:
            deps.remove_metric_configuration(f"{self.map_metric}.unexpected_index_query")
        return deps

    @pydantic.validator("lhs_count")
    def _check_lhs_count(cls, v: int) -> int:
        if v < 1:
            raise ValueError("lhs_count must be >= 1")
        return v

    @pydantic.root_validator(skip_on_failure=True)
    def _check_split(cls, values: dict) -> dict:
        cols = values.get("column_list") or []
        n = values.get("lhs_count")
        if n is not None and cols and n >= len(cols):
            raise ValueError("lhs_count must leave at least one rhs column")
        signs = values.get("signs")
        if signs is not None:
            if len(signs) != len(cols):
                raise ValueError("signs must have one entry per column of column_list")
            if any(s not in (1, -1) for s in signs):
                raise ValueError("signs must be +1 or -1")
        return values
