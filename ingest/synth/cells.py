"""Presentation of values as printed cells, and the truth records that go with them.

The truth ``value`` is always derived from what is printed: a blank, ``-``, ``/`` or ``无`` cell has
``value = None`` (never 0); a money cell written in 元 is converted to the canonical 万元.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Cell:
    table_id: str
    row_key: str
    col_key: str
    value: float | None
    cell_state: str  # number | blank | dash | slash | none_word
    raw_text: str

    def to_truth(self) -> dict:
        return {
            "table_id": self.table_id,
            "row_key": self.row_key,
            "col_key": self.col_key,
            "value": self.value,
            "cell_state": self.cell_state,
            "raw_text": self.raw_text,
        }


def number_cell(table_id: str, row: str, col: str, raw: str, value: float) -> Cell:
    return Cell(table_id, row, col, float(value), "number", raw)


def empty_cell(table_id: str, row: str, col: str, raw: str) -> Cell:
    state = {"": "blank", "-": "dash", "—": "dash", "/": "slash", "／": "slash", "无": "none_word"}[raw]
    return Cell(table_id, row, col, None, state, raw)


@dataclass
class CountStyle:
    """How zeros and counts of 表三/表四 are written in one report."""

    blank_mode: str = "none"  # none | total_kept | all_blank | mixed
    zero_token: str = "0"  # "0", or "-" for the rare dash-for-zero reports
    mixed_keep_p: float = 0.12

    def render(self, rng: random.Random, table_id: str, row: str, col: str, v: int) -> Cell:
        if v != 0:
            return number_cell(table_id, row, col, str(int(v)), v)
        if self.blank_mode == "none":
            if self.zero_token == "0":
                return number_cell(table_id, row, col, "0", 0)
            return empty_cell(table_id, row, col, self.zero_token)
        if self.blank_mode == "total_kept" and col == "total":
            return number_cell(table_id, row, col, "0", 0)
        if self.blank_mode == "mixed" and (col == "total" or rng.random() < self.mixed_keep_p):
            return number_cell(table_id, row, col, "0", 0)
        return empty_cell(table_id, row, col, "")


def _fmt_decimal(x: float, rng: random.Random) -> str:
    k = rng.choice([1, 2, 2, 3, 4])
    s = f"{x:.{k}f}"
    if rng.random() < 0.6 and "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


@dataclass
class T2Style:
    """How 表二 cells are written in one report."""

    slash_regulations: bool = False  # 规章 row written as '/' (no rule-making power)
    thousands_sep: bool = False
    plus_sign: bool = True
    money_unit_in_header: bool = True  # header says 万元 -> cells plain
    money_cell_unit: str = "none"  # none | 万元 | 元   (only when the header has no unit)
    money_space: bool = True
    none_word_fees: bool = False  # v2019 fees row written as 无 when zero
    dash_zero_money: bool = False
    extra: dict = field(default_factory=dict)

    def render(self, rng: random.Random, table_id: str, row: str, col: str, ctype: str, v: float) -> Cell:
        if table_id == "t2_art20_1" and row == "regulations" and self.slash_regulations:
            return empty_cell(table_id, row, col, "/")
        if ctype == "amount_wan_yuan":
            return self._money(rng, table_id, row, col, float(v))
        if self.none_word_fees and table_id == "t2_art20_8" and v == 0:
            return empty_cell(table_id, row, col, "无")
        iv = int(v)
        if ctype == "signed_count":
            if iv > 0:
                raw = f"+{iv}" if self.plus_sign else str(iv)
            elif iv < 0:
                raw = ("－" if rng.random() < 0.1 else "-") + str(-iv)
            else:
                raw = "0"
            return number_cell(table_id, row, col, raw, iv)
        raw = f"{iv:,}" if (self.thousands_sep and iv >= 10000) else str(iv)
        return number_cell(table_id, row, col, raw, iv)

    def _money(self, rng: random.Random, table_id: str, row: str, col: str, x: float) -> Cell:
        if x == 0:
            if self.dash_zero_money:
                return empty_cell(table_id, row, col, rng.choice(["-", "/"]))
            raw = rng.choice(["0", "0", "0.00"])
            return number_cell(table_id, row, col, raw, 0.0)
        if self.money_unit_in_header or self.money_cell_unit == "none":
            raw = _fmt_decimal(x, rng)
            return number_cell(table_id, row, col, raw, float(raw))
        sp = " " if self.money_space else ""
        if self.money_cell_unit == "元":
            yuan = round(x * 10000, rng.choice([0, 2]))
            num = f"{yuan:.0f}" if yuan == int(yuan) else f"{yuan:.2f}"
            return number_cell(table_id, row, col, f"{num}{sp}元", round(float(num) / 10000, 8))
        raw = _fmt_decimal(x, rng)
        return number_cell(table_id, row, col, f"{raw}{sp}万元", float(raw))
