"""Corrected republications (generate_corpus republish_rate) and how the evaluator scores them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.pipeline import parse_documents
from ingest.synth import TABLE_LAYOUTS, generate_corpus
from ingest.synth.evaluate import evaluate, format_report, load_truth, truth_cells, truth_narrative
from ingest.synth.numbers import broken_rules
from ingest.synth.schema import template_spec

ROOT = Path(__file__).resolve().parents[2]


def _truth(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict]]:
    d = tmp_path_factory.mktemp("republished")
    paths = generate_corpus(d, 180, seed=77, republish_rate=0.35, inject_error_rate=0.2)
    truths = _truth(d)
    assert [p.name for p in paths] == [t["filename"] for t in truths]
    return d, truths


def _stated(t: dict) -> dict:
    cells = {(c["table_id"], c["row_key"], c["col_key"]): c["value"] for c in t["cells"]}
    return cells | {("narrative", f["metric"], ""): f["value"] for f in t["narrative"]}


def test_republication_truth(corpus):
    d, truths = corpus
    by_name = {t["filename"]: t for t in truths}
    originals = [t for t in truths if t.get("superseded")]
    corrections = [t for t in truths if t.get("supersedes")]
    assert 30 < len(originals) == len(corrections) and len(truths) == 180 + len(originals)
    for orig in originals:
        corr = by_name[orig["superseded_by"]]
        assert corr["supersedes"] == orig["filename"] and not corr.get("superseded")
        assert truths.index(corr) == truths.index(orig) + 1  # written right after the original
        for key in (
            "agency_name",
            "province",
            "city",
            "county",
            "admin_level",
            "report_year",
            "layout",
            "template_version",
        ):
            assert orig[key] == corr[key], key
        assert dt.date.fromisoformat(corr["publication_date"]) > dt.date.fromisoformat(
            orig["publication_date"]
        )
        text = (d / corr["filename"]).read_text(encoding="utf-8")
        assert corr["publication_date"] in text and orig["publication_date"] not in text
        revisions = corr["features"].get("revisions", [])
        if orig["layout"] in TABLE_LAYOUTS:
            assert revisions and not corr["injected_errors"]
            assert not broken_rules(*_tables(corr), template_spec(corr["template_version"]))
        if revisions:
            assert _stated(orig) != _stated(corr)
    # apart from the deliberate pairs, no (agency, year) repeats
    pairs = Counter((t["agency_name"], t["report_year"]) for t in truths if not t.get("superseded"))
    assert pairs.most_common(1)[0][1] == 1


def _tables(t: dict) -> tuple[dict, dict]:
    t3, t4 = {}, {}
    for c in t["cells"]:
        if c["table_id"] in ("t3", "t4"):
            (t3 if c["table_id"] == "t3" else t4)[(c["row_key"], c["col_key"])] = c["value"]
    return t3, t4


def test_without_republish_rate_no_truth_marks(tmp_path):
    generate_corpus(tmp_path, 30, seed=77)
    truths = _truth(tmp_path)
    assert len(truths) == 30
    assert not any(k in t for t in truths for k in ("superseded", "superseded_by", "supersedes"))


def test_parser_reads_the_later_publication_date(corpus):
    """The supersession rule orders by publication_date: the parser must read both dates as printed."""
    d, truths = corpus
    pairs = [t for t in truths if t.get("superseded") or t.get("supersedes")]
    rows = []
    for t in pairs:
        data = (d / t["filename"]).read_bytes()
        rows.append(
            (
                hashlib.sha256(data).hexdigest(),
                f"landing/{t['filename']}",
                t["filename"].rsplit(".", 1)[1],
                data.decode("utf-8"),
            )
        )
    docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
    parsed = parse_documents(docs).reports.with_columns(
        filename=pl.col("source_path").str.split("/").list.last()
    )
    got = {
        r["filename"]: r
        for r in parsed.select("filename", "publication_date", "agency_id", "report_year").to_dicts()
    }
    for t in pairs:
        assert got[t["filename"]]["publication_date"] == dt.date.fromisoformat(t["publication_date"])
        if t.get("supersedes"):
            orig = got[t["supersedes"]]
            assert got[t["filename"]]["agency_id"] == orig["agency_id"] is not None
            assert got[t["filename"]]["report_year"] == orig["report_year"] == t["report_year"]


def test_cli_republish_flag(tmp_path):
    out = tmp_path / "c"
    subprocess.run(
        [sys.executable, "-m", "ingest.synth", str(out), "-n", "12", "--seed", "2", "--republish-rate", "1"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    truths = _truth(out)
    assert len(truths) == 24 and sum(bool(t.get("superseded")) for t in truths) == 12


# ------------------------------------------------------------------------------------------------
# evaluator
# ------------------------------------------------------------------------------------------------


def _warehouse(path: Path, corpus: Path, is_current: dict[str, bool] | None) -> None:
    """Marts as the warehouse should build them: dim_report keeps every report (with is_current when
    given), the fact marts only the current ones."""
    truth = load_truth(corpus)
    rid = truth.select("filename", report_id=pl.lit("R") + pl.col("filename").str.replace(r"\.\w+$", ""))
    current = rid.join(truth.filter(~pl.col("superseded").fill_null(False)).select("filename"), on="filename")
    tc = truth_cells(truth).join(current, on="filename")
    tn = truth_narrative(truth).join(current, on="filename")
    reports = truth.join(rid, on="filename").select(
        "report_id", "filename", "agency_name", "report_year", "template_version"
    )
    if is_current is not None:
        reports = reports.with_columns(is_current=pl.col("filename").replace_strict(is_current, default=True))
    tables = {
        "dim_source_file": rid.select(
            source_path=pl.lit("b/") + pl.col("filename"),
            report_id="report_id",
            ingest_status=pl.lit("parsed"),
        ),
        "dim_report": reports.drop("filename"),
        "fct_applications": pl.concat(
            [
                tc.filter(pl.col("table_id") == "t3").select(
                    "report_id",
                    "row_key",
                    applicant_type="col_key",
                    value="value",
                    cell_state="cell_state",
                    source=pl.lit("table"),
                ),
                tn.filter(pl.col("metric") == "requests_received_total").select(
                    "report_id",
                    row_key=pl.lit("new_received"),
                    applicant_type=pl.lit("total"),
                    value="value",
                    cell_state=pl.lit("number"),
                    source=pl.lit("narrative"),
                ),
            ]
        ),
        "fct_review_litigation": pl.concat(
            [
                tc.filter(pl.col("table_id") == "t4").select(
                    "report_id",
                    proceeding="row_key",
                    result="col_key",
                    value="value",
                    cell_state="cell_state",
                    source=pl.lit("table"),
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
                ),
            ]
        ),
        "fct_proactive_disclosure": tc.filter(pl.col("table_id").str.starts_with("t2")).select(
            "report_id", "table_id", item="row_key", measure="col_key", value="value", cell_state="cell_state"
        ),
    }
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for name, df in tables.items():
        con.register("df", df.to_arrow())
        con.execute(f"create table marts.{name} as select * from df")
        con.unregister("df")
    con.close()


def test_evaluator_scores_superseded_reports_separately(corpus, tmp_path):
    d, truths = corpus
    flags = {t["filename"]: not t.get("superseded") for t in truths}
    db = tmp_path / "w.duckdb"
    _warehouse(db, d, flags)
    result = evaluate(d, db)
    assert result["cells"]["overall"]["precision"] == 1.0 and result["cells"]["overall"]["recall"] == 1.0
    assert result["narrative"]["overall"]["recall"] == 1.0
    assert result["metadata"]["overall"]["found"] == len(truths)
    n = sum(bool(t.get("superseded")) for t in truths)
    assert result["supersession"] == {
        "superseded": n,
        "corrections": n,
        "available": True,
        "flagged": n,
        "corrections_current": n,
        "wrongly_superseded": 0,
    }
    assert f"superseded reports flagged: {n}/{n}" in format_report(result)


def test_evaluator_counts_wrong_supersession(corpus, tmp_path):
    d, truths = corpus
    flags = {t["filename"]: not t.get("superseded") for t in truths}
    orig = next(t for t in truths if t.get("superseded"))
    flags[orig["filename"]], flags[orig["superseded_by"]] = True, False  # the older one kept
    db = tmp_path / "w.duckdb"
    _warehouse(db, d, flags)
    sup = evaluate(d, db)["supersession"]
    assert sup["flagged"] == sup["superseded"] - 1
    assert sup["corrections_current"] == sup["corrections"] - 1 and sup["wrongly_superseded"] == 1


def test_evaluator_without_is_current(corpus, tmp_path):
    d, _ = corpus
    db = tmp_path / "w.duckdb"
    _warehouse(db, d, None)
    result = evaluate(d, db)
    assert result["supersession"]["available"] is False
    assert "superseded flags: not available" in format_report(result)
    assert result["cells"]["overall"]["recall"] == 1.0


def test_all_reports_of_the_pairs_counted_once(corpus):
    _, truths = corpus
    groups: dict[tuple, list[str]] = defaultdict(list)
    for t in truths:
        groups[(t["agency_name"], t["report_year"])].append(t["filename"])
    for names in groups.values():
        assert len(names) in (1, 2)
        if len(names) == 2:
            assert names[1] == names[0].rsplit(".", 1)[0] + "_corrected" + "." + names[1].rsplit(".", 1)[1]
