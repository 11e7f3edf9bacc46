"""dbt's behaviour flags name the module that declared them without inspect.stack(): the same name
as dbt's own lookup, and the modules expectations.gx_lean leaves unloaded stay unloaded."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import sys
import expectations.custom  # great_expectations, with scipy.stats deferred
from dbt_common.behavior_flags import Behavior, BehaviorFlagRendered
original = BehaviorFlagRendered._default_source
from dagster_project.defs import dbt_assets  # replaces it

def flag_source():  # as an adapter declares its flags: Behavior(flags, overrides)
    behavior = Behavior([{"name": "probe_flag", "default": False, "description": "a probe"}], {})
    return behavior.probe_flag._behavior_change_event.flag_source

print(BehaviorFlagRendered._default_source is original, flag_source())
print(type(sys.modules["scipy.stats"]).__name__)
BehaviorFlagRendered._default_source = staticmethod(original)  # dbt's own lookup, from the same place
print(flag_source())
print(type(sys.modules["scipy.stats"]).__name__)
"""


def test_flag_source_is_dbts_and_nothing_deferred_is_loaded(tmp_path):
    probe = tmp_path / "probe.py"  # a file, not -c: dbt's lookup finds no module for code without one
    probe.write_text(_PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(probe)], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    patched, lazy_after_patched, original, lazy_after_original = done.stdout.split("\n")[:4]
    assert patched == "False __main__"
    assert lazy_after_patched == "_LazyModule"
    assert original == "__main__"
    # dbt's lookup looks at every module, the deferred one included: the reason for the replacement
    assert lazy_after_original == "module"
