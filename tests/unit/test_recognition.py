"""Which documents are reports: every printed title form and a report's own evidence count; a
notice about a report, a guide or a page with no evidence is not_a_report with its reason."""

from __future__ import annotations

import hashlib

import polars as pl

from ingest.pipeline import parse_documents

DOCS = {
    "year_first": "2025年某某镇政府信息公开工作年度报告\n发布日期:2026-01-12\n一、总体情况\n2025年，我镇……",
    "no_title": (
        "根据《中华人民共和国政府信息公开条例》(以下简称《条例》)要求,结合工作实际,编制本报告。"
        "本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止。\n一、总体情况\n2022年,我镇持续强化组织领导。"
    ),
    "compiled_by": "本年度报告根据《条例》要求,由某某县某某乡人民政府编制。全文包括概述、主动公开政府信息情况。",
    "nianbao": "某某市某某镇2009年政府信息公开年报\n根据《条例》有关规定,现将某某镇2009年度政府信息公开情况报告如下。",
    "notice": (
        "某某县教育局关于公布2020年政府信息公开工作年度报告的通知\n各股室:\n"
        "现将《某某县教育局2020年政府信息公开工作年度报告》予以公布。\n某某县教育局\n2021年1月20日"
    ),
    "announcement_with_report": (
        "某某部办公厅关于2016年某某部政府信息公开工作年度报告的公告\n"
        "本年度报告是根据《中华人民共和国政府信息公开条例》要求编制。全文包括概述、主动公开政府信息情况。"
    ),
    "guide": "某某县民政局政府信息公开指南\n为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。",
    "menu": "食堂菜单\n周一：米饭，青菜。\n",
}


def _outcomes() -> dict[str, tuple[str, str | None]]:
    rows = [
        (hashlib.sha256(t.encode()).hexdigest(), f"landing/{name}.txt", "txt", t) for name, t in DOCS.items()
    ]
    docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
    batch = parse_documents(docs)
    by_sha = {sha: name for sha, (name, _) in zip([r[0] for r in rows], DOCS.items(), strict=True)}
    return {by_sha[r["source_sha256"]]: (r["ingest_status"], r["reason"]) for r in batch.outcomes.to_dicts()}, batch


def test_reports_and_non_reports():
    outcomes, batch = _outcomes()
    for name in ("year_first", "no_title", "compiled_by", "nianbao", "announcement_with_report"):
        assert outcomes[name][0] in ("parsed", "partial"), name
    assert outcomes["notice"][0] == "not_a_report" and "notice" in outcomes["notice"][1]
    assert outcomes["guide"][0] == "not_a_report" and "guide" in outcomes["guide"][1]
    assert outcomes["menu"][0] == "not_a_report"
    # a notice never becomes a report of its agency, so it can never supersede one
    assert batch.reports.height == 5


def test_template_by_year_unless_legacy_layout():
    _, batch = _outcomes()
    versions = dict(zip(batch.reports["report_year"].to_list(), batch.reports["template_version"].to_list(),
                        strict=True))
    assert versions[2025] == "v2021" and versions[2022] == "v2021" and versions[2009] == "pre2019"


def test_a_2020_report_in_the_legacy_layout_is_pre2019():
    legacy = ("某某省某某院2020年政府信息公开工作年度报告\n一、概述\n2020年，本院认真贯彻。\n二、政府信息主动公开情况\n"
              "主动公开信息784条。\n三、政府信息公开申请和处理情况\n2020年共受理信息公开申请4例。")
    new_form = ("某某省某某院2020年政府信息公开工作年度报告\n一、总体情况\n（一）主动公开\n主动公开信息784条。\n"
                "（二）依申请公开\n2020年共受理信息公开申请4件。")
    rows = [(hashlib.sha256(t.encode()).hexdigest(), f"l/{i}.txt", "txt", t) for i, t in enumerate([legacy, new_form])]
    docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
    reports = parse_documents(docs).reports.sort("source_path")
    assert reports["template_version"].to_list() == ["pre2019", "v2019"]
