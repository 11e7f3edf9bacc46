import io

import pytest

from ingest.frontends import rows
from ingest.frontends.pdf import read
from tests.unit.test_frontends_common import compare, generated, parse_one


def test_generated_pdf_round_trip_with_page_break_inside_t3():
    data, truth = generated("pdf", "tab_v2021", "p1")
    blocks, problem = read(data)
    assert problem is None
    t3_pages = {
        b.locators[0].split(",")[0]
        for b in blocks
        if b.kind == "tab" and any(c.startswith(("（五）", "(五)", "（七）", "(七)", "一、本年新收")) for c in b.cells)
    }
    assert len(t3_pages) >= 1
    batch = parse_one("pdf", rows.dumps(blocks))
    n_truth, n_pred, correct = compare(batch, truth)
    assert n_pred == n_truth == correct
    loc = batch.table_cells.filter(batch.table_cells["table_id"] == "t3")["locator"][0]
    assert loc.startswith("page ") and "bbox" in loc


@pytest.mark.parametrize("seed", ["p2", "p3", "p4"])
def test_generated_pdf_more_layouts(seed):
    data, truth = generated("pdf", "pipe_md", seed)
    blocks, problem = read(data)
    batch = parse_one("pdf", rows.dumps(blocks))
    n_truth, n_pred, correct = compare(batch, truth)
    assert n_pred == n_truth == correct


def test_page_break_inside_t3():
    """Filler paragraphs push 表三 across a page break: every row is still read once, values exact."""
    import random

    from ingest.synth.formats import blocks as report_blocks
    from ingest.synth.formats import to_pdf
    from ingest.synth.generator import generate_report
    from ingest.synth.render import capture

    rng = random.Random("pb")
    with capture() as tables:
        rep = generate_report(rng, layout="tab_v2019", template="v2019", year=2020, name="pb")
    bl = report_blocks(rep.text, tables)
    t3_at = next(i for i, (k, o) in enumerate(bl) if k == "table" and o.table == "t3")
    for n in range(0, 80, 3):
        pdf = to_pdf(bl[:t3_at] + [("para", "填充段落。" * 20)] * n + bl[t3_at:], random.Random(n))
        blocks, problem = read(pdf)
        pages = {b.locators[0].split(",")[0] for b in blocks if b.kind == "tab" and len(b.cells) == 10}
        if len(pages) >= 2:
            break
    assert len(pages) >= 2, "no filler length split 表三"
    batch = parse_one("pdf", rows.dumps(blocks))
    n_truth, n_pred, correct = compare(batch, rep.truth)
    assert n_pred == n_truth == correct


def test_no_text_layer_is_refused():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 200, 200, fill=1)  # an "image" of a page: no glyphs
    c.showPage()
    c.save()
    blocks, problem = read(buf.getvalue())
    assert blocks is None and "no text layer" in problem


def test_encrypted_pdf_is_refused():
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption("secret", ownerPassword="owner"))
    c.drawString(100, 700, "hello 123")
    c.showPage()
    c.save()
    blocks, problem = read(buf.getvalue())
    assert blocks is None and "encrypted" in problem


def test_garbage_pdf_is_recorded():
    blocks, problem = read(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert blocks is None and "pdf" in problem


def _cid_font_canvas():
    """A reportlab canvas (and its buffer) with STSong-Light registered: a non-embedded CID font with a
    predefined CJK CMap (UniGB-UCS2-H), as some real report PDFs use."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    try:
        pdfmetrics.getFont("STSong-Light")
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    return buf, canvas.Canvas(buf)


def test_unruled_row_blanks_vanish_gives_warning_not_shifted_values():
    """pdftotext-style 表三 row without ruling lines: 5 numbers for 7 columns -> cells kept, warning."""
    buf, c = _cid_font_canvas()
    c.setFont("STSong-Light", 9)
    c.drawString(40, 820, "某县审计局2021年政府信息公开工作年度报告")
    c.drawString(40, 800, "三、收到和处理政府信息公开申请情况")
    c.drawString(40, 780, "一、本年新收政府信息公开申请数量")
    for i, v in enumerate(["3001", "53", "61", "4", "3119"]):
        c.drawRightString(260 + 45 * i, 780, v)
    c.showPage()
    c.save()
    blocks, problem = read(buf.getvalue())
    assert problem is None
    row = next(b for b in blocks if b.kind == "tab")
    assert row.cells == ["一、本年新收政府信息公开申请数量", "3001", "53", "61", "4", "3119"]
    batch = parse_one("pdf", rows.dumps(blocks))
    assert batch.table_cells.filter(batch.table_cells["table_id"] == "t3").is_empty()
    w = batch.parse_warnings
    assert "ambiguous_alignment" in w["code"].to_list() and "3119" in w["raw_text"].to_list()[0]


def test_pages_pdfium_cannot_decode_are_read_by_pdfminer_page_by_page():
    """A predefined CJK CMap font (reportlab's STSong-Light: UniGB-UCS2-H), whose one-glyph CJK text
    objects (a cell's 无) PDFium drops, on pages 1 and 3 of three: the fallback reads each of those
    pages' own characters, in page order, and page 2 (a standard font) comes from PDFium."""
    buf, c = _cid_font_canvas()
    for label, values, font in (("第一页收到申请", "无7", "STSong-Light"), ("Page two", "34", "Helvetica"),
                                ("第三页办理完毕", "5无", "STSong-Light")):
        c.setFont(font, 12)
        c.drawString(60, 760, label)
        for i, value in enumerate(values):  # one text object a value, as a table's cells are
            c.drawString(300 + 100 * i, 760, value)
        c.showPage()
    c.save()
    data = buf.getvalue()
    import pypdfium2 as pdfium

    from ingest.frontends.pdf import page_geometry
    doc = pdfium.PdfDocument(data)
    assert [page_geometry(doc[i])[3] > 0 for i in range(3)] == [True, False, True]  # what PDFium lost
    doc.close()
    blocks, problem = read(data)
    assert problem is None
    by_page = {}
    for b in blocks:
        by_page.setdefault(b.locators[0].split(",")[0], []).append(b.cells)
    assert by_page == {"page 1": [["第一页收到申请", "无", "7"]], "page 2": [["Page two", "3", "4"]],
                       "page 3": [["第三页办理完毕", "5", "无"]]}
