"""The mapper on our own small fixtures: clean layouts, and the broken rows it must not guess."""

import polars as pl
import pytest

from ingest.frontends.text import cells_frame, lines_frame
from ingest.registry import registry
from ingest.tables import map_tables

T3_NOTE = "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)"


def t3_header_lines() -> list[str]:
    return [
        f"{T3_NOTE}\t申请人情况\t\t\t\t\t\t总计",
        "\t自然人\t法人或其他组织\t\t\t\t\t",
        "\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t",
    ]


def label(version: str, key: str) -> str:
    return next(r["zh"] for r in registry().t3(version).rows if r["key"] == key)


def parse(text: str):
    docs = pl.DataFrame({"doc_id": ["d"], "text": [text]})
    return map_tables(cells_frame(lines_frame(docs)))


def cell(result, table_id, row_key, col_key):
    rows = result.cells.filter(
        (pl.col("table_id") == table_id) & (pl.col("row_key") == row_key) & (pl.col("col_key") == col_key)
    )
    assert rows.height == 1, (table_id, row_key, col_key, rows)
    return rows.row(0, named=True)


def test_t3_rows_with_exact_and_shifted_cells():
    lines = ["三、收到和处理政府信息公开申请情况", *t3_header_lines()]
    lines.append(f"{label('v2019', 'new_received')}\t5\t1\t0\t0\t2\t0\t8")
    # merged label cells exported as extra leading empties and a trailing tab: right-anchored
    lines.append(f"三、本年度办理结果\t{label('v2019', 'granted')}\t\t4\t1\t0\t0\t2\t0\t7\t")
    # an extra zero cell on the left (a merged-cell artefact): dropped with an info warning
    lines.append(f"\t{label('v2019', 'other_processing')}\t\t0\t1\t0\t0\t0\t0\t0\t1")
    result = parse("\n".join(lines))
    assert cell(result, "t3", "new_received", "natural_person")["value"] == 5
    assert cell(result, "t3", "new_received", "total")["value"] == 8
    assert cell(result, "t3", "new_received", "total")["locator"] == "line 5, cell 8"
    assert cell(result, "t3", "granted", "commercial_enterprise")["value"] == 1
    assert cell(result, "t3", "granted", "total")["value"] == 7
    assert cell(result, "t3", "other_processing", "natural_person")["value"] == 1
    assert cell(result, "t3", "other_processing", "total")["value"] == 1
    warnings = result.warnings
    assert warnings.filter(pl.col("code") == "alignment_extra_cells")["row_key"].to_list() == ["other_processing"]
    assert warnings.filter(pl.col("severity") == "warn").is_empty()
    assert result.versions.row(0, named=True)["t3_version"] == "v2019"


def test_row_that_cannot_be_placed_is_kept_raw_not_shifted():
    lines = ["三、收到和处理政府信息公开申请情况", *t3_header_lines()]
    lines.append(f"{label('v2019', 'new_received')}\t3\t2")  # two numbers for seven columns
    lines.append(f"{label('v2019', 'carried_from_prev_year')}\t0\t0\t0\t0\t0\t0\t0")
    result = parse("\n".join(lines))
    assert result.cells.filter(pl.col("row_key") == "new_received").is_empty()
    (warning,) = result.warnings.filter(pl.col("code") == "ambiguous_alignment").iter_rows(named=True)
    assert warning["severity"] == "warn"
    assert warning["row_key"] == "new_received"
    assert warning["raw_text"] == "3 | 2"
    assert cell(result, "t3", "carried_from_prev_year", "total")["value"] == 0


def test_blank_for_zero_keeps_blank_state():
    lines = ["三、收到和处理政府信息公开申请情况", *t3_header_lines()]
    lines.append(f"{label('v2019', 'new_received')}\t\t\t\t\t\t\t\t0\t")
    lines.append(f"{label('v2019', 'carried_to_next_year')}\t\t0\t\t\t\t\t\t0\t")
    result = parse("\n".join(lines))
    assert cell(result, "t3", "new_received", "natural_person")["cell_state"] == "blank"
    assert cell(result, "t3", "new_received", "natural_person")["value"] is None
    assert cell(result, "t3", "new_received", "total")["value"] == 0
    assert cell(result, "t3", "carried_to_next_year", "natural_person")["value"] == 0


def test_fraction_in_a_count_cell_is_text_with_warning():
    lines = ["三、收到和处理政府信息公开申请情况", *t3_header_lines()]
    lines.append(f"{label('v2019', 'new_received')}\t1.5\t0\t0\t0\t0\t0\t1.5")
    result = parse("\n".join(lines))
    got = cell(result, "t3", "new_received", "natural_person")
    assert (got["cell_state"], got["value"], got["raw_text"]) == ("text", None, "1.5")
    assert "non_integer_count" in result.warnings["code"].to_list()


def test_v2021_pipe_table_is_detected_and_other_rows_mapped():
    rows = ["| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | 总计 |", "|---|---|---|---|---|---|---|---|"]
    keys = ["other_no_correction_overdue", "other_fee_unpaid_overdue", "other_misc"]
    rows.append(f"| {label('v2021', 'other_group')} | | | | | | | |")
    for i, key in enumerate(keys, start=1):
        rows.append(f"| {label('v2021', key)} | {i} | 0 | 0 | 0 | 0 | 0 | {i} |")
    text = "三、收到和处理政府信息公开申请情况\n" + "\n".join(rows)
    result = parse(text)
    assert result.versions.row(0, named=True)["t3_version"] == "v2021"
    for i, key in enumerate(keys, start=1):
        assert cell(result, "t3", key, "total")["value"] == i
    assert result.cells.filter(pl.col("row_key") == "other_processing").is_empty()


def test_t4_single_line_of_fifteen_and_labelled_rows():
    flat = "四、政府信息公开行政复议、行政诉讼情况\n行政复议\t\t\t\t\t行政诉讼\n" + "\t".join(
        str(v) for v in [1, 0, 0, 1, 2, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    )
    result = parse(flat)
    assert cell(result, "t4", "administrative_review", "total")["value"] == 2
    assert cell(result, "t4", "litigation_without_review", "corrected")["value"] == 1
    labelled = (
        "四、政府信息公开行政复议、行政诉讼情况\n| | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n"
        "| 行政复议 | 2 | 1 | 0 | 0 | 3 |\n| 未经复议直接起诉 | 0 | 0 | 0 | 1 | 1 |\n| 复议后起诉 | 0 | 0 | 0 | 0 | 0 |"
    )
    result = parse(labelled)
    assert cell(result, "t4", "administrative_review", "total")["value"] == 3
    assert cell(result, "t4", "litigation_without_review", "pending")["value"] == 1


@pytest.mark.parametrize("amount,expected", [("251000元", 25.1), ("12.5 万元", 12.5), ("3", 3.0)])
def test_t2_units_signed_changes_and_slash(amount, expected):
    text = "\n".join(
        [
            "二、主动公开政府信息情况",
            "第二十条第(一)项\t\t\t",
            "信息内容\t本年新制作数量\t本年新公开数量\t对外公开总数量",
            "规章\t/\t/\t/",
            "规范性文件\t2\t2\t40",
            "第二十条第(五)项\t\t\t",
            "信息内容\t上一年项目数量\t本年增/减\t处理决定数量",
            "行政许可\t12\t-3\t1,024",
            "第二十条第(九)项\t\t\t",
            "信息内容\t采购项目数量\t采购总金额\t",
            f"政府集中采购\t4\t{amount}\t",
        ]
    )
    result = parse(text)
    assert cell(result, "t2_art20_1", "regulations", "newly_made")["cell_state"] == "slash"
    assert cell(result, "t2_art20_1", "normative_documents", "total_published")["value"] == 40
    assert cell(result, "t2_art20_5", "administrative_licensing", "change_this_year")["value"] == -3
    assert cell(result, "t2_art20_5", "administrative_licensing", "decisions")["value"] == 1024
    got = cell(result, "t2_art20_9", "centralized_procurement", "procurement_amount")
    assert got["value"] == pytest.approx(expected)
    assert got["unit"] == "万元"
    assert got["unit_assumed"] == (amount == "3")
    assert result.versions.row(0, named=True)["t2_version"] == "v2019"


def test_headings_only_report_has_no_table_facts():
    text = "\n".join(
        ["一、总体情况", "本机关依法公开政府信息。", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
         "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况"]
    )
    result = parse(text)
    assert result.cells.is_empty()
    row = result.versions.row(0, named=True)
    assert (row["has_t3"], row["has_t4"], row["v2019_headings"]) == (False, False, 5)


def _t3_table(version: str, values: dict[str, list[str]]) -> str:
    lines = ["三、收到和处理政府信息公开申请情况", *t3_header_lines()]
    for d in registry().t3_data_rows(version):
        key = d["key"]
        cells = values.get(key, ["0"] * 7)
        lines.append("\t".join([label(version, key), *cells]))
    return "\n".join(lines)


def test_short_row_placed_only_when_identities_confirm_it():
    """A PDF text line drops blank cells: 予以公开 prints '2 2' for 7 columns. Only natural_person
    satisfies 三(七) = sum of outcomes per column, so that placement is used, with an info warning."""
    full = {"new_received": ["2", "0", "0", "0", "0", "0", "2"], "total_processed": ["2", "0", "0", "0", "0", "0", "2"],
            "granted": ["2", "2"]}
    result = parse(_t3_table("v2019", full))
    assert cell(result, "t3", "granted", "natural_person")["value"] == 2
    assert cell(result, "t3", "granted", "commercial_enterprise")["cell_state"] == "blank"
    assert cell(result, "t3", "granted", "total")["value"] == 2
    codes = result.warnings["code"].to_list()
    assert "alignment_confirmed_by_identities" in codes and "ambiguous_alignment" not in codes
    assert result.warnings.filter(pl.col("severity") == "warn").is_empty()


def test_short_row_left_ambiguous_when_identities_do_not_decide():
    # row total broken (2 + 3 != 2 ... no placement sums), and a second case where the column
    # identities cannot be checked because a row of the table is missing
    broken = {"new_received": ["2", "0", "0", "0", "0", "0", "2"], "total_processed": ["2", "0", "0", "0", "0", "0", "2"],
              "granted": ["2", "3"]}
    result = parse(_t3_table("v2019", broken))
    assert result.cells.filter((pl.col("table_id") == "t3") & (pl.col("row_key") == "granted")).is_empty()
    assert "ambiguous_alignment" in result.warnings["code"].to_list()
    text = _t3_table("v2019", {**broken, "granted": ["2", "2"]})
    text = "\n".join(ln for ln in text.split("\n") if not ln.startswith(label("v2019", "carried_to_next_year")))
    result = parse(text)
    assert result.cells.filter((pl.col("table_id") == "t3") & (pl.col("row_key") == "granted")).is_empty()
    assert "ambiguous_alignment" in result.warnings["code"].to_list()
