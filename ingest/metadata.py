"""Who wrote a report and which year it covers: agency name as printed, statistics year, dates.

Runs once per document on its opening lines (not per cell), so plain Python regexes are fine here.
For a batch, ``metadata_frame`` builds the text the regexes read (the cleaned opening lines and the
start of the body; Unicode normalisation is most of the cost) with Polars over all documents at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields
from datetime import date

import polars as pl

from ingest.agency import resolve_agency
from ingest.values import PY_WHITESPACE

_ORG_SUFFIX = (
    r"(?:委员会|办公室|办公厅|人民政府|街道办事处|管理委员会|事务中心|服务中心|中心|研究院|考试院|"
    r"局|厅|委|办|院|署|所|站|馆|处|队|会|部|镇|乡|街道)"
)
_TITLE_RE = re.compile(
    r"(?P<agency>[^\n:：。，,]{0,40}?)\s*(?:关于)?\s*(?P<year>(?:19|20)\d{2})\s*年\s*度?\s*(?:的)?\s*"
    r"政\s*府\s*信\s*息\s*公\s*开\s*(?:工\s*作)?\s*\n?\s*(?:年\s*度)?\s*报\s*告"
)
_META_PREFIX = r"^(?:信息名称|标\s*题|文章标题|名\s*称)\s*[:：]\s*"
_META_PREFIX_RE = re.compile(_META_PREFIX)
_PUBLISHER_RE = re.compile(r"(?:发文机构|发布机构|发文单位|来源|信息来源)\s*[:：]\s*([^\s:：|｜]{2,40})")
_COMPILED_BY_RE = re.compile(r"由\s*([\u4e00-\u9fff（）()]{2,40}?" + _ORG_SUFFIX + r")\s*(?:负责)?(?:编制|编写|制作)")
_FIRST_PARA_RE = re.compile(
    r"(?:19|20)\d{2}\s*年(?:度)?\s*[，,]\s*(?:我|本)?([\u4e00-\u9fff]{2,30}?" + _ORG_SUFFIX + r")"
)
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
_DATE_RE = re.compile(
    r"(?:发文时间|发布时间|发布日期|成文日期|时间|日期)\s*[:：]\s*((?:19|20)\d{2})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})"
)
_HEAD_LINES = 40
_BODY_CHARS = 6000

# \s of the Python regexes as a class for the vectorised ones (see PY_WHITESPACE)
_PY_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"


@dataclass(frozen=True)
class ReportMeta:
    agency_name: str | None
    agency_name_source: str | None
    agency_id: str | None
    report_year: int | None
    report_year_source: str | None
    publication_date: date | None
    has_report_title: bool


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _strip_agency(name: str) -> str:
    name = re.sub(r"[#*\s]+", "", name)
    name = _META_PREFIX_RE.sub("", name)
    return name.strip("《》“”\"'·-—:：")


def agency_key(name: str | None) -> str | None:
    """Stable key of an agency across years: gazetteer place path + department (see ingest.agency);
    the normalised printed name, hashed, when the place cannot be resolved."""
    if not name:
        return None
    return resolve_agency(name).agency_id


def extract_metadata(text: str) -> ReportMeta:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    head = "\n".join(_META_PREFIX_RE.sub("", _clean(ln)).lstrip("# ") for ln in lines[:_HEAD_LINES])
    return _metadata(head, _clean(text[:_BODY_CHARS]))


def metadata_frame(texts: pl.DataFrame) -> pl.DataFrame:
    """texts(doc_id, text) -> doc_id and the ``ReportMeta`` fields, one row per document: the same as
    ``extract_metadata`` on each text, with the head and body built over the whole batch."""
    texts = texts.select("doc_id", pl.col("text").fill_null(""))
    heads = (
        texts.select("doc_id", pl.col("text").str.split("\n").alias("line"))
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
    parts = texts.select("doc_id", _clean_expr(pl.col("text").str.slice(0, _BODY_CHARS)).alias("body")).join(
        heads, on="doc_id", how="left", maintain_order="left"
    )
    rows = []
    for doc_id, body, head in parts.iter_rows():
        meta = _metadata(head or "", body)
        rows.append((doc_id, *(getattr(meta, name) for name in _META_SCHEMA)))
    schema = {"doc_id": texts.schema["doc_id"], **_META_SCHEMA}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _clean_expr(text: pl.Expr) -> pl.Expr:
    return text.str.normalize("NFKC").str.replace_all("\u3000", " ", literal=True)


def _metadata(head: str, body: str) -> ReportMeta:
    """Metadata from the cleaned opening lines (``head``) and the cleaned start of the text (``body``)."""
    title = _TITLE_RE.search(head)
    title_agency = _strip_agency(title.group("agency")) if title else ""
    title_year = int(title.group("year")) if title else None

    candidates: list[tuple[str, str]] = []
    if title_agency and re.search(_ORG_SUFFIX + r"$", title_agency):
        candidates.append((title_agency, "title"))
    for publisher in _PUBLISHER_RE.finditer(head):
        name = _strip_agency(publisher.group(1))
        if re.search(_ORG_SUFFIX + r"$", name) and name not in ("本单位", "本网", "本站"):
            candidates.append((name, "metadata"))
            break
    compiled = _COMPILED_BY_RE.search(body)
    if compiled:
        candidates.append((_strip_agency(compiled.group(1)), "compiled_by"))
    first_para = _FIRST_PARA_RE.search(body)
    if first_para:
        candidates.append((_strip_agency(first_para.group(1)), "first_paragraph"))

    agency_name, agency_source = _choose_agency(candidates)

    year, year_source = title_year, "title" if title_year else None
    if year is None:
        years = [int(y) for y in _YEAR_RE.findall(body)]
        if years:
            year, year_source = Counter(years).most_common(1)[0][0], "text_mode"

    published = None
    found_date = _DATE_RE.search(head)
    if found_date:
        try:
            published = date(*(int(g) for g in found_date.groups()))
        except ValueError:
            published = None
    return ReportMeta(
        agency_name=agency_name,
        agency_name_source=agency_source,
        agency_id=agency_key(agency_name),
        report_year=year,
        report_year_source=year_source,
        publication_date=published,
        has_report_title=title is not None,
    )


_META_DTYPES = {
    "agency_name": pl.String,
    "agency_name_source": pl.String,
    "agency_id": pl.String,
    "report_year": pl.Int32,
    "report_year_source": pl.String,
    "publication_date": pl.Date,
    "has_report_title": pl.Boolean,
}
# metadata_frame's columns: every ReportMeta field, in its order
_META_SCHEMA = {f.name: _META_DTYPES[f.name] for f in fields(ReportMeta)}


def _choose_agency(candidates: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The title's name, unless a longer name elsewhere ends with it (教育局 -> 温县教育局)."""
    candidates = [(n, s) for n, s in candidates if len(n) >= 2]
    if not candidates:
        return None, None
    best_name, best_source = candidates[0]
    for name, _source in candidates[1:]:
        if name != best_name and name.endswith(best_name) and len(name) <= 30:
            return name, best_source
    # a name without a place (局机关, 本局) loses to one the gazetteer places with the same department
    best = resolve_agency(best_name)
    if best.province is None:
        for name, source in candidates[1:]:
            other = resolve_agency(name)
            if other.province is not None and other.department and best_name.endswith(other.department):
                return name, source
    return best_name, best_source
