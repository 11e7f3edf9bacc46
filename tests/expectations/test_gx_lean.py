"""Great Expectations without the scipy.stats import it never needs for the rules: deferred, and still
the real module once used."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import sys
import expectations.custom  # imports great_expectations (its KL-divergence expectation: from scipy import stats)
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
print(type(sys.modules["scipy.stats"]).__name__, "scipy.stats._stats_py" in sys.modules)
print(round(float(kl.stats.entropy([0.5, 0.5], [0.25, 0.75])), 6), "scipy.stats._stats_py" in sys.modules)
"""


def test_scipy_stats_loads_on_first_use_only():
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True)
    before, after = done.stdout.split("\n")[:2]
    assert before == "_LazyModule False"
    assert after == "0.143841 True"
