import hashlib
import os
import zipfile

from ingest.discovery import MAX_FILE_BYTES, scan_landing, sniff_format


def test_format_comes_from_bytes_not_extension(tmp_path):
    (tmp_path / "a.pdf").write_text("一、总体情况\n本机关认真贯彻……", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"%PDF-1.7\n%binary")
    (tmp_path / "c.doc").write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    (tmp_path / "d.txt").write_text("| 项目 | 数量 |\n|---|---|\n| 规章 | 0 |\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "e.bin", "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with zipfile.ZipFile(tmp_path / "f.docx", "w") as zf:
        zf.writestr("other.txt", "x")
    found = {f.source_path: f for f in scan_landing(tmp_path)}
    assert {p: f.source_format for p, f in found.items()} == {
        "a.pdf": "txt",
        "b.txt": "pdf",
        "c.doc": "html",
        "d.txt": "md",
        "e.bin": "docx",
        "f.docx": "unknown",
    }


def test_tab_export_with_markdown_headings_is_text():
    body = "# 标题\n## 一、总体情况\n规章\t0\t0\t0\n".encode()
    assert sniff_format(body) == "txt"


def test_paths_are_relative_posix_with_sha_and_size(tmp_path):
    sub = tmp_path / "2021" / "县级"
    sub.mkdir(parents=True)
    data = "报告".encode()
    (sub / "r.txt").write_bytes(data)
    (f,) = scan_landing(tmp_path)
    assert f.source_path == "2021/县级/r.txt"
    assert f.bytes == len(data)
    assert f.source_sha256 == hashlib.sha256(data).hexdigest()
    assert f.problem is None


def test_links_are_listed_not_followed(tmp_path):
    (tmp_path / "real.txt").write_text("x")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    found = {f.source_path: f for f in scan_landing(tmp_path)}
    assert found["link.txt"].problem.startswith("symbolic link")
    assert found["real.txt"].problem is None


def test_oversized_files_are_recorded_not_read(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    (f,) = scan_landing(tmp_path)
    assert "cap" in f.problem
    assert f.bytes == MAX_FILE_BYTES + 1
