"""Bytes -> text: BOMs, UTF-8, then GB18030 (a superset of GBK/GB2312), else a clear refusal."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cache

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A decoded text with more control characters than this share is binary, not a report.
_MAX_CONTROL_SHARE = 0.01
# Characters only traditional Chinese uses, frequent in these reports (資訊 開 報 機關 請 ...).
_TRADITIONAL_MARKERS = "資訊開報機關請處與據還這個為們來說實應當於條專網頁務體"
# counted with the regex engine: a per-character Python loop dominated discovery of large landings
_TRADITIONAL_RE = re.compile(f"[{_TRADITIONAL_MARKERS}]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")  # C0 controls other than \t \n \v \f \r


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    problem: str | None = None
    converted_from_traditional: bool = False


def decode_bytes(data: bytes, *, partial: bool = False) -> Decoded:
    """Decode report bytes. ``partial`` tolerates a multibyte character cut at the end."""
    if not data:
        return Decoded(None, None, "the file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _finish(data[len(bom):], encoding, partial)
    if b"\x00" in data[:4096]:
        # NUL bytes without a BOM: UTF-16 without BOM is possible but rare; binary is likelier
        for encoding in ("utf-16-le", "utf-16-be"):
            decoded = _finish(data, encoding, partial)
            if decoded.text is not None and _mostly_cjk_or_ascii(decoded.text):
                return decoded
        return Decoded(None, None, "binary content (NUL bytes), not text")
    for encoding in ("utf-8", "gb18030"):
        decoded = _finish(data, encoding, partial)
        if decoded.text is not None:
            return decoded
    return Decoded(None, None, "text could not be decoded as UTF-8, GB18030/GBK or UTF-16")


def _finish(data: bytes, encoding: str, partial: bool) -> Decoded:
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        text = decoder.decode(data, final=not partial)
    except UnicodeDecodeError:
        return Decoded(None, None, f"invalid {encoding}")
    if not _looks_like_text(text):
        return Decoded(None, None, f"decoded as {encoding} but the content is binary, not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _is_traditional(text):
        return Decoded(_to_simplified(text), encoding, None, True)
    return Decoded(text, encoding)


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    sample = text[:20000]
    control = len(_CONTROL_RE.findall(sample))
    return control / len(sample) <= _MAX_CONTROL_SHARE


def _mostly_cjk_or_ascii(text: str) -> bool:
    """BOM-less UTF-16 is only believed when it reads as Chinese or ASCII text."""
    sample = text[:5000]
    if not sample:
        return False
    plausible = sum(
        1 for ch in sample if ch.isascii() and (ch.isprintable() or ch in "\t\n\r") or "\u3000" <= ch <= "\u9fff"
        or "\uff00" <= ch <= "\uffef"
    )
    return plausible / len(sample) >= 0.9


def _is_traditional(text: str) -> bool:
    sample = text[:5000]
    hits = len(_TRADITIONAL_RE.findall(sample))
    return hits >= 5


@cache
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


def _to_simplified(text: str) -> str:
    return _converter().convert(text)
