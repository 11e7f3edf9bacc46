"""Synthetic 政府信息公开工作年度报告 with known truth, and an evaluator against the warehouse.

Public API::

    generate_report(rng, *, layout, template, year, agency=None, inject_error=False, name=None,
                    publication_date=None, revision_rng=None) -> SynthReport
    generate_corpus(out_dir, n, seed, layouts=None, inject_error_rate=0.0, republish_rate=0.0) -> list[Path]
    evaluate(corpus_dir, warehouse_path) -> dict        (ingest.synth.evaluate)
    format_report(result) -> str                        (ingest.synth.evaluate)
"""

from .agencies import Agency, make_agency, random_agency
from .generator import (
    ALL_LAYOUTS,
    EXTRA_LAYOUTS,
    LAYOUT_TEMPLATES,
    LAYOUTS,
    TABLE_LAYOUTS,
    TEMPLATE_YEARS,
    SynthReport,
    generate_corpus,
    generate_report,
    random_template_year,
)

__all__ = [
    "ALL_LAYOUTS",
    "EXTRA_LAYOUTS",
    "LAYOUTS",
    "LAYOUT_TEMPLATES",
    "TABLE_LAYOUTS",
    "TEMPLATE_YEARS",
    "Agency",
    "SynthReport",
    "generate_corpus",
    "generate_report",
    "make_agency",
    "random_agency",
    "random_template_year",
]
