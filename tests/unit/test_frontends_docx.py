import io
import zipfile

import docx
import pytest

from ingest.frontends import rows
from ingest.frontends.docx import MAX_UNCOMPRESSED, read
from tests.unit.test_frontends_common import compare, generated, parse_one


def _doc_bytes(d) -> bytes:
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_paragraphs_and_tables_in_order_with_merges_and_nested_runs():
    d = docx.Document()
    p = d.add_paragraph()
    p.add_run("本机关")
    p.add_run("认真").bold = True
    p.add_run("贯彻条例")
    t = d.add_table(rows=3, cols=4)
    t.cell(0, 0).merge(t.cell(1, 1))  # gridSpan 2 + vMerge over 2 rows
    t.cell(0, 0).text = "三、本年度办理结果"
    t.cell(0, 2).text = "1"
    t.cell(0, 3).text = "2"
    t.cell(1, 2).text = "3"
    t.cell(2, 0).text = "（七）总计"
    t.cell(2, 2).text = "4"
    d.add_paragraph("之后的段落")
    blocks, problem = read(_doc_bytes(d))
    assert problem is None
    assert [b.kind for b in blocks] == ["para", "tab", "tab", "tab", "para"]
    assert blocks[0].text == "本机关认真贯彻条例"
    r0, r1, r2 = blocks[1:4]
    assert r0.cells == ["三、本年度办理结果", "三、本年度办理结果", "1", "2"]
    assert r0.copies == [False, True, False, False]
    assert r1.cells[:3] == ["三、本年度办理结果", "三、本年度办理结果", "3"] and r1.copies[:2] == [True, True]
    assert r2.cells[0] == "（七）总计" and not r2.copies[0]
    assert r0.locators[2] == "table 1, row 1, cell 2"


def test_hyperlink_runs_are_read():
    d = docx.Document()
    p = d.add_paragraph("前")
    # a run nested in w:hyperlink, as Word writes links
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>链接文字</w:t></w:r></w:hyperlink>'))
    blocks, _ = read(_doc_bytes(d))
    assert blocks[0].text == "前链接文字"


def test_zip_bomb_refused_before_opening():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(MAX_UNCOMPRESSED // len(chunk) + 2):
                fh.write(chunk)
    blocks, problem = read(buf.getvalue())
    assert blocks is None and "zip bomb" in problem


def test_dtd_refused_and_garbage_recorded():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>')
    blocks, problem = read(buf.getvalue())
    assert blocks is None and "DTD" in problem
    assert read(b"PK\x03\x04garbage")[1]


@pytest.mark.parametrize("layout,seed", [("tab_v2019", "d1"), ("tab_v2021", "d2"), ("tab_blank_zero", "d3")])
def test_generated_docx_round_trip(layout, seed):
    data, truth = generated("docx", layout, seed)
    blocks, problem = read(data)
    assert problem is None
    batch = parse_one("docx", rows.dumps(blocks))
    n_truth, n_pred, correct = compare(batch, truth)
    assert n_pred == n_truth == correct
