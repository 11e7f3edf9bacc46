"""Single hostile files: each is its own outcome with a reason a person understands, never the batch's
failure (issue 11). Every hostile file is built here, in tmp_path."""

import io
import os
import socket
import struct
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

import ingest.discovery as discovery
import ingest.reader as reader
from ingest.decoding import decode_bytes
from ingest.discovery import abs_paths, known_files, landed_frame, scan_landing
from ingest.frontends import docx as docx_front
from ingest.frontends import read_structured
from ingest.warehouse import MAX_EXACT_INTEGER, connect, ensure_raw_schema, repair_unstorable_values

REPORT = "温县教育局2020年政府信息公开工作年度报告\n一、总体情况\n本机关认真贯彻落实《中华人民共和国政府信息公开条例》。\n"
RAW_EXCEPTION_WORDS = ("Error", "Exception", "BadZipFile", "Traceback")


def _plain(reason: str | None) -> bool:
    return bool(reason) and not any(word in reason for word in RAW_EXCEPTION_WORDS)


# ------------------------------------------------------------------------------------ discovery


def test_names_that_are_not_utf8_are_kept_byte_exact_and_shown_escaped(tmp_path):
    name = b"\xb1\xa8\xb8\xe6_2020.txt"  # 报告_2020 in GBK, as unpacked from a Chinese Windows archive
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as fh:
        fh.write(REPORT.encode())
    (tmp_path / "ok.txt").write_text(REPORT, encoding="utf-8")
    scan = landed_frame(scan_landing(tmp_path))
    shown = dict(zip(scan["source_path"], scan["problem"], strict=True))
    assert shown == {"\\xb1\\xa8\\xb8\\xe6_2020.txt": None, "ok.txt": None}
    # the exact bytes open the file: reading gives the report
    paths = dict(zip(scan["source_path"], abs_paths(scan), strict=True))
    encoding, text, problem, _ = reader.read_file(paths["\\xb1\\xa8\\xb8\\xe6_2020.txt"], "txt")
    assert problem is None and text.startswith("温县教育局")
    assert set(known_files(scan)) == set(paths.values())


def test_special_files_are_listed_and_never_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")  # opening it to read would block discovery forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.sock"))
    (tmp_path / "ok.txt").write_text(REPORT, encoding="utf-8")
    try:
        found = {f.source_path: f for f in scan_landing(tmp_path)}
    finally:
        sock.close()
    assert found["pipe.txt"].problem == "a named pipe (FIFO), not a regular file: never opened"
    assert found["s.sock"].problem == "a socket, not a regular file: never opened"
    assert found["ok.txt"].problem is None


def test_a_path_longer_than_the_system_allows_gets_its_row(tmp_path):
    # 18 levels of 240-byte names: 4,300+ bytes, beyond PATH_MAX; built through directory descriptors
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(18):
            os.mkdir("d" * 240, dir_fd=fd)
            inner = os.open("d" * 240, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(leaf, REPORT.encode())
        os.close(leaf)
    finally:
        os.close(fd)
    (tmp_path / "ok.txt").write_text(REPORT, encoding="utf-8")
    found = scan_landing(tmp_path)
    assert [f.problem for f in found if f.source_path == "ok.txt"] == [None]
    deep = [f for f in found if f.source_path != "ok.txt"]
    assert len(deep) == 1 and "longer than the system allows" in deep[0].problem
    landed_frame(found)  # storable


def test_deep_nesting_does_not_hit_the_recursion_limit(tmp_path):
    here = str(tmp_path)
    for _ in range(1100):  # beyond Python's recursion limit, within PATH_MAX
        here += "/a"
        os.mkdir(here)
    with open(here + "/r.txt", "w", encoding="utf-8") as fh:
        fh.write(REPORT)
    try:
        (found,) = scan_landing(tmp_path)
        assert found.problem is None and found.source_path.endswith("/a/r.txt")
        assert discovery.count_files(tmp_path) == 1
    finally:  # pytest's own clean-up (shutil.rmtree) recurses, and would fail on this tree
        os.unlink(here + "/r.txt")
        while here != str(tmp_path):
            os.rmdir(here)
            here = os.path.dirname(here)


def test_files_above_the_cap_keep_their_hash_while_size_and_mtime_hold(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(discovery.MAX_FILE_BYTES + 1)
    first = landed_frame(scan_landing(tmp_path))
    known = known_files(first)

    def no_hashing(fd):
        raise AssertionError("an unchanged file above the cap was hashed again")

    monkeypatch.setattr(discovery, "_hash_fd", no_hashing)
    (again,) = scan_landing(tmp_path, known=known)
    assert again.source_sha256 == first["source_sha256"][0]
    assert "cap" in again.problem


# --------------------------------------------------------------------------------------- reader


def test_a_file_removed_or_replaced_after_discovery_is_its_own_outcome(tmp_path):
    gone, piped = tmp_path / "gone.txt", tmp_path / "piped.txt"
    ok = tmp_path / "ok.txt"
    for path in (gone, piped, ok):
        path.write_text(REPORT, encoding="utf-8")
    scan = landed_frame(scan_landing(tmp_path))
    gone.unlink()
    piped.unlink()
    os.mkfifo(piped)  # a pipe where the file was: must not block reading
    results = dict(zip(scan["source_path"], reader.read_files(list(zip(abs_paths(scan), scan["source_format"],
                                                                          strict=True))), strict=True))
    assert "removed from the landing directory after discovery" in results["gone.txt"][2]
    assert "named pipe" in results["piped.txt"][2]
    assert results["ok.txt"][2] is None and results["ok.txt"][1].startswith("温县")


def test_front_end_exceptions_become_plain_reasons():
    assert reader.plain_reason("pdf", "pdf could not be opened: PdfminerException: No /Root object!") == (
        "pdf could not be opened: the file is damaged or uses a structure the reader does not support")
    assert reader.plain_reason("docx", "XMLSyntaxError: Excessive depth") == (
        "the DOCX file could not be read: its XML is malformed")
    assert "per-file cap" in reader.plain_reason("html", "MemoryError")
    # zlib's refusal under the cap, as pdfminer wraps it (a PDF whose stream inflates to 1.5 GiB)
    assert "per-file cap" in reader.plain_reason(
        "pdf", "pdf text layer could not be read: PdfminerException: Unable to allocate output buffer.")
    assert reader.plain_reason("pdf", "pdf: no text layer (a scanned PDF?)") == "pdf: no text layer (a scanned PDF?)"


def _heavy_page() -> bytes:
    rows = "".join(f"<p>第{i}段：收到申请{i}件，办理完毕。</p>" for i in range(150_000))
    return f"<html><body>{rows}</body></html>".encode()


def test_a_file_over_the_memory_budget_is_quarantined_with_the_cap(tmp_path, monkeypatch):
    (tmp_path / "heavy.html").write_bytes(_heavy_page())
    (tmp_path / "ok.txt").write_text(REPORT, encoding="utf-8")
    monkeypatch.setenv("OGI_READ_MEMORY_MB", "48")
    heavy, ok = reader.read_files([(str(tmp_path / "heavy.html"), "html"), (str(tmp_path / "ok.txt"), "txt")])
    assert heavy[1] is None and "48 MiB" in heavy[2] and _plain(heavy[2])
    assert ok[2] is None


def test_a_file_over_the_time_budget_is_quarantined_with_the_cap(tmp_path, monkeypatch):
    (tmp_path / "slow.html").write_bytes(_heavy_page())
    (tmp_path / "page.html").write_text(f"<html><body><p>{REPORT}</p></body></html>", encoding="utf-8")
    monkeypatch.setenv("OGI_READ_TIMEOUT_S", "0.2")
    slow, page = reader.read_files([(str(tmp_path / "slow.html"), "html"), (str(tmp_path / "page.html"), "html")])
    assert slow[1] is None and "0.2 s per-file cap" in slow[2]
    assert page[2] is None  # the worker was replaced and read the next file


# ------------------------------------------------------------------------------------- encodings


def test_big5_is_recognised_not_read_as_gb18030_garbage():
    from opencc import OpenCC

    body = REPORT * 3 + "本年度共收到政府信息公开申请十五件，均已按期答复。行政复议和行政诉讼均为零。\n"
    decoded = decode_bytes(OpenCC("s2t").convert(body).encode("cp950", "replace"))
    assert decoded.encoding == "big5" and decoded.converted_from_traditional
    assert decoded.text.startswith("温县教育局2020年政府信息公开工作年度报告")
    assert decode_bytes(body.encode("gb18030")).encoding == "gb18030"


def test_bytes_that_read_as_no_chinese_name_the_encoding_problem():
    decoded = decode_bytes(bytes(range(0x81, 0xFF)) * 40)
    assert decoded.text is None and "encoding not recognised" in decoded.problem


# ------------------------------------------------------------------------------------------ html


def test_html_span_of_thousands_of_digits_is_clamped_not_quarantined():
    page = (f"<html><body><p>{REPORT}</p><table><tr><td colspan=\"{'9' * 5000}\">项目</td></tr>"
            "<tr><td>收到申请</td><td>5</td></tr></table></body></html>")
    text, _, problem, _ = read_structured("html", page.encode())
    assert problem is None and "收到申请" in text


def test_html_nested_ten_thousand_levels_is_read():
    page = "<html><body>" + "<div><span>" * 5000 + f"<p>{REPORT}</p>" + "</span></div>" * 5000 + "</body></html>"
    text, _, problem, _ = read_structured("html", page.encode())
    assert problem is None and "温县教育局" in text


# ------------------------------------------------------------------------------------------ docx


def _docx(document_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, document_xml if info.filename == "word/document.xml" else src.read(info))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


_BODY = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
         + "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in REPORT.splitlines()) + "{pad}</w:body></w:document>")


def test_docx_dtd_after_the_first_4_kib_or_in_utf16_is_refused():
    padding = "<w:p><w:r><w:t>填充</w:t></w:r></w:p>" * 400
    late = _BODY.format(pad=padding + '<!DOCTYPE x [<!ENTITY e "boom">]>').encode()
    assert late.index(b"<!DOCTYPE") > 4096
    _, problem = docx_front.read(_docx(late))
    assert "DTD" in problem
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "boom">]>'
             + _BODY.format(pad="")).encode("utf-16")
    _, problem = docx_front.read(_docx(utf16))
    assert "DTD" in problem
    in_styles = _docx(_BODY.format(pad="").encode(), {"word/glossary/x.xml": b'<!ENTITY e SYSTEM "file:///etc/passwd">'})
    assert "DTD" in docx_front.read(in_styles)[1]
    blocks, problem = docx_front.read(_docx(_BODY.format(pad="").encode()))
    assert problem is None and blocks[0].cells[0].startswith("温县教育局")


def test_docx_xml_parser_expands_no_entity():
    from docx.oxml.parser import parse_xml

    el = parse_xml(b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/hostname"><!ENTITY i "expanded">]>'
                   b'<r xmlns:w="urn:x">&e;&i;</r>')
    assert "expanded" not in (el.text or "") and not (el.text or "").strip()


def test_docx_part_above_the_real_byte_cap_is_refused(monkeypatch):
    monkeypatch.setattr(docx_front, "MAX_XML_PART", 256 * 1024)
    big = _BODY.format(pad="".join(f"<w:p><w:r><w:t>第{i}段</w:t></w:r></w:p>" for i in range(20_000))).encode()
    _, problem = docx_front.read(_docx(big))
    assert "above the per-part cap" in problem and str(256 * 1024) in problem


def test_docx_whose_headers_understate_the_sizes_is_refused():
    # the headers say 2,000 bytes; the stream inflates to 8 MB
    data = bytearray(_docx(_BODY.format(pad="<w:p/>" * 1_300_000).encode()))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo("word/document.xml")
    struct.pack_into("<L", data, info.header_offset + 22, 2000)
    central = bytes(data).index(b"PK\x01\x02")
    while bytes(data[central + 46:central + 46 + len(b"word/document.xml")]) != b"word/document.xml":
        central = bytes(data).index(b"PK\x01\x02", central + 4)
    struct.pack_into("<L", data, central + 24, 2000)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml").file_size == 2000
    _, problem = docx_front.read(bytes(data))
    assert "beyond the 2000 bytes its archive header declares" in problem


# ---------------------------------------------------------------------------------------- values


def test_values_the_marts_cannot_cast_are_repaired_in_the_raw_tables(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    ensure_raw_schema(con)
    con.execute("insert into raw.reports (report_id, source_sha256, parse_status) values ('rpt_a', 'a', 'parsed')")
    con.execute("insert into raw.content_outcomes (source_sha256, ingest_status, report_id) values ('a', 'parsed', 'rpt_a')")
    con.execute("""insert into raw.table_cells (report_id, table_id, row_key, col_key, raw_text, cell_state, value)
                   values ('rpt_a', 't3', 'new_received', 'total', '99999999999999999999999', 'number', 1e23),
                          ('rpt_a', 't3', 'granted', 'total', '5', 'number', 5)""")
    con.execute(f"""insert into raw.narrative_facts (report_id, metric, value, evidence)
                    values ('rpt_a', 'requests_received_total', {MAX_EXACT_INTEGER + 2}, '共受理申请…件')""")
    assert repair_unstorable_values(con) == 2
    cells = con.execute("select row_key, cell_state, value, raw_text from raw.table_cells order by 1").fetchall()
    assert cells == [("granted", "number", 5.0, "5"), ("new_received", "text", None, "99999999999999999999999")]
    assert con.execute("select value from raw.narrative_facts").fetchone() == (None,)
    warnings = con.execute("select code, severity, raw_text from raw.parse_warnings order by raw_text").fetchall()
    assert warnings == [("value_not_storable", "warn", "99999999999999999999999"),
                        ("value_not_storable", "warn", "共受理申请…件")]
    assert con.execute("select parse_status from raw.reports").fetchone() == ("partial",)
    status, reason = con.execute("select ingest_status, reason from raw.content_outcomes").fetchone()
    assert status == "partial" and "too large to store" in reason
    # what the marts do with the value now works
    con.execute("select cast(value as bigint) from raw.table_cells union all "
                "select cast(value as bigint) from raw.narrative_facts").fetchall()
    assert repair_unstorable_values(con) == 0  # idempotent
    con.close()


@pytest.mark.parametrize("digits", [20, 400, 5000])
def test_huge_number_cells_never_break_the_load(tmp_path, digits):
    from ingest.values import classify_cells

    cells = classify_cells(pl.DataFrame({"raw_text": ["9" * digits, "12"]}))
    con = duckdb.connect(str(Path(tmp_path) / "w.duckdb"))
    ensure_raw_schema(con)
    con.register("c", cells.select("cell_state", "value", "raw_text").to_arrow())
    con.execute("insert into raw.table_cells (report_id, cell_state, value, raw_text) "
                "select 'r', cell_state, value, raw_text from c")
    repair_unstorable_values(con)
    assert con.execute("select cell_state, value from raw.table_cells order by raw_text").fetchall() == [
        ("number", 12.0), ("text", None)]
    con.close()


# ---------------------------------------------------------------------------------- parse stage


def test_a_document_that_makes_the_parser_raise_is_quarantined_alone(monkeypatch):
    import ingest.parse_stage as stage
    from ingest.pipeline import parse_documents

    docs = pl.DataFrame({
        "source_sha256": [f"{i:064d}" for i in range(5)],
        "source_path": [f"r{i}.txt" for i in range(5)],
        "source_format": ["txt"] * 5,
        "text": [REPORT + f"本年度收到申请{i}件。\n" for i in range(5)],
    })
    poisoned = docs["source_sha256"][3]

    def parser_with_a_bug(chunk):  # stands for a parser bug that one document triggers
        if poisoned in chunk["source_sha256"].to_list():
            raise IndexError("list index out of range")
        return parse_documents(chunk)

    monkeypatch.setattr(stage, "parse_documents", parser_with_a_bug)
    logged: list[str] = []
    batch = stage.parse_isolated(docs, logged.append)
    assert len(logged) == 1 and "r3.txt" in logged[0]
    outcomes = dict(zip(batch.outcomes["source_sha256"], batch.outcomes["ingest_status"], strict=True))
    assert outcomes.pop(poisoned) == "quarantined"
    assert set(outcomes.values()) <= {"parsed", "partial"} and len(outcomes) == 4
    assert batch.reports.height == 4


def test_landing_sensor_fingerprint_takes_names_that_are_not_utf8(tmp_path):
    from dagster_project.defs.automation import landing_fingerprint

    path = os.path.join(os.fsencode(tmp_path), b"\xb1\xa8\xb8\xe6.txt")
    with open(path, "wb") as fh:
        fh.write(b"x")
    before = landing_fingerprint(str(tmp_path))
    with open(path, "ab") as fh:
        fh.write(b"y")
    assert landing_fingerprint(str(tmp_path)) != before


# ------------------------------------------------------------------------------------------ lock


def test_warehouse_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(tmp_path):
    import threading
    import time

    from ingest.warehouse import warehouse_lock

    warehouse = tmp_path / "w.duckdb"
    events = []
    with warehouse_lock(warehouse):
        with warehouse_lock(warehouse):  # ogi run holds it, the run's resource takes it again
            events.append("nested")

        def other():
            with warehouse_lock(warehouse, on_wait=lambda: events.append("waiting")):
                events.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        events.append("released")
    thread.join(timeout=10)
    assert events == ["nested", "waiting", "released", "other"]
