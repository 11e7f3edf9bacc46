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
    r"^[\u4e00-\u9fff]{1,8}?(?<!城)(?:镇|乡|街道)(?:人民政府|政府|办事处|便民服务中心|党政办公室|$)"
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
