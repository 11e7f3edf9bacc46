"""HTML, DOCX and PDF reports (same truth as their text form) through the real asset graph."""

import io
import shutil
import zipfile

import duckdb

from dagster_project.cli import run_pipeline
from ingest.synth.evaluate import evaluate
from ingest.synth.formats import generate_formats_corpus
from ingest.warehouse import serving_path_for


def test_mixed_formats_end_to_end(tmp_path):
    corpus = tmp_path / "corpus"
    generate_formats_corpus(corpus, 24, seed=5, formats=("html", "docx", "pdf", "txt"))
    landing = tmp_path / "landing"
    shutil.copytree(corpus, landing)
    (landing / "truth.jsonl").unlink()
    # hostile and unreadable files are recorded with a reason, never parsed
    (landing / "bad").mkdir()
    (landing / "bad" / "scan.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (201 * 1024 * 1024))
    (landing / "bad" / "bomb.docx").write_bytes(buf.getvalue())
    warehouse = tmp_path / "w.duckdb"
    assert run_pipeline(landing, warehouse)

    result = evaluate(corpus, warehouse)
    overall = result["cells"]["overall"]
    assert overall["precision"] == 1.0 and overall["recall"] == 1.0, overall
    con = duckdb.connect(str(serving_path_for(warehouse)), read_only=True)
    try:
        status = dict(con.execute(
            "select source_path, ingest_status || ': ' || coalesce(reason, '') from marts.dim_source_file").fetchall())
        formats = {r[0] for r in con.execute("select distinct source_format from marts.dim_report").fetchall()}
        locs = dict(con.execute(
            "select r.source_format, any_value(a.locator) from marts.fct_applications a "
            "join marts.dim_report r using (report_id) group by 1").fetchall())
    finally:
        con.close()
    assert {"html", "docx", "pdf"} <= formats
    assert status["bad/scan.pdf"].startswith("quarantined") and "pdf" in status["bad/scan.pdf"]
    assert status["bad/bomb.docx"].startswith("quarantined") and "zip bomb" in status["bad/bomb.docx"]
    assert locs["pdf"].startswith("page ") and locs["html"].startswith("table ") and locs["docx"].startswith("table ")
