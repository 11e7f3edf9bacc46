"""Image-only copies of PDFs (every page rendered and rebuilt as a PDF of pictures): what a scan of a
printed report looks like to the reader. Used by the tests, the benchmark and the sample data."""

from __future__ import annotations

import io


def image_only_copy(data: bytes, scale: float = 2.0, pages: list[int] | None = None, grey: bool = True) -> bytes:
    """A PDF whose pages are pictures of ``data``'s pages (1-based ``pages``; all by default)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    images = []
    try:
        for pno in pages or range(1, len(doc) + 1):
            page = doc[pno - 1]
            img = page.render(scale=scale, grayscale=grey).to_pil()
            images.append(img.convert("L") if grey else img.convert("RGB"))
            page.close()
    finally:
        doc.close()
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=72 * scale)
    return out.getvalue()
