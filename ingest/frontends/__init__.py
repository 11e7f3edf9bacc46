"""Front ends: one per source format, all producing the same two frames for the shared mapper.

- ``lines``: doc_id, line_no, text: the document's readable text in reading order, one row per
  paragraph or table row (table rows tab-joined); read by the narrative and metadata extractors.
- ``grid``: doc_id, line_no, cell_idx, raw_text, kind ('tab' | 'pipe' | 'para'), locator, span_copy:
  one row per cell; read by the template mapper (``ingest.tables``). ``line_no`` ties a cell to its
  line. ``span_copy`` marks a position covered by a merged cell (HTML rowspan/colspan, DOCX
  gridSpan/vMerge, PDF merged boxes) that repeats the merged cell's text; text front ends have none.

Formats: txt/md (``text``: decoded text, parsed here, vectorised); html, docx, pdf (``html``, ``docx``,
``pdf``: read from the bytes in the decode stage into blocks - paragraphs and expanded table rows, see
``rows`` - stored as JSON in ``text`` and turned into the frames here); png/jpeg/tiff report images
(``ocr``) and PDF pages without text go through OCR into the same blocks (``layout`` builds the grid
from positioned text and ruling lines for both); doc/xls (OLE2: Word/WPS, Excel/ET) through LibreOffice
when installed (``office``).

A front end never guesses a value: it only reports what is printed and where.
"""

from __future__ import annotations

import polars as pl

from ingest.frontends import rows as _rows
from ingest.frontends.text import cells_frame, lines_frame

# Formats with a front end, by the name dim_source_file uses.
TEXT_FORMATS = frozenset({"txt", "md"})
# Read from the bytes by the decode stage (html, docx, pdf front ends; report images by OCR; legacy
# Office files through LibreOffice when installed); their blocks arrive as JSON.
IMAGE_FORMATS = frozenset({"png", "jpeg", "tiff"})
LEGACY_OFFICE_FORMATS = frozenset({"doc", "xls"})
BLOCK_FORMATS = frozenset({"html", "docx", "pdf"}) | IMAGE_FORMATS | LEGACY_OFFICE_FORMATS
SUPPORTED_FORMATS = TEXT_FORMATS | BLOCK_FORMATS


def build(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """docs(doc_id, source_format, text) -> (lines, grid) for every document of the batch."""
    fmt = pl.col("source_format")
    text_docs = docs.filter(fmt.is_in(list(TEXT_FORMATS)) | fmt.is_null() | ~fmt.is_in(list(SUPPORTED_FORMATS)))
    lines = lines_frame(text_docs.select("doc_id", "text"))
    # plain text may be a capture cut short (a page opening); a PDF, DOCX or HTML file read whole is not
    grid = cells_frame(lines).with_columns(pl.lit(False).alias("span_copy"), pl.lit(True).alias("plain_text"))
    structured = docs.filter(fmt.is_in(list(BLOCK_FORMATS)))
    if structured.is_empty():
        return lines, grid
    s_lines, s_grid = _rows.frames_from_json(structured.select("doc_id", "text"))
    lines = pl.concat([lines, s_lines.select(lines.columns)])
    grid = pl.concat([grid, s_grid.with_columns(pl.lit(False).alias("plain_text")).select(grid.columns)])
    if not lines["doc_id"].is_sorted():
        # a batch of several formats: the documents in their batch order again, each one's lines
        # and cells in theirs (the mapper reads the grid in that order, and the line extractors group
        # by document over slices of the sorted column)
        lines = lines.sort("doc_id", maintain_order=True)
        grid = grid.sort("doc_id", maintain_order=True)
    return lines, grid


def read_structured(fmt: str, data: bytes) -> tuple[str | None, str | None, str | None, bool]:
    """HTML (charset from BOM / meta / bytes), DOCX and PDF -> their front end's blocks (paragraphs
    and expanded table rows) as JSON, read here from the bytes so that the parse stage never needs the
    file and a file no front end can read is quarantined with its reason. -> (text, encoding, problem,
    converted_from_traditional)."""
    from ingest.decoding import _is_traditional, _to_simplified

    encoding = fmt
    try:
        if fmt == "html":
            from ingest.frontends import html

            page, encoding, problem = html.decode_html(data)
            if problem is not None:
                return None, None, problem, False
            blocks, problem = html.extract(page), None
        elif fmt == "docx":
            from ingest.frontends import docx

            blocks, problem = docx.read(data)
        elif fmt == "pdf":
            from ingest.frontends import pdf

            blocks, problem = pdf.read(data)
        elif fmt in IMAGE_FORMATS:
            from ingest.frontends import ocr

            blocks, problem = ocr.read_image(data)
        else:
            from ingest.frontends import office

            blocks, problem = office.read(data)
    except Exception as e:  # one hostile file never stops the batch: it is recorded with the reason
        return None, None, f"{fmt} front end failed: {type(e).__name__}: {e}"[:300], False
    if problem is not None:
        return None, None, problem, False
    payload = _rows.dumps(blocks)
    if _is_traditional(payload):
        return _to_simplified(payload), encoding, None, True
    return payload, encoding, None, False


# ---------------------------------------------------------------------------- where the text came from
_OCR_IN_LOCATOR = r", ocr (\d\.\d+)"


def any_ocr_locator(locators: pl.Series) -> bool:
    """Whether any locator may carry a recognition confidence (every one that does holds ", ocr "):
    most batches have none, and a literal scan is far cheaper than the pattern's."""
    return bool(locators.str.contains(", ocr ", literal=True).any())


def ocr_confidence_expr(locator: str = "locator") -> pl.Expr:
    """The recognition confidence a cell's locator carries (``, ocr 0.87``); NULL for printed text."""
    return pl.col(locator).str.extract(_OCR_IN_LOCATOR, 1).cast(pl.Float64)


def text_sources(docs: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """doc_id -> text_source: 'ocr' (every line recognised from images), 'text_layer+ocr' (a PDF with
    both), 'text_layer' (a PDF's own text), 'converted' (legacy Office through LibreOffice) or 'text'
    (txt, md, html, docx: the document's characters themselves)."""
    # blank cells carry no score: only what was read counts. No OCR locator (and none missing, which
    # would make a document's "all" true): every document is False, as the left join's nulls filled
    if not any_ocr_locator(grid["locator"]) and grid["locator"].null_count() == 0:
        grid = grid.clear()
    per_doc = grid.filter(pl.col("raw_text").fill_null("") != "").group_by("doc_id").agg(
        pl.col("locator").str.contains(_OCR_IN_LOCATOR).any().alias("any_ocr"),
        pl.col("locator").str.contains(_OCR_IN_LOCATOR).all().alias("all_ocr"),
    )
    fmt = pl.col("source_format")
    return (
        docs.select("doc_id", "source_format").unique("doc_id")
        .join(per_doc, on="doc_id", how="left")
        .select(
            "doc_id",
            pl.when(fmt.is_in(list(IMAGE_FORMATS)) | pl.col("all_ocr").fill_null(False))
            .then(pl.lit("ocr"))
            .when((fmt == "pdf") & pl.col("any_ocr").fill_null(False))
            .then(pl.lit("text_layer+ocr"))
            .when(fmt == "pdf")
            .then(pl.lit("text_layer"))
            .when(fmt.is_in(list(LEGACY_OFFICE_FORMATS)))
            .then(pl.lit("converted"))
            .otherwise(pl.lit("text"))
            .alias("text_source"),
        )
    )


def ocr_warnings(cells: pl.DataFrame) -> pl.DataFrame:
    """A placed table value read by OCR below ``ocr.MIN_CONFIDENCE``: a warning, never a silent value.
    cells: the mapper's cells (doc_id, table_id, row_key, raw_text, locator, ...)."""
    from ingest.frontends.ocr import MIN_CONFIDENCE

    conf = ocr_confidence_expr()
    if not any_ocr_locator(cells["locator"]):
        cells = cells.clear()  # no confidence anywhere: nothing is below it
    return cells.filter(conf < MIN_CONFIDENCE).select(
        "doc_id",
        "table_id",
        "row_key",
        pl.lit("ocr_low_confidence").alias("code"),
        pl.lit("warn").alias("severity"),
        pl.format("read by OCR with confidence {} (below {}): check against the image", conf.round(2),
                  pl.lit(MIN_CONFIDENCE)).alias("detail"),
        "raw_text",
        "locator",
    )
