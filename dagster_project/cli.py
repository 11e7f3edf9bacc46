"""``ogi``: run the whole asset graph in-process, forget a landing folder's reports, generate sample
reports, score a corpus."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import time
from pathlib import Path

from dagster_project.settings import (
    DEFAULT_LANDING,
    DEFAULT_WAREHOUSE,
    PROJECT_DAGSTER_HOME,
    data_docs_dir_for,
    ensure_dbt_manifest,
    landing_problem,
    lighten_garbage_collection,
    quiet_telemetry,
)


def _instance(dagster_home: Path | None):
    """The Dagster instance a run is recorded in: ``dagster_home`` (created with the project's
    dagster.yaml when new), else a throwaway one (library callers: tests, ``ogi eval``)."""
    import dagster as dg

    if dagster_home is None:
        return dg.DagsterInstance.ephemeral()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists() and dagster_home.resolve() != PROJECT_DAGSTER_HOME.resolve():
        config.write_bytes((PROJECT_DAGSTER_HOME / "dagster.yaml").read_bytes())
    home = dagster_home.resolve()
    if _configures_storage(config):
        return dg.DagsterInstance.from_config(str(home))
    from dagster._core.instance.ref import InstanceRef

    from dagster_project.instance_storage import pooled_event_log_overrides

    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=pooled_event_log_overrides(home)))


def _configures_storage(config: Path) -> bool:
    """True when the instance's dagster.yaml names its own storage (kept as configured)."""
    import yaml

    if not config.exists():
        return False
    loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return any(k in loaded for k in ("storage", "run_storage", "event_log_storage", "schedule_storage"))


@contextlib.contextmanager
def _instance_sqlite_kept_open(instance):
    """Dagster's SQLite storages open a new connection for every call and close it (the event log of
    ``ogi run``'s own instance keeps its connections open instead: ``instance_storage``; this covers the
    run storage, and the event log of an instance configured otherwise); closing the last connection
    to a WAL database checkpoints it, and every commit syncs the log to disk. Under a loaded disk that was
    most of the time a run spends creating itself (measured: 186 planned events, 532 commits and 687
    checkpointing closes, 11-16 s). For the length of the run one idle connection per database file
    stays open here (so a close is never the last one and the checkpoint waits for the end of the run),
    and the run's own connections commit without waiting for the disk (WAL with synchronous=NORMAL:
    the database stays consistent after a crash; only a power loss can drop the last events, as it can
    drop a run that was still going). Every event is still written, in order, before its step goes on:
    the UI and the run history see what they saw before."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    root = None if instance.is_ephemeral else os.path.realpath(instance.root_directory)
    kept: dict[str, sqlite3.Connection] = {}

    def on_connect(dbapi_con, _record) -> None:
        if root is None or not isinstance(dbapi_con, sqlite3.Connection):
            return
        rows = dbapi_con.execute("PRAGMA database_list").fetchall()
        path = rows[0][2] if rows else ""
        if not path or not os.path.realpath(path).startswith(root + os.sep):
            return  # not this instance's storage
        dbapi_con.execute("PRAGMA synchronous=NORMAL")
        if path not in kept:
            kept[path] = sqlite3.connect(path, check_same_thread=False)

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)
        for con in kept.values():
            con.close()


def run_pipeline(landing: Path, warehouse: Path, *, quiet: bool = False, log_level: str = "WARNING",
                 dagster_home: Path | None = None, asset_selection: list | None = None) -> bool:
    """Materialize every asset (and its checks) through the job the UI shows; True on success.

    ``dagster_home``: the Dagster instance the run is recorded in (``ogi run`` passes the project's,
    so the UI shows its materializations); None = a throwaway instance.
    ``asset_selection``: asset keys to materialize instead of the whole graph."""
    os.environ["OGI_LANDING_DIR"] = str(landing.resolve())
    os.environ["OGI_WAREHOUSE"] = str(warehouse.resolve())
    if log_level in ("WARNING", "ERROR") and not quiet:
        # the console hides info logs: long stages print their progress lines to stderr instead
        os.environ["OGI_PROGRESS"] = "stderr"
    quiet_telemetry()
    ensure_dbt_manifest()

    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.defs.automation import parse_run_tags
    from dagster_project.settings import executor_name, shard_storage_options, shard_url_for

    instance = _instance(dagster_home)
    job = defs.resolve_job_def("ogi_refresh")
    log_path = warehouse.resolve().with_name(warehouse.stem + ".last_run.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    selected = set(asset_selection) if asset_selection is not None else None
    parse_key = dg.AssetKey(["stage", "parsed_facts"])
    tags = parse_run_tags() if selected is None or parse_key in selected else {}
    # explicit paths: the definitions may have been loaded earlier with other env values
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "resources": {
            "paths": {"config": {"landing_dir": str(landing.resolve()), "warehouse": str(warehouse.resolve())}},
            "shards": {"config": {"url": shard_url_for(warehouse.resolve()),
                                  "storage_options": shard_storage_options()}},
        },
    }
    with contextlib.ExitStack() as run_scope:
        run_scope.enter_context(_instance_sqlite_kept_open(instance))
        with open(log_path, "w", encoding="utf-8") as log, contextlib.ExitStack() as stack:
            if log_level in ("WARNING", "ERROR"):
                # dbt's progress lines go to the log file; Dagster warnings and errors still reach stderr
                stack.enter_context(contextlib.redirect_stdout(log))
            if executor_name() != "multiprocess":
                result = job.execute_in_process(instance=instance, raise_on_error=False,
                                                asset_selection=asset_selection, run_config=run_config, tags=tags)
            else:
                instance, result = run_scope.enter_context(
                    _execute_out_of_process(instance, warehouse, run_config, tags, asset_selection))
        if not quiet:
            _print_steps(instance, result.run_id)
            print(f"  (dbt output of this run: {log_path})")
        if not result.success and not quiet:
            for event in result.all_events:
                if event.is_step_failure:
                    print(f"step failed: {event.step_key}: {event.event_specific_data.error.message}",
                          file=sys.stderr)
    return result.success


@contextlib.contextmanager
def _execute_out_of_process(instance, warehouse: Path, run_config: dict, tags: dict, asset_selection):
    """The job through its own executor (OGI_EXECUTOR): steps in other processes, which rebuild the
    job from ``dagster_project.definitions.ogi_refresh_job``. The instance must be persistent (the
    steps write their events to it)."""
    import tempfile

    import dagster as dg

    from dagster_project.definitions import ogi_refresh_job
    from ingest.warehouse import LOCK_HOLDER_ENV, WarehouseLock, lock_holder_value

    with contextlib.ExitStack() as stack:
        if instance.is_ephemeral:
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix="ogi-dagster-"))
            instance = stack.enter_context(dg.DagsterInstance.local_temp(home))
        if WarehouseLock.for_warehouse(warehouse).is_held():
            # the steps are this run's: they must not wait for the lock this process holds for it
            os.environ[LOCK_HOLDER_ENV] = lock_holder_value(warehouse)
        try:
            result = stack.enter_context(dg.execute_job(
                dg.reconstructable(ogi_refresh_job), instance=instance, run_config=run_config, tags=tags,
                asset_selection=asset_selection, raise_on_error=False))
            yield instance, result
        finally:
            os.environ.pop(LOCK_HOLDER_ENV, None)


def _print_steps(instance, run_id: str) -> None:
    """One line per step with its outcome and duration (the Dagster event log has the detail)."""
    for stat in sorted(instance.get_run_step_stats(run_id), key=lambda s: s.start_time or float("inf")):
        status = stat.status.value.lower() if stat.status else "?"
        took = f"{stat.end_time - stat.start_time:6.1f} s" if stat.start_time and stat.end_time else "     -  "
        print(f"  {status:<8} {took}  {stat.step_key}")


def file_changes(warehouse: Path, since) -> dict[str, int]:
    """What this run saw for the first time: new files, changed files (a known path with new bytes)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        new, changed = con.execute(
            """select count(*) filter (where not exists (select 1 from raw.landed_files o
                        where o.source_path = l.source_path and o.first_seen_at < ?)),
                      count(*) filter (where exists (select 1 from raw.landed_files o
                        where o.source_path = l.source_path and o.first_seen_at < ?))
               from raw.landed_files l where l.first_seen_at >= ?""",
            [since, since, since],
        ).fetchone()
        gone = con.execute("select count(*) from raw.landed_files where not is_present").fetchone()[0]
        quarantined = con.execute(
            "select source_path, reason from raw.source_files where ingest_status = 'quarantined' "
            "and first_seen_at >= ? order by source_path",
            [since],
        ).fetchall()
        superseded = _superseded_since(con, since)
    finally:
        con.close()
    return {"new": new, "changed": changed, "quarantined": quarantined, "superseded": superseded,
            "no_longer_in_landing": gone}


def _superseded_since(con, since) -> list[tuple[str, str]]:
    """(old path, new path) for reports that a file first seen in this run superseded."""
    have = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = 'dim_report'"
    ).fetchall()}
    if "superseded_by_report_id" not in have:
        return []
    return con.execute(
        """select old.source_path, new.source_path from marts.dim_report old
           join marts.dim_report new on new.report_id = old.superseded_by_report_id
           where new.first_seen_at >= ? order by old.source_path""",
        [since],
    ).fetchall()


LISTED = 10  # files listed by name in the run summary, per kind


def print_summary(landing: Path, warehouse: Path, seconds: float, started_at=None, skipped_marts: bool = False,
                  dagster_home: Path = PROJECT_DAGSTER_HOME) -> None:
    import duckdb

    from ingest.warehouse import serving_path_for

    serving = serving_path_for(warehouse)
    changes = file_changes(warehouse, started_at) if started_at is not None else None
    con = duckdb.connect(str(serving if serving.exists() else warehouse), read_only=True)
    try:
        files = con.execute(
            "select ingest_status, count(*) from marts.dim_source_file group by 1 order by 1"
        ).fetchall()
        reports = con.execute("select count(*) from marts.dim_report").fetchone()[0]
        current = con.execute("select count(*) from marts.dim_report where is_current").fetchone()[0]
        marts = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in marts}
        failing = con.execute(
            """select severity, count(distinct report_id), count(*) from marts.fct_rule_results
               where status = 'fail' group by 1 order by 1"""
        ).fetchall()
        rule_status = dict(con.execute(
            "select status, count(*) from marts.fct_rule_results group by 1").fetchall())
        # a report none of whose rules could be assessed (no 表三/表四, pre-2019 narrative, text cells)
        unassessed = con.execute(
            """select count(*) from (select report_id from marts.fct_rule_results group by 1
               having bool_and(status = 'not_assessable'))"""
        ).fetchone()[0]
        assessed_reports = con.execute(
            "select count(distinct report_id) from marts.fct_rule_results").fetchone()[0]
    finally:
        con.close()
    total_files = sum(n for _, n in files)
    print()
    print(f"ogi run finished in {seconds:.1f} s")
    print(f"  landing directory : {landing}")
    print(f"  files seen        : {total_files} (" + ", ".join(f"{s} {n}" for s, n in files) + ")")
    if changes is not None:
        print("  this run          : " + ", ".join(
            f"{k.replace('_', ' ')} {len(v) if isinstance(v, list) else v}" for k, v in changes.items()))
        for path, reason in changes["quarantined"][:LISTED]:
            print(f"    quarantined     : {path}: {reason}")
        for old, new in changes["superseded"][:LISTED]:
            print(f"    superseded      : {old} -> {new} (corrected republication, same agency and year)")
        hidden = max(0, len(changes["quarantined"]) - LISTED) + max(0, len(changes["superseded"]) - LISTED)
        if hidden:
            print(f"    … and {hidden} more (marts.dim_source_file: ingest_status, reason, superseded_by_report_id)")
    if skipped_marts:
        print("  marts             : nothing changed since the last refresh; marts, rules and serving copy kept")
    print(f"  reports           : {reports} ({current} current, {reports - current} superseded)")
    print("  rows per mart     : " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    print("  rules             : " + ", ".join(
        f"{rule_status.get(s, 0)} {s}" for s in ("pass", "fail", "not_assessable"))
        + f" (report x rule); {unassessed} of {assessed_reports} current reports not assessable at all"
        + " (no 表三/表四 with numbers, or no usable cell in them)")
    if failing:
        print("  rules failing     : " + ", ".join(f"{sev}: {r} report(s), {n} rule(s)" for sev, r, n in failing))
    else:
        print("  rules failing     : none")
    docs = data_docs_dir_for(warehouse) / "index.html"
    if docs.exists():
        print(f"  Data Docs (rules) : {docs}")
    print(f"  warehouse         : {warehouse}")
    print(f"  serving copy (BI) : {serving}")
    print(f"  UI                : {ui_command(landing, warehouse, dagster_home)}  (then open http://127.0.0.1:3000)")


def ui_command(landing: Path, warehouse: Path, dagster_home: Path = PROJECT_DAGSTER_HOME) -> str:
    """The ``dagster dev`` command that shows this landing folder, warehouse and run history."""
    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(p.resolve())

    home = rel(dagster_home)
    return (f"OGI_LANDING_DIR={rel(landing)} OGI_WAREHOUSE={rel(warehouse)} "
            # Dagster wants an absolute DAGSTER_HOME
            f"DAGSTER_HOME={home if home.startswith('/') else '$PWD/' + home} .venv/bin/dagster dev")


def _cmd_run(args: argparse.Namespace) -> int:
    landing = Path(args.landing or os.environ.get("OGI_LANDING_DIR") or DEFAULT_LANDING)
    warehouse = Path(args.warehouse or os.environ.get("OGI_WAREHOUSE") or DEFAULT_WAREHOUSE)
    from datetime import datetime, timezone

    problem = landing_problem(landing.resolve())
    if problem:
        # refused before anything is written: a typo must not mark every known file absent
        print(f"ogi run: {problem}", file=sys.stderr)
        return 2
    from ingest.warehouse import serving_path_for, warehouse_lock

    home = Path(args.dagster_home) if args.dagster_home else Path(os.environ.get("DAGSTER_HOME") or PROJECT_DAGSTER_HOME)
    print(f"ogi run: recording the run in the Dagster instance {home}", file=sys.stderr)
    # one writer: the lock is held until the summary below has closed its connections to the warehouse
    with warehouse_lock(warehouse, on_wait=lambda: print(
            f"ogi run: another run is writing {warehouse}; waiting for it to finish", file=sys.stderr, flush=True)):
        started_at = datetime.now(timezone.utc)
        started = time.perf_counter()
        ok = run_pipeline(landing, warehouse, log_level=args.log_level, dagster_home=home)
        if not ok:
            print("ogi run: the pipeline failed (see the step errors above)", file=sys.stderr)
            return 1
        serving = serving_path_for(warehouse)
        kept = serving.exists() and serving.stat().st_mtime < started_at.timestamp()
        print_summary(landing.resolve(), warehouse.resolve(), time.perf_counter() - started, started_at,
                      skipped_marts=kept, dagster_home=home)
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    """Remove every report whose bytes are under ``--landing`` from the warehouse, then rebuild the
    marts and the serving copy from what is left (no landing folder is read for that)."""
    from dagster_project.maintenance import forget_contents, landing_contents
    from ingest.warehouse import warehouse_lock

    landing = Path(args.landing).resolve()
    warehouse = Path(args.warehouse).resolve()
    problem = landing_problem(landing)
    if problem:
        print(f"ogi forget: {problem}", file=sys.stderr)
        return 2
    if not warehouse.exists():
        print(f"ogi forget: warehouse {warehouse} does not exist; nothing was changed", file=sys.stderr)
        return 2
    shas = landing_contents(landing)
    home = Path(args.dagster_home) if args.dagster_home else Path(os.environ.get("DAGSTER_HOME") or PROJECT_DAGSTER_HOME)
    # the same one-writer lock as a run: the deletes and the rebuild see no refresh in between
    with warehouse_lock(warehouse, on_wait=lambda: print(
            f"ogi forget: another run is writing {warehouse}; waiting for it to finish", file=sys.stderr, flush=True)):
        removed = forget_contents(warehouse, shas, dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        print(f"ogi forget: {verb} {removed['files']} file version(s) and {removed['reports']} report(s) "
              f"whose bytes are under {landing} from {warehouse}")
        if args.dry_run or not removed["files"]:
            return 0
        from dagster_project.definitions import defs

        ingest = {"raw/landed_files", "stage/parsed_facts", "raw/source_files",
                  "raw/reports", "raw/table_cells", "raw/narrative_facts", "raw/parse_warnings", "raw/ref_row_keys"}
        keys = [k for k in defs.resolve_all_asset_keys() if k.to_user_string() not in ingest]
        # the landing path is not read by the selected assets; the warehouse's own folder stands in
        ok = run_pipeline(warehouse.parent, warehouse, dagster_home=home, asset_selection=keys)
    if not ok:
        print("ogi forget: rebuilding the marts failed (see the step errors above)", file=sys.stderr)
        return 1
    print(f"ogi forget: marts and serving copy rebuilt without them (run recorded in {home})")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    if args.formats:
        if args.inject_error_rate:
            print("ogi synth: --inject-error-rate works with the text layouts only (drop --formats)", file=sys.stderr)
            return 2
        from ingest.synth.formats import generate_formats_corpus

        paths = generate_formats_corpus(Path(args.out), args.n, args.seed, formats=tuple(args.formats.split(",")))
    else:
        from ingest.synth import generate_corpus

        paths = generate_corpus(Path(args.out), args.n, args.seed, republish_rate=args.republish_rate,
                                inject_error_rate=args.inject_error_rate)
    print(f"wrote {len(paths)} reports and truth.jsonl to {args.out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from ingest.synth.evaluate import evaluate, format_report

    corpus = Path(args.corpus)
    warehouse = Path(args.warehouse)
    if not args.skip_run:
        if not run_pipeline(corpus, warehouse):
            print("ogi eval: the pipeline failed", file=sys.stderr)
            return 1
    print(format_report(evaluate(corpus, warehouse)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ogi",
        description="ogi-warehouse: government information disclosure annual reports -> checked DuckDB facts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize the whole asset graph for every file in the landing directory")
    run.add_argument("--landing", help="landing directory (default $OGI_LANDING_DIR, else data/landing)")
    run.add_argument("--warehouse", help="DuckDB warehouse file (default $OGI_WAREHOUSE, else data/warehouse.duckdb)")
    run.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                     help="Dagster console log level (default WARNING; the step summary is always printed)")
    run.add_argument("--dagster-home", help="Dagster instance the run is recorded in, shown by the UI "
                                            "(default $DAGSTER_HOME, else the project's dagster_home/)")
    run.set_defaults(func=_cmd_run)
    forget = sub.add_parser("forget", help="remove the reports of a landing folder from a warehouse and rebuild "
                                           "its marts and serving copy")
    forget.add_argument("--landing", required=True, help="folder whose files' contents are removed")
    forget.add_argument("--warehouse", default=os.environ.get("OGI_WAREHOUSE") or DEFAULT_WAREHOUSE,
                        help="DuckDB warehouse file (default $OGI_WAREHOUSE, else data/warehouse.duckdb)")
    forget.add_argument("--dry-run", action="store_true", help="count what would be removed, change nothing")
    forget.add_argument("--dagster-home", help="Dagster instance the rebuild is recorded in (as for run)")
    forget.set_defaults(func=_cmd_forget)
    synth = sub.add_parser("synth", help="generate synthetic reports with known truth")
    synth.add_argument("--out", required=True)
    synth.add_argument("--n", type=int, default=100)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--formats", help="comma-separated file formats, e.g. txt,md,html,docx,pdf "
                                         "(default: text layouts only)")
    synth.add_argument("--republish-rate", type=float, default=0.0,
                       help="share of reports that also get a corrected republication (text layouts only)")
    synth.add_argument("--inject-error-rate", type=float, default=0.0,
                       help="share of table reports whose own arithmetic is made wrong (one cell off), so the "
                            "rules have findings; the truth records the injected error (text layouts only)")
    synth.set_defaults(func=_cmd_synth)
    ev = sub.add_parser("eval", help="run a generated corpus and print cell precision/recall against its truth")
    ev.add_argument("--corpus", required=True)
    ev.add_argument("--warehouse", default="data/eval/warehouse.duckdb")
    ev.add_argument("--skip-run", action="store_true", help="score an existing warehouse without running")
    ev.set_defaults(func=_cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``argv`` None: the program's own command line (the ``ogi`` command), after which the process
    ends."""
    lighten_garbage_collection()
    args = build_parser().parse_args(argv)
    code = args.func(args)
    if argv is None:
        # the interpreter's shutdown collects every object still alive: with Dagster, dbt and Great
        # Expectations loaded that took 1.3-1.4 s after the summary was printed. Frozen objects are
        # not looked at; the memory goes back with the process.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
