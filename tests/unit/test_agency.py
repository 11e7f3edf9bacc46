"""Places, levels, kinds and stable ids of agencies from the gazetteer (cpca's official code list)."""

import pytest

from ingest.agency import resolve_agency


@pytest.mark.parametrize(
    ("name", "province", "city", "county", "level", "kind"),
    [
        ("温县教育局", "河南省", "焦作市", "温县", "county", "department"),
        ("柳州市教育局", "广西壮族自治区", "柳州市", None, "city", "department"),
        ("湖南省教育厅", "湖南省", None, None, "province", "department"),
        ("甘肃省教育厅", "甘肃省", None, None, "province", "department"),
        ("广东省教育考试院", "广东省", None, None, "province", "institution"),
        ("焦作市人民政府", "河南省", "焦作市", None, "city", "government"),
        ("温县祥云镇人民政府", "河南省", "焦作市", "温县", "township", "township"),
        ("北京市海淀区财政局", "北京市", None, "海淀区", "county", "department"),
        ("教育部", None, None, None, "central", "department"),
    ],
)
def test_places_levels_kinds(name, province, city, county, level, kind):
    a = resolve_agency(name)
    assert (a.province, a.city, a.county, a.admin_level, a.agency_kind) == (
        province,
        city,
        county,
        level,
        kind,
    )


def test_same_agency_same_id_whatever_prefix_is_printed():
    ids = {
        resolve_agency(n).agency_id
        for n in ("温县教育局", "焦作市温县教育局", "河南省焦作市温县教育局", "河南省 焦作市 温县教育局")
    }
    assert len(ids) == 1
    assert resolve_agency("温县教育局").canonical_name == "河南省焦作市温县教育局"
    assert resolve_agency("广西柳州市教育局").agency_id == resolve_agency("柳州市教育局").agency_id
    assert resolve_agency("温县教育局").agency_id != resolve_agency("温县财政局").agency_id


def test_unknown_places_keep_a_name_key():
    a = resolve_agency("某某管理处")
    assert a.agency_id and a.province is None and a.admin_level == "unknown"
    assert resolve_agency(None).agency_id is None


def test_context_places_a_name_the_gazetteer_cannot_place_alone():
    from ingest.agency import resolve_in_context

    ambiguous = resolve_in_context("城中区人民政府", "由城中区人民政府办公室编制。地址:西宁市城南新区")
    assert (ambiguous.province, ambiguous.city, ambiguous.admin_level) == ("青海省", "西宁市", "county")
    township = resolve_in_context("某某镇人民政府", "某某镇位于焦作市北部")
    assert (township.province, township.admin_level) == ("河南省", "township")
    # nothing printed fixes the province: NULL, never a guess
    assert resolve_in_context("某某镇人民政府", "本镇认真贯彻条例").province is None
    # a township named like a city (朝阳 + 乡) is not that city
    assert resolve_in_context("朝阳乡", "朝阳乡位于某县").province is None


@pytest.mark.parametrize(
    ("name", "level"),
    [("区统计局", "county"), ("县政府办", "county"), ("市政府办公厅", "city"), ("某某苏木", "township"),
     ("某某街道办事处", "township"), ("某某管理处", "unknown")],
)
def test_level_from_the_form_of_the_name(name, level):
    from ingest.agency import level_of_form

    assert level_of_form(name) == level
