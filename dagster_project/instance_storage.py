"""The Dagster instance ``ogi run`` records its runs in: the project's ``dagster_home`` (or
``--dagster-home``), with Dagster's own SQLite event log kept on open connections.

Dagster's ``SqliteEventLogStorage`` builds a new SQLAlchemy engine, opens the database file, runs its
statement and closes it again for every event it stores, and for every ``has_table`` probe. A
quickstart run stores about 630 events (every dbt model and test is an asset or a planned asset
check) and opened some 3,300 connections for them: about 5 s of a 58 s run, and most of a no-op run
beyond Python's start. The subclass here keeps one small connection pool per database file for the
life of the process; every event is still written and committed, in order, before its step goes on,
so the UI and the run history see exactly what they saw before.

The files, tables and schema are Dagster's own: ``dagster dev`` (which uses the default storage)
reads the runs ``ogi run`` recorded, and ``ogi run`` reads the UI's, in the same ``history/``
folder. A ``dagster.yaml`` that configures its own storage (Postgres, say) is left as it is.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import create_db_conn_string
from sqlalchemy import create_engine, event
from sqlalchemy.pool import QueuePool

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# run databases whose pools stay open beside the index's: a run writes only its own, and a
# long-lived process (a sensor evaluating many runs) must not keep a file open for every run it saw
KEPT_RUN_SHARDS = 4


def _synchronous_normal(dbapi_con, _record) -> None:
    # WAL with synchronous=NORMAL: a commit does not wait for the disk; the database stays consistent
    # after a crash, and only a power loss can drop the last events (as it can drop a run in flight)
    dbapi_con.execute("PRAGMA synchronous=NORMAL")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, each database file reached through a pool of open connections."""

    def __init__(self, base_dir: str, inst_data=None):
        self._pools: OrderedDict[str, object] = OrderedDict()
        # the pools' own lock: has_table reaches them while another thread may hold _db_lock
        self._pools_lock = threading.Lock()
        self._pool_pid = os.getpid()
        self._present_tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine_for(self, shard: str):
        with self._pools_lock:
            return self._engine_for_locked(shard)

    def _engine_for_locked(self, shard: str):
        if self._pool_pid != os.getpid():
            # a forked child must not share the parent's open files: it opens its own
            self._pools = OrderedDict()
            self._pool_pid = os.getpid()
        engine = self._pools.get(shard)
        if engine is None:
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                poolclass=QueuePool,
                # one connection serves a storage call; a call made while another is open (Dagster
                # nests none today) gets its own instead of waiting for the first
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _synchronous_normal)
            self._pools[shard] = engine
            runs = [s for s in self._pools if s != INDEX_SHARD_NAME]
            while len(runs) > KEPT_RUN_SHARDS:
                self._pools.pop(runs.pop(0)).dispose()
        else:
            self._pools.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str):
        with self._db_lock:
            engine = self._engine_for(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def has_table(self, table_name: str) -> bool:
        # Dagster probes the index for its optional tables before many writes; a table once there
        # stays (only a schema migration, which restarts the process, adds one)
        if table_name in self._present_tables:
            return True
        # no lock: Dagster probes inside its own open index transaction; the pool gives a second
        # connection for it
        engine = self._engine_for(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            present = bool(engine.dialect.has_table(conn, table_name))
        if present:
            self._present_tables.add(table_name)
        return present

    def dispose(self) -> None:
        with self._pools_lock:
            for engine in self._pools.values():
                engine.dispose()
            self._pools.clear()
        super().dispose()


def pooled_event_log_overrides(dagster_home: Path) -> dict:
    """Instance overrides that put the event log of ``dagster_home`` on the pooled storage, at the
    folder Dagster's default SQLite storage uses (``history/runs``)."""
    return {
        "event_log_storage": {
            "module": __name__,
            "class": PooledSqliteEventLogStorage.__name__,
            "config": {"base_dir": str(dagster_home / "history" / "runs")},
        }
    }
