"""Finding files in the landing directory: path, size, sha256 and the format sniffed from bytes."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingest.schemas import conform

# Files above this size are recorded and not read (national reports are far below 50 MiB).
MAX_FILE_BYTES = 50 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class LandedFile:
    source_path: str
    abs_path: str
    source_sha256: str | None
    bytes: int
    source_format: str
    problem: str | None  # why the file cannot be read at all (link, unreadable, too large)
    mtime_ns: int | None = None


# What an earlier scan learnt about a file: abs_path -> (bytes, mtime_ns, sha256, format).
KnownFiles = dict[str, tuple[int, int, str, str]]


def sniff_format(head: bytes, path: Path | None = None) -> str:
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
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    has_pipe_table = any(ln.startswith("|") and set(ln) <= set("|-: ") and "-" in ln for ln in lines)
    has_headings = sum(ln.startswith("#") for ln in lines[:200]) >= 2
    has_tab_rows = any("\t" in ln for ln in text.splitlines())
    # markdown: pipe tables, or headings around plain prose (a docx export with tab tables is text)
    if has_pipe_table or (has_headings and not has_tab_rows):
        return "md"
    return "txt"


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


def _zip_has_word_document(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def scan_landing(
    landing_dir: Path,
    known: KnownFiles | None = None,
    on_file: Callable[[], None] | None = None,
) -> list[LandedFile]:
    """Every file below ``landing_dir``: links and unreadable files are listed with a problem.

    A file whose size and modification time (ns) equal those in ``known`` is not read again: its
    hash and format are taken from there, as rsync and git do. A rewrite that keeps both the size
    and the nanosecond mtime goes unnoticed; delete the stage directory to force a full re-read.
    """
    landing_dir = Path(landing_dir)
    known = known or {}
    found: list[LandedFile] = []
    for root, dirs, files in os.walk(landing_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(landing_dir).as_posix()
            found.append(_inspect(path, rel, known))
            if on_file is not None:
                on_file()
        for name in dirs:
            if (Path(root) / name).is_symlink():
                rel = (Path(root) / name).relative_to(landing_dir).as_posix()
                found.append(LandedFile(rel, str(Path(root) / name), None, 0, "unknown",
                                        "symbolic link to a directory: links are not followed"))
    return found


def count_files(landing_dir: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(landing_dir, followlinks=False))


def _inspect(path: Path, rel: str, known: KnownFiles) -> LandedFile:
    if path.is_symlink():
        return LandedFile(rel, str(path), None, 0, "unknown", "symbolic link: links are not followed")
    try:
        stat = path.stat()
        size, mtime_ns = stat.st_size, stat.st_mtime_ns
        seen = known.get(str(path))
        if seen is not None and seen[0] == size and seen[1] == mtime_ns and size <= MAX_FILE_BYTES:
            return LandedFile(rel, str(path), seen[2], size, seen[3], None, mtime_ns)
        if size > MAX_FILE_BYTES:
            sha, size = _hash_file(path)
            return LandedFile(rel, str(path), sha, size, "unknown",
                              f"file is {size} bytes, above the {MAX_FILE_BYTES}-byte cap; not read", mtime_ns)
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        sha, size = _hash_file(path)
    except OSError as exc:
        return LandedFile(rel, str(path), None, 0, "unknown", f"file could not be read: {exc.strerror or exc}")
    return LandedFile(rel, str(path), sha, size, sniff_format(head, path), None, mtime_ns)


def known_files(previous_scan: pl.DataFrame) -> KnownFiles:
    """The readable files of an earlier ``landed_frame``, for ``scan_landing(known=...)``."""
    if "mtime_ns" not in previous_scan.columns:
        return {}
    rows = previous_scan.filter(pl.col("problem").is_null() & pl.col("mtime_ns").is_not_null()).select(
        "abs_path", "bytes", "mtime_ns", "source_sha256", "source_format"
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows.iter_rows()}


def landed_frame(files: list[LandedFile], seen_at: datetime | None = None) -> pl.DataFrame:
    seen_at = seen_at or datetime.now(UTC)
    df = pl.DataFrame(
        {
            "source_path": [f.source_path for f in files],
            "abs_path": [f.abs_path for f in files],
            "source_sha256": [f.source_sha256 or _placeholder_sha(f) for f in files],
            "bytes": [f.bytes for f in files],
            "source_format": [f.source_format for f in files],
            "problem": [f.problem for f in files],
            "mtime_ns": [f.mtime_ns for f in files],
        },
        schema={
            "source_path": pl.String,
            "abs_path": pl.String,
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


def read_bytes(abs_path: str) -> bytes:
    with open(abs_path, "rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


__all__ = [
    "MAX_FILE_BYTES", "KnownFiles", "LandedFile", "count_files", "io", "known_files", "landed_frame", "read_bytes",
    "scan_landing", "sniff_format",
]
