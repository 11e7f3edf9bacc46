"""Shared helpers of the front-end tests: a generated report in a format, parsed, against its truth."""

from __future__ import annotations

import random

import polars as pl

from ingest.pipeline import parse_documents
from ingest.synth.formats import render_report


def generated(fmt: str, layout: str, seed: str) -> tuple[bytes, dict]:
    rng = random.Random(seed)
    _, data, truth = render_report(rng, fmt, layout, f"t_{seed}")
    return data, truth


def parse_one(fmt: str, text: str) -> pl.DataFrame:
    docs = pl.DataFrame({"source_sha256": ["d" * 64], "source_path": [f"x.{fmt}"], "source_format": [fmt], "text": [text]})
    return parse_documents(docs)


def compare(batch, truth: dict) -> tuple[int, int, int]:
    """-> (truth cells, predicted cells, correct) comparing (table,row,col) -> (state, value)."""
    want = {(c["table_id"], c["row_key"], c["col_key"]): (c["cell_state"], c.get("value")) for c in truth["cells"]}
    got = {}
    for r in batch.table_cells.iter_rows(named=True):
        got[(r["table_id"], r["row_key"], r["col_key"])] = (r["cell_state"], r["value"])
    correct = 0
    for k, (state, value) in got.items():
        if k in want and want[k][0] == state and (value is None or want[k][1] is None or abs(value - want[k][1]) < 1e-6):
            correct += 1
    return len(want), len(got), correct
