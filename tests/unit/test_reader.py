"""Reading landed files in worker processes gives what reading them in this process gives."""

import os

import ingest.reader as reader


def test_workers_read_like_one_process(tmp_path, monkeypatch):
    files = []
    for i in range(12):
        path = tmp_path / f"r{i}.txt"
        path.write_text(f"温县教育局2022年政府信息公开工作年度报告\n收到申请{i}件。\n", encoding="utf-8")
        files.append((str(path), "txt"))
    (tmp_path / "gbk.txt").write_bytes("政府信息公开工作年度报告".encode("gbk"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "noise.txt").write_bytes(os.urandom(4096))
    (tmp_path / "page.html").write_text("<html><body><p>政府信息公开</p></body></html>", encoding="utf-8")
    files += [(str(tmp_path / n), f) for n, f in
              (("gbk.txt", "txt"), ("empty.txt", "txt"), ("noise.txt", "unknown"), ("page.html", "html"))]
    monkeypatch.setattr(reader, "MIN_FILES_FOR_WORKERS", 0)
    ticks = []
    parallel = list(reader.read_files(files, workers=2, on_file=lambda: ticks.append(1)))
    serial = list(reader.read_files(files, workers=1))
    assert parallel == serial and len(ticks) == len(files)
    by_name = {os.path.basename(p): r for (p, _), r in zip(files, serial, strict=True)}
    assert by_name["gbk.txt"][0] == "gb18030" and "年度报告" in by_name["gbk.txt"][1]
    assert by_name["empty.txt"][2] == "the file is empty"
    assert by_name["noise.txt"][1] is None and by_name["noise.txt"][2]
    assert by_name["page.html"][2] is None
