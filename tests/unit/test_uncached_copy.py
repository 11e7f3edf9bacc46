"""The serving copy's file copy (ingest.warehouse.copy_uncached): byte for byte, whatever the size, with
or without direct I/O, and a copy DuckDB opens."""

from __future__ import annotations

import os
import random
from pathlib import Path

import duckdb
import pytest

from ingest import warehouse
from ingest.warehouse import UNCACHED_COPY_CHUNK, copy_uncached

SIZES = [0, 1, 4095, 4096, 4097, UNCACHED_COPY_CHUNK - 1, UNCACHED_COPY_CHUNK, 2 * UNCACHED_COPY_CHUNK + 12345]


@pytest.mark.parametrize("size", SIZES)
def test_copy_is_byte_for_byte(tmp_path: Path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    source, target = tmp_path / "source.bin", tmp_path / "target.bin"
    source.write_bytes(data)
    target.write_bytes(b"an older, longer file that the copy must replace entirely" * 1000)
    copy_uncached(source, target)
    assert target.read_bytes() == data


def test_copy_without_direct_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform without O_DIRECT (macOS) copies through the page cache."""
    monkeypatch.delattr(os, "O_DIRECT", raising=False)
    data = random.Random(1).randbytes(UNCACHED_COPY_CHUNK + 7)
    (tmp_path / "source.bin").write_bytes(data)
    copy_uncached(tmp_path / "source.bin", tmp_path / "target.bin")
    assert (tmp_path / "target.bin").read_bytes() == data


def test_copy_where_the_file_system_refuses_direct_io(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tmpfs and some network file systems refuse O_DIRECT at open: the copy goes through the cache."""
    real_open = os.open

    def refusing_open(path, flags, *args):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(22, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(warehouse.os, "open", refusing_open)
    data = random.Random(2).randbytes(3 * 4096 + 1)
    (tmp_path / "source.bin").write_bytes(data)
    copy_uncached(tmp_path / "source.bin", tmp_path / "target.bin")
    assert (tmp_path / "target.bin").read_bytes() == data


def test_copied_warehouse_opens_in_duckdb(tmp_path: Path) -> None:
    source = tmp_path / "w.duckdb"
    con = duckdb.connect(str(source))
    con.execute("create schema marts")
    con.execute("create table marts.t as select range as i, 'row ' || range as s from range(200000)")
    con.close()
    copy_uncached(source, tmp_path / "copy.duckdb")
    con = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*), sum(i), max(s) from marts.t").fetchone() == (200000, 19999900000, "row 99999")
    finally:
        con.close()


def test_copy_where_the_device_refuses_direct_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device that accepts O_DIRECT at open but refuses the writes: the whole copy is made again through
    the cache, not left half written."""
    calls = []
    real_pwrite = os.pwrite

    def refusing_second_write(fd, data, offset):
        calls.append(offset)
        if len(calls) == 2:
            raise OSError(22, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(warehouse.os, "pwrite", refusing_second_write)
    data = random.Random(3).randbytes(3 * UNCACHED_COPY_CHUNK + 5)
    (tmp_path / "source.bin").write_bytes(data)
    copy_uncached(tmp_path / "source.bin", tmp_path / "target.bin")
    assert len(calls) == 2
    assert (tmp_path / "target.bin").read_bytes() == data
