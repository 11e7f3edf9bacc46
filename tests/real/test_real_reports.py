"""The measure that counts: real published reports (../shared/real, hand-recorded truth), run through
`ogi run`'s pipeline and scored by the corpus's own score.py. Each part has a floor; a change that
reads fewer real reports right fails here even when the synthetic corpus still scores 1.000.

Skipped, with a message, where ../shared/real is not beside the repository. The documents are read
from there and never copied into the project.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.cli import run_pipeline
from ingest.warehouse import serving_path_for

REAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "real"

# Floors per corpus and part: the acceptance figures where they are reached, else the figure
# reached when the floor was set (never lower than the acceptance figure without a note why).
FLOORS = {
    "pages": {
        "cells.t2": 0.99, "cells.t3": 0.99, "tables.silent": 1.0, "files.recognised": 1.0,
        "meta.year": 0.97, "meta.template": 0.97, "meta.agency": 0.93, "meta.province": 0.93, "meta.level": 0.93,
        "narr.applications": 0.9, "narr.review": 0.9, "narr.litigation": 0.9,
        "channels.portal_website": 0.9, "channels.wechat": 0.9,
    },
    "files": {
        "cells.t3": 0.99, "cells.t4": 0.99,
        # below the issue's 0.99: 005's 表二 prints two values for three columns and the third elsewhere
        # with a note; the honest answer for those 4 of 68 cells is a warning, not a guess
        "cells.t2": 0.94,
        "tables.silent": 1.0, "files.recognised": 1.0,
        "meta.year": 0.97, "meta.template": 0.97, "meta.agency": 0.9, "meta.province": 0.9, "meta.level": 0.9,
    },
}


def _score(corpus: str, tmp_path: Path) -> dict[str, float]:
    folder = REAL_DIR / corpus
    warehouse = tmp_path / corpus / "w.duckdb"
    assert run_pipeline(folder / "docs", warehouse)
    out = subprocess.run(
        [sys.executable, str(REAL_DIR / "score.py"), str(folder), str(serving_path_for(warehouse))],
        capture_output=True, text=True, check=True,
    ).stdout
    real = next(line for line in out.splitlines() if line.startswith("REAL "))
    return {k: float(v) for k, v in re.findall(r"(\S+)=([\d.]+)", real)}


@pytest.mark.parametrize("corpus", sorted(FLOORS))
def test_real_reports_score_at_least_the_floors(corpus, tmp_path):
    if not (REAL_DIR / corpus / "docs").is_dir():
        pytest.skip(f"{REAL_DIR / corpus} is not present: the real-report corpus is not beside the repository")
    scores = _score(corpus, tmp_path)
    below = {part: (scores.get(part), floor) for part, floor in FLOORS[corpus].items()
             if scores.get(part, 0.0) + 1e-9 < floor}
    assert not below, f"{corpus}: parts below their floor (score, floor): {below}; all scores: {scores}"
