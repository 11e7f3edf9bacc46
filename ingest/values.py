"""Cell text -> (cell_state, value, unit_raw), vectorised over a Polars frame of cells.

Blank, 0, ``-``, ``/`` and ``无`` are different facts: each keeps its own ``cell_state``; only
``number`` and ``zero_word`` carry a value.
"""

from __future__ import annotations

import re

import polars as pl

from ingest.nfkc import nfkc_expr
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
        nfkc_expr(pl.col(text_col))
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
    return nfkc_expr(pl.col(col)).str.extract(r"(" + "|".join(units) + r")")


def amount_factor_expr(unit_col: str) -> pl.Expr:
    factors = registry().amount_units()
    return pl.col(unit_col).replace_strict(factors, default=None, return_dtype=pl.Float64)
