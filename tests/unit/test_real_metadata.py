"""Metadata of the real report openings in ../shared/real (third-party documents, read in place and
never copied): floors on what the extractor alone gets right. Skipped when the folder is absent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest.metadata import extract_metadata

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real" / "pages"
LEVEL = {"province": "province", "city": "city", "county": "county", "district": "county", "township": "township"}


def _canon(name: str) -> str:
    name = re.sub(r"[（(].*?[）)]", "", name)
    return re.sub(r"(人民政府|政府|办事处)$", "", name)


def _agency_ok(got: str | None, want: str, text: str) -> bool:
    """The name as printed, or a printed form of the same body (the scorer's rule)."""
    if not got:
        return False
    g, w = _canon(got), _canon(want)
    return got == want or (got in text and len(g) >= 2 and (g == w or w.endswith(g) or g.endswith(w)))


@pytest.fixture(scope="module")
def real():
    if not REAL.is_dir():
        pytest.skip(f"no real reports at {REAL} (../shared/real): nothing to measure")
    index = {}
    for path in REAL.glob("index*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                index[rec["id"]] = rec
    docs = {p.stem: p.read_text(encoding="utf-8", errors="replace") for p in sorted((REAL / "docs").glob("*.txt"))}
    return index, {k: extract_metadata(t) for k, t in docs.items()}, docs


def test_real_openings_metadata_floors(real):
    index, metas, texts = real
    tally = {"year": [0, 0], "agency": [0, 0], "level": [0, 0]}
    for doc, meta in metas.items():
        rec = index.get(doc, {})
        if rec.get("year"):
            tally["year"][0] += meta.report_year == rec["year"]
            tally["year"][1] += 1
        if rec.get("agency") and "某" not in rec["agency"]:
            tally["agency"][0] += _agency_ok(meta.agency_name, rec["agency"], texts[doc])
            tally["agency"][1] += 1
        if rec.get("level") in LEVEL:
            tally["level"][0] += meta.admin_level == LEVEL[rec["level"]]
            tally["level"][1] += 1
    rates = {k: right / total for k, (right, total) in tally.items()}
    assert rates["year"] >= 0.97 and rates["agency"] >= 0.92 and rates["level"] >= 0.93, rates


def test_no_real_report_reads_as_a_notice_without_its_body(real):
    _, metas, _ = real
    for doc, meta in metas.items():
        if meta.document_kind is not None:
            assert meta.has_report_preamble, doc
