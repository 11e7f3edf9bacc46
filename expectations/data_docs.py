"""Data Docs of the accounting rules that open offline, from a file path, and read as sentences.

Great Expectations' own Data Docs load about fifteen scripts and style sheets from CDNs (jQuery,
Bootstrap, bootstrap-table, Font Awesome, Vega): offline their index is empty (the table is drawn by
bootstrap-table) and the rules show as raw arguments, a failing row as a pandas row number. The
great_expectations package ships only its own style sheet, fonts and images, so:

* ``index.html`` and one page per suite are written here as plain HTML with an inline style sheet,
  no script and no remote reference: every suite, every expectation as a sentence (the YAML identity
  in words: ``一 + 二 = 三(七) + 四 for the 总计 column``) with its pass / fail / not-assessable
  counts, and every failing report named by report id, agency, year and source file;
* Great Expectations' own rendering of the same validations is kept under ``ge/``, with every remote
  script, style sheet and image removed or pointed at the copies the package ships.

Nothing here imports dagster; great_expectations only through :mod:`expectations.runner`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from ingest.registry import registry

from .identities import load_schema

MAX_LISTED_FAILURES = 200  # failing reports listed per expectation (the marts have them all)
_REF = re.compile(r"\b(t[234][a-z0-9_]*)\.([a-z0-9_]+)\.([a-z0-9_@]+)\b")
_CN_MARKER = re.compile(r"^([一二三四五六七八九十]+)、")
_PAREN_MARKER = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")
_DIGIT_MARKER = re.compile(r"^(\d+)[.．、]")
# the （n） group of 三、本年度办理结果 that holds the numbered outcome leaves
_OUTCOME_PARENT = {"withheld": "(三)", "unable": "(四)", "not_processed": "(五)", "other": "(六)"}


# --------------------------------------------------------------------------------------------------
# rules in words
# --------------------------------------------------------------------------------------------------


@cache
def _row_labels() -> dict[tuple[str, str], tuple[str, str]]:
    """(table_id, row_key) -> (number as printed, label without it); the v2021 wording wins."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    rows = registry().ref_row_keys().sort("template_version")
    for rec in rows.iter_rows(named=True):
        label = (rec["label_zh"] or rec["row_key"]).strip()
        number, text = "", label
        if m := _CN_MARKER.match(label):
            number, text = m.group(1), label[m.end():]
        elif m := _PAREN_MARKER.match(label):
            number, text = f"三({m.group(1)})", label[m.end():]
        elif (m := _DIGIT_MARKER.match(label)) and rec["outcome_category"] in _OUTCOME_PARENT:
            number, text = f"三{_OUTCOME_PARENT[rec['outcome_category']]}{m.group(1)}", label[m.end():]
        out[(rec["table_id"], rec["row_key"])] = (number, text)
    return out


@cache
def _column_labels() -> dict[tuple[str, str], str]:
    schema = load_schema()
    shared = schema.get("shared", {})
    out = {("t3", c["key"]): c["zh"] for c in shared.get("t3_columns", []) if "zh" in c}
    out.update({("t4", c["key"]): c["zh"] for c in shared.get("t4", {}).get("columns", []) if "zh" in c})
    for version in ("v2019", "v2021"):  # 表二's sub-tables: the later wording wins
        for table_id, table in (schema.get(version, {}).get("tables") or {}).items():
            for c in (table or {}).get("columns", []) if isinstance(table, dict) else []:
                if isinstance(c, dict) and "zh" in c:
                    out[(table_id, c["key"])] = c["zh"]
    return out


def _row_words(table_id: str, row_key: str) -> tuple[str, str]:
    if row_key.endswith("_group") and row_key[: -len("_group")] in _OUTCOME_PARENT:
        # a group of outcome leaves (不予公开, 无法提供, 不予处理, 其他处理), numbered as printed
        group = row_key[: -len("_group")]
        return f"三{_OUTCOME_PARENT[group]}", {"withheld": "不予公开", "unable": "无法提供",
                                             "not_processed": "不予处理", "other": "其他处理"}[group]
    return _row_labels().get((table_id, row_key), ("", row_key))


def _col_words(table_id: str, col_key: str) -> str:
    return _column_labels().get((table_id, col_key), col_key)


_GROUP_SUM = re.compile(r"sum\((t[34])\.@([a-z_]+)\.([a-z0-9_]+)\)")
_ROW_SET_SUM = re.compile(r"sum\((t[34])\.([a-z0-9_]+)\.@([a-z0-9_]+)\)")
_SET_SUM = re.compile(r"sum\(@([a-z0-9_]+)\)")
_T2_ITEM = {"1": "一", "5": "五", "6": "六", "8": "八", "9": "九"}


def _table_name(t: str) -> str:
    if t.startswith("t2_art20_"):
        return f"表二 第二十条第({_T2_ITEM.get(t.rsplit('_', 1)[1], t.rsplit('_', 1)[1])})项"
    return {"t3": "表三", "t4": "表四"}.get(t, t)


def _words_for_sets(expr: str) -> str:
    """``sum(t3.@withheld.total)`` -> the printed group ``三(三)``; ``sum(@t3_applicant_types)`` -> its
    columns, so the sentence reads as the form does."""
    def group(m: re.Match) -> str:
        parent = _OUTCOME_PARENT.get(m.group(2))
        return f"{m.group(1)}.{m.group(2)}_group.{m.group(3)}" if parent else m.group(0)

    def columns(m: re.Match) -> str:
        keys = load_schema().get("sets", {}).get(m.group(1))
        return "(" + " + ".join(_column_labels().get(("t3", k), k) for k in keys) + ")" if keys else m.group(0)

    def row_set(m: re.Match) -> str:
        keys = load_schema().get("sets", {}).get(m.group(3))
        return " + ".join(f"{m.group(1)}.{m.group(2)}.{k}" for k in keys) if keys else m.group(0)

    expr = _ROW_SET_SUM.sub(row_set, expr)
    return _SET_SUM.sub(columns, _GROUP_SUM.sub(group, expr))


def rule_sentence(expr: str) -> str:
    """The bound identity in words, e.g. ``一 + 二 = 三(七) + 四 for the 总计 column`` for
    ``t3.new_received.total + t3.carried_from_prev_year.total == t3.total_processed.total + ...``."""
    expr = _words_for_sets(expr)
    refs = _REF.findall(expr)
    if not refs:
        return expr.replace("==", "=")
    tables = {t for t, _, _ in refs}
    cols = {c for _, _, c in refs}
    rows = {(t, r) for t, r, _ in refs}
    def name_row(t: str, r: str) -> str:
        number, text = _row_words(t, r)
        return number or text

    if len(tables) == 1 and len(cols) == 1 and len(rows) > 1:
        (t,), (c,) = tables, cols
        formula = _REF.sub(lambda m: name_row(m.group(1), m.group(2)), expr)
        legend = "; ".join(
            f"{n} {txt}" if n else txt
            for n, txt in (_row_words(t, r) for r in dict.fromkeys(r for _, r, _ in refs))
        )
        sentence = f"{formula} for the {_col_words(t, c)} column of {_table_name(t)} ({legend})"
    elif len(tables) == 1 and len(rows) == 1:
        ((t, r),) = rows
        number, text = _row_words(t, r)
        formula = _REF.sub(lambda m: _col_words(m.group(1), m.group(3)), expr)
        sentence = f"{formula} on the row {(number + ' ') if number else ''}{text} of {_table_name(t)}"
    else:
        def cell(m: re.Match) -> str:
            t, r, c = m.groups()
            return f"{_table_name(t)} {name_row(t, r)}/{_col_words(t, c)}"

        sentence = _REF.sub(cell, expr)
    sentence = sentence.replace("==", "=").replace("<=", "≤").replace(">=", "≥")
    return re.sub(r"\s+", " ", sentence).strip()


# --------------------------------------------------------------------------------------------------
# the site
# --------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; margin-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.pass { color: #176f2c; font-weight: 600; } .fail { color: #b00020; font-weight: 600; }
.na { color: #7a5d00; } .muted { color: #666; font-size: .85rem; }
.rule { border-left: 4px solid #ccc; padding-left: .8rem; margin: 1.2rem 0; }
.rule.failing { border-left-color: #b00020; }
code { background: #f6f6f6; padding: 0 .2rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """``rows`` hold HTML already escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _validations(context) -> list:
    """Every suite validation result the context holds, newest first per suite."""
    store = context.validation_results_store
    results = [store.get(key) for key in store.list_keys()]
    results.sort(key=lambda v: (v.suite_name, str(v.meta.get("run_id", ""))))
    latest: dict[str, object] = {}
    for v in results:
        latest[v.suite_name] = v
    return [latest[name] for name in sorted(latest)]


def _suite_version(suite_name: str) -> str | None:
    version = suite_name.removeprefix("accounting_rules_")
    return version if version in ("v2019", "v2021") else None


def _failures(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(
        """
        select r.rule_id, r.identity_id, r.severity, r.report_id, d.agency_name, d.report_year, d.template_version,
               d.source_path, r.lhs, r.rhs, r.detail
        from raw.rule_results r
        left join marts.dim_report d using (report_id)
        where r.status = 'fail'
        order by r.rule_id, d.agency_name, d.report_year, r.report_id
        """
    ).pl()


def _status_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.execute(
        """
        select r.rule_id, r.identity_id, r.severity,
               count(*) filter (where status = 'pass') as pass,
               count(*) filter (where status = 'fail') as fail,
               count(*) filter (where status = 'not_assessable') as not_assessable
        from raw.rule_results r left join marts.dim_report d using (report_id)
        group by all
        """
    ).pl()


def _ge_page_for(ge_dir: Path, suite_name: str) -> str | None:
    pages = sorted((ge_dir / "validations" / suite_name).rglob("*.html"))
    return pages[-1].relative_to(ge_dir.parent).as_posix() if pages else None


def _suite_page(suite, version: str | None, failures: pl.DataFrame, counts: pl.DataFrame,
                ge_page: str | None) -> tuple[str, dict]:
    totals = {"pass": 0, "fail": 0, "not_assessable": 0}
    sections, failing_rules = [], 0
    for result in suite.results:
        meta = result.expectation_config.meta or {}
        rule_id = meta.get("rule_id", "?")
        expr = meta.get("expr", "")
        # a rule id is bound once per template version: the identity says which
        key = (pl.col("rule_id") == rule_id) & (pl.col("identity_id") == meta.get("identity_id"))
        rule_counts = counts.filter(key)
        n = {k: int(rule_counts[k].sum()) if rule_counts.height else 0 for k in totals}
        for k in totals:
            totals[k] += n[k]
        rule_fail = failures.filter(key)
        severity = rule_counts["severity"][0] if rule_counts.height else ""
        res = result.result or {}
        ok = not rule_fail.height
        failing_rules += not ok
        listed = rule_fail.head(MAX_LISTED_FAILURES)
        table = ""
        if listed.height:
            table = _table(
                ["report id", "agency", "year", "source file", "left side", "right side", "detail"],
                [[f"<code>{_e(r['report_id'])}</code>", _e(r["agency_name"]), _e(r["report_year"]),
                  _e(r["source_path"]), _e(_num(r["lhs"])), _e(_num(r["rhs"])), _e(r["detail"])]
                 for r in listed.iter_rows(named=True)],
            )
            if rule_fail.height > listed.height:
                table += (f"<p class=muted>… and {rule_fail.height - listed.height} more "
                          f"(marts.fct_rule_results where rule_id = '{_e(rule_id)}' and status = 'fail')</p>")
        if not ok:
            status = f"<span class=fail>fails in {rule_fail.height} report(s)</span>"
        elif n["pass"]:
            status = "<span class=pass>holds in every assessed report</span>"
        else:
            status = "<span class=na>not assessable in any report</span>"
        sections.append(
            f"<div class=\"rule{'' if ok else ' failing'}\"><h3>{_e(rule_sentence(expr))}</h3>"
            f"<p>{status} · {n['pass']} pass, {n['fail']} fail, {n['not_assessable']} not assessable"
            f" · <span class=muted>rule <code>{_e(rule_id)}</code>, severity {_e(severity)},"
            f" identity <code>{_e(meta.get('identity_id', ''))}</code>; in this run Great Expectations"
            f" checked {_e(res.get('element_count'))} row(s), {_e(res.get('unexpected_count'))} unexpected,"
            f" {_e(res.get('missing_count'))} not assessable</span></p>"
            f"<p class=muted>expression: <code>{_e(expr)}</code></p>{table}</div>"
        )
    ge_link = f" · <a href=\"../{_e(ge_page)}\">Great Expectations' own page</a>" if ge_page else ""
    body = (
        f"<p><a href=\"../index.html\">← all suites</a>{ge_link}</p>"
        f"<h1>Suite {_e(suite.suite_name)}</h1>"
        f"<p>{len(suite.results)} expectations, {failing_rules} with failing reports; report × rule: "
        f"{totals['pass']} pass, {totals['fail']} fail, {totals['not_assessable']} not assessable"
        f"{(' (the ' + version + ' rules; reports without its tables are not assessable)') if version else ''}.</p>" + "".join(sections)
    )
    summary = {"suite": suite.suite_name, "expectations": len(suite.results), "failing_expectations": failing_rules,
               **totals}
    return _page(f"Suite {suite.suite_name}", body), summary


def _num(v) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _offline(ge_dir: Path) -> None:
    """Strip every remote resource from Great Expectations' own pages (the package ships its style
    sheet, fonts and logo; jQuery, Bootstrap and the rest are not shipped and are dropped)."""
    remote_script = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.S)
    remote_link = re.compile(r"<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>", re.S)
    remote_css_url = re.compile(r"url\(['\"]?https?://[^)'\"]*['\"]?\)")
    logo = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*?/logo-long\.png(\?[^\"']*)?")
    for page in ge_dir.rglob("*.html"):
        depth = len(page.relative_to(ge_dir).parts) - 1
        local_logo = "../" * depth + "static/images/logo-long.png"
        text = page.read_text(encoding="utf-8")
        text = remote_script.sub("", text)
        text = remote_link.sub("", text)
        text = remote_css_url.sub("none", text)
        text = logo.sub(local_logo, text)
        page.write_text(text, encoding="utf-8")


def remote_references(site: Path) -> list[str]:
    """Every resource a page of ``site`` would load from the network (none, once built)."""
    loads = re.compile(r"(?:<script[^>]*\bsrc|<link[^>]*\bhref|<img[^>]*\bsrc)=\"(https?://[^\"]*)\"|url\(['\"]?(https?://[^)'\"]*)")
    found = []
    for page in sorted(site.rglob("*.html")):
        for m in loads.finditer(page.read_text(encoding="utf-8")):
            found.append(f"{page.relative_to(site)}: {m.group(1) or m.group(2)}")
    return found


def build_site(target_dir: str | os.PathLike, warehouse_path: str | os.PathLike, context) -> Path:
    """Write the Data Docs of the validations held by the GE ``context`` into ``target_dir``
    (replaced whole, so no page of an older run stays behind); returns ``index.html``."""
    target = Path(target_dir)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "suites").mkdir(parents=True)
    ge_dir = tmp / "ge"
    _build_ge_site(context, ge_dir)
    _offline(ge_dir)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        failures, counts = _failures(con), _status_counts(con)
    finally:
        con.close()
    rows, summaries = [], []
    for suite in _validations(context):
        version = _suite_version(suite.suite_name)
        page, summary = _suite_page(suite, version, failures, counts, _ge_page_for(ge_dir, suite.suite_name))
        name = f"suites/{_slug(suite.suite_name)}.html"
        (tmp / name).write_text(page, encoding="utf-8")
        summaries.append(summary)
        cls = "fail" if summary["failing_expectations"] else "pass"
        rows.append([f"<a href=\"{name}\">{_e(suite.suite_name)}</a>", str(summary["expectations"]),
                     f"<span class={cls}>{summary['failing_expectations']}</span>", str(summary["pass"]),
                     str(summary["fail"]), str(summary["not_assessable"])])
    by_report = (
        failures.group_by("report_id", "agency_name", "report_year", "source_path")
        .agg(pl.len().alias("failures"), pl.col("rule_id").unique().sort().str.join(", ").alias("rules"))
        .sort(["failures", "report_id"], descending=[True, False])
    )
    report_rows = [[f"<code>{_e(r['report_id'])}</code>", _e(r["agency_name"]), _e(r["report_year"]),
                    _e(r["source_path"]), str(r["failures"]), _e(r["rules"])]
                   for r in by_report.head(MAX_LISTED_FAILURES).iter_rows(named=True)]
    body = (
        "<h1>Accounting rules · Data Docs</h1>"
        f"<p class=muted>Validations of the last run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, warehouse "
        f"<code>{_e(Path(warehouse_path).resolve())}</code>. A failure is a finding about a report (the "
        "agency's own arithmetic), never a pipeline error; not assessable = a cell without a usable number "
        "or a table the report does not have.</p>"
        "<h2>Suites</h2>"
        + _table(["suite", "expectations", "expectations with failures", "pass", "fail", "not assessable"], rows)
        + f"<h2>Reports with failing rules ({by_report.height})</h2>"
        + (_table(["report id", "agency", "year", "source file", "failures", "rules"], report_rows)
           if report_rows else "<p class=pass>none</p>")
        + "<p class=muted><a href=\"ge/index.html\">Great Expectations' own rendering</a> (offline it shows"
          " no index table: that table needs scripts GE loads from CDNs).</p>"
    )
    (tmp / "index.html").write_text(_page("Accounting rules · Data Docs", body), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target / "index.html"


def _build_ge_site(context, ge_dir: Path) -> None:
    ge_dir.mkdir(parents=True, exist_ok=True)
    site = f"ogi_{abs(hash(str(ge_dir)))}"
    context.add_data_docs_site(
        site_name=site,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(ge_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    context.build_data_docs(site_names=[site])
