"""Which reports an incremental validation re-validates (expectations.incremental): a changed report
touches its (agency, year) slot before and after the change, and the year after it."""

import polars as pl

from expectations.incremental import VALIDATION_STATE, reports_to_validate, with_previous_years


def _keys(rows):
    return pl.DataFrame(
        rows,
        schema={"report_id": pl.String, "agency_id": pl.String, "report_year": pl.Int32, "is_current": pl.Boolean,
                "validation_key": pl.String},
        orient="row",
    )


def _state(keys: pl.DataFrame) -> pl.DataFrame:
    return keys.select(list(VALIDATION_STATE))


BASE = [
    ("a19", "A", 2019, True, "k"),
    ("a20", "A", 2020, True, "k"),
    ("a21", "A", 2021, True, "k"),
    ("a22", "A", 2022, True, "k"),
    ("b20", "B", 2020, True, "k"),
    ("b21", "B", 2021, True, "k"),
    ("n00", None, 2020, True, "k"),
]


def _ids(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["report_id"].to_list())


def test_nothing_changed_validates_nothing():
    keys = _keys(BASE)
    assert _ids(reports_to_validate(keys, _state(keys))) == []


def test_a_new_edition_touches_its_year_and_the_next_only():
    prev = _keys(BASE)
    now = _keys([r if r[0] != "a20" else ("a20", "A", 2020, False, "k2") for r in BASE] + [("a20b", "A", 2020, True, "k")])
    todo = reports_to_validate(now, _state(prev))
    assert _ids(todo) == ["a20b", "a21"]
    # validated beside their Y-1 reports (context only)
    assert _ids(with_previous_years(now, todo)) == ["a19", "a20b", "a21"]


def test_a_report_that_moved_revalidates_its_old_neighbour():
    prev = _keys(BASE)
    now = _keys([r if r[0] != "a20" else ("a20", "B", 2019, True, "k2") for r in BASE])
    assert _ids(reports_to_validate(now, _state(prev))) == ["a20", "a21", "b20"]


def test_a_gone_report_revalidates_its_neighbour():
    prev = _keys(BASE)
    now = _keys([r for r in BASE if r[0] != "b20"])
    assert _ids(reports_to_validate(now, _state(prev))) == ["b21"]


def test_a_changed_report_without_agency_is_alone():
    prev = _keys(BASE)
    now = _keys([r if r[0] != "n00" else ("n00", None, 2020, True, "k2") for r in BASE])
    assert _ids(reports_to_validate(now, _state(prev))) == ["n00"]
