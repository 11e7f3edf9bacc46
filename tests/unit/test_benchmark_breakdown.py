"""The parse-stage breakdown of scripts/benchmark.py times the pieces parse_documents really calls, and
leaves the pipeline as it found it (the figures it prints are only as good as that)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl

import ingest.pipeline as pipeline

REPO = Path(__file__).resolve().parents[2]
LANDING = REPO / "sample_data" / "landing"


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("_ogi_benchmark", REPO / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the dataclass looks its module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_breakdown_times_every_piece_and_restores_the_pipeline():
    benchmark = _benchmark_module()
    files = sorted(LANDING.glob("r*.txt"))[:6] + sorted(LANDING.glob("r*.md"))[:2] \
        + sorted((LANDING / "other_formats").glob("*.html"))[:3]
    assert len(files) == 11
    before = {name: getattr(pipeline, name) for name in (*benchmark.pipeline_piece_names(), "ThreadPoolExecutor")}

    measured = benchmark.parse_pieces(files)

    assert {name: getattr(pipeline, name) for name in before} == before
    assert set(measured.calls) == set(benchmark.pipeline_piece_names())
    assert all(n >= 1 for n in measured.calls.values()), measured.calls
    labels = [label for label, _, _ in measured.rows]
    assert labels[:2] == ["read + decode (txt, md)", "HTML front end (lexbor tree, blocks JSON)"]
    assert labels[-1].startswith("rest:") and len(labels) == len(benchmark._PARSE_PIECES) + 3
    assert all(wall >= 0 and cpu >= 0 for _, wall, cpu in measured.rows[:-1])
    # the pieces run one after the other give what the pipeline gives
    frame = pl.DataFrame([benchmark.document_row(p, p.suffix.lstrip(".")) for p in files],
                         schema=benchmark.DOC_COLUMNS, orient="row")
    assert measured.reports == pipeline.parse_documents(frame).reports.height > 0
