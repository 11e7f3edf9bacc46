"""HTML front end: a real HTML parser (selectolax/lexbor), the report body found among the site
chrome, tables expanded by rowspan/colspan into a grid.

Nothing is fetched (no scripts, images, frames or external entities: the parser only builds a tree)
and no entity beyond HTML's own is resolved (the parser's HTML5 character references); ``&nbsp;``
cells are blank. Charset: BOM, then the ``<meta charset>`` / ``http-equiv`` declaration, then the
bytes (UTF-8, else GB18030 which covers GBK/GB2312).
"""

from __future__ import annotations

import codecs
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ingest.frontends.rows import Block, expand, para

# Elements that are never report text.
_SKIP = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "head",
    "nav", "header", "footer", "aside", "form", "button", "select", "input", "textarea", "img",
}
_BLOCK = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
    "h5", "h6", "blockquote", "pre", "center", "tr", "caption", "hr", "address", "figure", "figcaption",
    "td", "th", "tbody", "thead", "tfoot",  # reached only inside layout tables
}
# class/id words of site chrome (navigation, breadcrumbs, related links, share bars, footers)
_CHROME_RE = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumb|crumb|footer|foot|bottom|header|top-?bar|sidebar|side|"
    r"related|relevant|xglj|links?|share|fenxiang|copyright|banner|search|login|toolbar)([\s_-]|$)",
    re.I,
)
# class/id words of the article body in common CMSs (TRS, 政府网站集约化平台, …)
_BODY_RE = re.compile(r"TRS_Editor|TRS_UEDITOR|zoom|article|content|detail|main[-_]?text|wenzhang|zw|text", re.I)
_META_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", re.I)
_ENCODING_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                     "big5": "cp950"}
_LEGACY_CODECS = {"big5": "cp950"}  # encoding name recorded -> codec
# A span beyond this is not a layout (the grid caps spans further, see rows.MAX_SPAN); an attribute of
# thousands of digits must not reach int() (Python refuses above 4,300 digits).
MAX_SPAN_ATTR = 1000


def decode_html(data: bytes) -> tuple[str | None, str | None, str | None]:
    """bytes -> (text, encoding, problem). BOM > meta charset > UTF-8 > GB18030."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc), enc, None
            except UnicodeDecodeError:
                return None, None, f"invalid {enc} after its byte-order mark"
    candidates = []
    m = _META_RE.search(data[:8192])
    if m:
        declared = m.group(1).decode("ascii", "ignore").lower()
        declared = _ENCODING_ALIASES.get(declared, declared)
        try:
            codecs.lookup(declared)
            candidates.append(declared)
        except LookupError:
            pass
    if "utf-8" not in candidates:
        candidates.append("utf-8")
    for enc in candidates:
        try:
            return data.decode(enc), enc, None
        except UnicodeDecodeError:
            continue
    # undeclared legacy bytes: GB18030 or Big5, whichever reads as Chinese (see ingest.decoding)
    from ingest.decoding import _decode_legacy

    decoded = _decode_legacy(data, partial=False)
    if decoded.text is None:
        return None, None, "HTML could not be decoded as its declared charset, UTF-8, GB18030/GBK or Big5 " \
            f"({decoded.problem})"
    return data.decode(_LEGACY_CODECS.get(decoded.encoding, decoded.encoding)), decoded.encoding, None


def _is_chrome(node: LexborNode) -> bool:
    attrs = node.attributes
    ident = " ".join(v for k, v in attrs.items() if k in ("class", "id", "role") and v)
    return bool(ident) and bool(_CHROME_RE.search(ident))


# containers that can name themselves an article body (by class or id): a page's hundreds of bare <td>
# and <div> are never looked at
_CANDIDATES = ", ".join(f"{tag}[{attr}]" for tag in ("div", "article", "section", "td", "main") for attr in ("class", "id"))


def find_body(tree: LexborHTMLParser) -> LexborNode | None:
    """The element holding the report: a CMS article container if one has the tables or most text,
    else <body>."""
    body = tree.body
    if body is None:
        return tree.root
    best, best_score = None, 0
    for node in body.css(_CANDIDATES):
        attrs = node.attributes
        ident = " ".join(v for v in (attrs.get("class"), attrs.get("id")) if v)
        if not ident or not _BODY_RE.search(ident) or _CHROME_RE.search(ident):
            continue
        text_len = len(node.text(strip=True))
        score = text_len + 100_000 * len(node.css("table"))
        if score > best_score:
            best, best_score = node, score
    if best is not None and best_score >= 200:
        return best
    return body


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.n_tables = 0
        self.n_paras = 0

    def flush(self) -> None:
        text = "".join(self.buf).replace("\r", "")
        self.buf = []
        for piece in text.split("\n"):
            piece = piece.strip()
            if piece:
                self.n_paras += 1
                self.blocks.append(para(piece, f"html block {self.n_paras}"))

    def walk(self, root: LexborNode) -> None:
        # an explicit stack, not recursion: a page nested 10,000 elements deep is still read
        stack = [(root.iter(include_text=True), False)]
        while stack:
            children, flush_after = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if flush_after:
                    self.flush()
                continue
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text_content or "")
            elif tag in _SKIP or tag == "-comment":
                continue
            elif tag == "table":
                self.flush()
                if _has_nested_table(child):
                    # a layout table (old CMS pages wrap the article in one): read its cells as blocks
                    stack.append((child.iter(include_text=True), False))
                else:
                    self.table(child)
            elif tag == "br":
                self.buf.append("\n")
            elif tag in _BLOCK:
                if _is_chrome(child):
                    continue
                self.flush()
                stack.append((child.iter(include_text=True), True))
            else:
                if _is_chrome(child):
                    continue
                stack.append((child.iter(include_text=True), False))

    def table(self, table: LexborNode) -> None:
        self.n_tables += 1
        t = self.n_tables
        rows: list[list[tuple[str, int, int, str]]] = []
        for r, tr in enumerate(_own_rows(table), start=1):
            cells = []
            for cell in tr.iter():
                tag = cell.tag
                if tag != "td" and tag != "th":
                    continue
                attrs = cell.attributes  # a new dict at every call: read once a cell
                colspan, rowspan = attrs.get("colspan"), attrs.get("rowspan")
                cells.append((_cell_text(cell), 1 if colspan is None else _span(colspan),
                              1 if rowspan is None else _span(rowspan), f"table {t}, row {r}, cell {len(cells) + 1}"))
            rows.append(cells)
        for texts, locs, copies in expand(rows):
            if any(x.strip() and x.strip() != "\xa0" for x in texts):
                self.blocks.append(Block("tab", texts, locs, copies))
        # a table nested in a cell is read with its cell's text; its rows are not walked again


def _has_nested_table(table: LexborNode) -> bool:
    return len(table.css("table")) > 1  # the match includes the table itself


def _own_rows(table: LexborNode) -> list[LexborNode]:
    out = []
    for child in table.iter():
        if child.tag == "tr":
            out.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            out.extend(c for c in child.iter() if c.tag == "tr")
    return out


def _cell_text(cell: LexborNode) -> str:
    # most cells: one text node, alone or wrapped in single elements (<p><span>1</span></p>)
    node = cell.child
    while node is not None and node.next is None:
        tag = node.tag
        if tag == "-text":
            return " ".join((node.text_content or "").split())
        if tag in _SKIP or tag == "-comment":
            return ""
        node = node.child
    if node is None:
        return ""
    parts: list[str] = []
    stack = [(cell.iter(include_text=True), False)]  # iterative, as _Walker.walk
    while stack:
        children, spaced = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if spaced:
                parts.append(" ")
        elif child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag in _SKIP or child.tag == "-comment":
            continue
        elif child.tag in ("br", "p", "div", "li", "tr"):
            parts.append(" ")
            stack.append((child.iter(include_text=True), True))
        else:
            stack.append((child.iter(include_text=True), False))
    return " ".join("".join(parts).split())


def _span(raw: str | None) -> int:
    """A colspan/rowspan attribute's value (1 when absent or unreadable)."""
    if not raw:
        return 1
    if len(raw) <= 3 and raw.isascii() and raw.isdigit():
        digits = raw  # most spans: a plain number, read without the pattern
    else:
        m = re.match(r"\s*0*(\d+)", raw)
        if not m:
            return 1
        digits = m.group(1)
    return MAX_SPAN_ATTR if len(digits) > 4 else max(1, min(int(digits), MAX_SPAN_ATTR))


def extract(html: str) -> list[Block]:
    """Decoded HTML -> blocks (paragraphs and expanded table rows) of the report body."""
    tree = LexborHTMLParser(html)
    root = find_body(tree)
    w = _Walker()
    if root is not None:
        w.walk(root)
    w.flush()
    return w.blocks
