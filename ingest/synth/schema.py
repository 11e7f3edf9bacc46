"""Template structure for the synthetic generator, read from ``ingest/reference/canonical_schema.yaml``.

Nothing here hard-codes a label table: row/column keys, printed labels, label aliases, captions,
section headings and the outcome-leaf groups all come from the YAML.  This module only turns the
YAML (with its ``{ref: a.b.c}`` nodes resolved) into small frozen records the renderers can use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.registry import SCHEMA_PATH, resolved_schema_document

T3_TABLE = "t3"
T4_TABLE = "t4"


@dataclass(frozen=True)
class RowSpec:
    key: str
    zh: str
    level: int
    data: bool  # False for group labels (merged cells that never carry numbers)
    parent: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ColSpec:
    key: str
    zh: str
    aliases: tuple[str, ...]
    type: str  # count | signed_count | amount_wan_yuan


@dataclass(frozen=True)
class T2Spec:
    table_id: str
    caption: str
    caption_aliases: tuple[str, ...]
    rows: tuple[RowSpec, ...]
    cols: tuple[ColSpec, ...]


@dataclass(frozen=True)
class TemplateSpec:
    version: str
    t2: tuple[T2Spec, ...]
    t3_rows: tuple[RowSpec, ...]  # printed order, group labels included (data=False)
    t3_cols: tuple[ColSpec, ...]  # physical order: 6 applicant columns + total
    t3_leaves: tuple[str, ...]  # outcome leaves that add up to total_processed
    t3_groups: dict  # row group name -> member keys (withheld, unable, not_processed[, other])
    t4_rows: tuple[RowSpec, ...]
    t4_cols: tuple[ColSpec, ...]

    @property
    def t3_data_rows(self) -> tuple[RowSpec, ...]:
        return tuple(r for r in self.t3_rows if r.data)

    def t2_table(self, table_id: str) -> T2Spec:
        for t in self.t2:
            if t.table_id == table_id:
                return t
        raise KeyError(table_id)


# ------------------------------------------------------------------------------------------------
# YAML loading
# ------------------------------------------------------------------------------------------------


def load_schema(path: str | None = None) -> dict:
    """The YAML with every ``{ref: ...}`` node replaced by the node it points to."""
    return resolved_schema_document(Path(path) if path else SCHEMA_PATH)


def _row(d: dict) -> RowSpec:
    return RowSpec(
        key=d["key"],
        zh=d["zh"],
        level=int(d.get("level", 0)),
        data=bool(d.get("data", True)),
        parent=d.get("parent"),
        aliases=tuple(d.get("aliases") or ()),
    )


def _col(d: dict) -> ColSpec:
    return ColSpec(
        key=d["key"], zh=d["zh"], aliases=tuple(d.get("aliases") or ()), type=d.get("type", "count")
    )


def _t3_rows(version_t3: dict) -> list[RowSpec]:
    rows_def = version_t3["rows"]
    base = [_row(r) for r in rows_def["base"]]
    insert = [_row(r) for r in rows_def.get("insert", [])]
    after = rows_def.get("insert_after")
    if after is None:
        return base + insert
    out: list[RowSpec] = []
    for r in base:
        out.append(r)
        if r.key == after:
            out.extend(insert)
    return out


def _expand_group(items: list[str], groups: dict) -> list[str]:
    out: list[str] = []
    for it in items:
        if isinstance(it, str) and it.startswith("@"):
            out.extend(_expand_group(groups[it[1:]], groups))
        else:
            out.append(it)
    return out


@functools.lru_cache(maxsize=4)
def template_spec(version: str) -> TemplateSpec:
    if version not in ("v2019", "v2021"):
        raise ValueError(f"no table template for {version!r}")
    schema = load_schema()
    ver = schema[version]
    tables = ver["tables"]
    t2 = []
    for tid in sorted(k for k in tables if k.startswith("t2_")):
        t = tables[tid]
        t2.append(
            T2Spec(
                table_id=tid,
                caption=t["zh_caption"],
                caption_aliases=tuple(t.get("caption_aliases") or ()),
                rows=tuple(_row(r) for r in t["rows"]),
                cols=tuple(_col(c) for c in t["columns"]),
            )
        )
    t3 = tables["t3"]
    groups = {k: list(v) for k, v in t3["row_groups"].items() if k != "outcome_leaves"}
    leaves = _expand_group(t3["row_groups"]["outcome_leaves"], groups)
    order = schema["shared"]["t3_column_order_physical"]
    cols_by_key = {c["key"]: _col(c) for c in t3["columns"]}
    t4 = tables["t4"]
    return TemplateSpec(
        version=version,
        t2=tuple(t2),
        t3_rows=tuple(_t3_rows(t3)),
        t3_cols=tuple(cols_by_key[k] for k in order),
        t3_leaves=tuple(leaves),
        t3_groups=groups,
        t4_rows=tuple(_row(r) for r in t4["rows"]),
        t4_cols=tuple(_col(c) for c in t4["columns"]),
    )


def t4_physical_order() -> list[tuple[str, str]]:
    order = load_schema()["shared"]["t4"]["physical_cell_order"]
    return [tuple(x.split(".")) for x in order]  # type: ignore[misc]


def t3_balance_note() -> str:
    """The printed balance note that heads the first header column of 表三 (normalised form)."""
    toks = load_schema()["shared"]["t3_header_tokens_not_columns"]
    return next(t for t in toks if "勾稽" in t)


def t3_header_groups() -> tuple[str, str]:
    """(申请人情况, 法人或其他组织) from the YAML."""
    toks = load_schema()["shared"]["t3_header_tokens_not_columns"]
    parent = next(c["parent_zh"] for c in load_schema()["shared"]["t3_columns"] if c.get("parent_zh"))
    top = next(t for t in toks if "勾稽" not in t and t != parent)
    return top, parent


def section_headings() -> dict[str, list[str]]:
    sh = load_schema()["shared"]["section_headings"]
    return {k: list(v) for k, v in sh.items() if isinstance(v, list)}


def pre2019_headings() -> dict[str, list[str]]:
    return {k: list(v) for k, v in load_schema()["pre2019"]["section_headings"].items()}


# ------------------------------------------------------------------------------------------------
# Label helpers
# ------------------------------------------------------------------------------------------------

_QUOTES = "“”〝〞‘’「」\"'"
_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d+\.)")


def normalise_label(s: str) -> str:
    """Loose normal form (NFKC, no whitespace, no quotes) used to dedupe label variants."""
    s = unicodedata.normalize("NFKC", s)
    s = "".join(ch for ch in s if not ch.isspace() and ch not in _QUOTES)
    return s


def list_marker(s: str) -> str:
    m = _MARKER.match(normalise_label(s))
    return m.group(0) if m else ""


def label_variants(row_or_col: RowSpec | ColSpec) -> list[str]:
    return list(_label_variants(row_or_col))


@functools.cache
def _label_variants(row_or_col: RowSpec | ColSpec) -> tuple[str, ...]:
    """Printed forms of a label: the canonical ``zh`` first, then YAML aliases that can stand in for
    it in a printed table (same list marker; an alias without marker gets the canonical marker when
    it is a near-complete form of the label)."""
    zh = row_or_col.zh
    marker = list_marker(zh)
    seen = {normalise_label(zh)}
    out = [zh]
    core_len = len(normalise_label(zh)) - len(marker)
    for a in row_or_col.aliases:
        am = list_marker(a)
        cand = a
        if marker and am != marker:
            if am:  # a different marker: not a stand-in
                continue
            if len(normalise_label(a)) < 0.7 * core_len:
                continue
            cand = marker + a
        n = normalise_label(cand)
        if n in seen:
            continue
        seen.add(n)
        out.append(cand)
    return tuple(out)
