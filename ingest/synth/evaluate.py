"""Compare a warehouse built from a synthetic corpus with the corpus's ``truth.jsonl``.

``evaluate(corpus_dir, warehouse_path)`` opens the DuckDB file read-only, reads the contract marts,
joins them to the truth by file name (``dim_source_file.source_path`` ends with the truth filename)
and scores:

* **cells** (表二/表三/表四, ``source = 'table'``, printed cells only: ``is_derived`` rows are skipped):
  a predicted cell is correct when (table, row, col) exists in the truth with the same ``cell_state``
  and the same value (both null, or |diff| < 1e-6).  precision = correct / predicted,
  recall = correct / truth cells; per layout, per table family (t2, t3, t4), per table and overall.
  ``value_ok`` is a diagnostic that ignores the state and treats null as 0.
* **metadata**: agency_name, report_year, template_version (plus period_partial, province, city,
  county, admin_level when the warehouse has them); a report missing from the warehouse counts wrong.
* **narrative**: requests_received_total (fct_applications new_received/total, source narrative),
  admin_review_total (fct_review_litigation administrative_review/total) and admin_litigation_total
  (litigation_all/total, else the sum of the two litigation rows).
* **channels**: every channel figure (fct_narrative_metrics rows channel.<channel>.<metric>) against
  the truth field ``channels``: correct when (file, channel, metric, value) match; precision, recall,
  F1, and the accuracy of is_approximate among the correct ones.
* **injected errors** (when ``marts.fct_rule_results`` exists): detection of the injected identity
  breaks and error-level failures on clean reports.
* **superseded reports** (truth ``superseded: true``, the earlier of a report and its corrected
  republication): left out of the cell, narrative, channel and injected-error scores, since the fact
  marts keep only current reports; instead, when ``dim_report`` has ``is_current``, counted as flagged
  when their row says ``is_current = false``, and the corrections (truth ``supersedes``) when theirs
  says true.  Every other report should be current: those that are not are counted as wrongly
  superseded.

All matching is done with Polars joins.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import polars as pl

TOL = 1e-6

_CELL = pl.Struct(
    {
        "table_id": pl.String,
        "row_key": pl.String,
        "col_key": pl.String,
        "value": pl.Float64,
        "cell_state": pl.String,
        "raw_text": pl.String,
    }
)
_TRUTH_SCHEMA = {
    "filename": pl.String,
    "layout": pl.String,
    "agency_name": pl.String,
    "province": pl.String,
    "city": pl.String,
    "county": pl.String,
    "admin_level": pl.String,
    "report_year": pl.Int64,
    "template_version": pl.String,
    "tables_present": pl.Boolean,
    "period_partial": pl.Boolean,
    "publication_date": pl.String,
    "superseded": pl.Boolean,
    "superseded_by": pl.String,
    "supersedes": pl.String,
    "cells": pl.List(_CELL),
    "narrative": pl.List(pl.Struct({"metric": pl.String, "value": pl.Float64})),
    "channels": pl.List(
        pl.Struct({"channel": pl.String, "metric": pl.String, "value": pl.Float64, "is_approximate": pl.Boolean})
    ),
    "injected_errors": pl.List(
        pl.Struct(
            {
                "table_id": pl.String,
                "row_key": pl.String,
                "col_key": pl.String,
                "rule_family": pl.String,
                "broken_rules": pl.List(pl.String),
            }
        )
    ),
}
META_FIELDS = ("agency_name", "report_year", "template_version")
EXTRA_META_FIELDS = ("period_partial", "province", "city", "county", "admin_level")


# ------------------------------------------------------------------------------------------------
# truth
# ------------------------------------------------------------------------------------------------


def load_truth(corpus_dir: str | Path) -> pl.DataFrame:
    path = Path(corpus_dir) / "truth.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found")
    return pl.read_ndjson(path, schema=_TRUTH_SCHEMA)


def _explode(df: pl.DataFrame, col: str, keep: list[str]) -> pl.DataFrame:
    df = df.select(*keep, col).filter(pl.col(col).list.len() > 0)  # no empty lists left to explode
    try:
        df = df.explode(col, empty_as_null=False)
    except TypeError:  # polars without the keyword
        df = df.explode(col)
    return df.unnest(col)


def truth_cells(truth: pl.DataFrame) -> pl.DataFrame:
    return _explode(truth, "cells", ["filename", "layout"]).select(
        "filename", "layout", "table_id", "row_key", "col_key", "value", "cell_state"
    )


def truth_narrative(truth: pl.DataFrame) -> pl.DataFrame:
    return _explode(truth, "narrative", ["filename", "layout"])


def truth_channels(truth: pl.DataFrame) -> pl.DataFrame:
    if truth.get_column("channels").list.len().sum() == 0:
        return pl.DataFrame(schema={"filename": pl.String, "layout": pl.String, "channel": pl.String,
                                    "metric": pl.String, "value": pl.Float64, "is_approximate": pl.Boolean})
    return _explode(truth, "channels", ["filename", "layout"])


# ------------------------------------------------------------------------------------------------
# warehouse
# ------------------------------------------------------------------------------------------------


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def _pl(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    return con.sql(sql).pl()


def _not_derived(cols: set[str]) -> str:
    return "and not coalesce(is_derived, false)" if "is_derived" in cols else ""


def read_warehouse(warehouse_path: str | Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        out: dict[str, pl.DataFrame] = {}
        out["files"] = _pl(
            con,
            """
            select source_path, report_id, ingest_status from marts.dim_source_file
        """,
        )
        rep_cols = _columns(con, "dim_report")
        extra = [c for c in EXTRA_META_FIELDS if c in rep_cols]
        if "is_current" in rep_cols:
            extra.append("is_current")
        out["reports"] = _pl(
            con,
            f"""
            select report_id, agency_name, cast(report_year as bigint) as report_year, template_version
                   {"".join(", " + c for c in extra)}
            from marts.dim_report
        """,
        )
        app_cols = _columns(con, "fct_applications")
        rl_cols = _columns(con, "fct_review_litigation")
        pd_cols = _columns(con, "fct_proactive_disclosure")
        t2_table = "table_id" if "table_id" in pd_cols else "'t2_art' || article_item"
        out["cells"] = _pl(
            con,
            f"""
            select report_id, 't3' as table_id, row_key, applicant_type as col_key,
                   cast(value as double) as value, cell_state
            from marts.fct_applications where source = 'table' {_not_derived(app_cols)}
            union all
            select report_id, 't4', proceeding, result, cast(value as double), cell_state
            from marts.fct_review_litigation where source = 'table' {_not_derived(rl_cols)}
            union all
            select report_id, {t2_table}, item, measure, cast(value as double), cell_state
            from marts.fct_proactive_disclosure where true {_not_derived(pd_cols)}
        """,
        )
        # reports with a table keep their sentences' figures in fct_narrative_metrics only (one figure
        # per cell in the fact marts); the first statement per metric, as the fact marts take it
        out["narrative"] = _pl(
            con,
            """
            select report_id, metric, cast(value as double) as value
            from marts.fct_narrative_metrics
            where metric in ('requests_received_total', 'admin_review_total', 'admin_litigation_total')
            qualify row_number() over (
                partition by report_id, metric
                order by try_cast(regexp_extract(locator, '[0-9]+') as integer) asc nulls last,
                         locator asc, value asc
            ) = 1
        """,
        ) if _columns(con, "fct_narrative_metrics") else _pl(
            con,
            """
            select report_id, 'requests_received_total' as metric, max(cast(value as double)) as value
            from marts.fct_applications
            where source = 'narrative' and row_key = 'new_received' and applicant_type = 'total'
            group by report_id
            union all
            select report_id, 'admin_review_total', max(cast(value as double))
            from marts.fct_review_litigation
            where source = 'narrative' and proceeding = 'administrative_review' and result = 'total'
            group by report_id
            union all
            select report_id, 'admin_litigation_total',
                   coalesce(max(cast(value as double)) filter (where proceeding = 'litigation_all'),
                            sum(cast(value as double)) filter (
                                where proceeding in ('litigation_without_review', 'litigation_after_review')))
            from marts.fct_review_litigation
            where source = 'narrative' and result = 'total'
              and proceeding in ('litigation_all', 'litigation_without_review', 'litigation_after_review')
            group by report_id
        """,
        )
        # every channel figure (fct_disclosure_channels keeps one per channel x metric; the narrative
        # facts keep them all)
        if _columns(con, "fct_narrative_metrics"):
            out["channels"] = _pl(
                con,
                """
                select report_id, split_part(metric, '.', 2) as channel, split_part(metric, '.', 3) as metric,
                       cast(value as double) as value, coalesce(qualifier <> 'exact', false) as is_approximate
                from marts.fct_narrative_metrics
                where starts_with(metric, 'channel.')
            """,
            )
        elif _columns(con, "fct_disclosure_channels"):
            out["channels"] = _pl(
                con,
                """
                select report_id, channel, metric, cast(value as double) as value, is_approximate
                from marts.fct_disclosure_channels
            """,
            )
        else:
            out["channels"] = pl.DataFrame(
                schema={"report_id": pl.String, "channel": pl.String, "metric": pl.String, "value": pl.Float64,
                        "is_approximate": pl.Boolean}
            )
        has_rules = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name = 'fct_rule_results'"
        ).fetchone()[0]
        if has_rules:
            out["rules"] = _pl(
                con,
                """
                select report_id, rule_id, severity, status from marts.fct_rule_results
            """,
            )
        return out
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------
# scoring
# ------------------------------------------------------------------------------------------------


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def _file_map(files: pl.DataFrame, filenames: pl.Series) -> pl.DataFrame:
    """filename -> report_id for the corpus files (source_path ends with the truth filename)."""
    base = files.with_columns(filename=pl.col("source_path").str.split("/").list.last())
    base = base.filter(pl.col("filename").is_in(filenames.implode()) & pl.col("report_id").is_not_null())
    return (
        base.sort("source_path")
        .unique(subset=["filename"], keep="first", maintain_order=True)
        .select("filename", "report_id")
    )


def _cell_scores(tc: pl.DataFrame, pc: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    t = tc.group_by(by).agg(truth=pl.len())
    p = pc.group_by(by).agg(
        predicted=pl.len(), correct=pl.col("correct").sum(), value_ok=pl.col("value_ok").sum()
    )
    out = t.join(p, on=by, how="full", coalesce=True).with_columns(
        pl.col("truth", "predicted", "correct", "value_ok").fill_null(0).cast(pl.Int64)
    )
    out = out.with_columns(precision=_ratio("correct", "predicted"), recall=_ratio("correct", "truth"))
    out = out.with_columns(
        f1=pl.when((pl.col("precision") + pl.col("recall")) > 0)
        .then(2 * pl.col("precision") * pl.col("recall") / (pl.col("precision") + pl.col("recall")))
        .otherwise(None)
    )
    return out.sort(by).select(*by, "predicted", "truth", "correct", "precision", "recall", "f1", "value_ok")


def _supersession(truth: pl.DataFrame, reports: pl.DataFrame, fmap: pl.DataFrame) -> dict:
    """Do superseded reports read ``is_current = false`` and every other report true?"""
    out: dict = {
        "superseded": int(truth["superseded"].fill_null(False).sum()),
        "corrections": int(truth["supersedes"].is_not_null().sum()),
        "available": "is_current" in reports.columns,
    }
    if not out["available"]:
        return out
    current = (
        truth.select(
            "filename",
            superseded=pl.col("superseded").fill_null(False),
            is_correction=pl.col("supersedes").is_not_null(),
        )
        .join(fmap, on="filename", how="left")
        .join(reports.select("report_id", "is_current"), on="report_id", how="left")
    )
    superseded = current.filter(pl.col("superseded"))
    others = current.filter(~pl.col("superseded"))
    out["flagged"] = superseded.filter(pl.col("is_current").eq_missing(False)).height
    out["corrections_current"] = others.filter(
        pl.col("is_correction") & pl.col("is_current").fill_null(False)
    ).height
    out["wrongly_superseded"] = others.filter(pl.col("is_current").eq_missing(False)).height
    return out


def evaluate(corpus_dir: str | Path, warehouse_path: str | Path) -> dict:
    all_truth = load_truth(corpus_dir)
    wh = read_warehouse(warehouse_path)
    fmap = _file_map(wh["files"], all_truth["filename"])
    # a superseded report's facts are meant to be missing from the fact marts: scored separately
    truth = all_truth.filter(~pl.col("superseded").fill_null(False))
    layouts = truth.select("filename", "layout")

    # ---- cells ----
    tc = truth_cells(truth).with_columns(family=pl.col("table_id").str.extract(r"^(t\d)", 1))
    pc = (
        wh["cells"]
        .join(fmap, on="report_id", how="inner")
        .join(layouts, on="filename", how="inner")
        .join(
            tc.select(
                "filename",
                "table_id",
                "row_key",
                "col_key",
                pl.col("value").alias("value_t"),
                pl.col("cell_state").alias("state_t"),
            ),
            on=["filename", "table_id", "row_key", "col_key"],
            how="left",
        )
        .with_columns(family=pl.col("table_id").str.extract(r"^(t\d)", 1))
        .with_columns(
            correct=(
                pl.col("state_t").is_not_null()
                & (pl.col("cell_state") == pl.col("state_t"))
                & (
                    (pl.col("value").is_null() & pl.col("value_t").is_null())
                    | ((pl.col("value") - pl.col("value_t")).abs() < TOL)
                ).fill_null(False)
            ).fill_null(False),
            value_ok=(
                pl.col("state_t").is_not_null()
                & ((pl.col("value").fill_null(0.0) - pl.col("value_t").fill_null(0.0)).abs() < TOL)
            ).fill_null(False),
        )
    )
    tc_all = tc.with_columns(all=pl.lit("all"))
    pc_all = pc.with_columns(all=pl.lit("all"))
    cells = {
        "overall": _cell_scores(tc_all, pc_all, ["all"]).drop("all").to_dicts()[0],
        "by_layout": _cell_scores(tc, pc, ["layout"]).to_dicts(),
        "by_family": _cell_scores(tc, pc, ["family"]).to_dicts(),
        "by_layout_family": _cell_scores(tc, pc, ["layout", "family"]).to_dicts(),
        "by_table": _cell_scores(tc, pc, ["table_id"]).to_dicts(),
        "unmatched_predictions": pc.filter(pl.col("state_t").is_null()).height,
    }

    # ---- metadata (dim_report keeps superseded reports too) ----
    reports = wh["reports"]
    extra = [c for c in EXTRA_META_FIELDS if c in reports.columns]
    pred_meta = reports.drop("is_current", strict=False).rename({c: f"{c}_p" for c in (*META_FIELDS, *extra)})
    meta = (
        all_truth.select("filename", "layout", *META_FIELDS, *extra)
        .join(fmap, on="filename", how="left")
        .join(pred_meta, on="report_id", how="left")
        .with_columns(
            found=pl.col("report_id").is_not_null(),
            **{
                f"{c}_ok": pl.col(c).eq_missing(pl.col(f"{c}_p")) & pl.col("report_id").is_not_null()
                for c in (*META_FIELDS, *extra)
            },
        )
    )
    ok_cols = [f"{c}_ok" for c in (*META_FIELDS, *extra)]

    def _meta_agg(df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        return (
            df.group_by(by)
            .agg(n=pl.len(), found=pl.col("found").sum(), **{c[:-3]: pl.col(c).mean() for c in ok_cols})
            .sort(by)
        )

    metadata = {
        "fields": list(META_FIELDS) + extra,
        "overall": _meta_agg(meta.with_columns(all=pl.lit("all")), ["all"]).drop("all").to_dicts()[0],
        "by_layout": _meta_agg(meta, ["layout"]).to_dicts(),
    }

    # ---- narrative ----
    tn = truth_narrative(truth)
    pn = (
        wh["narrative"]
        .join(fmap, on="report_id", how="inner")
        .join(layouts, on="filename", how="inner")
        .rename({"value": "value_p"})
        .drop("report_id")
    )
    nj = tn.join(pn, on=["filename", "layout", "metric"], how="full", coalesce=True).with_columns(
        in_truth=pl.col("value").is_not_null(),
        predicted=pl.col("value_p").is_not_null(),
        correct=((pl.col("value") - pl.col("value_p")).abs() < TOL).fill_null(False),
    )

    def _narr_agg(df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        return (
            df.group_by(by)
            .agg(
                truth=pl.col("in_truth").sum(),
                predicted=pl.col("predicted").sum(),
                correct=pl.col("correct").sum(),
                spurious=(pl.col("predicted") & ~pl.col("in_truth")).sum(),
            )
            .with_columns(precision=_ratio("correct", "predicted"), recall=_ratio("correct", "truth"))
            .sort(by)
        )

    narrative = {
        "overall": _narr_agg(nj.with_columns(all=pl.lit("all")), ["all"]).drop("all").to_dicts()[0]
        if nj.height
        else {},
        "by_metric": _narr_agg(nj, ["metric"]).to_dicts(),
        "by_layout_metric": _narr_agg(nj, ["layout", "metric"]).to_dicts(),
    }

    # ---- channels: a predicted figure is correct when (file, channel, metric, value) is in the truth ----
    tch = truth_channels(truth).with_columns(pl.col("value").round(4))
    pch = (
        wh["channels"]
        .join(fmap, on="report_id", how="inner")
        .join(layouts, on="filename", how="inner")
        .drop("report_id")
        .with_columns(pl.col("value").round(4))
        .unique(["filename", "channel", "metric", "value"])
        .rename({"is_approximate": "is_approximate_p"})
    )
    cj = tch.join(pch, on=["filename", "layout", "channel", "metric", "value"], how="full", coalesce=True,
                  nulls_equal=True).with_columns(
        in_truth=pl.col("is_approximate").is_not_null(),
        predicted=pl.col("is_approximate_p").is_not_null(),
    ).with_columns(
        correct=pl.col("in_truth") & pl.col("predicted"),
        approx_ok=(pl.col("in_truth") & pl.col("predicted")
                   & (pl.col("is_approximate") == pl.col("is_approximate_p"))).fill_null(False),
    )

    def _ch_agg(df: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        return (
            df.group_by(by)
            .agg(
                truth=pl.col("in_truth").sum(),
                predicted=pl.col("predicted").sum(),
                correct=pl.col("correct").sum(),
                approx_ok=pl.col("approx_ok").sum(),
            )
            .with_columns(precision=_ratio("correct", "predicted"), recall=_ratio("correct", "truth"))
            .with_columns(
                f1=pl.when((pl.col("precision") + pl.col("recall")) > 0)
                .then(2 * pl.col("precision") * pl.col("recall") / (pl.col("precision") + pl.col("recall"))),
                approx_accuracy=_ratio("approx_ok", "correct"),
            )
            .sort(by)
        )

    channels = {
        "overall": _ch_agg(cj.with_columns(all=pl.lit("all")), ["all"]).drop("all").to_dicts()[0]
        if cj.height
        else {},
        "by_channel": _ch_agg(cj, ["channel"]).to_dicts(),
        "by_metric": _ch_agg(cj, ["metric"]).to_dicts(),
    }

    # ---- injected errors ----
    errors: dict = {"available": "rules" in wh}
    if "rules" in wh:
        fails = wh["rules"].filter(pl.col("status") == "fail").join(fmap, on="report_id", how="inner")
        inj = _explode(truth, "injected_errors", ["filename"])
        if inj.height:
            inj_rules = inj.select("filename", "rule_family", "broken_rules").explode("broken_rules")
            hit = (
                inj_rules.join(
                    fails.select("filename", pl.col("rule_id").alias("broken_rules")),
                    on=["filename", "broken_rules"],
                    how="inner",
                )
                .select("filename")
                .unique()
            )
            errors["injected"] = inj.height
            errors["detected"] = hit.height
            errors["detection_rate"] = hit.height / inj.height
        clean = truth.filter(pl.col("tables_present") & (pl.col("injected_errors").list.len() == 0))
        flagged = fails.filter(pl.col("severity") == "error").join(
            clean.select("filename"), on="filename", how="semi"
        )
        errors["clean_reports"] = clean.height
        errors["clean_reports_with_error_fail"] = flagged.select("filename").n_unique()

    status = (
        wh["files"]
        .with_columns(filename=pl.col("source_path").str.split("/").list.last())
        .filter(pl.col("filename").is_in(all_truth["filename"].implode()))
        .group_by("ingest_status")
        .agg(n=pl.len())
        .sort("ingest_status")
    )
    return {
        "corpus_dir": str(corpus_dir),
        "warehouse": str(warehouse_path),
        "n_truth_reports": all_truth.height,
        "n_found_reports": fmap.height,
        "ingest_status": {r["ingest_status"]: r["n"] for r in status.to_dicts()},
        "cells": cells,
        "metadata": metadata,
        "narrative": narrative,
        "channels": channels,
        "injected_errors": errors,
        "supersession": _supersession(all_truth, reports, fmap),
    }


# ------------------------------------------------------------------------------------------------
# formatting
# ------------------------------------------------------------------------------------------------


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _table(title: str, rows: list[dict], cols: list[str]) -> str:
    if not rows:
        return f"{title}\n  (none)\n"
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    num = [all(_is_num(row[i]) for row in cells) for i in range(len(cols))]

    def line(vals: list[str]) -> str:
        return (
            "  " + "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(vals, widths, num)).rstrip()
        )

    out = [title, line(cols), "  " + "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    return "\n".join(out) + "\n"


def _is_num(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return s == "-"


def format_report(result: dict) -> str:
    cell_cols = ["predicted", "truth", "correct", "precision", "recall", "f1", "value_ok"]
    parts = [
        f"Synthetic corpus evaluation\n  corpus:    {result['corpus_dir']}\n  warehouse: {result['warehouse']}\n"
        f"  reports:   {result['n_found_reports']} of {result['n_truth_reports']} found in dim_source_file"
        + (
            f"  (ingest_status: {', '.join(f'{k}={v}' for k, v in result['ingest_status'].items())})"
            if result.get("ingest_status")
            else ""
        )
        + "\n",
        _table("Cells, overall", [result["cells"]["overall"]], cell_cols),
        _table("Cells by layout", result["cells"]["by_layout"], ["layout", *cell_cols]),
        _table("Cells by table family", result["cells"]["by_family"], ["family", *cell_cols]),
        _table(
            "Cells by layout and family",
            result["cells"]["by_layout_family"],
            ["layout", "family", *cell_cols],
        ),
        _table("Cells by table", result["cells"]["by_table"], ["table_id", *cell_cols]),
    ]
    mcols = ["n", "found", *result["metadata"]["fields"]]
    parts.append(
        _table(
            "Metadata accuracy by layout",
            result["metadata"]["by_layout"] + [{"layout": "ALL", **result["metadata"]["overall"]}],
            ["layout", *mcols],
        )
    )
    ncols = ["truth", "predicted", "correct", "spurious", "precision", "recall"]
    parts.append(_table("Narrative metrics", result["narrative"]["by_metric"], ["metric", *ncols]))
    parts.append(
        _table(
            "Narrative metrics by layout",
            result["narrative"]["by_layout_metric"],
            ["layout", "metric", *ncols],
        )
    )
    chcols = ["truth", "predicted", "correct", "precision", "recall", "f1", "approx_accuracy"]
    if result.get("channels", {}).get("overall"):
        parts.append(_table("Disclosure channel figures, overall", [result["channels"]["overall"]], chcols))
        parts.append(_table("Disclosure channel figures by channel", result["channels"]["by_channel"],
                            ["channel", *chcols]))
        parts.append(_table("Disclosure channel figures by metric", result["channels"]["by_metric"],
                            ["metric", *chcols]))
    err = result["injected_errors"]
    if err.get("available"):
        parts.append(
            _table(
                "Injected errors",
                [err],
                [
                    k
                    for k in (
                        "injected",
                        "detected",
                        "detection_rate",
                        "clean_reports",
                        "clean_reports_with_error_fail",
                    )
                    if k in err
                ],
            )
        )
    sup = result.get("supersession", {})
    if sup.get("available"):
        parts.append(
            "Superseded reports\n"
            f"  superseded reports flagged: {sup['flagged']}/{sup['superseded']}\n"
            f"  corrections current: {sup['corrections_current']}/{sup['corrections']}\n"
            f"  other reports wrongly superseded: {sup['wrongly_superseded']}\n"
        )
    elif sup.get("superseded"):
        parts.append(
            f"Superseded reports ({sup['superseded']} in the truth)\n  superseded flags: not available\n"
        )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Score a warehouse against a synthetic corpus's truth.jsonl")
    ap.add_argument("corpus_dir")
    ap.add_argument("warehouse")
    ap.add_argument("--json", help="also write the result dict to this file")
    args = ap.parse_args(argv)
    result = evaluate(args.corpus_dir, args.warehouse)
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
