"""The rule families that are not plain within-report cell arithmetic of 表三/表四.

``run_rules`` validates the t3/t4 identities on one wide frame per template version (``runner.py``).
Everything else in the YAML catalogue is built here, as :class:`DerivedRule` entries, and validated in
one more Great Expectations suite (``accounting_rules_derived``): for every entry the runner computes,
per report, a left-hand side and a right-hand side (NaN when the rule cannot be assessed on that
report, with the reason) and GE checks ``lhs OP rhs`` with :class:`ExpectColumnSumsToBalance`
(``column_list=[lhs, rhs]``, ``op`` ``==`` / ``<=`` / ``>=``). The status comes from the GE result
exactly as for the t3/t4 rules.

Families (rule ids: YAML identity id without the version prefix, plus the bound key):

=================================  ========  ===================================================================
rule id                            severity  lhs OP rhs
=================================  ========  ===================================================================
t3.printed_subtotals               error     sum |printed subtotal - sum(children)| == 0 (v2019)
t3.printed_other_group             error     sum |printed (六)其他处理 - sum(@other)| == 0 (v2021)
t2.published_le_made.{r}           warn      newly_published <= newly_made (v2019)
t2.total_ge_new.{r}                warn      total_published >= newly_published (v2019)
t2.procurement_zero_items          warn      (amount if items == 0 else 0) == 0 (v2019)
t2.procurement_unit_plausibility   warn      amount / max(items, 1) <= 10000 万元 per item (v2019)
t2.in_force_nonneg_and_plausible.  warn      in_force >= (1 if issued > repealed else 0) (v2021), i.e. in_force
{r}                                          >= 0 and not (in_force == 0 while issued > repealed)
nonneg                             error     number of count/amount cells printed negative == 0
integer                            error     number of count cells printed with a fraction == 0
xy.t3.carryover_chain.{c}          warn/info carried_from_prev_year(Y) == carried_to_next_year(Y-1); total warn
xy.t2v2019.items_chain.{t}.{r}     info      prev_year_items(Y) == prev_year_items(Y-1) + change_this_year(Y-1)
xy.t2v2021.in_force_chain.{r}      info      in_force(Y) == in_force(Y-1) + issued(Y) - repealed(Y)
nt.t3.new_received                 warn      narrative requests_received_total == t3.new_received.total
nt.t3.processed                    warn      narrative requests_processed_total == t3.total_processed.total
nt.t3.carried                      warn      narrative carried_to_next == t3.carried_to_next_year.total
nt.t4.review.administrative_review warn      narrative admin_review_total == t4.administrative_review.total
nt.t4.review.litigation            warn      narrative admin_litigation_total == both litigation totals
nt.t2.normative                    info      narrative normative_documents_issued == 表二 normative documents
=================================  ========  ===================================================================

Decisions (see expectations/README.md):

* nonneg / integer: the parser keeps a negative or fractional count as ``cell_state = 'text'`` with a
  warn-level parse warning ``negative_value`` / ``non_integer_count``. The printed value itself is
  unambiguous (the parser is not in doubt about what is printed), so these two rules **fail** on such
  a cell (lhs = number of offending cells); every arithmetic rule reading that cell is
  ``not_assessable``. A report without any statistical table is ``not_assessable``.
* Cross-year rules compare with the report of the same ``agency_id`` for year Y-1 (any template
  version of v2019/v2021). Missing Y-1, a pre2019 Y-1, a Y-1 without the table, or several
  different Y-1 reports -> ``not_assessable`` with the reason.
* Narrative rules are ``not_assessable`` when the narrative states no such figure, states several
  different ones, or states an approximate one (约, 超过 ...), and when the table is absent.
* The lenient blank-cell policy applies as for t3/t4 (blank, -, /, 无 and a cell missing from a present
  table count as 0) and the detail then says which cells it imputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from .identities import load_schema, resolve_group

# same codes as runner.py (kept literal to avoid an import cycle)
CODE_VALUE, CODE_IMPUTED, CODE_TEXT, CODE_WARNED, CODE_ABSENT = 0, 1, 2, 3, 4
IMPUTED_STATES = ("blank", "dash", "slash", "none_word")
DETAIL_TABLE_ABSENT = "table absent"
DETAIL_PRE2019 = "no statistical tables (pre2019 narrative report)"
DERIVED_SUITE = "derived"
PLAUSIBLE_WAN_YUAN_PER_ITEM = 10000.0

T3_COLS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
    "total",
)
NARRATIVE_METRICS = {
    "nt.t3.new_received": "requests_received_total",
    "nt.t3.processed": "requests_processed_total",
    "nt.t3.carried": "requests_carried_to_next",
    "nt.t4.review.administrative_review": "admin_review_total",
    "nt.t4.review.litigation": "admin_litigation_total",
    "nt.t2.normative": "normative_documents_issued",
}
COUNT_CODES = {"nonneg": "negative_value", "integer": "non_integer_count"}


@dataclass(frozen=True)
class DerivedRule:
    """One catalogue entry validated by the derived suite (one GE expectation)."""

    rule_id: str
    identity_id: str
    rule_family: str
    severity: str
    versions: tuple[str, ...]  # template versions whose reports get a row ('v2019' also covers pre2019)
    op: str
    formula: str
    scope: str  # within_table | cross_table | parse | cross_year | narrative
    rationale: str
    lhs_label: str = ""
    tolerance: float = 0.0


RATIONALE = {
    "t3.balance": "Printed on the form: received (new + carried over) must equal processed + carried to next year, per column.",
    "t3.outcome_sum": "Every processed application has exactly one outcome; double counting of 部分公开 shows up here.",
    "t3.row_total": "总计 is the sum of the applicant columns.",
    "t3.printed_subtotals": "A printed 小计 must equal the sum of the rows or columns it summarises.",
    "t3.printed_other_group": "A number printed on the (六)其他处理 group line must equal the sum of its three sub-rows.",
    "t4.group_total": "总计 of each proceeding is the sum of its results (维持, 纠正, 其他, 尚未审结).",
    "t2.published_le_made": "Soft: normally no more documents are newly published than newly made (older documents can be published this year).",
    "t2.total_ge_new": "Soft: the published total should include this year's newly published documents.",
    "t2.procurement_zero_items": "Soft: no procurement items but a procurement amount suggests a missing count.",
    "t2.procurement_unit_plausibility": "Soft: more than 10000 万元 per item suggests the amount was written in 元, not 万元.",
    "t2.in_force_nonneg_and_plausible": "Soft: documents issued (net of repealed) this year but none in force is implausible.",
    "nonneg": "Counts and amounts cannot be negative; the printed cell is wrong.",
    "integer": "Counts of applications, cases and documents are whole numbers; a fraction or range is wrong.",
    "xy.t3.carryover_chain": "Applications carried over into year Y are those carried to the next year in the Y-1 report of the same agency (total at warn; the applicant columns at info because the applicant type of a carried case may be reclassified).",
    "xy.t2v2019.items_chain": "Items of last year = last year's items plus last year's change (v2019 2019->2020 only); info because lists are revised.",
    "xy.t2v2021.in_force_chain": "Documents in force = last year's in force + issued - repealed; info because documents also lapse and amendments are not counted.",
    "nt.t3.new_received": "The figure stated in the text should match 表三 (tables win; this is a finding, never an overwrite).",
    "nt.t3.processed": "The figure stated in the text should match 表三 (tables win).",
    "nt.t3.carried": "The figure stated in the text should match 表三 (tables win).",
    "nt.t4.review": "Review / litigation figures in the text should match 表四 (tables win).",
    "nt.t2.normative": "Normative documents stated in the text should match 表二 (tables win).",
}


def _schema_rows(schema: dict, version: str, table_id: str) -> list[str]:
    from .identities import _table_def

    rows = _table_def(schema, version, table_id).get("rows") or []
    if isinstance(rows, dict):
        rows = list(rows.get("base") or []) + list(rows.get("insert") or [])
    return [str(r["key"]) for r in rows if isinstance(r, dict) and r.get("key")]


def _identity(schema: dict, section: str, identity_id: str) -> dict:
    node = schema.get(section) or {}
    items = node.get("identities") if isinstance(node, dict) and "identities" in node else node
    if isinstance(node, dict) and "checks" in node:
        items = node["checks"]
    for it in items or []:
        if isinstance(it, dict) and it.get("id") == identity_id:
            return it
    return {}


def _level(schema: dict, section: str, identity_id: str, default: str) -> str:
    return str(_identity(schema, section, identity_id).get("level", default))


def derived_rules(schema: dict | None = None) -> list[DerivedRule]:
    """Every derived catalogue entry, in a stable order."""
    schema = schema or load_schema()
    out: list[DerivedRule] = []
    R = RATIONALE
    out.append(
        DerivedRule("t3.printed_subtotals", "v2019.t3.printed_subtotals", "t3.printed_subtotals",
                    _level(schema, "v2019", "v2019.t3.printed_subtotals", "error"), ("v2019",), "==",
                    "printed *_subtotal / legal_person_subtotal == sum(children)", "within_table",
                    R["t3.printed_subtotals"], "sum of |printed subtotal - sum of its children|")
    )
    out.append(
        DerivedRule("t3.printed_other_group", "v2021.t3.printed_other_group", "t3.printed_other_group",
                    _level(schema, "v2021", "v2021.t3.printed_other_group", "error"), ("v2021",), "==",
                    "printed t3.other_processing.{c} == sum(t3.@other.{c})", "within_table",
                    R["t3.printed_other_group"], "sum of |printed (六) value - sum of its sub-rows|")
    )
    for r in ("regulations", "normative_documents"):
        out.append(
            DerivedRule(f"t2.published_le_made.{r}", "v2019.t2.published_le_made", "t2.published_le_made",
                        _level(schema, "v2019", "v2019.t2.published_le_made", "warn"), ("v2019",), "<=",
                        f"t2_art20_1.{r}.newly_published <= t2_art20_1.{r}.newly_made", "within_table",
                        R["t2.published_le_made"])
        )
    for r in ("regulations", "normative_documents"):
        out.append(
            DerivedRule(f"t2.total_ge_new.{r}", "v2019.t2.total_ge_new", "t2.total_ge_new",
                        _level(schema, "v2019", "v2019.t2.total_ge_new", "warn"), ("v2019",), ">=",
                        f"t2_art20_1.{r}.total_published >= t2_art20_1.{r}.newly_published", "within_table",
                        R["t2.total_ge_new"])
        )
    out.append(
        DerivedRule("t2.procurement_zero_items", "v2019.t2.procurement_zero_items", "t2.procurement_zero_items",
                    _level(schema, "v2019", "v2019.t2.procurement_zero_items", "warn"), ("v2019",), "==",
                    "t2_art20_9.centralized_procurement.procurement_items == 0 implies procurement_amount == 0",
                    "within_table", R["t2.procurement_zero_items"],
                    "procurement amount (万元) when procurement items == 0, else 0", 0.0)
    )
    out.append(
        DerivedRule("t2.procurement_unit_plausibility", "v2019.t2.procurement_unit_plausibility",
                    "t2.procurement_unit_plausibility",
                    _level(schema, "v2019", "v2019.t2.procurement_unit_plausibility", "warn"), ("v2019",), "<=",
                    "procurement_amount / max(procurement_items, 1) <= 10000 (万元 per item)", "within_table",
                    R["t2.procurement_unit_plausibility"], "万元 per procurement item", 1e-6)
    )
    for r in ("regulations", "normative_documents"):
        out.append(
            DerivedRule(f"t2.in_force_nonneg_and_plausible.{r}", "v2021.t2.in_force_nonneg_and_plausible",
                        "t2.in_force_nonneg_and_plausible",
                        _level(schema, "v2021", "v2021.t2.in_force_nonneg_and_plausible", "warn"), ("v2021",),
                        ">=", f"t2_art20_1.{r}.in_force >= (1 if t2_art20_1.{r}.issued > t2_art20_1.{r}.repealed else 0)",
                        "within_table", R["t2.in_force_nonneg_and_plausible"])
        )
    for fam in ("nonneg", "integer"):
        for v in ("v2019", "v2021"):
            what = "negative" if fam == "nonneg" else "fractional"
            out.append(
                DerivedRule(fam, f"{v}.{fam}", fam, _level(schema, v, f"{v}.{fam}", "error"), (v,), "==",
                            f"number of count cells printed {what} (parse warning {COUNT_CODES[fam]}) == 0",
                            "parse", R[fam], f"{what} count cells")
            )
    lvl = _level(schema, "cross_year_identities", "xy.t3.carryover_chain", "warn")
    for c in T3_COLS:
        out.append(
            DerivedRule(f"xy.t3.carryover_chain.{c}", "xy.t3.carryover_chain", "xy.t3.carryover_chain",
                        lvl if c == "total" else "info", ("v2019", "v2021"), "==",
                        f"t3.carried_from_prev_year.{c} == prev.t3.carried_to_next_year.{c}", "cross_year",
                        R["xy.t3.carryover_chain"])
        )
    lvl = _level(schema, "cross_year_identities", "xy.t2v2019.items_chain", "info")
    for t in ("t2_art20_5", "t2_art20_6", "t2_art20_8"):
        for r in _schema_rows(schema, "v2019", t):
            out.append(
                DerivedRule(f"xy.t2v2019.items_chain.{t}.{r}", "xy.t2v2019.items_chain", "xy.t2v2019.items_chain",
                            lvl, ("v2019",), "==",
                            f"{t}.{r}.prev_year_items == prev.{t}.{r}.prev_year_items + prev.{t}.{r}.change_this_year",
                            "cross_year", R["xy.t2v2019.items_chain"])
            )
    lvl = _level(schema, "cross_year_identities", "xy.t2v2021.in_force_chain", "info")
    for r in ("regulations", "normative_documents"):
        out.append(
            DerivedRule(f"xy.t2v2021.in_force_chain.{r}", "xy.t2v2021.in_force_chain", "xy.t2v2021.in_force_chain",
                        lvl, ("v2021",), "==",
                        f"t2_art20_1.{r}.in_force == prev.t2_art20_1.{r}.in_force + t2_art20_1.{r}.issued - t2_art20_1.{r}.repealed",
                        "cross_year", R["xy.t2v2021.in_force_chain"])
        )
    nt_formula = {
        "nt.t3.new_received": "narr.requests_received_total == t3.new_received.total (+ carried_from_prev_year when the sentence says 上年结转)",
        "nt.t3.processed": "narr.requests_processed_total == t3.total_processed.total",
        "nt.t3.carried": "narr.carried_to_next == t3.carried_to_next_year.total",
        "nt.t4.review.administrative_review": "narr.admin_review_total == t4.administrative_review.total",
        "nt.t4.review.litigation": "narr.admin_litigation_total == t4.litigation_without_review.total + t4.litigation_after_review.total",
        "nt.t2.normative": "narr.normative_documents_issued == t2_art20_1.normative_documents.(newly_made v2019 | issued v2021)",
    }
    for rid, formula in nt_formula.items():
        ident = "nt.t4.review" if rid.startswith("nt.t4.review") else rid
        out.append(
            DerivedRule(rid, ident, ident, _level(schema, "narrative_identities", ident, "warn"), ("v2019", "v2021"),
                        "==", formula, "narrative", R[ident], "figure stated in the narrative")
        )
    return out


# --------------------------------------------------------------------------------------------------
# evaluation context
# --------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One cell of every report: value (NaN = missing), state code, reference and warning note."""

    v: np.ndarray
    code: np.ndarray
    ref: str
    wnote: np.ndarray | None = None  # object: 'parser warning (codes) on ref' where warned


@dataclass
class Computed:
    lhs: np.ndarray
    rhs: np.ndarray
    applicable: np.ndarray  # bool: the report gets a row for this entry
    reason: np.ndarray  # object: why not assessable (None where assessable)
    note: np.ndarray | None = None  # object: extra text for pass/fail rows
    imputed: pl.Series | None = None  # lenient-policy list of cells counted as 0


class Context:
    """Every report of the warehouse (sorted by report_id) and accessors for its cells."""

    def __init__(self, con: duckdb.DuckDBPyConnection, vframes: dict, warnings: pl.DataFrame, schema: dict):
        self.schema = schema
        have = table_columns(con, "marts", "dim_report")

        def col(name: str, default: str) -> str:
            return name if name in have else f"{default} as {name}"

        self.reports = (
            con.sql(
                f"""select report_id, template_version, {col('agency_id', 'null::varchar')},
                      {col('report_year', 'null::integer')},
                      coalesce({col('has_t2', 'false').split(' as ')[0]}, false) as has_t2,
                      coalesce(has_t3, false) as has_t3, coalesce(has_t4, false) as has_t4
                   from marts.dim_report
                   -- superseded editions are not validated: their corrections are (see dim_report)
                   where {'is_current' if 'is_current' in have else 'true'}
                   order by report_id"""
            )
            .pl()
            .with_row_index("ridx")
        )
        self.n = len(self.reports)
        self.ids = self.reports["report_id"]
        tv = self.reports["template_version"].fill_null("unknown").to_numpy()
        self.version = tv
        self.group = np.where(tv == "v2021", "v2021", "v2019")
        self.tabled = np.isin(tv, ["v2019", "v2021"])
        self.has = {t: self.reports[f"has_{t}"].to_numpy().astype(bool) for t in ("t2", "t3", "t4")}
        self._vframes = vframes
        self._index_vframes()
        self._load_t2(con)
        self._load_warnings(warnings)
        self._load_prev()

    # ---- t3 / t4 from the runner's wide frames
    def _index_vframes(self) -> None:
        ids = pl.DataFrame({"report_id": self.ids, "ridx": np.arange(self.n)})
        self._vmap = {}
        for version, vf in self._vframes.items():
            m = pl.DataFrame({"report_id": vf.report_ids}).with_row_index("vidx").join(ids, on="report_id")
            self._vmap[version] = (m["ridx"].to_numpy(), m["vidx"].to_numpy(), {c: i for i, c in enumerate(vf.columns)})

    def t34(self, table_id: str, row: str, col: str) -> Cell:
        v = np.full(self.n, np.nan)
        code = np.full(self.n, CODE_ABSENT, dtype=np.int8)
        name = f"{table_id}__{row}__{col}"
        for version, vf in self._vframes.items():
            ridx, vidx, cols = self._vmap[version]
            if name in cols:
                v[ridx] = vf.values[vidx, cols[name]]
                code[ridx] = vf.codes[vidx, cols[name]]
        cell = Cell(v, code, f"{table_id}.{row}.{col}")
        cell.wnote = self._wnote(table_id, row, code == CODE_WARNED)
        return cell

    # ---- 表二 from fct_proactive_disclosure
    def _load_t2(self, con) -> None:
        if _exists(con, "marts", "fct_proactive_disclosure"):
            t2 = con.sql(
                """select report_id, table_id, item, measure, value::double as value, cell_state
                   from marts.fct_proactive_disclosure"""
            ).pl()
        else:
            t2 = pl.DataFrame(
                schema={"report_id": pl.String, "table_id": pl.String, "item": pl.String, "measure": pl.String,
                        "value": pl.Float64, "cell_state": pl.String}
            )
        ids = pl.DataFrame({"report_id": self.ids, "ridx": np.arange(self.n, dtype=np.int64)})
        t2 = t2.join(ids, on="report_id")
        imputed = pl.col("cell_state").is_in(list(IMPUTED_STATES))
        number = (pl.col("cell_state").is_in(["number", "zero_word"]) | pl.col("cell_state").is_null()) & pl.col(
            "value"
        ).is_not_null()
        t2 = t2.with_columns(
            pl.when(number).then(CODE_VALUE).when(imputed).then(CODE_IMPUTED).otherwise(CODE_TEXT).alias("s"),
            pl.when(number).then(pl.col("value")).when(imputed).then(0.0).otherwise(None).alias("v"),
        )
        # duplicate facts that disagree are not usable
        t2 = t2.group_by(["ridx", "table_id", "item", "measure"]).agg(
            pl.when((pl.col("v").min() != pl.col("v").max()) | (pl.col("s").min() != pl.col("s").max()))
            .then(CODE_TEXT)
            .otherwise(pl.col("s").max())
            .alias("s"),
            pl.col("v").max(),
        )
        self._t2 = {k: g for k, g in t2.partition_by(["table_id", "item", "measure"], as_dict=True).items()}

    def t2(self, table_id: str, row: str, col: str) -> Cell:
        v = np.zeros(self.n)
        code = np.full(self.n, CODE_IMPUTED, dtype=np.int8)
        g = self._t2.get((table_id, row, col))
        if g is not None:
            ridx = g["ridx"].to_numpy()
            code[ridx] = g["s"].to_numpy()
            v[ridx] = g["v"].fill_null(np.nan).to_numpy()
        warned = self._warned_mask(table_id, row)
        code = np.where(warned & (code != CODE_ABSENT), CODE_WARNED, code).astype(np.int8)
        code[~self.has["t2"]] = CODE_ABSENT
        v[code >= CODE_TEXT] = np.nan
        v[code == CODE_IMPUTED] = 0.0
        cell = Cell(v, code, f"{table_id}.{row}.{col}")
        cell.wnote = self._wnote(table_id, row, code == CODE_WARNED)
        return cell

    # ---- parse warnings (severity warn)
    def _load_warnings(self, warnings: pl.DataFrame) -> None:
        ids = pl.DataFrame({"report_id": self.ids, "ridx": np.arange(self.n, dtype=np.int64)})
        w = warnings.join(ids, on="report_id").with_columns(pl.col("code").fill_null("unspecified"))
        known: dict[str, set[str]] = {}
        for vf in self._vframes.values():
            for c in vf.columns:
                t, r, _ = c.split("__")
                known.setdefault(t, set()).add(r)
        for v in ("v2019", "v2021"):
            for t in ("t2_art20_1", "t2_art20_5", "t2_art20_6", "t2_art20_8", "t2_art20_9"):
                known.setdefault(t, set()).update(_schema_rows(self.schema, v, t))
        is_data_row = pl.lit(False)
        for t, rows in known.items():
            is_data_row = is_data_row | ((pl.col("table_id") == t) & pl.col("row_key").is_in(sorted(rows)))
        w = w.with_columns(
            pl.when(is_data_row.fill_null(False)).then(pl.col("row_key")).otherwise(pl.lit("*")).alias("row_key")
        )
        self._warn = {
            k: g.group_by("ridx").agg(pl.col("code").unique().sort().str.join(", ").alias("codes"))
            for k, g in w.partition_by(["table_id", "row_key"], as_dict=True).items()
        }

    def _warned_mask(self, table_id: str, row: str) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        for key in ((table_id, row), (table_id, "*")):
            g = self._warn.get(key)
            if g is not None:
                m[g["ridx"].to_numpy()] = True
        return m

    def _wnote(self, table_id: str, row: str, mask: np.ndarray) -> np.ndarray | None:
        if not mask.any():
            return None
        out = np.full(self.n, None, dtype=object)
        for key, where in (((table_id, "*"), table_id), ((table_id, row), f"{table_id}.{row}")):
            g = self._warn.get(key)
            if g is None:
                continue
            for ridx, codes in g.iter_rows():
                if mask[ridx]:
                    out[ridx] = f"parser warning ({codes}) on {where}: not assessed, parser doubt is not a report error"
        return out

    # ---- the Y-1 report of the same agency
    def _load_prev(self) -> None:
        r = self.reports.select("ridx", "agency_id", "report_year")
        prev = (
            r.with_columns((pl.col("report_year") - 1).alias("py"))
            .join(r.rename({"ridx": "pidx", "report_year": "py"}), on=["agency_id", "py"], how="left")
            .group_by("ridx")
            .agg(pl.col("pidx").drop_nulls().n_unique().alias("k"), pl.col("pidx").drop_nulls().min().alias("pidx"))
            .sort("ridx")
        )
        self.prev_count = prev["k"].to_numpy()
        self.prev_idx = prev["pidx"].fill_null(-1).to_numpy().astype(np.int64)
        self.year = self.reports["report_year"].fill_null(0).to_numpy()
        ok = self.prev_idx >= 0
        note = np.full(self.n, None, dtype=object)
        ids = self.ids.to_list()
        for i in np.flatnonzero(ok & (self.prev_count == 1)):
            note[i] = f"compared with the {int(self.year[i]) - 1} report {ids[self.prev_idx[i]]}"
        self.prev_note = note

    def gather_prev(self, cell: Cell) -> Cell:
        """The same cell read in the Y-1 report (absent where there is none)."""
        j = np.where(self.prev_idx >= 0, self.prev_idx, 0)
        v = np.where(self.prev_idx >= 0, cell.v[j], np.nan)
        code = np.where(self.prev_idx >= 0, cell.code[j], CODE_ABSENT).astype(np.int8)
        wnote = None
        if cell.wnote is not None:
            wnote = np.where(self.prev_idx >= 0, cell.wnote[j], None)
            wnote = np.array([None if x is None else f"in the Y-1 report: {x}" for x in wnote], dtype=object)
        return Cell(v, code, "prev." + cell.ref, wnote)


# --------------------------------------------------------------------------------------------------
# computing lhs / rhs per entry
# --------------------------------------------------------------------------------------------------


def _reason_from_cells(ctx: Context, cells: list[Cell], absent_detail: str = DETAIL_TABLE_ABSENT) -> np.ndarray:
    """Why a report is not assessable on these cells (None where every cell is usable)."""
    reason = np.full(ctx.n, None, dtype=object)
    for c in reversed(cells):  # first cell's reason wins
        txt = c.code == CODE_TEXT
        if txt.any():
            reason[txt] = f"text in {c.ref}: not a number (not assessable under the lenient policy)"
        if c.wnote is not None:
            m = (c.code == CODE_WARNED) & np.not_equal(c.wnote, None)
            reason[m] = c.wnote[m]
        ab = c.code == CODE_ABSENT
        reason[ab] = absent_detail
    return reason


def _imputed(cells: list[Cell]) -> pl.Series:
    from .runner import _cell_list

    flags = np.stack([c.code == CODE_IMPUTED for c in cells], axis=1)
    return _cell_list(flags, [c.ref for c in cells])


def _base(ctx: Context, rule: DerivedRule) -> tuple[np.ndarray, np.ndarray]:
    applicable = np.isin(ctx.group, rule.versions)
    reason = np.full(ctx.n, None, dtype=object)
    reason[~ctx.tabled] = DETAIL_PRE2019
    return applicable, reason


def _combine(ctx: Context, rule: DerivedRule, lhs, rhs, cells: list[Cell], extra_reason=None, note=None) -> Computed:
    applicable, base = _base(ctx, rule)
    reason = _reason_from_cells(ctx, cells)
    if extra_reason is not None:
        reason = np.where(np.not_equal(extra_reason, None), extra_reason, reason)
    reason = np.where(np.not_equal(base, None), base, reason)
    na = np.not_equal(reason, None)
    lhs = np.where(na, np.nan, lhs).astype("float64")
    rhs = np.where(na, np.nan, rhs).astype("float64")
    na |= np.isnan(lhs) | np.isnan(rhs)
    reason = np.where(na & np.equal(reason, None), "not assessable: a cell has no usable value", reason)
    return Computed(lhs, rhs, applicable, reason, note, _imputed(cells))


def _compute_t2(ctx: Context, rule: DerivedRule) -> Computed:
    fam, key = rule.rule_family, rule.rule_id.rsplit(".", 1)[-1]
    if fam == "t2.published_le_made":
        a, b = ctx.t2("t2_art20_1", key, "newly_published"), ctx.t2("t2_art20_1", key, "newly_made")
        return _combine(ctx, rule, a.v, b.v, [a, b])
    if fam == "t2.total_ge_new":
        a, b = ctx.t2("t2_art20_1", key, "total_published"), ctx.t2("t2_art20_1", key, "newly_published")
        return _combine(ctx, rule, a.v, b.v, [a, b])
    if fam == "t2.procurement_zero_items":
        items = ctx.t2("t2_art20_9", "centralized_procurement", "procurement_items")
        amount = ctx.t2("t2_art20_9", "centralized_procurement", "procurement_amount")
        lhs = np.where(items.v == 0, amount.v, 0.0)
        return _combine(ctx, rule, lhs, np.zeros(ctx.n), [items, amount])
    if fam == "t2.procurement_unit_plausibility":
        items = ctx.t2("t2_art20_9", "centralized_procurement", "procurement_items")
        amount = ctx.t2("t2_art20_9", "centralized_procurement", "procurement_amount")
        with np.errstate(invalid="ignore", divide="ignore"):
            lhs = amount.v / np.maximum(items.v, 1.0)
        return _combine(ctx, rule, lhs, np.full(ctx.n, PLAUSIBLE_WAN_YUAN_PER_ITEM), [items, amount])
    if fam == "t2.in_force_nonneg_and_plausible":
        inf = ctx.t2("t2_art20_1", key, "in_force")
        iss = ctx.t2("t2_art20_1", key, "issued")
        rep = ctx.t2("t2_art20_1", key, "repealed")
        rhs = np.where(iss.v > rep.v, 1.0, 0.0)
        rhs = np.where(np.isnan(iss.v) | np.isnan(rep.v), np.nan, rhs)
        return _combine(ctx, rule, inf.v, rhs, [inf, iss, rep])
    raise KeyError(fam)


def _compute_counts(ctx: Context, rule: DerivedRule, bad: pl.DataFrame) -> Computed:
    applicable, base = _base(ctx, rule)
    code = COUNT_CODES[rule.rule_family]
    b = bad.filter(pl.col("code") == code)
    lhs = np.zeros(ctx.n)
    note = np.full(ctx.n, None, dtype=object)
    if len(b):
        agg = b.group_by("ridx").agg(
            pl.len().alias("k"),
            pl.format("{} ({})", pl.col("where"), pl.col("raw_text").fill_null("?")).head(4).str.join(", ").alias("cells"),
        )
        ridx = agg["ridx"].to_numpy()
        lhs[ridx] = agg["k"].to_numpy()
        for i, cells in zip(ridx, agg["cells"].to_list()):
            note[i] = f"printed {'negative' if rule.rule_family == 'nonneg' else 'fractional'} count in {cells}"
    anytable = ctx.has["t2"] | ctx.has["t3"] | ctx.has["t4"]
    reason = np.where(np.not_equal(base, None), base, np.where(anytable, None, DETAIL_TABLE_ABSENT))
    na = np.not_equal(reason, None)
    return Computed(np.where(na, np.nan, lhs), np.where(na, np.nan, 0.0), applicable, reason, note)


def _compute_printed(ctx: Context, rule: DerivedRule, printed: pl.DataFrame) -> Computed:
    applicable, base = _base(ctx, rule)
    version = rule.versions[0]
    p = printed.filter(pl.col("template_version") == version)
    lhs = np.full(ctx.n, np.nan)
    note = np.full(ctx.n, None, dtype=object)
    reason = np.full(ctx.n, None, dtype=object)
    reason[:] = (
        "no printed subtotal in this report's 表三 (the parser does not emit printed subtotal values yet):"
        " nothing to check"
    )
    reason[~ctx.has["t3"]] = DETAIL_TABLE_ABSENT
    if len(p):
        groups = {
            "withheld_subtotal": resolve_group(ctx.schema, version, "withheld", "t3"),
            "unable_subtotal": resolve_group(ctx.schema, version, "unable", "t3"),
            "not_processed_subtotal": resolve_group(ctx.schema, version, "not_processed", "t3"),
        }
        if version == "v2021":
            groups = {"other_processing": resolve_group(ctx.schema, version, "other", "t3")}
        legal = resolve_group(ctx.schema, version, "t3_legal_person_types", "t3")
        dev = np.zeros(ctx.n)
        seen = np.zeros(ctx.n, dtype=bool)
        na = np.zeros(ctx.n, dtype=bool)
        for (row, col), g in p.group_by(["row_key", "applicant_type"]):
            if row in groups and col != "legal_person_subtotal":
                children = [ctx.t34("t3", r, col) for r in groups[row]]
            elif col == "legal_person_subtotal":
                children = [ctx.t34("t3", row, c) for c in legal]
            else:
                continue
            total = np.sum([c.v for c in children], axis=0)
            ridx = g["ridx"].to_numpy()
            val = g["value"].to_numpy().astype("float64")
            d = np.abs(val - total[ridx])
            na[ridx] |= np.isnan(d)
            dev[ridx] += np.nan_to_num(d)
            seen[ridx] = True
        lhs = np.where(seen & ~na, dev, np.nan)
        reason = np.where(seen & ~na, None, np.where(seen, "a printed subtotal or one of its children has no usable value", reason))
    reason = np.where(np.not_equal(base, None), base, reason)
    na = np.not_equal(reason, None)
    return Computed(np.where(na, np.nan, lhs), np.where(na, np.nan, 0.0), applicable, reason, note)


def _prev_reason(ctx: Context, table: str, versions: tuple[str, ...]) -> np.ndarray:
    """Why the Y-1 comparison cannot be made (None where the Y-1 report is usable)."""
    reason = np.full(ctx.n, None, dtype=object)
    j = np.where(ctx.prev_idx >= 0, ctx.prev_idx, 0)
    pv = ctx.version[j]
    has_prev_table = ctx.has[table][j]
    zh = {"t3": "表三", "t2": "表二"}[table]
    reason[(ctx.prev_idx >= 0) & ~has_prev_table] = f"the Y-1 report of this agency has no {zh}: not checkable"
    reason[(ctx.prev_idx >= 0) & ~np.isin(pv, list(versions))] = (
        f"the Y-1 report of this agency is {'pre2019' if 'v2019' in versions else 'not ' + '/'.join(versions)}"
        " (no comparable table): not checkable"
    )
    reason[(ctx.prev_idx >= 0) & (pv == "pre2019")] = "the Y-1 report of this agency is pre2019 (no statistical tables): not checkable"
    reason[ctx.prev_count > 1] = "several different reports of this agency for Y-1: ambiguous, not checked"
    reason[ctx.prev_idx < 0] = "no report of this agency for Y-1 in the warehouse: not checkable"
    return reason


def _compute_xy(ctx: Context, rule: DerivedRule) -> Computed:
    fam = rule.rule_family
    if fam == "xy.t3.carryover_chain":
        c = rule.rule_id.rsplit(".", 1)[-1]
        cur = ctx.t34("t3", "carried_from_prev_year", c)
        prev = ctx.gather_prev(ctx.t34("t3", "carried_to_next_year", c))
        own = _reason_from_cells(ctx, [cur])
        pr = _prev_reason(ctx, "t3", ("v2019", "v2021"))
        extra = np.where(np.not_equal(own, None), own, np.where(np.not_equal(pr, None), pr, None))
        return _combine(ctx, rule, cur.v, prev.v, [cur, prev], extra, ctx.prev_note)
    if fam == "xy.t2v2019.items_chain":
        t, r = rule.rule_id.split(".")[-2:]
        cur = ctx.t2(t, r, "prev_year_items")
        pi = ctx.gather_prev(ctx.t2(t, r, "prev_year_items"))
        pc = ctx.gather_prev(ctx.t2(t, r, "change_this_year"))
        own = _reason_from_cells(ctx, [cur])
        pr = _prev_reason(ctx, "t2", ("v2019",))
        extra = np.where(np.not_equal(own, None), own, np.where(np.not_equal(pr, None), pr, None))
        return _combine(ctx, rule, cur.v, pi.v + pc.v, [cur, pi, pc], extra, ctx.prev_note)
    if fam == "xy.t2v2021.in_force_chain":
        r = rule.rule_id.rsplit(".", 1)[-1]
        cur = ctx.t2("t2_art20_1", r, "in_force")
        iss = ctx.t2("t2_art20_1", r, "issued")
        rep = ctx.t2("t2_art20_1", r, "repealed")
        pinf = ctx.gather_prev(ctx.t2("t2_art20_1", r, "in_force"))
        own = _reason_from_cells(ctx, [cur, iss, rep])
        pr = _prev_reason(ctx, "t2", ("v2021",))
        extra = np.where(np.not_equal(own, None), own, np.where(np.not_equal(pr, None), pr, None))
        return _combine(ctx, rule, cur.v, pinf.v + iss.v - rep.v, [cur, iss, rep, pinf], extra, ctx.prev_note)
    raise KeyError(fam)


def _narrative(con, ctx: Context) -> dict[str, pl.DataFrame]:
    if not _exists(con, "marts", "fct_narrative_metrics"):
        return {}
    nm = con.sql(
        "select report_id, metric, value, qualifier, evidence from marts.fct_narrative_metrics where value is not null"
    ).pl()
    ids = pl.DataFrame({"report_id": ctx.ids, "ridx": np.arange(ctx.n, dtype=np.int64)})
    nm = nm.join(ids, on="report_id")
    agg = nm.group_by(["ridx", "metric"]).agg(
        pl.col("value").n_unique().alias("k"),
        pl.col("value").first().alias("value"),
        (pl.col("qualifier").fill_null("exact") != "exact").any().alias("approx"),
        pl.col("evidence").fill_null("").str.contains("上年结转").any().alias("incl_carried"),
    )
    return {m: g for (m,), g in agg.partition_by(["metric"], as_dict=True).items()}


def _compute_nt(ctx: Context, rule: DerivedRule, narr: dict[str, pl.DataFrame]) -> Computed:
    metric = NARRATIVE_METRICS[rule.rule_id]
    lhs = np.full(ctx.n, np.nan)
    extra = np.full(ctx.n, None, dtype=object)
    extra[:] = f"the narrative states no {metric} figure: nothing to compare"
    incl = np.zeros(ctx.n, dtype=bool)
    g = narr.get(metric)
    if g is not None:
        ridx = g["ridx"].to_numpy()
        lhs[ridx] = g["value"].to_numpy()
        extra[ridx] = None
        incl[ridx] = g["incl_carried"].to_numpy()
        k = g["k"].to_numpy() > 1
        extra[ridx[k]] = f"the narrative states several different {metric} figures: not compared"
        ap = g["approx"].to_numpy()
        extra[ridx[ap & ~k]] = f"the narrative {metric} figure is approximate (约/超过...): not compared"
    note = None
    rid = rule.rule_id
    if rid == "nt.t3.new_received":
        a, b = ctx.t34("t3", "new_received", "total"), ctx.t34("t3", "carried_from_prev_year", "total")
        cells = [a, b]
        rhs = np.where(incl, a.v + b.v, a.v)
        note = np.where(incl, "the sentence includes 上年结转: compared with new_received + carried_from_prev_year", None)
    elif rid == "nt.t3.processed":
        a = ctx.t34("t3", "total_processed", "total")
        cells, rhs = [a], a.v
    elif rid == "nt.t3.carried":
        a = ctx.t34("t3", "carried_to_next_year", "total")
        cells, rhs = [a], a.v
    elif rid == "nt.t4.review.administrative_review":
        a = ctx.t34("t4", "administrative_review", "total")
        cells, rhs = [a], a.v
    elif rid == "nt.t4.review.litigation":
        a, b = ctx.t34("t4", "litigation_without_review", "total"), ctx.t34("t4", "litigation_after_review", "total")
        cells, rhs = [a, b], a.v + b.v
    elif rid == "nt.t2.normative":
        a = ctx.t2("t2_art20_1", "normative_documents", "newly_made")
        b = ctx.t2("t2_art20_1", "normative_documents", "issued")
        v21 = ctx.group == "v2021"
        code = np.where(v21, b.code, a.code).astype(np.int8)
        wn = None
        if a.wnote is not None or b.wnote is not None:
            wa = a.wnote if a.wnote is not None else np.full(ctx.n, None, dtype=object)
            wb = b.wnote if b.wnote is not None else np.full(ctx.n, None, dtype=object)
            wn = np.where(v21, wb, wa)
        cell = Cell(np.where(v21, b.v, a.v), code, "t2_art20_1.normative_documents.(newly_made|issued)", wn)
        cells, rhs = [cell], cell.v
    else:
        raise KeyError(rid)
    # the table side decides first (a narrative-only report has nothing to compare with)
    own = _reason_from_cells(ctx, cells)
    extra = np.where(np.not_equal(own, None), own, extra)
    return _combine(ctx, rule, lhs, rhs, cells, extra, note)


def table_columns(con, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def _exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
        + con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ?", [schema, table]
        ).fetchone()[0]
    )


def compute_all(con, vframes: dict, warnings: pl.DataFrame, rules: list[DerivedRule] | None = None):
    """(context, [(rule, Computed)]) for every derived entry over every report."""
    schema = load_schema()
    rules = rules or derived_rules(schema)
    ctx = Context(con, vframes, warnings, schema)
    ids = pl.DataFrame({"report_id": ctx.ids, "ridx": np.arange(ctx.n, dtype=np.int64)})
    bad = pl.DataFrame(schema={"ridx": pl.Int64, "code": pl.String, "where": pl.String, "raw_text": pl.String})
    printed = pl.DataFrame(
        schema={"ridx": pl.Int64, "template_version": pl.String, "row_key": pl.String, "applicant_type": pl.String, "value": pl.Float64}
    )
    if _exists(con, "marts", "fct_parse_warnings"):
        raw = "raw_text" if "raw_text" in table_columns(con, "marts", "fct_parse_warnings") else "null::varchar as raw_text"
        bad = (
            con.sql(
                f"""select report_id, code, table_id || coalesce('.' || row_key, '') as "where", {raw}
                    from marts.fct_parse_warnings
                    where code in ('negative_value', 'non_integer_count')"""
            )
            .pl()
            .join(ids, on="report_id")
        )
    printed = (
        con.sql(
            """select a.report_id, d.template_version, a.row_key, a.applicant_type, a.value::double as value
               from marts.fct_applications a join marts.dim_report d using (report_id)
               where coalesce(a.source, 'table') = 'table' and not coalesce(a.is_derived, false)
                 and a.cell_state in ('number', 'zero_word')
                 and (a.row_key like '%\\_subtotal' escape '\\' or a.applicant_type = 'legal_person_subtotal'
                      or (d.template_version = 'v2021' and a.row_key = 'other_processing'))"""
        )
        .pl()
        .join(ids, on="report_id")
    )
    narr = _narrative(con, ctx)
    out = []
    for rule in rules:
        fam = rule.rule_family
        if fam.startswith("t2."):
            comp = _compute_t2(ctx, rule)
        elif fam in COUNT_CODES:
            comp = _compute_counts(ctx, rule, bad)
        elif fam.startswith("t3.printed"):
            comp = _compute_printed(ctx, rule, printed)
        elif fam.startswith("xy."):
            comp = _compute_xy(ctx, rule)
        elif fam.startswith("nt."):
            comp = _compute_nt(ctx, rule, narr)
        else:
            raise KeyError(fam)
        out.append((rule, comp))
    return ctx, out


# --------------------------------------------------------------------------------------------------
# GE validation and rows
# --------------------------------------------------------------------------------------------------


def build_derived_expectation(rule: DerivedRule, k: int):
    from .custom import ExpectColumnSumsToBalance

    return ExpectColumnSumsToBalance(
        column_list=[f"e{k}__lhs", f"e{k}__rhs"],
        lhs_count=1,
        op=rule.op,
        tolerance=rule.tolerance,
        meta={"rule_id": rule.rule_id, "identity_id": rule.identity_id, "entry": k, "expr": rule.formula},
    )


def validate_derived(ctx: Context, computed: list, gx_and_context) -> list:
    """One GE suite over every entry; returns the GE result of each entry (same order)."""
    import pandas as pd

    gx, context = gx_and_context
    data = {}
    for k, (_rule, comp) in enumerate(computed):
        for side, values in (("lhs", comp.lhs), ("rhs", comp.rhs)):
            col = np.where(comp.applicable, values, np.nan)
            # GE copies the frame for every metric: float32 where exact (integral counts below 2**24)
            finite = col[np.isfinite(col)]
            if finite.size == 0 or (np.all(np.abs(finite) < 2**24) and np.all(finite == np.round(finite))):
                col = col.astype(np.float32)
            data[f"e{k}__{side}"] = col
    from .runner import batch_columns, run_validation

    frame = pd.DataFrame(data, columns=batch_columns(list(data)))
    ds = context.data_sources.add_pandas(f"ds_{DERIVED_SUITE}")
    asset = ds.add_dataframe_asset(f"asset_{DERIVED_SUITE}")
    batch_def = asset.add_batch_definition_whole_dataframe(f"batch_{DERIVED_SUITE}")
    # given with the suite: add_expectation on a stored suite re-serialises it each time (quadratic)
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=f"accounting_rules_{DERIVED_SUITE}",
            expectations=[build_derived_expectation(rule, k) for k, (rule, _) in enumerate(computed)],
        )
    )
    vd = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"validate_{DERIVED_SUITE}", data=batch_def, suite=suite)
    )
    result = run_validation(vd, frame)
    by_entry: dict[int, Any] = {}
    for r in result.results:
        info = r.exception_info or {}
        if info.get("raised_exception"):
            raise RuntimeError(f"Great Expectations raised on {r.expectation_config.meta}: {info.get('exception_message')}")
        by_entry[int(r.expectation_config.meta["entry"])] = r
    if len(by_entry) != len(computed):
        raise RuntimeError("missing GE results in the derived suite")
    return [by_entry[k] for k in range(len(computed))]


_OPS_FAIL = {"==": "!=", "<=": ">", ">=": "<"}


def derived_rows(ctx: Context, rule: DerivedRule, comp: Computed, gx_result) -> pl.DataFrame:
    from .runner import _fmt

    n = ctx.n
    applicable = comp.applicable
    ignored = applicable & (np.isnan(comp.lhs) | np.isnan(comp.rhs))
    res = gx_result.result
    if int(res.get("missing_count", 0)) != int((~applicable).sum() + ignored.sum()):
        raise RuntimeError(f"{rule.rule_id}: GE ignored {res.get('missing_count')} rows, expected {int((~applicable).sum() + ignored.sum())}")
    failed = np.zeros(n, dtype=bool)
    idx = np.asarray(res.get("unexpected_index_list") or [], dtype=np.int64)
    failed[idx] = True
    if (failed & (ignored | ~applicable)).any():
        raise RuntimeError(f"{rule.rule_id}: inconsistent GE unexpected rows")
    status = np.where(failed, "fail", np.where(ignored, "not_assessable", "pass"))
    note = comp.note if comp.note is not None else np.full(n, None, dtype=object)
    df = pl.DataFrame(
        {
            "report_id": ctx.ids,
            "status": status,
            "lhs": np.where(ignored, np.nan, comp.lhs),
            "rhs": np.where(ignored, np.nan, comp.rhs),
            "_reason": pl.Series(comp.reason.tolist(), dtype=pl.String),
            "_note": pl.Series(note.tolist(), dtype=pl.String),
            "_imputed": comp.imputed if comp.imputed is not None else pl.Series([None] * n, dtype=pl.String),
            "_app": applicable,
        },
        nan_to_null=True,
    ).filter(pl.col("_app"))
    lhs_s, rhs_s = _fmt(pl.col("lhs")), _fmt(pl.col("rhs"))
    label = f" (lhs: {rule.lhs_label})" if rule.lhs_label else ""
    tail = pl.concat_str(
        [
            pl.lit(label),
            pl.when(pl.col("_note").is_not_null()).then(pl.format("; {}", pl.col("_note"))).otherwise(pl.lit("")),
            pl.when(pl.col("_imputed").is_not_null())
            .then(pl.format("; lenient policy: blank cells counted as 0 in {}", pl.col("_imputed")))
            .otherwise(pl.lit("")),
        ]
    )
    detail = (
        pl.when(pl.col("status") == "pass")
        .then(pl.concat_str([pl.format(f"holds: {{}} {rule.op} {{}}", lhs_s, rhs_s), tail]))
        .when(pl.col("status") == "fail")
        .then(
            pl.concat_str(
                [
                    pl.format(f"fails: {{}} {_OPS_FAIL[rule.op]} {{}} (difference {{}})", lhs_s, rhs_s, _fmt(pl.col("lhs") - pl.col("rhs"))),
                    tail,
                ]
            )
        )
        .otherwise(pl.col("_reason").fill_null("not assessable"))
    )
    from .runner import result_rows

    return result_rows(df, rule, detail, gx_result.expectation_config.type)


def run_derived(con, vframes: dict, warnings: pl.DataFrame, gx_and_context) -> list[pl.DataFrame]:
    ctx, computed = compute_all(con, vframes, warnings)
    if ctx.n == 0:
        return []
    results = validate_derived(ctx, computed, gx_and_context)
    return [derived_rows(ctx, rule, comp, r) for (rule, comp), r in zip(computed, results)]


# --------------------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------------------

CATALOGUE_SCHEMA = {
    "rule_id": pl.String,
    "identity_id": pl.String,
    "rule_family": pl.String,
    "severity": pl.String,
    "template_version": pl.String,
    "scope": pl.String,
    "formula": pl.String,
    "rationale": pl.String,
    "expectation": pl.String,
    "is_evaluated": pl.Boolean,
    "note": pl.String,
}


def rule_catalogue(schema: dict | None = None) -> pl.DataFrame:
    """Every rule of the YAML catalogue: one row per rule_id x identity_id (identity ids carry the
    template version for within-report rules). Rules not evaluated are listed with is_evaluated false."""
    from .identities import rule_set

    schema = schema or load_schema()
    rows = []
    for v in ("v2019", "v2021"):
        for r in rule_set(v, schema=schema).rules:
            rows.append(
                dict(rule_id=r.rule_id, identity_id=r.identity_id, rule_family=r.rule_family, severity=r.severity,
                     template_version=v, scope="within_table", formula=r.expr,
                     rationale=RATIONALE.get(r.rule_family, ""), expectation="expect_column_sums_to_balance",
                     is_evaluated=True, note="pre2019 reports get this rule as not_assessable" if v == "v2019" else None)
            )
    for d in derived_rules(schema):
        note = None
        if d.rule_family.startswith("nt."):
            note = "the parser currently extracts narrative figures requests_received_total, admin_review_total and admin_litigation_total; other narrative rules stay not_assessable"
        if d.rule_family.startswith("t3.printed"):
            note = "the parser does not emit printed subtotal values yet: not_assessable unless one is present"
        rows.append(
            dict(rule_id=d.rule_id, identity_id=d.identity_id, rule_family=d.rule_family, severity=d.severity,
                 template_version="|".join(d.versions), scope=d.scope, formula=d.formula, rationale=d.rationale,
                 expectation="expect_column_sums_to_balance", is_evaluated=True, note=note)
        )
    bridge = _identity(schema, "cross_year_identities", "xy.t2.version_bridge")
    if bridge:
        rows.append(
            dict(rule_id="xy.t2.version_bridge", identity_id="xy.t2.version_bridge", rule_family="xy.t2.version_bridge",
                 severity=str(bridge.get("level", "info")), template_version="v2019|v2021", scope="cross_year",
                 formula=str(bridge.get("expr")), rationale="对外公开总数量 (v2019) and 现行有效件数 (v2021) measure different things.",
                 expectation=None, is_evaluated=False, note="no exact identity: not evaluated")
        )
    return pl.DataFrame(rows, schema=CATALOGUE_SCHEMA)
