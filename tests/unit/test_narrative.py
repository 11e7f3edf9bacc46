import polars as pl
import pytest

from ingest.frontends.text import lines_frame
from ingest.narrative import extract_narrative, partial_period


def facts(text: str) -> dict[str, tuple[float, bool]]:
    out = extract_narrative(lines_frame(pl.DataFrame({"doc_id": ["d"], "text": [text]})))
    return {r["metric"]: (r["value"], r["is_zero_phrase"]) for r in out.iter_rows(named=True)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018年，本局共受理政府信息公开申请7件，均按时答复。", {"requests_received_total": (7, False)}),
        ("全年收到3项关于政府信息公开的申请。", {"requests_received_total": (3, False)}),
        ("本年度共办理依申请公开事项12件。", {"requests_received_total": (12, False)}),
        ("本年度收到两件政府信息公开申请。", {"requests_received_total": (2, False)}),
        ("本年度未收到政府信息公开申请。", {"requests_received_total": (0, True)}),
        (
            "全年发生因政府信息公开申请引起的行政复议2件，行政诉讼1件。",
            {"admin_review_total": (2, False), "admin_litigation_total": (1, False)},
        ),
        (
            "本年度未发生因政府信息公开引起的行政复议和行政诉讼。",
            {"admin_review_total": (0, True), "admin_litigation_total": (0, True)},
        ),
    ],
)
def test_stated_figures(text, expected):
    assert facts(text) == expected


def test_distractor_numbers_are_not_figures():
    text = (
        "2020年7月23日，局长接听热线电话，联系电话0371-5551234。\n"
        "全年网站访问量12万次，办理行政复议案件25件。\n"
        "答复率100%。"
    )
    assert facts(text) == {}


def test_review_counts_inside_their_section_need_no_keyword():
    text = "五、因政府信息公开申请行政复议和提起行政诉讼的情况\n本年度提起行政复议1件，行政诉讼0件。"
    assert facts(text) == {"admin_review_total": (1, False), "admin_litigation_total": (0, False)}


def test_partial_period_is_flagged():
    lines = lines_frame(pl.DataFrame({"doc_id": ["a", "b"], "text": ["截至11月，收到申请3件。", "全年收到申请3件。"]}))
    flagged = partial_period(lines)
    assert flagged["doc_id"].to_list() == ["a"]
    assert flagged["period_end_text"].to_list() == ["截至11月"]


def _narr(*paragraphs: str) -> dict[str, tuple[float, bool]]:
    import polars as pl

    from ingest.narrative import extract_narrative

    lines = pl.DataFrame(
        {"doc_id": ["d"] * len(paragraphs), "line_no": list(range(1, len(paragraphs) + 1)), "text": list(paragraphs)}
    )
    return {r["metric"]: (r["value"], r["is_zero_phrase"]) for r in extract_narrative(lines).to_dicts()}


def test_processed_consultations_and_fees():
    got = _narr(
        "本年度共收到政府信息公开申请9件，已全部办结9件。",
        "全年解答群众来电咨询210人次。",
        "本机关办理依申请公开未收取任何费用，亦无减免情况。",
    )
    assert got["requests_processed_total"] == (9.0, False)
    assert got["consultations_total"] == (210.0, False)
    assert got["fees_collected"] == (0.0, True)
    assert got["fees_waived"] == (0.0, True)


def test_fee_amount_and_licensing_is_not_processed_requests():
    got = _narr("收取信息处理费共37.5元。", "全年受理行政许可申请80件，办结78件。")
    assert got["fees_collected"] == (37.5, False)
    assert "requests_processed_total" not in got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("受理公民、法人和其他组织向市政府及市政府办公室提出的政府信息公开申请5件。", {"requests_received_total": (5, False)}),
        ("全年共受理政府信息公开申请总数1件。", {"requests_received_total": (1, False)}),
        ("2021年，本局收到政府信息依申请公开办理事项1件。", {"requests_received_total": (1, False)}),
        ("2014年，本局收到12起政府信息依申请公开。", {"requests_received_total": (12, False)}),
        ("2019年依申请公开共受理2件。", {"requests_received_total": (2, False)}),
        ("2022年，收到申请公开21条，办结21条。", {"requests_received_total": (21, False)}),
        ("收到依申请需要公开的信息0件。", {"requests_received_total": (0, False)}),
        ("本乡2022年度未收到依申请公开办理。", {"requests_received_total": (0, True)}),
        ("街道未收到任何公民、法人和其他组织提出的公开政府信息的申请。", {"requests_received_total": (0, True)}),
        ("2024年，我乡无依申请公开政府信息办理事项。", {"requests_received_total": (0, True)}),
        ("全年未发生因依申请公开引发的行政复议或行政诉讼案件。",
         {"admin_review_total": (0, True), "admin_litigation_total": (0, True)}),
        ("年内因依申请公开引发行政复议0件、行政诉讼0件。",
         {"admin_review_total": (0, False), "admin_litigation_total": (0, False)}),
        ("因政府信息公开被申请行政复议、行政诉讼数量为0件。",
         {"admin_review_total": (0, False), "admin_litigation_total": (0, False)}),
        ("2013年，本局未出现因信息公开申请行政复议和提起诉讼的情况。",
         {"admin_review_total": (0, True), "admin_litigation_total": (0, True)}),
    ],
)
def test_real_phrasings(text, expected):
    assert facts(text) == expected


def test_no_application_stated_beside_no_review():
    got = facts("2022年，本局未收到政府信息公开申请，未发生因政府信息公开申请行政复议和提起行政诉讼的案件。")
    assert got == {"requests_received_total": (0, True), "admin_review_total": (0, True),
                   "admin_litigation_total": (0, True)}
    assert "requests_received_total" not in facts("本年度未收到因依申请公开引发的行政复议申请。")


def test_a_sum_of_review_and_litigation_is_not_either():
    assert facts("因政府信息公开被申请行政复议、行政诉讼数量为3件。") == {}


def test_narrative_patterns_are_linear_on_pathological_runs():
    import time

    runs = ["收到" + "某" * 900 + "申请" + " " * 900 + "件", "未发生" + "因" * 900 + "行政复议" * 50,
            "行政复议、行政诉讼" * 100 + "数量为", "依申请公开" * 200 + "共受理"]
    start = time.perf_counter()
    facts("\n".join(runs))
    assert time.perf_counter() - start < 1.0
