"""Who an agency is: place (province / city / county), administrative level, kind, and a stable id.

Places come from a maintained gazetteer: the official administrative-division code list shipped with
the ``cpca`` package (``cpca/resources/adcodes.csv``: 12-digit codes with full names such as 河南省,
焦作市, 温县). Only that data file is read (its matcher, which needs pandas, is not imported); the
hierarchy follows from the code (province = first 2 digits, city = 4, county = 6).

An agency name is read from its start: a chain of place names (full names, or the short names of
provinces and cities such as 广东 / 柳州), each consistent with the one before, then the department
(教育局). The agency id hashes the canonical place path plus the department, so 温县教育局,
焦作市温县教育局 and 河南省焦作市温县教育局 are the same agency in every year. Names whose place
cannot be resolved keep the old key (the normalised printed name).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_NOT_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "直辖县级行政区划"}
_PROVINCE_SUFFIX_RE = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
_CITY_SUFFIX_RE = re.compile(r"市$")
_TOWNSHIP_RE = re.compile(
    r"^[\u4e00-\u9fff]{1,8}?(?:镇|(?<!城)乡|街道|苏木)(?:人民政府|政府|办事处|便民服务中心|党政办公室|$)"
)
_CENTRAL_RE = re.compile(r"^(?:国务院|中华人民共和国|国家|中国|中央)|^[\u4e00-\u9fff]{1,6}部$")
_INSTITUTION_RE = re.compile(r"(?:院|中心|研究所|所|站|馆|学校|大学|学院|医院|公司|台|社)$")
_LEVEL_WORD_RE = re.compile(r"^(?:省|市|县|区|自治区|自治州|旗)(?=[\u4e00-\u9fff]{2,})")


@dataclass(frozen=True)
class Place:
    code: str  # 6-digit division code
    name: str
    level: str  # province | city | county


@dataclass(frozen=True)
class AgencyInfo:
    agency_id: str | None
    canonical_name: str | None  # canonical place path + department, e.g. 河南省焦作市温县教育局
    department: str | None
    province: str | None
    city: str | None
    county: str | None
    admin_level: str  # central | province | city | county | township | unknown
    agency_kind: str | None  # government | department | institution | township


def _adcodes_path() -> Path:
    spec = importlib.util.find_spec("cpca")  # locates the package without importing it (no pandas)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package (gazetteer of administrative divisions) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@cache
def gazetteer() -> tuple[dict[str, Place], dict[str, tuple[Place, ...]]]:
    """(code -> Place, name or short name -> candidate places)."""
    by_code: dict[str, Place] = {}
    with open(_adcodes_path(), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"][:6], row["name"].strip()
            if name in _NOT_PLACES or not name:
                continue
            level = "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"
            by_code[code] = Place(code, name, level)
    names: dict[str, list[Place]] = {}
    for p in by_code.values():
        names.setdefault(p.name, []).append(p)
        short = None
        if p.level == "province":
            short = _PROVINCE_SUFFIX_RE.sub("", p.name)
        elif p.level == "city" and p.name.endswith("市"):
            short = _CITY_SUFFIX_RE.sub("", p.name)
        if short and len(short) >= 2 and short != p.name:
            names.setdefault(short, []).append(p)
    return by_code, {k: tuple(v) for k, v in names.items()}


def _consistent(p: Place, chain: list[Place]) -> bool:
    if not chain:
        return True
    last = chain[-1]
    if p.level == last.level or _rank(p.level) <= _rank(last.level):
        return False
    prefix = last.code[:2] if last.level == "province" else last.code[:4]
    return p.code.startswith(prefix)


def _rank(level: str) -> int:
    return {"province": 0, "city": 1, "county": 2}[level]


def _norm(name: str) -> str:
    name = unicodedata.normalize("NFKC", name)
    return re.sub(r"[\s#*《》“”\"'·]+", "", name)


def _legacy_key(name: str) -> str:
    return "ag_" + hashlib.sha1(_norm(name).encode("utf-8")).hexdigest()[:16]


@cache
def resolve_agency(name: str | None) -> AgencyInfo:
    """Place, level, kind and stable id of an agency name as printed (cached per name)."""
    if not name or not _norm(name):
        return AgencyInfo(None, None, None, None, None, None, "unknown", None)
    text = _norm(name)
    by_code, names = gazetteer()
    chain: list[Place] = []
    ambiguous: tuple[Place, ...] = ()
    i = 0
    while i < len(text):
        matched = False
        for length in range(min(12, len(text) - i), 1, -1):
            cands = [p for p in names.get(text[i : i + length], ()) if _consistent(p, chain)]
            if not cands:
                continue
            if len(cands) > 1:
                # the same name at several places (新华区): keep what they share, place no county
                ambiguous = tuple(cands)
                i += length
                matched = True
                break
            chain.append(cands[0])
            i += length
            matched = True
            break
        if not matched or ambiguous:
            break
    department = text[i:]
    # a bare level word left over (柳州市 + 市教育局 never happens, but 省 + 教育厅 after a short name does)
    department = _LEVEL_WORD_RE.sub("", department) if chain else department

    province = city = county = None
    if ambiguous:
        provinces = {p.code[:2] for p in ambiguous}
        if len(provinces) == 1 and not chain:
            chain = (
                [by_code[next(iter(provinces)) + "0000"]] if next(iter(provinces)) + "0000" in by_code else []
            )
    for p in chain:
        if p.level == "province":
            province = p.name
        elif p.level == "city":
            city = p.name
        else:
            county = p.name
    if chain:
        top = chain[-1]
        province = province or by_code.get(top.code[:2] + "0000", Place("", None, "")).name  # type: ignore[arg-type]
        if top.level == "county" and city is None:
            parent = by_code.get(top.code[:4] + "00")
            city = parent.name if parent else None
    level = chain[-1].level if chain else ("central" if _CENTRAL_RE.search(text) else "unknown")
    if ambiguous:
        level = "unknown"
    township = _TOWNSHIP_RE.match(department) if department else None
    if township and chain:
        level = "township"
    if level == "township" or (township and not chain):
        kind = "township"
    elif "人民政府" in department or department in ("政府",):
        kind = "government"
    elif _INSTITUTION_RE.search(department or text):
        kind = "institution"
    elif department or text:
        kind = "department"
    else:
        kind = None
    if chain and department and not ambiguous:
        canonical = "".join(p.name for p in _full_chain(chain, by_code)) + department
        agency_id = (
            "ag_"
            + hashlib.sha1(
                ("|".join(p.code for p in _full_chain(chain, by_code)) + "|" + department).encode("utf-8")
            ).hexdigest()[:16]
        )
    else:
        canonical, agency_id = text, _legacy_key(text)
    return AgencyInfo(agency_id, canonical, department or None, province, city, county, level, kind)


def _full_chain(chain: list[Place], by_code: dict[str, Place]) -> list[Place]:
    """Province, city and county of the deepest place, whichever of them the name printed."""
    top = chain[-1]
    out = []
    for code in {top.code[:2] + "0000", top.code[:4] + "00", top.code}:
        if code in by_code:
            out.append(by_code[code])
    return sorted(out, key=lambda p: _rank(p.level))


# ------------------------------------------------------------------------------------------------
# Places printed in the document: what fixes the province of a name the gazetteer cannot place alone
# ------------------------------------------------------------------------------------------------

_TOWNSHIP_NAME_RE = re.compile(
    r"^[\u4e00-\u9fff]{1,10}?(?:镇|(?<!城)乡|街道|苏木)(?:人民政府|政府|办事处|便民服务中心|党政办公室|党政办|$)"
    r"|^[\u4e00-\u9fff]{2,6}街$"
)
# the level a name states by its own form when no place in it is known (区统计局, 县政府办, 市教育局)
_LEVEL_FORMS = (
    (re.compile(r"^(?:省|自治区|[\u4e00-\u9fff]{2,8}?(?:省|自治区)(?!内))"), "province"),
    (re.compile(r"^(?:市|[\u4e00-\u9fff]{1,8}?(?:自治州|地区|盟))"), "city"),
    (re.compile(r"^(?:区|县|旗)|^[\u4e00-\u9fff]{1,8}?(?:区|县|旗)(?:人民政府|政府|$|[\u4e00-\u9fff]{0,8}(?:局|委|办|办公室|中心)$)"),
     "county"),
    (re.compile(r"^[\u4e00-\u9fff]{2,4}?市(?:人民政府|政府|$|[\u4e00-\u9fff]{0,8}(?:局|委|办|办公室|厅|中心)$)"), "city"),
)
_SCAN_CHARS = 4000


@cache
def _text_place_index() -> dict[str, tuple[Place, ...]]:
    """Names worth finding in running text: full names of three characters or more, and the short
    names of provinces (浙江, 内蒙古); two-character county names (兴县) are too often parts of words."""
    by_code, names = gazetteer()
    out: dict[str, tuple[Place, ...]] = {}
    for name, places in names.items():
        full = [p for p in places if p.name == name]
        if full and len(name) >= 3:
            out[name] = tuple(full)
        elif not full and all(p.level == "province" for p in places):
            out[name] = tuple(places)
    return out


@cache
def _name_starts() -> frozenset[str]:
    """First two characters of every name ``places_in_text`` looks for: most positions are skipped on these."""
    return frozenset(name[:2] for name in _text_place_index())


def places_in_text(text: str) -> list[tuple[int, str, tuple[Place, ...]]]:
    """(offset, name, candidate places) of every gazetteer name printed in the first part of ``text``.
    A longest-match scan with dictionary look-ups: linear in the text, whatever it holds."""
    index = _text_place_index()
    starts = _name_starts()
    text = text[:_SCAN_CHARS]
    found = []
    i, n = 0, len(text)
    while i < n:
        if text[i : i + 2] not in starts:
            i += 1
            continue
        for length in range(min(12, n - i), 1, -1):
            places = index.get(text[i : i + length])
            if places:
                found.append((i, text[i : i + length], places))
                i += length
                break
        else:
            i += 1
    return found


def _province_votes(mentions: list[tuple[int, str, tuple[Place, ...]]]) -> dict[str, int]:
    votes: dict[str, int] = {}
    for _, _, places in mentions:
        provinces = {p.code[:2] for p in places}
        if len(provinces) == 1:
            code = next(iter(provinces))
            votes[code] = votes.get(code, 0) + 1
    return votes


def level_of_form(name: str) -> str:
    """Admin level a name states by its form alone (镇/乡/街道 township; 区/县 county; 市 city; 省 province)."""
    text = _norm(name)
    if _TOWNSHIP_NAME_RE.match(text):
        return "township"
    if _CENTRAL_RE.search(text):
        return "central"
    for pattern, level in _LEVEL_FORMS:
        if pattern.search(text):
            return level
    return "unknown"


# special zones (综合实验区, 特别合作区, 新区 …): one level below the place their name starts with; a
# zone whose name starts with no city answers to the province (平潭综合实验区: city level)
_ZONE_RE = re.compile(r"(?:综合实验区|综合试验区|特别合作区|合作区|实验区|试验区|新区|开发区|高新区)(?:管理委员会|管委会)?$")


def resolve_in_context(name: str | None, text: str) -> AgencyInfo:
    """``_resolve_in_context`` with the level of special zones."""
    info = _resolve_in_context(name, text)
    if name and _ZONE_RE.search(_norm(name)) and info.county is None:
        if info.city:
            return _with(info, admin_level="county")
        if re.search(r"综合(?:实验|试验)区(?:管理委员会|管委会)?$", _norm(name)):
            return _with(info, admin_level="city")
    return info


def _resolve_in_context(name: str | None, text: str) -> AgencyInfo:
    """``resolve_agency`` with the places the document prints: a name whose place is ambiguous (城中区)
    or absent (金厂镇人民政府, 区统计局) takes the place printed before it in the text (通化市东昌区金厂镇)
    or, failing that, the province every other printed place agrees on. Nothing printed: NULL province."""
    info = resolve_agency(name)
    if not name:
        # no agency read: the province every printed place agrees on is still the document's
        votes = _province_votes(places_in_text(text))
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return _with(info, province=gazetteer()[0][ranked[0][0] + "0000"].name)
        return info
    if info.department and _TOWNSHIP_NAME_RE.match(info.department) is None and re.match(r"(?:乡|镇|街道|苏木)", info.department):
        # the place "found" was the first part of a township's own name (朝阳 + 乡): no place known
        info = _with(info, province=None, city=None, county=None, admin_level="unknown",
                     canonical_name=_norm(name), agency_id=_legacy_key(name))
    form_level = level_of_form(info.department or name) if info.department else level_of_form(name)
    if form_level != "township" and level_of_form(name) == "township":
        form_level = "township"
    if info.province is not None and info.admin_level != "unknown":
        if form_level == "township" and info.admin_level != "township":
            return _with(info, admin_level="township", agency_kind="township")
        return info
    mentions = places_in_text(text)
    core = _norm(name)
    # the name printed after a place (东昌区金厂镇, 西宁市城中区人民政府): that place, most specific first
    for offset, place_name, _places in sorted(mentions, key=lambda m: -_rank(m[2][0].level)):
        if text[offset + len(place_name) : offset + len(place_name) + len(core)] == core or (
            len(core) > 3 and text[offset + len(place_name) :].startswith(core[:3])
        ):
            candidate = resolve_agency(place_name + core)
            if candidate.province is not None and candidate.admin_level != "unknown":
                return candidate
    votes = _province_votes(mentions)
    if info.province is None and votes:
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            by_code, _ = gazetteer()
            province = by_code[ranked[0][0] + "0000"].name
            level = info.admin_level if info.admin_level != "unknown" else form_level
            # a name that starts with a bare level word (区统计局) is not the province's own body
            if not _LEVEL_WORD_RE.match(core) and not core.startswith(("省", "市", "区", "县")):
                candidate = resolve_agency(province + core)
                if candidate.province == province:
                    return _with(candidate, admin_level=level if level != "unknown" else candidate.admin_level)
            return _with(info, province=province, admin_level=level)
    if info.admin_level == "unknown" and form_level != "unknown":
        return _with(info, admin_level=form_level)
    return info


def _with(info: AgencyInfo, **changes) -> AgencyInfo:
    from dataclasses import replace

    return replace(info, **changes)
