"""Reading landed files: bytes -> decoded text (txt, md) or front-end blocks (html, docx, pdf).

Reading is per file and CPU-bound (charset detection, HTML/DOCX/PDF extraction), so a large batch is
spread over worker processes. Workers start with ``forkserver`` (the caller may hold threads: Dagster,
Polars), and a worker that dies (e.g. killed for memory on a hostile file) only costs a slower,
in-process pass over what was left, never the batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ingest import PARSER_VERSION
from ingest.decoding import decode_bytes
from ingest.discovery import read_bytes
from ingest.frontends import SUPPORTED_FORMATS, TEXT_FORMATS, read_structured

# Below this many files the start-up of worker processes costs more than it saves.
MIN_FILES_FOR_WORKERS = 400
_CHUNKSIZE = 32


def read_file(abs_path: str, source_format: str) -> tuple[str | None, str | None, str | None, bool]:
    """-> (encoding, text, problem, converted_from_traditional) of one landed file."""
    if source_format in TEXT_FORMATS or source_format == "unknown":
        decoded = decode_bytes(read_bytes(abs_path))
        problem = decoded.problem
        if problem is None and source_format == "unknown":
            problem = "unrecognised file format"
        return decoded.encoding, decoded.text, problem, decoded.converted_from_traditional
    if source_format in SUPPORTED_FORMATS:
        text, encoding, problem, converted = read_structured(source_format, read_bytes(abs_path))
        return encoding, text, problem, converted
    return None, None, f"{source_format} files are not read by parser {PARSER_VERSION}", False


def _read_pair(args: tuple[str, str]) -> tuple[str | None, str | None, str | None, bool]:
    return read_file(*args)


def read_files(
    files: list[tuple[str, str]],
    workers: int | None = None,
    on_file: Callable[[], None] | None = None,
) -> Iterator[tuple[str | None, str | None, str | None, bool]]:
    """``read_file`` over (abs_path, source_format) pairs, results in input order."""
    workers = workers if workers is not None else int(os.environ.get("OGI_READ_WORKERS", os.cpu_count() or 1))
    done = 0
    if workers > 1 and len(files) >= MIN_FILES_FOR_WORKERS:
        context = multiprocessing.get_context("forkserver")
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                for result in pool.map(_read_pair, files, chunksize=_CHUNKSIZE):
                    done += 1
                    if on_file is not None:
                        on_file()
                    yield result
            return
        except BrokenProcessPool:
            pass  # finish in this process, from the first file without a result
    for pair in files[done:]:
        if on_file is not None:
            on_file()
        yield read_file(*pair)
