"""DOCX front end (python-docx): paragraphs and tables in document order, merged cells (gridSpan,
vMerge) expanded into the grid, text gathered from every run however deeply nested (hyperlinks,
smart tags, content controls, tracked insertions).

Safety: the zip's declared uncompressed size is capped before anything is opened (zip bombs), the
XML parser python-docx uses does not resolve entities, and a part declaring a DTD is refused.
"""

from __future__ import annotations

import io
import zipfile

from ingest.frontends.rows import Block, expand, para

MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # compressed -> uncompressed expansion of one member

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class DocxRefused(Exception):
    pass


def check_zip(data: bytes) -> None:
    """Refuse archives that would expand beyond the caps, or whose XML declares a DTD."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise DocxRefused(f"not a readable DOCX (zip) file: {e}") from e
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DocxRefused(f"DOCX has {len(infos)} parts, above the {MAX_MEMBERS} cap")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise DocxRefused(f"DOCX would expand to {total} bytes, above the {MAX_UNCOMPRESSED}-byte cap (zip bomb guard)")
    for i in infos:
        if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 10 * 1024 * 1024:
            raise DocxRefused(f"DOCX part {i.filename} expands {i.file_size // i.compress_size}x (zip bomb guard)")
    if "word/document.xml" not in zf.namelist():
        raise DocxRefused("not a Word document: word/document.xml is missing")
    for name in ("word/document.xml",):
        head = zf.open(name).read(4096)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise DocxRefused(f"{name} declares a DTD/entities; refused (external entity guard)")


def read(data: bytes) -> tuple[list[Block] | None, str | None]:
    """bytes -> (blocks, problem)."""
    try:
        check_zip(data)
        import docx

        document = docx.Document(io.BytesIO(data))
    except DocxRefused as e:
        return None, str(e)
    except Exception as e:  # a corrupt package: recorded, not raised
        return None, f"DOCX could not be opened: {type(e).__name__}: {e}"[:300]
    walker = _Walker()
    walker.walk(document.element.body)
    return walker.blocks, None


def _text(el) -> str:
    """All text below ``el`` (runs nested in hyperlinks, sdt, ins, fields), tabs and breaks as spaces."""
    parts = []
    for node in el.iter():
        tag = node.tag
        if tag == _W + "t":
            parts.append(node.text or "")
        elif tag in (_W + "tab", _W + "br", _W + "cr"):
            parts.append(" ")
        elif tag == _W + "p" and parts:
            parts.append(" ")
        elif tag == _W + "delText":
            continue
    return " ".join("".join(parts).split()) if len(parts) > 1 else "".join(parts).strip()


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.n_tables = 0
        self.n_paras = 0

    def walk(self, el) -> None:
        for child in el.iterchildren():
            tag = child.tag
            if tag == _W + "p":
                self.n_paras += 1
                text = "".join(n.text or "" if n.tag == _W + "t" else " " for n in child.iter(_W + "t", _W + "tab"))
                text = text.strip()
                if text:
                    self.blocks.append(para(text, f"docx paragraph {self.n_paras}"))
            elif tag == _W + "tbl":
                self.table(child)
            elif tag in (_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins"):
                self.walk(child)

    def table(self, tbl) -> None:
        self.n_tables += 1
        t = self.n_tables
        # (text, colspan, vmerge) per cell per row; vMerge 'continue' cells take the text above
        raw_rows = []
        for r, tr in enumerate(tbl.iterchildren(_W + "tr"), start=1):
            row = []
            before = _val(tr.find(f"{_W}trPr/{_W}gridBefore"))
            for _ in range(before or 0):
                row.append(("", 1, None, f"table {t}, row {r}, before"))
            for c, tc in enumerate(_cells(tr), start=1):
                pr = tc.find(_W + "tcPr")
                span = _val(pr.find(_W + "gridSpan")) if pr is not None else None
                vm = pr.find(_W + "vMerge") if pr is not None else None
                vmerge = None if vm is None else (vm.get(_W + "val") or "continue")
                row.append((_text(tc), span or 1, vmerge, f"table {t}, row {r}, cell {c}"))
            raw_rows.append(row)
        # resolve vMerge by grid column: a 'continue' cell is a copy of the cell above
        grid_rows: list[list[tuple[str, int, int, str]]] = []
        col_origin: dict[int, tuple[int, int]] = {}  # grid col -> (row index, cell index) of the open merge
        rowspans: dict[tuple[int, int], int] = {}
        for ri, row in enumerate(raw_rows):
            col = 0
            out_row = []
            for text, span, vmerge, loc in row:
                if vmerge == "continue" and col in col_origin:
                    oi, oc = col_origin[col]
                    rowspans[(oi, oc)] = rowspans.get((oi, oc), 1) + 1
                    out_row.append(None)
                else:
                    if vmerge == "restart":
                        col_origin[col] = (ri, len(out_row))
                    else:
                        col_origin.pop(col, None)
                    out_row.append((text, span, 1, loc))
                col += span
            grid_rows.append(out_row)
        final = []
        for ri, row in enumerate(grid_rows):
            cells = []
            for ci, cell in enumerate(row):
                if cell is None:
                    continue  # covered by the rowspan of the cell above
                text, span, _, loc = cell
                cells.append((text, span, rowspans.get((ri, ci), 1), loc))
            final.append(cells)
        for texts, locs, copies in expand(final):
            if any(x.strip() for x in texts):
                self.blocks.append(Block("tab", texts, locs, copies))


def _cells(tr):
    for child in tr.iterchildren():
        if child.tag == _W + "tc":
            yield child
        elif child.tag in (_W + "sdt", _W + "customXml"):
            for inner in child.iter(_W + "tc"):
                yield inner


def _val(el) -> int | None:
    if el is None:
        return None
    try:
        return max(1, int(el.get(_W + "val")))
    except (TypeError, ValueError):
        return None
