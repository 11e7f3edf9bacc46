"""Who wrote a report and which year it covers, read from where reports print them.

The agency comes from the title first (``…2021年政府信息公开工作年度报告`` in any of its printed forms:
year before or after the name, 年报 / 工作报告 / 开展年度报告, split over two lines, inside 信息名称 or
标题 fields), then from the page header fields (发布机构 / 来源 / 发文机关), then from the opening
sentence (由XX编制, 现将XX…, XX根据《条例》…, 2020年，XX高度重视…), never from an arbitrary sentence.
The year comes from the title, the statistics period (统计期限自2020年1月1日…), a year the opening
names with the report, or the publication date (the year before it, flagged ``publication_date``).
The place and level come from the gazetteer, with the places the document prints
(``ingest.agency.resolve_in_context``).

Runs once per document on its opening lines (not per cell), so plain Python regexes are fine here,
but every pattern is linear in its input: whitespace is removed before a pattern sees a line (no
quantifier over whitespace is nested in another), and every repeat is bounded or over a class the
next token cannot start. For a batch, ``metadata_frame`` builds the text the regexes read (the
cleaned opening lines and the start of the body) with Polars over all documents at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import lru_cache

import polars as pl

from ingest.agency import resolve_in_context
from ingest.nfkc import nfkc_expr
from ingest.values import PY_WHITESPACE

_ORG_SUFFIX = (
    r"(?:委员会|办公室|办公厅|人民政府|街道办事处|管理委员会|管委会|事务中心|服务中心|中心|研究院|考试院|研究室|"
    r"分局|局|厅|委|办|院|署|所|站|馆|处|队|会|部|镇|乡|街道|苏木|政府)"
)
_ORG_END_RE = re.compile(_ORG_SUFFIX + r"(?:[（(][\u4e00-\u9fff]{1,12}[)）])?$")
_META_PREFIX = r"^(?:信息名称|标\s*题|文章标题|名\s*称)\s*[:：]\s*"
_META_PREFIX_RE = re.compile(_META_PREFIX)
# chrome words a compacted line can start with (标  题 西藏自治区水利厅… once the spaces are gone)
_CHROME_START_RE = re.compile(r"^(?:信息名称|文章标题|公文标题|内容概述|标题|题名|名称|正文)[:：|｜]*")
_HEAD_LINES = 40
_TITLE_LINES = 16
_BODY_CHARS = 6000
_TAIL_CHARS = 600
_OPENING_CHARS = 1500

# The title's keyword, on a compacted line (no whitespace; a line break allowed where titles split).
_TITLE_KEYWORD_RE = re.compile(
    r"(?:人民政府|政府|政务)?信息公开(?:工作)?(?:开展)?(?:情况)?(?:的)?\n?(?:工作)?(?:年度)?\n?(?:工作)?(?:报告|年报)"
)
# after the keyword: a notice or announcement about the report (…年度报告的通知 / 》的公告 / 编制工作的通知)
_NOTICE_TAIL_RE = re.compile(r"(?:通知|公告|通报|函)[》」”\"]?$")
_NOTICE_HEAD_RE = re.compile(r"关于(?:公布|印发|报送|转发|发布|公开|做好|编制|报告|提交|上报|开展|刊登|更正)")
_GUIDE_RE = re.compile(r"(?:信息公开|依申请公开)(?:工作)?指南$")
_BREADCRUMB_RE = re.compile(r"[>›»]|当前位置|当前页面|所在位置|您的位置|您当前的位置")
_SENTENCE_START = ("根据", "依据", "按照", "依照", "为", "本", "现", "经", "在", "对照")
_YEAR_TOKEN_RE = re.compile(r"((?:19|20)\d{2})(?:年度|年)?")
_NOT_AN_AGENCY_START = ("本", "我", "全", "各", "该", "在", "对", "按", "根据", "关于", "为", "以", "经", "现", "特", "将")
_PUBLISHER_RE = re.compile(
    r"(?:发布机构|发文机构|发文机关|发文单位|发布单位|信息来源|来源单位|来源|所属机构|责任单位|公开责任部门)"
    r"[ \t:：|｜]{0,6}([^\s:：|｜]{2,40})"
)
# a header value runs until the next field's label when the page printed them without separators
_NEXT_FIELD_RE = re.compile(r"(?:发布日期|发布时间|成文日期|发文日期|生成日期|公开日期|公文时效|索引号|文号|发文字号|浏览次数|点击|字体|日期|时间)")
_BARE_SOURCES = {"本单位", "本网", "本站", "网站", "本机关", "原创", "综合", "其他"}
_COMPILED_BY_RE = re.compile(
    r"由\s*([\u4e00-\u9fff（）()]{2,40}?" + _ORG_SUFFIX + r")\s*(?=负责|综合|根据|汇总|组织|牵头|会同|结合|编制|编写|制作|编印|撰写)"
)
_REPORTING_VERB = r"(?:现将|特向社会公布|现向社会公布|现发布|现公布|现公开|向社会公布|特此公布|编制|编写|根据|在)《?"
_COMPILES_RE = re.compile(
    r"(?:^|[，,。\n])([\u4e00-\u9fff（）()]{2,30}?" + _ORG_SUFFIX + r")(?:负责)?编制(?:了)?(?:本|此|(?:19|20)\d{2})"
)
_NOW_REPORTING_RE = re.compile(_REPORTING_VERB + r"(?:我|本)?([\u4e00-\u9fff（）()]{2,30}?)(?:19|20)\d{2}年度?")
_NOW_REPORTING_YEAR_FIRST_RE = re.compile(
    _REPORTING_VERB + r"(?:19|20)\d{2}年度?([\u4e00-\u9fff（）()]{2,30}?)(?:人民政府|政府)?(?:政务|政府)?信息公开"
)
_ACTS_ON_LAW_RE = re.compile(
    r"(?:^|[。\n])(?:(?:19|20)\d{2}年度?[，,]?)?([\u4e00-\u9fff（）()]{2,30}?" + _ORG_SUFFIX
    + r")(?:认真|严格|坚持|深入|全面)?(?:根据|依据|按照|依照|贯彻)"
)
_FIRST_PARA_RE = re.compile(
    r"(?:^|[。\n])(?:19|20)\d{2}\s*年(?:度)?\s*[，,]?\s*(?:在[^。\n，,]{0,16}(?:[、，,][^。\n，,]{0,16})?下[，,])?([\u4e00-\u9fff（）()]{2,24}?"
    + r"(?:" + _ORG_SUFFIX[3:-1] + r"|区|县|市|省|自治区|自治州|州|旗|盟))(?=高度重视|认真|坚持|严格|深入|全面|始终|紧紧|积极|进一步|继续|持续|不断|牢固|扎实|围绕|以|按照|根据|依据|在)"
)
_LEVEL_SUBJECT_RE = re.compile(
    r"(?:^|[。\n])(?:[(（][一二三四五六七八九十]+[)）][^。\n]{0,12}。)?((?:市|县|区)[\u4e00-\u9fff]{1,10}?(?:局|厅|办公室|中心|委员会))"
    r"(?=高度重视|认真|坚持|严格|深入|全面|始终|紧紧|积极|进一步|继续|持续|不断|扎实|围绕|按照|根据|依据)"
)
# the report's own contact and download sentences (请与XX联系, 可在XX门户网站下载)
_CONTACT_RE = re.compile(
    r"请(?:与|联系|致电)([\u4e00-\u9fff（）()]{2,30}?" + _ORG_SUFFIX + r")(?:[\u4e00-\u9fff]{1,4}(?:科|股|室|组))?(?:联系|[(（,，:：])"
)
_WEBSITE_RE = re.compile(
    r"可(?:以)?在[“\"]?([\u4e00-\u9fff（）()]{2,30}?" + _ORG_SUFFIX + r")[”\"]?(?:门户网站|网站|政府网|官网|政务网)"
)
# a signature: the agency alone on a line, the date on the next (亭子坝镇人民政府 / 2015年1月10日)
_SIGNATURE_RE = re.compile(
    r"(?:^|\n)([\u4e00-\u9fff（）()]{2,30}" + _ORG_SUFFIX + r")\n(?:19|20)\d{2}年\d{1,2}月\d{1,2}日(?:\n|$)"
)
# township offices (党政办公室) compile the township's report: the township is the agency
_INTERNAL_OFFICE_RE = re.compile(
    r"(?<=镇|乡|道|处|府|木)(?:党政综合办公室|党政办公室|党政办|综合办公室)$"
    r"|(?<=[\u4e00-\u9fff]{2})(?:政府|政务)?(?:信息|政务)?公开(?:工作)?领导小组(?:办公室)?$"
)
_REGULATION_RE = re.compile(r"政府信息公开条例|信息公开条例》|《条例》")
# the report speaking of itself: 本报告/本年度报告…编制, 编制本报告, 全文包括, …情况报告如下
_REPORT_PREAMBLE_RE = re.compile(
    r"(?:本|此)(?:年度|年)?(?:报告|年报)(?:是|系)?(?:根据|依据|依照|按照|由|中所列|所列|全文)|编制(?:本|此)(?:年度)?(?:报告|年报)"
    r"|(?:编制|编写|形成|制作)(?:了)?[^。《》\n]{0,30}?(?:年度报告|年报)"
    r"|(?:现将|现公布|现发布|现向社会公布|特向社会公布|现予公布|现公开)[^。《》\n]{0,40}?(?:年度报告|年报|工作报告)"
    r"|本(?:年度)?报告[^。\n]{0,6}?(?:统计|数据|所列)"
    r"|全文(?:包括|由|内容包括|分为)|(?:情况|工作)(?:年度)?报告如下|本(?:年度)?报告(?:由|分为|包括|共)"
)
_PERIOD_RE = re.compile(
    r"(?:统计|计算|所列数据)[^。\n]{0,20}?((?:19|20)\d{2})\s*年\s*0?1\s*月\s*0?1\s*日"
    r"|(?:统计|计算|所列数据)[^。\n]{0,20}?((?:19|20)\d{2})\s*0?1\s*0?1\s*日"
    r"|截(?:止|至)(?:日期|时间)?(?:为|是)?((?:19|20)\d{2})\s*年?\s*12\s*月?\s*31\s*日"
)
# a year the opening names together with the report or the work it covers
_OPENING_YEAR_RE = re.compile(
    r"((?:19|20)\d{2})年度?(?:本级|我|本)?[\u4e00-\u9fff（）()]{0,20}?(?:政府|政务)?信息公开(?:工作)?(?:情况|年度)?(?:工作)?(?:报告|年报)"
    r"|(?:^|[。\n])((?:19|20)\d{2})年(?:度)?[，,]"
)
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
_DATE_RE = re.compile(
    r"(?:发文时间|发布时间|发布日期|成文日期|生成日期|公开日期|发文日期|时间|日期)[\s:：|]{0,8}((?:19|20)\d{2})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})"
)
_WS_RE = re.compile(r"[\s|｜*#]+")

# \s of the Python regexes as a class for the vectorised ones (see PY_WHITESPACE)
_PY_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"


@dataclass(frozen=True)
class ReportMeta:
    agency_name: str | None
    agency_name_source: str | None  # title | metadata | compiled_by | opening_sentence | first_paragraph
    agency_id: str | None
    report_year: int | None
    report_year_source: str | None  # title | statistics_period | opening | publication_date | text_mode
    publication_date: date | None
    has_report_title: bool
    document_kind: str | None  # notice | guide when the title says the document is that; NULL otherwise
    cites_regulation: bool  # the opening cites 《政府信息公开条例》
    has_report_preamble: bool  # the report speaks of itself (本报告…编制, 全文包括…, …情况报告如下)
    agency_canonical_name: str | None
    province: str | None
    city: str | None
    county: str | None
    admin_level: str
    agency_kind: str | None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


# a batch repeats many opening lines (site chrome, template headings, table rows): a line's compact
# form and a header table's publisher are worked out once for each
@lru_cache(maxsize=1 << 16)
def _compact(line: str) -> str:
    return _CHROME_START_RE.sub("", _WS_RE.sub("", line))


def _strip_agency(name: str) -> str:
    name = _WS_RE.sub("", name)
    name = _META_PREFIX_RE.sub("", name)
    name = _CHROME_START_RE.sub("", name)
    return name.strip("《》“”\"'·-—:：、，,。")


_GENERIC_NAMES = {"政府", "人民政府", "年度", "本级政府", "本机关", "机关", "单位", "部门", "政务", "全年", "区政府", "县政府",
                  "市政府", "市委", "县委", "区委", "省委"}


def _looks_like_agency(name: str, in_title: bool = False) -> bool:
    if name in _GENERIC_NAMES or name.endswith("年度"):
        return False
    if not 2 <= len(name) <= 40 or name.startswith(_NOT_AN_AGENCY_START) or re.search(r"[\d。，,；;：:《》]", name):
        return False
    if re.search(r"关于|公布|印发|转发|报送|没有|依申请|坚持|围绕|贯彻|认真|按照", name):
        return False
    if in_title and len(name) <= 30 and re.fullmatch(r"[\u4e00-\u9fff（）()]+", name):
        return True
    return bool(_ORG_END_RE.search(name) or _is_place(name))


def _is_place(name: str) -> bool:
    from ingest.agency import gazetteer

    return name in gazetteer()[1]


def agency_key(name: str | None) -> str | None:
    """Stable key of an agency across years: gazetteer place path + department (see ingest.agency);
    the normalised printed name, hashed, when the place cannot be resolved."""
    if not name:
        return None
    from ingest.agency import resolve_agency

    return resolve_agency(name).agency_id


def extract_metadata(text: str) -> ReportMeta:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    head = "\n".join(_META_PREFIX_RE.sub("", _clean(ln)).lstrip("# ") for ln in lines[:_HEAD_LINES])
    return _metadata(head, _clean(text[:_BODY_CHARS]), _clean(text[-_TAIL_CHARS:]))


def metadata_frame(texts: pl.DataFrame, lines: pl.DataFrame | None = None) -> pl.DataFrame:
    """texts(doc_id, text) -> doc_id and the ``ReportMeta`` fields, one row per document: the same as
    ``extract_metadata`` on each text, with the head and body built over the whole batch. ``lines``
    (doc_id, text in order; each text the "\n"-join of its document's lines), when given, are where
    the head is read: only the opening lines are split and cleaned, not the whole text."""
    texts = texts.select("doc_id", pl.col("text").fill_null(""))
    if lines is None:
        opening = texts
    else:
        # a line that is not blank holds at least one line of the head: those after the _HEAD_LINES-th
        # such line of their document hold none
        filled = lines.select("doc_id", pl.col("text").fill_null(""))
        not_blank = (pl.col("text").str.strip_chars(PY_WHITESPACE) != "").cast(pl.Int32)
        opening = filled.filter((not_blank.cum_sum() - not_blank).over("doc_id") < _HEAD_LINES)
    heads = (
        opening.select("doc_id", pl.col("text").str.split("\n").alias("line"))
        .explode("line")
        .with_columns(pl.col("line").str.strip_chars(PY_WHITESPACE))
        .filter(pl.col("line") != "")
        .group_by("doc_id", maintain_order=True)
        .head(_HEAD_LINES)
        .with_columns(
            _clean_expr(pl.col("line"))
            .str.replace(_META_PREFIX.replace(r"\s", _PY_SPACE_CLASS), "")
            .str.strip_chars_start("# ")
        )
        .group_by("doc_id", maintain_order=True)
        .agg(pl.col("line"))
        .select("doc_id", pl.col("line").list.join("\n").alias("head"))
    )
    parts = texts.select(
        "doc_id",
        _clean_expr(pl.col("text").str.slice(0, _BODY_CHARS)).alias("body"),
        _clean_expr(pl.col("text").str.slice(-_TAIL_CHARS)).alias("tail"),
    ).join(heads, on="doc_id", how="left", maintain_order="left")
    # two yes/no patterns of the opening over the whole batch at once (no look-around, no \s or \d:
    # Rust's regexes find a match exactly where Python's do)
    opening, after_break = pl.col("_opening"), pl.col("_after_break")
    parts = parts.with_columns(pl.col("body").str.slice(0, _OPENING_CHARS).alias("_opening")).with_columns(
        opening.str.contains(_REPORT_PREAMBLE_RE.pattern).alias("preamble"),
        opening.str.contains(_REGULATION_RE.pattern).alias("regulation"),
        ("\n" + opening).alias("_after_break"),
    )
    parts = parts.select(
        "doc_id", "body", "tail", "head", "preamble", "regulation",
        pl.sum_horizontal(
            (after_break if on_break else opening).str.contains(pattern).cast(pl.Int64) * (1 << bit)
            for bit, (pattern, on_break) in enumerate(_OPENING_EXISTS)
        ).alias("opening_matches"),
    )
    rows = []
    for doc_id, body, tail, head, preamble, regulation, opening_matches in parts.iter_rows():
        meta = _metadata(head or "", body, tail or "", preamble, regulation, opening_matches)
        rows.append((doc_id, *(getattr(meta, name) for name in _META_SCHEMA)))
    schema = {"doc_id": texts.schema["doc_id"], **_META_SCHEMA}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _clean_expr(text: pl.Expr) -> pl.Expr:
    # nfkc_expr: the normal form, most texts without Polars' costly normaliser
    return nfkc_expr(text).str.replace_all("\u3000", " ", literal=True)


@dataclass(frozen=True)
class _Title:
    agency: str | None
    year: int | None
    is_notice: bool
    line_no: int


def _find_title(compact: list[str]) -> _Title | None:
    """The report's title among the opening lines (compacted): the first line that holds the title
    keyword and reads as a title, not as a breadcrumb, a sentence or a citation. When that title
    names no agency, a later title line that does (the page repeats its title) supplies it."""
    found: _Title | None = None
    for i, line in enumerate(compact[:_TITLE_LINES]):
        if not line or line.startswith(_SENTENCE_START):
            continue
        line = line[:90]
        if "信息公开" not in line:
            continue  # a keyword match that starts on this line holds 信息公开 on this line (no break in it)
        joined = line + "\n" + compact[i + 1][:40] if i + 1 < len(compact) and len(line) <= 50 else line
        m = _TITLE_KEYWORD_RE.search(joined)
        if m is None or m.start() >= len(line) or m.start() > 60:
            continue
        prefix = line[: m.start()]
        tail = re.split(r"[\n。，,；;(（]", joined[m.end():], maxsplit=1)[0]
        # a breadcrumb, a sentence or a citation of another document's title is not this report's title
        if _BREADCRUMB_RE.search(prefix) or re.search(r"[。，,；;、]", prefix) or ("《" in prefix and "》" not in tail):
            continue
        notice = bool(_NOTICE_TAIL_RE.search(tail) or _NOTICE_HEAD_RE.search(prefix))
        agency, year = _split_prefix(prefix)
        if agency is None and i > 0 and len(compact[i - 1]) <= 30 and _looks_like_agency(compact[i - 1]):
            agency = compact[i - 1]  # the name on its own line above the title (split title)
        if found is None:
            found = _Title(agency, year, notice, i)
        elif agency and found.agency is None and (year is None or found.year in (None, year)):
            found = _Title(agency, found.year or year, found.is_notice or notice, found.line_no)
        if found.agency:
            return found
    return found


def _split_prefix(prefix: str) -> tuple[str | None, int | None]:
    """(agency, year) of the words before the title keyword: 2025年金厂镇 / 漳平市拱桥镇2009年 /
    大理白族自治州人民政府关于2011年 / 教育部办公厅关于2016年教育部."""
    prefix = prefix[-60:]
    cut = max(prefix.rfind(c) for c in ":：|》」”《")
    prefix = prefix[cut + 1:]
    m = _YEAR_TOKEN_RE.search(prefix)
    if m is None:
        before, after, year = prefix, "", None
    else:
        before, after, year = prefix[: m.start()], prefix[m.end():], int(m.group(1))
    after = re.sub(r"^(?:的|度)", "", after)
    before = re.sub(r"(?:关于[\u4e00-\u9fff]{0,2}|在|的)$", "", before)
    for part in (_strip_agency(after), _strip_agency(before)):
        if part and _looks_like_agency(part, in_title=True):
            return part, year
    return None, year


_PUBLISHER_LABEL_RE = re.compile(r"^(?:发布机构|发文机构|发文机关|发文单位|发布单位|信息来源|来源单位|来源|所属机构|责任单位)$")


def _header_agency(head_lines: list[str]) -> str | None:
    # a publisher field on no line of the head is on none of them (the pattern never crosses a line)
    head = "\n".join(head_lines)
    publisher_fields = _PUBLISHER_RE.search(head) is not None
    if not publisher_fields and head.count("|") < 4:
        return None  # nor a header table: two lines of three cells each
    for line, below in zip(head_lines, [*head_lines[1:], ""], strict=True):
        # a header table: labels on one row, their values in the same columns of the next
        # (a value under each label: as many cells on both rows)
        if line.count("|") >= 2 and below.count("|") == line.count("|"):
            value = _header_table_agency(line, below)
            if value:
                return value
        for m in _PUBLISHER_RE.finditer(line) if publisher_fields else ():
            value = m.group(1)
            nxt = _NEXT_FIELD_RE.search(value)
            value = _strip_agency(value[: nxt.start()] if nxt else value)
            if value in _BARE_SOURCES:
                continue
            if _looks_like_agency(value):
                return value
    return None


@lru_cache(maxsize=1 << 14)
def _header_table_agency(line: str, below: str) -> str | None:
    """The publisher a header table names: a publisher label among the cells of ``line`` and the agency
    below it, in the same cell of ``below`` (a row of as many cells)."""
    labels = [_WS_RE.sub("", c) for c in line.split("|")]
    values = [c.strip() for c in below.split("|")]
    for k, label in enumerate(labels):
        if _PUBLISHER_LABEL_RE.match(label):
            value = _strip_agency(values[k])
            if _looks_like_agency(value):
                return value
    return None


def _clean_office(name: str) -> str:
    """The body an internal office or working group belongs to (某镇党政办公室, 某市人民政府信息公开工作
    领导小组办公室 -> 某镇, 某市人民政府)."""
    name = _INTERNAL_OFFICE_RE.sub("", name)
    return name + "政府" if name.endswith("人民") else name


def _signature_agency(text: str) -> str | None:
    if "日" not in text:
        return None
    for m in _SIGNATURE_AFTER_BREAK_RE.finditer("\n" + text):
        name = _clean_office(_strip_agency(m.group(1)))
        if _looks_like_agency(name):
            return name
    return None


def _after_break(pattern: re.Pattern) -> re.Pattern:
    """``(?:^|[。\n])X`` as ``[。\n]X``, to be run on the text after a "\n": the same matches in the same
    order (no X looks behind its start), but Python's engine skips to the break characters instead of
    trying every position (the ``^`` alternative defeats its first-character scan)."""
    head = re.match(r"\(\?:\^\|(\[[^\]]*\]|\\n)\)", pattern.pattern)
    assert head is not None and r"\n" in head.group(1), pattern.pattern
    return re.compile(head.group(1) + pattern.pattern[head.end():])


# (pattern, source, words every match holds: one of each group, whether it runs on "\n" + the text as
# ``_after_break`` gives it). A text without the words is not scanned: a scan costs far more.
_OPENING_PATTERNS = (
    (_COMPILED_BY_RE, "compiled_by", (("由",),), False),
    (_after_break(_COMPILES_RE), "compiled_by", (("编制",),), True),
    (_NOW_REPORTING_RE, "opening_sentence", (), False),
    (_NOW_REPORTING_YEAR_FIRST_RE, "opening_sentence", (("信息公开",),), False),
    (_after_break(_ACTS_ON_LAW_RE), "opening_sentence", (("根据", "依据", "按照", "依照", "贯彻"),), True),
    (_after_break(_FIRST_PARA_RE), "first_paragraph", (("年",),), True),
    (_after_break(_LEVEL_SUBJECT_RE), "first_paragraph", (), True),
    (_CONTACT_RE, "contact", (("请",),), False),
    (_WEBSITE_RE, "contact", (("可",), ("网",)), False),
)


_SIGNATURE_AFTER_BREAK_RE = _after_break(_SIGNATURE_RE)
# every statistics-period match holds one of these
_PERIOD_WORDS = ("统计", "计算", "所列数据", "截止", "截至")


def _exists_pattern(pattern: re.Pattern) -> str:
    """The pattern for Polars' (Rust's) engine, finding a match in exactly the texts the Python one
    does: the lookahead that ends it becomes the group it looks for (a match with the text after it
    is a match followed by that text), and \\s Python's whitespace (Rust's lacks \\x1c-\\x1f)."""
    text = pattern.pattern
    ahead = re.fullmatch(r"(.*)\(\?=([^()]*)\)", text, re.S)
    if ahead:
        text = ahead.group(1) + "(?:" + ahead.group(2) + ")"
    assert not re.search(r"\(\?[=!<]", text), pattern.pattern
    return text.replace(r"\s", _PY_SPACE_CLASS)


# A Python scan of the opening costs ten to twenty times what the same pattern costs Polars over the
# batch, and most openings hold no match of most patterns: ``metadata_frame`` finds which patterns
# match somewhere in each opening (one bit each, in ``_OPENING_PATTERNS`` order), and only those are
# scanned here for their first match that names an agency.
_OPENING_EXISTS = tuple((_exists_pattern(pattern), after_break) for pattern, _, _, after_break in _OPENING_PATTERNS)


def _opening_agency(opening: str, matching: int | None = None) -> tuple[str | None, str | None]:
    for bit, (pattern, source, needs, after_break) in enumerate(_OPENING_PATTERNS):
        if matching is not None:
            if not matching >> bit & 1:
                continue
        elif not all(any(word in opening for word in group) for group in needs):
            continue
        for m in pattern.finditer("\n" + opening if after_break else opening):
            name = _clean_office(_strip_agency(m.group(1)))
            if _looks_like_agency(name):
                return name, source
    return None, None


def _metadata(head: str, body: str, tail: str = "", preamble: bool | None = None,
              regulation: bool | None = None, opening_matches: int | None = None) -> ReportMeta:
    """Metadata from the cleaned opening lines (``head``) and the cleaned start of the text (``body``).
    ``preamble`` and ``regulation``: whether the opening holds ``_REPORT_PREAMBLE_RE`` and
    ``_REGULATION_RE``, ``opening_matches`` which of ``_OPENING_PATTERNS`` match in it, when already
    known (``metadata_frame`` reads them for the whole batch)."""
    head_lines = head.split("\n")
    # the title is looked for in the first lines only (and the line after the last of them)
    compact = [_compact(ln) for ln in head_lines[: _TITLE_LINES + 1]]
    title = _find_title(compact)
    is_notice = bool(title and title.is_notice)
    opening = body[:_OPENING_CHARS]

    candidates: list[tuple[str, str]] = []
    if title and title.agency:
        candidates.append((title.agency, "title"))
    header = _header_agency(head_lines)
    if header:
        candidates.append((header, "metadata"))
    if not is_notice:
        name, source = _opening_agency(opening, opening_matches)
        if name:
            candidates.append((name, source))
        else:
            name = _signature_agency(head) or _signature_agency(tail)
            if name:
                candidates.append((name, "signature"))
    agency_name, agency_source = _choose_agency(candidates, body)

    year, year_source = (title.year, "title") if title and title.year else (None, None)
    if year is None:
        period = _PERIOD_RE.search(body) if any(w in body for w in _PERIOD_WORDS) else None
        if period:
            year, year_source = int(next(g for g in period.groups() if g)), "statistics_period"
    if year is None:
        named = _OPENING_YEAR_RE.search(opening)
        if named:
            year, year_source = int(next(g for g in named.groups() if g)), "opening"

    published = None
    found_date = _DATE_RE.search(head)
    if found_date:
        try:
            published = date(*(int(g) for g in found_date.groups()))
        except ValueError:
            published = None
    if year is None and published is not None:
        # reports are published in the first months of the following year
        year, year_source = published.year - 1, "publication_date"
    if year is None:
        years = [int(y) for y in _YEAR_RE.findall(body)]
        if years:
            year, year_source = Counter(years).most_common(1)[0][0], "text_mode"

    kind = "notice" if is_notice else None
    if kind is None and title is None and any(_GUIDE_RE.search(c) for c in compact[:3]):
        kind = "guide"
    place = resolve_in_context(agency_name, body)
    if agency_name is None and place.admin_level == "unknown":
        # the report names itself only as 我镇 / 本乡 / 我街道: a township, wherever it is
        if re.search(r"(?:我|本)(?:镇|乡|街道|苏木)", opening):
            place = replace(place, admin_level="township")
    return ReportMeta(
        agency_name=agency_name,
        agency_name_source=agency_source,
        agency_id=place.agency_id,
        report_year=year,
        report_year_source=year_source,
        publication_date=published,
        has_report_title=title is not None and not is_notice,
        document_kind=kind,
        cites_regulation=bool(_REGULATION_RE.search(opening)) if regulation is None else regulation,
        has_report_preamble=bool(_REPORT_PREAMBLE_RE.search(opening)) if preamble is None else preamble,
        agency_canonical_name=place.canonical_name,
        province=place.province,
        city=place.city,
        county=place.county,
        admin_level=place.admin_level,
        agency_kind=place.agency_kind,
    )


_META_DTYPES = {
    "agency_name": pl.String,
    "agency_name_source": pl.String,
    "agency_id": pl.String,
    "report_year": pl.Int32,
    "report_year_source": pl.String,
    "publication_date": pl.Date,
    "has_report_title": pl.Boolean,
    "document_kind": pl.String,
    "cites_regulation": pl.Boolean,
    "has_report_preamble": pl.Boolean,
    "agency_canonical_name": pl.String,
    "province": pl.String,
    "city": pl.String,
    "county": pl.String,
    "admin_level": pl.String,
    "agency_kind": pl.String,
}
# metadata_frame's columns: every ReportMeta field, in its order
_META_SCHEMA = {f.name: _META_DTYPES[f.name] for f in fields(ReportMeta)}


def _with_printed_place(name: str, body: str) -> str:
    """市教育局 -> 铜仁市教育局 when the document prints that form (市政府办公厅 -> 青岛市人民政府办公厅)."""
    from ingest.agency import gazetteer

    level, rest = name[0], name[1:]
    if level not in "市县区" or len(rest) < 2:
        return name
    rests = [rest] + (["人民" + rest] if rest.startswith("政府") else [])
    names = gazetteer()[1]
    for form in rests:
        for m in re.finditer(r"([\u4e00-\u9fff]{1,8}" + level + r")" + re.escape(form) + r"(?![公室])", body[:_BODY_CHARS]):
            prefix = m.group(1)
            for k in range(len(prefix), 1, -1):
                if prefix[-k:] in names:
                    return prefix[-k:] + form
    return name


def _choose_agency(candidates: list[tuple[str, str]], body: str) -> tuple[str | None, str | None]:
    """The title's name, unless a longer name elsewhere ends with it (教育局 -> 温县教育局)."""
    candidates = [(_with_printed_place(n, body), s) for n, s in candidates if len(n) >= 2]
    if not candidates:
        return None, None
    best_name, best_source = candidates[0]
    for name, _source in candidates[1:]:
        if name != best_name and name.endswith(best_name) and len(name) <= 30:
            return name, best_source
    # a name without a place (局机关, 本局) loses to one the gazetteer places with the same department
    from ingest.agency import resolve_agency

    best = resolve_agency(best_name)
    if best.province is None:
        for name, source in candidates[1:]:
            other = resolve_agency(name)
            if (other.province is not None and other.department not in (None, "人民政府", "政府")
                    and best_name.endswith(other.department)):
                return name, source
    return best_name, best_source


# Section headings only the legacy (pre-2019) layout uses, and headings only the 2019 form uses:
# "demonstrably legacy" is what tells a 2019-2020 report in the old layout (seed 000) from one in the
# new form whose tables are cut off.
_LEGACY_HEADING_RE = (
    r"(^概\s*述$|政府信息主动公开情况|依申请公开|政府信息公开申请和处理情况|咨询处理|收费及减免|支出和收费|复议、诉讼和申诉)"
)
_V2019_HEADING_RE = r"(收到和处理政府信息公开申请|政府信息公开行政复议)"
_HEADING_MAX_CHARS = 36
_NUMBERING = r"^(?:#+\s*|\*\*)?[一二三四五六七八九十]+\s*[、.．]"


def layout_markers(lines: pl.DataFrame) -> pl.DataFrame:
    """lines(doc_id, text) -> doc_id, legacy_headings, v2019_form_headings: how many distinct section
    headings of each layout the document prints (short lines without sentence punctuation)."""
    headings = lines.select("doc_id", pl.col("text").str.strip_chars()).filter(
        (pl.col("text").str.len_chars() <= _HEADING_MAX_CHARS) & ~pl.col("text").str.contains(r"[。，,；;]")
    )
    # a legacy heading is a top-level one (一、概述): (二)依申请公开 is a sub-heading of the 2019 form too.
    # The patterns run on the lines as one column, the top-level ones only for the legacy headings (in
    # the aggregation they would run group by group), and the groups only count what they found.
    text = headings["text"]
    top_level = text.str.contains(_NUMBERING).arg_true()
    legacy = pl.repeat(None, len(text), dtype=pl.String, eager=True).scatter(
        top_level,
        text.gather(top_level).str.replace(_NUMBERING, "").str.strip_chars(" *#\u3000")
        .str.extract(_LEGACY_HEADING_RE, 1).str.replace_all(r"\s", ""),
    )
    return headings.select(
        "doc_id", legacy.alias("legacy"), text.str.extract(_V2019_HEADING_RE, 1).alias("v2019")
    ).group_by("doc_id").agg(
        pl.col("legacy").drop_nulls().n_unique().cast(pl.Int32).alias("legacy_headings"),
        pl.col("v2019").drop_nulls().n_unique().cast(pl.Int32).alias("v2019_form_headings"),
    )
