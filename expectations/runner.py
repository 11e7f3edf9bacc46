"""Run the accounting identities of the report templates with Great Expectations.

``run_rules(warehouse_path)`` reads the marts from DuckDB (read-only), builds one wide frame per
template version (one row per report of that version, one column per cell ``t3__{row}__{col}`` /
``t4__{proceeding}__{result}``), validates it with one GE suite per version (ephemeral context, pandas
datasource, whole-dataframe batch, one :class:`ExpectColumnSumsToBalance` per rule instance,
a ``COMPLETE`` result format without the failing rows' values, :data:`RESULT_FORMAT`) and turns the validation results into ``fct_rule_results`` rows
(``ingest.schemas.RULE_RESULTS``).

Cell policy (YAML ``null_policy``, default lenient; templates.md §6.7):

* ``number`` / ``zero_word`` -> the value;
* ``blank`` / ``dash`` / ``slash`` / ``none_word`` -> 0, recorded as imputation; a cell the parser did not
  emit at all inside a present table counts as blank;
* ``text`` (or a number cell without a value, or conflicting duplicate facts) -> missing;
* a cell on a row (table_id + row_key) with a ``warn`` parse warning -> missing (parser doubt is not a
  report error); a warn-level warning whose row_key is not a data row of the table (NULL, a group
  line, an unmapped label) applies to the whole table;
* a table that is absent (``dim_report.has_t3`` / ``has_t4`` false or NULL) -> every cell missing;
  zeros are never imputed inside an absent table.

A missing cell makes GE ignore the row (``ignore_row_if="any_value_is_missing"``). Status per report x
rule comes from the GE result: ``fail`` when the row is in ``unexpected_index_list``, ``not_assessable``
when GE ignored the row (checked against GE's ``missing_count``), ``pass`` otherwise.

Nothing here imports dagster. great_expectations is imported lazily inside :func:`run_rules`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from ingest.schemas import conform, empty_frame
from ingest.warehouse import limit_memory

from . import families
from .identities import WITHIN_REPORT_VERSIONS, RuleInstance, RuleSet, load_schema, rule_set

logger = logging.getLogger(__name__)

EXPECTATION_TYPE = "expect_column_sums_to_balance"  # == expectations.custom.EXPECTATION_TYPE
DETAIL_TABLE_ABSENT = "table absent"
DETAIL_PRE2019 = "no statistical tables (pre2019 narrative report)"
IMPUTED_STATES = ("blank", "dash", "slash", "none_word")
MAX_LISTED_CELLS = 4

# per-cell state codes of the wide frame
CODE_VALUE = 0  # number / zero_word: the value is used as is
CODE_IMPUTED = 1  # blank / dash / slash / none_word / not emitted: counted as 0 (lenient)
CODE_TEXT = 2  # text or unusable: not assessable
CODE_WARNED = 3  # row flagged by a warn-level parse warning: not assessable
CODE_ABSENT = 4  # the table is absent: not assessable
_CODE_NO_FACT = -1
_LAST_GX: list = [None]  # (gx, context) of the last run_rules call, for build_data_docs


@dataclass
class VersionFrame:
    """Wide frame of one template version: values (NaN = missing) and per-cell state codes."""

    version: str
    rules: RuleSet
    report_ids: pl.Series
    values: np.ndarray  # n x C float64, NaN where not assessable
    codes: np.ndarray  # n x C int8 (CODE_*)
    warnings: pl.DataFrame  # ridx, table_id, row_key ('*' = whole table), code

    @property
    def columns(self) -> list[str]:
        return self.rules.columns

    def to_pandas(self):
        """The frame GE validates. float32 when that is exact (integral counts below 2**24): GE copies the
        whole frame for every metric that drops rows with missing values, so width in bytes matters."""
        import pandas as pd

        values = self.values
        finite = values[np.isfinite(values)]
        if finite.size == 0 or (np.all(np.abs(finite) < 2**24) and np.all(finite == np.round(finite))):
            values = values.astype(np.float32)
        return pd.DataFrame(values, columns=batch_columns(self.columns), copy=False)


def batch_columns(names: list[str]):
    """Column labels of a frame GE validates, as a plain object Index. pandas 3 would make them an
    Arrow-backed string Index, whose lookups GE's pandas engine pays for in every metric (dropna on
    the expectation's columns, column selection): about a tenth of the validation's CPU."""
    import pandas as pd

    return pd.Index(names, dtype=object)


# --------------------------------------------------------------------------------------------------
# reading the warehouse
# --------------------------------------------------------------------------------------------------


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    ) or bool(
        con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ?", [schema, table]
        ).fetchone()[0]
    )


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# One query per table over both template versions. Row and column keys become small integer codes
# with list_position (the rules' own keys; 0 = a key no rule reads): a join on the three key strings
# and a group by (report, cell) in DuckDB cost ~15 s of CPU a version at 100,000 reports, the codes
# under 1 s; the cell position and the duplicate check are then done in numpy.
_CELLS_SQL = """
select r.vi, r.ridx,
    coalesce(list_position({rows}, c.{row_col}), 0)::smallint as rc,
    coalesce(list_position({cols}, c.{col_col}), 0)::smallint as cc,
    case
        when c.cell_state = 'zero_word' then coalesce(c.value::double, 0)
        when c.cell_state = 'number' or (c.cell_state is null and c.value is not null) then c.value::double
        when c.cell_state in ({imputed}) then 0
    end as v,
    (case
        when c.cell_state = 'zero_word' then {code_value}
        when (c.cell_state = 'number' or c.cell_state is null) and c.value is not null then {code_value}
        when c.cell_state in ({imputed}) then {code_imputed}
        else {code_text}
    end)::tinyint as s
from marts.{mart} c
join _rule_reports r using (report_id)
where coalesce(c.source, 'table') = 'table' {extra} and r.{has}
"""
_TABLE_SOURCES = {
    "t3": ("fct_applications", "row_key", "applicant_type", "and not coalesce(c.is_derived, false)", "has_t3"),
    "t4": ("fct_review_litigation", "proceeding", "result", "", "has_t4"),
}


def _placed_cells(
    con: duckdb.DuckDBPyConnection, vreports: dict[str, pl.DataFrame], rule_sets: dict[str, RuleSet]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per version: (ridx, pos, value, code) of every cell of a present table that a rule reads, one
    entry per cell. ``vreports[version]``: ridx, report_id, has_t3, has_t4 (ridx = row in the frame).
    Duplicate facts of one cell keep the largest value; when they disagree (value or state) the cell is
    not usable (CODE_TEXT)."""
    versions = [v for v in rule_sets if v in vreports and len(vreports[v])]
    out = {v: (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int8)) for v in versions}
    if not versions:
        return out
    both = pl.concat(
        [
            vreports[v].select(pl.lit(i, dtype=pl.Int8).alias("vi"), "ridx", "report_id", "has_t3", "has_t4")
            for i, v in enumerate(versions)
        ]
    )
    cols_of = {v: rule_sets[v].columns for v in versions}
    parts: dict[str, list] = {v: [] for v in versions}
    con.register("_rule_reports", both.to_arrow())
    try:
        for table_id, (mart, row_col, col_col, extra, has) in _TABLE_SOURCES.items():
            keys = [c.split("__") for v in versions for c in cols_of[v]]
            rows = list(dict.fromkeys(r for t, r, _ in keys if t == table_id))
            cols = list(dict.fromkeys(k for t, _, k in keys if t == table_id))
            if not rows:
                continue
            # lut[version, row code, col code] -> column of the wide frame (-1: no rule reads it)
            lut = np.full((len(versions), len(rows) + 1, len(cols) + 1), -1, dtype=np.int64)
            for i, v in enumerate(versions):
                for pos, c in enumerate(cols_of[v]):
                    t, r, k = c.split("__")
                    if t == table_id:
                        lut[i, rows.index(r) + 1, cols.index(k) + 1] = pos
            sql = _CELLS_SQL.format(
                rows="[" + _sql_list(rows) + "]",
                cols="[" + _sql_list(cols) + "]",
                row_col=row_col,
                col_col=col_col,
                mart=mart,
                extra=extra,
                has=has,
                imputed=_sql_list(list(IMPUTED_STATES)),
                code_value=CODE_VALUE,
                code_imputed=CODE_IMPUTED,
                code_text=CODE_TEXT,
            )
            got = con.sql(sql).pl()
            vi = got["vi"].to_numpy()
            pos = lut[vi, got["rc"].to_numpy(), got["cc"].to_numpy()]
            keep = pos >= 0
            ridx = got["ridx"].to_numpy().astype(np.int64)
            val = got["v"].to_numpy(allow_copy=True).astype("float64")
            code = got["s"].to_numpy()
            for i, v in enumerate(versions):
                m = keep & (vi == i)
                parts[v].append((ridx[m], pos[m], val[m], code[m]))
    finally:
        con.unregister("_rule_reports")
    for v in versions:
        if not parts[v]:
            continue
        ridx, pos, val, code = (np.concatenate(x) for x in zip(*parts[v]))
        width = len(cols_of[v])
        key = ridx * width + pos
        counts = np.bincount(key, minlength=len(vreports[v]) * width)
        dup = counts[key] > 1
        if dup.any():
            agg = (
                pl.DataFrame({"key": key[dup], "v": val[dup], "s": code[dup]})
                .with_columns(pl.col("v").fill_nan(None))
                .group_by("key")
                .agg(
                    pl.col("v").max().alias("v"),
                    pl.when(
                        (pl.col("v").min().is_null() != pl.col("v").max().is_null())
                        | (pl.col("v").min() != pl.col("v").max()).fill_null(False)
                        | (pl.col("s").min() != pl.col("s").max())
                    )
                    .then(CODE_TEXT)
                    .otherwise(pl.col("s").max())
                    .cast(pl.Int8)
                    .alias("s"),
                )
            )
            k = agg["key"].to_numpy()
            ridx = np.concatenate([ridx[~dup], k // width])
            pos = np.concatenate([pos[~dup], k % width])
            val = np.concatenate([val[~dup], agg["v"].to_numpy(allow_copy=True).astype("float64")])
            code = np.concatenate([code[~dup], agg["s"].to_numpy()])
        out[v] = (ridx, pos, val, code)
    return out


def _version_frame(
    con: duckdb.DuckDBPyConnection,
    reports: pl.DataFrame,
    rs: RuleSet,
    warnings: pl.DataFrame,
    placed: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> VersionFrame:
    """Build the wide frame of one version. ``reports``: report_id, has_t3, has_t4 of that version;
    ``placed``: its cells from :func:`_placed_cells` (read here when not given)."""
    cols = rs.columns
    n, c = len(reports), len(cols)
    reports = reports.sort("report_id").with_row_index("ridx")
    values = np.full((n, c), np.nan)
    codes = np.full((n, c), _CODE_NO_FACT, dtype=np.int8)
    if n:
        if placed is None:
            placed = _placed_cells(con, {rs.template_version: reports}, {rs.template_version: rs})[rs.template_version]
        ri, po, v, s = placed
        values[ri, po] = v
        codes[ri, po] = s

    # cells not emitted inside a present table count as blank; absent tables are never imputed
    table_of_col = np.array([col.split("__")[0] for col in cols])
    present = {
        "t3": reports["has_t3"].to_numpy().astype(bool),
        "t4": reports["has_t4"].to_numpy().astype(bool),
    }
    for table_id in np.unique(table_of_col):
        pos = np.flatnonzero(table_of_col == table_id)
        tpresent = present.get(str(table_id), np.zeros(n, dtype=bool))
        sub = codes[:, pos]
        sub = np.where(sub == _CODE_NO_FACT, CODE_IMPUTED, sub)
        sub[~tpresent, :] = CODE_ABSENT
        codes[:, pos] = sub

    # warn-level parse warnings make their rows (or their whole table) not assessable
    w = _scope_warnings(warnings, reports, rs)
    if len(w):
        row_of_col = np.array([col.split("__")[1] for col in cols])
        for (table_id, row_key), grp in w.group_by(["table_id", "row_key"], maintain_order=True):
            mask_cols = table_of_col == table_id
            if row_key != "*":
                mask_cols &= row_of_col == row_key
            pos = np.flatnonzero(mask_cols)
            ridx = np.unique(grp["ridx"].to_numpy())
            if not len(pos):
                continue
            block = codes[np.ix_(ridx, pos)]
            codes[np.ix_(ridx, pos)] = np.where(block == CODE_ABSENT, CODE_ABSENT, CODE_WARNED)

    values[codes == CODE_IMPUTED] = 0.0
    values[codes >= CODE_TEXT] = np.nan
    return VersionFrame(rs.template_version, rs, reports["report_id"], values, codes, w)


def _scope_warnings(warnings: pl.DataFrame, reports: pl.DataFrame, rs: RuleSet) -> pl.DataFrame:
    """Warnings of this version's reports with row_key mapped to '*' when not a data row."""
    schema = {"ridx": pl.UInt32, "table_id": pl.String, "row_key": pl.String, "code": pl.String}
    if warnings.is_empty():
        return pl.DataFrame(schema=schema)
    known: dict[str, set[str]] = {}
    for rule in rs.rules:
        for term in rule.terms:
            known.setdefault(term.table_id, set()).add(term.row_key)
    w = warnings.join(reports.select("ridx", "report_id"), on="report_id", how="inner")
    w = w.filter(pl.col("table_id").is_in(list(known)))
    is_data_row = pl.lit(False)
    for t, rows in known.items():
        is_data_row = is_data_row | ((pl.col("table_id") == t) & pl.col("row_key").is_in(sorted(rows)))
    w = w.with_columns(
        pl.when(is_data_row.fill_null(False)).then(pl.col("row_key")).otherwise(pl.lit("*")).alias("row_key"),
        pl.col("code").fill_null("unspecified"),
    )
    return w.select(list(schema)).cast(schema).unique().sort(["ridx", "table_id", "row_key", "code"])


# --------------------------------------------------------------------------------------------------
# Great Expectations
# --------------------------------------------------------------------------------------------------


def _import_gx():
    """``great_expectations`` without its analytics, imported after :mod:`.gx_lean` (which defers
    what GE imports for features the rules never use)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    from . import gx_lean  # noqa: F401

    # isort: split
    import great_expectations as gx

    return gx


def preload() -> None:
    """Import Great Expectations and the custom expectation (about 6 s): the pipeline calls this in a
    background thread while dbt builds the core marts, so validation starts at once. Imports only:
    contexts are made by the validation itself."""
    _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: F401

    from . import custom, data_docs  # noqa: F401


def _gx_context():
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except (AttributeError, TypeError, ValueError) as exc:  # pragma: no cover - cosmetic only
        logger.debug("could not disable GE progress bars: %s", exc)
    return gx, context


def build_expectation(rule: RuleInstance):
    """The GE expectation object of one rule instance (imports great_expectations)."""
    from .custom import ExpectColumnSumsToBalance

    if rule.op != "==":
        raise ValueError(f"{rule.rule_id}: comparison {rule.op} is not supported by {EXPECTATION_TYPE}")
    signs = rule.signs
    return ExpectColumnSumsToBalance(
        column_list=rule.columns,
        lhs_count=len(rule.lhs),
        signs=None if all(s == 1 for s in signs) else signs,
        tolerance=rule.tolerance,
        meta={"rule_id": rule.rule_id, "identity_id": rule.identity_id, "expr": rule.expr},
    )


# Every failing row's index and the counts, which is all the rows are built from: not the failing
# rows' values nor GE's query for them (ExpectColumnSumsToBalance then skips their metrics). The Data
# Docs list the failing reports by name from raw.rule_results.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "exclude_unexpected_values": True,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}


def run_validation(vd, frame):
    """``vd.run`` on ``frame`` with every unexpected row's index listed (:data:`RESULT_FORMAT`)."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # GE's pandas engine builds an Index from the expectation's column list in nearly every
            # metric; with pandas 3's default string inference each is Arrow-backed and slow to look
            # up. The option is gone in pandas 4: then GE runs with the default.
            legacy_strings = pd.option_context("future.infer_string", False)
            legacy_strings.__enter__()
        except (KeyError, ValueError, AttributeError, pd.errors.OptionError):
            legacy_strings = None
    try:
        return vd.run(batch_parameters={"dataframe": frame}, result_format=dict(RESULT_FORMAT))
    finally:
        if legacy_strings is not None:
            legacy_strings.__exit__(None, None, None)


def validate_frame(frame, rules: list[RuleInstance], name: str, gx_and_context=None) -> dict[str, Any]:
    """Validate a pandas frame with one suite (one expectation per rule). Returns rule_id -> GE result."""
    gx, context = gx_and_context or _gx_context()
    ds = context.data_sources.add_pandas(f"ds_{name}")
    asset = ds.add_dataframe_asset(f"asset_{name}")
    batch_def = asset.add_batch_definition_whole_dataframe(f"batch_{name}")
    # the expectations are given with the suite: adding them one by one to a suite already in the
    # context re-serialises the whole suite for each (quadratic; 2-5 s for the 116 rules)
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"accounting_rules_{name}", expectations=[build_expectation(r) for r in rules])
    )
    vd = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"validate_{name}", data=batch_def, suite=suite)
    )
    result = run_validation(vd, frame)
    out: dict[str, Any] = {}
    for r in result.results:
        rule_id = r.expectation_config.meta["rule_id"]
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(
                f"Great Expectations raised on {name} {rule_id}: {info.get('exception_message')}"
            )
        out[rule_id] = r
    missing = [rl.rule_id for rl in rules if rl.rule_id not in out]
    if missing:
        raise RuntimeError(f"no GE result for {missing}")
    return out


# --------------------------------------------------------------------------------------------------
# results -> rows
# --------------------------------------------------------------------------------------------------


def _fmt(expr: pl.Expr) -> pl.Expr:
    """Integral floats without the decimal point."""
    return (
        pl.when(expr == expr.round(0))
        .then(expr.cast(pl.Int64).cast(pl.String))
        .otherwise(expr.round(4).cast(pl.String))
    )


def _cell_list(flags: np.ndarray, refs: list[str]) -> pl.Series:
    """Per row: 'a, b, c, d and 3 more' of the refs whose flag is set (null when none).

    Vectorized over reports: the string is built once per distinct flag pattern, then gathered.
    """
    n, k = flags.shape
    rows = np.flatnonzero(flags.any(axis=1))
    if not len(rows):
        return pl.Series(values=[None] * n, dtype=pl.String)
    if True:
        sub = flags[rows]
        if k <= 62:
            keys = sub.astype(np.int64) @ (np.int64(1) << np.arange(k, dtype=np.int64))
            uniq, inverse = np.unique(keys, return_inverse=True)
            patterns = [[j for j in range(k) if (int(u) >> j) & 1] for u in uniq]
        else:
            uniq, inverse = np.unique(sub, axis=0, return_inverse=True)
            patterns = [list(np.flatnonzero(u)) for u in uniq]
        texts = []
        for pat in patterns:
            listed = ", ".join(refs[j] for j in pat[:MAX_LISTED_CELLS])
            extra = len(pat) - MAX_LISTED_CELLS
            texts.append(listed + (f" and {extra} more" if extra > 0 else ""))
        index = np.full(n, -1, dtype=np.int64)
        index[rows] = np.asarray(inverse).reshape(-1)
    gather = pl.Series(values=index).replace(-1, None)
    return pl.Series(values=texts, dtype=pl.String).gather(gather)


def _rule_rows(vf: VersionFrame, rule: RuleInstance, gx_result, col_index: dict[str, int]) -> pl.DataFrame:
    n = len(vf.report_ids)
    lpos = [col_index[c] for c in rule.lhs_columns]
    rpos = [col_index[c] for c in rule.rhs_columns]
    pos = lpos + rpos
    lsg = np.array([t.sign for t in rule.lhs], dtype="float64")
    rsg = np.array([t.sign for t in rule.rhs], dtype="float64")
    vals = vf.values[:, pos]
    codes = vf.codes[:, pos]
    lhs = vf.values[:, lpos] @ lsg
    rhs = vf.values[:, rpos] @ rsg

    # status from GE: unexpected_index_list -> fail; rows GE ignored (any value missing) -> not_assessable
    res = gx_result.result
    ignored = np.isnan(vals).any(axis=1)
    if int(res.get("missing_count", 0)) != int(ignored.sum()) or int(res.get("element_count", n)) != n:
        raise RuntimeError(
            f"{vf.version} {rule.rule_id}: GE ignored {res.get('missing_count')} of {res.get('element_count')} rows,"
            f" expected {int(ignored.sum())} of {n}"
        )
    failed = np.zeros(n, dtype=bool)
    idx = np.asarray(res.get("unexpected_index_list") or [], dtype=np.int64)
    failed[idx] = True
    if (failed & ignored).any() or len(idx) != int(res.get("unexpected_count", len(idx))):
        raise RuntimeError(f"{vf.version} {rule.rule_id}: inconsistent GE unexpected rows")
    status = np.where(failed, "fail", np.where(ignored, "not_assessable", "pass"))

    refs = [t.ref for t in rule.terms]
    imputed = _cell_list(codes == CODE_IMPUTED, refs)
    text = _cell_list(codes == CODE_TEXT, refs)
    absent = (codes == CODE_ABSENT).any(axis=1)
    nl = len(lpos)
    lhs_blank = (codes[:, :nl] == CODE_IMPUTED).all(axis=1)
    rhs_blank = (codes[:, nl:] == CODE_IMPUTED).all(axis=1)

    # parse warnings on the rows this rule reads (or on its whole table)
    w = vf.warnings
    warned = pl.Series(values=[None] * n, dtype=pl.String)
    if len(w):
        scope = pl.lit(False)
        for table_id, row_key in rule.rows:
            scope = scope | ((pl.col("table_id") == table_id) & (pl.col("row_key") == row_key))
        for table_id in rule.tables:
            scope = scope | ((pl.col("table_id") == table_id) & (pl.col("row_key") == "*"))
        agg = (
            w.filter(scope)
            .with_columns(
                pl.when(pl.col("row_key") == "*")
                .then(pl.col("table_id"))
                .otherwise(pl.concat_str([pl.col("table_id"), pl.col("row_key")], separator="."))
                .alias("where")
            )
            .group_by("ridx")
            .agg(
                pl.col("code").unique().sort().str.join(", ").alias("codes"),
                pl.col("where").unique().sort().str.join(", ").alias("where"),
            )
        )
        if len(agg):
            warned = (
                pl.DataFrame({"ridx": pl.arange(0, n, eager=True, dtype=pl.UInt32)})
                .join(agg, on="ridx", how="left")
                .sort("ridx")
                .select(
                    pl.when(pl.col("codes").is_not_null()).then(
                        pl.format(
                            "parser warning ({}) on {}: not assessed, parser doubt is not a report error",
                            "codes",
                            "where",
                        )
                    )
                )
                .to_series()
            )

    df = pl.DataFrame(
        {
            "report_id": vf.report_ids,
            "status": status,
            "lhs": np.where(ignored, np.nan, lhs),
            "rhs": np.where(ignored, np.nan, rhs),
            "_imputed": imputed,
            "_text": text,
            "_absent": absent,
            "_lhs_blank": lhs_blank,
            "_rhs_blank": rhs_blank,
            "_warned": warned,
        },
        nan_to_null=True,
    )
    lenient = (
        pl.when(pl.col("_imputed").is_not_null())
        .then(pl.format("; lenient policy: blank cells counted as 0 in {}", pl.col("_imputed")))
        .otherwise(pl.lit(""))
    )
    # templates.md §6.6: a side left blank is "not filled in" (total_missing / breakdown_missing)
    one_side = (
        pl.when(pl.col("_lhs_blank"))
        .then(pl.lit("; the left-hand side is entirely blank (not filled in rather than wrong arithmetic)"))
        .when(pl.col("_rhs_blank"))
        .then(pl.lit("; the right-hand side is entirely blank (not filled in rather than wrong arithmetic)"))
        .otherwise(pl.lit(""))
    )
    lhs_s, rhs_s = _fmt(pl.col("lhs")), _fmt(pl.col("rhs"))
    na_reason = pl.concat_str(
        [
            pl.col("_warned"),
            pl.when(pl.col("_text").is_not_null()).then(
                pl.format(
                    "text in {}: not a number (not assessable under the lenient policy)", pl.col("_text")
                )
            ),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    detail = (
        pl.when(pl.col("status") == "pass")
        .then(pl.concat_str([pl.format("holds: {} == {}", lhs_s, rhs_s), lenient]))
        .when(pl.col("status") == "fail")
        .then(
            pl.concat_str(
                [
                    pl.format(
                        "fails: {} != {} (difference {})", lhs_s, rhs_s, _fmt(pl.col("lhs") - pl.col("rhs"))
                    ),
                    lenient,
                    one_side,
                ]
            )
        )
        .when(pl.col("_absent"))
        .then(pl.lit(DETAIL_TABLE_ABSENT))
        .when(na_reason != "")
        .then(na_reason)
        .otherwise(pl.lit("not assessable: a cell has no usable value"))
    )
    return result_rows(df, rule, detail, gx_result.expectation_config.type)


def result_rows(df: pl.DataFrame, rule, detail: pl.Expr, expectation_type: str) -> pl.DataFrame:
    """One rule's outcome per report, in the columns of raw.rule_results."""
    return df.select(
        "report_id",
        pl.lit(rule.rule_id).alias("rule_id"),
        pl.lit(rule.identity_id).alias("identity_id"),
        pl.lit(rule.rule_family).alias("rule_family"),
        pl.lit(rule.severity).alias("severity"),
        "status",
        "lhs",
        "rhs",
        detail.alias("detail"),
        pl.lit(expectation_type).alias("expectation"),
    )


def _not_assessable_rows(reports: pl.DataFrame, rules: list[RuleInstance], detail: pl.Expr) -> pl.DataFrame:
    rules_df = pl.DataFrame(
        {
            "rule_id": [r.rule_id for r in rules],
            "identity_id": [r.identity_id for r in rules],
            "rule_family": [r.rule_family for r in rules],
            "severity": [r.severity for r in rules],
            "_order": list(range(len(rules))),
        }
    )
    return (
        reports.select("report_id", "template_version")
        .join(rules_df, how="cross")
        .sort(["_order", "report_id"])
        .with_columns(
            pl.lit("not_assessable").alias("status"),
            pl.lit(None, dtype=pl.Float64).alias("lhs"),
            pl.lit(None, dtype=pl.Float64).alias("rhs"),
            detail.alias("detail"),
            pl.lit(EXPECTATION_TYPE).alias("expectation"),
        )
        .drop("_order", "template_version")
    )


# --------------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------------


def run_rules(
    warehouse_path: str | os.PathLike | None = None,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pl.DataFrame:
    """Evaluate the within-report accounting identities of every report in ``marts.dim_report``.

    Opens ``warehouse_path`` read-only. Inside a process that already holds a read-write connection to
    the file (DuckDB refuses a second, differently configured one), pass it as ``connection`` instead:
    a cursor of it is used and it is left open.

    Returns a frame conforming to ``ingest.schemas.RULE_RESULTS``: one row per report x rule instance
    of its template version (pre2019 and unknown versions get the v2019 rule set, all not_assessable).
    """
    if (warehouse_path is None) == (connection is None):
        raise ValueError("pass exactly one of warehouse_path or connection")
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    t0 = time.perf_counter()
    schema = load_schema()
    rule_sets = {v: rule_set(v, schema=schema) for v in WITHIN_REPORT_VERSIONS}
    frames: list[pl.DataFrame] = []
    if connection is not None:
        con = connection.cursor()
    else:
        con = limit_memory(duckdb.connect(str(warehouse_path), read_only=True))
    try:
        # superseded editions are not validated: their corrections are (see dim_report)
        current_only = "where is_current" if "is_current" in families.table_columns(con, "marts", "dim_report") else ""
        reports = con.sql(
            f"""
            select report_id, template_version,
                coalesce(has_t3, false) as has_t3, coalesce(has_t4, false) as has_t4
            from marts.dim_report
            {current_only}
            """
        ).pl()
        if _table_exists(con, "marts", "fct_parse_warnings"):
            warnings = con.sql(
                """
                select report_id, table_id, row_key, code
                from marts.fct_parse_warnings
                where severity = 'warn'
                """
            ).pl()
        else:
            warnings = pl.DataFrame(
                schema={
                    "report_id": pl.String,
                    "table_id": pl.String,
                    "row_key": pl.String,
                    "code": pl.String,
                }
            )
        vreports = {
            version: reports.filter(
                (pl.col("template_version") == version) & (pl.col("has_t3") | pl.col("has_t4"))
            )
            .sort("report_id")
            .with_row_index("ridx")
            for version in rule_sets
        }
        vreports = {v: r for v, r in vreports.items() if len(r)}
        placed = _placed_cells(con, vreports, rule_sets)
        vframes = {
            version: _version_frame(con, vr.drop("ridx"), rule_sets[version], warnings, placed[version])
            for version, vr in vreports.items()
        }
        # every other family of the catalogue (表二, counts, cross-year, narrative, printed subtotals)
        derived_ctx, derived = families.compute_all(con, vframes, warnings)
    finally:
        con.close()
    t_read = time.perf_counter()

    gx_ctx = _gx_context() if (vframes or derived_ctx.n) else None
    if vframes:
        for version, vf in vframes.items():
            t = time.perf_counter()
            results = validate_frame(vf.to_pandas(), vf.rules.rules, version, gx_ctx)
            t_ge = time.perf_counter()
            col_index = {c: i for i, c in enumerate(vf.columns)}
            frames.extend(_rule_rows(vf, rule, results[rule.rule_id], col_index) for rule in vf.rules.rules)
            logger.info(
                "%s: %d reports x %d rules, GE %.1fs, rows %.1fs",
                version,
                len(vf.report_ids),
                len(vf.rules.rules),
                t_ge - t,
                time.perf_counter() - t_ge,
            )

    if derived_ctx.n:
        t = time.perf_counter()
        ge_results = families.validate_derived(derived_ctx, derived, gx_ctx)
        t_ge = time.perf_counter()
        frames.extend(families.derived_rows(derived_ctx, rule, comp, r) for (rule, comp), r in zip(derived, ge_results))
        logger.info(
            "derived: %d reports x %d entries, GE %.1fs, rows %.1fs",
            derived_ctx.n, len(derived), t_ge - t, time.perf_counter() - t_ge,
        )
    _LAST_GX[0] = gx_ctx

    for version, rs in rule_sets.items():
        no_tables = reports.filter(
            (pl.col("template_version") == version) & ~(pl.col("has_t3") | pl.col("has_t4"))
        )
        if len(no_tables):
            frames.append(_not_assessable_rows(no_tables, rs.rules, pl.lit(DETAIL_TABLE_ABSENT)))

    others = reports.filter((~pl.col("template_version").is_in(list(WITHIN_REPORT_VERSIONS))).fill_null(True))
    if len(others):
        detail = (
            pl.when(pl.col("template_version") == "pre2019")
            .then(pl.lit(DETAIL_PRE2019))
            .otherwise(
                pl.format(
                    "template version {} has no statistical tables to check",
                    pl.col("template_version").fill_null("unknown"),
                )
            )
        )
        frames.append(_not_assessable_rows(others, rule_sets["v2019"].rules, detail))

    out = (
        conform(pl.concat(frames, how="vertical_relaxed"), "rule_results")
        if frames
        else empty_frame("rule_results")
    )
    logger.info(
        "run_rules: %d rows for %d reports in %.1fs (read %.1fs)",
        len(out),
        len(reports),
        time.perf_counter() - t0,
        t_read - t0,
    )
    return out


def summarise(results: pl.DataFrame, worst: int = 10) -> dict[str, Any]:
    """Counts per rule_family x status and the reports with the most error-severity failures.

    JSON-serialisable, for Dagster asset-check metadata.
    """
    statuses = ["pass", "fail", "not_assessable"]
    by_family: dict[str, dict[str, int]] = {}
    counts = results.group_by(["rule_family", "status"]).len().sort(["rule_family", "status"])
    for fam, st, n in counts.iter_rows():
        by_family.setdefault(fam, {s: 0 for s in statuses})[st] = int(n)
    by_status = {s: 0 for s in statuses}
    for st, n in results.group_by("status").len().iter_rows():
        by_status[st] = int(n)
    failures = results.filter((pl.col("status") == "fail") & (pl.col("severity") == "error"))
    worst_df = (
        failures.group_by("report_id")
        .agg(pl.len().alias("error_failures"), pl.col("rule_id").sort().alias("failed_rules"))
        .sort(["error_failures", "report_id"], descending=[True, False])
        .head(worst)
    )
    assessed = by_status["pass"] + by_status["fail"]
    return {
        "rows": len(results),
        "reports": int(results["report_id"].n_unique()) if len(results) else 0,
        "rule_instances": int(results["rule_id"].n_unique()) if len(results) else 0,
        "by_status": by_status,
        "by_family": by_family,
        "reports_with_error_failures": int(failures["report_id"].n_unique()) if len(failures) else 0,
        "pass_rate_of_assessed": (by_status["pass"] / assessed) if assessed else None,
        "worst_reports": [
            {"report_id": rid, "error_failures": int(k), "failed_rules": list(rules)}
            for rid, k, rules in worst_df.iter_rows()
        ],
    }


def build_data_docs(target_dir: str | os.PathLike, warehouse_path: str | os.PathLike) -> str | None:
    """Render the Data Docs of the last :func:`run_rules` call into ``target_dir``
    (:mod:`expectations.data_docs`: offline, rules as sentences, failing reports by name).

    Uses the same ephemeral context (its in-memory validation results). Returns the ``file://`` URL
    of ``index.html`` (None when nothing was validated).
    """
    gx_ctx = _LAST_GX[0]
    if gx_ctx is None:
        return None
    from .data_docs import build_site

    return build_site(target_dir, warehouse_path, gx_ctx[1]).resolve().as_uri()
