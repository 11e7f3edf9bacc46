"""Progress lines for long stages, and discovery that does not re-read unchanged files."""

import os

from ingest.discovery import known_files, landed_frame, scan_landing
from ingest.progress import Progress


def test_progress_lines_give_rate_and_time_left():
    lines: list[str] = []
    progress = Progress("decoding", 1000, lines.append, every_seconds=0.0)
    progress.started -= 10  # as if ten seconds had passed
    progress.advance(250)
    assert lines and lines[-1].startswith("decoding: 250/1,000 files, 25 files/s")
    assert "about 30 s left" in lines[-1]
    progress.advance(750)
    progress.finish()
    assert lines[-1].startswith("decoding: 1,000/1,000 files") and "done in 10 s" in lines[-1]


def test_progress_is_quiet_for_short_stages():
    lines: list[str] = []
    progress = Progress("parsing", 3, lines.append, unit="reports", every_seconds=5.0)
    progress.advance(3)
    progress.finish()
    assert lines == []


def test_unchanged_files_are_not_read_again(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.txt").write_text("甲乙丙", encoding="utf-8")
    (landing / "b.txt").write_text("丁戊己", encoding="utf-8")
    first = landed_frame(scan_landing(landing))
    known = known_files(first)
    assert set(known) == {str(landing / "a.txt"), str(landing / "b.txt")}

    # a stale cache entry with the right size and mtime is trusted (that is the point) ...
    stat = (landing / "a.txt").stat()
    known[str(landing / "a.txt")] = (stat.st_size, stat.st_mtime_ns, "f" * 64, "txt")
    # ... and a file whose mtime changed is read again even with the same size
    (landing / "b.txt").write_text("庚辛壬", encoding="utf-8")
    os.utime(landing / "b.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = {f.source_path: f for f in scan_landing(landing, known=known)}
    assert again["a.txt"].source_sha256 == "f" * 64
    b_before = first.filter(first["source_path"] == "b.txt")["source_sha256"][0]
    assert again["b.txt"].source_sha256 != b_before


def test_files_with_problems_are_not_cached(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "real.txt").write_text("报告", encoding="utf-8")
    (landing / "link.txt").symlink_to(landing / "real.txt")
    assert set(known_files(landed_frame(scan_landing(landing)))) == {str(landing / "real.txt")}


def test_inspection_in_worker_processes_gives_the_serial_scan(tmp_path, monkeypatch):
    """Many new files are hashed and sniffed by worker processes: the same rows, in the same order, with
    the problems (a link, a pipe, an empty file) and an earlier scan's known files as the serial scan."""
    from ingest import discovery

    landing = tmp_path / "landing"
    (landing / "sub").mkdir(parents=True)
    for i in range(23):
        (landing / ("sub" if i % 3 else "") / f"r{i:02d}.txt").write_text(f"政府信息公开工作年度报告 {i}\n", encoding="utf-8")
    (landing / "page.html").write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    (landing / "empty.txt").write_bytes(b"")
    (landing / "link.txt").symlink_to(landing / "r00.txt")
    os.mkfifo(landing / "pipe")
    first = landed_frame(scan_landing(landing))
    known = known_files(first.filter(~first["source_path"].str.starts_with("sub/r1")))  # some known, most not
    serial = scan_landing(landing, known=known)
    monkeypatch.setattr(discovery, "_PARALLEL_INSPECT_FROM", 1)
    monkeypatch.setattr(discovery, "_INSPECT_CHUNK", 4)
    assert discovery._inspect_workers(20) == min(os.cpu_count() or 1, 5)
    seen: list[int] = []
    parallel = scan_landing(landing, known=known, on_file=lambda: seen.append(1))
    assert parallel == serial
    assert len(seen) == len(serial) == 27
    assert {f.source_format for f in parallel} >= {"txt", "html", "unknown"}
    assert any(f.problem and "symbolic link" in f.problem for f in parallel)
