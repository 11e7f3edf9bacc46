"""Writes the sample data's scanned report: a generated report (made-up agency and numbers) printed to
PDF with an embedded CJK font, each page rendered to a grey picture and rebuilt as a PDF of pictures
(no text layer: what a scanner gives), plus its truth. The quickstart then shows an OCR'd report
(``dim_report.text_source = 'ocr'``).

Needs a CJK TrueType font to print the report before it is "scanned" (Debian: ``apt-get install
fonts-wqy-microhei``); the committed file does not, so only regenerating needs it.

    .venv/bin/python scripts/make_scanned_sample.py
"""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUT = REPO / "sample_data" / "landing" / "scanned" / "scanned_report.pdf"
TRUTH = REPO / "sample_data" / "truth_scanned.jsonl"


def main() -> None:
    if not FONT.exists():
        sys.exit(f"{FONT} is missing (apt-get install fonts-wqy-microhei): the committed sample stays as it is")
    import pypdfium2 as pdfium
    from PIL import Image
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from ingest.synth.formats import render_report

    # the generator asks for STSong-Light (a font reportlab names but does not embed, so nothing can
    # render it): registering an embeddable CJK font under that name makes a printable PDF
    pdfmetrics.registerFont(TTFont("STSong-Light", str(FONT), subfontIndex=0))
    rng = random.Random("scanned-sample")
    name, printed, truth = render_report(rng, "pdf", "tab_v2021", "scan0")
    doc = pdfium.PdfDocument(printed)
    pages = []
    for i in range(len(doc)):
        # 2x (144 dpi) grey, as an office scanner's "document" setting gives
        pages.append(doc[i].render(scale=2.0, grayscale=True).to_pil().convert("L"))
    out = io.BytesIO()
    jpeg_pages = []
    for p in pages:  # JPEG inside the PDF keeps the sample small (a few tens of KB a page)
        b = io.BytesIO()
        p.save(b, format="JPEG", quality=70)
        jpeg_pages.append(Image.open(io.BytesIO(b.getvalue())))
    jpeg_pages[0].save(out, format="PDF", save_all=True, append_images=jpeg_pages[1:], resolution=144.0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(out.getvalue())
    truth = dict(truth, filename="scanned/scanned_report.pdf", format="pdf", scanned=True)
    TRUTH.write_text(json.dumps(truth, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(REPO)}: {len(pages)} pages, {OUT.stat().st_size // 1024} KiB; truth in {TRUTH.name}")


if __name__ == "__main__":
    main()
