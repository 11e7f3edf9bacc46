"""The batch (vectorised) paths of the parse stage give what their per-document forms give."""

from __future__ import annotations

import polars as pl

from ingest.frontends import rows
from ingest.frontends.text import cells_frame, lines_frame
from ingest.metadata import extract_metadata, metadata_frame
from ingest.nfkc import nfkc_expr
from ingest.values import cleaned_cell_expr

TEXTS = [
    "信息名称：某省教育厅2019年政府信息公开工作年度报告\n发文时间：2020-02-04\n",
    "\x1c  # 温县教育局2020年政府信息公开工作年度报告 \x1f\n\n2020年，温县教育局认真贯彻……",
    "标 题 :  某县民政局2021年度政府信息公开工作年度报告\n来源：某县民政局 | 浏览次数：12\n",
    "某某年度报告专栏\n来源：某县民政局 | 浏览次数：12\n2021年，本局认真贯彻……2021年……",
    "",
    "\u3000\u3000ＡＢＣ　2018年，我局……\n" * 50,
]


def test_metadata_frame_matches_extract_metadata():
    frame = metadata_frame(pl.DataFrame({"doc_id": list(range(len(TEXTS))), "text": TEXTS}))
    for row, text in zip(frame.iter_rows(named=True), TEXTS, strict=True):
        expected = extract_metadata(text)
        assert {k: v for k, v in row.items() if k != "doc_id"} == expected.__dict__, text


def test_nfkc_expr_is_the_normaliser():
    # the mapped fast path (ASCII, ideographs, kept punctuation, full-width forms) and the others
    texts = ["ａｂｃ（１）：　中文，。“引”《书》—·×", "x…y", None, "e\u0301", "", "①㎡", "ＡＢ\u3000c\t\n", "\u2011",
             "한글", "\ufa10兀", "ｶﾞ", "\x0b\x1c", *TEXTS]
    frame = pl.DataFrame({"t": texts})
    assert frame.select(nfkc_expr(pl.col("t")))["t"].to_list() == frame.select(pl.col("t").str.normalize("NFKC"))["t"].to_list()


def test_cleaned_cells_collapse_spaces_and_nbsp():
    cells = pl.DataFrame({"raw": [" a&nbsp; \u3000b ", "12", None, "&nbsp;", "x\u00a0\ty", "无"]})
    assert cells.select(cleaned_cell_expr("raw"))["raw"].to_list() == ["a b", "12", "", "", "x y", "无"]


def test_text_front_end_numbers_lines_and_cells():
    docs = pl.DataFrame({"doc_id": ["a", "b"], "text": ["x\n\ta\tb\n| 1 | 2 |", None]})
    lines = lines_frame(docs)
    assert lines.rows() == [("a", 1, "x"), ("a", 2, "\ta\tb"), ("a", 3, "| 1 | 2 |"), ("b", 1, "")]
    cells = cells_frame(lines)
    assert cells.select("line_no", "cell_idx", "raw_text", "locator").rows() == [
        (1, 0, "x", "line 1, cell 1"),
        (2, 0, "", "line 2, cell 1"),
        (2, 1, "a", "line 2, cell 2"),
        (2, 2, "b", "line 2, cell 3"),
        (3, 0, "1", "line 3, cell 1"),
        (3, 1, "2", "line 3, cell 2"),
    ]


def test_repeated_document_numbers_its_lines_on():
    docs = pl.DataFrame({"doc_id": ["a", "a"], "text": ["x\ny", "z"]})
    assert lines_frame(docs)["line_no"].to_list() == [1, 2, 3]


def test_block_frames_spread_cells():
    blocks = [
        rows.para("标题", "p1"),
        rows.para("  ", "p2"),
        rows.Block("tab", ["总计", "3", ""], ["c1", "c2", "c3"], [False, True, False]),
        rows.Block("tab", ["a", "b"], ["d1", "d2"]),
    ]
    lines, grid = rows.frames([(7, blocks)])
    assert lines.rows() == [(7, 1, "标题"), (7, 2, "  "), (7, 3, "总计\t3\t"), (7, 4, "a\tb")]
    assert grid.select("line_no", "kind", "raw_text", "cell_idx", "locator", "span_copy").rows() == [
        (1, "para", "标题", 0, "p1", False),
        (3, "tab", "总计", 0, "c1", False),
        (3, "tab", "3", 1, "c2", True),
        (3, "tab", "", 2, "c3", False),
        (4, "tab", "a", 0, "d1", False),
        (4, "tab", "b", 1, "d2", False),
    ]
    assert grid.schema["doc_id"] == pl.Int64


def test_block_payloads_read_in_polars_as_in_python():
    # the column-by-column payload (read by Polars) and the earlier list of blocks (read in Python) give
    # the frames the blocks give, documents without blocks and a block without copy flags included
    import json

    docs = [
        (7, [rows.para("标题", "p1"), rows.para(" \x1c ", "p2"),
             rows.Block("tab", ["总计", "3", ""], ["c1", "c2", "c3"], [False, True, False]),
             rows.Block("tab", ["a\t\"b\\", "\u2028"], ["d1", "d2"])]),
        (8, []),
        (9, [rows.Block("tab", [], [])]),
        (7, [rows.para("again", "p9")]),
    ]
    expected = rows.frames(docs)
    for payloads in ([rows.dumps(b) for _, b in docs], [json.dumps([b.to_json() for b in blocks]) for _, blocks in docs]):
        got = rows.frames_from_json([(doc_id, p) for (doc_id, _), p in zip(docs, payloads, strict=True)])
        for frame, want in zip(got, expected, strict=True):
            assert frame.schema == want.schema and frame.rows() == want.rows()
    assert [b.cells for b in rows.loads(rows.dumps(docs[0][1]))] == [b.cells for b in docs[0][1]]
