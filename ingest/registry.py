"""The report vocabulary, loaded as data from ``reference/canonical_schema.yaml``.

Everything the parser knows about labels (row, column, caption and heading aliases, value types,
cell-state words) comes from the YAML; nothing here spells a template label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from ingest.nfkc import nfkc_expr

SCHEMA_PATH = Path(__file__).parent / "reference" / "canonical_schema.yaml"

_QUOTES = "\"'“”〝〞‘’「」『』"
_SEPARATORS = "、，,．."
_MARKUP = "#*|`>"
# Whitespace incl. NBSP and the ideographic space, which NFKC maps to a plain space anyway.
_LABEL_STRIP_RE = re.compile(r"[\s\u00a0\u3000" + re.escape(_QUOTES + _SEPARATORS + _MARKUP) + r"]+")
# Rust regex (Polars) has no look-ahead, so the bare-numeral form is a plain prefix.
_LIST_MARKER_RE = re.compile(r"^(?:\(?[一二三四五六七八九十]+\)|[一二三四五六七八九十]{1,3}|\d+)")


def normalise_label(text: str | None) -> str:
    """Normalised form of a label for alias matching (YAML label_normalisation, list markers kept)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    return _LABEL_STRIP_RE.sub("", text)


def strip_list_marker(norm: str) -> str:
    return _LIST_MARKER_RE.sub("", norm, count=1)


def normalise_label_expr(expr: pl.Expr) -> pl.Expr:
    """The same normalisation as :func:`normalise_label`, vectorised."""
    return nfkc_expr(expr).str.replace_all(_LABEL_STRIP_RE.pattern, "")


def strip_list_marker_expr(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace(_LIST_MARKER_RE.pattern, "")


def resolve_refs(node: Any, root: dict, _depth: int = 0) -> Any:
    """Replace every ``{ref: a.b.c}`` node (a structural reference of the YAML) by its target."""
    if _depth > 30:
        raise ValueError("structural reference cycle in the schema")
    if isinstance(node, dict):
        if set(node) == {"ref"} and isinstance(node["ref"], str):
            target: Any = root
            for part in node["ref"].split("."):
                if not isinstance(target, dict) or part not in target:
                    raise KeyError(f"structural reference {node['ref']!r} not found")
                target = target[part]
            return resolve_refs(target, root, _depth + 1)
        return {k: resolve_refs(v, root, _depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_refs(v, root, _depth + 1) for v in node]
    return node


@cache
def schema_document(path: Path = SCHEMA_PATH) -> dict:
    """The canonical schema YAML as parsed (references not resolved). Treat as read-only."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def resolved_schema_document(path: Path = SCHEMA_PATH) -> dict:
    """The canonical schema with every ``{ref: ...}`` replaced. Treat as read-only."""
    raw = schema_document(path)
    return resolve_refs(raw, raw)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    zh: str
    value_type: str  # count | signed_count | amount_wan_yuan
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    table_id: str
    version: str
    columns: tuple[ColumnSpec, ...]
    rows: tuple[dict, ...]
    caption_aliases: tuple[str, ...] = ()


@dataclass
class Registry:
    raw: dict
    versions: tuple[str, ...] = ("v2019", "v2021")
    tables: dict[tuple[str, str], TableSpec] = field(default_factory=dict)

    # ---------------------------------------------------------------- construction
    @classmethod
    def load(cls, path: Path = SCHEMA_PATH) -> Registry:
        raw = schema_document(path)
        reg = cls(raw=raw)
        for version in reg.versions:
            for table_id, spec in raw[version]["tables"].items():
                spec = resolve_refs(spec, raw)
                reg.tables[(version, table_id)] = reg._table_spec(version, table_id, spec)
        return reg

    def _table_spec(self, version: str, table_id: str, spec: dict) -> TableSpec:
        if table_id == "t4":
            cols = [
                ColumnSpec(c["key"], c["zh"], c.get("type", "count"), tuple(c.get("aliases", [])))
                for c in spec["columns"]
            ]
            return TableSpec(table_id, version, tuple(cols), tuple(spec["rows"]))
        if table_id == "t3":
            cols = [
                ColumnSpec(c["key"], c["zh"], "count", tuple(c.get("aliases", [])))
                for c in spec["columns"]
                if not c.get("derived")
            ]
            rows = list(spec["rows"]["base"])
            insert_at = next(i for i, r in enumerate(rows) if r["key"] == spec["rows"]["insert_after"]) + 1
            rows[insert_at:insert_at] = spec["rows"]["insert"]
            return TableSpec(table_id, version, tuple(cols), tuple(rows))
        cols = [
            ColumnSpec(c["key"], c["zh"], c.get("type", "count"), tuple(c.get("aliases", [])))
            for c in spec["columns"]
        ]
        captions = (spec["zh_caption"], *spec.get("caption_aliases", []))
        return TableSpec(table_id, version, tuple(cols), tuple(spec["rows"]), captions)

    # ---------------------------------------------------------------- t3 / t4
    def t3(self, version: str) -> TableSpec:
        return self.tables[(version, "t3")]

    def t4(self) -> TableSpec:
        return self.tables[("v2019", "t4")]

    @property
    def t3_column_order(self) -> list[str]:
        return list(self.raw["shared"]["t3_column_order_physical"])

    @property
    def t4_cell_order(self) -> list[tuple[str, str]]:
        return [tuple(c.split(".")) for c in self.raw["shared"]["t4"]["physical_cell_order"]]

    def t3_row_groups(self, version: str) -> dict[str, list[str]]:
        groups = resolve_refs(self.raw[version]["tables"]["t3"]["row_groups"], self.raw)
        return {k: v for k, v in groups.items() if k != "outcome_leaves"}

    def t3_data_rows(self, version: str) -> list[dict]:
        return [r for r in self.t3(version).rows if r.get("data", True)]

    def t2_tables(self, version: str) -> list[TableSpec]:
        return [s for (v, t), s in self.tables.items() if v == version and t.startswith("t2_")]

    # ---------------------------------------------------------------- alias frames
    def alias_frame(self, entries: list[tuple[str, str, str]]) -> pl.DataFrame:
        """(scope, key, alias) triples -> frame of unique normalised aliases per scope.

        Primary aliases keep list markers; secondary ones strip them (YAML label_normalisation).
        An alias that maps to two keys within one scope is dropped: it cannot identify a row.
        """
        rows = []
        for scope, key, alias in entries:
            norm = normalise_label(alias)
            rows.append((scope, key, norm, 0))
            stripped = strip_list_marker(norm)
            if stripped != norm and len(stripped) >= 4:
                rows.append((scope, key, stripped, 1))
        df = pl.DataFrame(rows, schema=["scope", "key", "norm", "rank"], orient="row").unique()
        best = df.group_by("scope", "norm").agg(pl.col("rank").min())
        df = df.join(best, on=["scope", "norm", "rank"])
        ambiguous = df.group_by("scope", "norm").agg(pl.col("key").n_unique().alias("n")).filter(pl.col("n") > 1)
        return df.join(ambiguous, on=["scope", "norm"], how="anti").select("scope", "key", "norm")

    def t3_row_aliases(self) -> pl.DataFrame:
        entries = []
        for version in self.versions:
            for row in self.t3(version).rows:
                # （六）其他处理 is a leaf in v2019 and a group label in v2021: one key, the mapper
                # decides by the table's version and whether the line carries numbers.
                key = "other_processing" if row["key"] == "other_group" else row["key"]
                for alias in (row["zh"], *row.get("aliases", [])):
                    entries.append(("t3", key, alias))
        subtotal_aliases = self.raw["shared"]["t3_optional_printed_subtotals"]["aliases"]
        for key, aliases in subtotal_aliases.items():
            for alias in aliases:
                entries.append(("t3", key, alias))
        return self.alias_frame(entries)

    def t4_row_aliases(self) -> pl.DataFrame:
        return self.alias_frame(
            [("t4", r["key"], a) for r in self.t4().rows for a in (r["zh"], *r.get("aliases", []))]
        )

    def t2_caption_aliases(self) -> pl.DataFrame:
        entries = []
        for version in self.versions:
            for spec in self.t2_tables(version):
                for alias in spec.caption_aliases:
                    entries.append(("t2_caption", spec.table_id, alias))
        return self.alias_frame(entries)

    def t2_row_aliases(self) -> pl.DataFrame:
        entries = []
        for version in self.versions:
            for spec in self.t2_tables(version):
                for row in spec.rows:
                    for alias in (row["zh"], *row.get("aliases", [])):
                        entries.append((spec.table_id, row["key"], alias))
                for row in self.raw[version]["tables"][spec.table_id].get("extra_rows_seen", []):
                    entries.append((spec.table_id, row["key"], row["zh"]))
        return self.alias_frame(entries)

    def t2_column_aliases(self) -> pl.DataFrame:
        """Columns of every t2 sub-table per version: table_id, version, key, position, norm, value_type."""
        rows = []
        for version in self.versions:
            for spec in self.t2_tables(version):
                for pos, col in enumerate(spec.columns):
                    for alias in {col.zh, *col.aliases}:
                        rows.append((spec.table_id, version, col.key, pos, normalise_label(alias), col.value_type))
        return pl.DataFrame(
            rows, schema=["table_id", "version", "col_key", "position", "norm", "value_type"], orient="row"
        ).unique()

    def heading_aliases(self) -> pl.DataFrame:
        """Section headings of the v2019/v2021 six-part structure: (section, norm)."""
        rows = []
        for section, aliases in resolve_refs(self.raw["shared"]["section_headings"], self.raw).items():
            if section == "note":
                continue
            for alias in aliases:
                rows.append((section, normalise_label(alias)))
        return pl.DataFrame(rows, schema=["section", "norm"], orient="row").unique()

    def t3_header_tokens(self) -> set[str]:
        tokens = {normalise_label(t) for t in self.raw["shared"]["t3_header_tokens_not_columns"]}
        return tokens

    # ---------------------------------------------------------------- value words
    def cell_state_words(self) -> dict[str, list[str]]:
        states = self.raw["cell_states"]
        return {k: v for k, v in states.items() if isinstance(v, list)}

    def signed_count_words(self) -> dict[str, str]:
        return dict(self.raw["unit_normalisation"]["signed_count_words"])

    def amount_units(self) -> dict[str, float]:
        return {
            u["written"]: float(u["factor"])
            for u in self.raw["unit_normalisation"]["amount_wan_yuan"]
            if u["written"] != "none"
        }

    # ---------------------------------------------------------------- reference rows for dbt
    def ref_row_keys(self) -> pl.DataFrame:
        rows = []
        outcome_category = {"withheld": "withheld", "unable": "unable", "not_processed": "not_processed", "other": "other"}
        for version in self.versions:
            groups = self.t3_row_groups(version)
            member_of = {m: g for g, members in groups.items() for m in members}
            order = 0
            for row in self.t3(version).rows:
                order += 1
                key = row["key"]
                if key == "other_group":
                    # the v2019 leaf kept alive in v2021 as the derived sum of the three new leaves
                    rows.append(("t3", version, "other_processing", row["zh"], "outcome", "other", order, None))
                if not row.get("data", True):
                    continue
                if key in ("new_received", "carried_from_prev_year"):
                    group, category = "received", None
                elif key == "carried_to_next_year":
                    group, category = "carried_forward", None
                elif key == "total_processed":
                    group, category = "outcome", "total"
                elif key in ("granted", "partially_granted"):
                    group, category = "outcome", key
                else:
                    group, category = "outcome", outcome_category[member_of[key]]
                rows.append(("t3", version, key, row["zh"], group, category, order, None))
            for pos, (row_key, col_key) in enumerate(self.t4_cell_order):
                if col_key == "total":
                    zh = next(r["zh"] for r in self.t4().rows if r["key"] == row_key)
                    rows.append(("t4", version, row_key, zh, None, None, pos, None))
            for spec in self.t2_tables(version):
                for i, row in enumerate(spec.rows):
                    article = spec.table_id.removeprefix("t2_art")
                    rows.append((spec.table_id, version, row["key"], row["zh"], None, None, i, article))
        from ingest.schemas import REF_ROW_KEYS

        return pl.DataFrame(rows, schema=REF_ROW_KEYS, orient="row")


@cache
def registry() -> Registry:
    return Registry.load()
