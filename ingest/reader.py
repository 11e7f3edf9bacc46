"""Reading landed files: bytes -> decoded text (txt, md) or front-end blocks (html, docx, pdf).

One file's failure is that file's outcome, never the batch's: a file removed or replaced since
discovery, a parser exception, a file needing more memory or time than its budget each come back as
a problem in plain words (no exception names).

Budgets. The structured formats (HTML, DOCX, PDF) are read in worker processes, one file at a time,
each worker under an address-space limit (``RLIMIT_AS``: ``OGI_READ_MEMORY_MB`` beyond the worker's
own footprint, default 1024) and each file under a wall-clock limit (``OGI_READ_TIMEOUT_S``, default
20 s): a PDF whose stream inflates to gigabytes or a page that keeps a parser busy is quarantined with
the cap it hit, and the worker is replaced. Small batches use one long-lived worker for the structured
files while this process decodes the text files (a text file is read whole but is at most
``MAX_FILE_BYTES``, and decoding is linear); from ``MIN_FILES_FOR_WORKERS`` files on, every file goes
to one worker per core (``OGI_READ_WORKERS``). Workers start from a ``forkserver`` (the caller may hold
threads: Dagster, Polars) that has imported the front ends once, so replacing a worker costs a fork.
"""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import re
import resource
import time
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait

from ingest import PARSER_VERSION
from ingest.decoding import decode_bytes
from ingest.discovery import NotARegularFile, read_bytes
from ingest.frontends import BLOCK_FORMATS, SUPPORTED_FORMATS, TEXT_FORMATS, read_structured

logger = logging.getLogger(__name__)

# Below this many files the start-up of one worker per core costs more than it saves.
MIN_FILES_FOR_WORKERS = 400

# text files read ahead of a structured file still in a worker (bounds what waits in memory)
_READ_AHEAD = 64

Result = tuple[str | None, str | None, str | None, bool]  # encoding, text, problem, converted_from_traditional


def memory_budget_mb() -> int:
    return int(os.environ.get("OGI_READ_MEMORY_MB", "1024"))


def time_budget_s() -> float:
    return float(os.environ.get("OGI_READ_TIMEOUT_S", "20"))


def ocr_page_budget_s() -> float:
    """Each page a file sends to OCR extends its time budget by this much (OCR is ~5 s a page on one
    core here, 10-17 s when the machine is loaded)."""
    return float(os.environ.get("OGI_OCR_PAGE_TIMEOUT_S", "60"))


# onnxruntime reserves address space it never touches: a two-page scan needs about 1.4 GiB of address
# space but ~350 MB resident beyond the worker's own (measured). A worker that starts OCR gets this much
# more address space, and is replaced after that file, so the next file runs under the plain cap.
OCR_EXTRA_ADDRESS_MB = 1024


_FORMAT_NAMES = {"html": "HTML", "docx": "DOCX", "pdf": "PDF", "txt": "text", "md": "markdown"}
# an exception class name in a front end's message: the message is for developers, not for people
_EXCEPTION_RE = re.compile(r"\b(?:[A-Z]\w*(?:Error|Exception)|BadZipFile|LargeZipFile|PSEOF|zlib\.error)\b")


_OUT_OF_MEMORY_RE = re.compile(r"MemoryError|unable to allocate|memory allocation failed|out of memory|"
                               r"cannot allocate memory", re.I)


def _explain(exception_name: str) -> str:
    if exception_name == "MemoryError":
        return f"it needs more memory than the {memory_budget_mb()} MiB per-file cap (OGI_READ_MEMORY_MB)"
    if exception_name == "RecursionError":
        return "its structure is nested too deeply to read"
    if exception_name in ("XMLSyntaxError", "ParseError", "ExpatError"):
        return "its XML is malformed"
    if exception_name in ("BadZipFile", "LargeZipFile", "zlib.error"):
        return "its zip archive is damaged"
    if exception_name.startswith("Unicode"):
        return "part of its text is in an encoding that could not be recognised"
    return "the file is damaged or uses a structure the reader does not support"


def plain_reason(source_format: str, problem: str | None) -> str | None:
    """A front end's problem as a sentence for people: raw exception text is replaced by what it means."""
    if problem is None:
        return None
    found = _EXCEPTION_RE.search(problem)
    if found is None:
        return problem
    prefix = problem[: found.start()].rstrip(" :(")
    if not prefix:
        prefix = f"the {_FORMAT_NAMES.get(source_format, source_format)} file could not be read"
    # libraries wrap an allocation refused under the memory cap in their own exception types
    name = "MemoryError" if _OUT_OF_MEMORY_RE.search(problem) else found.group(0)
    return f"{prefix}: {_explain(name)}"


def read_file(abs_path: str, source_format: str) -> Result:
    """-> (encoding, text, problem, converted_from_traditional) of one landed file."""
    try:
        data = read_bytes(abs_path)
    except FileNotFoundError:
        return None, None, "the file was removed from the landing directory after discovery, before it was read", False
    except NotARegularFile as exc:
        return None, None, f"the file was replaced by {exc.strerror} after discovery: never opened", False
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, None, "the file was replaced by a symbolic link after discovery: links are not followed", False
        return None, None, f"file could not be read: {(exc.strerror or 'operating system error').lower()}", False
    try:
        if source_format in TEXT_FORMATS or source_format == "unknown":
            decoded = decode_bytes(data)
            problem = decoded.problem
            if problem is None and source_format == "unknown":
                problem = "unrecognised file format"
            return decoded.encoding, decoded.text, problem, decoded.converted_from_traditional
        if source_format in SUPPORTED_FORMATS:
            text, encoding, problem, converted = read_structured(source_format, data)
            return encoding, text, plain_reason(source_format, problem), converted
    except Exception as exc:  # one file never stops the batch: it is recorded with the reason
        return None, None, plain_reason(source_format, type(exc).__name__), False
    return None, None, f"{source_format} files are not read by parser {PARSER_VERSION}", False


# --- worker processes under a memory and a time budget ------------------------------------------


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _worker_main(conn: Connection, budget_bytes: int, ocr_threads: int = 1) -> None:
    # imported before the cap (numpy's BLAS threads allocate at import): under a small cap the import
    # itself would fail and the worker never boot
    from ingest.frontends import ocr

    ocr.threads = ocr_threads

    # a forked worker inherits the fork server's environment, which may predate the caller's setting:
    # the reasons it writes name the cap it really runs under
    os.environ["OGI_READ_MEMORY_MB"] = str(budget_bytes >> 20)
    # the cap is relative to what the worker holds before its first file (interpreter, imports)
    base = _vm_bytes()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = base + budget_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def ocr_page_starts() -> None:
        ocr_limit = limit + (OCR_EXTRA_ADDRESS_MB << 20)
        if hard != resource.RLIM_INFINITY:
            ocr_limit = min(ocr_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (ocr_limit, hard))
        conn.send((_OCR_PAGE, None))

    ocr.page_hook = ocr_page_starts
    conn.send(("ready", base))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            result = read_file(*task)
        except MemoryError:
            result = (None, None, plain_reason(task[1], "MemoryError"), False)
        conn.send((result, _vm_bytes() - base))


_context = None
# a worker's message that it starts recognising a page (not a file's result)
_OCR_PAGE = "ocr_page"


def process_context():
    """The multiprocessing context of the reader's workers: processes forked from a server that has
    imported the front ends once (discovery's inspection workers use it too)."""
    return _mp_context()


def _mp_context():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        # imported once in the fork server, so that each (re)started worker is a cheap fork
        _context.set_forkserver_preload(["ingest.reader", "ingest.frontends.html", "ingest.frontends.docx",
                                         "ingest.frontends.ocr"])
    return _context


class _Worker:
    """One process that reads one file at a time under the budgets; killed and replaced when a file
    exceeds them."""

    def __init__(self, ocr_threads: int = 1) -> None:
        self.ocr_threads = ocr_threads
        self.proc = None
        self.conn: Connection | None = None
        self.booted = False

    def start(self) -> None:
        """Start without waiting: the caller reads text files while the worker boots."""
        ctx = _mp_context()
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, memory_budget_mb() << 20, self.ocr_threads),
                                daemon=True)
        self.proc.start()
        child.close()
        self.conn, self.booted = parent, False

    def ready(self, block: bool) -> bool | None:
        """True once booted (its start-up, the fork server's first imports, is not charged to the first
        file's time budget); None while still booting (``block=False``); False if it could not start."""
        if self.conn is None:
            self.start()
        if self.booted:
            return True
        try:
            if self.conn.poll(120 if block else 0):
                self.conn.recv()
                self.booted = True
                return True
            if not block:
                return None
        except (EOFError, OSError):
            pass
        self.kill()
        return False

    def send(self, task: tuple[str, str]) -> None:
        self.conn.send(task)

    def receive(self) -> tuple[Result, int] | None:
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.conn.close()
        self.proc, self.conn, self.booted = None, None, False

    def close(self) -> None:
        if self.conn is not None and self.booted:
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(timeout=2)
        self.kill()


def _timed_out(fmt: str) -> Result:
    return (None, None, f"reading it took longer than the {time_budget_s():g} s per-file cap (OGI_READ_TIMEOUT_S); "
            "quarantined", False)


def _died(fmt: str) -> Result:
    return (None, None, f"the {_FORMAT_NAMES.get(fmt, fmt)} reader stopped on this file (it needed more than the "
            f"{memory_budget_mb()} MiB per-file memory cap, OGI_READ_MEMORY_MB, or crashed the parser); quarantined",
            False)


def _read_guarded(
    files: list[tuple[str, str]],
    n_workers: int,
    in_process: Callable[[str], bool],
    on_file: Callable[[], None] | None,
) -> Iterator[Result]:
    """Results in input order; files whose format ``in_process`` accepts are read here, the others by
    ``n_workers`` budgeted workers (started only if there is such a file)."""
    queue = deque(i for i, (_, fmt) in enumerate(files) if not in_process(fmt))
    n = min(n_workers, len(queue))
    # the cores not taken by a worker of their own go to OCR: a lone worker reading a scan is what the
    # rest of a small run waits for (this process only decodes and parses text meanwhile)
    ocr_threads = max(1, (os.cpu_count() or 1) // max(1, n))
    workers = [_Worker(ocr_threads) for _ in range(n)]
    for w in workers:
        w.start()
    busy: dict[_Worker, tuple[int, float]] = {}
    ocr_workers: set[_Worker] = set()
    results: dict[int, Result] = {}
    retire_above = (memory_budget_mb() << 20) // 2
    next_out = 0
    try:
        while next_out < len(files):
            for w in workers:
                if w not in busy and queue:
                    nothing_else = not busy and not any(
                        i not in results and in_process(files[i][1])
                        for i in range(next_out, min(len(files), next_out + _READ_AHEAD)))
                    state = w.ready(block=nothing_else)
                    if state is False:
                        # no worker process here (e.g. a main module that cannot be re-imported): read
                        # in this process, without the budgets, rather than not at all, and say so (a
                        # silent fallback once hid a worker that could not boot under its memory cap)
                        logger.warning("ogi reader: no budgeted worker process could start; reading %d file(s) in "
                                       "this process without the memory and time budgets", len(queue))
                        while queue:
                            i = queue.popleft()
                            results[i] = read_file(*files[i])
                    elif state:
                        i = queue.popleft()
                        w.send(files[i])
                        busy[w] = (i, time.monotonic() + time_budget_s())
            if next_out not in results and in_process(files[next_out][1]):
                results[next_out] = read_file(*files[next_out])
            elif next_out not in results:
                # while the workers boot or read, read ahead the text files that come later
                ahead = next((i for i in range(next_out + 1, min(len(files), next_out + _READ_AHEAD))
                              if i not in results and in_process(files[i][1])), None)
                if ahead is not None:
                    results[ahead] = read_file(*files[ahead])
                if not busy:
                    continue
                timeout = 0.0 if ahead is not None else max(
                    0.0, min(deadline for _, deadline in busy.values()) - time.monotonic())
                ready = wait([w.conn for w in busy], timeout=timeout)
                now = time.monotonic()
                for w, (i, deadline) in list(busy.items()):
                    if w.conn in ready:
                        answer = w.receive()
                        if answer is not None and answer[0] == _OCR_PAGE:
                            busy[w] = (i, now + ocr_page_budget_s())
                            ocr_workers.add(w)
                            continue
                        if answer is None:
                            results[i] = _died(files[i][1])
                            w.kill()
                        else:
                            results[i], grown = answer
                            if grown > retire_above or w in ocr_workers:
                                # a fresh process rather than a fragmented heap near the cap, or one that
                                # still holds the OCR engine's address space
                                w.close()
                        ocr_workers.discard(w)
                        del busy[w]
                    elif now >= deadline:
                        results[i] = _timed_out(files[i][1])
                        w.kill()
                        ocr_workers.discard(w)
                        del busy[w]
            while next_out in results:
                if on_file is not None:
                    on_file()
                yield results.pop(next_out)
                next_out += 1
    finally:
        for w in workers:
            w.close()


def read_files(
    files: list[tuple[str, str]],
    workers: int | None = None,
    on_file: Callable[[], None] | None = None,
) -> Iterator[Result]:
    """``read_file`` over (abs_path, source_format) pairs, results in input order."""
    workers = workers if workers is not None else int(os.environ.get("OGI_READ_WORKERS", os.cpu_count() or 1))
    if workers > 1 and len(files) >= MIN_FILES_FOR_WORKERS:
        yield from _read_guarded(files, workers, lambda fmt: False, on_file)
    else:
        yield from _read_guarded(files, 1, lambda fmt: fmt not in BLOCK_FORMATS, on_file)
