"""The text layouts of published reports, as the generator writes them, read back by the real reader.

Each report of these layouts goes through the text front end and the table mapper (no pipeline, no
database), and the facts must be exactly the truth: every printed cell, nothing else. The layouts
the reader does not read right yet (``EXTRA_LAYOUTS``) are pinned as strict expected failures, so
that the day the reader reads them the test says so and they can join the default mix.
"""

from __future__ import annotations

import random
import re

import polars as pl
import pytest

from ingest.frontends.text import cells_frame, lines_frame
from ingest.synth import ALL_LAYOUTS, EXTRA_LAYOUTS, LAYOUTS, TABLE_LAYOUTS, generate_corpus, generate_report
from ingest.synth.generator import CUT_LAYOUT, random_template_year
from ingest.tables import map_tables

REAL = ("pipe_bare", "pipe_padded", "cell_lines", "spaced_cols")
N_PER_LAYOUT = 24


def _reports(layout: str, n: int = N_PER_LAYOUT, seed: str = "real") -> list:
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{layout}:{i}")
        template, year = random_template_year(rng, layout)
        out.append(generate_report(rng, layout=layout, template=template, year=year, name=f"{layout}_{i:03d}"))
    return out


def _read(reports) -> pl.DataFrame:
    docs = pl.DataFrame({"doc_id": [r.filename for r in reports], "text": [r.text for r in reports]})
    cells = map_tables(cells_frame(lines_frame(docs))).cells
    return cells.select(
        pl.col("doc_id").alias("filename"), "table_id", "row_key", "col_key", "cell_state", pl.col("value").round(6)
    )


def _truth(reports) -> pl.DataFrame:
    rows = [
        {"filename": r.filename, **{k: c[k] for k in ("table_id", "row_key", "col_key", "cell_state", "value")}}
        for r in reports
        for c in r.truth["cells"]
    ]
    return pl.DataFrame(rows, schema_overrides={"value": pl.Float64}).with_columns(pl.col("value").round(6))


def _differences(reports) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(truth cells the reader missed or got wrong, facts the truth does not have)."""
    truth, facts = _truth(reports), _read(reports)
    keys = ["filename", "table_id", "row_key", "col_key", "cell_state", "value"]
    return truth.join(facts, on=keys, how="anti", nulls_equal=True), facts.join(truth, on=keys, how="anti", nulls_equal=True)


@pytest.fixture(scope="module")
def real_reports() -> dict[str, list]:
    return {lay: _reports(lay) for lay in (*REAL, CUT_LAYOUT)}


def _blank_cut(r) -> bool:
    return r.truth["features"].get("cut_mode") == "values_blank"


@pytest.mark.parametrize("layout", [*REAL, CUT_LAYOUT])
def test_reader_gives_exactly_the_printed_cells(real_reports, layout):
    reports = real_reports[layout]
    missed, spurious = _differences(reports)
    assert missed.is_empty(), missed.head(10)
    assert spurious.is_empty(), spurious.head(10)
    assert sum(len(r.truth["cells"]) for r in reports) > 20 * len(reports)


def test_row_cut_after_empty_cells_gives_only_those_blanks():
    reports = [r for r in _reports(CUT_LAYOUT, 200, seed="blank-cut") if _blank_cut(r)]
    if not reports:
        pytest.fail("no report cut after empty cells: draw more reports")  # not an expected failure
    missed, spurious = _differences(reports)
    assert missed.is_empty() and spurious.is_empty()


def test_layout_registry():
    assert set(REAL) <= set(LAYOUTS) and set(EXTRA_LAYOUTS) == {CUT_LAYOUT}
    assert not set(EXTRA_LAYOUTS) & set(LAYOUTS) and set(ALL_LAYOUTS) == set(LAYOUTS) | set(EXTRA_LAYOUTS)
    assert set(ALL_LAYOUTS) - {"narrative", "headings_only"} == set(TABLE_LAYOUTS)
    with pytest.raises(ValueError, match="whole tables"):
        generate_report(random.Random(0), layout=CUT_LAYOUT, template="v2021", year=2022, inject_error=True)


def test_default_corpus_has_the_real_layouts_and_named_extras(tmp_path):
    generate_corpus(tmp_path / "d", len(LAYOUTS), seed=3)
    generate_corpus(tmp_path / "x", 4, seed=3, layouts=EXTRA_LAYOUTS)
    import json

    default = [json.loads(ln)["layout"] for ln in (tmp_path / "d" / "truth.jsonl").read_text().splitlines()]
    extra = [json.loads(ln)["layout"] for ln in (tmp_path / "x" / "truth.jsonl").read_text().splitlines()]
    assert default == list(LAYOUTS) and extra == [CUT_LAYOUT] * 4


def _table_lines(text: str) -> list[str]:
    start = text.index("第二十条")
    return text[start:].splitlines()


def test_pipe_bare_rows_have_no_leading_bar_but_group_rows_do(real_reports):
    for r in real_reports["pipe_bare"]:
        lines = _table_lines(r.text)
        assert any(re.match(r"^[^|\s].* \| \d[^|]* \|", ln) for ln in lines)  # 规章 | 0 | 0 | 0 |
        assert any(ln.startswith("| ") and ("(" in ln or "（" in ln) for ln in lines)  # | (二)部分公开 | …
        assert not any(ln.startswith("|---") for ln in lines)


def test_pipe_padded_and_cell_lines_put_one_cell_on_a_line(real_reports):
    for layout in ("pipe_padded", "cell_lines"):
        seps = set()
        for r in real_reports[layout]:
            seps.add(r.truth["features"]["real_sep"])
            lines = [ln for ln in _table_lines(r.text) if "第二十条" not in ln]
            table = lines[: next(i for i, ln in enumerate(lines) if "四、" in ln or "行政复议" in ln)]
            # a line holds one cell at most: the bars that remain are a row's trailing empty cells
            assert all(len([c for c in ln.split("|") if c.strip()]) <= 1 for ln in table), r.filename
        if layout == "cell_lines":
            assert seps == {"blank", "bar", "trail"}


def test_blanks_only_where_the_form_shows_them(real_reports):
    blanks = {
        lay: sum(c["cell_state"] == "blank" for r in real_reports[lay] for c in r.truth["cells"]) for lay in REAL
    }
    assert blanks["pipe_bare"] > 0 and blanks["pipe_padded"] == blanks["cell_lines"] == 0


def test_real_presentation_variants_are_drawn(real_reports):
    reports = [r for lay in REAL for r in real_reports[lay]]
    feats = [r.truth["features"] for r in reports]
    assert {f["real_t3_header"] for f in feats} == {"stacked", "total_first", "split_words"}
    texts = "\n".join(r.text for r in reports)
    assert re.search(r"^(?:\| )?[\u4e00-\u9fff]+ [\u4e00-\u9fff]+ \|", texts, re.M)  # 规 章 | …
    assert re.search(r"^商业 \| 科研 \|", texts, re.M) or re.search(r"^\s*商业 \|\s*$", texts, re.M)
    # values on the line after their label
    assert re.search(r"^[^|\d\s][^|]* \|\n\d[\d.,]* \|", texts, re.M)
    # shortened 表二 headers
    assert re.search(r"\| 现行有效件 \||\| 本年新 \||\| 本年制发 \||\| 本年废止件 \|", texts)


def test_cut_report_ends_inside_a_table_with_a_subset_of_the_cells(real_reports):
    modes = set()
    for r in real_reports[CUT_LAYOUT]:
        f = r.truth["features"]
        modes.add(f["cut_mode"])
        assert "第二十条" in r.text and "五、" not in r.text.split("第二十条", 1)[1]
        assert 0 < f["cut_cells"] == len(r.truth["cells"])
        assert not r.text.rstrip().endswith(("。", "版权所有"))
    assert {"after", "before"} <= modes and modes & {"label", "values", "inside"}
