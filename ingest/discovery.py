"""Finding files in the landing directory: path, size, sha256 and the format sniffed from bytes."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from ingest.schemas import conform

# Files above this size are recorded and not read (national reports are far below 50 MiB).
MAX_FILE_BYTES = 50 * 1024 * 1024
_SNIFF_BYTES = 8192
_PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096


@dataclass(frozen=True)
class LandedFile:
    source_path: str
    abs_path: str
    source_sha256: str | None
    bytes: int
    source_format: str
    problem: str | None  # why the file cannot be read at all (link, unreadable, too large)
    mtime_ns: int | None = None


# What an earlier scan learnt about a file: abs_path -> (bytes, mtime_ns, sha256, format[, problem]);
# the problem is set only for files above the size cap (hashed, not read).
KnownFiles = dict[str, tuple]


def sniff_format(head: bytes, path: Path | BinaryIO | None = None) -> str:
    """Format from the first bytes, never from the extension."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    image = _image_format(head)
    if image is not None:
        return image
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole2_format(head, path)
    if head.startswith(b"PK\x03\x04"):
        if path is not None and _zip_has_word_document(path):
            return "docx"
        return "unknown"
    if not head:
        return "unknown"
    text = _peek_text(head)
    if text is None:
        return "unknown"
    lowered = text.lower()
    if any(tag in lowered for tag in ("<!doctype html", "<html", "<body", "<table", "<meta ", "<div", "<p>")):
        return "html"
    # markdown: pipe tables, or headings around plain prose (a docx export with tab tables is text).
    # Every test looks at a line only if the text holds the character it needs: most text files have
    # no "|" or "#" at all, and this runs on every landed file.
    if _PIPE_THEN_DASH.search(text) and any(_is_pipe_rule(ln) for ln in text.splitlines() if "|" in ln):
        return "md"
    if "\t" in text or text.count("#") < 2:
        return "txt"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "md" if sum(ln.startswith("#") for ln in lines[:200]) >= 2 else "txt"


_PIPE_RULE_CHARS = frozenset("|-: ")
# a rule line starts with "|" and holds only "|-: ": somewhere in it a "|" is followed by a "-" with
# only "|", ":" and spaces between (a text without that has no rule line)
_PIPE_THEN_DASH = re.compile(r"\|[|: ]*-")


def _is_pipe_rule(line: str) -> bool:
    """A markdown table's rule line: ``|---|:--:|``."""
    ln = line.strip()
    return ln.startswith("|") and "-" in ln and set(ln) <= _PIPE_RULE_CHARS


# Report images read by OCR (issue 13): magic bytes of PNG, JPEG and TIFF (both byte orders).
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"))


def _image_format(head: bytes) -> str | None:
    return next((fmt for magic, fmt in _IMAGE_MAGIC if head.startswith(magic)), None)


def _ole2_format(head: bytes, path: Path | None) -> str:
    """Legacy Office compound file: 'doc' (Word/WPS) or 'xls' (Excel/ET) from its stream names."""
    from ingest.frontends.office import ole2_kind

    data = head
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = fh.read(1 << 20)
        except OSError:
            pass
    kind = ole2_kind(data)
    return kind if kind in ("doc", "xls") else "unknown"


def _peek_text(head: bytes) -> str | None:
    from ingest.decoding import decode_bytes

    decoded = decode_bytes(head, partial=True)
    return decoded.text


def _zip_has_word_document(path: Path | BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _hash_fd(fd: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: os.read(fd, 1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def display_path(raw: bytes) -> str:
    """A file name as stored and shown: UTF-8, with bytes that are not UTF-8 (GBK names unpacked
    from Chinese Windows archives) written as ``\\xb1`` escapes. The exact bytes are kept apart, in
    ``path_bytes``."""
    return raw.decode("utf-8", "backslashreplace")


def _special_kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDOOR, "a door"), (stat.S_ISPORT, "an event port"),
                       (stat.S_ISWHT, "a whiteout entry")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def walk_landing(top: bytes) -> Iterator[tuple[bytes, str | None]]:
    """(absolute path, problem) of every entry below ``top`` that is not a directory to descend into,
    in sorted order, without recursion (a landing nested thousands of levels deep is still walked)
    and without following links. A directory that cannot be listed (too long a path, no permission)
    is itself an entry, with the reason."""
    stack: list[bytes] = [top]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if here == top:
                raise
            yield here, f"folder could not be listed: {_os_reason(exc)}; the files inside it were not read"
            continue
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(entry.path)
            elif entry.is_symlink() and _points_to_dir(entry):
                yield entry.path, "symbolic link to a directory: links are not followed"
            else:
                yield entry.path, None
        stack.extend(reversed(subdirs))


def _points_to_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return f"the path is longer than the system allows ({_PATH_MAX} bytes)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "it was removed while the landing directory was being scanned"
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links"
    return (exc.strerror or "operating system error").lower()


def scan_landing(
    landing_dir: Path,
    known: KnownFiles | None = None,
    on_file: Callable[[], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[LandedFile]:
    """Every file below ``landing_dir``: links, special files (pipes, sockets, devices: never opened),
    paths too long to open and unreadable files are listed with a problem.

    A file whose size and modification time (ns) equal those in ``known`` is not read again: its
    hash and format are taken from there, as rsync and git do (files above the size cap too: their
    hash is kept, not recomputed). A rewrite that keeps both the size and the nanosecond mtime goes
    unnoticed; delete the stage directory to force a full re-read. ``on_start`` gets the number of
    entries found, before any is inspected (a progress total without a second walk).
    """
    top = os.fsencode(os.path.abspath(landing_dir))
    known = known or {}
    found: list[LandedFile] = []
    # the walk joins every name to its folder with one "/": the relative path is what follows the top
    # (os.path.relpath normalises both paths each time: half of a re-scan's time)
    prefix = top if top.endswith(b"/") else top + b"/"
    entries = [(raw, display_path(raw[len(prefix):] if raw.startswith(prefix) else os.path.relpath(raw, top)),
                problem) for raw, problem in walk_landing(top)]
    if on_start is not None:
        on_start(len(entries))
    workers = _inspect_workers(len(entries) - len(known))
    if workers > 1:
        # hashing and sniffing are Python on every byte of a new file: at national scale the one core
        # that runs them leaves the others idle (100,000 new files: about 12 s on one core)
        from concurrent.futures import ProcessPoolExecutor

        from ingest.reader import process_context

        chunks = [entries[i:i + _INSPECT_CHUNK] for i in range(0, len(entries), _INSPECT_CHUNK)]
        jobs = [(chunk, {p: known[p] for raw, _, _ in chunk if (p := os.fsdecode(raw)) in known}) for chunk in chunks]
        with ProcessPoolExecutor(workers, mp_context=process_context()) as pool:
            for inspected in pool.map(_inspect_chunk, jobs):
                found.extend(inspected)
                if on_file is not None:
                    for _ in inspected:
                        on_file()
        return found
    for raw, rel, problem in entries:
        found.append(_inspect_entry(raw, rel, problem, known))
        if on_file is not None:
            on_file()
    return found


# Files not known from an earlier scan from which discovery inspects them in worker processes (below,
# starting the processes costs more than it saves), and how many a worker takes at a time.
_PARALLEL_INSPECT_FROM = 20000
_INSPECT_CHUNK = 1000


def _inspect_workers(unknown: int) -> int:
    if unknown < _PARALLEL_INSPECT_FROM:
        return 1
    return max(1, min(os.cpu_count() or 1, unknown // _INSPECT_CHUNK))


def _inspect_chunk(job: tuple[list[tuple[bytes, str, str | None]], KnownFiles]) -> list[LandedFile]:
    entries, known = job
    return [_inspect_entry(raw, rel, problem, known) for raw, rel, problem in entries]


def _inspect_entry(raw: bytes, rel: str, problem: str | None, known: KnownFiles) -> LandedFile:
    if problem is not None:
        return LandedFile(rel, os.fsdecode(raw), None, 0, "unknown", problem)
    return _inspect(raw, rel, known)


def count_files(landing_dir: Path) -> int:
    try:
        return sum(1 for _ in walk_landing(os.fsencode(os.path.abspath(landing_dir))))
    except OSError:
        return 0


def _inspect(raw: bytes, rel: str, known: KnownFiles) -> LandedFile:
    abs_path = os.fsdecode(raw)
    if len(raw) >= _PATH_MAX:
        return LandedFile(rel, abs_path, None, 0, "unknown",
                          f"file could not be read: the path is {len(raw)} bytes long, longer than the system "
                          f"allows ({_PATH_MAX} bytes)")
    try:
        st = os.lstat(raw)
        if stat.S_ISLNK(st.st_mode):
            return LandedFile(rel, abs_path, None, 0, "unknown", "symbolic link: links are not followed")
        special = _special_kind(st.st_mode)
        if special is not None:
            return LandedFile(rel, abs_path, None, 0, "unknown", f"{special}, not a regular file: never opened")
        size, mtime_ns = st.st_size, st.st_mtime_ns
        seen = known.get(abs_path)
        if seen is not None and seen[0] == size and seen[1] == mtime_ns:
            cached_problem = seen[4] if len(seen) > 4 else None
            if (size > MAX_FILE_BYTES) == (cached_problem is not None):
                return LandedFile(rel, abs_path, seen[2], size, seen[3], cached_problem, mtime_ns)
        # O_NONBLOCK: a file swapped for a pipe after lstat must not block the scan
        fd = os.open(raw, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            special = _special_kind(st.st_mode)
            if special is not None:
                return LandedFile(rel, abs_path, None, 0, "unknown", f"{special}, not a regular file: never opened")
            head = os.pread(fd, _SNIFF_BYTES, 0)
            sha, size = _hash_fd(fd)
            # sniffed through the open descriptor: the path may point elsewhere by now
            fmt = "unknown" if size > MAX_FILE_BYTES else sniff_format(head, os.fdopen(fd, "rb", closefd=False))
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link that replaced the file
            return LandedFile(rel, abs_path, None, 0, "unknown", "symbolic link: links are not followed")
        return LandedFile(rel, abs_path, None, 0, "unknown", f"file could not be read: {_os_reason(exc)}")
    if size > MAX_FILE_BYTES:
        return LandedFile(rel, abs_path, sha, size, "unknown",
                          f"file is {size} bytes, above the {MAX_FILE_BYTES}-byte cap; not read", st.st_mtime_ns)
    return LandedFile(rel, abs_path, sha, size, fmt, None, st.st_mtime_ns)


def known_files(previous_scan: pl.DataFrame) -> KnownFiles:
    """The hashed files of an earlier ``landed_frame`` (readable ones, and those above the size cap),
    for ``scan_landing(known=...)``."""
    if "mtime_ns" not in previous_scan.columns:
        return {}
    rows = previous_scan.filter(
        pl.col("mtime_ns").is_not_null() & ~pl.col("source_sha256").str.starts_with("unread:")
        & (pl.col("problem").is_null() | pl.col("source_format").eq("unknown"))
    )
    paths = abs_paths(rows)
    return {
        path: (r[0], r[1], r[2], r[3], r[4])
        for path, r in zip(paths, rows.select("bytes", "mtime_ns", "source_sha256", "source_format",
                                               "problem").iter_rows(), strict=True)
    }


def abs_paths(scan: pl.DataFrame) -> list[str]:
    """The exact paths of a ``landed_frame``'s files, for opening them (``abs_path`` is for display:
    a name that is not UTF-8 is escaped there)."""
    if "path_bytes" not in scan.columns:
        return scan["abs_path"].to_list()
    return [os.fsdecode(b) for b in scan["path_bytes"].to_list()]


def landed_frame(files: list[LandedFile], seen_at: datetime | None = None) -> pl.DataFrame:
    seen_at = seen_at or datetime.now(UTC)
    raw_paths = [os.fsencode(f.abs_path) for f in files]
    df = pl.DataFrame(
        {
            "source_path": [f.source_path for f in files],
            "abs_path": [display_path(b) for b in raw_paths],
            "path_bytes": raw_paths,
            "source_sha256": [f.source_sha256 or _placeholder_sha(f) for f in files],
            "bytes": [f.bytes for f in files],
            "source_format": [f.source_format for f in files],
            "problem": [f.problem for f in files],
            "mtime_ns": [f.mtime_ns for f in files],
        },
        schema={
            "source_path": pl.String,
            "abs_path": pl.String,
            "path_bytes": pl.Binary,
            "source_sha256": pl.String,
            "bytes": pl.Int64,
            "source_format": pl.String,
            "problem": pl.String,
            "mtime_ns": pl.Int64,
        },
    )
    return df.with_columns(
        pl.lit(seen_at).alias("first_seen_at"),
        pl.lit(seen_at).alias("last_seen_at"),
        pl.lit(True).alias("is_present"),
    )


def _placeholder_sha(f: LandedFile) -> str:
    # Unreadable files still need a stable key: hash of the path marks them as unread.
    return "unread:" + hashlib.sha256(f.source_path.encode()).hexdigest()[:32]


def landed_table(df: pl.DataFrame) -> pl.DataFrame:
    return conform(df, "landed_files")


class NotARegularFile(OSError):
    pass


def read_bytes(abs_path: str) -> bytes:
    """The bytes of a landed file, never blocking on what replaced it since discovery (a pipe, a
    device) and never following a link."""
    fd = os.open(abs_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = _special_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotARegularFile(errno.EINVAL, f"{kind}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


__all__ = [
    "MAX_FILE_BYTES", "KnownFiles", "LandedFile", "NotARegularFile", "abs_paths", "count_files", "display_path", "io",
    "known_files", "landed_frame", "read_bytes", "walk_landing",
    "scan_landing", "sniff_format",
]
