"""Cell text -> (cell_state, value, unit_raw), vectorised over a Polars frame of cells.

Blank, 0, ``-``, ``/`` and ``无`` are different facts: each keeps its own ``cell_state``; only
``number`` and ``zero_word`` carry a value.
"""

from __future__ import annotations

import re

import polars as pl

from ingest.registry import registry

# Units a number cell may carry; amounts are converted by the factors in the YAML.
_UNIT_WORDS = ["万元", "亿元", "元", "件", "项", "个", "条", "篇", "次", "份"]
_SIGN_WORDS = {"增加": 1, "新增": 1, "增": 1, "减少": -1, "减": -1}

_NUMBER_RE = (
    r"^(?P<word>增加|新增|减少|增|减)?"
    r"(?P<sign>[+\-−])?"
    r"(?P<num>\d+(?:\.\d+)?)"
    r"(?P<unit>" + "|".join(_UNIT_WORDS) + r")?$"
)
_THOUSANDS_RE = r"(\d),(\d{3})"

# Python's whitespace (str.strip(), re's \s). Polars' own (Rust's) lacks \x1c-\x1f: a vectorised
# step that must give what a Python one gives names these characters.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


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
    return r"^[\t\n\r\x20-\x7e\x{4e00}-\x{9fff}" + members + r"]*$", mapped, targets


_NFKC_SIMPLE_RE, _NFKC_MAPPED, _NFKC_TARGETS = _nfkc_tables()


def _nfkc_series(texts: pl.Series) -> pl.Series:
    simple = texts.str.contains(_NFKC_SIMPLE_RE)
    out = texts.str.replace_many(_NFKC_MAPPED, _NFKC_TARGETS)
    other = (~simple).arg_true()
    if other.is_empty():
        return out
    return out.scatter(other, texts.gather(other).str.normalize("NFKC"))


def nfkc_expr(expr: pl.Expr) -> pl.Expr:
    """``expr.str.normalize("NFKC")``, the same strings, without the normaliser for most texts."""
    return expr.map_batches(_nfkc_series, return_dtype=pl.String)


def _words(state: str) -> list[str]:
    words = registry().cell_state_words().get(state, [])
    return [w for w in words if w and " " not in w and "(" not in w and w != "&nbsp;"]


def cleaned_cell_expr(col: str = "cell_text") -> pl.Expr:
    """Cell text trimmed of every kind of whitespace, with HTML's &nbsp; treated as blank."""
    # stripped first, the same result (the collapsed runs are whitespace too; "&nbsp;" holds none): most
    # cells that print a space print it around their text only (| 0 |), and then need no rewrite
    return pl.col(col).fill_null("").str.strip_chars().map_batches(_collapse_spaces, return_dtype=pl.String)


_SPACE = r"[\s\u00a0\u3000]"
# a run of whitespace and &nbsp; (each &nbsp; a space) -> one space
_SPACE_RUN = r"(?:&nbsp;|" + _SPACE + r")+"


def _collapse_spaces(cells: pl.Series) -> pl.Series:
    """Stripped cells -> the runs collapsed and the ends stripped again (an &nbsp; at an end becomes a
    space there)."""
    # the regex rewrite is the costly part and most cells have no space at all: rewrite only the others
    # (the others are stripped already: a second strip of every cell changes none of them)
    spaced = cells.str.contains(_SPACE + r"|&nbsp;").arg_true()
    if spaced.is_empty():
        return cells
    return cells.clone().scatter(spaced, cells.gather(spaced).str.replace_all(_SPACE_RUN, " ").str.strip_chars())


def classify_cells(df: pl.DataFrame, text_col: str = "raw_text") -> pl.DataFrame:
    """Add cell_state, value (signed, unit as written), unit_raw and value_is_integer."""
    compact = (
        pl.col(text_col)
        .str.normalize("NFKC")
        .str.replace_all(r"\s+", "")
        .str.replace_all(_THOUSANDS_RE, "$1$2")
        .str.replace_all(_THOUSANDS_RE, "$1$2")
    )
    signed_words = registry().signed_count_words()
    zero_words = [w for w, v in signed_words.items() if str(v) == "0"]
    df = df.with_columns(compact.alias("_compact"))
    df = df.with_columns(pl.col("_compact").str.extract_groups(_NUMBER_RE).alias("_num"))
    num = pl.col("_num").struct
    sign = (
        pl.when(num.field("sign").is_in(["-", "−"]) | num.field("word").is_in(["减少", "减"]))
        .then(-1.0)
        .otherwise(1.0)
    )
    state = (
        pl.when(pl.col("_compact") == "")
        .then(pl.lit("blank"))
        .when(num.field("num").is_not_null())
        .then(pl.lit("number"))
        .when(pl.col("_compact").is_in(zero_words))
        .then(pl.lit("number"))
        .when(pl.col("_compact").is_in([normalise_state_word(w) for w in _words("zero_word")]))
        .then(pl.lit("zero_word"))
        .when(pl.col("_compact").is_in([normalise_state_word(w) for w in _words("dash")]))
        .then(pl.lit("dash"))
        .when(pl.col("_compact").is_in([normalise_state_word(w) for w in _words("slash")]))
        .then(pl.lit("slash"))
        .when(pl.col("_compact").is_in([normalise_state_word(w) for w in _words("none_word")]))
        .then(pl.lit("none_word"))
        .otherwise(pl.lit("text"))
    )
    value = (
        pl.when(num.field("num").is_not_null())
        .then(num.field("num").cast(pl.Float64) * sign)
        .when(pl.col("_compact").is_in(zero_words) | (pl.col("_compact") == "零"))
        .then(0.0)
    )
    return df.with_columns(
        state.alias("cell_state"),
        value.alias("value"),
        num.field("unit").alias("unit_raw"),
        (
            num.field("num").is_not_null() & ~num.field("num").str.contains(r"\.\d*[1-9]")
            | pl.col("_compact").is_in(zero_words)
            | (pl.col("_compact") == "零")
        ).alias("value_is_integer"),
    ).drop("_compact", "_num")


def normalise_state_word(word: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", word))


def header_unit_expr(col: str) -> pl.Expr:
    """The money unit written in a header cell, e.g. 采购总金额(单位:万元,保留4位小数) -> 万元."""
    units = sorted(registry().amount_units(), key=len, reverse=True)
    return pl.col(col).str.normalize("NFKC").str.extract(r"(" + "|".join(units) + r")")


def amount_factor_expr(unit_col: str) -> pl.Expr:
    factors = registry().amount_units()
    return pl.col(unit_col).replace_strict(factors, default=None, return_dtype=pl.Float64)
