"""Made-up agencies on real places: a small hand-made list, and the whole country on demand.

Each place tuple is (province, city, county-level units, telephone area code).  Agencies are a place
(at province, city or county level) plus a department suffix; the province level uses the 厅 forms
(the four municipalities use their 局 forms).

``PLACES`` is the small hand-made list that ``random_agency`` draws from (tests and sample data rely
on its draws).  ``national_places()`` is every mainland place of the gazetteer the parser itself uses
(``ingest.agency``), restricted to names the parser maps back to the same province / city / county
when a report prints only the agency name; ``UniqueAgencyYears`` draws from it when a corpus would
otherwise repeat an (agency, report year) pair.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from functools import cache

# (province, city or None, county-level units, area code).  City is None for the districts of a
# municipality and for the county-level units a province governs directly (济源市, 仙桃市, 石河子市).
Place = tuple[str, str | None, tuple[str, ...], str]

# (province, city, [county-level units], area code of the city)
PLACES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("河南省", "焦作市", ("温县", "武陟县", "博爱县", "修武县"), "0391"),
    ("河南省", "洛阳市", ("栾川县", "嵩县", "宜阳县"), "0379"),
    ("湖南省", "岳阳市", ("华容县", "平江县", "湘阴县"), "0730"),
    ("湖南省", "常德市", ("桃源县", "石门县"), "0736"),
    ("广西壮族自治区", "柳州市", ("柳城县", "融安县", "鹿寨县"), "0772"),
    ("甘肃省", "定西市", ("陇西县", "渭源县", "通渭县"), "0932"),
    ("甘肃省", "天水市", ("秦安县", "甘谷县"), "0938"),
    ("广东省", "湛江市", ("徐闻县", "遂溪县"), "0759"),
    ("湖北省", "宜昌市", ("秭归县", "远安县", "兴山县"), "0717"),
    ("四川省", "绵阳市", ("三台县", "盐亭县", "梓潼县"), "0816"),
    ("山东省", "威海市", ("文登区", "荣成市"), "0631"),
    ("吉林省", "长春市", ("农安县", "二道区"), "0431"),
    ("陕西省", "宝鸡市", ("眉县", "岐山县", "扶风县"), "0917"),
    ("浙江省", "湖州市", ("安吉县", "德清县", "长兴县"), "0572"),
    ("江西省", "赣州市", ("信丰县", "安远县"), "0797"),
)

# Short province names used in ICP numbers of web-page footers.
PROVINCE_ABBR = {
    "河南省": "豫",
    "湖南省": "湘",
    "广西壮族自治区": "桂",
    "甘肃省": "陇",
    "广东省": "粤",
    "湖北省": "鄂",
    "四川省": "蜀",
    "山东省": "鲁",
    "吉林省": "吉",
    "陕西省": "陕",
    "浙江省": "浙",
    "江西省": "赣",
    "北京市": "京",
    "天津市": "津",
    "河北省": "冀",
    "山西省": "晋",
    "内蒙古自治区": "蒙",
    "辽宁省": "辽",
    "黑龙江省": "黑",
    "上海市": "沪",
    "江苏省": "苏",
    "安徽省": "皖",
    "福建省": "闽",
    "海南省": "琼",
    "重庆市": "渝",
    "贵州省": "黔",
    "云南省": "滇",
    "西藏自治区": "藏",
    "青海省": "青",
    "宁夏回族自治区": "宁",
    "新疆维吾尔自治区": "新",
}

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_MUNICIPAL_AREA_CODES = {"北京市": "010", "天津市": "022", "上海市": "021", "重庆市": "023"}
# 台湾, 香港, 澳门 publish no reports under the mainland regulation
_NOT_MAINLAND = ("71", "81", "82")

# (key, county/city-level suffix, province-level suffix, topic word, regulatory intensity 0..1)
Department = tuple[str, str, str, str, float]
DEPARTMENTS: tuple[Department, ...] = (
    ("edu", "教育局", "教育厅", "教育", 0.4),
    ("fin", "财政局", "财政厅", "财政", 0.2),
    ("health", "卫生健康委员会", "卫生健康委员会", "卫生健康", 0.7),
    ("gov", "人民政府办公室", "人民政府办公厅", "政务", 0.1),
    ("land", "自然资源局", "自然资源厅", "自然资源", 0.8),
    ("market", "市场监督管理局", "市场监督管理局", "市场监管", 1.0),
    ("transport", "交通运输局", "交通运输厅", "交通运输", 0.8),
    ("civil", "民政局", "民政厅", "民政", 0.3),
    ("hr", "人力资源和社会保障局", "人力资源和社会保障厅", "人力资源和社会保障", 0.5),
    ("housing", "住房和城乡建设局", "住房和城乡建设厅", "住房和城乡建设", 0.8),
    ("agri", "农业农村局", "农业农村厅", "农业农村", 0.6),
    ("audit", "审计局", "审计厅", "审计", 0.05),
    ("stats", "统计局", "统计局", "统计", 0.1),
    ("water", "水利局", "水利厅", "水利", 0.6),
    ("justice", "司法局", "司法厅", "司法行政", 0.3),
    ("emergency", "应急管理局", "应急管理厅", "应急管理", 0.7),
    ("culture", "文化广电和旅游局", "文化和旅游厅", "文化旅游", 0.5),
    ("medical", "医疗保障局", "医疗保障局", "医疗保障", 0.3),
    ("petition", "信访局", "信访局", "信访", 0.0),
)

ADMIN_LEVELS = ("province", "city", "county")


@dataclass(frozen=True)
class Agency:
    name: str  # as printed in the title, e.g. 温县教育局
    province: str
    city: str | None
    county: str | None
    admin_level: str  # province | city | county
    dept_key: str
    dept_suffix: str
    topic: str
    intensity: float  # how much licensing/penalty work the department does
    area_code: str

    @property
    def place(self) -> str:
        return self.county or self.city or self.province

    @property
    def self_ref(self) -> str:
        """How the report refers to itself: 我局 / 我厅 / 我委 / 我办."""
        s = self.dept_suffix
        if s.endswith("委员会"):
            return "我委"
        if s.endswith(("办公室", "办公厅")):
            return "我办"
        return "我" + s[-1]

    @property
    def short(self) -> str:
        """Level word plus department, e.g. 县教育局 / 市财政局 / 省教育厅 / 区卫生健康委员会."""
        if self.admin_level == "province":
            if self.province in MUNICIPALITIES:
                lvl = "市"
            else:
                lvl = "自治区" if self.province.endswith("自治区") else "省"
        elif self.admin_level == "city":
            lvl = next((w for w in ("地区", "盟", "州") if self.city and self.city.endswith(w)), "市")
        else:
            lvl = self.county[-1] if self.county else "县"  # 县 / 区 / 市 (county-level city)
        return lvl + self.dept_suffix

    @property
    def has_rulemaking_power(self) -> bool:
        # only provincial governments and cities with legislative power issue 规章; we model the
        # government general offices at province/city level as the only ones that may print some.
        return self.dept_key == "gov" and self.admin_level in ("province", "city")

    def to_truth(self) -> dict:
        return {
            "agency_name": self.name,
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "admin_level": self.admin_level,
        }


def make_agency(
    province: str, city: str | None, county: str | None, dept_key: str, area_code: str | None = None
) -> Agency:
    """The agency of ``dept_key`` at the deepest of the given places.  The area code, when not given,
    comes from the hand-made list, then from the national one."""
    if area_code is None and not (county and city is None):
        area_code = next((p[3] for p in PLACES if p[0] == province and (city is None or p[1] == city)), None)
    if area_code is None:
        area_code = _national_area_codes().get((province, city, county), "0000")
    return _agency(province, city, county, next(d for d in DEPARTMENTS if d[0] == dept_key), area_code)


def _agency(province: str, city: str | None, county: str | None, dept: Department, area_code: str) -> Agency:
    if county:
        level, place, suffix = "county", county, dept[1]
    elif city:
        level, place, suffix = "city", city, dept[1]
    elif province in MUNICIPALITIES:
        # a municipality's departments are 局 (北京市教育局); its government office is 办公厅
        level, place, suffix = "province", province, dept[2] if dept[0] == "gov" else dept[1]
    else:
        level, place, suffix = "province", province, dept[2]
    return Agency(
        name=place + suffix,
        province=province,
        city=city,
        county=county,
        admin_level=level,
        dept_key=dept[0],
        dept_suffix=suffix,
        topic=dept[3],
        intensity=dept[4],
        area_code=area_code,
    )


def random_agency(rng: random.Random, level: str | None = None) -> Agency:
    """An agency from the hand-made ``PLACES`` (draw order kept stable: existing seeds depend on it)."""
    province, city, counties, _ = rng.choice(PLACES)
    level = level or rng.choices(ADMIN_LEVELS, weights=(2, 4, 5))[0]
    dept_key = rng.choice(DEPARTMENTS)[0]
    if level == "province":
        return make_agency(province, None, None, dept_key)
    if level == "city":
        return make_agency(province, city, None, dept_key)
    return make_agency(province, city, rng.choice(counties), dept_key)


def random_national_agency(rng: random.Random, level: str | None = None) -> Agency:
    """An agency anywhere in mainland China (``national_places()``).  A place without a city level
    (municipal districts, directly governed county-level units) gives county agencies for a city
    draw; a city without usable county-level units gives city agencies for a county draw."""
    province, city, counties, area_code = rng.choice(national_places())
    level = level or rng.choices(ADMIN_LEVELS, weights=(2, 4, 5))[0]
    dept = rng.choice(DEPARTMENTS)
    if level == "city" and city is None:
        level = "county"
    elif level == "county" and not counties:
        level = "city"
    if level == "province":
        return _agency(province, None, None, dept, area_code)
    if level == "city":
        return _agency(province, city, None, dept, area_code)
    return _agency(province, city, rng.choice(counties), dept, area_code)


# ------------------------------------------------------------------------------------------------
# the national list
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalGazetteer:
    places: tuple[Place, ...]
    # names left out because the parser would place them elsewhere or nowhere (朝阳区 is in Beijing
    # and in Changchun; a few long autonomous-county names are longer than its name matcher reads)
    excluded: tuple[tuple[str, str | None, str], ...]  # (province, city, county-level name)

    @property
    def county_units(self) -> int:
        return sum(len(p[2]) for p in self.places)


def national_places() -> tuple[Place, ...]:
    """Every usable mainland place, built on first use from the parser's gazetteer (cached)."""
    return national_gazetteer().places


@cache
def national_gazetteer() -> NationalGazetteer:
    from ingest.agency import gazetteer, resolve_agency

    # uncached: checking ~60,000 names here must not fill the parser's per-name cache
    resolve = getattr(resolve_agency, "__wrapped__", resolve_agency)
    by_code, _ = gazetteer()
    provinces = {
        code[:2]: p.name
        for code, p in by_code.items()
        if p.level == "province" and code[:2] not in _NOT_MAINLAND
    }
    hand_made_area = {(p[0], p[1]): p[3] for p in PLACES}

    def parses_back(province: str, city: str | None, county: str | None) -> bool:
        for dept in DEPARTMENTS:
            a = _agency(province, city, county, dept, "")
            got = resolve(a.name)
            if (got.province, got.city, got.county, got.admin_level) != (
                a.province, a.city, a.county, a.admin_level
            ):
                return False
        return True

    places: list[Place] = []
    excluded: list[tuple[str, str | None, str]] = []
    for prov_code, province in sorted(provinces.items()):
        if not parses_back(province, None, None):
            continue
        units = sorted((c, p) for c, p in by_code.items() if c[:2] == prov_code and p.level != "province")
        cities = {c[:4]: p for c, p in units if p.level == "city"}
        counties_of: dict[str, list[str]] = {}
        for code, p in units:
            if p.level != "county":
                continue
            city = cities.get(code[:4])
            if parses_back(province, city.name if city else None, p.name):
                counties_of.setdefault(code[:4] if city else code, []).append(p.name)
            else:
                excluded.append((province, city.name if city else None, p.name))
        if province in MUNICIPALITIES:
            districts = tuple(n for key in sorted(counties_of) for n in counties_of[key])
            places.append((province, None, districts, _MUNICIPAL_AREA_CODES[province]))
            continue
        for key, p in sorted(cities.items()):
            if parses_back(province, p.name, None):
                area = hand_made_area.get((province, p.name)) or _synthetic_area_code(p.code)
                places.append((province, p.name, tuple(counties_of.get(key, ())), area))
        for key, names in sorted(counties_of.items()):
            if len(key) == 6:  # a county-level unit the province governs directly
                places.append((province, None, tuple(names), _synthetic_area_code(key)))
    return NationalGazetteer(tuple(places), tuple(excluded))


def _synthetic_area_code(division_code: str) -> str:
    """A plausible 4-digit telephone area code (0300-0999), fixed per division; printed only in
    contact lines, so it need not be the real one."""
    return f"0{300 + zlib.crc32(division_code.encode()) % 700}"


@cache
def _national_area_codes() -> dict[tuple[str, str | None, str | None], str]:
    out: dict[tuple[str, str | None, str | None], str] = {}
    for province, city, counties, area in national_places():
        out.setdefault((province, None, None), area)
        out.setdefault((province, city, None), area)
        for county in counties:
            out[(province, city, county)] = area
    return out


class UniqueAgencyYears:
    """Agencies for one corpus in which no (agency name, report year) pair repeats.

    ``draw`` first makes the ordinary ``random_agency(rng)`` draw, so a report keeps the agency (and
    the rest of its random stream) it had before this class existed.  Only when that pair is taken
    does it re-draw from the national list, with an rng of its own keyed by the corpus seed, the
    report and the attempt, at the level first drawn; after a few failures at county level, where
    there is most room (the province level has only ~600 agencies).
    """

    _SAME_LEVEL_ATTEMPTS = 8
    _MAX_ATTEMPTS = 10_000

    def __init__(self, seed: object):
        self.seed = seed
        self.used: set[tuple[str, int]] = set()

    def draw(self, rng: random.Random, year: int, key: object) -> Agency:
        agency = random_agency(rng)
        level = agency.admin_level
        attempt = 0
        while (agency.name, year) in self.used:
            if attempt == self._MAX_ATTEMPTS:
                raise ValueError(f"no unused agency left for {year} after {attempt} draws; corpus too large")
            redraw = random.Random(f"{self.seed}:{key}:agency:{attempt}")
            at_level = level if attempt < self._SAME_LEVEL_ATTEMPTS else "county"
            agency = random_national_agency(redraw, at_level)
            attempt += 1
        self.used.add((agency.name, year))
        return agency
