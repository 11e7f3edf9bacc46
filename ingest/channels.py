"""How an agency published: figures stated per publication channel (微信 粉丝649万人, 门户网站发布信息784条).

Vectorised over all sentences of a batch: sentences are cut into clauses (，、：), each clause gets the
channel it names (or the one named earlier in its sentence, or in the previous 。-sentence of the same
paragraph), and a metric pattern binds a metric word to the number that follows it. Clauses about
changes, maxima, shares of a total or the sub-items after 其中 are not channel figures. A figure stated
twice (same channel, metric and value) is one fact. Output rows are narrative facts whose metric is
``channel.<channel>.<metric>`` (``fct_disclosure_channels`` reads them).
"""

from __future__ import annotations

import polars as pl

from ingest.narrative import _position_in_run, _to_number, continues_run, empty_facts, sentences_frame
from ingest.nfkc import NFKC_OTHER_CHAR_RE, nfkc_expr, nfkc_sources

CHANNELS = (
    "portal_website",
    "gazette",
    "wechat",
    "weibo",
    "toutiao",
    "douyin",
    "app",
    "sms",
    "hotline",
    "press_conference",
    "online_interview",
    "mobile_newspaper",
    "print_broadcast",
    "bulletin_board",
    "reading_room",
    "other",
)
METRICS = (
    "items_published",
    "followers",
    "reads",
    "readers",
    "visits",
    "unique_visitors",
    "shares",
    "plays",
    "impressions",
    "events",
    "messages_handled",
    "calls",
)

# keyword -> channel; the regex alternation is longest-first so 政务微博 wins over 微博, 官方微博 over 官微.
_CHANNEL_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["门户网站", "政府网站", "政务网站", "官方网站", "政务网", "网站", "官网", "政府网", "门户平台", "政府在线", "门户网",
         "信息网"],
        "portal_website",
    ),
    **dict.fromkeys(["政府公报", "公报", "政报"], "gazette"),
    **dict.fromkeys(["微信公众号", "微信公众平台", "微信号", "微信", "公众号", "官微"], "wechat"),
    **dict.fromkeys(["政务微博", "官方微博", "微博"], "weibo"),
    **dict.fromkeys(["今日头条", "头条号", "头条"], "toutiao"),
    **dict.fromkeys(["抖音号", "抖音"], "douyin"),
    **dict.fromkeys(["客户端", "APP", "App", "app", "移动端应用"], "app"),
    **dict.fromkeys(["手机短信", "短信"], "sms"),
    **dict.fromkeys(["服务热线", "咨询电话", "热线电话", "热线", "接听电话", "来电"], "hotline"),
    **dict.fromkeys(["新闻发布会", "新闻通气会", "发布会"], "press_conference"),
    **dict.fromkeys(["在线访谈", "网上访谈", "网络访谈", "访谈"], "online_interview"),
    **dict.fromkeys(["手机报"], "mobile_newspaper"),
    **dict.fromkeys(["报刊", "报纸", "广播电视", "广播", "电视台", "电视"], "print_broadcast"),
    **dict.fromkeys(["公开栏", "公示栏", "宣传栏", "公告栏", "电子显示屏", "电子屏"], "bulletin_board"),
    **dict.fromkeys(["阅览室", "查阅点", "查阅室", "查阅中心"], "reading_room"),
    **dict.fromkeys(["视频号", "快手号", "快手", "企鹅号", "小程序", "新媒体"], "other"),
}
_PRINT_TITLE_RE = r"《[^》]{1,16}(?:报|杂志|期刊)》"
_CHANNEL_RE = "(" + "|".join(sorted(_CHANNEL_WORDS, key=len, reverse=True)) + ")"
# Every sentence whose normal form (thousands commas removed) names a channel or a printed title
# matches this as printed: a channel word, the title at any length (removing commas shortens it), a
# full-width form of a Latin letter of a channel word (ＡＰＰ), or a character the normaliser may rewrite
# into anything.
_MAY_NAME_CHANNEL_RE = "|".join([
    _CHANNEL_RE,
    r"《[^》]*(?:报|杂志|期刊)》",
    "[" + nfkc_sources("".join(c for w in _CHANNEL_WORDS for c in w if c.isascii())) + "]",
    NFKC_OTHER_CHAR_RE,
])

_Q_BEFORE = r"(约|大约|近|将近|接近|超过|逾|超)?"
_NUM = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_SCALE = r"(万|亿)?"
_Q_MID = r"(余|多)?"
_Q_AFTER = r"(以上|左右|余|多)?"
_GAP = r"[^\d，,、；;。：:]{0,%d}?"
_ITEM_UNITS = r"(条|篇|期|件|份|个|则|批|部|本|册|封|次)"
_PEOPLE_UNITS = r"(人次|人|名|户|个|位)?"

# metric -> regexes (priority order). Each captures (q_before, num, scale, q_mid, unit, q_after, bad_follow).
_TAIL = r"([年月日%％号岁])?"


def _p(words: str, gap: int, unit: str) -> str:
    return (
        "(?:"
        + words
        + ")"
        + (_GAP % gap)
        + _Q_BEFORE
        + _NUM
        + r"\s*"
        + _SCALE
        + _Q_MID
        + unit
        + _Q_AFTER
        + _TAIL
    )


_METRIC_PATTERNS: list[tuple[str, str]] = [
    ("unique_visitors", _p(r"独立用户访问|独立访客|独立IP|访客", 8, r"(人次|人|个|次)?")),
    (
        "visits",
        _p(
            r"访问量|访问总量|访问次数|总访问|访问人次|浏览量|浏览次数|点击量|点击次数|访问",
            6,
            r"(人次|次|个|人)?",
        ),
    ),
    ("readers", _p(r"阅读人数|阅读人次|阅读用户", 6, _PEOPLE_UNITS)),
    ("reads", _p(r"阅读量|阅读次数|阅读数|阅读总量|总阅读|阅读", 6, r"(次|人次|篇次)?")),
    (
        "followers",
        _p(
            r"粉丝|关注人数|关注用户|关注量|关注者|订阅用户|订阅人数|订阅数|订阅量|订阅者|用户数|用户量|用户达",
            8,
            _PEOPLE_UNITS,
        ),
    ),
    ("shares", _p(r"分享次数|分享量|转发量|转发次数|转发", 6, r"(次|人次)?")),
    ("plays", _p(r"播放量|播放次数|播放", 6, r"(次|人次)?")),
    ("impressions", _p(r"推荐量|曝光量|曝光|展现量|展示量", 6, r"(次|人次)?")),
    ("calls", _p(r"接听电话|来电|接听|电话", 6, r"(个|次|人次|通|件)")),
    ("messages_handled", _p(r"留言|信箱|来信|咨询|诉求", 10, r"(件|条|个|封|次|人次)")),
    ("events", _p(r"召开|举办|举行|开展|组织", 14, r"(场|次|期)")),
    (
        "items_published",
        _p(
            r"发布|推送|发送|公开|发文|刊发|编发|编印|编制|印发|发稿|刊登|刊载|播出|推出|制作|更新|上传|发出|编辑|出版",
            16,
            _ITEM_UNITS,
        ),
    ),
    # 发布信息数量144 (no unit after a count word), 政府信息7579条 closing a list the verb opened
    ("items_published", _p(r"(?:发布|推送|公开)(?:的)?信息(?:数量|总数)", 4, r"(条|篇|件|个)?")),
    ("items_published", _p(r"(?:政府|政务)?信息", 1, _ITEM_UNITS)),
]
def _counted_after(channel_words: str, units: str) -> str:
    """A channel word, a short gap, then a figure counted in ``units`` (e.g. 条|篇)."""
    return (
        "(?:" + channel_words + r")" + (_GAP % 6) + _Q_BEFORE + _NUM + r"\s*" + _SCALE + _Q_MID
        + r"(" + units + r")" + _Q_AFTER + _TAIL
    )


# a channel word right before the figure (微博200条, 微信公众号推文300篇) counts as published items
_DIRECT_ITEMS = _counted_after(_CHANNEL_RE[1:-1], "条|篇|期|则")
# events are counted for press conferences and interviews (N场); elsewhere 场/次 are not events
_EVENT_CHANNEL_PATTERN = _counted_after(
    "|".join(w for w, c in _CHANNEL_WORDS.items() if c in ("press_conference", "online_interview")), "场|次|期"
)

# clauses that state a change, a maximum, an average or a share: not a channel total
_NOT_A_TOTAL = (
    r"增长|增加|新增|减少|下降|提升|提高|比上年|比去年|较上年|较去年|同比|环比|最高|单篇|单条|单次|单日|"
    r"平均|日均|月均|占比|占|%|％|分享人数|排名|第\d|位居|名列|每天|每日|每周|每月"
)
_APPROX_NEARLY = ["约", "大约", "近", "将近", "接近", "左右"]
_APPROX_MORE = ["超过", "逾", "超", "余", "多", "以上"]


def _before_figure(clause: pl.Expr) -> pl.Expr:
    """The words of a clause before its first figure (a list number 1. and a year 2020年 are not one)."""
    return (
        clause.str.replace(r"^\s*\d{1,2}\s*[.、．)）]", "")
        .str.replace_all(r"(?:19|20)\d{2}年度?", "")
        .str.extract(r"^([^\d]*)", 1)
    )


_SENTENCE = ("doc_id", "line_no", "sentence_no")


def _without_thousands_commas(sentences: pl.Series) -> pl.Series:
    """1,992 -> 1992. The capture pattern runs on the sentences that hold such a number only (found by
    the same pattern without its groups, which the regex engine runs far faster): on every sentence
    it costs about as much as the normal form."""
    at = sentences.str.contains(r"\d,\d{3}").arg_true()
    if at.is_empty():
        return sentences
    return sentences.clone().scatter(at, sentences.gather(at).str.replace_all(r"(\d),(\d{3})", "$1$2"))


def _sum_in_run(expr: pl.Expr, run_start: pl.Expr) -> pl.Expr:
    """``expr.cum_sum().over(run)`` for runs of consecutive rows starting where ``run_start`` holds
    (``expr`` without nulls): the running sum less its value before the run's first row."""
    total = expr.cum_sum()
    return total - pl.when(run_start).then(total - expr).forward_fill()


def _fill_in_run(expr: pl.Expr, run_start: pl.Expr) -> pl.Expr:
    """``expr.forward_fill().over(run)`` for runs of consecutive rows starting where ``run_start``
    holds: the last non-null row so far, when it lies in this row's run."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    last = pl.when(expr.is_not_null()).then(row).forward_fill()
    first = pl.when(run_start).then(row).forward_fill()
    return pl.when(last >= first).then(expr.gather(last))


def channel_facts(lines: pl.DataFrame, sentences: pl.DataFrame | None = None) -> pl.DataFrame:
    """Channel figures of a batch as narrative facts (metric = channel.<channel>.<metric>).
    ``sentences`` as ``sentences_frame`` gives them (a paragraph's sentences in consecutive rows)."""
    if sentences is None:
        sentences = sentences_frame(lines)
    if sentences.is_empty():
        return empty_facts(sentences.schema["doc_id"])
    # A figure is read from a sentence that names a channel or from the one after it (it inherits the
    # channel): those few (under one in ten) are the rows the normal form and the channel reading
    # below run on. ``_row`` keeps each sentence's place: the sentence before a kept one is the row
    # before it only when it was kept too (and one that was not names no channel).
    may_name = sentences["sentence"].str.contains(_MAY_NAME_CHANNEL_RE)
    sentences = sentences.with_row_index("_row").filter(may_name | may_name.shift(1).fill_null(False))
    sentences = sentences.with_columns(
        # nfkc_expr: the normal form, most sentences without Polars' costly normaliser
        nfkc_expr(pl.col("sentence")).map_batches(_without_thousands_commas, return_dtype=pl.String).alias("_s")
    )
    # sentences that name a channel, and 。-sentences right after one (独立用户访问总量… after 门户网站…)
    sentences = sentences.with_columns(pl.col("_s").str.extract_all(_CHANNEL_RE).alias("_channel_words"))
    candidate = (pl.col("_channel_words").list.len() > 0) | pl.col("_s").str.contains(_PRINT_TITLE_RE)
    sentences = sentences.with_columns(
        candidate.alias("_has_channel"),
        pl.col("_channel_words")
        .list.last()
        .replace_strict(_CHANNEL_WORDS, default=None, return_dtype=pl.String)
        .alias("_last_channel"),
    ).drop("_channel_words")
    # the previous sentence of the same paragraph (sentences_frame keeps a paragraph's sentences together)
    after_sentence_of_paragraph = continues_run("doc_id", "line_no")
    sentences = sentences.with_columns(
        pl.when(
            ~pl.col("_has_channel")
            & after_sentence_of_paragraph
            & (pl.col("_row").shift(1) == pl.col("_row") - 1).fill_null(False)
            & pl.col("sentence").str.contains(r"[。.!！]$").shift(1).fill_null(False)
        )
        .then(pl.col("_last_channel").shift(1))
        .alias("_inherited")
    ).drop("_row")
    sentences = sentences.filter(
        (pl.col("_has_channel") | pl.col("_inherited").is_not_null())
        & pl.col("_s").str.contains(r"\d|[一二两三四五六七八九十]")
    )
    if sentences.is_empty():
        return empty_facts(sentences.schema["doc_id"])
    clauses = (
        sentences.with_columns(
            pl.col("_s").str.replace_all(r"([，,、：:])", "$1\u0000").str.split("\u0000").alias("clause")
        )
        .explode("clause")
        .with_columns(pl.col("clause").str.strip_chars())
        .filter(pl.col("clause") != "")
        .with_columns((_position_in_run(*_SENTENCE) - 1).alias("clause_no"))
    )
    # a sentence's clauses are consecutive rows (sentences_frame keeps a sentence's rows together): the
    # running count and the fills along a sentence below are run arithmetic, not windows over the
    # three keys (a hash grouping of every clause, three times over)
    sentence_start = ~continues_run(*_SENTENCE)
    clauses = (
        clauses.with_columns(
            pl.coalesce(
                _before_figure(pl.col("clause"))
                .str.extract_all(_CHANNEL_RE)
                .list.last()
                .replace_strict(_CHANNEL_WORDS, default=None, return_dtype=pl.String),
                # a named paper or magazine (《…导报》, 《…杂志》) is print
                pl.when(pl.col("clause").str.contains(_PRINT_TITLE_RE)).then(pl.lit("print_broadcast")),
            ).alias("own_channel"),
            # a clause whose words before the figure name two channels states their combined figure
            (_before_figure(pl.col("clause")).str.extract_all(_CHANNEL_RE).list.eval(
                pl.element().replace_strict(_CHANNEL_WORDS, default=None, return_dtype=pl.String)
            ).list.set_difference(["other"]).list.n_unique() > 1).alias("_two_channels"),
            pl.col("clause").str.contains(r"(?:数量|总数)(?:为|达)?\d").alias("_count_word"),
            _sum_in_run(pl.col("clause").str.contains("其中").cast(pl.Int32), sentence_start).alias("_after_qz"),
        )
        .with_columns(
            _fill_in_run(pl.col("own_channel"), sentence_start).alias("_sentence_channel"),
            # the channel named at or after 其中 (其中微博29个，共发布信息1992条: weibo's own figure)
            _fill_in_run(pl.when(pl.col("_after_qz") > 0).then(pl.col("own_channel")), sentence_start)
            .alias("_channel_after_qz"),
        )
        .with_columns(pl.coalesce(pl.col("_sentence_channel"), pl.col("_inherited")).alias("channel"))
        .filter(pl.col("channel").is_not_null() & ~pl.col("clause").str.contains(_NOT_A_TOTAL))
    )

    found = []
    patterns = [("events", _EVENT_CHANNEL_PATTERN), *_METRIC_PATTERNS, ("items_published", _DIRECT_ITEMS)]
    for priority, (metric, pattern) in enumerate(patterns):
        hits = clauses.filter(pl.col("clause").str.contains(pattern))
        if hits.is_empty():
            continue
        g = pl.col("clause").str.extract_groups(pattern).struct
        hits = hits.with_columns(
            g.field("1").alias("q_before"),
            g.field("2").alias("number"),
            g.field("3").alias("scale"),
            g.field("4").alias("q_mid"),
            g.field("5").alias("unit"),
            g.field("6").alias("q_after"),
            g.field("7").alias("bad_follow"),
            pl.lit(metric).alias("ch_metric"),
            pl.lit(priority).alias("priority"),
        )
        found.append(hits)
    if not found:
        return empty_facts(sentences.schema["doc_id"])
    facts = pl.concat(found, how="diagonal_relaxed")
    facts = facts.filter(
        pl.col("bad_follow").is_null()
        & (pl.col("scale").is_not_null() | pl.col("unit").is_not_null() | pl.col("_count_word"))
        & ~(pl.col("_two_channels") & (pl.col("ch_metric") == "items_published"))
        & ~(pl.col("clause").str.contains("申请") & (pl.col("ch_metric") == "items_published"))
        # sub-items after 其中 (原创稿330篇, 概况类信息5条) belong to the total before it, unless a channel
        # is named after 其中
        & ~(
            (pl.col("_after_qz") > 0)
            & pl.col("_channel_after_qz").is_null()
            & (pl.col("ch_metric") == "items_published")
        )
        # a sentence that names no channel inherits one only for audience figures (访问量 after 门户网站…);
        # what it says was published or held needs its own channel word
        & ~(
            pl.col("_sentence_channel").is_null()
            & pl.col("ch_metric").is_in(["items_published", "events", "messages_handled", "calls"])
        )
    )
    # one metric per clause: the first pattern that matched
    facts = (
        facts.sort("doc_id", "line_no", "sentence_no", "clause_no", "priority")
        .group_by("doc_id", "line_no", "sentence_no", "clause_no", maintain_order=True)
        .first()
    )
    # events only for events channels; calls only on the hotline; messages on hotline/portal/app/wechat/weibo
    facts = facts.filter(
        (
            (pl.col("ch_metric") != "events")
            | pl.col("channel").is_in(["press_conference", "online_interview"])
        )
        & ((pl.col("ch_metric") != "calls") | (pl.col("channel") == "hotline"))
        & (
            (pl.col("ch_metric") != "messages_handled")
            | (pl.col("channel") != "hotline")
            | pl.col("own_channel").is_not_null()
        )
        & (
            (pl.col("ch_metric") != "items_published")
            | ~pl.col("channel").is_in(["hotline", "press_conference", "online_interview"])
            | pl.col("unit").is_in(["期", "篇", "条"])
        )
    )
    scale = pl.when(pl.col("scale") == "万").then(1e4).when(pl.col("scale") == "亿").then(1e8).otherwise(1.0)
    quals = [pl.col("q_before"), pl.col("q_mid"), pl.col("q_after")]
    facts = (
        facts.with_columns((_to_number(pl.col("number")) * scale).round(4).alias("value"))
        .filter(pl.col("value").is_not_null())
        .with_columns(
            pl.when(pl.any_horizontal(q.is_in(_APPROX_MORE) for q in quals))
            .then(pl.lit("approx_more_than"))
            .when(pl.any_horizontal(q.is_in(_APPROX_NEARLY) for q in quals))
            .then(pl.lit("approx_nearly"))
            .otherwise(pl.lit("exact"))
            .alias("qualifier"),
            pl.concat_str(pl.col("scale").fill_null(""), pl.col("unit").fill_null("")).alias("unit_raw"),
            pl.format("channel.{}.{}", pl.col("channel"), pl.col("ch_metric")).alias("metric"),
        )
    )
    # the same figure stated twice is one fact (first statement in reading order)
    facts = (
        facts.sort("doc_id", "line_no", "sentence_no", "clause_no")
        .group_by("doc_id", "metric", "value", maintain_order=True)
        .first()
    )
    return facts.select(
        "doc_id",
        "metric",
        "value",
        pl.when(pl.col("unit_raw") == "").then(None).otherwise(pl.col("unit_raw")).alias("unit_raw"),
        "qualifier",
        pl.lit(False).alias("is_zero_phrase"),
        pl.col("sentence").alias("evidence"),
        pl.format(
            "line {}, sentence {}, clause {}",
            pl.col("line_no"),
            pl.col("sentence_no"),
            pl.col("clause_no") + 1,
        ).alias("locator"),
    )

