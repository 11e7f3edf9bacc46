"""Scale benchmark: prints figures, asserts nothing (speed is measured here, not in timed tests).

    .venv/bin/python scripts/benchmark.py --n 10000
    .venv/bin/python scripts/benchmark.py --n 100000 --incremental 1000

Measures on this machine, for N generated reports (the project's generator, text layouts):
  - a lower bound: read every byte and run one Polars regex pass over all lines;
  - the parse stage alone (decode + Polars parsing), reports per second, per layout family;
  - a full `ogi run` (wall time, peak RSS of the run and its children, e.g. dbt);
  - an incremental run adding K new reports; a second run with no new files.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.decoding import decode_bytes  # noqa: E402
from ingest.pipeline import parse_documents  # noqa: E402
from ingest.synth import generate_corpus  # noqa: E402

CHUNK = 2000


def generate(landing: Path, n: int, seed: int) -> float:
    marker = landing / f".generated-{n}-{seed}"
    if marker.exists():
        return 0.0
    shutil.rmtree(landing, ignore_errors=True)
    started = time.perf_counter()
    generate_corpus(landing, n, seed=seed)
    (landing / "truth.jsonl").rename(landing.parent / f"truth-{n}-{seed}.jsonl")
    marker.touch()
    return time.perf_counter() - started


def report_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("."))


def lower_bound(files: list[Path]) -> float:
    started = time.perf_counter()
    texts = [p.read_bytes().decode("utf-8") for p in files]
    lines = pl.DataFrame({"text": texts}).select(pl.col("text").str.split("\n")).explode("text")
    lines.select(pl.col("text").str.contains(r"\d").sum())
    return time.perf_counter() - started


def parse_stage(files: list[Path]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    rows = []
    for p in files:
        data = p.read_bytes()
        decoded = decode_bytes(data)
        fmt = "md" if p.suffix == ".md" else "txt"
        rows.append((hashlib.sha256(data).hexdigest(), p.name, fmt, decoded.text))
    docs = pl.DataFrame(rows, schema=["source_sha256", "source_path", "source_format", "text"], orient="row")
    decoded_at = time.perf_counter()
    per_format: dict[str, float] = {}
    for fmt in sorted(docs["source_format"].unique()):
        subset = docs.filter(pl.col("source_format") == fmt)
        t0 = time.perf_counter()
        for offset in range(0, subset.height, CHUNK):
            parse_documents(subset.slice(offset, CHUNK))
        per_format[fmt] = subset.height / (time.perf_counter() - t0)
    total = time.perf_counter() - started
    per_format["decode_seconds"] = decoded_at - started
    return total, per_format


def full_run(landing: Path, warehouse: Path) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "ogi"), "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--incremental", type=int, default=1000, help="reports added for the incremental run")
    parser.add_argument("--seed", type=int, default=20260131)
    parser.add_argument("--workdir", default="/tmp/ogi-bench")
    parser.add_argument("--skip-full", action="store_true", help="only the lower bound and the parse stage")
    args = parser.parse_args()

    work = Path(args.workdir) / f"n{args.n}"
    landing = work / "landing"
    gen_seconds = generate(landing, args.n, args.seed)
    files = report_files(landing)
    size = sum(p.stat().st_size for p in files)
    print(f"corpus: {len(files)} reports, {size / 2**20:.1f} MiB (generated in {gen_seconds:.1f} s)")

    lb = lower_bound(files)
    print(f"lower bound (read all bytes + one Polars regex pass over all lines): {lb:.2f} s")
    parse_seconds, per_format = parse_stage(files)
    decode_seconds = per_format.pop("decode_seconds")
    print(f"parse stage alone: {parse_seconds:.2f} s = {len(files) / parse_seconds:.0f} reports/s "
          f"({parse_seconds / lb:.1f}x the lower bound; decoding {decode_seconds:.2f} s)")
    for fmt, rate in per_format.items():
        print(f"  {fmt}: {rate:.0f} reports/s")
    if args.skip_full:
        return

    warehouse = work / "warehouse.duckdb"
    for stale in work.glob("warehouse*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    wall, peak = full_run(landing, warehouse)
    print(f"full run, {len(files)} reports: {wall:.1f} s wall, peak RSS {peak:.0f} MiB")

    wall, _ = full_run(landing, warehouse)
    print(f"second run, no new files: {wall:.1f} s")

    if args.incremental:
        extra = landing / f"incremental-{args.incremental}"
        if not extra.exists():
            generate_corpus(extra, args.incremental, seed=args.seed + 1)
            (extra / "truth.jsonl").unlink()
        wall, peak = full_run(landing, warehouse)
        print(f"incremental run, +{args.incremental} reports into {len(files)}: {wall:.1f} s (peak RSS {peak:.0f} MiB)")
        shutil.rmtree(extra)


if __name__ == "__main__":
    main()
