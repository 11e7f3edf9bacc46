"""Synthetic 政府信息公开工作年度报告 with known truth.

``generate_report`` builds one report (text + truth dict); ``generate_corpus`` writes many to a
directory together with ``truth.jsonl``.  See ``ingest/synth/README.md`` for the truth format and
what each layout exercises.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from . import numbers
from . import text as tx
from .agencies import Agency, UniqueAgencyYears, random_agency
from .cells import Cell, CountStyle, T2Style
from .render import (
    REAL_FORMS,
    LabelStyle,
    PipeStyle,
    RealStyle,
    TabStyle,
    TRow,
    pipe_t2,
    pipe_t3,
    pipe_t4,
    real_cut_line,
    real_t2_rows,
    real_t3_rows,
    real_t4_rows,
    real_table,
    tab_t2,
    tab_t3,
    tab_t4,
)
from .schema import label_variants, pre2019_headings, section_headings, t4_physical_order, template_spec

LAYOUTS: tuple[str, ...] = (
    "tab_v2019",
    "tab_v2021",
    "tab_blank_zero",
    "pipe_md",
    "narrative",
    "headings_only",
    # text forms of published reports (render.REAL_FORMS)
    "pipe_bare",
    "pipe_padded",
    "cell_lines",
    "spaced_cols",
)
CUT_LAYOUT = "cut_table"
# Generated only when named (generate_corpus(layouts=...), --layouts): a page cut inside a table is read
# right, but the rules read a 表三 that stops early as failing (README, "Reader gaps").
EXTRA_LAYOUTS: tuple[str, ...] = (CUT_LAYOUT,)
ALL_LAYOUTS = LAYOUTS + EXTRA_LAYOUTS
# a cut page is drawn in a form the reader reads right, so that only the cut itself is tested
CUT_FORMS = tuple(f for f in REAL_FORMS if f in LAYOUTS)
TABLE_LAYOUTS = frozenset({"tab_v2019", "tab_v2021", "tab_blank_zero", "pipe_md", *REAL_FORMS, CUT_LAYOUT})
# A cut report has lost the cells an injected error or a revision might touch, and the identities
# that would detect them: it gets neither.
WHOLE_TABLE_LAYOUTS = TABLE_LAYOUTS - {CUT_LAYOUT}
LAYOUT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "tab_v2019": ("v2019",),
    "tab_v2021": ("v2021",),
    "tab_blank_zero": ("v2019", "v2021"),
    "pipe_md": ("v2019", "v2021"),
    "headings_only": ("v2019", "v2021"),
    "narrative": ("pre2019",),
    **{lay: ("v2019", "v2021") for lay in (*REAL_FORMS, CUT_LAYOUT)},
}
TEMPLATE_YEARS: dict[str, tuple[int, int]] = {
    "v2019": (2019, 2020),
    "v2021": (2021, 2024),
    "pre2019": (2012, 2020),
}
NARRATIVE_METRICS = ("requests_received_total", "admin_review_total", "admin_litigation_total")


@dataclass
class SynthReport:
    filename: str
    text: str
    truth: dict


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _strip_ordinal(s: str) -> str:
    return re.sub(r"^[一二三四五六七八九十]+、", "", s)


def _pick_heading(rng: random.Random, options: list[str]) -> str:
    weights = [4] + [1] * (len(options) - 1)
    return rng.choices(options, weights=weights)[0]


class _Doc:
    """Line accumulator with the report's paragraph spacing and heading markup."""

    def __init__(self, rng: random.Random, blank_between: bool, md_mode: str):
        self.rng = rng
        self.lines: list[str] = []
        self.blank_between = blank_between
        self.md_mode = md_mode  # none | h2 | mixed | bold
        self.n_headings = 0

    def para(self, s: str, indent: str = "") -> None:
        self.lines.append(indent + s)
        if self.blank_between:
            self.lines.append("")

    def heading(self, s: str, indent: str = "") -> None:
        self.n_headings += 1
        if self.md_mode == "h2":
            s = "## " + s
        elif self.md_mode == "mixed":
            s = ("## " if self.n_headings <= 3 else "#### ") + s
        elif self.md_mode == "bold":
            s = f"**{s}**"
        self.lines.append(indent + s)
        self.lines.append("")

    def block(self, lines: list[str]) -> int:
        """Append a block; returns the index of its first line."""
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
        start = len(self.lines)
        self.lines.extend(lines)
        self.lines.append("")
        return start

    def text(self) -> str:
        out = "\n".join(self.lines).rstrip("\n") + "\n"
        return re.sub(r"\n{4,}", "\n\n\n", out)


def _overview(
    ctx: tx.Ctx,
    doc: _Doc,
    ls: LabelStyle,
    received: int | None,
    review: tuple[int, int] | None,
    legacy_phrasing: bool,
) -> list[dict]:
    """一、总体情况 body for the v2019/v2021 layouts; returns the narrative metrics it states."""
    rng = ctx.rng
    facts: list[dict] = []
    rec_s = tx.received_sentence(ctx, received, legacy_phrasing) if received is not None else None
    rev_s = tx.review_sentence(ctx, review[0], review[1], legacy_phrasing) if review is not None else None
    if received is not None:
        facts.append({"metric": "requests_received_total", "value": float(received)})
    if review is not None:
        facts.append({"metric": "admin_review_total", "value": float(review[0])})
        facts.append({"metric": "admin_litigation_total", "value": float(review[1])})
    doc.para(tx.overview_opener(ctx))
    if rng.random() < 0.7:
        subs = [
            ("主动公开", tx.sub_active),
            ("依申请公开", tx.sub_request),
            ("政府信息管理", tx.sub_management),
            ("平台建设", tx.sub_platform),
            ("监督保障", tx.sub_supervision),
        ]
        chosen = [s for i, s in enumerate(subs) if i < 2 or rng.random() < 0.7]
        inline = rng.random() < 0.5
        suffix = rng.choice(["", "情况"])
        for i, (name, fn) in enumerate(chosen):
            sents = fn(ctx)
            if name == "依申请公开":
                if rec_s:
                    sents.insert(0, rec_s)
                if rev_s:
                    sents.append(rev_s)
            head = ls.apply(f"（{tx.ORDINALS[i]}）{name}{suffix}")
            if inline:
                doc.para(f"{head}。" + "".join(sents))
            else:
                doc.para(head)
                doc.para("".join(sents))
    else:
        sents = tx.sub_active(ctx)
        if rec_s:
            sents.append(rec_s)
        if rev_s:
            sents.append(rev_s)
        doc.para("".join(sents))
    return facts


def _revised(ctx: tx.Ctx, figure: str, value: int) -> int:
    """A corrected republication's new value of a stated figure (recorded in the features)."""
    new = numbers.revise_count(ctx.revision_rng, value)
    ctx.features.setdefault("revisions", []).append(
        {"figure": figure, "original_value": float(value), "revised_value": float(new)}
    )
    return new


def _t2_overrides(rng: random.Random, spec, t2_style: T2Style, ls: LabelStyle) -> dict:
    """Money column headers must agree with where the unit is written."""
    out = {}
    for t in spec.t2:
        for c in t.cols:
            if c.type != "amount_wan_yuan":
                continue
            variants = label_variants(c)
            with_unit = [v for v in variants if "万元" in v]
            without = [v for v in variants if "万元" not in v]
            pool = with_unit if (t2_style.money_unit_in_header and with_unit) else (without or variants)
            if not t2_style.money_unit_in_header and not without:
                t2_style.money_unit_in_header = True
            out[(t.table_id, c.key)] = ls.apply(rng.choice(pool))
    return out


# ------------------------------------------------------------------------------------------------
# report builders
# ------------------------------------------------------------------------------------------------


def _table_report(ctx: tx.Ctx, layout: str, inject: bool) -> tuple[str, dict, str]:
    rng, agency, template = ctx.rng, ctx.agency, ctx.template
    spec = template_spec(template)
    t2 = numbers.gen_t2(rng, spec, agency)
    t3 = numbers.gen_t3(rng, spec)
    t4 = numbers.gen_t4(rng, spec)
    if ctx.revision_rng is not None:
        ctx.features["revisions"] = numbers.revise_tables(ctx.revision_rng, t3, t4, spec)
    injected = [numbers.inject_error(rng, t3, t4, spec)] if inject else []

    # ---- presentation ----
    form = layout if layout in REAL_FORMS else (rng.choice(CUT_FORMS) if layout == CUT_LAYOUT else None)
    if layout == "tab_blank_zero":
        cstyle = CountStyle(
            blank_mode=rng.choices(["total_kept", "all_blank", "mixed"], weights=(65, 15, 20))[0]
        )
    elif layout == "pipe_md" and rng.random() < 0.08:
        cstyle = CountStyle(zero_token="-")
    elif form == "pipe_bare" and rng.random() < 0.4:
        # the only real form in which an empty cell stays visible: one cell per line, or columns
        # separated by spaces, leave no trace of it
        cstyle = CountStyle(blank_mode=rng.choice(["total_kept", "mixed"]))
    else:
        cstyle = CountStyle()
    t2s = T2Style(
        slash_regulations=(not agency.has_rulemaking_power) and rng.random() < 0.45,
        thousands_sep=rng.random() < 0.25,
        plus_sign=rng.random() < 0.7,
        money_unit_in_header=rng.random() < 0.55,
        money_cell_unit=rng.choices(["万元", "none", "元"], weights=(50, 35, 15))[0],
        money_space=rng.random() < 0.5,
        none_word_fees=rng.random() < 0.1,
        dash_zero_money=rng.random() < 0.15,
    )
    if form == "spaced_cols":
        # a unit inside a cell (12.5 万元) would be one more space-separated token than the columns
        t2s.money_unit_in_header = True
    ls = LabelStyle.random(rng)
    overrides = _t2_overrides(rng, spec, t2s, ls)
    cells: dict[tuple[str, str, str], Cell] = {}
    for t in spec.t2:
        for r in t.rows:
            for c in t.cols:
                cells[(t.table_id, r.key, c.key)] = t2s.render(
                    rng, t.table_id, r.key, c.key, c.type, t2[t.table_id][(r.key, c.key)]
                )
    # an all-zero table written entirely blank would print no number at all, which the schema's
    # table_absent policy cannot tell from a missing table: keep its totals in that case
    styles = {}
    for tid, vals in (("t3", t3), ("t4", t4)):
        empty = cstyle.blank_mode == "all_blank" and not any(vals.values())
        styles[tid] = CountStyle(blank_mode="total_kept") if empty else cstyle
    for r in spec.t3_data_rows:
        for c in spec.t3_cols:
            cells[("t3", r.key, c.key)] = styles["t3"].render(
                rng, "t3", r.key, c.key, int(t3[(r.key, c.key)])
            )
    for r, c in t4_physical_order():
        cells[("t4", r, c)] = styles["t4"].render(rng, "t4", r, c, int(t4[(r, c)]))

    # ---- narrative figures consistent with the tables ----
    received = int(t3[("new_received", "total")]) if rng.random() < 0.5 else None
    review = None
    if rng.random() < 0.35:
        review = (
            int(t4[("administrative_review", "total")]),
            int(t4[("litigation_without_review", "total")] + t4[("litigation_after_review", "total")]),
        )

    # ---- text ----
    pipe = layout == "pipe_md"
    md_mode = rng.choice(["h2", "bold", "none"]) if pipe else rng.choice(["none", "none", "h2", "mixed"])
    doc = _Doc(rng, blank_between=rng.random() < 0.8, md_mode=md_mode)
    chrome = rng.random() < 0.3 or ctx.publication_date is not None
    if chrome:
        doc.lines += tx.chrome_top(ctx)
    if rng.random() < 0.08 and agency.admin_level != "province":
        doc.lines += [agency.province + (agency.city or "") + (agency.county or "") + agency.dept_suffix, ""]
    doc.lines += tx.title_lines(ctx, md=md_mode in ("h2", "mixed"))
    doc.lines.append("")
    sh = section_headings()
    doc.heading(_pick_heading(rng, sh["overview"]))
    facts = _overview(ctx, doc, ls, received, review, legacy_phrasing=rng.random() < 0.3)

    if pipe:
        ps = PipeStyle.random(rng)
        t2_lines, t3_lines = pipe_t2(rng, spec, cells, ls, ps, overrides), pipe_t3(rng, spec, cells, ls, ps)
        t4_lines = pipe_t4(rng, spec, cells, ls, ps)
        ctx.features.update(pipe_repeat_spans=ps.repeat_spans, pipe_t2_separate=ps.t2_separate)
    elif form:
        rs = RealStyle.random(rng, form)
        record = layout != CUT_LAYOUT
        drawn = [
            real_t2_rows(rng, spec, cells, ls, rs, overrides),
            real_t3_rows(rng, spec, cells, ls, rs),
            real_t4_rows(rng, spec, cells, ls),
        ]
        real = [(rows, *real_table(rng, rows, span, rs, record)) for rows, span in drawn]
        (_, t2_lines, _), (_, t3_lines, _), (_, t4_lines, _) = real
        ctx.features.update(
            real_form=form, real_sep=rs.sep, real_extra_empty=rs.extra_empty, real_t3_header=rs.t3_header,
            real_next_line_p=rs.next_line_p, real_spaced_label_p=rs.spaced_label_p,
            real_short_header_p=rs.short_header_p,
        )
    else:
        ts = TabStyle.random(rng)
        t2_lines, t3_lines = tab_t2(rng, spec, cells, ls, ts, overrides), tab_t3(rng, spec, cells, ls, ts)
        t4_lines = tab_t4(rng, spec, cells, ls, trailing=rng.random() < 0.3)
        ctx.features.update(tab_pads=ts.pads, tab_phantom_zero=ts.phantom_zero)
    missing_heading = rng.random() < 0.07
    if not missing_heading:
        doc.heading(_pick_heading(rng, sh["t2_section"]))
    starts = [doc.block(t2_lines)]
    doc.heading(_pick_heading(rng, sh["t3_section"]))
    starts.append(doc.block(t3_lines))
    doc.heading(_pick_heading(rng, sh["t4_section"]))
    starts.append(doc.block(t4_lines))
    doc.heading(_pick_heading(rng, sh["problems"]))
    for p in tx.problems_paragraphs(ctx):
        doc.para(p)
    doc.heading(_pick_heading(rng, sh["other_matters"]))
    for p in tx.other_matters(ctx):
        doc.para(p)
    if rng.random() < 0.1:
        doc.para("（此件主动公开）" if ls.paren == "full" else "(此件主动公开)")
    if chrome and rng.random() < 0.8:
        doc.lines += tx.chrome_bottom(ctx)
    printed = list(cells.values())
    if layout == CUT_LAYOUT:
        drawn_at = [(rows, ends, start) for (rows, _, ends), start in zip(real, starts, strict=True)]
        shown, cut_mode = _cut_inside_table(rng, doc, drawn_at, rs)
        printed = [c for k, c in cells.items() if k in shown]
        ctx.features.update(cut_mode=cut_mode, cut_cells=len(printed))

    ctx.features.update(
        paren=ls.paren,
        alias_p=ls.alias_p,
        quote=ls.quote,
        blank_mode=cstyle.blank_mode,
        blank_mode_by_table={k: v.blank_mode for k, v in styles.items()},
        zero_token=cstyle.zero_token,
        md_mode=md_mode,
        chrome=chrome,
        t2_missing_heading=missing_heading,
        slash_regulations=t2s.slash_regulations,
        money_unit_in_header=t2s.money_unit_in_header,
        money_cell_unit=None if t2s.money_unit_in_header else t2s.money_cell_unit,
    )
    truth = {
        "tables_present": True,
        "cells": [c.to_truth() for c in printed],
        "narrative": facts,
        "injected_errors": injected,
    }
    ext = ".md" if pipe or (md_mode != "none" and rng.random() < 0.5) else ".txt"
    return doc.text(), truth, ext


def _cut_inside_table(
    rng: random.Random, doc: _Doc, tables: list[tuple[list[TRow], list[int], int]], rs: RealStyle
) -> tuple[set[tuple[str, str, str]], str]:
    """Cut the document inside a table, as a web page's opening is cut at a fixed size; returns the
    cells printed before the cut, and where the cut fell. A row cut after some of its values has those
    values (or empty cells) in the truth, as the hand-recorded truth of real page openings has: the
    document ends there, so what it printed are the row's first cells."""
    data = []  # (first line, last line, row) of every data row, in reading order
    for rows, ends, start in tables:
        for i, row in enumerate(rows):
            if row.kind == "data":
                data.append((start + (ends[i - 1] + 1 if i else 0), start + ends[i], row))
    j = rng.randrange(1, len(data))
    first, last, row = data[j]
    mode = rng.choice(["after", "before", "inside"])
    partial, k = "", 0
    if mode == "after":
        cut, whole = last + 1, j + 1
    elif mode == "inside" and last > first:
        cut, whole = rng.randint(first + 1, last), j
        # the values printed on the row's lines before the cut (one cell a line in these forms)
        values = [v.strip() for v in row.cells[row.n_label:]]
        for line in doc.lines[first:cut]:
            if k < len(values) and values[k] and line.replace("|", "").strip() == values[k]:
                k += 1
    else:
        mode, cut, whole = "before", first, j
        n_values = len(row.cells) - row.n_label
        if last == first and rs.form in ("pipe_bare", "spaced_cols") and n_values > 1 and rng.random() < 0.5:
            k = rng.randrange(n_values)
            mode, partial = "values", real_cut_line(row, rs, k)
            shown = row.cells[row.n_label : row.n_label + k]
            if shown and not any(shown):
                # only empty cells before the cut: the reader takes them for a row of blanks
                mode = "values_blank"
        else:
            # inside the row's first label, never inside a number (a cut number reads as a smaller one)
            m = re.match(r"[^\d|\s]{2,}", doc.lines[cut].lstrip())
            if m:
                mode, partial = "label", m.group()[: rng.randint(1, len(m.group()) - 1)]
    doc.lines = doc.lines[:cut] + ([partial] if partial else [])
    cut_row = set(row.keys[:k]) if mode in ("values", "values_blank", "inside") else set()
    return {k for _, _, r in data[:whole] for k in r.keys} | cut_row, mode


def _headings_only_report(ctx: tx.Ctx) -> tuple[str, dict, str]:
    rng = ctx.rng
    ls = LabelStyle.random(rng)
    doc = _Doc(rng, blank_between=rng.random() < 0.8, md_mode=rng.choice(["none", "none", "h2"]))
    chrome = rng.random() < 0.5 or ctx.publication_date is not None
    if chrome:
        doc.lines += tx.chrome_top(ctx)
    doc.lines += tx.title_lines(ctx, md=doc.md_mode == "h2")
    doc.lines.append("")
    sh = section_headings()
    received = (0 if rng.random() < 0.3 else rng.randint(1, 40)) if rng.random() < 0.6 else None
    review = None
    if rng.random() < 0.4:
        review = (0, 0) if rng.random() < 0.75 else (rng.randint(0, 3), rng.randint(0, 2))
    if ctx.revision_rng is not None:
        if received is not None:
            received = _revised(ctx, "requests_received_total", received)
        elif review is not None:
            review = (_revised(ctx, "admin_review_total", review[0]), review[1])
    doc.heading(_pick_heading(rng, sh["overview"]))
    facts = _overview(ctx, doc, ls, received, review, legacy_phrasing=rng.random() < 0.5)
    indent = " " * rng.choice([0, 0, 4, 7])
    for key in ("t2_section", "t3_section", "t4_section"):
        doc.heading(_pick_heading(rng, sh[key]), indent=indent)
    doc.heading(_pick_heading(rng, sh["problems"]), indent=indent)
    for p in tx.problems_paragraphs(ctx):
        doc.para(p)
    if rng.random() < 0.8:
        doc.heading(_pick_heading(rng, sh["other_matters"]), indent=indent)
        for p in tx.other_matters(ctx):
            doc.para(p)
    if chrome:
        doc.lines += tx.chrome_bottom(ctx)
    ctx.features.update(paren=ls.paren, md_mode=doc.md_mode, chrome=chrome)
    truth = {"tables_present": False, "cells": [], "narrative": facts, "injected_errors": []}
    return doc.text(), truth, ".txt"


def _narrative_report(ctx: tx.Ctx) -> tuple[str, dict, str]:
    rng = ctx.rng
    heads = pre2019_headings()
    doc = _Doc(rng, blank_between=rng.random() < 0.5, md_mode="none")
    chrome = rng.random() < 0.3 or ctx.publication_date is not None
    if chrome:
        doc.lines += tx.chrome_top(ctx)
    doc.lines += tx.title_lines(ctx, md=False)
    doc.lines.append("")
    facts: list[dict] = []

    received = None
    if rng.random() < 0.92:
        received = (
            0
            if rng.random() < 0.35
            else (rng.randint(1, 30) if rng.random() < 0.85 else rng.randint(31, 250))
        )
    review_mode = rng.choices(["both", "review_only", "absent"], weights=(75, 8, 17))[0]
    r = 0 if rng.random() < 0.7 else rng.randint(1, 4)
    lit = 0 if rng.random() < 0.8 else rng.randint(1, 3)
    if ctx.revision_rng is not None:
        if received is not None:
            received = _revised(ctx, "requests_received_total", received)
        elif review_mode != "absent":
            r = _revised(ctx, "admin_review_total", r)

    plan = ["overview", "active", "on_request"]
    if rng.random() < 0.4:
        plan.append("consultation")
    if rng.random() < 0.7:
        plan.append("fees")
    fold_review = rng.random() < 0.3
    if review_mode != "absent" and not fold_review:
        plan.append("review_litigation")
    if rng.random() < 0.85:
        plan.append("problems")
    if rng.random() < 0.3:
        plan.append("other")
    titles = {k: _strip_ordinal(_pick_heading(rng, heads[k])) for k in plan}
    if rng.random() < 0.6:
        doc.para(tx.legacy_intro(ctx, [titles[k] for k in plan]))

    def review_text() -> str:
        if review_mode == "review_only":
            facts.append({"metric": "admin_review_total", "value": float(r)})
            return (
                f"{ctx.pp()}因政府信息公开申请行政复议{ctx.n(r)}件。"
                if r
                else f"{ctx.pp()}未发生因政府信息公开申请提起的行政复议。"
            )
        facts.append({"metric": "admin_review_total", "value": float(r)})
        facts.append({"metric": "admin_litigation_total", "value": float(lit)})
        return tx.review_sentence(ctx, r, lit, legacy=True)

    for i, key in enumerate(plan):
        doc.heading(tx.heading_number(i) + titles[key])
        if key == "overview":
            paras = tx.legacy_overview(ctx)
            if rng.random() < 0.1:
                paras.append(tx.legacy_training_trap(ctx))
        elif key == "active":
            paras = tx.legacy_active(ctx)
        elif key == "on_request":
            if received is None:
                sents = [
                    ctx.pick(
                        [
                            "严格按照规定程序办理依申请公开事项，做到依法依规答复。",
                            "进一步规范依申请公开的受理、审查、答复等环节。",
                        ]
                    )
                ]
            else:
                facts.append({"metric": "requests_received_total", "value": float(received)})
                sents = [tx.received_sentence(ctx, received, legacy=True)] + tx.received_details(
                    ctx, received
                )
            paras = ["".join(sents)]
            if fold_review and review_mode != "absent":
                paras.append(review_text())
        elif key == "consultation":
            paras = tx.legacy_consultation(ctx)
        elif key == "fees":
            paras = tx.legacy_fees(ctx)
        elif key == "review_litigation":
            paras = [review_text()]
        elif key == "problems":
            paras = tx.problems_paragraphs(ctx)
        else:
            paras = ["无。"]
        for p in paras:
            doc.para(p)
    if chrome and rng.random() < 0.8:
        doc.lines += tx.chrome_bottom(ctx)
    ctx.features.update(chrome=chrome, review_mode=review_mode, review_folded=fold_review, sections=plan)
    truth = {"tables_present": False, "cells": [], "narrative": facts, "injected_errors": []}
    return doc.text(), truth, ".txt"


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------


def generate_report(
    rng: random.Random,
    *,
    layout: str,
    template: str,
    year: int,
    agency: Agency | None = None,
    inject_error: bool = False,
    name: str | None = None,
    publication_date: dt.date | None = None,
    revision_rng: random.Random | None = None,
) -> SynthReport:
    """One synthetic report.  ``name`` is the file stem (random when omitted); the extension follows
    the layout (.md for pipe tables and some markdown-headed tab reports, .txt otherwise).

    ``publication_date`` forces the web-page header and prints that date in it.  ``revision_rng``
    makes a corrected republication: called with an rng in the state the original was made from, the
    same report comes out with some figures revised (``features.revisions``), identities kept."""
    if layout not in LAYOUT_TEMPLATES:
        raise ValueError(f"unknown layout {layout!r}; expected one of {ALL_LAYOUTS}")
    if template not in LAYOUT_TEMPLATES[layout]:
        raise ValueError(f"layout {layout!r} takes template {LAYOUT_TEMPLATES[layout]}, not {template!r}")
    if inject_error and layout not in WHOLE_TABLE_LAYOUTS:
        raise ValueError("inject_error needs a layout with whole tables")
    agency = agency or random_agency(rng)
    stem = name or f"synth_{rng.getrandbits(40):010x}"
    period_partial = layout == "narrative" and rng.random() < 0.15
    ctx = tx.Ctx(
        rng=rng,
        agency=agency,
        year=year,
        template=template,
        period_partial=period_partial,
        publication_date=publication_date.isoformat() if publication_date else None,
        revision_rng=revision_rng,
    )
    if layout in TABLE_LAYOUTS:
        text, body, ext = _table_report(ctx, layout, inject_error)
    elif layout == "headings_only":
        text, body, ext = _headings_only_report(ctx)
    else:
        text, body, ext = _narrative_report(ctx)
    filename = stem + ext
    truth = {
        "filename": filename,
        "layout": layout,
        **agency.to_truth(),
        "report_year": year,
        "template_version": template,
        # the date the web-page header prints (YYYY-MM-DD), None without one
        "publication_date": ctx.publication_date,
        "tables_present": body["tables_present"],
        "period_partial": period_partial,
        "cells": body["cells"],
        "narrative": body["narrative"],
        # channel figures the sentences state: [{channel, metric, value, is_approximate}]
        "channels": ctx.channels,
        "injected_errors": body["injected_errors"],
        "features": ctx.features,
    }
    return SynthReport(filename=filename, text=text, truth=truth)


def random_template_year(rng: random.Random, layout: str) -> tuple[str, int]:
    template = rng.choice(LAYOUT_TEMPLATES[layout])
    lo, hi = TEMPLATE_YEARS[template]
    return template, rng.randint(lo, hi)


def generate_corpus(
    out_dir: str | Path,
    n: int,
    seed: int,
    layouts: list[str] | tuple[str, ...] | None = None,
    inject_error_rate: float = 0.0,
    republish_rate: float = 0.0,
) -> list[Path]:
    """Write ``n`` reports to ``out_dir`` plus ``truth.jsonl`` (one object per report, in file order).

    Deterministic for a given seed: report i uses ``random.Random(f"{seed}:{i}")`` and layouts are
    assigned round-robin, so every layout in ``layouts`` appears once n >= len(layouts).  No two
    reports share an (agency name, report year) pair (see ``UniqueAgencyYears``), except that with
    probability ``republish_rate`` a report also gets a corrected republication, written right after
    it (``<stem>_corrected``): same agency and year, a later publication date, some figures revised.
    Returns the report paths (not truth.jsonl).
    """
    layouts = tuple(layouts or LAYOUTS)
    for lay in layouts:
        if lay not in LAYOUT_TEMPLATES:
            raise ValueError(f"unknown layout {lay!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    agencies = UniqueAgencyYears(seed)
    paths: list[Path] = []
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            rng = random.Random(f"{seed}:{i}")
            layout = layouts[i % len(layouts)]
            template, year = random_template_year(rng, layout)
            inject = layout in WHOLE_TABLE_LAYOUTS and rng.random() < inject_error_rate
            stem = f"r{i:05d}_{rng.getrandbits(32):08x}"
            agency = agencies.draw(rng, year, key=i)
            # a separate rng: corpora without republications stay exactly as they were
            republish_rng = random.Random(f"{seed}:{i}:republish")
            republish = republish_rate > 0 and layout != CUT_LAYOUT and republish_rng.random() < republish_rate
            dates: tuple[dt.date, dt.date] | tuple[None, None] = (None, None)
            if republish:
                dates = _republication_dates(republish_rng, year)
                state_before_report = rng.getstate()
            kw = dict(layout=layout, template=template, year=year, agency=agency)
            reps = [generate_report(rng, **kw, inject_error=inject, name=stem, publication_date=dates[0])]
            if republish:
                same_draws = random.Random()
                same_draws.setstate(state_before_report)
                correction = generate_report(
                    same_draws,
                    **kw,
                    name=f"{stem}_corrected",
                    publication_date=dates[1],
                    revision_rng=random.Random(f"{seed}:{i}:revision"),
                )
                reps[0].truth.update(superseded=True, superseded_by=correction.filename)
                correction.truth["supersedes"] = reps[0].filename
                reps.append(correction)
            for rep in reps:
                p = out / rep.filename
                p.write_text(rep.text, encoding="utf-8")
                fh.write(json.dumps(rep.truth, ensure_ascii=False, check_circular=False) + "\n")
                paths.append(p)
    return paths


def _republication_dates(rng: random.Random, year: int) -> tuple[dt.date, dt.date]:
    """Publication dates of a report and of its correction, strictly later (1 week to 6 months)."""
    first = dt.date(year + 1, rng.randint(1, 3), rng.randint(1, 28))
    return first, first + dt.timedelta(days=rng.randint(7, 180))
