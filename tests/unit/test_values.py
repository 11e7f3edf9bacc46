import polars as pl
import pytest

from ingest.values import classify_cells


@pytest.mark.parametrize(
    ("raw", "state", "value", "unit"),
    [
        ("0", "number", 0.0, None),
        ("", "blank", None, None),
        ("　", "blank", None, None),
        ("12,336", "number", 12336.0, None),
        ("１２３", "number", 123.0, None),
        ("2873.495", "number", 2873.495, None),
        ("468.5 万元", "number", 468.5, "万元"),
        ("251000元", "number", 251000.0, "元"),
        ("-", "dash", None, None),
        ("—", "dash", None, None),
        ("/", "slash", None, None),
        ("／", "slash", None, None),
        ("无", "none_word", None, None),
        ("零", "zero_word", 0.0, None),
        ("+14", "number", 14.0, None),
        ("-3", "number", -3.0, None),
        ("减少2", "number", -2.0, None),
        ("增加5", "number", 5.0, None),
        ("持平", "number", 0.0, None),
        ("见附表说明", "text", None, None),
        ("3-5", "text", None, None),
    ],
)
def test_cell_states_stay_distinct(raw, state, value, unit):
    row = classify_cells(pl.DataFrame({"raw_text": [raw]})).row(0, named=True)
    assert row["cell_state"] == state
    assert row["value"] == value
    assert row["unit_raw"] == unit
