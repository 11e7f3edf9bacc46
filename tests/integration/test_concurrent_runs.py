"""Issue 11 end to end: two ``ogi run``s started 0.5 s apart on one warehouse over a landing folder of
good reports and hostile files. Both exit 0 (the second waits for the first, summary included), every
good file parses, and every hostile file has its row with a reason a person understands."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from ingest.warehouse import serving_path_for

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "sample_data" / "landing"
GBK_NAME = b"\xb1\xa8\xb8\xe6_2020.txt"  # 报告_2020 in GBK


def _landing(root: Path) -> dict[str, str]:
    """Write the landing folder; returns path -> the status it must get (GOOD: parsed or partial)."""
    from opencc import OpenCC

    from tests.unit.test_hostile_files import _BODY, _docx

    root.mkdir()
    shutil.copy(SAMPLE / "r00004_fd919030.txt", root / "good.txt")
    shutil.copy(SAMPLE / "other_formats" / "r00005_2e8fb46d.html", root / "good.html")
    with open(os.path.join(os.fsencode(root), GBK_NAME), "wb") as fh:
        fh.write((SAMPLE / "r00005_9fe75855.txt").read_bytes())
    report = (SAMPLE / "r00010_58b0e16a.txt").read_text(encoding="utf-8")
    assert "共收到依申请公开申请64例" in report
    (root / "huge_number.txt").write_text(report.replace("申请64例", "申请99999999999999999999999例"), encoding="utf-8")
    traditional = OpenCC("s2t").convert((SAMPLE / "r00006_7b3082ce.txt").read_text(encoding="utf-8"))
    (root / "big5.txt").write_bytes(traditional.encode("cp950", "replace"))
    page = (SAMPLE / "other_formats" / "r00004_4b1cff40.html").read_text(encoding="utf-8")
    (root / "colspan.html").write_text(
        page.replace("</body>", f"<table><tr><td colspan=\"{'9' * 5000}\">附注</td></tr></table></body>"),
        encoding="utf-8")
    (root / "late_dtd.docx").write_bytes(_docx(_BODY.format(
        pad="<w:p><w:r><w:t>填充</w:t></w:r></w:p>" * 400 + '<!DOCTYPE x [<!ENTITY e "boom">]>').encode()))
    os.mkfifo(root / "pipe.txt")
    return {
        "good.txt": "GOOD", "good.html": "GOOD", "\\xb1\\xa8\\xb8\\xe6_2020.txt": "GOOD", "big5.txt": "GOOD",
        "colspan.html": "GOOD", "huge_number.txt": "partial", "late_dtd.docx": "quarantined",
        "pipe.txt": "quarantined",
    }


def _start(landing: Path, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def test_two_runs_started_together_both_succeed_over_hostile_files(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    expected = _landing(landing)
    first = _start(landing, warehouse)
    time.sleep(0.5)
    second = _start(landing, warehouse)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err2[-3000:]
    assert "waiting for it to finish" in err1 + err2
    assert "ogi run finished" in out1 and "ogi run finished" in out2

    con = duckdb.connect(str(serving_path_for(warehouse)), read_only=True)
    try:
        rows = {p: (s, r, rid) for p, s, r, rid in con.execute(
            "select source_path, ingest_status, reason, report_id from marts.dim_source_file").fetchall()}
        warnings = con.execute("select count(*) from marts.fct_parse_warnings where code = 'value_not_storable'"
                               ).fetchone()[0]
        reports = con.execute("select count(*) from marts.dim_report").fetchone()[0]
    finally:
        con.close()
    assert set(rows) == set(expected)
    for path, want in expected.items():
        status, reason, report_id = rows[path]
        if want == "GOOD":
            assert status in ("parsed", "partial") and report_id, (path, rows[path])
        else:
            assert status == want, (path, rows[path])
        if status != "parsed":
            assert reason and not any(w in reason for w in ("Error", "Exception", "Traceback")), (path, reason)
    assert "named pipe" in rows["pipe.txt"][1]
    assert "DTD" in rows["late_dtd.docx"][1]
    assert "too large to store" in rows["huge_number.txt"][1] and warnings == 1
    assert reports == 6
    raw = duckdb.connect(str(warehouse), read_only=True)
    try:
        encoding = raw.execute("select encoding from raw.source_files where source_path = 'big5.txt'").fetchone()
    finally:
        raw.close()
    assert encoding == ("big5",)
