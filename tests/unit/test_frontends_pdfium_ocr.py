"""PDFium text layer, OCR and legacy Office front ends (issue 13)."""

import io
from pathlib import Path

import numpy as np
import pytest

from ingest.discovery import sniff_format
from ingest.frontends import office, read_structured
from ingest.frontends.layout import Rulings, page_blocks, units_from_lists
from ingest.frontends.pdf import read, read_with_source

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real" / "files"


def _grid(h, v):
    return Rulings(np.array(h, float).reshape(-1, 3), np.array(v, float).reshape(-1, 3))


def test_wrapped_label_and_wrapped_number_are_one_cell():
    # a two-column ruled table; the label wraps onto a second line in its box, the number too
    h = [(0, 0, 200), (40, 0, 200)]
    v = [(0, 0, 40), (150, 0, 40), (200, 0, 40)]
    label1, label2, num1, num2 = "5、要求行政机关确认或重新出", "具已获取信息", "424.823", "6"
    text, x0, top, x1, bottom = [], [], [], [], []
    for s, x, y in ((label1, 2, 5), (label2, 2, 20), (num1, 155, 5), (num2, 155, 20)):
        for ch in s:
            w = 10 if ord(ch) > 0x2E80 else 5
            text.append(ch)
            x0.append(x)
            x1.append(x + w)
            top.append(y)
            bottom.append(y + 10)
            x += w
    blocks = page_blocks(units_from_lists(text, x0, top, x1, bottom), _grid(h, v), 1, [0])
    assert [b.cells for b in blocks] == [["5、要求行政机关确认或重新出具已获取信息", "424.8236"]]
    assert blocks[0].locators[1].startswith("page 1, table 1, row 1, col 2, bbox")


def test_merged_box_repeats_its_text_as_copies_and_unruled_rows_split_at_gaps():
    h = [(0, 0, 300), (20, 0, 300), (40, 0, 300)]
    v = [(0, 0, 40), (100, 20, 40), (200, 0, 40), (300, 0, 40)]  # row 1: cols 1-2 merged
    pieces = [("表头", 10, 5), ("A", 210, 5), ("1", 10, 25), ("2", 110, 25), ("3", 210, 25),
              ("规章", 10, 60), ("7", 150, 60), ("8", 250, 60)]
    text, x0, top, x1, bottom = [], [], [], [], []
    for s, x, y in pieces:
        text.append(s)
        x0.append(x)
        x1.append(x + 10 * len(s))
        top.append(y)
        bottom.append(y + 10)
    blocks = page_blocks(units_from_lists(text, x0, top, x1, bottom), _grid(h, v), 1, [0])
    assert blocks[0].cells == ["表头", "表头", "A"] and blocks[0].copies == [False, True, False]
    assert blocks[1].cells == ["1", "2", "3"]
    assert blocks[2].kind == "tab" and blocks[2].cells == ["规章", "7", "8"]  # unruled: split at the gaps


def _ruled_digits_pdf() -> bytes:
    """A ruled table of Latin labels and numbers (Helvetica: PDFium renders it without a font file)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(400, 200))
    rows = [("Item", "Issued", "Repealed"), ("Rules", "4119", "195"), ("Fees", "7730.28", "12")]
    for r, row in enumerate(rows):
        y = 170 - r * 30
        for k, s in enumerate(row):
            c.setFont("Helvetica", 12)
            c.drawString(30 + k * 120, y - 18, s)
    for r in range(4):
        c.line(20, 170 - r * 30, 380, 170 - r * 30)
    for x in (20, 140, 260, 380):
        c.line(x, 170, x, 80)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_text_layer_ruled_table():
    blocks, problem, source = read_with_source(_ruled_digits_pdf())
    assert problem is None and source == "text_layer"
    assert [b.cells for b in blocks if b.kind == "tab"] == [
        ["Item", "Issued", "Repealed"], ["Rules", "4119", "195"], ["Fees", "7730.28", "12"]]


def test_image_only_pdf_is_read_by_ocr_with_confidence(monkeypatch):
    """One small page through rapidocr (models from the wheel): same grid, confidence in the locator."""
    from ingest.frontends.imagepdf import image_only_copy

    monkeypatch.setenv("OGI_OCR", "1")
    scan = image_only_copy(_ruled_digits_pdf(), scale=3.0)
    blocks, problem, source = read_with_source(scan)
    assert problem is None and source == "ocr"
    rows = [b for b in blocks if b.kind == "tab"]
    assert [r.cells[1:] for r in rows] == [["Issued", "Repealed"], ["4119", "195"], ["7730.28", "12"]]
    assert all(", ocr " in loc for r in rows for loc in r.locators)


def test_ocr_off_quarantines_scans_and_images(monkeypatch):
    from ingest.frontends.imagepdf import image_only_copy

    monkeypatch.setenv("OGI_OCR", "0")
    scan = image_only_copy(_ruled_digits_pdf(), scale=1.0)
    blocks, problem = read(scan)
    assert blocks is None and "OCR is off" in problem
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (50, 50), 255).save(buf, format="PNG")
    text, _, problem, _ = read_structured("png", buf.getvalue())
    assert text is None and "OGI_OCR=0" in problem


def test_image_and_ole2_formats_are_sniffed(tmp_path):
    from PIL import Image

    for fmt, name in (("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff")):
        buf = io.BytesIO()
        Image.new("L", (8, 8), 255).save(buf, format=fmt)
        assert sniff_format(buf.getvalue()[:64]) == name
    # an OLE2 compound file whose directory names the WordDocument stream
    doc = office.OLE2_MAGIC + b"\0" * 500 + "WordDocument".encode("utf-16-le") + b"\0" * 100
    p = tmp_path / "a.doc"
    p.write_bytes(doc)
    assert sniff_format(doc[:64], p) == "doc"
    xls = office.OLE2_MAGIC + b"\0" * 500 + "Workbook".encode("utf-16-le")
    assert sniff_format(xls, None) == "xls"


def test_legacy_office_without_converter_is_quarantined_with_what_to_install(monkeypatch):
    monkeypatch.setenv("OGI_SOFFICE", "/nonexistent/soffice")
    doc = office.OLE2_MAGIC + b"\0" * 500 + "WordDocument".encode("utf-16-le")
    text, _, problem, _ = read_structured("doc", doc)
    assert text is None and "LibreOffice" in problem and "apt-get install" in problem


@pytest.mark.skipif(office.converter() is None, reason="LibreOffice (soffice) is not installed")
def test_legacy_doc_converted_when_soffice_exists(tmp_path):
    import subprocess

    import docx

    d = docx.Document()
    d.add_paragraph("2023年政府信息公开工作年度报告")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "规章", "7"
    d.save(tmp_path / "r.docx")
    subprocess.run([office.converter(), "--headless", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(tmp_path / "r.docx")],
                   check=True, timeout=120, capture_output=True)
    blocks, problem = office.read((tmp_path / "r.doc").read_bytes())
    assert problem is None and any(b.cells == ["规章", "7"] for b in blocks)


def _real_pdfs():
    if not REAL.exists():
        pytest.skip(f"real reports not here ({REAL}): ../shared/real is absent")
    return sorted((REAL / "docs").glob("*.pdf"))


def test_real_pdfs_text_layer_grid_is_faithful():
    """表三 of the three real PDFs: every data row of the grid holds its label and seven numbers."""
    for path in _real_pdfs():
        blocks, problem, source = read_with_source(path.read_bytes())
        assert problem is None and source == "text_layer", path.name
        t3 = [b for b in blocks if b.kind == "tab" and len(b.cells) == 10]
        assert any("确认或重新出具已获取信息" in c for b in t3 for c in b.cells), path.name  # wrapped label
        for b in t3:
            if any(c[:1].isdigit() for c in b.cells[3:]):
                assert all(c.replace(".", "").isdigit() for c in b.cells[3:]), (path.name, b.cells)


@pytest.mark.slow  # OCR of 16 pages
def test_real_pdfs_image_only_copies_match_text_layer():
    """Every numeric table cell of the real PDFs, read again by OCR from image-only copies: >= 98% the
    same as the text layer, and every one that differs carries a confidence below MIN_CONFIDENCE."""
    import re

    from ingest.frontends.imagepdf import image_only_copy
    from ingest.frontends.ocr import MIN_CONFIDENCE

    same = total = 0
    unflagged = []
    for path in _real_pdfs():
        data = path.read_bytes()
        ref, _ = read(data)
        got, problem = read(image_only_copy(data))
        assert problem is None
        for a, b in zip([x for x in ref if x.kind == "tab"], [x for x in got if x.kind == "tab"]):
            for k, (want, have) in enumerate(zip(a.cells, b.cells)):
                if not re.fullmatch(r"[\d.]+", want):
                    continue
                total += 1
                same += want == have
                m = re.search(r", ocr (\d\.\d+)", b.locators[k])
                if want != have and not (m and float(m.group(1)) < MIN_CONFIDENCE):
                    unflagged.append((path.name, want, have, b.locators[k]))
    assert total > 500 and same / total >= 0.98, (same, total)
    assert not unflagged


def test_text_source_and_low_confidence_warning():
    import polars as pl

    from ingest.frontends import ocr_confidence_expr, ocr_warnings, text_sources

    docs = pl.DataFrame({"doc_id": [1, 2, 3, 4], "source_format": ["pdf", "pdf", "png", "html"]})
    grid = pl.DataFrame({
        "doc_id": [1, 1, 2, 3, 4, 3],
        "raw_text": ["a", "b", "c", "d", "e", ""],
        "locator": ["page 1, bbox 1,2,3,4", "page 2, bbox 1,2,3,4, ocr 0.97", "page 1, bbox 1,1,1,1",
                    "page 1, table 1, row 1, col 1, bbox 0,0,9,9, ocr 0.55", "table 1, row 1, col 1",
                    "page 1, table 1, row 1, col 2, bbox 9,0,19,9"],  # a blank box: no score
    })
    got = dict(text_sources(docs, grid).sort("doc_id").iter_rows())
    assert got == {1: "text_layer+ocr", 2: "text_layer", 3: "ocr", 4: "text"}
    cells = pl.DataFrame({"doc_id": [3, 3], "table_id": ["t3", "t3"], "row_key": ["granted", "granted"],
                          "raw_text": ["12", "7"],
                          "locator": ["page 1, table 1, row 4, col 4, bbox 0,0,9,9, ocr 0.45",
                                      "page 1, table 1, row 4, col 5, bbox 9,0,19,9, ocr 0.99 (merged, spans here 0,1)"]})
    assert cells.select(ocr_confidence_expr())["locator"].to_list() == [0.45, 0.99]
    w = ocr_warnings(cells)
    assert w["code"].to_list() == ["ocr_low_confidence"] and w["raw_text"].to_list() == ["12"]
    assert w["severity"].to_list() == ["warn"]


def test_pdf_page_with_a_pasted_picture_of_a_table(monkeypatch):
    """A typed page whose table is a picture: the text layer plus OCR of the picture ('text_layer+ocr')."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    monkeypatch.setenv("OGI_OCR", "1")
    picture = pdfium.PdfDocument(_ruled_digits_pdf())[0].render(scale=3).to_pil().convert("L")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(400, 400))
    c.setFont("Helvetica", 12)
    c.drawString(30, 370, "Annual report 2023")
    c.drawImage(ImageReader(picture), 0, 80, width=400, height=200)
    c.showPage()
    c.save()
    blocks, problem, source = read_with_source(buf.getvalue())
    assert problem is None and source == "text_layer+ocr"
    assert blocks[0].cells == ["Annual report 2023"]
    assert ["Rules", "4119", "195"] in [b.cells for b in blocks if b.kind == "tab"]


def test_sample_scanned_report_reads_back_its_truth(monkeypatch):
    """The sample data's scanned report (two pictures of printed pages, CJK, 7 pt table text), read the
    way a run reads it: in the reader's budgeted worker, under a per-file time cap far below what OCR
    takes (each page extends it) and the plain address-space cap (OCR gets its own). Every table cell
    of its truth read right (about 25 s)."""
    import json

    from ingest import reader
    from tests.unit.test_frontends_common import compare, parse_one

    monkeypatch.setenv("OGI_OCR", "1")
    monkeypatch.setenv("OGI_READ_TIMEOUT_S", "5")
    repo = Path(__file__).resolve().parents[2]
    truth = json.loads((repo / "sample_data" / "truth_scanned.jsonl").read_text(encoding="utf-8"))
    scan = repo / "sample_data" / "landing" / "scanned" / "scanned_report.pdf"
    [(_, payload, problem, _)] = list(reader.read_files([(str(scan), "pdf")]))
    assert problem is None and ", ocr " in payload
    batch = parse_one("pdf", payload)
    n_truth, n_pred, correct = compare(batch, truth)
    assert n_truth == n_pred == correct
