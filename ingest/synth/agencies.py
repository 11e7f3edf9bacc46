"""Made-up agencies on a small, internally consistent list of real places.

Each place tuple is (province, city, county-level unit, telephone area code).  Agencies are a place
(at province, city or county level) plus a department suffix; the province level uses the 厅 forms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

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
}

# (key, county/city-level suffix, province-level suffix, topic word, regulatory intensity 0..1)
DEPARTMENTS: tuple[tuple[str, str, str, str, float], ...] = (
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
            lvl = "自治区" if self.province.endswith("自治区") else "省"
        elif self.admin_level == "city":
            lvl = "市"
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


def make_agency(province: str, city: str | None, county: str | None, dept_key: str) -> Agency:
    dept = next(d for d in DEPARTMENTS if d[0] == dept_key)
    area = next((p[3] for p in PLACES if p[0] == province and (city is None or p[1] == city)), "0000")
    if county:
        level, place, suffix = "county", county, dept[1]
    elif city:
        level, place, suffix = "city", city, dept[1]
    else:
        level, place, suffix = "province", province, dept[2]
    return Agency(
        name=place + suffix,
        province=province,
        city=city,
        county=county,
        admin_level=level,
        dept_key=dept_key,
        dept_suffix=suffix,
        topic=dept[3],
        intensity=dept[4],
        area_code=area,
    )


def random_agency(rng: random.Random, level: str | None = None) -> Agency:
    province, city, counties, _ = rng.choice(PLACES)
    level = level or rng.choices(ADMIN_LEVELS, weights=(2, 4, 5))[0]
    dept_key = rng.choice(DEPARTMENTS)[0]
    if level == "province":
        return make_agency(province, None, None, dept_key)
    if level == "city":
        return make_agency(province, city, None, dept_key)
    return make_agency(province, city, rng.choice(counties), dept_key)
