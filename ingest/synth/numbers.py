"""Consistent table values (the truth before presentation), the hard identities, error injection.

Values are kept per table as ``{(row_key, col_key): number}``.  Every generated 表三/表四 satisfies
templates.md §6.1: balance per column, outcome sum per column, row totals, 表四 group totals,
non-negative integers.  Presentation (blank-for-zero, ``/``, units …) happens later in ``cells.py``.
"""

from __future__ import annotations

import random
from collections import Counter

from .agencies import Agency
from .schema import TemplateSpec

Values = dict[tuple[str, str], float]

# Relative weights of outcome leaves (generation parameters, keyed by the YAML row keys).
_LEAF_WEIGHT = {
    "granted": 0.42,
    "partially_granted": 0.06,
    "withheld_state_secret": 0.004,
    "withheld_prohibited_by_law": 0.01,
    "withheld_three_security_one_stability": 0.004,
    "withheld_third_party_rights": 0.015,
    "withheld_internal_affairs": 0.015,
    "withheld_process_info": 0.015,
    "withheld_enforcement_case_file": 0.008,
    "withheld_administrative_query": 0.01,
    "unable_not_held": 0.2,
    "unable_requires_creation": 0.04,
    "unable_unclear_after_correction": 0.03,
    "not_processed_petition_complaint": 0.05,
    "not_processed_duplicate": 0.03,
    "not_processed_publication": 0.01,
    "not_processed_excessive": 0.008,
    "not_processed_confirm_or_reissue": 0.01,
    "other_processing": 0.05,
    "other_no_correction_overdue": 0.035,
    "other_fee_unpaid_overdue": 0.003,
    "other_misc": 0.03,
}


def applicant_cols(spec: TemplateSpec) -> list[str]:
    return [c.key for c in spec.t3_cols if c.key != "total"]


def _multinomial(rng: random.Random, n: int, keys: list[str], weights: list[float]) -> Counter:
    if n <= 0 or not keys:
        return Counter()
    if sum(weights) <= 0:
        weights = [1.0] * len(keys)
    return Counter(rng.choices(keys, weights=weights, k=n))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if n > 200:  # normal approximation keeps large tables fast
        mu, sd = n * p, (n * p * (1 - p)) ** 0.5
        return max(0, min(n, round(rng.gauss(mu, sd))))
    return sum(1 for _ in range(n) if rng.random() < p)


def gen_t3(rng: random.Random, spec: TemplateSpec, regime: str | None = None) -> Values:
    cols = applicant_cols(spec)
    regime = regime or rng.choices(["zero", "tiny", "small", "large"], weights=(30, 30, 28, 12))[0]
    if regime == "zero":
        new_total, carried_total = 0, 0
    else:
        new_total = {"tiny": rng.randint(1, 6), "small": rng.randint(5, 60), "large": rng.randint(100, 900)}[
            regime
        ]
        carried_total = 0 if rng.random() < 0.55 else rng.randint(1, max(1, new_total // 6 + 1))
    # applicant mix: natural persons dominate; half of the reports have natural persons only
    if rng.random() < 0.5:
        col_w = [1.0] + [0.0] * (len(cols) - 1)
    else:
        caps = {
            "commercial_enterprise": 0.25,
            "research_institution": 0.03,
            "social_welfare_org": 0.03,
            "legal_service_org": 0.08,
            "other_org": 0.1,
        }
        col_w = [rng.uniform(0.6, 1.0)] + [rng.uniform(0, caps.get(c, 0.05)) for c in cols[1:]]
    new = _multinomial(rng, new_total, cols, col_w)
    carried = _multinomial(rng, carried_total, cols, col_w)
    leaves = list(spec.t3_leaves)
    leaf_w = []
    for k in leaves:
        w = _LEAF_WEIGHT.get(k, 0.01) * rng.uniform(0.2, 1.8)
        if k != "granted" and rng.random() < 0.3:
            w = 0.0
        leaf_w.append(w)
    q_next = 0.0 if rng.random() < 0.5 else rng.uniform(0.0, 0.15)

    v: Values = {}
    for c in cols:
        avail = new[c] + carried[c]
        nxt = _binomial(rng, avail, q_next)
        processed = avail - nxt
        dist = _multinomial(rng, processed, leaves, leaf_w)
        v[("new_received", c)] = new[c]
        v[("carried_from_prev_year", c)] = carried[c]
        v[("carried_to_next_year", c)] = nxt
        v[("total_processed", c)] = processed
        for k in leaves:
            v[(k, c)] = dist[k]
    rows = {r for r, _ in v}
    for r in rows:
        v[(r, "total")] = sum(v[(r, c)] for c in cols)
    return v


def gen_t4(rng: random.Random, spec: TemplateSpec) -> Values:
    v: Values = {}
    busy = rng.random() < 0.4
    parts = [c.key for c in spec.t4_cols if c.key != "total"]
    caps = {"administrative_review": 6, "litigation_without_review": 3, "litigation_after_review": 2}
    for r in spec.t4_rows:
        n = rng.randint(0, caps.get(r.key, 2)) if busy and rng.random() < 0.7 else 0
        dist = _multinomial(rng, n, parts, [0.55, 0.1, 0.15, 0.2][: len(parts)])
        for p in parts:
            v[(r.key, p)] = dist[p]
        v[(r.key, "total")] = n
    return v


def gen_t2(rng: random.Random, spec: TemplateSpec, agency: Agency) -> dict[str, Values]:
    """Values of every 表二 sub-table of the template, keyed by table id."""
    x = agency.intensity
    out: dict[str, Values] = {}
    rulemaking = agency.has_rulemaking_power
    for t in spec.t2:
        v: Values = {}
        colkeys = [c.key for c in t.cols]
        for r in t.rows:
            if t.table_id == "t2_art20_1":
                if r.key == "regulations" and not rulemaking:
                    nums = [0] * len(colkeys)
                else:
                    hi = 3 if r.key == "regulations" else rng.choice([2, 8, 25])
                    made = rng.randint(0, hi)
                    if spec.version == "v2019":  # newly_made, newly_published, total_published
                        pub = made if rng.random() < 0.85 else max(0, made - 1)
                        nums = [made, pub, pub + rng.randint(0, 120)]
                    else:  # issued, repealed, in_force
                        rep = rng.randint(0, 4) if rng.random() < 0.4 else 0
                        nums = [made, rep, made + rng.randint(0, 150)]
            elif t.table_id in ("t2_art20_5", "t2_art20_6"):
                scale = 0.3 if r.key in ("administrative_coercion", "other_external_services") else 1.0
                dec_hi = int((20000 if t.table_id == "t2_art20_5" else 1500) * x * x * scale)
                decisions = rng.randint(0, dec_hi) if rng.random() < 0.75 else 0
                if spec.version == "v2019":
                    prev = rng.randint(0, int(300 * x * scale) + 2)
                    change = rng.randint(-min(prev, 5), 8) if rng.random() < 0.5 else 0
                    nums = [prev, change, decisions]
                else:
                    nums = [decisions]
            elif t.table_id == "t2_art20_8":
                if spec.version == "v2019":
                    prev = rng.randint(0, 12) if rng.random() < 0.6 else 0
                    change = rng.randint(-min(prev, 2), 2) if rng.random() < 0.3 else 0
                    nums = [prev, change]
                else:
                    nums = [
                        0.0 if rng.random() < 0.6 else round(rng.uniform(0.1, 3000) ** rng.uniform(0.6, 1), 4)
                    ]
            elif t.table_id == "t2_art20_9":
                items = rng.randint(0, 600) if rng.random() < 0.7 else 0
                amount = 0.0 if items == 0 else round(items * rng.uniform(0.5, 60), 4)
                nums = [items, amount]
            else:  # a table we do not model: zeros
                nums = [0] * len(colkeys)
            for c, n in zip(colkeys, nums):
                v[(r.key, c)] = n
        out[t.table_id] = v
    return out


# ------------------------------------------------------------------------------------------------
# Identities (lenient: None -> 0) -- used to label injected errors
# ------------------------------------------------------------------------------------------------


def _g(v: dict, k) -> float:
    x = v.get(k)
    return 0.0 if x is None else float(x)


def broken_rules(t3: dict, t4: dict, spec: TemplateSpec) -> list[str]:
    """rule_ids (contract style, e.g. ``t3.balance.total``) of the hard identities that fail."""
    out: list[str] = []
    cols = [c.key for c in spec.t3_cols]
    appl = applicant_cols(spec)
    if t3:
        for c in cols:
            lhs = _g(t3, ("new_received", c)) + _g(t3, ("carried_from_prev_year", c))
            rhs = _g(t3, ("total_processed", c)) + _g(t3, ("carried_to_next_year", c))
            if abs(lhs - rhs) > 1e-9:
                out.append(f"t3.balance.{c}")
        for c in cols:
            s = sum(_g(t3, (k, c)) for k in spec.t3_leaves)
            if abs(s - _g(t3, ("total_processed", c))) > 1e-9:
                out.append(f"t3.outcome_sum.{c}")
        for r in spec.t3_data_rows:
            s = sum(_g(t3, (r.key, c)) for c in appl)
            if abs(s - _g(t3, (r.key, "total"))) > 1e-9:
                out.append(f"t3.row_total.{r.key}")
    if t4:
        parts = [c.key for c in spec.t4_cols if c.key != "total"]
        for r in spec.t4_rows:
            s = sum(_g(t4, (r.key, p)) for p in parts)
            if abs(s - _g(t4, (r.key, "total"))) > 1e-9:
                out.append(f"t4.group_total.{r.key}")
    return out


def inject_error(rng: random.Random, t3: Values, t4: Values, spec: TemplateSpec) -> dict:
    """Change exactly one 表三/表四 value in place so that an identity breaks.

    A 表四 cell sits in one identity only.  Every 表三 cell sits in at least two (its row total and
    the balance or outcome sum of its column), so ``rule_family`` names the identity the change was
    aimed at and ``broken_rules`` lists every rule instance that now fails.
    """
    family = rng.choice(["t4.group_total", "t3.row_total", "t3.balance", "t3.outcome_sum"])
    appl = applicant_cols(spec)
    if family == "t4.group_total":
        table, values = "t4", t4
        row = rng.choice([r.key for r in spec.t4_rows])
        col = rng.choice([c.key for c in spec.t4_cols])
    elif family == "t3.row_total":
        table, values = "t3", t3
        row = rng.choice([r.key for r in spec.t3_data_rows if r.key != "total_processed"])
        col = "total"
    elif family == "t3.balance":
        table, values = "t3", t3
        row = rng.choice(["new_received", "carried_from_prev_year", "carried_to_next_year"])
        col = rng.choice(appl)
    else:
        table, values = "t3", t3
        row = rng.choice(list(spec.t3_leaves))
        col = rng.choice(appl)
    old = int(values[(row, col)])
    delta = rng.choice([1, 1, 2, 3, 5, 10])
    new = old - delta if (old - delta >= 0 and rng.random() < 0.4) else old + delta
    values[(row, col)] = new
    return {
        "table_id": table,
        "row_key": row,
        "col_key": col,
        "rule_family": family,
        "original_value": float(old),
        "injected_value": float(new),
        "broken_rules": broken_rules(t3, t4, spec),
    }


# ------------------------------------------------------------------------------------------------
# Corrected republications
# ------------------------------------------------------------------------------------------------


def revise_count(rng: random.Random, n: int) -> int:
    """A corrected figure: ``n`` give or take 1..3, never below 0 and never unchanged."""
    delta = rng.randint(1, 3)
    return n - delta if n >= delta and rng.random() < 0.4 else n + delta


def revise_tables(rng: random.Random, t3: Values, t4: Values, spec: TemplateSpec) -> list[dict]:
    """Revise a few 表三 applications (and sometimes one 表四 case) in place, as a corrected
    republication does, keeping every identity: the received count, the processed count and one
    outcome leaf of one applicant column move together, then the row totals follow.  Returns
    ``{table_id, row_key, col_key, original_value, revised_value}`` per changed cell."""
    before = {("t3", k): v for k, v in t3.items()} | {("t4", k): v for k, v in t4.items()}
    appl = applicant_cols(spec)
    col = "natural_person" if rng.random() < 0.7 else rng.choice(appl)
    leaf = "granted" if rng.random() < 0.6 else rng.choice(list(spec.t3_leaves))
    moved = ("new_received", "total_processed", leaf)
    new_received = int(t3[("new_received", col)])
    delta = revise_count(rng, new_received) - new_received
    if delta < 0 and any(int(t3[(r, col)]) < -delta for r in moved):
        delta = -delta
    for r in moved:
        t3[(r, col)] = int(t3[(r, col)]) + delta
        t3[(r, "total")] = sum(int(t3[(r, c)]) for c in appl)
    if rng.random() < 0.3:
        row = "administrative_review"
        outcome = rng.choice([c.key for c in spec.t4_cols if c.key != "total"])
        t4[(row, outcome)] = int(t4[(row, outcome)]) + 1
        t4[(row, "total")] = int(t4[(row, "total")]) + 1
    after = {("t3", k): v for k, v in t3.items()} | {("t4", k): v for k, v in t4.items()}
    return [
        {"table_id": t, "row_key": r, "col_key": c, "original_value": float(before[(t, (r, c))]),
         "revised_value": float(v)}
        for (t, (r, c)), v in after.items()
        if v != before[(t, (r, c))]
    ]
