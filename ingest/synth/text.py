"""Prose for synthetic reports: titles, web-page chrome, section text and the narrative metrics.

All sentences here are written for this generator (no text taken from real reports).  Sentences that
state a narrative metric return it, so the truth records exactly what the text says; all other
numbers (dates, phone numbers, percentages, visits, document numbers …) are distractors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import cn2an

from .agencies import PROVINCE_ABBR, Agency

ORDINALS = "一二三四五六七八九十"


@dataclass
class Ctx:
    rng: random.Random
    agency: Agency
    year: int
    template: str  # pre2019 | v2019 | v2021
    period_partial: bool = False
    features: dict = field(default_factory=dict)
    # channel figures the text states: {channel, metric, value, is_approximate} (truth field 'channels')
    channels: list = field(default_factory=list)
    # YYYY-MM-DD printed in the web-page header: set beforehand to force one (republications), else
    # recorded when the header happens to print one
    publication_date: str | None = None
    # a corrected republication revises some figures with this rng (None: an ordinary report)
    revision_rng: random.Random | None = None

    def ch(self, channel: str, metric: str, value: float, approx: bool = False) -> None:
        """Record a channel figure once (the same figure stated twice is one fact)."""
        fact = {"channel": channel, "metric": metric, "value": float(value), "is_approximate": approx}
        if not any(f["channel"] == channel and f["metric"] == metric and f["value"] == fact["value"]
                   for f in self.channels):
            self.channels.append(fact)

    # ---- small helpers -------------------------------------------------------------------------
    @property
    def S(self) -> str:  # how the agency refers to itself in a sentence
        return self.rng.choice([self.agency.self_ref, self.agency.self_ref, self.agency.short, "本机关"])

    @property
    def unit(self) -> str:
        return {"county": "股室", "city": "科室", "province": "处室"}[self.agency.admin_level]

    @property
    def superior(self) -> str:
        a = self.agency
        if a.admin_level == "county":
            # a municipal district or a directly governed county answers to the province-level government
            above = f"{a.city}人民政府办公室" if a.city else f"{a.province}人民政府办公厅"
            return self.rng.choice([above, "县政府办公室", f"{a.county}人民政府"])
        if a.admin_level == "city":
            return self.rng.choice([f"{a.province}人民政府办公厅", "市委、市政府", f"{a.city}人民政府"])
        return self.rng.choice(["省委、省政府", f"{a.province}人民政府", "国务院办公厅"])

    def date(self, year: int | None = None) -> str:
        y = year or self.year
        m = self.rng.randint(1, 11 if self.period_partial else 12)
        return f"{y}年{m}月{self.rng.randint(1, 28)}日"

    def phone(self) -> str:
        digits = 8 if self.agency.area_code.startswith("0") and len(self.agency.area_code) == 3 else 7
        return f"{self.agency.area_code}-{self.rng.randint(10 ** (digits - 1) * 2, 10**digits - 1)}"

    def pct(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return "100%"
        if r < 0.7:
            return f"{self.rng.randint(60, 99)}%"
        return f"{self.rng.uniform(1, 99):.1f}%"

    def n(self, n: int, allow_cn: bool = True) -> str:
        """A count, sometimes written in Chinese numerals (两件, 三例, 十二件)."""
        if allow_cn and 1 <= n <= 30 and self.rng.random() < 0.22:
            if n == 2 and self.rng.random() < 0.7:
                return "两"
            return cn2an.an2cn(n)
        return str(n)

    def pick(self, seq):
        return self.rng.choice(seq)

    def pp(self) -> str:
        """Period prefix of a sentence stating a figure."""
        if self.period_partial:
            return self.pick(
                [f"截至{self.year}年11月底，", f"{self.year}年1-11月，", "截至11月，", "截至目前，"]
            )
        return self.pick(["", "", f"{self.year}年，", "全年", "本年度，"])


# ------------------------------------------------------------------------------------------------
# Title and chrome
# ------------------------------------------------------------------------------------------------


def title_lines(ctx: Ctx, md: bool) -> list[str]:
    """The title as governments print it: name then year or year then name, 年度报告 / 年报, split over
    two lines, or no title at all and an opening sentence that names the agency and the year."""
    name, y = ctx.agency.name, ctx.year
    form = ctx.rng.choices(
        ["plain", "spaced", "split_tail", "split_name", "year_first", "nianbao", "niandu", "opening"],
        weights=(6, 2, 1.5, 1, 1, 0.7, 0.7, 0.6),
    )[0]
    ctx.features["title_form"] = form
    if form == "plain":
        lines = [f"{name}{y}年政府信息公开工作年度报告"]
    elif form == "spaced":
        lines = [f"{name} {y} 年政府信息公开 工作年度报告"]
    elif form == "split_tail":
        lines = [f"{name}{y}年政府信息公开工作", "年度报告"]
    elif form == "split_name":
        lines = [name, f"{y}年政府信息公开工作年度报告"]
    elif form == "year_first":
        lines = [f"{y}年{name}政府信息公开工作年度报告"]
    elif form == "nianbao":
        lines = [f"{name}{y}年度政府信息公开工作年报"]
    elif form == "niandu":
        lines = [f"{name}{y}年度政府信息公开工作年度报告"]
    else:
        return [f"根据《中华人民共和国政府信息公开条例》要求，现将{name}{y}年度政府信息公开工作情况报告如下。"]
    if md and len(lines) == 1:
        lines = ["# " + lines[0]]
    return lines


def _pub_date(ctx: Ctx) -> str:
    m = ctx.rng.randint(1, 3)
    return f"{ctx.year + 1}-{m:02d}-{ctx.rng.randint(1, 28):02d}"


def chrome_top(ctx: Ctx) -> list[str]:
    a, rng = ctx.agency, ctx.rng
    title = f"{a.name}{ctx.year}年政府信息公开工作年度报告"
    pub = _pub_date(ctx)  # drawn even when forced, so the rest of the report's draws stay the same
    if ctx.publication_date:
        pub = ctx.publication_date
    ctx.publication_date = pub
    code = f"{rng.randint(10000000, 99999999)}-{rng.randint(1, 9)}/{ctx.year + 1}-{rng.randint(1, 999):05d}"
    if rng.random() < 0.5:
        ctx.features["chrome_top"] = "info_table"
        return [
            f"信息名称:{title}",
            "",
            f"索引号:{code}　　发布机构:{a.name}",
            "",
            f"发文时间:{pub}　　发文字号:",
            "",
            "主题分类:政务公开",
            "",
        ]
    ctx.features["chrome_top"] = "breadcrumb"
    return [
        "当前位置：首页 > 政务公开 > 政府信息公开年度报告",
        "",
        title,
        "",
        f"发布时间：{pub}　来源：{a.name}　浏览次数：{rng.randint(30, 4000)}",
        "",
        "【字体：大 中 小】",
        "",
    ]


def chrome_bottom(ctx: Ctx) -> list[str]:
    a, rng = ctx.agency, ctx.rng
    owner = f"{a.place}人民政府" if rng.random() < 0.6 else a.name
    abbr = PROVINCE_ABBR.get(a.province, "京")
    road = rng.choice(["人民路", "建设路", "文化路", "滨河路", "解放路", "府前街"])
    ctx.features["chrome_bottom"] = True
    if rng.random() < 0.5:
        return [
            "",
            "【打印本页】　【关闭窗口】",
            "",
            f"版权所有:{owner}　　技术支持:{a.city or a.province}大数据中心",
            "",
            f"地址:{a.city or a.province}{road}{rng.randint(1, 300)}号　　联系电话:{ctx.phone()}",
            "",
            f"{abbr}ICP备{rng.randint(10000000, 99999999)}号-{rng.randint(1, 3)}",
        ]
    return [
        "",
        f"主办单位：{owner}　承办：{a.name}",
        "",
        f"网站标识码：{rng.randint(10**9, 10**10 - 1)}　{abbr}公网安备 {rng.randint(10**13, 10**14 - 1)}号",
        "",
        f"联系电话：{ctx.phone()}",
    ]


# ------------------------------------------------------------------------------------------------
# Narrative metrics sentences
# ------------------------------------------------------------------------------------------------


def received_sentence(ctx: Ctx, n: int, legacy: bool) -> str:
    """A sentence stating the number of disclosure requests received (n may be 0)."""
    S = ctx.S
    unit = ctx.pick(["件", "件", "件", "份", "例", "宗"])
    if n == 0:
        opts = [
            f"{ctx.pp()}{S}未收到政府信息公开申请。",
            f"{ctx.pp()}没有收到公民、法人或其他组织提出的政府信息公开申请。",
            f"{ctx.pp()}{S}未接到政府信息公开申请。",
        ]
        if legacy:
            opts.append(f"{ctx.pp()}{S}依申请公开0件。")
            opts.append(f"{ctx.pp()}共受理政府信息公开申请0{unit}。")
        return ctx.pick(opts)
    num = ctx.n(n)
    if not legacy:
        return ctx.pick(
            [
                f"{ctx.pp()}{S}共收到政府信息公开申请{num}{unit}，均按规定程序登记办理。",
                f"{ctx.pp()}新收政府信息公开申请{num}{unit}，办理过程规范有序。",
                f"{ctx.pp()}共受理政府信息公开申请{num}{unit}。",
            ]
        )
    return ctx.pick(
        [
            f"{ctx.pp()}共受理政府信息公开申请{num}{unit}。",
            f"{ctx.pp()}{S}收到{num}项关于信息公开的申请。",
            f"{ctx.pp()}共办理依申请公开事项{num}{unit}。",
            f"{ctx.pp()}{S}共接到公民、法人和其他组织提出的政府信息公开申请{num}{unit}。",
            f"{ctx.pp()}共收到依申请公开申请{num}{unit}。",
        ]
    )


def received_details(ctx: Ctx, n: int) -> list[str]:
    """Sub-counts after a received total (channels, outcomes): distractors for the total."""
    rng, out = ctx.rng, []
    if n <= 0:
        return out
    if rng.random() < 0.5:
        a = rng.randint(0, n)
        b = rng.randint(0, n - a)
        c = n - a - b
        parts = [(k, v) for k, v in (("网上申请", a), ("当面申请", b), ("信函申请", c)) if v]
        out.append("其中，" + "，".join(f"{k}{v}件" for k, v in parts) + "。")
    if rng.random() < 0.5:
        g = rng.randint(0, n)
        x = rng.randint(0, n - g)
        bits = (
            [f"同意公开{g}件"]
            + ([f"信息不存在{x}件"] if x else [])
            + ([f"非本机关掌握{n - g - x}件"] if n - g - x else [])
        )
        out.append("从答复情况看，" + "，".join(bits) + "。")
    out.append(
        ctx.pick(
            [
                "所有申请均在法定时限内办结。",
                "全部按时答复，未出现超期答复情况。",
                "各项申请均已依法答复，申请人未提出异议。",
            ]
        )
    )
    return out


def review_sentence(ctx: Ctx, r: int, lit: int, legacy: bool) -> str:
    """A sentence stating administrative review (r) and litigation (lit) counts."""
    S, pp = ctx.S, ctx.pp()
    if r == 0 and lit == 0:
        opts = [
            f"{pp}未发生因政府信息公开引起的行政复议和行政诉讼。",
            f"{pp}没有发生因政府信息公开申请提起行政复议、行政诉讼的情况。",
            f"{pp}{S}无因政府信息公开被申请行政复议和提起行政诉讼的情况。",
            f"{pp}因政府信息公开申请行政复议0件、行政诉讼0件。",
        ]
        if legacy:
            opts.append(f"{pp}{S}未因政府信息公开工作被申请行政复议或提起行政诉讼。")
        return ctx.pick(opts)
    rn, ln = ctx.n(r), ctx.n(lit)
    opts = [
        f"{pp}共发生因政府信息公开申请行政复议{rn}件、行政诉讼{ln}件。",
        f"{pp}因政府信息公开申请被申请行政复议{rn}起，被提起行政诉讼{ln}例。",
    ]
    if r > 0 and lit == 0:
        opts += [
            f"{pp}因政府信息公开被申请行政复议{rn}件，未发生行政诉讼。",
            f"{pp}因政府信息公开申请行政复议{rn}件，提起行政诉讼0例。",
        ]
    if r == 0 and lit > 0:
        opts.append(f"{pp}未发生因政府信息公开申请的行政复议，被提起行政诉讼{ln}件。")
    s = ctx.pick(opts)
    if r > 0 and ctx.rng.random() < 0.3:
        s += f"经复议，{ctx.rng.randint(1, r)}件维持原答复。"
    return s


# ------------------------------------------------------------------------------------------------
# Section prose (tables layouts: 一、总体情况 / 五 / 六)
# ------------------------------------------------------------------------------------------------


def _items(ctx: Ctx) -> str:
    t = ctx.agency.topic
    bank = {
        "教育": "招生入学、学生资助、教师招聘",
        "卫生健康": "医疗机构执业许可、传染病防控、健康扶贫",
        "市场监管": "双随机抽查结果、食品安全抽检、行政处罚决定",
        "自然资源": "土地征收、规划许可、矿业权出让",
        "住房和城乡建设": "保障性住房分配、建筑市场监管、老旧小区改造",
        "人力资源和社会保障": "就业创业补贴、社会保险待遇、职称评审",
        "民政": "最低生活保障、特困供养、养老服务补贴",
        "交通运输": "道路运输许可、公路建设项目、超限治理",
        "农业农村": "惠农补贴发放、高标准农田建设、农产品质量安全",
    }
    return bank.get(t, "财政预决算、重大建设项目、公共资源配置")


def overview_opener(ctx: Ctx) -> str:
    a, y = ctx.agency, ctx.year
    return ctx.pick(
        [
            (
                f"{y}年，{a.short}深入贯彻新修订的《中华人民共和国政府信息公开条例》，紧扣{a.topic}领域重点任务，"
                f"把公开要求落实到决策、执行、管理、服务、结果各环节，政务公开标准化规范化水平稳步提升。"
            ),
            (
                f"{y}年度，{ctx.S}在{ctx.superior}的统一部署下，围绕{a.topic}工作大局，健全公开制度，丰富公开载体，"
                f"依法办理各类公开事项，较好保障了人民群众的知情权、参与权和监督权。"
            ),
            (
                f"本年度，{ctx.S}将政务公开列入年度重点工作清单，主要负责同志亲自过问，分管负责同志具体调度，"
                f"各{ctx.unit}按职责分工抓好落实，全年公开工作总体平稳有序。"
            ),
            (
                f"{y}年，{ctx.S}立足部门职能，坚持问题导向和需求导向，推动{a.topic}信息公开由“公开了”向“公开好”转变。"
                f"现就本年度工作情况报告如下。"
            ),
        ]
    )


def sub_active(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    a, b, c = rng.randint(5, 90), rng.randint(20, 600), rng.randint(5, 200)
    pushed, reads = rng.randint(50, 3000), rng.randint(2, 900)
    opts = [
        (
            f"全年在门户网站发布各类政府信息{a + b + c}条，其中政策文件{a}条、工作动态{b}条、通知公告{c}条，"
            f"重要信息均在形成之日起20个工作日内予以公开。",
            [("portal_website", "items_published", a + b + c, False)],
        ),
        (
            f"依托政务新媒体推送{ctx.agency.topic}相关信息{pushed}篇，累计阅读量约{reads}万次，"
            f"关注人数较上年增长{ctx.pct()}。",
            [("other", "items_published", pushed, False), ("other", "reads", reads * 10000, True)],
        ),
        (f"对涉及群众切身利益的{_items(ctx)}等事项，做到应公开尽公开、应解读尽解读。", []),
        (f"全年开展政策解读{rng.randint(2, 40)}次，制作图解、短视频等解读产品{rng.randint(1, 30)}件。", []),
        (None, None),  # channel statements, written (and recorded) only when chosen
    ]
    chosen = rng.sample(opts, k=rng.randint(1, 3))
    out = []
    for text, facts in chosen:
        if text is None:
            text = "".join(channel_statements(ctx))
        for f in facts or []:
            ctx.ch(*f)
        out.append(text)
    return out


def sub_request(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    opts = [
        "严格执行登记、审核、办理、答复、归档五个环节，答复文书格式统一、依据充分、告知到位。",
        "对申请内容不明确的，一次性告知需要补正的事项，避免申请人多次往返。",
    ]
    out = rng.sample(opts, k=rng.randint(1, 2))
    if ctx.agency.intensity >= 0.5 and rng.random() < 0.3:
        out.append(
            f"另外，全年受理{ctx.agency.topic}领域行政许可申请{rng.randint(20, 5000)}件，办结率{ctx.pct()}。"
        )
        ctx.features["trap_licensing_requests"] = True
    return out


def sub_management(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    opts = [
        "建立公文公开属性源头认定机制，拟文时同步提出主动公开、依申请公开或不予公开的意见。",
        f"开展规范性文件清理，共评估文件{rng.randint(3, 80)}件，对不再适用的文件及时宣布失效并向社会公布。",
        f"{ctx.date()}，{ctx.S}召开政务公开工作推进会，专题研究年度重点任务分工。",
    ]
    return rng.sample(opts, k=rng.randint(1, 2))


def sub_platform(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    visits = rng.randint(1, 400)
    opts = [
        (
            f"优化门户网站政务公开专栏，新增“{rng.choice(['政策解读', '重点领域', '办事服务', '数据发布'])}”等栏目"
            f"{rng.randint(1, 9)}个，网站全年访问量达{visits}万人次。",
            [("portal_website", "visits", visits * 10000, False)],
        ),
        (f"在办公楼一楼设置政府信息公开查阅点，配备查阅设备{rng.randint(1, 6)}台，方便群众就近查阅。", []),
        (f"做好政务新媒体日常管理，对{rng.randint(2, 15)}个账号开展常态化巡查，未发现长期不更新等问题。", []),
    ]
    out = []
    for text, facts in rng.sample(opts, k=rng.randint(1, 2)):
        for f in facts:
            ctx.ch(*f)
        out.append(text)
    return out


def sub_supervision(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    opts = [
        f"将政务公开工作纳入年度绩效考核，考核分值占比{rng.randint(2, 15)}%。",
        f"组织开展政务公开业务培训{rng.randint(1, 8)}次，参训人员{rng.randint(20, 600)}人次。",
        f"公开监督电话{ctx.phone()}，主动接受社会各界监督，全年未发生因公开工作引发的责任追究。",
    ]
    return rng.sample(opts, k=rng.randint(1, 2))


_PROBLEMS = [
    "政策解读形式比较单一，图表、音视频等解读产品偏少",
    "个别{unit}对公开工作重视不够，信息报送不够及时",
    "基层工作人员业务能力有待提升，对新条例的把握还不够精准",
    "网站栏目内容更新不够均衡，部分栏目信息偏少",
    "依申请公开答复的规范性还需进一步加强",
    "公众参与渠道不够丰富，互动回应的及时性有待提高",
]
_FIXES = [
    "丰富解读形式，提升解读材料的可读性和传播力",
    "压实各{unit}公开责任，健全信息报送和审核机制",
    "加强业务培训，提高工作人员依法公开的能力",
    "定期梳理网站栏目，及时补充更新栏目内容",
    "规范依申请公开办理流程，提升答复质量",
    "拓展互动渠道，及时回应社会关切",
]
_ENUM = ["一是", "二是", "三是", "四是"]


def problems_paragraphs(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    k = rng.randint(2, 3)
    probs = [p.format(unit=ctx.unit) for p in rng.sample(_PROBLEMS, k)]
    fixes = [f.format(unit=ctx.unit) for f in rng.sample(_FIXES, k)]
    intro = ctx.pick(
        [
            f"{ctx.S}政府信息公开工作虽取得一定成效，但对照新要求仍有差距：",
            "本年度工作中还存在一些薄弱环节，主要是：",
            "回顾全年工作，仍存在以下不足：",
        ]
    )
    p1 = intro + "；".join(f"{_ENUM[i]}{p}" for i, p in enumerate(probs)) + "。"
    lead = ctx.pick(
        [
            f"针对上述问题，{ctx.S}将重点抓好以下工作：",
            f"{ctx.year + 1}年，{ctx.S}将从以下方面加以改进：",
            "下一步，我们将着力做好以下几点：",
        ]
    )
    p2 = lead + "；".join(f"{_ENUM[i]}{f}" for i, f in enumerate(fixes)) + "。"
    return [p1, p2]


def other_matters(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    if ctx.template == "v2021" and rng.random() < 0.6:
        if rng.random() < 0.6:
            return ["本年度未收取政府信息公开信息处理费。"]
        return [
            (
                f"依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号），本年度{ctx.S}收取信息处理费"
                f"{rng.randint(1, 40) * 10}元。"
            )
        ]
    return [ctx.pick(["无。", "本年度无其他需要报告的事项。", f"{ctx.S}无其他需要报告的事项。"])]


# ------------------------------------------------------------------------------------------------
# Legacy narrative (pre2019 layout)
# ------------------------------------------------------------------------------------------------


def legacy_intro(ctx: Ctx, parts: list[str]) -> str:
    a, y = ctx.agency, ctx.year
    end = "11月30日" if ctx.period_partial else "12月31日"
    return ctx.pick(
        [
            (
                f"依据《中华人民共和国政府信息公开条例》第三十一条规定，{a.name}编制了本年度报告。报告分为"
                f"{'、'.join(parts)}等部分，所列数据的统计时段为{y}年1月1日至{y}年{end}。"
                f"对报告内容如有疑问，可与{a.short}办公室联系（电话：{ctx.phone()}）。"
            ),
            (
                f"为做好政府信息公开年度报告工作，现将{a.name}{y}年政府信息公开工作有关情况公布如下。"
                f"本报告所涉数据统计至{y}年{end}。"
            ),
        ]
    )


def legacy_overview(ctx: Ctx) -> list[str]:
    a, rng = ctx.agency, ctx.rng
    out = [
        ctx.pick(
            [
                (
                    f"{ctx.year}年，{ctx.S}按照{ctx.superior}关于政府信息公开工作的部署，把信息公开作为提升{a.topic}服务水平的"
                    f"重要举措，不断完善工作机制，拓宽公开渠道，各项工作取得新进展。"
                ),
                f"一年来，{ctx.S}坚持公开为常态、不公开为例外，围绕{a.topic}重点工作及时发布权威信息，主动回应社会关切。",
                (
                    f"本年度，{ctx.S}调整充实了政府信息公开工作领导小组，明确办公室为日常工作机构，配备专兼职工作人员"
                    f"{rng.randint(2, 9)}名。"
                ),
            ]
        )
    ]
    if rng.random() < 0.6:
        out.append(
            ctx.pick(
                [
                    f"{ctx.date()}，{ctx.S}召开政府信息公开工作会议，对全年工作作出安排。",
                    (
                        f"按照《{a.place}{ctx.year}年政务公开工作要点》（{PROVINCE_ABBR.get(a.province, '')}政办〔{ctx.year}〕"
                        f"{rng.randint(3, 90)}号）要求，{ctx.S}逐项细化任务、明确责任。"
                    ),
                ]
            )
        )
    return out


def legacy_active(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    a, b, c, d = rng.randint(3, 40), rng.randint(5, 120), rng.randint(20, 900), rng.randint(0, 30)
    total = a + b + c + d + (rng.randint(0, 20) if rng.random() < 0.3 else 0)
    pp = ctx.pp()
    out = [
        f"{pp}{ctx.S}主动公开政府信息{total}条。其中，机构职能类{a}条，政策法规类{b}条，业务工作类{c}条"
        + (f"，人事信息类{d}条。" if d else "。")
    ]
    if rng.random() < 0.6:
        w, b, c, v = rng.randint(50, 2000), rng.randint(10, 900), rng.randint(10, 600), rng.randint(1, 300)
        out.append(
            f"通过门户网站发布{w}条，通过政务微博发布{b}条，"
            f"通过微信公众号推送{c}篇，网站全年访问量{v}万人次，"
            f"较上年增长{ctx.pct()}。"
        )
        ctx.ch("portal_website", "items_published", w)
        ctx.ch("weibo", "items_published", b)
        ctx.ch("wechat", "items_published", c)
        ctx.ch("portal_website", "visits", v * 10000)
    if rng.random() < 0.7:
        out.append("".join(channel_statements(ctx)))
    if rng.random() < 0.4:
        out.append(f"在档案馆、图书馆和政务服务中心设立政府信息查阅点{rng.randint(1, 5)}个。")
    return out


def legacy_consultation(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    calls = rng.randint(10, 20000)
    ctx.ch("hotline", "calls", calls)
    return [
        (
            f"{ctx.pp()}接待现场咨询{rng.randint(10, 3000)}人次，接听咨询电话{calls}个，"
            f"回复网上咨询{rng.randint(5, 900)}条。群众可拨打咨询电话{ctx.phone()}查询办理进度。"
        )
    ]


def legacy_fees(ctx: Ctx) -> list[str]:
    return [
        ctx.pick(
            [
                "本年度未向政府信息公开申请人收取检索、复制、邮寄等费用，也不存在减免情况。",
                "政府信息公开工作所需经费纳入年度预算，本年度未收取任何费用。",
                f"{ctx.S}在办理依申请公开时未收取费用。",
            ]
        )
    ]


def legacy_training_trap(ctx: Ctx) -> str:
    ctx.features["trap_review_training"] = True
    return f"此外，{ctx.S}组织行政执法和行政复议业务培训{ctx.rng.randint(1, 6)}次。"


def heading_number(i: int) -> str:
    return ORDINALS[i] + "、"


# ------------------------------------------------------------------------------------------------
# publication channels: figures per channel in many phrasings (truth in ctx.channels)
# ------------------------------------------------------------------------------------------------


def _big(ctx: Ctx, lo: int, hi: int) -> tuple[str, float, bool]:
    """A large figure: digits, 万 with one decimal, or approximate (约/近/超过 before, 余/多 after)."""
    rng = ctx.rng
    v = rng.randint(lo, hi)
    r = rng.random()
    if v >= 20000 and r < 0.45:
        w = round(v / 10000, rng.choice([0, 1]))
        w_txt = f"{w:g}"
        value = round(float(w_txt) * 10000, 4)
        q = rng.random()
        if q < 0.2:
            return f"约{w_txt}万", value, True
        if q < 0.35:
            return f"{w_txt}万余", value, True
        if q < 0.45:
            return f"超过{w_txt}万", value, True
        return f"{w_txt}万", value, False
    if r < 0.6:
        return str(v), float(v), False
    if r < 0.7:
        return f"近{v}", float(v), True
    return str(v), float(v), False


def _small(ctx: Ctx, lo: int, hi: int) -> tuple[str, float, bool]:
    v = ctx.rng.randint(lo, hi)
    if ctx.rng.random() < 0.1 and v >= 10:
        v = v // 10 * 10
        return f"{v}余", float(v), True
    return str(v), float(v), False


def channel_statements(ctx: Ctx, record: bool = True) -> list[str]:
    """1-4 sentences stating channel figures; each records its truth with ctx.ch unless record=False."""
    rng = ctx.rng
    a = ctx.agency
    brand = (a.city or a.province).rstrip("市省") [:2] + a.topic[:2] if a.admin_level != "county" else (
        a.county[:-1] if a.county and len(a.county) > 2 else a.place) + a.topic[:2]
    pp = ctx.pp()
    facts: list[tuple] = []

    def portal() -> str:
        n, v, q = _small(ctx, 80, 6000)
        facts.append(("portal_website", "items_published", v, q))
        s = ctx.pick([f"{pp}门户网站发布各类信息{n}条", f"通过政府网站主动公开政府信息{n}条",
                      f"{ctx.S}官方网站全年更新信息{n}条", f"在政务网站公开信息{n}条"])
        if rng.random() < 0.5:
            t, val, appx = _big(ctx, 5000, 3000000)
            facts.append(("portal_website", "visits", val, appx))
            s += ctx.pick([f"，网站全年访问量{t}次", f"，累计访问量达{t}人次", f"，总浏览量{t}次"])
        return s + "。"

    def wechat() -> str:
        n, v, q = _small(ctx, 30, 2000)
        facts.append(("wechat", "items_published", v, q))
        s = ctx.pick([f"“{brand}”微信公众号推送信息{n}篇", f"官方微信发布文章{n}篇",
                      f"通过微信公众号发布政务信息{n}条", f"{pp}“{brand}”公众号全年推送{n}篇"])
        if rng.random() < 0.7:
            t, val, appx = _big(ctx, 500, 2000000)
            facts.append(("wechat", "followers", val, appx))
            s += ctx.pick([f"，关注用户{t}人", f"，粉丝数达{t}人", f"，订阅人数{t}人"])
        if rng.random() < 0.5:
            t, val, appx = _big(ctx, 5000, 90000000)
            facts.append(("wechat", "reads", val, appx))
            s += ctx.pick([f"，总阅读量{t}次", f"，累计阅读次数{t}次"])
        if rng.random() < 0.3:
            s += f"，粉丝数较上年增长{ctx.pct()}"
        return s + "。"

    def weibo() -> str:
        n, v, q = _small(ctx, 30, 3000)
        facts.append(("weibo", "items_published", v, q))
        s = ctx.pick([f"政务微博发布博文{n}条", f"“{brand}”官方微博发布信息{n}条", f"通过微博发布{n}条"])
        if rng.random() < 0.6:
            t, val, appx = _big(ctx, 500, 3000000)
            facts.append(("weibo", "followers", val, appx))
            s += ctx.pick([f"，粉丝{t}人", f"，粉丝量达{t}人"])
        if rng.random() < 0.3:
            s += f"，单条最高阅读量{rng.randint(1000, 90000)}次"
        return s + "。"

    def toutiao() -> str:
        n, v, q = _small(ctx, 20, 2000)
        facts.append(("toutiao", "items_published", v, q))
        s = ctx.pick([f"今日头条号发布信息{n}条", f"“{brand}”头条号信息发布量{n}条"])
        if rng.random() < 0.6:
            t, val, appx = _big(ctx, 5000, 9000000)
            facts.append(("toutiao", "reads", val, appx))
            s += f"，累计阅读量{t}次"
        return s + "。"

    def douyin() -> str:
        n, v, q = _small(ctx, 10, 800)
        facts.append(("douyin", "items_published", v, q))
        s = ctx.pick([f"抖音号发布短视频{n}条", f"“{brand}”抖音号发布作品{n}条"])
        if rng.random() < 0.7:
            t, val, appx = _big(ctx, 5000, 9000000)
            facts.append(("douyin", "plays", val, appx))
            s += ctx.pick([f"，累计播放量{t}次", f"，播放次数{t}次"])
        return s + "。"

    def sms() -> str:
        t, val, appx = _big(ctx, 1000, 30000000)
        facts.append(("sms", "items_published", val, appx))
        return ctx.pick([f"发送政务服务短信{t}条。", f"{pp}通过手机短信推送提示信息{t}条。"])

    def hotline() -> str:
        t, val, appx = _small(ctx, 50, 20000)
        facts.append(("hotline", "calls", val, appx))
        return ctx.pick([f"服务热线接听群众来电{t}个。", f"开通咨询热线，全年接听电话{t}次。"])

    def press() -> str:
        k = rng.randint(1, 12)
        facts.append(("press_conference", "events", float(k), False))
        return ctx.pick([f"召开新闻发布会{ctx.n(k)}场。", f"组织新闻发布会{ctx.n(k)}次，回应社会关切。"])

    def interview() -> str:
        k = rng.randint(1, 15)
        facts.append(("online_interview", "events", float(k), False))
        return ctx.pick([f"开展在线访谈{ctx.n(k)}期。", f"举办网上访谈{ctx.n(k)}场。"])

    def gazette() -> str:
        k = rng.randint(4, 24)
        facts.append(("gazette", "items_published", float(k), False))
        return ctx.pick([f"编印《{a.place}政府公报》{ctx.n(k)}期。", f"刊发政府公报{ctx.n(k)}期。"])

    def mobile() -> str:
        k = rng.randint(6, 60)
        facts.append(("mobile_newspaper", "items_published", float(k), False))
        return f"编发手机报{ctx.n(k)}期。"

    def board() -> str:
        n, v, q = _small(ctx, 10, 500)
        facts.append(("bulletin_board", "items_published", v, q))
        return f"通过政务公开栏张贴公开信息{n}条。"

    def media_list() -> str:
        x, y, z = rng.randint(10, 400), rng.randint(10, 400), rng.randint(5, 200)
        facts.extend([("other", "items_published", float(x + y + z), False),
                      ("wechat", "items_published", float(x), False),
                      ("weibo", "items_published", float(y), False),
                      ("douyin", "items_published", float(z), False)])
        return f"通过政务新媒体发布信息{x + y + z}条，其中微信公众号{x}条、政务微博{y}条、抖音号{z}条。"

    makers = [portal, wechat, weibo, toutiao, douyin, sms, hotline, press, interview, gazette, mobile, board,
              media_list]
    chosen = rng.sample(makers, k=rng.randint(1, 4))
    # media_list and the single wechat/weibo/douyin makers would state two figures for one channel
    if media_list in chosen:
        chosen = [m for m in chosen if m not in (wechat, weibo, douyin)] or [media_list]
    out = [m() for m in chosen]
    if record:
        for f in facts:
            ctx.ch(*f)
    return out
