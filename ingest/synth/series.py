"""Reports of one agency over consecutive years, with the 表三 carry-over chained (or broken once).

``generate_series(rng, agency, years, break_carryover)`` produces one :class:`SynthReport` per year
through :func:`generate_report` (so every layout, label and cell-style choice is the ordinary
generator's). The only change is to the 表三 numbers *before* they are rendered: the generator's
``numbers.gen_t3`` is wrapped for the duration of each call, and the wrapper sets
``carried_from_prev_year`` of every applicant column to ``carried_to_next_year`` of the previous
year's report, then repairs the year so every within-report identity still holds:

* ``total_processed = new_received + carried_from_prev_year - carried_to_next_year`` per column
  (``carried_to_next_year`` is lowered when it would exceed what is available);
* the outcome leaves absorb the change (``granted`` grows, or leaves shrink in order, never below 0);
* every ``total`` column is the sum of the applicant columns.

With ``break_carryover=True`` one year (``break_year``, default: the last one) states a carry-over
that differs from the previous report by ``k`` (1..5) natural-person applications, still consistent
inside the report: only ``xy.t3.carryover_chain.natural_person`` and ``.total`` of that year can fail.
No error is injected (``inject_error=False``), and 表二/表四 stay as generated (their cross-year
rules are info-level).
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from pathlib import Path

from . import numbers
from .agencies import Agency
from .generator import SynthReport, generate_report

SERIES_LAYOUTS = {"v2019": ("tab_v2019", "pipe_md", "tab_blank_zero"), "v2021": ("tab_v2021", "pipe_md", "tab_blank_zero")}


def template_for_year(year: int) -> str:
    return "v2019" if year <= 2020 else "v2021"


def _rechain(v: dict, spec, target: dict[str, int]) -> None:
    """Set carried_from_prev_year to ``target`` per applicant column and repair the identities."""
    cols = numbers.applicant_cols(spec)
    leaves = list(spec.t3_leaves)
    for c in cols:
        new = int(v[("new_received", c)])
        carried = int(target.get(c, 0))
        avail = new + carried
        nxt = min(int(v[("carried_to_next_year", c)]), avail)
        processed = avail - nxt
        v[("carried_from_prev_year", c)] = carried
        v[("carried_to_next_year", c)] = nxt
        v[("total_processed", c)] = processed
        diff = processed - sum(int(v[(k, c)]) for k in leaves)
        if diff > 0:
            v[("granted", c)] = int(v[("granted", c)]) + diff
        else:
            for k in ["granted"] + [x for x in leaves if x != "granted"]:
                if diff == 0:
                    break
                take = min(int(v[(k, c)]), -diff)
                v[(k, c)] = int(v[(k, c)]) - take
                diff += take
    _totals(v, cols)


def _totals(v: dict, cols: list[str]) -> None:
    rows = {r for r, _ in v}
    for r in rows:
        v[(r, "total")] = sum(int(v[(r, c)]) for c in cols)


def _ensure_carry(v: dict, spec) -> None:
    """Carry at least one natural-person application to next year (so the chain is not 0 == 0)."""
    c = "natural_person"
    if int(v[("carried_to_next_year", c)]) > 0 or int(v[("total_processed", c)]) == 0:
        return
    for k in spec.t3_leaves:
        if int(v[(k, c)]) > 0:
            v[(k, c)] = int(v[(k, c)]) - 1
            v[("total_processed", c)] = int(v[("total_processed", c)]) - 1
            v[("carried_to_next_year", c)] = 1
            break
    _totals(v, numbers.applicant_cols(spec))


@contextlib.contextmanager
def _patched_gen_t3(target: dict[str, int] | None, regime: str | None) -> Iterator[dict]:
    """Wrap numbers.gen_t3 for one generate_report call; yields a dict that receives the values."""
    original = numbers.gen_t3
    seen: dict = {}

    def gen_t3(rng, spec, regime_arg=None):
        v = original(rng, spec, regime_arg or regime)
        if target is not None:
            _rechain(v, spec, target)
        _ensure_carry(v, spec)
        seen["values"] = dict(v)
        seen["cols"] = numbers.applicant_cols(spec)
        return v

    numbers.gen_t3 = gen_t3
    try:
        yield seen
    finally:
        numbers.gen_t3 = original


def generate_series(
    rng: random.Random,
    agency: Agency,
    years: list[int] | range,
    break_carryover: bool,
    *,
    break_year: int | None = None,
    layouts: dict[str, tuple[str, ...]] | None = None,
    regime: str = "small",
) -> list[SynthReport]:
    """One report per year (consecutive years, ascending) of ``agency``.

    ``truth`` of each report gains ``series``: ``{"carryover_broken": bool, "break_delta": int}``
    (True only for the year whose carry-over disagrees with the previous report).
    """
    years = sorted(int(y) for y in years)
    if any(b - a != 1 for a, b in zip(years, years[1:])):
        raise ValueError("years must be consecutive")
    if break_carryover and len(years) < 2:
        raise ValueError("a broken carry-over needs at least two years")
    if break_carryover:
        break_year = years[-1] if break_year is None else int(break_year)
        if break_year not in years[1:]:
            raise ValueError("break_year must be one of the years after the first")
    layouts = layouts or SERIES_LAYOUTS
    out: list[SynthReport] = []
    prev_next: dict[str, int] | None = None
    for year in years:
        template = template_for_year(year)
        layout = rng.choice(layouts[template])
        target = None
        delta = 0
        if prev_next is not None:
            target = dict(prev_next)
            if break_carryover and year == break_year:
                delta = rng.randint(1, 5)
                target["natural_person"] = target.get("natural_person", 0) + delta
        stem = f"series_{year}_{rng.getrandbits(40):010x}"
        with _patched_gen_t3(target, regime) as seen:
            rep = generate_report(
                rng, layout=layout, template=template, year=year, agency=agency, inject_error=False, name=stem
            )
        values, cols = seen["values"], seen["cols"]
        prev_next = {c: int(values[("carried_to_next_year", c)]) for c in cols}
        rep.truth["series"] = {"carryover_broken": bool(delta), "break_delta": delta}
        out.append(rep)
    return out


def write_series(out_dir: str | Path, reports: list[SynthReport], truth_path: str | Path | None = None) -> list[Path]:
    """Write the reports into ``out_dir`` and their truth (one JSON object a line) to ``truth_path``
    (default: ``<out_dir>/../series_truth.jsonl``, outside the landing directory)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth_path = Path(truth_path) if truth_path else out.parent / "series_truth.jsonl"
    paths = []
    with open(truth_path, "a", encoding="utf-8") as fh:
        for rep in reports:
            p = out / rep.filename
            p.write_text(rep.text, encoding="utf-8")
            fh.write(json.dumps(rep.truth, ensure_ascii=False) + "\n")
            paths.append(p)
    return paths
