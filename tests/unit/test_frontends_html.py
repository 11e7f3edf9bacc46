import pytest

from ingest.frontends import rows
from ingest.frontends.html import decode_html, extract
from tests.unit.test_frontends_common import compare, generated, parse_one

PAGE = """<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某县审计局2021年政府信息公开工作年度报告</title><script>document.write('x')</script></head><body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk">政务公开</a></div>
<div class="TRS_Editor"><p>某县审计局2021年政府信息公开工作年度报告</p>
<p>一、总体情况</p><p>本机关<span>认真<b>贯彻</b></span>落实&nbsp;条例。</p>
<table border="1"><tbody>
<tr><td colspan="3" rowspan="2">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="2">申请人情况</td></tr>
<tr><td>自然人</td><td>总计</td></tr>
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>1,234</td><td>&nbsp;</td></tr>
<tr><td rowspan="2">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>５</td><td>-</td></tr>
<tr><td colspan="2">（二）部分公开</td><td>2</td><td>3</td></tr>
</tbody></table></div>
<div class="related"><ul><li><a>某县审计局2019年政府信息公开工作年度报告</a></li></ul></div>
<div class="footer">版权所有：某县人民政府</div></body></html>"""


def test_charset_from_meta_gbk():
    data = PAGE.encode("gbk")
    text, enc, problem = decode_html(data)
    assert problem is None and enc == "gb18030" and "审计局" in text


def test_charset_utf8_bom_and_undeclared():
    assert decode_html(b"\xef\xbb\xbf<p>\xe4\xb8\xad</p>")[1] == "utf-8"
    assert decode_html("<p>中文</p>".encode("gbk"))[1] == "gb18030"


def test_body_found_among_chrome_and_rowspan_colspan_expanded():
    blocks = extract(PAGE)
    texts = [b.text for b in blocks]
    assert not any("首页" in t or "版权所有" in t or "2019年" in t or "document.write" in t for t in texts)
    assert "本机关认真贯彻落实\xa0条例。" in texts or "本机关认真贯彻落实 条例。" in [t.replace("\xa0", " ") for t in texts]
    rows = [b for b in blocks if b.kind == "tab"]
    assert all(len(r.cells) == 5 for r in rows)
    new = rows[2]
    assert new.cells == ["一、本年新收政府信息公开申请数量"] * 3 + ["1,234", ""]
    assert new.copies == [False, True, True, False, False]
    outcome2 = rows[4]  # rowspan copy of 三、本年度办理结果 in column 0
    assert outcome2.cells[0] == "三、本年度办理结果" and outcome2.copies[0]
    assert outcome2.locators[3] == "table 1, row 5, cell 2"


def test_no_entities_beyond_html_and_nothing_fetched():
    blocks = extract('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><p>a&e;b &amp; &lt;</p><img src="http://x/y.png">')
    texts = [b.text for b in blocks]
    assert "a&e;b & <" in texts and not any("root:" in t for t in texts)


def test_broken_html_does_not_raise():
    assert extract("<table><tr><td rowspan=999999 colspan=abc>1<td>2</table><p>x") is not None
    assert extract("") == []


@pytest.mark.parametrize("layout,seed", [("tab_v2019", "h1"), ("tab_v2021", "h2"), ("tab_blank_zero", "h3"), ("pipe_md", "h4")])
def test_generated_html_round_trip(layout, seed):
    data, truth = generated("html", layout, seed)
    text, _, problem = decode_html(data)
    assert problem is None
    batch = parse_one("html", rows.dumps(extract(text)))
    n_truth, n_pred, correct = compare(batch, truth)
    assert n_pred == n_truth == correct
    assert batch.parse_warnings.filter(batch.parse_warnings["severity"] == "warn").is_empty()


def test_decode_stage_reads_gbk_page_into_blocks():
    from ingest.frontends import read_structured as _decode_structured

    text, encoding, problem, converted = _decode_structured("html", PAGE.encode("gbk"))
    assert problem is None and encoding == "gb18030" and not converted
    blocks = rows.loads(text)
    assert any(b.kind == "tab" and b.cells[0] == "一、本年新收政府信息公开申请数量" for b in blocks)
    # a wrong meta charset falls back to the bytes; undecodable bytes are recorded, not raised
    assert _decode_structured("html", "<meta charset=utf-8><p>中文</p>".encode("gbk"))[1] == "gb18030"
    assert "could not be decoded" in _decode_structured("html", b"<meta charset=utf-8><p>\xff\xfe\xfa</p>")[2]


def test_layout_table_around_the_article_is_not_a_data_table():
    page = ("<body><table width=100%><tr><td class=left>栏目导航</td><td>"
            "<p>一、总体情况</p><table border=1><tr><td>行政复议</td><td>1</td></tr></table></td></tr></table></body>")
    blocks = extract(page)
    assert [b.kind for b in blocks] == ["para", "para", "tab"]
    assert blocks[-1].cells == ["行政复议", "1"]


def test_cell_text_wrapped_alone_or_among_siblings_and_skipped_content():
    page = ("<html><body><table>"
            "<tr><td><p><span> 1 2 </span></p></td><td><p><script>9</script></p></td><td><p></p></td>"
            "<td><p>a</p><p>b</p></td><td><span>3</span><span>4</span></td><td><!-- 5 --></td>"
            "<td colspan='007'>x</td></tr></table></body></html>")
    (block,) = [b for b in extract(page) if b.kind == "tab"]
    # a lone wrapped text is its text; block elements part words, inline ones do not split digits
    assert block.cells[:6] == ["1 2", "", "", "a b", "34", ""]
    assert block.cells[6:] == ["x"] * 7 and block.copies[7:] == [True] * 6
