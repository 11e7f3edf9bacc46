"""Bytes -> text: BOMs, UTF-8, then GB18030 (a superset of GBK/GB2312) or Big5, else a clear refusal.

Almost any byte string decodes as GB18030 (Big5 bytes included), so a legacy decoding is only
believed when it reads as Chinese: a good share of its Chinese characters must be common ones (the
report vocabulary and the most frequent characters, simplified and traditional). Of GB18030 and Big5
the more plausible reading wins; when neither is plausible the reason says the encoding is unknown.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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

# Legacy Chinese encodings tried after UTF-8: (Python codec, name recorded as the encoding).
# cp950 is Big5 as Windows writes it; big5hkscs adds the Hong Kong characters.
_LEGACY = (("gb18030", "gb18030"), ("cp950", "big5"), ("big5hkscs", "big5-hkscs"))
# Share of common characters among the Chinese characters of a plausible reading. Real reports score
# 0.8-0.95; Big5 read as GB18030 (and the reverse) scores 0.02-0.1.
_PLAUSIBLE_SHARE = 0.3
_CLEARLY_PLAUSIBLE = 0.6  # no need to try the other encodings
_MIN_CJK_TO_JUDGE = 30  # fewer Chinese characters than this: too short to judge, the first decoding stands
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# the most frequent characters of general Chinese text; the report vocabulary is added from the YAML
_FREQUENT = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家"
    "种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日月件项万元无"
)


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
    decoded = _finish(data, "utf-8", partial)
    if decoded.text is not None:
        return decoded
    return _decode_legacy(data, partial)


def _decode_legacy(data: bytes, partial: bool) -> Decoded:
    best: tuple[float, str, str] | None = None  # (share of common characters, text, encoding)
    readable, binary = [], []
    for codec, name in _LEGACY:
        text = _decode(data, codec, partial)
        if text is None:
            continue
        if not _looks_like_text(text):
            binary.append(name)
            continue
        readable.append(name)
        share, n_cjk = plausibility(text)
        if n_cjk < _MIN_CJK_TO_JUDGE:
            share = 1.0
        if best is None or share > best[0]:
            best = (share, text, name)
        if share >= _CLEARLY_PLAUSIBLE:
            break
    if best is None and binary:
        return Decoded(None, None, f"decoded as {binary[0]} but the content is binary, not text")
    if best is None:
        return Decoded(None, None, "text could not be decoded as UTF-8, GB18030/GBK, Big5 or UTF-16")
    share, text, name = best
    if share < _PLAUSIBLE_SHARE:
        return Decoded(None, None, f"text encoding not recognised: it is not UTF-8, and read as {' or '.join(readable)} "
                                   f"it is not Chinese text (only {share:.0%} common characters)")
    return _finish_text(text, name)


def plausibility(text: str) -> tuple[float, int]:
    """(share of common Chinese characters among the Chinese characters, how many there are) of the
    start of ``text``."""
    cjk = _CJK_RE.findall(text[:20000])
    if not cjk:
        return 0.0, 0
    common = _common_characters()
    return sum(ch in common for ch in cjk) / len(cjk), len(cjk)


@cache
def _common_characters() -> frozenset[str]:
    vocabulary = (Path(__file__).parent / "reference" / "canonical_schema.yaml").read_text(encoding="utf-8")
    simplified = "".join(sorted(set(_CJK_RE.findall(vocabulary)) | set(_FREQUENT)))
    from opencc import OpenCC

    return frozenset(simplified) | frozenset(OpenCC("s2t").convert(simplified))


def _decode(data: bytes, encoding: str, partial: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
    except UnicodeDecodeError:
        return None


def _finish(data: bytes, encoding: str, partial: bool) -> Decoded:
    text = _decode(data, encoding, partial)
    if text is None:
        return Decoded(None, None, f"invalid {encoding}")
    if not _looks_like_text(text):
        return Decoded(None, None, f"decoded as {encoding} but the content is binary, not text")
    return _finish_text(text, encoding)


def _finish_text(text: str, encoding: str) -> Decoded:
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
