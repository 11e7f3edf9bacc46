
from pathlib import Path

import dagster as dg

from ingest.warehouse import serving_path_for


class WarehousePaths(dg.ConfigurableResource):
    """The landing directory a run reads and the DuckDB warehouse it writes."""

    landing_dir: str
    warehouse: str

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
    def stage_dir(self) -> Path:
        """Intermediate files between stages (decoded text, parsed frames), beside the warehouse."""
        path = self.warehouse_file.with_name(self.warehouse_file.stem + ".stage")
        path.mkdir(parents=True, exist_ok=True)
        return path
