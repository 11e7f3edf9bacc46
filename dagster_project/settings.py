"""Where things are: the repository, the dbt project, and the paths a run reads and writes.

Paths come from the environment (``OGI_LANDING_DIR``, ``OGI_WAREHOUSE``) with the contract's
defaults, relative to the current directory.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
SAMPLE_LANDING_DIR = REPO_ROOT / "sample_data" / "landing"
# who answers for the warehouse: shown on every asset in the UI
OWNERS = ["team:ogi-warehouse"]
# the instance the README's `dagster dev` uses: `ogi run` records its runs there too
PROJECT_DAGSTER_HOME = REPO_ROOT / "dagster_home"


# the contract's default landing folder and warehouse (relative to the current directory), and where
# the README's commands, run from the repository root, open the warehouse
DEFAULT_LANDING = "data/landing"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
QUICKSTART_WAREHOUSE = REPO_ROOT / DEFAULT_WAREHOUSE


def landing_dir() -> Path:
    return Path(os.environ.get("OGI_LANDING_DIR") or DEFAULT_LANDING).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("OGI_WAREHOUSE") or DEFAULT_WAREHOUSE).resolve()


def parse_partition_count() -> int:
    """Hash buckets of the parse stage (``OGI_PARSE_PARTITIONS``, default 8): enough for two local
    workers to balance; a cluster wants a few per worker. Changing it is safe (new buckets, contents
    already parsed are not parsed again), but it changes the partitions the UI shows."""
    return max(1, int(os.environ.get("OGI_PARSE_PARTITIONS") or 8))


def shard_url_for(warehouse: str | Path) -> str:
    """The shard store of a warehouse: ``OGI_SHARD_URL`` when set, else ``<warehouse stem>.shards/``
    beside it."""
    configured = os.environ.get("OGI_SHARD_URL")
    if configured:
        return configured
    warehouse = Path(warehouse)
    return str(warehouse.with_name(warehouse.stem + ".shards"))


def shard_storage_options() -> str:
    """JSON options of the shard store's filesystem (``OGI_SHARD_STORAGE_OPTIONS``), '' for none."""
    return os.environ.get("OGI_SHARD_STORAGE_OPTIONS", "")


EXECUTORS = ("in_process", "multiprocess", "k8s", "celery")


def executor_name() -> str:
    """``OGI_EXECUTOR``: in_process (default: the quickstart, ``ogi run``, ``dagster dev``), multiprocess
    (the parse partitions in parallel processes here, ``OGI_WORKERS`` at a time), k8s (each step a
    Kubernetes job, dagster-k8s) or celery (steps on Celery workers, dagster-celery)."""
    name = (os.environ.get("OGI_EXECUTOR") or "in_process").strip().lower().replace("-", "_")
    if name not in EXECUTORS:
        raise ValueError(f"OGI_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}")
    return name


def worker_count() -> int:
    """Parse partitions run at once under the multiprocess executor (``OGI_WORKERS``, default: cores)."""
    return max(1, int(os.environ.get("OGI_WORKERS") or os.cpu_count() or 1))


def data_docs_dir_for(warehouse: str | Path) -> Path:
    """Great Expectations Data Docs of a warehouse's last validation: ``<warehouse stem>.data_docs/``
    beside it (outside the stage folder, which may be deleted to force a re-read)."""
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.stem + ".data_docs")


def landing_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a landing directory, or None. A run over a missing or empty folder
    (a typo, an unmounted share) would mark every known file absent: it is refused instead."""
    if not path.exists():
        return f"landing directory {path} does not exist (set --landing or $OGI_LANDING_DIR); nothing was changed"
    if not path.is_dir():
        return f"landing directory {path} is not a directory; nothing was changed"
    for _, _, files in os.walk(path, followlinks=False):
        if files:
            return None
    return f"landing directory {path} holds no file; nothing was changed"


def dbt_executable() -> str:
    """The dbt installed beside this Python, so runs and ``dagster dev`` work without an activated
    venv (PATH is not consulted unless this environment has no dbt)."""
    for python in (Path(sys.executable), Path(sys.executable).resolve()):
        candidate = python.parent / "dbt"
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# dbt parses into a folder with this prefix under the target folder, then its files replace the target's
PARSE_SCRATCH_PREFIX = ".parse-"


def ensure_dbt_manifest(force: bool = False) -> None:
    """dagster-dbt reads a manifest when the definitions load: (re)parse when a dbt file changed.

    Replaces ``DbtProject.prepare_if_dev``, whose parse looks for ``dbt`` on PATH and inherits an
    environment without ``OGI_WAREHOUSE``: ``dagster dev`` from a fresh clone must load without an
    activated venv. A file lock keeps concurrent loaders (webserver, daemon, run workers, tests)
    from parsing at once, and dbt parses into a folder of its own whose files then replace the
    target's one by one (dbt writes in place): a loader reading ``manifest.json`` or copying the
    parse state meanwhile gets the old file or the new one, never half of one.
    """
    import fcntl
    import subprocess

    def stale() -> bool:
        newest = max(
            (p.stat().st_mtime for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml"}
             and "target" not in p.parts and "logs" not in p.parts),
            default=0.0,
        )
        return force or not DBT_MANIFEST.exists() or DBT_MANIFEST.stat().st_mtime < newest

    if not stale():
        return
    DBT_MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with open(DBT_MANIFEST.parent / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stale():  # another loader parsed while this one waited
            return
        quiet_telemetry()
        # parse never opens the warehouse, but the profile needs a path, and dbt keys the parse state
        # by the profile: the quickstart's warehouse, whichever run or loader parses, so that a new
        # warehouse at the default path always starts from a state dbt accepts (seed_partial_parse)
        env = {**os.environ, "OGI_WAREHOUSE": str(QUICKSTART_WAREHOUSE)}
        for left in DBT_MANIFEST.parent.glob(PARSE_SCRATCH_PREFIX + "*"):  # of a parse killed before its clean-up
            shutil.rmtree(left, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix=PARSE_SCRATCH_PREFIX, dir=DBT_MANIFEST.parent))
        try:
            seed_partial_parse(scratch)  # dbt re-parses only the files that changed
            subprocess.run(
                [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                 "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(scratch)],
                check=True,
                env=env,
                cwd=DBT_PROJECT_DIR,
            )
            # the manifest last: its modification time is what says the parse is current
            made = sorted((p for p in scratch.iterdir() if p.is_file()), key=lambda p: p.name == DBT_MANIFEST.name)
            for path in made:
                os.replace(path, DBT_MANIFEST.parent / path.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        force = False


PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # dbt's name for its saved parse state


def seed_partial_parse(target: Path) -> None:
    """A dbt target folder without parse state of its own starts from the project's (``dbt/target``,
    written by ``ensure_dbt_manifest``). dbt checks the file: it is used only when the profile and the
    project are the ones it was made with, else dbt parses the whole project, as without it."""
    seed = DBT_MANIFEST.parent / PARTIAL_PARSE_FILE
    if (target / PARTIAL_PARSE_FILE).exists() or not seed.exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}.{threading.get_ident()}"
    try:
        shutil.copyfile(seed, partial)
        os.replace(partial, target / PARTIAL_PARSE_FILE)  # never a half-copied file where dbt reads it
    except OSError:
        partial.unlink(missing_ok=True)  # dbt then parses the whole project: slower, not wrong


# Python's first garbage-collector generation is collected every 700 net new container objects, and
# every 100th collection looks at every object: with Dagster, dbt (its manifest) and Great
# Expectations loaded that is 0.1-0.3 s each, 1.1-1.4 s of a quickstart run's main process in ten
# full collections. Every 10,000 objects instead: five full collections, 0.3 s (measured with
# gc.callbacks over a quickstart run). Memory is not at stake: the run's data lives in Polars and
# DuckDB, not in Python objects.
GC_FIRST_GENERATION_THRESHOLD = 10_000


def lighten_garbage_collection() -> None:
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, GC_FIRST_GENERATION_THRESHOLD), second, third)


def quiet_telemetry() -> None:
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")


@functools.cache
def code_version() -> str:
    """Digest of the code that turns raw tables into marts: the dbt project, the rule suites and the
    parser version (which includes the schema registry). Part of the no-op test of a refresh."""
    from ingest import PARSER_VERSION

    digest = hashlib.sha256(PARSER_VERSION.encode())
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in (DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "macros", DBT_PROJECT_DIR / "tests",
                   REPO_ROOT / "expectations"):
        sources += [p for p in folder.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".py"}]
    for path in sorted(sources):
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
