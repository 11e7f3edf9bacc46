"""The dbt project as Dagster assets: core marts first, then the rule marts after validation."""


import functools
import importlib.metadata
import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from dagster_project.defs.resources import WarehousePaths
from dagster_project.settings import DBT_PROJECT_DIR, code_version, ensure_dbt_manifest, seed_partial_parse
from ingest.warehouse import connect, marts_inputs_fingerprint, published_fingerprint


class _SkippedMartsChecks(logging.Filter):
    """When the marts are kept (nothing changed), dbt_core_marts yields neither models nor test
    results by design, and Dagster would warn once per dbt test and downstream step."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step 'dbt_core_marts'" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_SkippedMartsChecks())

_BEHAVIOR_FLAGS_MODULE = "dbt_common.behavior_flags"


def _behavior_flag_source() -> str:
    """dbt_common's ``BehaviorFlagRendered._default_source`` (the name of the first module on the
    call stack outside dbt_common.behavior_flags, for a behaviour-change message) read from the
    frames' globals instead of ``inspect.stack()``. dbt calls it for every behaviour flag each time
    it creates an adapter (three times a run), and ``inspect.stack()`` reads the source file of
    every frame and ``inspect.getmodule`` looks at every module in ``sys.modules``: 0.1-0.3 s an
    adapter, and looking at every module also executes the modules that expectations.gx_lean leaves
    unloaded (scipy.stats, 1.1 s). The same name for code in a module file; code run from a string
    in a module's namespace (no file for ``inspect.getmodule``, which looks further up) is named
    after that module. The name only appears in dbt's behaviour-change message."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != _BEHAVIOR_FLAGS_MODULE and name in sys.modules:
            return name
        frame = frame.f_back
    return "Unknown"


def _use_cheap_behavior_flag_source() -> None:
    from dbt_common import behavior_flags

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_behavior_flag_source)


_use_cheap_behavior_flag_source()

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
ensure_dbt_manifest()


class OgiDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without its per-run overheads that this project does not use:

    - ``dbt --version`` in a subprocess (2.5-5 s on this machine, and dbt asks PyPI for the latest
      release meanwhile): the dbt that runs is the one installed beside this Python
      (settings.dbt_executable), so its version is the installed package's;
    - a dbt adapter loaded in the run process (dbt imported and its macros parsed, 1.5-2 s a build):
      it serves only dagster-dbt's ``fetch_row_counts`` / ``fetch_column_metadata``, and the marts'
      metadata is read from DuckDB after the build instead (``_relation_metadata``).
    """

    @functools.cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - see the class docstring
        return None

    def build_in_process(self, args: Sequence[str], *, context: dg.AssetExecutionContext,
                         target_path: Path) -> "InProcessDbtBuild":
        """``dbt.cli(args, context=context)``, run by dbt's own programmatic entry point (dbtRunner) in
        this process instead of a ``dbt`` subprocess: the same arguments, the same selection of the
        assets and checks the step materializes, the same Dagster events from dagster-dbt's own
        event translation. A subprocess costs every build 4-8 s of CPU before its first model (the
        interpreter, dbt's imports, reading the manifest), twice a refresh; here dbt is already
        imported (dagster-dbt imports it with the definitions) and the parsed project is reused."""
        from dagster_dbt.asset_utils import (
            extract_runtime_selection_from_args,
            get_updated_cli_invocation_params_for_context,
        )

        cleaned, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context, manifest={}, dagster_dbt_translator=DagsterDbtTranslator(),
            runtime_selects=selects, runtime_excludes=excludes,
        )
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        flags = _dbt_flags(project_dir, Path(self.profiles_dir or project_dir), target_path, self.profile, self.target)
        return InProcessDbtBuild(
            args=[*self.global_config_flags, *cleaned, *params.selection_args, *flags],
            parse_args=_parse_args(self.global_config_flags, flags),
            manifest=params.manifest, translator=params.dagster_dbt_translator, context=context,
            target_path=target_path, project=params.dbt_project,
        )


def _dbt_flags(project_dir: Path, profiles_dir: Path, target_path: Path, profile: str | None,
               target: str | None) -> list[str]:
    flags = ["--project-dir", str(project_dir.resolve()), "--profiles-dir", str(profiles_dir.resolve()),
             "--target-path", str(target_path), "--log-path", str(target_path)]
    if profile:
        flags += ["--profile", profile]
    if target:
        flags += ["--target", target]
    return flags


def _parse_args(global_flags: Sequence[str], flags: list[str]) -> list[str]:
    return [*global_flags, "parse", "--no-write-json", "--quiet", *flags]


def parse_project_in_background(paths: WarehousePaths) -> None:
    """Parse the dbt project for this warehouse in a thread while the parse stage runs (in-process
    executor only: the build then finds it parsed). A new warehouse has no partial-parse state of its
    own (dbt's state depends on the profile, which holds the warehouse path): its first parse takes
    ~4.5 s of CPU, which the parse stage, waiting on its reader processes and OCR, leaves idle.
    A failure is left for the build to report (it parses again)."""
    os.environ["OGI_WAREHOUSE"] = str(paths.warehouse_file)
    project = Path(dbt_project.project_dir)
    flags = _dbt_flags(project, Path(dbt_project.profiles_dir or project), dbt_target_dir(paths), None, None)

    def parse() -> None:
        try:
            _parsed_project(_parse_args([], flags))
        except Exception:  # noqa: BLE001
            pass

    threading.Thread(target=parse, name="parse-dbt-project", daemon=True).start()


# dbt's events that dagster-dbt turns into Dagster events (a model's or a test's result)
_RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"})
_parsed_projects: dict[tuple, Any] = {}
_parse_lock = threading.Lock()


def _parsed_project(parse_args: list[str]):
    """dbt's parsed project (its Manifest object) for these flags, parsed once a process: the core and
    the rule builds of a refresh share it (dbt's partial parse still reads its saved state, ~0.5-1.5 s)."""
    from dbt.cli.main import dbtRunner

    key = (tuple(parse_args), os.environ.get("OGI_WAREHOUSE"), _manifest_mtime())
    with _parse_lock:
        if key not in _parsed_projects:
            result = dbtRunner().invoke(parse_args)
            if not result.success:
                raise dg.Failure(f"dbt could not parse the project: {result.exception}")
            _parsed_projects.clear()
            _parsed_projects[key] = result.result
        return _parsed_projects[key]


def _manifest_mtime() -> float:
    try:
        return dbt_project.manifest_path.stat().st_mtime
    except OSError:
        return 0.0


def _close_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB database open in the process after a build (its connection manager
    holds one environment for the adapter's life); the step reads the marts' metadata, the
    validation writes the warehouse next, and DuckDB refuses a second open with another
    configuration while one is open in the process. This is what the adapter itself does before it
    opens an environment with new credentials."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager.close_all_connections()


class InProcessDbtBuild:
    """One dbt invocation in a thread of this process; ``stream()`` yields its Dagster events while
    it runs (a test's result reaches the UI as dbt finishes it), then raises if dbt failed."""

    def __init__(self, *, args, parse_args, manifest, translator, context, target_path, project):
        self.args, self.parse_args = args, parse_args
        self.manifest, self.translator, self.context = manifest, translator, context
        self.target_path, self.project = target_path, project
        self.success: bool | None = None
        self.errors: list[str] = []

    def _run(self, events: queue.SimpleQueue) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        def on_event(msg) -> None:
            name = msg.info.name
            if name in _RESULT_EVENTS:
                events.put(msg_to_dict(msg))
            elif msg.info.level == "error" and msg.info.msg:
                self.errors.append(msg.info.msg)

        outcome: Any = None
        try:
            parsed = _parsed_project(self.parse_args)
            result = dbtRunner(manifest=parsed, callbacks=[on_event]).invoke(self.args)
            self.success = bool(result.success)
            if result.exception is not None:
                self.errors.append(f"{type(result.exception).__name__}: {result.exception}")
        except BaseException as exc:  # noqa: BLE001 - re-raised in the step's thread by stream()
            self.success = False
            outcome = exc
        finally:
            try:
                _close_dbt_duckdb()
            finally:
                events.put(_Finished(outcome))

    def stream(self) -> Iterator[Any]:
        from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

        events: queue.SimpleQueue = queue.SimpleQueue()
        worker = threading.Thread(target=self._run, args=(events,), name="dbt-build", daemon=True)
        worker.start()
        while True:
            item = events.get()
            if isinstance(item, _Finished):
                break
            yield from DbtCoreCliEventMessage(raw_event=item, event_history_metadata={}).to_default_asset_events(
                manifest=self.manifest, dagster_dbt_translator=self.translator, context=self.context,
                target_path=self.target_path, project=self.project)
        worker.join()
        if item.exception is not None:
            raise item.exception
        if not self.success:
            detail = "\n".join(self.errors[-20:]) or "(no error message; see the dbt log)"
            raise dg.Failure(description=f"dbt build failed: {' '.join(self.args[:1])}\n{detail}")


class _Finished:
    def __init__(self, exception: BaseException | None):
        self.exception = exception


class OgiDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by their schema (``marts/fct_applications``); sources keep ``raw/<table>``,
    which is exactly the key of the Python asset that writes them, so lineage needs no wiring."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return "rules" if "rules" in dbt_resource_props.get("tags", []) else dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=test_description(manifest["nodes"][unique_id], manifest))


def _ref_name(to: str) -> str:
    return to.split("'")[1] if "'" in to else to


def test_description(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """The test's YAML description, else what the generic test asserts, in a sentence."""
    if (test.get("description") or "").strip():
        return " ".join(test["description"].split())
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name")
    model = (test.get("attached_node") or "").rsplit(".", 1)[-1] or "the model"
    kind = meta.get("name")
    if kind == "not_null":
        return f"{model}.{column} is never NULL."
    if kind == "unique":
        return f"{model}.{column} is unique: no two rows share a value."
    if kind == "accepted_values":
        values = ", ".join(str(v) for v in kwargs.get("values", []))
        return f"{model}.{column} is one of: {values} (NULL allowed)."
    if kind == "relationships":
        return f"Every {model}.{column} is a {kwargs.get('field')} of {_ref_name(str(kwargs.get('to', '')))} (NULL allowed)."
    if kind == "unique_combination_of_columns":
        return f"No two rows of {model} share ({', '.join(kwargs.get('combination_of_columns', []))}): its grain."
    if kind == "non_negative_integer":
        return f"{model}.{column} is a non-negative whole number wherever it is not NULL."
    if kind == "expression_is_true":
        return f"For every row of {model}: {' '.join(str(kwargs.get('expression', '')).split())}."
    return f"dbt test {test['name']}: no row of {model} fails it."


def marts_are_current(paths: WarehousePaths) -> bool:
    """True when the last published refresh was built from exactly the present raw tables with the
    present code, and its serving copy is still there: rebuilding would change nothing."""
    if not paths.serving_file.exists():
        return False
    with connect(paths.warehouse_file) as con:
        return published_fingerprint(con) == marts_inputs_fingerprint(con, code_version())


PREVIEW_ROWS = 10


@functools.cache
def _manifest_nodes() -> dict[str, Mapping[str, Any]]:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"]


def _relation_metadata(con, node: Mapping[str, Any]) -> dict[str, Any]:
    """Row count, column types (with the YAML descriptions) and a preview, read from DuckDB after the
    build: the dbt adapter cannot open the file while the dbt process holds its write lock."""
    schema, name = node["schema"], node.get("alias") or node["name"]
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not columns:
        return {}
    described = {k: (v.get("description") or None) for k, v in (node.get("columns") or {}).items()}
    meta: dict[str, Any] = {
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c, t, description=described.get(c)) for c, t in columns]
        ),
        "dagster/relation_identifier": f"{schema}.{name}",
    }
    if node.get("config", {}).get("materialized") in ("table", "incremental"):
        # views are not counted: at national scale a count re-reads the raw tables
        meta["dagster/row_count"] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        preview = con.execute(f'select * from "{schema}"."{name}" limit {PREVIEW_ROWS}').fetchall()
        meta["preview"] = dg.MetadataValue.md(_md_table([c for c, _ in columns], preview))
    return meta


def _md_table(cols: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "_(no rows)_"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "\\|")[:60] for v in row) + " |")
    return "\n".join(lines)


# Schema of the incremental marts' state (dbt/macros/incremental_by_report.sql); the serving copy
# keeps `marts` only. build_info: the code version each phase's marts were last built with.
STATE_SCHEMA = "mart_state"


def _incremental_marts(tag: str) -> list[str]:
    """The marts of a build phase (dbt tag) that dbt builds incrementally by report."""
    return sorted(
        n["name"] for n in _manifest_nodes().values()
        if n["resource_type"] == "model" and n.get("config", {}).get("materialized") == "incremental"
        and tag in n.get("tags", [])
    )


def full_refresh_reason(paths: WarehousePaths, tag: str) -> str | None:
    """Why the incremental marts of a phase must be rebuilt whole (``--full-refresh``), or None: the
    code that builds them changed since they were built (dbt project, rule suites, parser version:
    settings.code_version), or a mart or its state is missing."""
    marts = _incremental_marts(tag)
    if not marts or not paths.warehouse_file.exists():
        return "first build" if marts else None
    with connect(paths.warehouse_file, read_only=True) as con:
        tables = {(s, t) for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', ?)", [STATE_SCHEMA]).fetchall()}
        missing = [m for m in marts if ("marts", m) not in tables or (STATE_SCHEMA, m) not in tables]
        if missing:
            return f"no incremental state for {', '.join(missing)}"
        if (STATE_SCHEMA, "build_info") not in tables:
            return "no record of the code version the marts were built with"
        row = con.execute(f"select code_version from {STATE_SCHEMA}.build_info where phase = ?", [tag]).fetchone()
    if row is None:
        return "no record of the code version the marts were built with"
    if row[0] != code_version():
        return f"code version changed ({row[0]} -> {code_version()})"
    return None


def _record_build(paths: WarehousePaths, tag: str) -> None:
    with connect(paths.warehouse_file) as con:
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create table if not exists {STATE_SCHEMA}.build_info "
                    "(phase varchar, code_version varchar, built_at timestamptz)")
        con.execute(f"delete from {STATE_SCHEMA}.build_info where phase = ?", [tag])
        con.execute(f"insert into {STATE_SCHEMA}.build_info values (?, ?, ?)", [tag, code_version(), datetime.now(UTC)])


def dbt_target_dir(paths: WarehousePaths):
    """dbt's target folder for this warehouse: ``<warehouse stem>.stage/dbt_target``, kept between
    invocations and runs. dbt re-parses the whole project (about 4.5 s) unless the partial-parse
    file of its last parse was made with the same profile, and the profile holds the warehouse
    path; dagster-dbt's default, a fresh folder per invocation under dbt/target, starts each from
    the manifest parsed for the default warehouse, and leaves a folder behind every time.

    A new folder starts from the project's own partial-parse file (``dbt/target``, written when the
    definitions load): for a warehouse at the default path, the quickstart's, its profile is the same,
    and the first build of a new warehouse partially parses instead of parsing the whole project
    (measured: 4-7 s less CPU in a quickstart run, where the parse runs beside the scan's OCR). dbt itself checks the
    file: for any other profile (another warehouse path) or a changed project it parses the whole
    project, as without the file."""
    target = paths.stage_dir / "dbt_target"
    seed_partial_parse(target)
    return target



# Up to this many reports a full build keeps the profile's threads: its queries are small and the
# build's time is dbt's per-node overhead, which threads overlap (a quickstart's 130 nodes)
SIDE_BY_SIDE_FULL_BUILD_REPORTS = 20000


def _report_count(paths: WarehousePaths) -> int:
    with connect(paths.warehouse_file, read_only=True) as con:
        found = con.execute("select count(*) from information_schema.tables "
                            "where table_schema = 'raw' and table_name = 'reports'").fetchone()[0]
        return con.execute("select count(*) from raw.reports").fetchone()[0] if found else 0


def _build(context: dg.AssetExecutionContext, dbt: OgiDbtCliResource, paths: WarehousePaths, tag: str):
    # the profile reads the warehouse path from the environment (dbt runs in this process)
    os.environ["OGI_WAREHOUSE"] = str(paths.warehouse_file)
    # "buildable": a test runs in the build that has all of its parents (a rule-mart test whose
    # other parent is a core source would otherwise run, and fail, in the core build)
    # dbt's unit tests check the models' SQL on fixtures, not the data: they run in the test suite
    # (tests/integration/test_dbt_unit_tests.py), not in every refresh (about 1 s a build)
    args = ["build", "--indirect-selection", "buildable", "--exclude-resource-type", "unit_test",
            # Dagster gets dbt's events from dbt's callbacks: no manifest.json / run_results.json
            # written twice per build (1.1 MB each, about 1 s), and no debug-level dbt.log of every
            # statement (info level is kept in the target folder); plain text in the run's log
            "--no-write-json", "--log-level-file", "info", "--no-use-colors"]
    reason = full_refresh_reason(paths, tag)
    if reason:
        context.log.info(f"{tag} marts rebuilt whole (--full-refresh): {reason}")
        args += ["--full-refresh"]
        if _report_count(paths) > SIDE_BY_SIDE_FULL_BUILD_REPORTS:
            # one model at a time: the marts' full builds are large queries that each use every core,
            # and run side by side they share one DuckDB memory limit and spill (at 100,000 reports
            # fct_applications took 44 s alone, 158 s beside three other marts, under a load of 9)
            args += ["--threads", "1"]
    else:
        context.log.info(f"{tag} marts built incrementally: only the reports that changed are replaced")
    invocation = dbt.build_in_process(args, context=context, target_path=dbt_target_dir(paths))
    nodes = _manifest_nodes()
    # Test results go to Dagster while dbt runs (writing each event takes the run process tens of
    # milliseconds, about as long as dbt takes for a test: they overlap). A model's output waits for
    # the end: its table metadata is read from DuckDB, which dbt holds open until then.
    models = []
    for event in invocation.stream():  # raises when dbt failed: the build is then not recorded
        node = nodes.get((event.metadata or {}).get("unique_id").value) \
            if isinstance(event, dg.Output) and "unique_id" in (event.metadata or {}) else None
        if node is None:
            yield event
        else:
            models.append((event, node))
    _record_build(paths, tag)  # stream() raised if dbt failed: a failed build is not recorded
    with connect(paths.warehouse_file, read_only=True) as con:
        for event, node in models:
            try:
                event = event.with_metadata({**event.metadata, **_relation_metadata(con, node)})
            except Exception as exc:  # metadata is a convenience: never fail the build on it
                context.log.warning(f"no table metadata for {node['name']}: {exc}")
            yield event


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="tag:core",
    name="dbt_core_marts",
    dagster_dbt_translator=OgiDbtTranslator(),
)
def dbt_core_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    if marts_are_current(paths):
        # yielding no output skips every downstream step (validation, rule marts, serving copy)
        context.log.info("nothing changed since the last published refresh: marts, rules and serving copy kept")
        return
    yield from _build(context, dbt, paths, "core")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select="tag:rules",
    name="dbt_rule_marts",
    dagster_dbt_translator=OgiDbtTranslator(),
)
def dbt_rule_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: WarehousePaths):
    yield from _build(context, dbt, paths, "rules")
