from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ingest.shards import ShardStore
from ingest.warehouse import WarehouseLock, held_by_ancestor, lock_path_for, serving_path_for


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
        if held_by_ancestor(self.warehouse_file):
            # a step process of a run whose launcher (``ogi run``) holds the lock for the whole run:
            # the run's own steps still take turns
            lock = WarehouseLock.for_steps_of_a_run(self.warehouse_file)
        else:
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


class ShardStorage(dg.ConfigurableResource):
    """Where the parse stage's Parquet shards live (ingest.shards): a folder (default: beside the
    warehouse, ``<warehouse stem>.shards``) or an object-store URL such as ``s3://bucket/prefix``
    (``OGI_SHARD_URL``). ``storage_options``: JSON for the fsspec filesystem, e.g.
    ``{"endpoint_url": "http://minio:9000"}`` (``OGI_SHARD_STORAGE_OPTIONS``); credentials come from
    the usual environment (AWS_ACCESS_KEY_ID, ...) unless given here.

    Takes no lock: the parse partitions write only their own bucket's files, and the store is read
    by the load step, which holds the warehouse lock."""

    url: str
    storage_options: str = ""

    def store(self) -> ShardStore:
        import json

        return ShardStore(self.url, json.loads(self.storage_options) if self.storage_options else None)
