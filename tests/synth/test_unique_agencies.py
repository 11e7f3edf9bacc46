"""Agencies of generated corpora: the national place list, unique (agency, year) pairs, determinism."""

from __future__ import annotations

import filecmp
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from ingest.agency import resolve_agency
from ingest.decoding import decode_bytes
from ingest.pipeline import parse_documents
from ingest.synth import LAYOUTS, TABLE_LAYOUTS, generate_corpus, generate_report, random_template_year
from ingest.synth.agencies import (
    ADMIN_LEVELS,
    DEPARTMENTS,
    MUNICIPALITIES,
    PLACES,
    make_agency,
    national_gazetteer,
    national_places,
    random_national_agency,
)
from ingest.synth.formats import generate_formats_corpus

PLACE_FIELDS = ("agency_name", "province", "city", "county", "admin_level")


def _truth(d: Path) -> list[dict]:
    return [json.loads(x) for x in (d / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


def _pairs(truths: list[dict]) -> Counter:
    return Counter((t["agency_name"], t["report_year"]) for t in truths)


# ------------------------------------------------------------------------------------------------
# the national list
# ------------------------------------------------------------------------------------------------


def test_national_list_covers_the_country_without_ambiguous_names():
    g = national_gazetteer()
    provinces = {p[0] for p in g.places}
    assert len(provinces) == 31 and not provinces & {"台湾省", "香港特别行政区", "澳门特别行政区"}
    assert g.county_units > 2500
    names = [c for p in g.places for c in p[2]]
    excluded = {name for _, _, name in g.excluded}
    assert {"朝阳区", "通州区", "鼓楼区", "城关区"} <= excluded
    assert not excluded & set(names)
    # municipalities: districts straight under the province, no city level
    for m in MUNICIPALITIES:
        (place,) = [p for p in g.places if p[0] == m]
        assert place[1] is None and place[2] and place[3].startswith("0")
    # county-level units governed by the province directly
    assert ("河南省", None, ("济源市",)) in {p[:3] for p in g.places}
    assert any(p[0] == "湖北省" and p[1] is None and "仙桃市" in p[2] for p in g.places)
    # the hand-made list is untouched and its cities keep their area codes
    assert PLACES[0] == ("河南省", "焦作市", ("温县", "武陟县", "博爱县", "修武县"), "0391")
    assert ("河南省", "焦作市") in {p[:2] for p in g.places}
    assert next(p[3] for p in g.places if p[1] == "焦作市") == "0391"


def test_every_national_agency_resolves_to_its_place():
    """The name as printed (place + department) is all the parser gets: it must place it exactly."""
    wrong = []
    for province, city, counties, area in national_places():
        for dept in DEPARTMENTS:
            agencies = [make_agency(province, None, None, dept[0], area)]
            if city:
                agencies.append(make_agency(province, city, None, dept[0], area))
            agencies += [make_agency(province, city, c, dept[0], area) for c in counties]
            for a in agencies:
                got = resolve_agency(a.name)
                if (got.province, got.city, got.county, got.admin_level) != (
                    a.province,
                    a.city,
                    a.county,
                    a.admin_level,
                ):
                    wrong.append((a.name, got))
    assert not wrong, wrong[:5]


def test_municipality_and_direct_unit_agencies():
    beijing = make_agency("北京市", None, None, "edu")
    assert (
        beijing.name == "北京市教育局" and beijing.admin_level == "province" and beijing.short == "市教育局"
    )
    assert make_agency("上海市", None, None, "gov").name == "上海市人民政府办公厅"
    district = make_agency("北京市", None, "东城区", "fin")
    assert district.name == "东城区财政局" and district.area_code == "010" and district.city is None
    jiyuan = make_agency("河南省", None, "济源市", "edu")
    assert jiyuan.admin_level == "county" and jiyuan.area_code != "0391"
    # prose of a county without a city level names no "None"
    for i in range(30):
        rep = generate_report(
            random.Random(i), layout="narrative", template="pre2019", year=2016, agency=district
        )
        assert "None" not in rep.text


def test_random_national_agency_levels():
    rng = random.Random(7)
    seen = Counter()
    for _ in range(2000):
        a = random_national_agency(rng)
        seen[a.admin_level] += 1
        assert a.admin_level in ADMIN_LEVELS and a.area_code and a.area_code != "0000"
        if a.admin_level == "city":
            assert a.city and a.county is None
    assert all(seen[level] > 100 for level in ADMIN_LEVELS)
    # a county draw gives county agencies, except in cities without county-level units (东莞市)
    no_counties = {p[1] for p in national_places() if not p[2]}
    for _ in range(300):
        a = random_national_agency(rng, "county")
        assert a.admin_level == "county" or a.city in no_counties


def _parsed_places(reports: list) -> pl.DataFrame:
    rows = []
    for rep in reports:
        text = decode_bytes(rep.text.encode("utf-8")).text
        sha = hashlib.sha256(rep.text.encode("utf-8")).hexdigest()
        rows.append((sha, f"landing/{rep.filename}", rep.filename.rsplit(".", 1)[1], text))
    docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
    return (
        parse_documents(docs)
        .reports.with_columns(filename=pl.col("source_path").str.split("/").list.last())
        .select("filename", *PLACE_FIELDS, "report_year")
    )


def test_national_agencies_round_trip_through_the_parser():
    """Reports of a sample of national agencies (all municipalities and directly governed units
    among them), parsed from their decoded text, give back the truth's place and level."""
    rng = random.Random(2024)
    agencies = [random_national_agency(rng) for _ in range(150)]
    for province, city, counties, area in national_places():
        if city is None:  # municipal districts and directly governed units: the tricky cases
            agencies.append(
                make_agency(province, None, rng.choice(counties), rng.choice(DEPARTMENTS)[0], area)
            )
    for m in MUNICIPALITIES:
        agencies.append(make_agency(m, None, None, rng.choice(DEPARTMENTS)[0]))
    reports = []
    for i, agency in enumerate(agencies):
        layout = LAYOUTS[i % len(LAYOUTS)]
        r = random.Random(f"place:{i}")
        template, year = random_template_year(r, layout)
        reports.append(
            generate_report(r, layout=layout, template=template, year=year, agency=agency, name=f"p{i:04d}")
        )
    truth = pl.DataFrame(
        [{k: rep.truth[k] for k in (*PLACE_FIELDS, "filename", "report_year")} for rep in reports]
    )
    parsed = _parsed_places(reports).with_columns(pl.col("report_year").cast(pl.Int64))
    joined = truth.join(parsed, on="filename", how="left", suffix="_parsed")
    assert joined.height == len(agencies)
    for field in (*PLACE_FIELDS, "report_year"):
        wrong = joined.filter(~pl.col(field).eq_missing(pl.col(f"{field}_parsed")))
        assert wrong.is_empty(), wrong.select("filename", field, f"{field}_parsed").head()


# ------------------------------------------------------------------------------------------------
# unique (agency, year) per corpus
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> list[dict]:
    d = tmp_path_factory.mktemp("unique")
    generate_corpus(d, 5000, seed=3)
    return _truth(d)


def test_no_repeated_agency_year_in_a_corpus(big_corpus):
    assert len(big_corpus) == 5000
    pairs = _pairs(big_corpus)
    assert pairs.most_common(1)[0][1] == 1
    # the re-draws keep a sensible level mix and reach beyond the hand-made places
    levels = Counter(t["admin_level"] for t in big_corpus)
    assert all(levels[level] > 500 for level in ADMIN_LEVELS)
    hand_made = {p[0] for p in PLACES}
    assert any(t["province"] not in hand_made for t in big_corpus)


def test_formats_corpus_has_unique_agency_years(tmp_path):
    generate_formats_corpus(tmp_path, 600, seed=4, formats=("txt",))
    truths = _truth(tmp_path)
    assert len(truths) == 600 and _pairs(truths).most_common(1)[0][1] == 1


def test_reports_without_collision_are_as_before(tmp_path):
    """Re-draws happen only on collisions: every other report is byte for byte the report the
    generator made before uniqueness was enforced (same rng stream, same agency draw)."""
    n, seed = 300, 9
    generate_corpus(tmp_path, n, seed)
    truths = _truth(tmp_path)
    kept = 0
    for i, t in enumerate(truths):
        rng = random.Random(f"{seed}:{i}")
        layout = LAYOUTS[i % len(LAYOUTS)]
        template, year = random_template_year(rng, layout)
        if layout in TABLE_LAYOUTS:
            rng.random()  # the inject-error draw
        name = f"r{i:05d}_{rng.getrandbits(32):08x}"
        old = generate_report(rng, layout=layout, template=template, year=year, name=name)
        assert t["filename"].startswith(name)
        if old.truth["agency_name"] == t["agency_name"]:
            kept += 1
            assert old.text == (tmp_path / t["filename"]).read_text(encoding="utf-8")
    assert kept > n * 0.8


def test_corpus_is_deterministic_with_redraws_and_republications(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_corpus(a, 400, seed=21, republish_rate=0.2, inject_error_rate=0.1)
    generate_corpus(b, 400, seed=21, republish_rate=0.2, inject_error_rate=0.1)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors
