"""Tests of the synthetic report generator (ingest/synth)."""

from __future__ import annotations

import filecmp
import functools
import json
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from ingest.synth import (
    LAYOUTS,
    TABLE_LAYOUTS,
    generate_corpus,
    generate_report,
    make_agency,
    random_template_year,
)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = Path("/work/shared/seeds")
YAML_PATH = ROOT / "ingest" / "reference" / "canonical_schema.yaml"

APPLICANTS = [
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "social_welfare_org",
    "legal_service_org",
    "other_org",
]
FLOW_ROWS = {"new_received", "carried_from_prev_year", "total_processed", "carried_to_next_year"}
EMPTY_STATES = {"blank", "dash", "slash", "none_word"}


def _corpus(tmp: Path, n: int, seed: int, **kw) -> list[dict]:
    generate_corpus(tmp, n, seed, **kw)
    return [json.loads(line) for line in (tmp / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict]]:
    d = tmp_path_factory.mktemp("corpus")
    return d, _corpus(d, 240, seed=2024, inject_error_rate=0.15)


# ------------------------------------------------------------------------------------------------
# an independent identity checker (does not use ingest.synth)
# ------------------------------------------------------------------------------------------------


def failing_rules(truth: dict) -> set[str]:
    """Hard identities of templates.md §6.1 under the lenient policy (non-numbers count as 0)."""
    t3: dict = defaultdict(float)
    t4: dict = defaultdict(float)
    rows3 = []
    for c in truth["cells"]:
        v = c["value"] or 0.0
        if c["table_id"] == "t3":
            t3[(c["row_key"], c["col_key"])] = v
            if c["row_key"] not in rows3:
                rows3.append(c["row_key"])
        elif c["table_id"] == "t4":
            t4[(c["row_key"], c["col_key"])] = v
    leaves = [r for r in rows3 if r not in FLOW_ROWS]
    bad = set()
    for col in APPLICANTS + ["total"]:
        if (
            t3[("new_received", col)] + t3[("carried_from_prev_year", col)]
            != t3[("total_processed", col)] + t3[("carried_to_next_year", col)]
        ):
            bad.add(f"t3.balance.{col}")
        if sum(t3[(r, col)] for r in leaves) != t3[("total_processed", col)]:
            bad.add(f"t3.outcome_sum.{col}")
    for r in rows3:
        if sum(t3[(r, a)] for a in APPLICANTS) != t3[(r, "total")]:
            bad.add(f"t3.row_total.{r}")
    for g in ("administrative_review", "litigation_without_review", "litigation_after_review"):
        if sum(t4[(g, c)] for c in ("upheld", "corrected", "other_outcome", "pending")) != t4[(g, "total")]:
            bad.add(f"t4.group_total.{g}")
    return bad


@functools.cache  # parsing the YAML once per report was most of this module's time
def _expected_cell_keys(version: str) -> frozenset[tuple[str, str, str]]:
    """Every printed data cell of a template, read straight from the YAML."""
    y = yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))
    keys = set()
    for tid, t in y[version]["tables"].items():
        if tid.startswith("t2_"):
            keys |= {(tid, r["key"], c["key"]) for r in t["rows"] for c in t["columns"]}
    rows = [r for r in y["shared"]["t3_rows_common"] if r.get("data", True)]
    rows += [r for r in y[version]["tables"]["t3"]["rows"]["insert"] if r.get("data", True)]
    keys |= {("t3", r["key"], c) for r in rows for c in APPLICANTS + ["total"]}
    keys |= {("t4", *x.split(".")) for x in y["shared"]["t4"]["physical_cell_order"]}
    return frozenset(keys)


def _raw_value(raw: str) -> float:
    s = raw.replace(",", "").replace("－", "-").replace(" ", "")
    if s.endswith("万元"):
        return float(s[:-2])
    if s.endswith("元"):
        return float(s[:-1]) / 10000
    return float(s)


# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------


def test_every_layout_is_produced(corpus):
    _, truths = corpus
    assert {t["layout"] for t in truths} == set(LAYOUTS)
    for t in truths:
        if t["layout"] == "narrative":
            assert t["template_version"] == "pre2019" and not t["tables_present"] and not t["cells"]
        elif t["layout"] == "headings_only":
            assert t["template_version"] in ("v2019", "v2021") and not t["tables_present"] and not t["cells"]
        else:
            assert t["tables_present"] and t["cells"]
        if t["layout"] == "tab_v2019":
            assert t["template_version"] == "v2019"
        if t["layout"] == "tab_v2021":
            assert t["template_version"] == "v2021"


def test_deterministic_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_corpus(a, 36, seed=7)
    generate_corpus(b, 36, seed=7)
    generate_corpus(c, 36, seed=8)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    _match, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors
    assert (a / "truth.jsonl").read_bytes() != (c / "truth.jsonl").read_bytes()
    r1 = generate_report(random.Random(5), layout="pipe_md", template="v2021", year=2022)
    r2 = generate_report(random.Random(5), layout="pipe_md", template="v2021", year=2022)
    assert (r1.filename, r1.text, r1.truth) == (r2.filename, r2.text, r2.truth)


def test_deterministic_across_hash_seeds(tmp_path):
    """No dependence on set/dict hash order: two interpreters with different PYTHONHASHSEED agree."""
    outs = []
    for hs in ("1", "2"):
        d = tmp_path / f"h{hs}"
        code = f"from ingest.synth import generate_corpus; generate_corpus({str(d)!r}, 24, seed=3)"
        env = {**os.environ, "PYTHONHASHSEED": hs, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
        outs.append((d / "truth.jsonl").read_bytes())
    assert outs[0] == outs[1]


def test_truth_satisfies_identities(corpus):
    _, truths = corpus
    n_checked = 0
    for t in truths:
        if not t["tables_present"]:
            continue
        bad = failing_rules(t)
        if t["injected_errors"]:
            assert bad, t["filename"]
            assert bad == set(t["injected_errors"][0]["broken_rules"]), t["filename"]
        else:
            assert not bad, (t["filename"], sorted(bad))
            n_checked += 1
    assert n_checked > 100


def test_cells_complete_and_states_consistent(corpus):
    _, truths = corpus
    for t in truths:
        if not t["tables_present"]:
            continue
        keys = [(c["table_id"], c["row_key"], c["col_key"]) for c in t["cells"]]
        assert len(keys) == len(set(keys))
        assert set(keys) == _expected_cell_keys(t["template_version"]), t["filename"]
        for c in t["cells"]:
            if c["cell_state"] in EMPTY_STATES:
                assert c["value"] is None
            else:
                assert c["cell_state"] == "number" and c["value"] is not None
                assert abs(_raw_value(c["raw_text"]) - c["value"]) < 1e-9, c
            if c["table_id"] in ("t3", "t4") and c["value"] is not None:
                assert c["value"] >= 0 and c["value"] == int(c["value"])


def test_blank_zero_layout_has_blank_cells_not_zero(corpus):
    _, truths = corpus
    blank = [
        c for t in truths if t["layout"] == "tab_blank_zero" for c in t["cells"] if c["cell_state"] == "blank"
    ]
    assert blank and all(c["value"] is None and c["raw_text"] == "" for c in blank)
    for t in truths:
        if t["layout"] in ("tab_v2019", "tab_v2021"):
            assert not any(c["cell_state"] == "blank" for c in t["cells"] if c["table_id"] in ("t3", "t4"))


def test_injected_error_record(corpus):
    _, truths = corpus
    injected = [t for t in truths if t["injected_errors"]]
    assert injected
    for t in injected:
        (e,) = t["injected_errors"]
        assert e["table_id"] in ("t3", "t4") and e["rule_family"]
        cell = next(
            c
            for c in t["cells"]
            if (c["table_id"], c["row_key"], c["col_key"]) == (e["table_id"], e["row_key"], e["col_key"])
        )
        assert (cell["value"] or 0.0) == e["injected_value"] != e["original_value"]
        assert any(r.startswith(e["rule_family"] + ".") for r in e["broken_rules"])
    rng = random.Random(1)
    for _ in range(20):
        r = generate_report(rng, layout="tab_v2021", template="v2021", year=2023, inject_error=True)
        assert failing_rules(r.truth) == set(r.truth["injected_errors"][0]["broken_rules"])


def _numeric_rows(lines: list[str], sep: str) -> list[list[str]]:
    """Right-anchored value cells of table lines (a mini parser used to check the rendering)."""
    rows = []
    for ln in lines:
        cells = [c.strip() for c in (ln.strip().strip("|").split("|") if sep == "|" else ln.split("\t"))]
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    return rows


def test_rendered_t3_matches_truth(corpus):
    """In layouts that print every zero, each 表三 data line ends with the truth's 7 values."""
    d, truths = corpus
    checked = 0
    for t in truths:
        if t["layout"] not in ("tab_v2019", "tab_v2021", "pipe_md") or t["features"].get("zero_token") != "0":
            continue
        text = (d / t["filename"]).read_text(encoding="utf-8")
        sep = "|" if t["layout"] == "pipe_md" else "\t"
        lines = text.splitlines()
        start = next(i for i, ln in enumerate(lines) if "勾稽关系" in ln)
        block = []
        for ln in lines[start + 1 :]:
            if sep not in ln:
                if block and ln.strip():  # a blank line may sit inside a docx table export
                    break
                continue
            block.append(ln)
        body = [r for r in _numeric_rows(block, sep) if r and re.fullmatch(r"\d+", r[-1])]
        rows = [c["row_key"] for c in t["cells"] if c["table_id"] == "t3" and c["col_key"] == "total"]
        assert len(body) == len(rows), t["filename"]
        cols = APPLICANTS + ["total"]
        truth = {(c["row_key"], c["col_key"]): c["raw_text"] for c in t["cells"] if c["table_id"] == "t3"}
        for row_key, cells in zip(rows, body):
            want = [truth[(row_key, c)] for c in cols]
            got = cells[-7:]
            if cells[-8:-7] == ["0"] and all(v == "0" for v in want) and len(cells) > 8:
                got = cells[-8:-1]  # phantom extra zero cell
            assert got == want, (t["filename"], row_key)
        checked += 1
    assert checked > 20


def test_narrative_layout_features(corpus):
    d, truths = corpus
    narr = [t for t in truths if t["layout"] == "narrative"]
    assert any(t["period_partial"] for t in narr) or len(narr) < 20
    assert any(f["metric"] == "requests_received_total" for t in narr for f in t["narrative"])
    for t in narr:
        text = (d / t["filename"]).read_text(encoding="utf-8")
        assert str(t["report_year"]) in text and t["agency_name"] in text.replace("\n", "")
        if t["period_partial"]:
            assert re.search(r"截至|1-11月", text)
        metrics = [f["metric"] for f in t["narrative"]]
        assert len(metrics) == len(set(metrics))


def test_title_and_agency(corpus):
    d, truths = corpus
    for t in truths:
        assert t["admin_level"] in ("province", "city", "county")
        if t["admin_level"] == "province":
            assert t["city"] is None and t["county"] is None and t["agency_name"].startswith(t["province"])
        elif t["admin_level"] == "city":
            assert t["county"] is None and t["agency_name"].startswith(t["city"])
        else:
            assert t["agency_name"].startswith(t["county"])
        text = (d / t["filename"]).read_text(encoding="utf-8")
        flat = re.sub(r"\s+", "", text)
        # the title in one of the printed forms (text.title_lines), or an opening sentence naming both
        name, year = t["agency_name"], t["report_year"]
        forms = [f"{name}{year}年政府信息公开工作年度报告", f"{year}年{name}政府信息公开工作年度报告",
                 f"{name}{year}年度政府信息公开工作年报", f"{name}{year}年度政府信息公开工作年度报告",
                 f"现将{name}{year}年度政府信息公开工作情况报告如下"]
        assert any(form in flat for form in forms), (t["filename"], flat[:200])


def test_explicit_agency_and_validation():
    a = make_agency("河南省", "焦作市", "温县", "edu")
    assert a.name == "温县教育局" and a.admin_level == "county"
    assert make_agency("河南省", None, None, "edu").name == "河南省教育厅"
    r = generate_report(random.Random(0), layout="tab_v2019", template="v2019", year=2020, agency=a)
    assert r.truth["agency_name"] == "温县教育局" and r.truth["county"] == "温县"
    with pytest.raises(ValueError):
        generate_report(random.Random(0), layout="tab_v2019", template="v2021", year=2021)
    with pytest.raises(ValueError):
        generate_report(
            random.Random(0), layout="narrative", template="pre2019", year=2015, inject_error=True
        )
    with pytest.raises(ValueError):
        generate_report(random.Random(0), layout="nope", template="v2019", year=2019)
    for lay in LAYOUTS:
        tmpl, year = random_template_year(random.Random(3), lay)
        rep = generate_report(random.Random(3), layout=lay, template=tmpl, year=year)
        json.dumps(rep.truth)
        assert rep.filename.endswith((".txt", ".md")) and rep.truth["filename"] == rep.filename
        assert (lay in TABLE_LAYOUTS) == rep.truth["tables_present"]


# ------------------------------------------------------------------------------------------------
# no seed text copied
# ------------------------------------------------------------------------------------------------


def _vocabulary() -> list[str]:
    """Every string of the YAML (labels, headings, aliases): shared form vocabulary, not prose."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            out.append(re.sub(r"\s+", "", node))

    walk(yaml.safe_load(YAML_PATH.read_text(encoding="utf-8")))
    return out


def _is_vocabulary(window: str, vocab: list[str]) -> bool:
    if re.search(r"\d{4}年政府信息公开工作年度|政府信息公开工作年度报告", window):
        return True  # the standard title form
    pieces = [p for p in re.split(r"[、#]", window) if p]
    pieces = [re.sub(r"^[一二三四五六七八九十]+", "", p) for p in pieces]
    return all(any(p in v for v in vocab) for p in pieces if p)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed reports not available")
def test_no_seed_text_copied(tmp_path):
    generate_corpus(tmp_path, 200, seed=31)
    corpus_text = re.sub(r"\s+", "", "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("r*")))
    vocab = _vocabulary()
    prose = []
    for f in sorted(SEEDS.glob("*.txt")):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            s = re.sub(r"\s+", "", line)
            if "\t" not in line and len(s) >= 20:
                prose.append(s)
    assert prose
    # 1. no seed sentence of 12+ characters appears verbatim
    sentences = {x for s in prose for x in re.split(r"[。！？；]", s) if len(x) >= 12}
    copied = sorted(x for x in sentences if x in corpus_text and not _is_vocabulary(x, vocab))
    assert not copied, copied[:5]
    # 2. no 20-character window of seed prose appears, except form vocabulary (labels, headings, title)
    windows = {s[i : i + 20] for s in prose for i in range(len(s) - 19)}
    shared = sorted(w for w in windows if w in corpus_text and not _is_vocabulary(w, vocab))
    assert not shared, shared[:5]


def test_no_table_without_any_number(corpus):
    """A printed 表三/表四 never has every cell blank (that would read as an absent table)."""
    _, truths = corpus
    for t in truths:
        for tid in ("t3", "t4"):
            cells = [c for c in t["cells"] if c["table_id"] == tid]
            assert not cells or any(c["cell_state"] != "blank" for c in cells), (t["filename"], tid)
