import fcntl
import os
import time
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ingest.warehouse import serving_path_for


class WarehousePaths(dg.ConfigurableResource):
    """The landing directory a run reads and the DuckDB warehouse it writes.

    A run holds an exclusive lock on ``<warehouse>.lock`` from its first step to its end, so only one
    run writes a warehouse at a time whoever launched it (UI, schedule, sensor, ``ogi run``); a
    second run waits for the lock instead of failing on DuckDB's file lock.
    """

    landing_dir: str
    warehouse: str
    _lock_fd: int | None = PrivateAttr(default=None)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def warehouse_file(self) -> Path:
        return Path(self.warehouse)

    @property
    def serving_file(self) -> Path:
        return serving_path_for(self.warehouse)

    @property
    def lock_file(self) -> Path:
        return self.warehouse_file.with_name(self.warehouse_file.name + ".lock")

    @property
    def stage_dir(self) -> Path:
        """Intermediate files between stages (decoded text, parsed frames), beside the warehouse."""
        path = self.warehouse_file.with_name(self.warehouse_file.stem + ".stage")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.warehouse_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            started = time.monotonic()
            if context.log:
                context.log.warning(f"another run is writing {self.warehouse}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
            if context.log:
                context.log.info(f"lock acquired after {time.monotonic() - started:.1f} s")
        self._lock_fd = fd

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
