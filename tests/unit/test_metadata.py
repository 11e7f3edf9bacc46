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


# ------------------------------------------------------------------------------------------------
# Title forms, page headers and opening sentences as governments print them (made-up names)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "agency", "source", "year"),
    [
        ("2021年某某镇政府信息公开工作年度报告\n发布日期:2022-01-12", "某某镇", "title", 2021),
        ("某某县人民政府2008年度政府信息公开工作年度报告\n正文", "某某县人民政府", "title", 2008),
        ("某某县民政局政务信息公开工作开展年度报告\n2020年，本局……", "某某县民政局", "title", 2020),
        ("某某市统计局2021年度政府信息公开工作年报\n正文", "某某市统计局", "title", 2021),
        ("2012某某区公安分局政府信息公开工作年度报告\n正文", "某某区公安分局", "title", 2012),
        ("某某乡人民政府\n2012年政府信息公开工作年度报告\n正文", "某某乡人民政府", "title", 2012),
        ("标      题 某某自治区水利厅2021年政府信息公开工作年度报告\n发布机构 某某自治区水利厅", "某某自治区水利厅", "title", 2021),
        ("索引号 | 123 |\n标 题 | 某某街道2019年度政府信息公开工作报告 | ||", "某某街道", "title", 2019),
        ("当前位置:首页 > 信息公开 > 某某镇 > 信息公开年度报告\n某某镇2019年政府信息公开年度报告", "某某镇", "title", 2019),
        (
            "根据《中华人民共和国政府信息公开条例》规定，由某某县某某镇人民政府党政办公室编制。"
            "本报告中所列数据的统计期限为2020年1月1日至2020年12月31日。",
            "某某县某某镇人民政府", "compiled_by", 2020,
        ),
        (
            "根据《中华人民共和国政府信息公开条例》，特向社会公布2014年某某区政务服务中心政府信息公开工作年度报告。",
            "某某区政务服务中心", "opening_sentence", 2014,
        ),
        ("一、总体情况\n某某乡根据《中华人民共和国政府信息公开条例》规定，2020年……", "某某乡", "opening_sentence", 2020),
        ("依据《条例》，编制本报告。\n一、总体情况\n2019年，某某街道办事处高度重视政府信息公开工作。",
         "某某街道办事处", "first_paragraph", 2019),
        ("编制本报告。本报告统计时限为2017年1月1日至12月31日。如对本报告有任何疑问，请与某某乡人民政府联系。",
         "某某乡人民政府", "contact", 2017),
    ],
)
def test_agency_where_it_is_printed(text, agency, source, year):
    meta = extract_metadata(text)
    assert (meta.agency_name, meta.agency_name_source, meta.report_year) == (agency, source, year)


@pytest.mark.parametrize(
    "text",
    [
        "根据《条例》，现公布本单位年度报告如下。\n2023年，在市委、市政府的统一部署下，坚持以习近平新时代中国特色社会主义思想为指导。",
        "一、总体情况\n2020年,紧紧围绕社会关注的热点问题，积极推进公开。\n二、主动公开政府信息情况",
        "2014年,我镇没有依申请公开政府信息办理事项。",
    ],
)
def test_no_agency_made_up_from_a_sentence(text):
    assert extract_metadata(text).agency_name is None


def test_chrome_words_are_not_part_of_the_name():
    assert extract_metadata("标题 某某县政府办2022年度政府信息公开工作年度报告\n").agency_name == "某某县政府办"
    assert extract_metadata("标题|某某街道2019年度政府信息公开工作报告|\n").agency_name == "某某街道"


def test_year_from_statistics_period_or_publication_date():
    period = extract_metadata("本报告所列数据的统计期限自2022年1月1日起至2022年12月31日止。")
    assert (period.report_year, period.report_year_source) == (2022, "statistics_period")
    garbled = extract_metadata("所列数据截止日期为20251231日。")
    assert garbled.report_year == 2025
    published = extract_metadata("某某局年度工作\n发布时间：2021-03-01\n正文没有年份。")
    assert (published.report_year, published.report_year_source) == (2020, "publication_date")


@pytest.mark.parametrize(
    "title",
    [
        "温县某某局关于公布2020年政府信息公开工作年度报告的通知",
        "某某市人民政府办公室关于公布《某某市人民政府办公室2020年政府信息公开工作年度报告》的通知",
        "关于做好2021年度政府信息公开工作年度报告编制发布工作的通知",
        "某某县人民政府关于2019年政府信息公开工作年度报告的公告",
    ],
)
def test_notices_about_reports(title):
    meta = extract_metadata(title + "\n各乡镇、各部门：\n现将《报告》予以公布，请遵照执行。\n")
    assert meta.document_kind == "notice" and not meta.has_report_title
    assert meta.agency_name is None or "关于" not in meta.agency_name and "《" not in meta.agency_name


def test_report_evidence_without_a_title():
    meta = extract_metadata("根据《中华人民共和国政府信息公开条例》要求，结合工作实际，编制本报告。\n一、总体情况")
    assert meta.cites_regulation and meta.has_report_preamble and meta.document_kind is None


def test_places_from_what_the_document_prints():
    meta = extract_metadata("2025年金厂镇政府信息公开工作年度报告\n电子版可在通化市东昌区金厂镇门户网站下载。")
    assert (meta.province, meta.county, meta.admin_level) == ("吉林省", "东昌区", "township")
    nothing = extract_metadata("2025年某某镇政府信息公开工作年度报告\n正文未印任何地名。")
    assert nothing.province is None and nothing.admin_level == "township"
    district = extract_metadata("2021年城中区人民政府政府信息公开工作年度报告\n地址:西宁市城南新区。")
    assert (district.province, district.city, district.admin_level) == ("青海省", "西宁市", "county")


# ------------------------------------------------------------------------------------------------
# Linear time on pathological input (issue 11: nested quantifiers over whitespace)
# ------------------------------------------------------------------------------------------------

_PATHOLOGICAL = [
    "政府信息公开" + " \t" * 400 + "x",
    "某某局2021年" + " " * 800 + "政府信息公开" + "\t" * 800 + "工作",
    "由" + "某" * 5000 + "编制",
    "根据" + "某" * 5000,
    "2020年，" + "某局" * 3000,
    "统计期限" + "2020年" * 2000,
    "请与" + "某" * 5000 + "联系",
    ("来源：" + " " * 500) * 20,
    ("标题 " + "政府信息公开工作年度报告" * 50 + "\n") * 40,
    "现将" + "某镇" * 3000 + "2020年",
    ("某镇人民政府\n" * 2000),
    ("发布时间" + " " * 800 + "x\n") * 40,
]


@pytest.mark.parametrize("text", _PATHOLOGICAL)
def test_extractors_are_linear_on_pathological_runs(text):
    import time

    start = time.perf_counter()
    extract_metadata(text)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("索引号 | 公开方式 | 发布机构 |\n123/2010-1 | 主动公开 | 温县某某镇人民政府 |\n根据《条例》，编制本报告。", "温县某某镇人民政府"),
        ("一、总体情况\n（一）加强组织领导。市教育局高度重视信息公开工作。\n建立了《焦作市教育局信息公开制度》。", "焦作市教育局"),
        ("依据《条例》，编制本报告。\n一、总体情况\n2020年,修武县严格按照政务公开部署推进工作。", "修武县"),
        ("某某县行政审批局2022年政府信息公开工作年度报告(以下简称年报)是根据<某某格式>要求编制。", "某某县行政审批局"),
        ("编制本报告。如对本报告有任何疑问，请与焦作市人民政府信息公开工作领导小组办公室联系(地址:某路)。", "焦作市人民政府"),
        ("标题 县政府办2022年度政府信息公开工作年度报告\n发布机构 某某县人民政府办公室", "县政府办"),
    ],
)
def test_more_printed_places_of_the_name(text, agency):
    assert extract_metadata(text).agency_name == agency
