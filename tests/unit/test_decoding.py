import codecs

import pytest

from ingest.decoding import decode_bytes

TEXT = "某县审计局2021年政府信息公开工作年度报告\n共受理政府信息公开申请3件。"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.encode("gbk"), "gb18030"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_decodes_the_encodings_reports_come_in(data, encoding):
    decoded = decode_bytes(data)
    assert decoded.problem is None
    assert decoded.encoding == encoding
    assert decoded.text == TEXT


def test_crlf_becomes_lf():
    assert decode_bytes("甲\r\n乙\r丙".encode()).text == "甲\n乙\n丙"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\x00\x01\x02\x03" * 1000, "binary"),
    ],
)
def test_refuses_with_a_reason(data, reason):
    decoded = decode_bytes(data)
    assert decoded.text is None
    assert reason in decoded.problem


def test_traditional_text_is_converted_to_simplified():
    decoded = decode_bytes("本機關政府資訊公開工作年度報告，收到申請3件，這個數據與上年相同。".encode())
    assert decoded.converted_from_traditional
    assert "政府信息公开" in decoded.text or "资讯" in decoded.text
    assert "机关" in decoded.text
