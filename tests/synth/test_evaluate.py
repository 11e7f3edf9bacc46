"""Tests of ingest.synth.evaluate against a warehouse built from the truth itself (an oracle)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.synth import generate_corpus
from ingest.synth.evaluate import evaluate, format_report, load_truth, truth_cells, truth_narrative


def _write(path: Path, tables: dict[str, pl.DataFrame]) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    for name, df in tables.items():
        con.register("tmp_df", df.to_arrow())
        con.execute(f"create or replace table marts.{name} as select * from tmp_df")
        con.unregister("tmp_df")
    con.close()


def oracle_tables(corpus: Path) -> dict[str, pl.DataFrame]:
    """Contract marts filled with exactly what truth.jsonl says."""
    truth = load_truth(corpus)
    rid = truth.select("filename", report_id=pl.lit("R") + pl.col("filename").str.replace(r"\.\w+$", ""))
    tc = truth_cells(truth).join(rid, on="filename")
    tn = truth_narrative(truth).join(rid, on="filename")
    files = rid.select(
        source_path=pl.lit("batch1/") + pl.col("filename"),
        report_id="report_id",
        ingest_status=pl.lit("parsed"),
    )
    reports = truth.join(rid, on="filename").select(
        "report_id", "agency_name", "report_year", "template_version", "period_partial"
    )
    app = pl.concat(
        [
            tc.filter(pl.col("table_id") == "t3").select(
                "report_id",
                "row_key",
                applicant_type="col_key",
                value="value",
                cell_state="cell_state",
                source=pl.lit("table"),
                is_derived=pl.lit(False),
            ),
            tn.filter(pl.col("metric") == "requests_received_total").select(
                "report_id",
                row_key=pl.lit("new_received"),
                applicant_type=pl.lit("total"),
                value="value",
                cell_state=pl.lit("number"),
                source=pl.lit("narrative"),
                is_derived=pl.lit(False),
            ),
        ]
    )
    rl = pl.concat(
        [
            tc.filter(pl.col("table_id") == "t4").select(
                "report_id",
                proceeding="row_key",
                result="col_key",
                value="value",
                cell_state="cell_state",
                source=pl.lit("table"),
                is_derived=pl.lit(False),
            ),
            tn.filter(pl.col("metric") != "requests_received_total").select(
                "report_id",
                proceeding=pl.when(pl.col("metric") == "admin_review_total")
                .then(pl.lit("administrative_review"))
                .otherwise(pl.lit("litigation_all")),
                result=pl.lit("total"),
                value="value",
                cell_state=pl.lit("number"),
                source=pl.lit("narrative"),
                is_derived=pl.lit(False),
            ),
        ]
    )
    pd = tc.filter(pl.col("table_id").str.starts_with("t2")).select(
        "report_id",
        item="row_key",
        measure="col_key",
        article_item=pl.col("table_id").str.replace("t2_art", ""),
        value="value",
        cell_state="cell_state",
        is_derived=pl.lit(False),
    )
    return {
        "dim_source_file": files,
        "dim_report": reports,
        "fct_applications": app,
        "fct_review_litigation": rl,
        "fct_proactive_disclosure": pd,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("evalcorpus")
    generate_corpus(d, 60, seed=11, inject_error_rate=0.3)
    return d


def test_oracle_scores_perfect(corpus, tmp_path):
    wh = tmp_path / "oracle.duckdb"
    _write(wh, oracle_tables(corpus))
    res = evaluate(corpus, wh)
    assert res["n_found_reports"] == res["n_truth_reports"] == 60
    o = res["cells"]["overall"]
    assert o["precision"] == o["recall"] == 1.0 and o["predicted"] == o["truth"] > 0
    assert {r["family"] for r in res["cells"]["by_family"]} == {"t2", "t3", "t4"}
    assert all(r["recall"] == 1.0 for r in res["cells"]["by_layout"])
    m = res["metadata"]["overall"]
    assert m["agency_name"] == m["report_year"] == m["template_version"] == 1.0
    assert res["narrative"]["overall"]["recall"] == 1.0 and res["narrative"]["overall"]["spurious"] == 0
    text = format_report(res)
    assert "Cells by layout" in text and "Narrative metrics" in text


def test_perturbations_are_counted(corpus, tmp_path):
    truth = load_truth(corpus)
    tc = truth_cells(truth)
    t = oracle_tables(corpus)
    rid = {f: "R" + f.rsplit(".", 1)[0] for f in truth["filename"]}
    # a narrative report (no cells) vanishes from the warehouse; another report gets a wrong agency name
    gone_file = truth.filter(pl.col("layout") == "narrative")["filename"][0]
    renamed_file = truth.filter(pl.col("layout") == "tab_v2019")["filename"][0]
    t["dim_source_file"] = t["dim_source_file"].filter(pl.col("report_id") != rid[gone_file])
    t["dim_report"] = t["dim_report"].with_columns(
        agency_name=pl.when(pl.col("report_id") == rid[renamed_file])
        .then(pl.lit("某某局"))
        .otherwise(pl.col("agency_name"))
    )
    # 5 numbers off by one, 3 blanks read as 0, 2 derived rows (ignored), 1 cell that is not in the truth
    app = t["fct_applications"].with_row_index("i")
    numbers = app.filter((pl.col("source") == "table") & (pl.col("cell_state") == "number"))["i"].head(5)
    blanks = app.filter(pl.col("cell_state") == "blank")["i"].head(3)
    assert len(numbers) == 5 and len(blanks) == 3
    app = app.with_columns(
        value=pl.when(pl.col("i").is_in(numbers.implode()))
        .then(pl.col("value") + 1)
        .when(pl.col("i").is_in(blanks.implode()))
        .then(0.0)
        .otherwise(pl.col("value")),
        cell_state=pl.when(pl.col("i").is_in(blanks.implode()))
        .then(pl.lit("number"))
        .otherwise(pl.col("cell_state")),
    ).drop("i")
    derived = (
        app.filter(pl.col("source") == "table")
        .head(2)
        .with_columns(row_key=pl.lit("other_processing"), is_derived=pl.lit(True))
    )
    bogus = app.filter(pl.col("source") == "table").head(1).with_columns(row_key=pl.lit("no_such_row"))
    t["fct_applications"] = pl.concat([app, derived, bogus])
    # a spurious narrative review figure in a report whose text states none
    has_review = (
        pl.col("narrative").list.eval(pl.element().struct.field("metric") == "admin_review_total").list.any()
    )
    victim = truth.filter(~has_review & (pl.col("filename") != gone_file))["filename"][0]
    t["fct_review_litigation"] = pl.concat(
        [
            t["fct_review_litigation"],
            pl.DataFrame(
                {
                    "report_id": [rid[victim]],
                    "proceeding": ["administrative_review"],
                    "result": ["total"],
                    "value": [3.0],
                    "cell_state": ["number"],
                    "source": ["narrative"],
                    "is_derived": [False],
                }
            ),
        ],
        how="vertical_relaxed",
    )
    wh = tmp_path / "perturbed.duckdb"
    _write(wh, t)

    res = evaluate(corpus, wh)
    o = res["cells"]["overall"]
    assert o["truth"] == tc.height
    assert o["predicted"] == tc.height + 1
    assert o["correct"] == tc.height - 8
    assert o["value_ok"] == tc.height - 5  # a blank read as 0 still matches on value
    assert res["cells"]["unmatched_predictions"] == 1
    assert abs(o["precision"] - (tc.height - 8) / (tc.height + 1)) < 1e-12
    assert abs(o["recall"] - (tc.height - 8) / tc.height) < 1e-12
    assert res["n_found_reports"] == 59
    m = res["metadata"]["overall"]
    assert (
        m["found"] == 59
        and abs(m["agency_name"] - 58 / 60) < 1e-12
        and abs(m["report_year"] - 59 / 60) < 1e-12
    )
    review = next(r for r in res["narrative"]["by_metric"] if r["metric"] == "admin_review_total")
    assert review["spurious"] == 1


def test_rule_results_detection(corpus, tmp_path):
    truth = load_truth(corpus)
    t = oracle_tables(corpus)
    inj = truth.filter(pl.col("injected_errors").list.len() > 0)
    assert inj.height > 0
    rows = []
    for f, errs in zip(inj["filename"], inj["injected_errors"]):
        rows.append(
            {
                "report_id": "R" + f.rsplit(".", 1)[0],
                "rule_id": errs[0]["broken_rules"][0],
                "severity": "error",
                "status": "fail",
            }
        )
    clean = truth.filter(pl.col("tables_present") & (pl.col("injected_errors").list.len() == 0))["filename"][
        0
    ]
    rows.append(
        {
            "report_id": "R" + clean.rsplit(".", 1)[0],
            "rule_id": "t3.balance.total",
            "severity": "error",
            "status": "fail",
        }
    )
    t["fct_rule_results"] = pl.DataFrame(rows)
    wh = tmp_path / "rules.duckdb"
    _write(wh, t)
    err = evaluate(corpus, wh)["injected_errors"]
    assert err["available"] and err["injected"] == inj.height and err["detected"] == inj.height
    assert err["clean_reports_with_error_fail"] == 1
    assert "Injected errors" in format_report(evaluate(corpus, wh))
