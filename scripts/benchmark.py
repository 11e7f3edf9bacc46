"""Scale benchmark: prints figures, asserts nothing (speed is measured here, not in timed tests).

    .venv/bin/python scripts/benchmark.py --n 10000
    .venv/bin/python scripts/benchmark.py --n 100000 --incremental 1000

Measures on this machine, for N generated reports (the project's generator; every layout; by default
one report in five rendered as an HTML page, the rest text and markdown):
  - a lower bound: read every byte and run one Polars regex pass over all lines;
  - the parse stage alone (decode or HTML extraction + Polars parsing), reports per second per format;
  - a full `ogi run` (wall time, per-step times, peak RSS of the run and its children, e.g. dbt);
  - a second run with no new files; an incremental run adding K new reports.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.decoding import decode_bytes  # noqa: E402
from ingest.frontends import BLOCK_FORMATS, read_structured  # noqa: E402
from ingest.pipeline import parse_documents  # noqa: E402
from ingest.synth.formats import generate_formats_corpus  # noqa: E402

CHUNK = 2000


def formats_cycle(html_every: int) -> tuple[str, ...]:
    """Formats round-robin over layout cycles: ("txt", "txt", "txt", "txt", "html") for 1 in 5."""
    return ("txt",) * (html_every - 1) + ("html",) if html_every > 0 else ("txt",)


def generate(landing: Path, n: int, seed: int, html_every: int) -> float:
    marker = landing.parent / f".generated-{n}-{seed}-{html_every}"
    if marker.exists():
        return 0.0
    shutil.rmtree(landing, ignore_errors=True)
    started = time.perf_counter()
    generate_formats_corpus(landing, n, seed, formats=formats_cycle(html_every))
    (landing / "truth.jsonl").rename(landing.parent / f"truth-{n}-{seed}.jsonl")
    marker.touch()
    return time.perf_counter() - started


def report_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("."))


def lower_bound(files: list[Path], repeats: int = 3) -> float:
    """Best of ``repeats``: read every byte, split into lines, one Polars regex pass (the best run is
    the one least disturbed by the page cache and other processes)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        texts = [p.read_bytes().decode("utf-8", errors="replace") for p in files]
        lines = pl.DataFrame({"text": texts}).select(pl.col("text").str.split("\n")).explode("text", empty_as_null=True)
        lines.select(pl.col("text").str.contains(r"\d").sum())
        best = min(best, time.perf_counter() - started)
        del texts, lines
    return best


def parse_stage(files: list[Path]) -> tuple[float, dict[str, float]]:
    """Per format: bytes -> decoded text (txt/md) or extracted blocks (html) -> parsed facts."""
    by_format: dict[str, list[Path]] = {}
    for p in files:
        by_format.setdefault(p.suffix.lstrip(".") or "txt", []).append(p)
    started = time.perf_counter()
    per_format: dict[str, float] = {}
    for fmt, paths in sorted(by_format.items()):
        t0 = time.perf_counter()
        rows = []
        for p in paths:
            data = p.read_bytes()
            text = read_structured(fmt, data)[0] if fmt in BLOCK_FORMATS else decode_bytes(data).text
            rows.append((hashlib.sha256(data).hexdigest(), p.name, fmt, text))
        docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
        for offset in range(0, docs.height, CHUNK):
            parse_documents(docs.slice(offset, CHUNK))
        per_format[fmt] = docs.height / (time.perf_counter() - t0)
    return time.perf_counter() - started, per_format


def _tree_rss(pid: int) -> dict[str, int]:
    """RSS in KiB of a process and its descendants, by role (run, dbt, reader workers)."""
    found: dict[str, int] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            cmdline = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        role = "dbt" if "/dbt" in cmdline else "readers" if "multiprocessing" in cmdline else "run"
        found[role] = found.get(role, 0) + rss
    return found


def _ogi() -> str:
    """The ``ogi`` of the environment running this script (a git worktree shares another's venv)."""
    beside = Path(sys.executable).parent / "ogi"
    return str(beside if beside.exists() else REPO / ".venv" / "bin" / "ogi")


def full_run(landing: Path, warehouse: Path) -> tuple[float, dict[str, float], list[str]]:
    """Wall time, peak RSS (MiB) by role and of the whole process tree, and the run's step lines."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [_ogi(), "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peaks: dict[str, float] = {}

    def sample() -> None:
        while proc.poll() is None:
            tree = _tree_rss(proc.pid)
            for role, kib in {**tree, "tree": sum(tree.values())}.items():
                peaks[role] = max(peaks.get(role, 0.0), kib / 1024)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"ogi run failed with exit code {proc.returncode}")
    wall = time.perf_counter() - started
    steps = [line.rstrip() for line in out.splitlines()
             if line.startswith("  ") and (" s  " in line or line.startswith("  this run"))]
    return wall, peaks, steps


def _peaks(peaks: dict[str, float]) -> str:
    return (f"peak RSS {peaks.get('tree', 0):.0f} MiB for the whole process tree (run process "
            f"{peaks.get('run', 0):.0f}, dbt {peaks.get('dbt', 0):.0f}, reader workers {peaks.get('readers', 0):.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--incremental", type=int, default=1000, help="reports added for the incremental run")
    parser.add_argument("--seed", type=int, default=20260131)
    parser.add_argument("--html-every", type=int, default=5,
                        help="one report in this many is an HTML page (0: text and markdown only)")
    parser.add_argument("--workdir", default="/tmp/ogi-bench")
    parser.add_argument("--skip-full", action="store_true", help="only the lower bound and the parse stage")
    parser.add_argument("--skip-parse", action="store_true", help="skip the parse-stage measurement")
    parser.add_argument("--incremental-seed", type=int, default=0,
                        help="seed of the added reports (default --seed + 1; use a new one with --reuse-warehouse)")
    parser.add_argument("--reuse-warehouse", action="store_true",
                        help="skip the full run when an earlier one left its warehouse (for the later runs)")
    args = parser.parse_args()

    work = Path(args.workdir) / f"n{args.n}"
    landing = work / "landing"
    gen_seconds = generate(landing, args.n, args.seed, args.html_every)
    extra = landing / f"incremental-{args.incremental}"
    shutil.rmtree(extra, ignore_errors=True)  # left by an interrupted earlier benchmark
    files = report_files(landing)
    size = sum(p.stat().st_size for p in files)
    formats = Counter(p.suffix.lstrip(".") for p in files)
    print(f"corpus: {len(files)} reports ({', '.join(f'{k} {v}' for k, v in sorted(formats.items()))}), "
          f"{size / 2**20:.1f} MiB (generated in {gen_seconds:.1f} s)")

    lb = lower_bound(files)
    print(f"lower bound (read all bytes + one Polars regex pass over all lines, best of 3): {lb:.2f} s")
    if not args.skip_parse:
        parse_seconds, per_format = parse_stage(files)
        print(f"parse stage alone: {parse_seconds:.2f} s = {len(files) / parse_seconds:.0f} reports/s "
              f"({parse_seconds / lb:.1f}x the lower bound)")
        for fmt, rate in per_format.items():
            print(f"  {fmt}: {rate:.0f} reports/s (reading the bytes, decoding or extracting, parsing)")
    if args.skip_full:
        return

    warehouse = work / "warehouse.duckdb"
    if args.reuse_warehouse and warehouse.exists():
        print("reusing the warehouse of an earlier full run (bringing it up to date first)")
        full_run(landing, warehouse)
    else:
        for stale in work.glob("warehouse*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        wall, peak, steps = full_run(landing, warehouse)
        print(f"full run, {len(files)} reports: {wall:.1f} s wall, {_peaks(peak)}")
        print("\n".join(steps))

    wall, _, steps = full_run(landing, warehouse)
    print(f"second run, no new files: {wall:.1f} s")
    print("\n".join(steps))

    if args.incremental:
        generate_formats_corpus(extra, args.incremental, args.incremental_seed or args.seed + 1,
                                formats=formats_cycle(args.html_every))
        (extra / "truth.jsonl").unlink()
        wall, peak, steps = full_run(landing, warehouse)
        print(f"incremental run, +{args.incremental} reports into {len(files)}: {wall:.1f} s, {_peaks(peak)}")
        print("\n".join(steps))
        shutil.rmtree(extra)


if __name__ == "__main__":
    main()
