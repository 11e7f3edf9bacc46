from datetime import date

import pytest

from ingest.metadata import agency_key, extract_metadata


@pytest.mark.parametrize(
    ("text", "agency", "year"),
    [
        ("# 某市财政局2021年政府信息公开工作年度报告\n一、总体情况", "某市财政局", 2021),
        ("某县卫生健康委员会 2020 年政府信息公开 工作年度报告\n正文", "某县卫生健康委员会", 2020),
        ("某省水利厅2016年政府信息公开工作\n年度报告\n2016年，我厅……", "某省水利厅", 2016),
        ("信息名称:某区审计局2022年政府信息公开工作年度报告\n发文时间:2023-01-20", "某区审计局", 2022),
        ("审计局2020年政府信息公开工作年度报告\n2020年，某县审计局认真贯彻……", "某县审计局", 2020),
        ("本报告由某市档案馆编制。\n2019年，市档案馆……2019年……2020年", "某市档案馆", 2019),
    ],
)
def test_agency_and_statistics_year(text, agency, year):
    meta = extract_metadata(text)
    assert (meta.agency_name, meta.report_year) == (agency, year)


def test_publication_year_is_not_the_report_year():
    meta = extract_metadata("信息名称:某省教育厅2019年政府信息公开工作年度报告\n发文时间:2020-02-04\n")
    assert meta.report_year == 2019
    assert meta.publication_date == date(2020, 2, 4)


def test_agency_key_is_stable_across_spacing():
    assert agency_key("某市 财政局") == agency_key("某市财政局") != agency_key("某县财政局")


def test_page_metadata_source_line_names_the_agency():
    meta = extract_metadata("某某年度报告专栏\n来源：某县民政局 | 浏览次数：12\n2021年，本局认真贯彻……2021年……")
    assert meta.agency_name == "某县民政局"


def test_placed_name_is_preferred_and_keyed_by_the_gazetteer():
    meta = extract_metadata("# 教育局2020年政府信息公开工作年度报告\n2020年，温县教育局认真贯彻……")
    assert meta.agency_name == "温县教育局"
    assert meta.agency_id == agency_key("河南省焦作市温县教育局")
