"""The table reader on the text layouts real exports use (made-up agencies and numbers, the template's
own labels): whatever the line breaks, a row is its label and the values that follow it."""

import polars as pl

from ingest.frontends.text import cells_frame, lines_frame
from ingest.registry import registry
from ingest.tables import map_tables

T2_HEAD_2021 = ["第二十条第(一)项", "信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]


def t3_label(version: str, key: str) -> str:
    return next(r["zh"] for r in registry().t3(version).rows if r["key"] == key)


def parse(text: str):
    return map_tables(cells_frame(lines_frame(pl.DataFrame({"doc_id": ["d"], "text": [text]}))))


def values(result, table_id: str) -> dict[tuple[str, str], float | None]:
    cells = result.cells.filter(pl.col("table_id") == table_id)
    return {(r, c): v for r, c, v in cells.select("row_key", "col_key", "value").iter_rows()}


def t2_text(rows: list[str]) -> str:
    return "\n".join(["二、主动公开政府信息情况", *rows])


def test_pipe_rows_without_the_leading_bar():
    text = t2_text(["第二十条第(一)项 | |||", "信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |",
                    "规章 | 0 | 0 | 0 | |", "行政规范性文件 | 4 | 1 | 12 |"])
    got = values(parse(text), "t2_art20_1")
    assert got[("regulations", "issued")] == 0
    assert got[("normative_documents", "issued")] == 4
    assert got[("normative_documents", "in_force")] == 12


def test_one_cell_per_line_with_lone_bars_and_blank_lines():
    cells = [*T2_HEAD_2021, "规章", "0", "0", "0", "行政规范性文件", "7", "2", "30"]
    for joiner in ("\n\n", "\n|\n", " |\n"):
        got = values(parse(t2_text([joiner.join(cells)])), "t2_art20_1")
        assert got[("normative_documents", "issued")] == 7, joiner
        assert got[("normative_documents", "in_force")] == 30, joiner
        assert got[("regulations", "repealed")] == 0, joiner


def test_spaced_columns_and_labels_with_spaces_inside():
    text = t2_text(["第二十条第(一)项", "信息内容    本年制发件数    本年废止件数    现行有效件数",
                    "规  章    0   0   0", "行政规范性文件 5 0 9"])
    got = values(parse(text), "t2_art20_1")
    assert got[("regulations", "in_force")] == 0
    assert got[("normative_documents", "issued")] == 5 and got[("normative_documents", "in_force")] == 9


def test_cut_header_names_the_version_and_a_cut_caption_still_opens_the_table():
    text = t2_text(["第二十条第", "信息内容 | 本年新 | 本年新 | 对外公开总数量 |", "规章 | 1 | 1 | 3 |"])
    result = parse(text)
    assert values(result, "t2_art20_1")[("regulations", "newly_made")] == 1
    assert result.versions.row(0, named=True)["t2_version"] == "v2019"


def test_values_on_the_line_after_the_label_and_group_label_on_the_row():
    rows = ["三、收到和处理政府信息公开申请情况", "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) | 申请人情况 |",
            "自然人 | 法人或其他组织 | 总计 |", "商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 |",
            t3_label("v2021", "new_received"), "| 2 | 1 | 0 | 0 | 0 | 0 | 3 |",
            f"三、本年度办理结果 | {t3_label('v2021', 'granted')} | 1 | | | | | | 1 |"]
    got = values(parse("\n".join(rows)), "t3")
    assert got[("new_received", "natural_person")] == 2 and got[("new_received", "total")] == 3
    assert got[("granted", "total")] == 1 and got[("granted", "commercial_enterprise")] is None


def test_row_without_a_readable_label_takes_the_one_missing_row_between_its_neighbours():
    text = t2_text([*T2_HEAD_2021, "", "0 | 0 | 0 |", "行政规范性文件 | 3 | 0 | 8 |"])
    result = parse(text)
    assert values(result, "t2_art20_1")[("regulations", "issued")] == 0
    assert "row_placed_by_template_order" in result.warnings["code"].to_list()


def test_a_capture_cut_inside_a_row_gives_the_cells_before_the_cut():
    result = parse(t2_text([" | ".join(T2_HEAD_2021), "规章 | 0 "]))
    got = values(result, "t2_art20_1")
    assert got == {("regulations", "issued"): 0}
    assert "table_cut" in result.warnings["code"].to_list()


def test_each_proceeding_in_its_own_small_table():
    head = "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |"
    text = "\n".join(["四、政府信息公开行政复议、行政诉讼情况", "行政复议", head, "3 | 1 | 0 | 1 | 5 |",
                      "行政诉讼(未经复议直接起诉)", head, "0 | 0 | 0 | 0 | 0 |", "行政诉讼(复议后起诉)", head,
                      "1 | 0 | 0 | 0 | 1 |"])
    got = values(parse(text), "t4")
    assert got[("administrative_review", "total")] == 5
    assert got[("litigation_without_review", "upheld")] == 0
    assert got[("litigation_after_review", "upheld")] == 1


def test_a_printed_table_that_cannot_be_read_is_a_warning_never_silence():
    # a 表二 row with two values under three columns, and nothing else: no fact, but flagged
    result = parse(t2_text(["第二十条第(一)项", "规章 | 22 | 235 |"]))
    assert result.cells.filter(pl.col("table_id").str.starts_with("t2")).is_empty()
    warn = result.warnings.filter(pl.col("severity") == "warn")
    assert not warn.is_empty() and "22 | 235" in " ".join(warn["raw_text"].drop_nulls().to_list())
    assert result.versions.row(0, named=True)["tables_seen"] == "t2"
