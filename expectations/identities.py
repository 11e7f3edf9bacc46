"""Accounting identities of the report templates, read as data from ``canonical_schema.yaml``.

The YAML (``ingest/reference/canonical_schema.yaml``) is the source of truth. Each identity under
``<version>.identities`` has an ``id``, a ``level`` (error | warn | info), an ``expr`` and optionally a
``for_each`` binding placeholders. This module parses the expression grammar declared at the top of
the YAML and expands every identity into :class:`RuleInstance` objects, one per bound key::

    v2019.t3.balance  (for_each c in t3_all_cols)  ->  t3.balance.natural_person ... t3.balance.total
    v2019.t3.row_total (for_each r in [..., '@withheld', ...]) -> t3.row_total.granted, ...

Grammar handled (the within-report part):

    expr   := side OP side             OP in == <= >=
    side   := [+|-] term { (+|-) term }
    term   := ref | sum(ref)
    ref    := table_id '.' row '.' col  where row/col may be '@group' (only inside sum())
    {x}    := placeholder bound by for_each over a named set/group or a list ('@group' items are
              expanded in place)
    @name  := resolved first in the table's row_groups of the version, then in top-level ``sets``

Expressions that do not parse (prose such as ``every cell of type count ... >= 0``), that need another
report (``prev.``) or narrative values (``narr.``), or that carry an ``applies_if`` condition are *skipped*
and listed by :func:`skipped_identities`, with the reason. To support one of them later, register a
builder in :data:`EXTRA_BUILDERS` (keyed by rule family, e.g. ``"nonneg"``) that returns rule instances.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.registry import SCHEMA_PATH, schema_document
from ingest.registry import resolve_refs as _resolve_refs

WITHIN_REPORT_VERSIONS = ("v2019", "v2021")
COMPARISON_OPS = ("==", "<=", ">=")
COLUMN_SEP = "__"


class ExpressionError(ValueError):
    """The expression is not in the identity grammar (prose, unbound placeholder, unknown group...)."""


# --------------------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------------------


def wide_column(table_id: str, row_key: str, col_key: str) -> str:
    """Name of a cell in the wide frame: ``t3__granted__total``."""
    return f"{table_id}{COLUMN_SEP}{row_key}{COLUMN_SEP}{col_key}"


@dataclass(frozen=True)
class Term:
    """One signed cell reference of a bound identity."""

    table_id: str
    row_key: str
    col_key: str
    sign: int = 1

    @property
    def ref(self) -> str:
        return f"{self.table_id}.{self.row_key}.{self.col_key}"

    @property
    def column(self) -> str:
        return wide_column(self.table_id, self.row_key, self.col_key)


@dataclass(frozen=True)
class RuleInstance:
    """An identity with its placeholders bound: the unit that becomes one GE expectation."""

    rule_id: str  # t3.balance.total
    identity_id: str  # v2019.t3.balance
    rule_family: str  # t3.balance
    severity: str  # error | warn | info (the YAML level)
    template_version: str  # v2019 | v2021
    op: str  # == | <= | >=
    lhs: tuple[Term, ...]
    rhs: tuple[Term, ...]
    expr: str  # the bound expression text, e.g. 't3.granted.total == sum(t3.granted.@t3_applicant_types)'
    bindings: tuple[tuple[str, str], ...] = ()
    tolerance: float = 0.0

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.lhs + self.rhs

    @property
    def columns(self) -> list[str]:
        """lhs columns then rhs columns (the GE ``column_list``)."""
        return [t.column for t in self.terms]

    @property
    def lhs_columns(self) -> list[str]:
        return [t.column for t in self.lhs]

    @property
    def rhs_columns(self) -> list[str]:
        return [t.column for t in self.rhs]

    @property
    def signs(self) -> list[int]:
        return [t.sign for t in self.terms]

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.table_id for t in self.terms))

    @property
    def rows(self) -> tuple[tuple[str, str], ...]:
        """(table_id, row_key) pairs the rule reads (for parse-warning scoping)."""
        return tuple(dict.fromkeys((t.table_id, t.row_key) for t in self.terms))


@dataclass(frozen=True)
class SkippedIdentity:
    identity_id: str
    template_version: str
    severity: str
    expr: str
    reason: str


@dataclass
class RuleSet:
    template_version: str
    rules: list[RuleInstance] = field(default_factory=list)
    skipped: list[SkippedIdentity] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Every wide-frame column any rule reads, in first-use order."""
        return list(dict.fromkeys(c for r in self.rules for c in r.columns))


# A builder turns one YAML identity (dict) into rule instances; used for identities whose expr is prose.
ExtraBuilder = Callable[[dict, str, dict], list[RuleInstance]]
EXTRA_BUILDERS: dict[str, ExtraBuilder] = {}


# --------------------------------------------------------------------------------------------------
# YAML access
# --------------------------------------------------------------------------------------------------


def load_schema(path: str | Path | None = None) -> dict:
    """The parsed canonical schema (cached; shared with the parser through ``ingest.registry``)."""
    return schema_document(Path(path) if path else SCHEMA_PATH)


def resolve_refs(schema: dict, node: Any) -> Any:
    """Replace ``{ref: a.b.c}`` nodes by what they point to (recursively)."""
    return _resolve_refs(node, schema)


_TABLE_DEFS: dict[tuple[int, str, str], tuple[dict, dict]] = {}


def _table_def(schema: dict, version: str, table_id: str) -> dict:
    # resolving the references walks the whole table each time, and every rule instance asks for its
    # cells' types (about 1 s a validation); the schema document is cached and read-only, so is this
    key = (id(schema), version, table_id)
    hit = _TABLE_DEFS.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    tables = (schema.get(version) or {}).get("tables") or {}
    resolved = resolve_refs(schema, tables.get(table_id) or {})
    _TABLE_DEFS[key] = (schema, resolved)
    return resolved


def resolve_group(schema: dict, version: str, name: str, table_id: str | None = None) -> list[str]:
    """Members of ``@name`` (without the @): the table's row_groups first, then top-level sets.

    Members that are themselves ``@group`` are expanded in place (e.g. ``outcome_leaves``).
    """
    name = name.lstrip("@")
    members: list | None = None
    if table_id is not None:
        groups = _table_def(schema, version, table_id).get("row_groups") or {}
        members = groups.get(name)
    if members is None:
        members = (schema.get("sets") or {}).get(name)
    if members is None:
        raise ExpressionError(f"unknown group @{name} (table {table_id}, {version})")
    return _expand_members(schema, version, members, table_id)


def _expand_members(schema: dict, version: str, items: Iterable, table_id: str | None) -> list[str]:
    out: list[str] = []
    for item in items:
        item = str(item)
        if item.startswith("@"):
            out.extend(resolve_group(schema, version, item, table_id))
        else:
            out.append(item)
    return out


def _cell_type(schema: dict, version: str, table_id: str, row_key: str, col_key: str) -> str:
    """Value type of a cell from the table definition (row type, else column type); default count."""
    tdef = _table_def(schema, version, table_id)
    rows = tdef.get("rows")
    row_defs: list = []
    if isinstance(rows, dict):  # {base: [...], insert: [...]}
        row_defs = list(rows.get("base") or []) + list(rows.get("insert") or [])
    elif isinstance(rows, list):
        row_defs = rows
    for lst, key in ((row_defs, row_key), (tdef.get("columns") or [], col_key)):
        for d in lst:
            if isinstance(d, dict) and d.get("key") == key and d.get("type"):
                return str(d["type"])
    return "count"


def tolerance_for(schema: dict, version: str, terms: Iterable[Term]) -> float:
    """YAML grammar: tolerance 0 for counts, 0.01 for amounts in 万元."""
    types = {_cell_type(schema, version, t.table_id, t.row_key, t.col_key) for t in terms}
    return 0.01 if any(t.startswith("amount") for t in types) else 0.0


# --------------------------------------------------------------------------------------------------
# expression parsing
# --------------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<op>==|<=|>=)|(?P<sum>sum\()|(?P<close>\))|(?P<pm>[+-])"
    r"|(?P<ref>[A-Za-z_]\w*(?:\.@?[A-Za-z_]\w*)+))"
)


def _tokenize(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"not in the identity grammar at {expr[pos : pos + 30]!r}")
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def _parse_ref(text: str, schema: dict, version: str, sign: int, in_sum: bool) -> list[Term]:
    parts = text.split(".")
    if parts[0] in ("prev", "narr"):
        raise ExpressionError(f"{parts[0]}. references need another report or the narrative ({text})")
    if len(parts) != 3:
        raise ExpressionError(f"reference {text!r} is not table.row.col")
    table_id, row, col = parts
    if ("@" in row or "@" in col) and not in_sum:
        raise ExpressionError(f"group reference {text!r} outside sum()")
    rows = resolve_group(schema, version, row, table_id) if row.startswith("@") else [row]
    cols = resolve_group(schema, version, col, table_id) if col.startswith("@") else [col]
    return [Term(table_id, r, c, sign) for r in rows for c in cols]


def parse_expression(expr: str, schema: dict, version: str) -> tuple[str, list[Term], list[Term]]:
    """Parse a bound expression into (op, lhs terms, rhs terms). Raises ExpressionError."""
    if "{" in expr or "}" in expr:
        raise ExpressionError(f"unbound placeholder in {expr!r}")
    tokens = _tokenize(expr)
    sides: list[list[Term]] = [[]]
    op: str | None = None
    sign = 1
    expect_term = True
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "op":
            if op is not None or expect_term:
                raise ExpressionError(f"misplaced comparison {text!r}")
            op = text
            sides.append([])
            sign, expect_term = 1, True
        elif kind == "pm":
            if expect_term and sides[-1]:
                raise ExpressionError("two operators in a row")
            sign = -1 if text == "-" else 1
            expect_term = True
        elif kind == "ref":
            if not expect_term:
                raise ExpressionError(f"missing operator before {text!r}")
            sides[-1].extend(_parse_ref(text, schema, version, sign, in_sum=False))
            sign, expect_term = 1, False
        elif kind == "sum":
            if not expect_term:
                raise ExpressionError("missing operator before sum(")
            if i + 2 >= len(tokens) or tokens[i + 1][0] != "ref" or tokens[i + 2][0] != "close":
                raise ExpressionError("sum() takes exactly one reference")
            sides[-1].extend(_parse_ref(tokens[i + 1][1], schema, version, sign, in_sum=True))
            sign, expect_term = 1, False
            i += 2
        else:
            raise ExpressionError(f"unexpected {text!r}")
        i += 1
    if op is None or len(sides) != 2 or not sides[0] or not sides[1] or expect_term:
        raise ExpressionError(f"not a comparison of two sums: {expr!r}")
    seen: set[str] = set()
    for t in sides[0] + sides[1]:
        if t.column in seen:
            raise ExpressionError(f"cell {t.ref} appears twice in {expr!r}")
        seen.add(t.column)
    return op, sides[0], sides[1]


# --------------------------------------------------------------------------------------------------
# expansion
# --------------------------------------------------------------------------------------------------


def _strip_version(identity_id: str, version: str) -> str:
    prefix = version + "."
    return identity_id.removeprefix(prefix)


def _first_table(expr: str) -> str | None:
    m = re.search(r"(?<![\w.])([A-Za-z_]\w*)\.(?:@?\{?\w)", expr)
    return m.group(1) if m else None


def _bindings(identity: dict, schema: dict, version: str) -> list[tuple[tuple[str, str], ...]]:
    for_each = identity.get("for_each") or {}
    if not for_each:
        return [()]
    table_id = _first_table(str(identity.get("expr", "")))
    names, domains = [], []
    for name, domain in for_each.items():
        if isinstance(domain, str):
            values = resolve_group(schema, version, domain, table_id)
        elif isinstance(domain, list):
            values = _expand_members(schema, version, domain, table_id)
        else:
            raise ExpressionError(f"for_each {name}: unsupported domain {domain!r}")
        names.append(str(name))
        domains.append(values)
    return [tuple(zip(names, combo)) for combo in itertools.product(*domains)]


def expand_identity(identity: dict, version: str, schema: dict | None = None) -> list[RuleInstance]:
    """Rule instances of one YAML identity. Raises ExpressionError when the expr is not parseable."""
    schema = schema or load_schema()
    identity_id = str(identity["id"])
    family = _strip_version(identity_id, version)
    if family in EXTRA_BUILDERS:
        return EXTRA_BUILDERS[family](identity, version, schema)
    if identity.get("applies_if") or identity.get("applies"):
        raise ExpressionError("conditional identity (applies_if) is not handled yet")
    expr = str(identity.get("expr", ""))
    out: list[RuleInstance] = []
    for binding in _bindings(identity, schema, version):
        bound = expr
        for name, value in binding:
            bound = bound.replace("{" + name + "}", value)
        op, lhs, rhs = parse_expression(bound, schema, version)
        key = ".".join(v for _, v in binding)
        out.append(
            RuleInstance(
                rule_id=f"{family}.{key}" if key else family,
                identity_id=identity_id,
                rule_family=family,
                severity=str(identity.get("level", "error")),
                template_version=version,
                op=op,
                lhs=tuple(lhs),
                rhs=tuple(rhs),
                expr=bound,
                bindings=binding,
                tolerance=tolerance_for(schema, version, lhs + rhs),
            )
        )
    return out


def rule_set(
    version: str,
    *,
    levels: Iterable[str] | None = ("error",),
    ops: Iterable[str] = ("==",),
    schema: dict | None = None,
) -> RuleSet:
    """Expand the within-report identities of ``version`` (``v2019`` | ``v2021``).

    Only identities whose level is in ``levels`` (None = all) are considered. Those that cannot be
    expanded into cell arithmetic (prose, conditional, cross-report) or whose comparison is not in
    ``ops`` (the balance expectation checks equality only) go to ``RuleSet.skipped``.
    """
    schema = schema or load_schema()
    if version not in WITHIN_REPORT_VERSIONS:
        raise ValueError(f"no within-report identities for template version {version!r}")
    levels = None if levels is None else set(levels)
    ops = set(ops)
    rs = RuleSet(template_version=version)
    for identity in (schema.get(version) or {}).get("identities") or []:
        level = str(identity.get("level", "error"))
        if levels is not None and level not in levels:
            continue
        expr = str(identity.get("expr", ""))
        try:
            instances = expand_identity(identity, version, schema)
        except ExpressionError as exc:
            rs.skipped.append(SkippedIdentity(str(identity["id"]), version, level, expr, str(exc)))
            continue
        bad_ops = sorted({r.op for r in instances} - ops)
        if bad_ops:
            rs.skipped.append(
                SkippedIdentity(
                    str(identity["id"]), version, level, expr, f"comparison {bad_ops} not supported"
                )
            )
            continue
        rs.rules.extend(instances)
    ids = [r.rule_id for r in rs.rules]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate rule ids in {version}")
    return rs


def rule_instances(version: str, **kwargs: Any) -> list[RuleInstance]:
    """Shortcut: ``rule_set(version, **kwargs).rules``."""
    return rule_set(version, **kwargs).rules


def skipped_identities(version: str, **kwargs: Any) -> list[SkippedIdentity]:
    return rule_set(version, **kwargs).skipped


def data_rows(version: str, table_id: str, **kwargs: Any) -> list[str]:
    """Row keys of ``table_id`` that the version's rules read (the data rows that carry numbers)."""
    rows = [t.row_key for r in rule_set(version, **kwargs).rules for t in r.terms if t.table_id == table_id]
    return list(dict.fromkeys(rows))
