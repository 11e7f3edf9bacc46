"""DOCX front end (python-docx): paragraphs and tables in document order, merged cells (gridSpan,
vMerge) expanded into the grid, text gathered from every run however deeply nested (hyperlinks,
smart tags, content controls, tracked insertions).

Safety (zip bombs, lying archives, entities): every part is inflated here first, in bounded chunks,
counting the bytes actually produced (never trusting the sizes the archive declares): more than
``MAX_UNCOMPRESSED`` in all, more than ``MAX_XML_PART`` in one part python-docx would parse into a
tree, or a part whose stream does not end where its header says, is refused. Every part that may be
XML is scanned in full for a DTD or entity declaration (UTF-8, UTF-16 or UTF-32), and the XML parser
python-docx uses resolves no entities, loads no DTD, fetches nothing and keeps libxml2's size limits.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

from ingest.frontends.rows import Block, expand, para

MAX_UNCOMPRESSED = 200 * 1024 * 1024
# python-docx holds a parsed part at about 15x its size (32 MiB of document.xml: ~540 MB, 6 s)
MAX_XML_PART = 32 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_RATIO = 200  # compressed -> uncompressed expansion of one member

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)
_MARKER_OVERLAP = max(len(m) for m in _DTD_MARKERS) - 1
# parts python-docx keeps as opaque blobs (images); an SVG logo may carry a harmless DOCTYPE
_MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg", ".ico",
                   ".webp", ".wdp", ".bin", ".ttf", ".odttf")


class DocxRefused(Exception):
    pass


def _inflated_chunks(data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The bytes of one member, inflated here in chunks of at most ``_CHUNK``. Refuses a member whose
    stream does not end exactly at its declared size (zipfile would inflate such a stream in one
    call of up to 2 GiB before cutting it to the declared size)."""
    view = memoryview(data)
    offset = info.header_offset
    header = bytes(view[offset:offset + _LOCAL_HEADER.size])
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise DocxRefused(f"not a readable DOCX (zip) file: the entry of part {info.filename} is damaged")
    fields = _LOCAL_HEADER.unpack(header)
    start = offset + _LOCAL_HEADER.size + fields[9] + fields[10]
    raw = view[start:start + info.compress_size]
    if info.flag_bits & 0x1:
        raise DocxRefused(f"DOCX part {info.filename} is encrypted (password-protected); refused")
    if info.compress_type == zipfile.ZIP_STORED:
        produced = len(raw)
        for i in range(0, len(raw), _CHUNK):
            yield bytes(raw[i:i + _CHUNK])
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        produced = 0
        pending = bytes(raw)
        while pending and not inflater.eof:
            try:
                chunk = inflater.decompress(pending, _CHUNK)
            except zlib.error as e:
                raise DocxRefused(f"not a readable DOCX (zip) file: part {info.filename} is damaged") from e
            pending = inflater.unconsumed_tail
            produced += len(chunk)
            if produced > info.file_size:
                raise DocxRefused(f"DOCX part {info.filename} inflates beyond the {info.file_size} bytes its "
                                  "archive header declares; refused (zip bomb guard)")
            if chunk:
                yield chunk
    else:
        raise DocxRefused(f"DOCX part {info.filename} uses a compression method Word does not write; refused")
    if produced != info.file_size:
        raise DocxRefused(f"not a readable DOCX (zip) file: part {info.filename} is truncated or damaged")


def check_zip(data: bytes) -> None:
    """Refuse archives that expand beyond the caps (bytes actually inflated), or whose XML declares
    a DTD anywhere in any part."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise DocxRefused("not a readable DOCX (zip) file: the archive is damaged or truncated") from e
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DocxRefused(f"DOCX has {len(infos)} parts, above the {MAX_MEMBERS} cap")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNCOMPRESSED:
        raise DocxRefused(f"DOCX would expand to {declared} bytes, above the {MAX_UNCOMPRESSED}-byte cap (zip bomb guard)")
    for i in infos:
        if i.compress_size and i.file_size / i.compress_size > MAX_RATIO and i.file_size > 10 * 1024 * 1024:
            raise DocxRefused(f"DOCX part {i.filename} expands {i.file_size // i.compress_size}x (zip bomb guard)")
    if "word/document.xml" not in zf.namelist():
        raise DocxRefused("not a Word document: word/document.xml is missing")
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        may_be_xml = not info.filename.lower().endswith(_MEDIA_SUFFIXES)
        produced = 0
        tail = b""
        for chunk in _inflated_chunks(data, zf, info):
            produced += len(chunk)
            total += len(chunk)
            if total > MAX_UNCOMPRESSED:
                raise DocxRefused(f"DOCX expands to more than the {MAX_UNCOMPRESSED}-byte cap (zip bomb guard; "
                                  "bytes actually inflated, not the sizes the archive declares)")
            if may_be_xml:
                if produced > MAX_XML_PART:
                    raise DocxRefused(f"DOCX part {info.filename} holds more than {MAX_XML_PART} bytes of XML, "
                                      "above the per-part cap (its parsed tree would not fit the memory budget)")
                window = tail + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    raise DocxRefused(f"{info.filename} declares a DTD/entities; refused (external entity guard)")
                tail = window[-_MARKER_OVERLAP:]


def read(data: bytes) -> tuple[list[Block] | None, str | None]:
    """bytes -> (blocks, problem)."""
    try:
        check_zip(data)
        import docx

        document = docx.Document(io.BytesIO(data))
    except DocxRefused as e:
        return None, str(e)
    except MemoryError:
        raise  # the reader reports the memory cap it hit
    except Exception:  # a corrupt package: recorded, not raised
        return None, "DOCX could not be opened: the package is damaged or is not a Word document python-docx can read"
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
