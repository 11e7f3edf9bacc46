"""Warehouse maintenance behind ``ogi forget`` (plain DuckDB, no Dagster).

A landing folder's reports are identified by content (sha256), the warehouse's own key: a file is
stored by its bytes, whatever its path was relative to the landing folder of the run that read it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.discovery import landed_frame, scan_landing
from ingest.warehouse import connect, rebuild_source_files


def landing_contents(landing: Path) -> list[str]:
    """The content key of every file under ``landing``, as discovery records it (links and unreadable
    files get the same placeholder key there)."""
    return sorted(set(landed_frame(scan_landing(landing))["source_sha256"].to_list()))


def _report_id(sha_column: str) -> str:
    # ingest.pipeline.report_id_for, in SQL (as ingest.warehouse.store_parsed deletes by it)
    return f"'rpt_' || substr({sha_column}, 1, 20)"


def forget_contents(warehouse: Path, shas: list[str], *, dry_run: bool = False) -> dict[str, int]:
    """Delete every raw row of these contents (files, parses, reports, facts, rule results) in one
    transaction, and the stage's last scan of them. The marts keep them until the next build."""
    frame = pl.DataFrame({"source_sha256": shas}, schema={"source_sha256": pl.String})
    with connect(warehouse) as con:
        con.register("_forget", frame.to_arrow())
        files, reports = con.execute(
            f"""select (select count(*) from raw.landed_files where source_sha256 in (select source_sha256 from _forget)),
                       (select count(*) from raw.reports where report_id in
                           (select {_report_id('source_sha256')} from _forget))"""
        ).fetchone()
        if dry_run or not files:
            con.unregister("_forget")
            return {"files": files, "reports": reports}
        columns = con.execute(
            """select table_name, list(column_name) from information_schema.columns
               where table_schema = 'raw' group by 1 order by 1"""
        ).fetchall()
        con.execute("begin transaction")
        try:
            for table, cols in columns:
                if "source_sha256" in cols:
                    con.execute(f"delete from raw.{table} where source_sha256 in (select source_sha256 from _forget)")
                elif "report_id" in cols:
                    con.execute(f"delete from raw.{table} where report_id in "
                                f"(select {_report_id('source_sha256')} from _forget)")
            # the next build must not be skipped as "nothing changed"
            con.execute("delete from raw.refresh_state")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        rebuild_source_files(con)
        con.unregister("_forget")
    scan_file = warehouse.with_name(warehouse.stem + ".stage") / "landing_scan.parquet"
    if scan_file.exists():
        scan = pl.read_parquet(scan_file)
        scan.filter(~pl.col("source_sha256").is_in(shas)).write_parquet(scan_file)
    return {"files": files, "reports": reports}
