"""Figures stated in sentences: applications received, administrative reviews, lawsuits.

Sentences are matched with vectorised regexes over all paragraphs of a batch; a figure is kept with
its sentence as evidence. Zero phrases (未收到…申请, 未发生…行政复议) are 0 with evidence, which is not
the same as a report that says nothing (no row at all).
"""

from __future__ import annotations

from functools import cache

import polars as pl

_NUM = r"(\d+|[零〇一二两三四五六七八九十百千]+)"
_APPROX_AFTER = r"(余|多)?"
_COUNT_UNIT = r"(件|例|份|条|项|宗|个|起|人次|次)"
_OPEN_APP = r"(?:政府)?信息公开(?:的)?申请"

# 信息公开 shortly before the figure, without crossing another counted figure (…申请12件，办理行政复议25件)
_NEAR_DISCLOSURE = r"(?:信息公开|申请公开)[^。；件例宗]{0,25}?"
# what an application for disclosure is called (信息公开申请, 依申请公开事项, 申请公开, 公开信息申请)
_APP_WORDS = r"(?:依申请(?:需要|要求)?公开|信息公开(?:的)?申请|公开(?:政府)?信息(?:的)?申请|申请公开|公开信息申请|信息申请)"
_APP_UNIT = r"(件|例|份|条|项|宗|个|起)"

# metric -> (pattern, kind, scope). kind 'count' patterns capture (prefix, number, approx, unit).
# scope: 'any' sentence; 'disclosure' = the sentence mentions 信息公开 or sits in a 复议/诉讼 section;
# 'section' = only inside a 复议/诉讼 section (review counts of other matters are common elsewhere).
_PATTERNS: dict[str, list[tuple[str, str, str]]] = {
    "requests_received_total": [
        (r"(约|近|超过|逾)?(?:受理|收到|接到|接收|办理|新收)(?:了|到)?[^，。；0-9]{0,14}?" + _OPEN_APP
         + r"(?:共|总计|合计|累计)?(?:计)?" + _NUM + _APPROX_AFTER + _COUNT_UNIT, "count", "any"),
        (r"(约|近|超过|逾)?(?:受理|收到|接到|接收|办理|新收)(?:了|到)?(?:共)?" + _NUM + _APPROX_AFTER + _COUNT_UNIT
         + r"[^，。；0-9]{0,8}?" + _OPEN_APP, "count", "any"),
        (r"(约|近|超过|逾)?(?:受理|收到|接到|办理)(?:了)?依申请公开(?:政府信息)?(?:事项|申请|件)?(?:共)?"
         + _NUM + _APPROX_AFTER + _COUNT_UNIT, "count", "any"),
        (r"()依申请公开(?:政府信息)?(?:申请)?" + _NUM + _APPROX_AFTER + r"(件|例|项)", "count", "any"),
        (r"(约|近|超过|逾)?(?:受理|收到|接到|接收|办理|新收)(?:了|到)?[^，。；0-9]{0,30}?" + _APP_WORDS
         + r"[^，。；0-9]{0,10}?(?:共|总数|数量|总计|合计)?(?:为|达)?" + _NUM + _APPROX_AFTER + _APP_UNIT, "count", "request"),
        (r"(约|近|超过|逾)?(?:受理|收到|接到|接收|办理|新收)(?:了)?(?:共)?" + _NUM + _APPROX_AFTER + _APP_UNIT
         + r"[^，。；0-9]{0,12}?" + _APP_WORDS, "count", "request"),
        (r"()依申请公开[^，。；0-9]{0,6}?(?:共)?(?:受理|收到)" + _NUM + _APPROX_AFTER + _APP_UNIT, "count", "request"),
        # any sentence (未收到政府信息公开申请，也未发生…行政复议): 因 never opens the gap (未收到因…引发的复议)
        (r"(?:未|没有)(?:收到|接到|受理)(?:过)?(?:任何)?[^，。；0-9因]{0,20}?(?:" + _APP_WORDS[3:-1]
         + r"|申请要求公开|要求公开[^，。；0-9]{0,10}?申请)", "zero", "any"),
        (r"(?:无|没有|未发生|未有)(?:收到(?:和处理)?)?[^，。；0-9]{0,6}?(?:依申请公开|政府信息公开申请|信息公开申请)",
         "zero", "request"),
    ],
    "admin_review_total": [
        (_NEAR_DISCLOSURE + r"(约|近|超过|逾)?行政复议(?:案件|申请)?(?:共|总计)?" + _NUM + _APPROX_AFTER
         + r"(件|例|起|宗|次)", "count", "any"),
        (r"(约|近|超过|逾)?行政复议(?:案件|申请)?[:：]?(?:共|总计)?(?:受理|收到|办理|发生)?" + _NUM + _APPROX_AFTER
         + r"(件|例|起|宗|次)", "count", "section"),
        # 行政复议、行政诉讼数量为0件: zero for both (a non-zero figure there is their sum, not each)
        (r"()行政复议(?:、|和|或|及)行政诉讼(?:案件)?(?:数量|数)?(?:均)?(?:为|共)?(0|零)()(件|起|例)", "count", "disclosure"),
        (r"(?:未|没有)(?:因|发生|出现|收到|接到|受理|被申请|被提起|提起|有)[^。；0-9]{0,40}?行政复议", "zero", "disclosure"),
        (r"无[^。；，0-9]{0,20}?行政复议", "zero", "disclosure"),
    ],
    "admin_litigation_total": [
        (_NEAR_DISCLOSURE + r"行政复议[^。；]{0,12}?(约|近|超过|逾)?行政诉讼(?:案件)?(?:共|总计)?" + _NUM + _APPROX_AFTER
         + r"(件|例|起|宗|次)", "count", "any"),
        (_NEAR_DISCLOSURE + r"(约|近|超过|逾)?行政诉讼(?:案件)?(?:共|总计)?" + _NUM + _APPROX_AFTER
         + r"(件|例|起|宗|次)", "count", "any"),
        (r"(约|近|超过|逾)?行政诉讼(?:案件)?(?:共|总计)?" + _NUM + _APPROX_AFTER + r"(件|例|起|宗|次)",
         "count", "section"),
        (r"()行政复议(?:、|和|或|及)行政诉讼(?:案件)?(?:数量|数)?(?:均)?(?:为|共)?(0|零)()(件|起|例)", "count", "disclosure"),
        (r"(?:未|没有)(?:因|发生|出现|收到|接到|受理|被申请|被提起|提起|有)[^。；0-9]{0,40}?(?:行政)?诉讼", "zero", "disclosure"),
        (r"无[^。；，0-9]{0,20}?(?:行政)?诉讼", "zero", "disclosure"),
    ],
}


def _yaml_zero_phrases(key: str) -> list[str]:
    """Zero phrases of a pre2019 narrative metric in the canonical schema YAML (plain words only)."""
    import re

    from ingest.registry import schema_document

    for m in schema_document().get("pre2019", {}).get("narrative_metrics", []):
        if m.get("key") == key:
            return [re.escape(z) for z in m.get("zero_phrases", []) if z]
    return []


_DECIMAL = r"(\d+(?:\.\d+)?)"
# Narrative-only metrics (fct_narrative_metrics): processed/answered, consultations, fees.
_PATTERNS.update(
    {
        # 办结/答复 N 件 in a sentence about applications (mapped to fct_applications total_processed)
        "requests_processed_total": [
            (r"(约|近|超过|逾)?(?:已|均已|全部)?(?:办结|答复|回复|作出答复)(?:了)?(?:各类)?(?:政府)?(?:信息公开)?"
             r"(?:申请)?(?:共|总计|合计)?" + _NUM + _APPROX_AFTER + r"(件|例|份|项|宗)", "count", "request"),
        ],
        "consultations_total": [
            (r"(约|近|超过|逾)?(?:接受|受理|接待|处理|答复|回复|解答)(?:了)?[^，。；0-9]{0,8}?咨询(?:共|总计)?"
             + _NUM + _APPROX_AFTER + r"(人次|次|件|条|个|封)", "count", "any"),
        ],
        # amounts as written (unit_raw 元 / 万元)
        "fees_collected": [
            (r"(约|近|超过|逾)?收取[^，。；0-9]{0,14}?费(?:用)?(?:共|合计|总计)?" + _DECIMAL + r"(余|多)?(元|万元)",
             "amount", "any"),
            ("|".join(_yaml_zero_phrases("fees_collected")
                      + [r"(?:未|没有|不)(?:向[^，。；0-9]{0,20}?)?收取[^，。；0-9]{0,20}?费"]), "zero", "any"),
        ],
        "fees_waived": [
            (r"(?:不存在|无|未|没有)(?:任何)?(?:费用)?减免", "zero", "any"),
        ],
    }
)
# Every match of every pattern of a metric holds one of its words (fees_collected: the zero phrases
# come from the YAML, so none is assumed)
_METRIC_WORDS: dict[str, list[str]] = {
    "requests_received_total": ["申请"],
    "admin_review_total": ["行政复议"],
    "admin_litigation_total": ["诉讼"],
    "requests_processed_total": ["办结", "答复", "回复"],
    "consultations_total": ["咨询"],
    "fees_waived": ["减免"],
}
_SECTION_CONTEXT = r"复议|诉讼"
_PARTIAL_PERIOD_RE = r"(截至|截止|截止到|截至到)\s*(\d{1,2}月(?:\d{1,2}日)?|目前)|1\s*[-—至]\s*(\d{1,2})\s*月"
_SECTION_HEADING_RE = r"^\s*(?:#+\s*)?(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])"


_SENTENCE_END = r"[。；;！!？?：:”」）)]\s*$"
# No real sentence is this long; a longer "sentence" (a minified page, a pasted blob, a hostile file)
# is cut here so that per-match work on it stays bounded.
MAX_SENTENCE_CHARS = 1000
MAX_PARAGRAPH_CHARS = 20_000


def sentences_frame(lines: pl.DataFrame) -> pl.DataFrame:
    """Paragraph lines -> sentences with the heading of the section they sit in.

    A line that stops mid-sentence (no closing punctuation; a hard wrap from PDF or a CMS editor)
    is joined with the next paragraph line, so "…网站设" + "置…栏目，…161份。" is one sentence.
    """
    paras = lines.filter(~pl.col("text").str.contains("\t") & (pl.col("text").str.strip_chars() != ""))
    paras = paras.with_columns(pl.col("text").str.strip_chars().alias("text")).with_columns(
        (pl.col("text").str.contains(_SECTION_HEADING_RE) & (pl.col("text").str.len_chars() < 60)).alias("_heading")
    )
    # facts about the previous line, computed on each line and shifted (the same, and read once)
    if paras["doc_id"].is_sorted():
        # documents one after the other: the previous line is the row before when its doc_id is this
        # one's (a first line never continues, whatever the shifted facts of the document before say),
        # and a running count of paragraph starts numbers the paragraphs of every document apart: no
        # window over the documents
        def before(expr: pl.Expr) -> pl.Expr:
            return expr.shift(1)

        same_document = (pl.col("doc_id") == pl.col("doc_id").shift(1)).fill_null(False)
    else:
        def before(expr: pl.Expr) -> pl.Expr:
            return expr.shift(1).over("doc_id")

        same_document = before(pl.col("text")).is_not_null()
    continues = (
        same_document
        & ~before(pl.col("text").str.contains(_SENTENCE_END))
        & (before(pl.col("text").str.len_chars()) >= 8)
        & ~before(pl.col("_heading")).fill_null(True)
        & ~pl.col("_heading")
    )
    paragraph_no = (~continues).cum_sum() if paras["doc_id"].is_sorted() else (~continues).cum_sum().over("doc_id")
    paras = (
        paras.with_columns(paragraph_no.alias("_para"))
        .group_by("doc_id", "_para", maintain_order=True)
        .agg(pl.col("line_no").first(), pl.col("text"), pl.col("_heading").first())
        .with_columns(pl.col("text").list.join(""))  # faster than str.join inside the aggregation
    )
    paras = paras.with_columns(pl.col("text").str.slice(0, MAX_PARAGRAPH_CHARS)).with_columns(
        pl.when(pl.col("_heading") & (pl.col("text").str.len_chars() < 60))
        .then(pl.col("text"))
        .forward_fill()
        .over("doc_id")
        .fill_null("")
        .alias("section_title")
    )
    return (
        paras.with_columns(pl.col("text").str.replace_all(r"([。；;！!？?])", "$1\u0000").str.split("\u0000").alias("sentence"))
        .explode("sentence")
        .with_columns(pl.col("sentence").str.slice(0, MAX_SENTENCE_CHARS).str.strip_chars())
        .filter(pl.col("sentence") != "")
        .with_columns(_position_in_run("doc_id", "line_no").alias("sentence_no"))
        .select("doc_id", "line_no", "sentence_no", "sentence", "section_title")
    )


def continues_run(*keys: str) -> pl.Expr:
    """Whether a row has the same ``keys`` as the row before it.

    For frames whose groups are runs of consecutive rows (the sentences of a paragraph, as
    ``sentences_frame`` gives them) this replaces windows such as ``shift().over(keys)``, which are
    slow over tens of thousands of tiny groups."""
    return pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in keys).fill_null(False)


def _position_in_run(*keys: str) -> pl.Expr:
    """1-based position of a row in its run of rows with the same ``keys``."""
    row = pl.int_range(pl.len())
    run_start = pl.when(~continues_run(*keys)).then(row).forward_fill()
    return row - run_start + 1


def extract_narrative(lines: pl.DataFrame, sentences: pl.DataFrame | None = None) -> pl.DataFrame:
    """All stated figures of a batch: doc_id, metric, value, unit_raw, qualifier, is_zero_phrase, evidence, locator."""
    if sentences is None:
        sentences = sentences_frame(lines)
    found = []
    in_section = pl.col("section_title").str.contains(_SECTION_CONTEXT)
    scopes = {
        "any": sentences,
        "section": sentences.filter(in_section),
        "disclosure": sentences.filter(pl.col("sentence").str.contains("信息公开|申请公开|政府信息") | in_section),
        "request": sentences.filter(pl.col("sentence").str.contains("申请")
                                    & ~pl.col("sentence").str.contains("复议|诉讼|行政许可")),
    }
    for metric, patterns in _PATTERNS.items():
        # a metric's patterns run over the sentences holding its word only (one literal scan, where
        # each pattern's regex would read every sentence)
        words = _METRIC_WORDS.get(metric)
        narrowed: dict[str, pl.DataFrame] = {}
        for priority, (pattern, kind, scope) in enumerate(patterns):
            if scope not in narrowed:
                narrowed[scope] = (
                    scopes[scope].filter(pl.col("sentence").str.contains_any(words)) if words else scopes[scope]
                )
            hits = narrowed[scope].filter(pl.col("sentence").str.contains(pattern))
            if hits.is_empty():
                continue
            if kind == "zero":
                hits = hits.with_columns(
                    pl.lit("0").alias("number"),
                    pl.lit(None, pl.String).alias("unit_raw"),
                    pl.lit("exact").alias("qualifier"),
                    pl.lit(True).alias("is_zero_phrase"),
                )
            else:
                groups = pl.col("sentence").str.extract_groups(pattern).struct
                hits = hits.with_columns(
                    groups.field("2").alias("number"),
                    groups.field("4").alias("unit_raw"),
                    pl.when(groups.field("1").is_in(["约", "近"]))
                    .then(pl.lit("approx_nearly"))
                    .when(groups.field("1").is_in(["超过", "逾"]) | groups.field("3").is_not_null())
                    .then(pl.lit("approx_more_than"))
                    .otherwise(pl.lit("exact"))
                    .alias("qualifier"),
                    pl.lit(False).alias("is_zero_phrase"),
                )
            found.append(hits.with_columns(pl.lit(metric).alias("metric"), pl.lit(priority).alias("priority")))
    if not found:
        return empty_facts(sentences.schema["doc_id"])
    facts = pl.concat(found, how="diagonal_relaxed")
    facts = facts.with_columns(_to_number(pl.col("number")).alias("value")).filter(pl.col("value").is_not_null())
    # the first statement in reading order wins; a figure stated again is not a second fact
    facts = (
        facts.sort("doc_id", "metric", "line_no", "sentence_no", "priority")
        .group_by("doc_id", "metric", maintain_order=True)
        .first()
    )
    return facts.select(
        "doc_id",
        "metric",
        "value",
        "unit_raw",
        "qualifier",
        "is_zero_phrase",
        pl.col("sentence").alias("evidence"),
        pl.format("line {}, sentence {}", pl.col("line_no"), pl.col("sentence_no")).alias("locator"),
    )


def _to_number(expr: pl.Expr) -> pl.Expr:
    """Arabic digits directly; Chinese numerals (两件, 十二期) through cn2an, only for the few matches."""
    return expr.map_batches(_numbers, return_dtype=pl.Float64)


def _numbers(numbers: pl.Series) -> pl.Series:
    # cn2an runs once per distinct Chinese numeral, never on the Arabic ones
    arabic = numbers.str.contains(r"^\d+(?:\.\d+)?$")
    words = numbers.filter(~arabic).unique().to_list()
    chinese = {w: _chinese_numeral(w) for w in words}
    return pl.select(
        pl.when(arabic)
        .then(numbers.cast(pl.Float64, strict=False))
        .otherwise(numbers.replace_strict(chinese, default=None, return_dtype=pl.Float64))
    ).to_series().alias(numbers.name)


@cache
def _chinese_numeral(text: str) -> float | None:
    import cn2an

    try:
        return float(cn2an.cn2an(text.replace("两", "二"), "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def partial_period(lines: pl.DataFrame) -> pl.DataFrame:
    """doc_id, period_partial, period_end_text: figures 截至11月 cover part of the year."""
    hits = lines.with_columns(pl.col("text").str.extract(_PARTIAL_PERIOD_RE, 0).alias("period_end_text")).filter(
        pl.col("period_end_text").is_not_null()
    )
    return hits.group_by("doc_id").agg(
        pl.lit(True).alias("period_partial"), pl.col("period_end_text").first()
    )


# The frame every narrative extractor returns (sentence figures, channel figures).
FACT_SCHEMA = {
    "doc_id": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "unit_raw": pl.String,
    "qualifier": pl.String,
    "is_zero_phrase": pl.Boolean,
    "evidence": pl.String,
    "locator": pl.String,
}


def empty_facts(doc_id_dtype: pl.DataType = pl.String) -> pl.DataFrame:
    """No facts, keyed like the batch (the pipeline numbers its documents; tests use strings)."""
    return pl.DataFrame(schema={**FACT_SCHEMA, "doc_id": doc_id_dtype})
