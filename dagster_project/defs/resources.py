from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ingest.warehouse import WarehouseLock, lock_path_for, serving_path_for


class WarehousePaths(dg.ConfigurableResource):
    """The landing directory a run reads and the DuckDB warehouse it writes.

    A run holds an exclusive lock on ``<warehouse>.lock`` from its first step to its end, so only one
    run writes a warehouse at a time whoever launched it (UI, schedule, sensor, ``ogi run``); a
    second run waits for the lock instead of failing on DuckDB's file lock. The lock is re-entrant in a
    process: ``ogi run`` takes it first and keeps it until its summary has closed the warehouse.
    """

    landing_dir: str
    warehouse: str
    _lock: WarehouseLock | None = PrivateAttr(default=None)

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
        return lock_path_for(self.warehouse_file)

    @property
    def stage_dir(self) -> Path:
        """Intermediate files between stages (decoded text, parsed frames), beside the warehouse."""
        path = self.warehouse_file.with_name(self.warehouse_file.stem + ".stage")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.warehouse_file.parent.mkdir(parents=True, exist_ok=True)
        lock = WarehouseLock.for_warehouse(self.warehouse_file)

        def waiting() -> None:
            if context.log:
                context.log.warning(f"another run is writing {self.warehouse}; waiting for it to finish")

        waited = lock.acquire(on_wait=waiting)
        if waited > 1 and context.log:
            context.log.info(f"lock acquired after {waited:.1f} s")
        self._lock = lock

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
