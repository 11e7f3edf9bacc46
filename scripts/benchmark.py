"""Scale benchmark: prints figures, asserts nothing (speed is measured here, not in timed tests).

    .venv/bin/python scripts/benchmark.py --n 10000
    .venv/bin/python scripts/benchmark.py --n 100000 --incremental 1000
    .venv/bin/python scripts/benchmark.py --n 2000 --workers 1,2 --incremental 0      # scaling, small

Measures on this machine, for N generated reports (the project's generator; every layout; by default
one report in five rendered as an HTML page, the rest text and markdown):
  - a lower bound: read every byte and run one Polars regex pass over all lines;
  - the parse stage alone (decode or HTML extraction + Polars parsing), reports per second per format,
    and where its time goes: each piece (reading, HTML front end, grid, table mapper, line extractors,
    metadata) over the same documents, wall and CPU, and the floor of the design (its CPU over every core);
  - per-worker throughput per format (one process, no reader workers): txt, md, HTML, DOCX, PDF text
    layer, OCR of a scanned PDF; reading the bytes + front end + Polars parsing (``read_file`` +
    ``parse_documents``), wall and CPU seconds per report, pages for PDF and OCR;
  - a full `ogi run` (wall and CPU time, per-step times, peak RSS of the run and its children, e.g. dbt),
    in-process (the default executor);
  - with ``--workers 1,2``: the same corpus through ``ogi run`` under the multiprocess executor
    (OGI_EXECUTOR=multiprocess OGI_WORKERS=w, fresh warehouse and shard store each, the same
    OGI_PARSE_PARTITIONS): the parse stage's span (first parse_partition_op step start to the last
    one's end, from the run's Dagster instance), the whole run, the speedup, and where each step's time
    goes (worker process start-up before the step starts, the op itself);
  - a second run with no new files; an incremental run adding K new reports;
  - a projection to ``--project-reports`` reports on N workers for a stated format mix (assumptions, not
    measurements: see ``--mix``, ``--pdf-pages``, ``--scan-pages``) from the per-worker figures plus the
    serial steps of the in-process full run (discovery, load, dbt, validation) scaled linearly in reports.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import resource
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.decoding import decode_bytes  # noqa: E402
from ingest.frontends import BLOCK_FORMATS, read_structured  # noqa: E402
from ingest.pipeline import parse_documents  # noqa: E402
from ingest.reader import read_file  # noqa: E402
from ingest.synth.formats import generate_formats_corpus  # noqa: E402

CHUNK = 2000
# the ogi of the interpreter running this script (the shared venv; PYTHONPATH passes to the run)
OGI = Path(sys.executable).parent / "ogi"
SCANNED_SAMPLE = REPO / "sample_data" / "landing" / "scanned" / "scanned_report.pdf"
CLK_TCK = os.sysconf("SC_CLK_TCK")


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


DOC_COLUMNS = ["source_sha256", "source_path", "source_format", "text"]


def document_row(path: Path, fmt: str) -> tuple[str, str, str, str]:
    """One file as ``parse_documents`` takes it: its bytes decoded (txt/md) or through its front end
    (the blocks of an HTML page)."""
    data = path.read_bytes()
    text = read_structured(fmt, data)[0] if fmt in BLOCK_FORMATS else decode_bytes(data).text
    return hashlib.sha256(data).hexdigest(), path.name, fmt, text


def parse_stage(files: list[Path]) -> tuple[float, dict[str, float]]:
    """Per format: bytes -> decoded text (txt/md) or extracted blocks (html) -> parsed facts."""
    by_format: dict[str, list[Path]] = {}
    for p in files:
        by_format.setdefault(p.suffix.lstrip(".") or "txt", []).append(p)
    started = time.perf_counter()
    per_format: dict[str, float] = {}
    for fmt, paths in sorted(by_format.items()):
        t0 = time.perf_counter()
        docs = pl.DataFrame([document_row(p, fmt) for p in paths], schema=DOC_COLUMNS, orient="row")
        for offset in range(0, docs.height, CHUNK):
            parse_documents(docs.slice(offset, CHUNK))
        per_format[fmt] = docs.height / (time.perf_counter() - t0)
    return time.perf_counter() - started, per_format


# The pieces of ``parse_documents`` timed by ``parse_pieces``, in the order it calls them: (label, the
# module attribute ``parse_documents`` or ``_from_lines`` looks the function up by)
_PARSE_PIECES = (
    ("lines and cell grid (text front end; HTML blocks to frames)", "build"),
    ("table mapper (map_tables)", "map_tables"),
    ("sentences (sentences_frame)", "sentences_frame"),
    ("narrative figures (extract_narrative)", "extract_narrative"),
    ("disclosure channels (channel_facts)", "channel_facts"),
    ("metadata: agency, year, place (metadata_frame)", "metadata_frame"),
    ("layout markers, partial period", ("layout_markers", "partial_period")),
)


def pipeline_piece_names() -> list[str]:
    """The ``ingest.pipeline`` attributes ``parse_pieces`` wraps."""
    return [name for _, names in _PARSE_PIECES for name in ((names,) if isinstance(names, str) else names)]


@dataclass
class ParsePieces:
    """``parse_pieces``' measurement: (label, wall s, CPU s) of each piece in order, the calls each piece
    of ``parse_documents`` received, the whole measurement's wall and CPU, and the reports parsed."""

    rows: list[tuple[str, float, float]]
    calls: dict[str, int]
    wall: float
    cpu: float
    reports: int


def parse_pieces(files: list[Path]) -> ParsePieces:
    """Where the parse stage's time goes: every piece over the same documents, one after the other (in
    ``parse_documents`` the table mapper runs beside the line extractors; here they take turns), wall and
    CPU seconds of this process (Polars' own threads included)."""
    import ingest.pipeline as pipeline

    cpu0, wall0 = time.process_time(), time.perf_counter()
    texts = []
    read_label, html_label = "read + decode (txt, md)", "HTML front end (lexbor tree, blocks JSON)"
    read = {read_label: [0.0, 0.0], html_label: [0.0, 0.0]}
    for p in files:
        fmt = p.suffix.lstrip(".") or "txt"
        c, w = time.process_time(), time.perf_counter()
        texts.append(document_row(p, fmt))
        spent = read[html_label if fmt in BLOCK_FORMATS else read_label]
        spent[0] += time.perf_counter() - w
        spent[1] += time.process_time() - c
    docs = pl.DataFrame(texts, schema=DOC_COLUMNS, orient="row")
    del texts
    pieces = {label: [0.0, 0.0] for label, _ in _PARSE_PIECES}
    calls: dict[str, int] = {}
    originals = {}
    for label, names in _PARSE_PIECES:
        for name in (names,) if isinstance(names, str) else names:
            originals[name] = getattr(pipeline, name)
            calls[name] = 0

            def timed(*args, _f=originals[name], _label=label, _name=name, **kwargs):
                c, w = time.process_time(), time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    pieces[_label][0] += time.perf_counter() - w
                    pieces[_label][1] += time.process_time() - c
                    calls[_name] += 1

            setattr(pipeline, name, timed)
    originals["ThreadPoolExecutor"] = pipeline.ThreadPoolExecutor
    pipeline.ThreadPoolExecutor = _InCaller
    whole, reports = [0.0, 0.0], 0
    try:
        for offset in range(0, docs.height, CHUNK):
            c, w = time.process_time(), time.perf_counter()
            reports += pipeline.parse_documents(docs.slice(offset, CHUNK)).reports.height
            whole[0] += time.perf_counter() - w
            whole[1] += time.process_time() - c
    finally:
        for name, f in originals.items():
            setattr(pipeline, name, f)
    rest = ("rest: texts from their lines, joins, outcomes, conform",
            whole[0] - sum(v[0] for v in pieces.values()), whole[1] - sum(v[1] for v in pieces.values()))
    rows = [(label, wall, cpu) for label, (wall, cpu) in [*read.items(), *pieces.items()]] + [rest]
    return ParsePieces(rows, calls, time.perf_counter() - wall0, time.process_time() - cpu0, reports)


class _InCaller:
    """``parse_documents``' one-thread pool, run in the caller: each piece is timed alone."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        future = Future()
        future.set_result(fn(*args))
        return future


def parse_breakdown(files: list[Path], lower: float) -> None:
    """``parse_pieces`` printed, then the floor of this design on this machine: its CPU over every core,
    as if every core were busy throughout, against the lower bound."""
    m = parse_pieces(files)
    cores = os.cpu_count() or 1
    print(f"where the parse stage's time goes ({len(files)} reports, each piece alone in turn, this process; "
          f"{m.wall:.2f} s wall, {m.cpu:.2f} s CPU in all):")
    print(f"  {'piece':<62} {'wall s':>7} {'CPU s':>7} {'CPU %':>6}  {'x lower bound (wall)':>20}")
    for label, wall, cpu in m.rows:
        print(f"  {label:<62} {wall:7.2f} {cpu:7.2f} {100 * cpu / m.cpu:5.0f}%  {wall / lower:20.1f}")
    missed = [name for name, n in m.calls.items() if n == 0]
    if missed:
        print(f"  (not called by parse_documents, so the breakdown is out of date with it: {', '.join(missed)})")
    print(f"  floor of this design here: {m.cpu:.2f} CPU s over {cores} cores = {m.cpu / cores:.2f} s if every "
          f"core were busy throughout = {m.cpu / cores / lower:.1f}x the lower bound ({lower:.2f} s, one core)")


# --------------------------------------------------------------------------- per worker, per format


def format_corpora(work: Path, n_fast: int, n_slow: int, seed: int) -> dict[str, list[Path]]:
    """Generated reports per format, cached under ``work``: txt and md (the generator's text layouts),
    HTML ``n_fast`` each; DOCX and PDF (reportlab) ``n_slow`` each."""
    out: dict[str, list[Path]] = {}
    for fmt, n in (("txt", 2 * n_fast), ("html", n_fast), ("docx", n_slow), ("pdf", n_slow)):
        if n <= 0:
            continue
        folder = work / f"{fmt}-{n}-{seed}"
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            generate_formats_corpus(folder, n, seed, formats=(fmt,))
            (folder / "truth.jsonl").unlink()
            (folder / ".done").touch()
        for p in report_files(folder):
            out.setdefault(p.suffix.lstrip("."), []).append(p)
    return out


def n_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def per_worker(fmt: str, paths: list[Path], parse_batch: int, warm: bool = True) -> dict[str, float]:
    """One process, no reader workers: ``read_file`` over the files (bytes + front end, as a reader
    worker does it), then ``parse_documents`` over their texts repeated to ``parse_batch`` documents
    (``parse_documents`` has a fixed cost per call that the pipeline pays once per 2,000 documents; a
    handful of DOCX or PDF files alone would charge it to a few reports). Wall and CPU seconds of this
    process, per file read and per report parsed."""
    if warm:
        read_file(str(paths[0]), fmt)  # imports, PDFium start-up outside the timing
    started, cpu = time.perf_counter(), time.process_time()
    rows, problems = [], Counter()
    for p in paths:
        encoding, text, problem, _ = read_file(str(p), fmt)
        if problem:
            problems[problem[:60]] += 1
            continue
        rows.append((str(p), fmt, text))
    read_wall, read_cpu = time.perf_counter() - started, time.process_time() - cpu
    copies = [(hashlib.sha256(f"{i}:{path}".encode()).hexdigest(), path, f, text)
              for i, (path, f, text) in zip(range(max(parse_batch, len(rows))), itertools.cycle(rows))] if rows else []
    docs = pl.DataFrame(copies, schema=DOC_COLUMNS, orient="row")
    started, cpu = time.perf_counter(), time.process_time()
    reports = 0
    for offset in range(0, docs.height, CHUNK):
        reports += parse_documents(docs.slice(offset, CHUNK)).reports.height
    parse_wall, parse_cpu = time.perf_counter() - started, time.process_time() - cpu
    files = len(paths)
    pages = sum(map(n_pages, paths)) if fmt == "pdf" else 0
    docs_n = max(docs.height, 1)
    return {"files": files, "pages": pages, "parsed": docs.height, "reports": reports, "problems": dict(problems),
            "read_wall": read_wall / files, "read_cpu": read_cpu / files,
            "parse_wall": parse_wall / docs_n, "parse_cpu": parse_cpu / docs_n,
            # per report: one file's front end + one report's parsing
            "wall": read_wall / files + parse_wall / docs_n, "cpu": read_cpu / files + parse_cpu / docs_n,
            "pages_per_file": pages / files}


def per_format_figures(work: Path, n_fast: int, n_slow: int, seed: int, ocr_file: Path,
                       ocr_copies: int, parse_batch: int) -> dict[str, dict[str, float]]:
    corpora = format_corpora(work / "formats", n_fast, n_slow, seed)
    figures = {}
    print(f"per worker (one process, no reader workers): read_file over the files, parse_documents over their "
          f"texts repeated to {parse_batch} documents; seconds per report (wall on this shared machine, CPU of "
          "this process):")
    print(f"  {'format':<6} {'files':>5} {'pages':>5}  {'read cpu s/file':>15} {'parse cpu s/rep':>15}  "
          f"{'cpu s/report':>12} {'wall s/report':>13} {'reports/s':>9}  {'cpu s/page':>10} {'pages/s':>7}")
    for fmt in ("txt", "md", "html", "docx", "pdf", "ocr"):
        if fmt == "ocr":
            if ocr_copies <= 0 or not ocr_file.exists():
                continue
            from ingest.frontends import ocr as ocr_mod

            t0 = time.perf_counter()
            ocr_mod.engine()
            print(f"  (OCR model load {time.perf_counter() - t0:.2f} s, once a process, not counted below)")
            # the scanned file read ocr_copies times, each read OCRs every page again (no warm-up read)
            f = per_worker("pdf", [ocr_file] * ocr_copies, parse_batch, warm=False)
        elif corpora.get(fmt):
            f = per_worker(fmt, corpora[fmt], parse_batch)
        else:
            continue
        figures[fmt] = f
        per_page = (f"{f['cpu'] / f['pages_per_file']:10.3f} {f['pages_per_file'] / f['wall']:7.2f}"
                    if f["pages"] else f"{'':10} {'':7}")
        print(f"  {fmt:<6} {f['files']:5d} {f['pages'] or '':>5}  {f['read_cpu']:15.4f} {f['parse_cpu']:15.4f}  "
              f"{f['cpu']:12.4f} {f['wall']:13.4f} {1 / f['wall']:9.1f}  {per_page}"
              + (f"  problems: {f['problems']}" if f["problems"] else "")
              + ("" if f["reports"] == f["parsed"] else f"  ({f['reports']} of {f['parsed']} parsed to reports)"))
    print("  (pages/s and s/page: the report's whole cost, front end and parsing, over its pages)")
    return figures


# --------------------------------------------------------------------------- ogi run


def _tree(pid: int) -> list[tuple[int, str, int, float]]:
    """(pid, role, RSS KiB, CPU s) of a process and its descendants (roles: run, dbt, reader workers)."""
    found = []
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            stat = Path(f"/proc/{current}/stat").read_text()
            cmdline = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime of this process
        role = "dbt" if "/dbt" in cmdline else "readers" if "multiprocessing" in cmdline else "run"
        found.append((current, role, rss, cpu))
    return found


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Run:
    """One ``ogi run``: wall, CPU of the whole process tree, peak RSS, step lines, the Dagster run."""

    def __init__(self, landing: Path, warehouse: Path, home: Path, env: dict[str, str]):
        self.landing, self.warehouse, self.home = landing, warehouse, home
        child_env = {**os.environ, **env}
        child_env.pop("OGI_SHARD_URL", None)  # the shard store beside the warehouse: fresh with it
        self.load_before = loadavg()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.started_unix = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(OGI), "run", "--landing", str(landing), "--warehouse", str(warehouse), "--dagster-home", str(home)],
            cwd=REPO, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.peaks: dict[str, float] = {}
        self.cpu_seen: dict[int, float] = {}
        self.timeline: list[tuple[float, float]] = []  # (unix time, CPU s of the tree so far)

        def sample() -> None:
            while proc.poll() is None:
                tree = _tree(proc.pid)
                by_role: dict[str, int] = {}
                for pid, role, rss, cpu in tree:
                    by_role[role] = by_role.get(role, 0) + rss
                    self.cpu_seen[pid] = cpu
                for role, kib in {**by_role, "tree": sum(by_role.values())}.items():
                    self.peaks[role] = max(self.peaks.get(role, 0.0), kib / 1024)
                self.timeline.append((time.time(), sum(self.cpu_seen.values())))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, _ = proc.communicate()
        sampler.join()
        if proc.returncode:
            raise SystemExit(f"ogi run failed with exit code {proc.returncode}")
        self.wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # processes of the tree reaped by a waiting parent (not the multiprocess executor's step processes:
        # their forkserver parent is killed, so they never reach this process's children's usage) ...
        self.cpu_reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        # ... so also every process's own CPU as last seen by the 0.2 s sampler (misses each process's last
        # sampling interval): the larger of the two
        self.cpu = max(self.cpu_reaped, sum(self.cpu_seen.values()))
        self.load_after = loadavg()
        self.steps = [line.rstrip() for line in out.splitlines()
                      if line.startswith("  ") and (" s  " in line or line.startswith("  this run"))]
        self.stats, self.events = self._from_instance()

    def _from_instance(self):
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home.resolve())) as instance:
            run = instance.get_runs(limit=1)[0]
            stats = {s.step_key: s for s in instance.get_run_step_stats(run.run_id)}
            events: dict[str, dict[str, float]] = {}
            for record in instance.all_logs(run.run_id):
                ev = record.dagster_event
                if ev is not None and ev.step_key:
                    events.setdefault(ev.step_key, {}).setdefault(ev.event_type_value, record.timestamp)
        return stats, events

    def cpu_between(self, t0: float, t1: float) -> float:
        """CPU seconds of the process tree between two unix times (sampled every 0.2 s)."""
        def at(t: float) -> float:
            return next((cpu for when, cpu in reversed(self.timeline) if when <= t), 0.0)
        return at(t1) - at(t0)

    def parse_steps(self):
        return [s for key, s in self.stats.items() if "parse_partition_op" in key]

    def parse_span(self) -> tuple[float, float] | None:
        steps = [s for s in self.parse_steps() if s.start_time and s.end_time]
        if not steps:
            return None
        return min(s.start_time for s in steps), max(s.end_time for s in steps)

    def summary(self) -> str:
        return (f"{self.wall:.1f} s wall, {self.cpu:.1f} s CPU (whole process tree: reaped {self.cpu_reaped:.1f} s, "
                f"sampled per process {sum(self.cpu_seen.values()):.1f} s), load average "
                f"{self.load_before} at start, {self.load_after} at end")


def _peaks(peaks: dict[str, float]) -> str:
    return (f"peak RSS {peaks.get('tree', 0):.0f} MiB for the whole process tree (run process "
            f"{peaks.get('run', 0):.0f}, dbt {peaks.get('dbt', 0):.0f}, reader workers {peaks.get('readers', 0):.0f})")


def step_category(key: str) -> str:
    if "parse" in key or "partitions_with_work" in key:
        return "parse"
    if "landed_files" in key:
        return "discovery"
    if "raw_tables" in key:
        return "load"
    if "dbt" in key:
        return "dbt"
    if "serving" in key:
        return "serving copy"
    return "validation"  # Great Expectations rule results and the asset checks


def serial_seconds(run: Run) -> dict[str, float]:
    """Step seconds per category outside the parse stage (in-process: the steps run one after another)."""
    out: dict[str, float] = {}
    for key, s in run.stats.items():
        if s.start_time and s.end_time and step_category(key) != "parse":
            out[step_category(key)] = out.get(step_category(key), 0.0) + s.end_time - s.start_time
    return out


def fresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def scaling(landing: Path, work: Path, workers: list[int], n_files: int, partitions: int, read_workers: int,
            reference: Run | None) -> dict[int, Run]:
    runs: dict[int, Run] = {}
    print(f"parse stage scaling: {n_files} reports, OGI_EXECUTOR=multiprocess, OGI_PARSE_PARTITIONS={partitions}, "
          f"OGI_READ_WORKERS={read_workers} (reader processes per parse step), fresh warehouse, shard store and "
          "Dagster instance each")
    for w in workers:
        folder = work / f"scale-w{w}"
        fresh(folder)
        env = {"OGI_EXECUTOR": "multiprocess", "OGI_WORKERS": str(w), "OGI_PARSE_PARTITIONS": str(partitions),
               "OGI_READ_WORKERS": str(read_workers)}
        run = Run(landing, folder / "warehouse.duckdb", folder / "dagster_home", env)
        runs[w] = run
        span = run.parse_span()
        print(f"  OGI_WORKERS={w}: run {run.summary()}")
        print("  " + "\n  ".join(run.steps))
        if span is None:
            print("    (no parse steps found in the run's step stats)")
            continue
        steps = run.parse_steps()
        booting = [run.events.get(s.step_key, {}).get("STEP_WORKER_STARTING") for s in steps]
        first_boot = min((b for b in booting if b), default=span[0])
        print(f"    parse stage: {len(steps)} parse_partition_op steps, span {span[1] - span[0]:.1f} s wall "
              f"(first step start to last step end; {span[1] - first_boot:.1f} s from the first step process "
              f"launch), {run.cpu_between(first_boot, span[1]):.1f} s CPU of the tree over that time")
        print("    " + "\n    ".join(step_overheads(run)))
    base = runs.get(min(runs)) if runs else None
    if base is not None and base.parse_span():
        b0, b1 = base.parse_span()
        for w, run in sorted(runs.items()):
            span = run.parse_span()
            if span and w != min(runs):
                print(f"  speedup {min(runs)} -> {w} workers: parse stage {(b1 - b0) / (span[1] - span[0]):.2f}x "
                      f"({b1 - b0:.1f} s -> {span[1] - span[0]:.1f} s), whole run {base.wall / run.wall:.2f}x "
                      f"({base.wall:.1f} s -> {run.wall:.1f} s)")
    if reference is not None and reference.parse_span():
        r0, r1 = reference.parse_span()
        print(f"  in-process reference (one parse step for every partition, default OGI_READ_WORKERS): parse stage "
              f"{r1 - r0:.1f} s, whole run {reference.wall:.1f} s wall, {reference.cpu:.1f} s CPU")
    return runs


def step_overheads(run: Run) -> list[str]:
    """Per step kind (mean over its steps): step process launch -> step start (a new Python process
    importing the definitions, resources), the op (step start -> end), and the run's steps in total."""
    kinds: dict[str, list[tuple[float, float]]] = {}
    for key, s in run.stats.items():
        if not (s.start_time and s.end_time):
            continue
        launch = run.events.get(key, {}).get("STEP_WORKER_STARTING")
        kind = key.split("[")[0]
        kinds.setdefault(kind, []).append((s.start_time - launch if launch else float("nan"), s.end_time - s.start_time))
    lines = []
    for kind, vals in sorted(kinds.items(), key=lambda kv: -sum(v[1] for v in kv[1])):
        boot = [b for b, _ in vals if b == b]
        lines.append(f"{kind:<52} x{len(vals):<2} launch->start {sum(boot) / len(boot) if boot else float('nan'):5.1f} s"
                     f"  step {sum(d for _, d in vals) / len(vals):6.1f} s (mean)")
    total_boot = sum(s.start_time - run.events[k]["STEP_WORKER_STARTING"] for k, s in run.stats.items()
                     if s.start_time and "STEP_WORKER_STARTING" in run.events.get(k, {}))
    lines.append(f"step process launch->start summed over all {len(run.stats)} steps: {total_boot:.1f} s")
    phases = [("STEP_WORKER_STARTING", "STEP_WORKER_STARTED", "process start + imports"),
              ("STEP_WORKER_STARTED", "STEP_START", "resources"),
              ("STEP_START", "STEP_OUTPUT", "op"),
              ("STEP_OUTPUT", "STEP_SUCCESS", "output")]
    parse = [e for k, e in run.events.items() if "parse_partition_op" in k]
    means = []
    for a, b, label in phases:
        vals = [e[b] - e[a] for e in parse if a in e and b in e]
        if vals:
            means.append(f"{label} {sum(vals) / len(vals):.2f} s")
    if means:
        lines.append("a parse_partition_op step, mean of its phases (from its events): " + ", ".join(means))
    return lines


# --------------------------------------------------------------------------- projection


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        fmt, _, share = part.partition("=")
        mix[fmt.strip()] = float(share)
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items()}


def projection(figures: dict[str, dict[str, float]], serial: dict[str, float], serial_n: int, mix: dict[str, float],
               pdf_pages: float, scan_pages: float, reports: int, workers: list[int]) -> None:
    """Parse seconds per report per format (per-worker CPU; pages scaled for PDF and OCR) x mix / N,
    plus the serial steps scaled linearly from the measured run."""
    per_report_cpu, per_report_wall, notes = {}, {}, []
    for fmt, share in mix.items():
        f = figures.get(fmt)
        if f is None:
            raise SystemExit(f"--mix names {fmt!r}, which was not measured (measured: {', '.join(figures)})")
        if fmt in ("pdf", "ocr"):
            pages = pdf_pages if fmt == "pdf" else scan_pages
            per_page = f["pages_per_file"]
            per_report_cpu[fmt] = f["cpu"] / per_page * pages
            per_report_wall[fmt] = f["wall"] / per_page * pages
            notes.append(f"{fmt} {share:.0%} x {pages:g} pages x {f['cpu'] / per_page:.3f} CPU s/page")
        else:
            per_report_cpu[fmt] = f["cpu"]
            per_report_wall[fmt] = f["wall"]
            notes.append(f"{fmt} {share:.0%} x {per_report_cpu[fmt]:.4f} CPU s/report")
    mean_cpu = sum(mix[f] * per_report_cpu[f] for f in mix)
    mean_wall = sum(mix[f] * per_report_wall[f] for f in mix)
    serial_s = sum(serial.values()) * reports / serial_n
    print(f"projection for {reports:,} reports (ASSUMED mix and page counts, not measured: "
          f"{', '.join(f'{k} {v:.0%}' for k, v in mix.items())}; PDF text layer {pdf_pages:g} pages, scanned "
          f"{scan_pages:g} pages):")
    print(f"  parse, per report of the mix: {mean_cpu:.3f} CPU s ({mean_wall:.3f} s wall on this shared machine) = "
          + " + ".join(notes))
    print(f"  serial part (does not scale with workers): {sum(serial.values()):.1f} s for {serial_n} reports in the "
          f"in-process run ({', '.join(f'{k} {v:.1f} s' for k, v in sorted(serial.items(), key=lambda kv: -kv[1]))}), "
          f"scaled linearly in reports: {serial_s / 3600:.1f} h ({sum(serial.values()) / serial_n * 1000:.1f} ms a "
          "report; a small corpus overstates it: dbt's and Great Expectations' start-up is a fixed cost per run "
          "that linear scaling multiplies; measure with a large --n)")
    print("  assumes N dedicated cores, parse time divides by N exactly (no executor overhead, no contention for "
          "disk or the shard store), the serial steps stay on one machine and scale linearly")
    print(f"  {'workers':>7}  {'parse (CPU figures)':>19}  {'parse (wall figures)':>20}  {'serial':>8}  "
          f"{'total':>8}  {'total':>7}  {'parse share':>11}")
    for n in workers:
        parse_h = mean_cpu * reports / n / 3600
        parse_wall_h = mean_wall * reports / n / 3600
        total = parse_h + serial_s / 3600
        print(f"  {n:7d}  {parse_h:17.1f} h  {parse_wall_h:18.1f} h  {serial_s / 3600:6.1f} h  {total:6.1f} h  "
              f"{total / 24:5.1f} d  {parse_h / total:11.0%}")


# --------------------------------------------------------------------------- main


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


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
    parser.add_argument("--workers", type=int_list, default=[],
                        help="e.g. 1,2: also run the corpus under OGI_EXECUTOR=multiprocess with these OGI_WORKERS")
    parser.add_argument("--partitions", type=int, default=8, help="OGI_PARSE_PARTITIONS of every run (default 8)")
    parser.add_argument("--read-workers", type=int, default=1,
                        help="OGI_READ_WORKERS of the multiprocess runs (default 1: a worker is one parse step and "
                             "its one reader process)")
    parser.add_argument("--format-n", type=int, default=200,
                        help="per-format figures: generated HTML reports, and text reports (split txt/md) twice this")
    parser.add_argument("--format-n-slow", type=int, default=30, help="per-format figures: generated DOCX and PDF reports")
    parser.add_argument("--ocr-file", default=str(SCANNED_SAMPLE), help="scanned PDF for the OCR figure")
    parser.add_argument("--ocr-copies", type=int, default=1,
                        help="times the scanned PDF is read for the OCR figure (0: no OCR; ~5 s a page)")
    parser.add_argument("--parse-batch", type=int, default=1000,
                        help="per-format figures: documents per parse_documents pass (texts repeated up to it)")
    parser.add_argument("--skip-formats", action="store_true", help="no per-format figures (and no projection)")
    parser.add_argument("--mix", default="html=40,pdf=35,ocr=15,docx=10",
                        help="ASSUMED format mix of the projection, percent (default: the archive mix "
                             "html=40,pdf=35,ocr=15,docx=10; formats: txt md html docx pdf ocr)")
    parser.add_argument("--pdf-pages", type=float, default=6.0,
                        help="ASSUMED mean pages of a PDF with a text layer (default 6)")
    parser.add_argument("--scan-pages", type=float, default=6.0,
                        help="ASSUMED mean pages of a scanned PDF read by OCR (default 6)")
    parser.add_argument("--project-reports", type=int, default=3_000_000)
    parser.add_argument("--project-workers", type=int_list, default=[1, 2, 8, 32, 128])
    args = parser.parse_args()

    print("command: " + " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} cores, load average {loadavg()} at start, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
          f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    work = Path(args.workdir) / f"n{args.n}"
    landing = work / "landing"
    gen_seconds = generate(landing, args.n, args.seed, args.html_every)
    extra = landing / f"incremental-{args.incremental}"
    shutil.rmtree(extra, ignore_errors=True)  # left by an interrupted earlier benchmark
    files = report_files(landing)
    size = sum(p.stat().st_size for p in files)
    formats = Counter(p.suffix.lstrip(".") for p in files)
    print(f"corpus: {landing}: {len(files)} reports ({', '.join(f'{k} {v}' for k, v in sorted(formats.items()))}), "
          f"{size / 2**20:.1f} MiB, seed {args.seed}, one in {args.html_every} HTML "
          f"(generated in {gen_seconds:.1f} s)")

    lb = lower_bound(files)
    print(f"lower bound (read all bytes + one Polars regex pass over all lines, best of 3): {lb:.2f} s")
    if not args.skip_parse:
        parse_seconds, per_format = parse_stage(files)
        print(f"parse stage alone: {parse_seconds:.2f} s = {len(files) / parse_seconds:.0f} reports/s "
              f"({parse_seconds / lb:.1f}x the lower bound)")
        for fmt, rate in per_format.items():
            print(f"  {fmt}: {rate:.0f} reports/s (reading the bytes, decoding or extracting, parsing)")
        parse_breakdown(files, lb)
    figures = {}
    if not args.skip_formats:
        figures = per_format_figures(Path(args.workdir), args.format_n, args.format_n_slow, args.seed,
                                     Path(args.ocr_file), args.ocr_copies, args.parse_batch)
    if args.skip_full:
        return

    warehouse = work / "warehouse.duckdb"
    home = work / "dagster_home"
    in_process_env = {"OGI_EXECUTOR": "in_process", "OGI_PARSE_PARTITIONS": str(args.partitions)}
    reference = None
    if args.reuse_warehouse and warehouse.exists():
        print("reusing the warehouse of an earlier full run (bringing it up to date first)")
        Run(landing, warehouse, home, in_process_env)
    else:
        for stale in work.glob("warehouse*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        fresh(home)
        reference = Run(landing, warehouse, home, in_process_env)
        print(f"full run (in-process), {len(files)} reports: {reference.summary()}, {_peaks(reference.peaks)}")
        print("\n".join(reference.steps))

    runs = scaling(landing, work, args.workers, len(files), args.partitions, args.read_workers, reference) \
        if args.workers else {}

    run = Run(landing, warehouse, home, in_process_env)
    print(f"second run, no new files: {run.summary()}")
    print("\n".join(run.steps))

    if args.incremental:
        generate_formats_corpus(extra, args.incremental, args.incremental_seed or args.seed + 1,
                                formats=formats_cycle(args.html_every))
        (extra / "truth.jsonl").unlink()
        run = Run(landing, warehouse, home, in_process_env)
        print(f"incremental run, +{args.incremental} reports into {len(files)}: {run.summary()}, {_peaks(run.peaks)}")
        print("\n".join(run.steps))
        shutil.rmtree(extra)

    if figures and reference is not None:
        projection(figures, serial_seconds(reference), len(files), parse_mix(args.mix), args.pdf_pages,
                   args.scan_pages, args.project_reports, args.project_workers)
    elif figures:
        print("(no projection: it takes the serial steps from a fresh full run; drop --reuse-warehouse)")
    del runs


if __name__ == "__main__":
    main()
