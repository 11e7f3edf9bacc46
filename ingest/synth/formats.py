"""Render generated reports as HTML, DOCX and PDF with the same truth as their text form.

The generator draws each report's tables through ``render.py``; inside ``render.capture()`` every
table is also recorded with the merged cells the official form has (3-column label block, group labels
spanning their rows, 表四 sub-headers spanning two rows).  Here the report text is walked line by
line: a recorded table's lines are replaced by a real table, everything else becomes paragraphs.

    python -m ingest.synth.formats OUT_DIR -n 2000 --seed 7 --formats txt,html,docx,pdf
    python -m ingest.synth.formats --eval CORPUS --warehouse W.duckdb    # per-format scores

truth.jsonl keeps the generator's format with ``filename`` pointing at the written file and a new
field ``format`` (txt | md | html | docx | pdf).
"""

from __future__ import annotations

import html as _html
import io
import json
import random
import re
from pathlib import Path

from .agencies import UniqueAgencyYears
from .generator import LAYOUTS, generate_report, random_template_year
from .render import SpanCell, SpanTable, capture

FORMATS = ("txt", "html", "docx", "pdf")


# --------------------------------------------------------------------------- report -> blocks
def blocks(text: str, tables: list[SpanTable]) -> list[tuple[str, object]]:
    """('heading', str) | ('para', str) | ('table', SpanTable) in reading order."""
    lines = text.split("\n")
    out: list[tuple[str, object]] = []
    i = 0
    pending = list(tables)
    while i < len(lines):
        if pending:
            t = pending[0]
            n = len(t.text_lines)
            if lines[i : i + n] == t.text_lines:
                out.append(("table", t))
                pending.pop(0)
                i += n
                continue
        ln = lines[i].strip()
        i += 1
        if not ln:
            continue
        m = re.match(r"^(#+)\s*(.*)$", ln) or re.match(r"^\*\*(.*)\*\*$", ln)
        if m:
            out.append(("heading", m.groups()[-1]))
        else:
            out.append(("para", ln))
    if pending:
        raise ValueError(f"{len(pending)} recorded table(s) not found in the report text")
    return out


# --------------------------------------------------------------------------- HTML
def _html_table(t: SpanTable, rng: random.Random) -> str:
    nbsp = rng.random() < 0.5
    attrs = rng.choice(['border="1" cellspacing="0" cellpadding="0"', 'class="MsoNormalTable" border="1"', ""])
    rows = []
    for row in t.rows:
        tds = []
        for c in row:
            a = (f' colspan="{c.colspan}"' if c.colspan > 1 else "") + (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "")
            txt = _html.escape(c.text, quote=False) if c.text else ("&nbsp;" if nbsp else "")
            if c.text and rng.random() < 0.15:
                txt = f'<p style="text-align:center"><span style="font-size:12px">{txt}</span></p>'
            tds.append(f"<td{a}>{txt}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    body = "\n".join(rows)
    if rng.random() < 0.5:
        body = f"<tbody>\n{body}\n</tbody>"
    return f"<table {attrs}>\n{body}\n</table>"


def to_html(blocks_: list, rng: random.Random, title: str) -> tuple[bytes, str]:
    """-> (bytes, encoding). Site chrome around a CMS article container; GBK with a meta tag sometimes."""
    encoding = rng.choices(["utf-8", "gbk"], weights=(6, 4))[0]
    body = []
    for kind, obj in blocks_:
        if kind == "table":
            body.append(_html_table(obj, rng))
        elif kind == "heading":
            body.append(f"<p><strong>{_html.escape(obj)}</strong></p>")
        else:
            body.append(f"<p style=\"text-indent:2em\">{_html.escape(obj)}</p>")
    container = rng.choice(['<div class="TRS_Editor">', '<div id="zoom">', '<div class="article-content">',
                            '<div class="wz_content">'])
    related = "".join(
        f'<li><a href="/art/{rng.randint(1000, 9999)}.html">{_html.escape(x)}</a></li>'
        for x in ("关于印发重点工作安排的通知", "政府信息公开指南", "依申请公开办理流程")
    )
    meta = (
        f'<meta charset="{encoding}">'
        if rng.random() < 0.5
        else f'<meta http-equiv="Content-Type" content="text/html; charset={"gb2312" if encoding == "gbk" else encoding}">'
    )
    page = (
        f"<!DOCTYPE html>\n<html>\n<head>\n{meta}\n<title>{_html.escape(title)}</title>\n"
        "<script>var _hmt = _hmt || [];</script>\n<style>.nav{color:#333}</style>\n</head>\n<body>\n"
        '<div class="header"><div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/hdjl/">互动交流</a></li></ul></div></div>\n'
        '<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a></div>\n'
        f'<div class="main">\n{container}\n' + "\n".join(body) + "\n</div>\n"
        f'<div class="related"><h3>相关链接</h3><ul>{related}</ul></div>\n</div>\n'
        '<div class="footer"><p>网站标识码：1100000000　　<a href="/sitemap">网站地图</a></p></div>\n'
        "</body>\n</html>\n"
    )
    return page.encode(encoding), encoding


# --------------------------------------------------------------------------- DOCX
def to_docx(blocks_: list, rng: random.Random) -> bytes:
    import docx

    d = docx.Document()
    for kind, obj in blocks_:
        if kind == "table":
            t: SpanTable = obj
            width = _width(t.rows)
            table = d.add_table(rows=len(t.rows), cols=width)
            table.style = "Table Grid"
            for r, c, cell in _placed(t.rows):
                top = table.cell(r, c)
                if cell.text:
                    _runs(top.paragraphs[0], cell.text, rng)
                if cell.colspan > 1 or cell.rowspan > 1:
                    top.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        elif kind == "heading":
            p = d.add_paragraph()
            p.add_run(obj).bold = True
        else:
            _runs(d.add_paragraph(), obj, rng)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _runs(p, text: str, rng: random.Random) -> None:
    """Text split over several runs (as Word does after edits), never inside a number."""
    if len(text) > 4 and rng.random() < 0.3 and not re.search(r"\d", text):
        k = rng.randint(1, len(text) - 1)
        p.add_run(text[:k])
        p.add_run(text[k:]).italic = rng.random() < 0.2
    else:
        p.add_run(text)


def _placed(rows: list[list[SpanCell]]):
    """(row, column, cell) of every printed cell on the grid, skipping positions that a rowspan or
    colspan from above or from the left already covers."""
    occupied: set[tuple[int, int]] = set()
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            yield r, c, cell
            occupied.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            c += cell.colspan


def _width(rows: list[list[SpanCell]]) -> int:
    occupied: set[tuple[int, int]] = set()
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in occupied:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    occupied.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    return width


# --------------------------------------------------------------------------- PDF
def to_pdf(blocks_: list, rng: random.Random) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    try:
        pdfmetrics.getFont("STSong-Light")
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=10.5, leading=15, wordWrap="CJK")
    cell_style = ParagraphStyle("c", fontName="STSong-Light", fontSize=7, leading=8.5, wordWrap="CJK")
    story = []
    for kind, obj in blocks_:
        if kind == "table":
            t: SpanTable = _split_first_column(obj)
            width = _width(t.rows)
            grid = [[""] * width for _ in t.rows]
            spans = []
            for r, c, cell in _placed(t.rows):
                grid[r][c] = Paragraph(_html.escape(cell.text), cell_style) if cell.text else ""
                if cell.colspan > 1 or cell.rowspan > 1:
                    spans.append(("SPAN", (c, r), (c + cell.colspan - 1, r + cell.rowspan - 1)))
            avail = A4[0] - 60
            label_w = {"t3": 3, "t2": 1, "t4": 0}[t.table]
            if label_w:
                lw = avail * (0.36 if t.table == "t3" else 0.34) / label_w
                vw = (avail - lw * label_w) / max(1, width - label_w)
                widths = [lw] * label_w + [vw] * (width - label_w)
            else:
                widths = [avail / width] * width
            header_rows = {"t3": 3, "t4": 3, "t2": 0}[t.table]
            table = LongTable(grid, colWidths=widths, repeatRows=0 if rng.random() < 0.5 else header_rows,
                              splitByRow=1)
            table.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                *spans,
            ]))
            story += [table, Spacer(1, 6)]
        else:
            story.append(Paragraph(_html.escape(obj), body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=30, rightMargin=30, topMargin=40, bottomMargin=40)

    def page_no(canvas, doc_):
        canvas.setFont("STSong-Light", 9)
        canvas.drawCentredString(A4[0] / 2, 20, f"- {doc_.page} -")

    doc.build(story, onFirstPage=page_no, onLaterPages=page_no)
    return buf.getvalue()


def _split_first_column(t: SpanTable) -> SpanTable:
    """A row span in the first column of the data rows (三、本年度办理结果 over the whole outcome block)
    keeps reportlab from breaking the page inside it; Word-made PDFs print it once and break anyway.
    Here the label stays in its first row and the rows below get a blank first cell."""
    rows = [list(r) for r in t.rows]
    for i, row in enumerate(rows):
        if i < 3 or not row or row[0].rowspan <= 4:
            continue
        n = row[0].rowspan
        row[0] = SpanCell(row[0].text, row[0].colspan, 1)
        for j in range(i + 1, min(i + n, len(rows))):
            rows[j].insert(0, SpanCell(""))
    return SpanTable(t.table, rows, t.text_lines, t.captions_outside)


# --------------------------------------------------------------------------- corpus
def render_report(
    rng: random.Random, fmt: str, layout: str, name: str, agencies: UniqueAgencyYears | None = None
) -> tuple[str, bytes, dict]:
    """-> (filename, bytes, truth) of one report in ``fmt`` (txt keeps the generator's .txt/.md).
    With ``agencies`` the agency comes from it, so the corpus repeats no (agency, year) pair."""
    template, year = random_template_year(rng, layout)
    agency = agencies.draw(rng, year, key=name) if agencies is not None else None
    with capture() as tables:
        rep = generate_report(rng, layout=layout, template=template, year=year, agency=agency, name=name)
    truth = dict(rep.truth)
    stem = rep.filename.rsplit(".", 1)[0]
    if fmt == "txt":
        truth["format"] = rep.filename.rsplit(".", 1)[1]
        return rep.filename, rep.text.encode("utf-8"), truth
    fr = random.Random(f"{name}:{fmt}")
    b = blocks(rep.text, tables)
    if fmt == "html":
        data, enc = to_html(b, fr, f"{stem}")
        truth["html_encoding"] = enc
    elif fmt == "docx":
        data = to_docx(b, fr)
    elif fmt == "pdf":
        data = to_pdf(b, fr)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    filename = f"{stem}.{fmt}"
    truth["filename"] = filename
    truth["format"] = fmt
    return filename, data, truth


def generate_formats_corpus(
    out_dir: str | Path,
    n: int,
    seed: int,
    formats: tuple[str, ...] = FORMATS,
    layouts: tuple[str, ...] = LAYOUTS,
) -> list[Path]:
    """``n`` reports, layouts round-robin and formats round-robin over each layout cycle, + truth.jsonl.
    Deterministic for a seed; no two reports share an (agency name, report year) pair."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    agencies = UniqueAgencyYears(seed)
    paths = []
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            rng = random.Random(f"{seed}:{i}")
            layout = layouts[i % len(layouts)]
            fmt = formats[(i // len(layouts)) % len(formats)]
            filename, data, truth = render_report(
                rng, fmt, layout, f"r{i:05d}_{rng.getrandbits(32):08x}", agencies=agencies
            )
            (out / filename).write_bytes(data)
            fh.write(json.dumps(truth, ensure_ascii=False) + "\n")
            paths.append(out / filename)
    return paths


def evaluate_by_format(corpus: str | Path, warehouse: str | Path) -> str:
    """Run the evaluator with each report's layout replaced by ``format/layout`` and by ``format``."""
    import tempfile

    from .evaluate import evaluate, format_report

    rows = [json.loads(x) for x in Path(corpus, "truth.jsonl").read_text(encoding="utf-8").splitlines() if x]
    outs = []
    for label, key in (("format", lambda t: t.get("format", "txt")),):
        with tempfile.TemporaryDirectory() as tmp:
            with open(Path(tmp, "truth.jsonl"), "w", encoding="utf-8") as fh:
                for t in rows:
                    fh.write(json.dumps({**t, "layout": key(t)}, ensure_ascii=False) + "\n")
            outs.append(f"==== by {label} (layout column = {label}) ====\n" + format_report(evaluate(tmp, warehouse)))
    return "\n".join(outs)


def benchmark(corpus: str | Path, limit: int = 400) -> str:
    """Reports/second per format: bytes -> decoded/extracted -> parsed facts (no warehouse I/O)."""
    import time

    import polars as pl

    from ingest.decoding import decode_bytes
    from ingest.frontends import read_structured as _decode_structured
    from ingest.pipeline import parse_documents

    by_fmt: dict[str, list[Path]] = {}
    for p in sorted(Path(corpus).iterdir()):
        if p.name != "truth.jsonl":
            by_fmt.setdefault(p.suffix.lstrip("."), []).append(p)
    out = ["format  reports  decode_s  parse_s  reports_per_s"]
    for fmt, paths in sorted(by_fmt.items()):
        paths = paths[:limit]
        t0 = time.perf_counter()
        rows = []
        for p in paths:
            data = p.read_bytes()
            f = "md" if fmt == "md" else fmt
            if f in ("txt", "md"):
                text = decode_bytes(data).text
            else:
                text = _decode_structured(f, data)[0]
            rows.append((p.name, str(p), f, text))
        t1 = time.perf_counter()
        docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
        parse_documents(docs)
        t2 = time.perf_counter()
        out.append(f"{fmt:6}  {len(paths):7}  {t1 - t0:8.2f}  {t2 - t1:7.2f}  {len(paths) / (t2 - t0):13.1f}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time

    ap = argparse.ArgumentParser(prog="python -m ingest.synth.formats")
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--eval", metavar="CORPUS")
    ap.add_argument("--warehouse")
    ap.add_argument("--bench", metavar="CORPUS", help="reports/second per format over CORPUS")
    a = ap.parse_args(argv)
    if a.bench:
        print(benchmark(a.bench))
        return 0
    if a.eval:
        print(evaluate_by_format(a.eval, a.warehouse))
        return 0
    t = time.time()
    paths = generate_formats_corpus(a.out_dir, a.n, a.seed, tuple(a.formats.split(",")), tuple(a.layouts.split(",")))
    print(f"wrote {len(paths)} reports and truth.jsonl to {a.out_dir} in {time.time() - t:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
