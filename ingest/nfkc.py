"""NFKC over a column without Polars' normaliser where it is not needed (it is one of the costliest
string kernels: half of the metadata frame's Polars work, a third of the channel pass)."""

from __future__ import annotations

import polars as pl


# NFKC without the normaliser where it can be done without it. Polars' normaliser costs about as much
# as all the rest of the metadata reading, and most text holds only characters NFKC keeps (ASCII, the
# CJK ideographs, CJK and general punctuation) and full-width forms it maps one for one to ASCII (and
# the ideographic space to a space). A text of those characters only is normalised by that mapping: no
# character of the set decomposes into several or combines with a neighbour, so the normal form is the
# characters mapped one by one. Any other text goes through the normaliser. The set is taken from
# Python's own NFKC table (the ranges are decades old: every Unicode version agrees on them).
def _nfkc_tables() -> tuple[str, list[str], list[str]]:
    import unicodedata

    def kept(c: str) -> bool:
        return unicodedata.normalize("NFKC", c) == c and unicodedata.combining(c) == 0

    punctuation = [chr(c) for c in [0xB7, 0xD7, *range(0x2010, 0x2028), *range(0x3001, 0x3020)] if kept(chr(c))]
    mapped = [chr(c) for c in [0x3000, *range(0xFF01, 0xFF5F)]]
    targets = [unicodedata.normalize("NFKC", c) for c in mapped]
    assert all(len(t) == 1 and ord(t) < 0x80 for t in targets)
    assert all(kept(chr(c)) for c in [*range(0x20, 0x7F), 0x4E00, 0x9FA5])
    members = "".join(f"\\x{{{ord(c):x}}}" for c in [*punctuation, *mapped])
    return r"\t\n\r\x20-\x7e\x{4e00}-\x{9fff}" + members, mapped, targets


_NFKC_SIMPLE_CLASS, _NFKC_MAPPED, _NFKC_TARGETS = _nfkc_tables()
_NFKC_SIMPLE_RE = "^[" + _NFKC_SIMPLE_CLASS + "]*$"
# a character of a text the normaliser is needed for (one outside the set above)
NFKC_OTHER_CHAR_RE = "[^" + _NFKC_SIMPLE_CLASS + "]"
# a character the one-for-one mapping rewrites
_NFKC_MAPPED_RE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _NFKC_MAPPED) + "]"


def nfkc_sources(ascii_chars: str) -> str:
    """The other characters that become one of ``ascii_chars`` in the normal form of a text of the
    simple set (their full-width forms)."""
    return "".join(c for c, t in zip(_NFKC_MAPPED, _NFKC_TARGETS, strict=True) if t in ascii_chars)


def _nfkc_series(texts: pl.Series) -> pl.Series:
    simple = texts.str.contains(_NFKC_SIMPLE_RE)
    # the mapping only where there is something to map: most table cells hold none of those characters,
    # and finding the texts that do costs half of rewriting every one
    mapped = texts.str.contains(_NFKC_MAPPED_RE).arg_true()
    out = texts if mapped.is_empty() else texts.clone().scatter(  # scatter writes in place: a copy
        mapped, texts.gather(mapped).str.replace_many(_NFKC_MAPPED, _NFKC_TARGETS))
    other = (~simple).arg_true()
    if other.is_empty():
        return out
    return (out.clone() if out is texts else out).scatter(other, texts.gather(other).str.normalize("NFKC"))


def nfkc_expr(expr: pl.Expr) -> pl.Expr:
    """``expr.str.normalize("NFKC")``, the same strings, without the normaliser for most texts."""
    return expr.map_batches(_nfkc_series, return_dtype=pl.String)
