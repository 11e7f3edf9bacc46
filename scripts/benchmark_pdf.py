"""PDF and OCR front-end benchmark: prints figures, asserts nothing.

    .venv/bin/python scripts/benchmark_pdf.py                      # real PDFs (../shared/real) + generated
    .venv/bin/python scripts/benchmark_pdf.py --ocr-pages 2        # also OCR two rendered pages
    .venv/bin/python scripts/benchmark_pdf.py --generated 40 --repeats 5

Measures, on one core (this process, no workers):
  - text layer: pages per second of ``ingest.frontends.pdf.read`` (PDFium characters + drawn lines ->
    blocks) on the real PDFs in ../shared/real/files/docs (when present) and on PDFs made by the
    project's generator (reportlab);
  - OCR: seconds per page of an image-only copy (each page rendered at 2x and rebuilt as a PDF of
    pictures), the recogniser already loaded; the model load is printed apart.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.frontends import pdf  # noqa: E402

REAL = REPO / ".." / "shared" / "real" / "files" / "docs"


def generated_pdfs(n: int, seed: int = 13) -> list[bytes]:
    from ingest.synth.formats import render_report

    rng = random.Random(seed)
    layouts = ["tab_v2021", "tab_v2019", "pipe_md"]
    return [render_report(rng, "pdf", layouts[i % len(layouts)], f"b{i}")[1] for i in range(n)]


def n_pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def text_layer(name: str, docs: list[bytes], repeats: int) -> None:
    if not docs:
        return
    pages = sum(map(n_pages, docs))
    pdf.read(docs[0])  # imports and PDFium start-up outside the timing
    best = best_cpu = float("inf")
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        for d in docs:
            pdf.read(d)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    # CPU seconds of this process: the figure for one core even when the machine is shared
    print(f"text layer  {name:<10} {len(docs):4d} files {pages:5d} pages  wall {best:6.3f} s "
          f"({pages / best:6.1f} pages/s)  cpu {best_cpu:6.3f} s ({pages / best_cpu:6.1f} pages/s per core)")


def ocr(docs: list[bytes], max_pages: int) -> None:
    from ingest.frontends import ocr as ocr_mod
    from ingest.frontends.imagepdf import image_only_copy

    started = time.perf_counter()
    ocr_mod.engine()
    print(f"OCR model load {time.perf_counter() - started:.2f} s")
    done, spent, spent_cpu = 0, 0.0, 0.0
    for d in docs:
        for pno in range(1, n_pages(d) + 1):
            if done >= max_pages:
                break
            scan = image_only_copy(d, pages=[pno])
            started, cpu = time.perf_counter(), time.process_time()
            blocks, problem = pdf.read(scan)
            spent += time.perf_counter() - started
            spent_cpu += time.process_time() - cpu
            done += 1
    if done:
        print(f"OCR (2x render, one thread)  {done} pages  wall {spent:.1f} s ({spent / done:.2f} s/page)  "
              f"cpu {spent_cpu:.1f} s ({spent_cpu / done:.2f} s/page per core)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generated", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ocr-pages", type=int, default=0, help="pages of the real PDFs to OCR (slow: seconds each)")
    args = ap.parse_args()
    real = [p.read_bytes() for p in sorted(REAL.glob("*.pdf"))] if REAL.exists() else []
    if not real:
        print(f"(no real PDFs at {REAL}: skipped)")
    text_layer("real", real, args.repeats)
    gen = generated_pdfs(args.generated) if args.generated else []
    text_layer("generated", gen, args.repeats)
    if args.ocr_pages:
        ocr(real or gen, args.ocr_pages)


if __name__ == "__main__":
    main()
