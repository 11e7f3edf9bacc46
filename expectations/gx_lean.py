"""Import this module before ``great_expectations``: it defers the imports GE makes at import time
for features the rules never use.

GE's KL-divergence expectation and its two Kolmogorov-Smirnov metrics import ``scipy.stats`` at
module level (about 1.2 s of CPU, a third of ``import great_expectations``) and use it only inside
the functions that compute those statistics. Here it is entered in ``sys.modules`` as a lazy module
(:class:`importlib.util.LazyLoader`): ``from scipy import stats`` binds at once, and the real module
is executed the first time anything reads an attribute of it, so code that does use it still gets
the real module. (``altair``, imported by the same expectation for its charts, cannot be deferred
this way: ``import altair`` reads the module's ``__spec__``, which loads a lazy module at once.)
"""

from __future__ import annotations

import importlib.util
import sys

DEFERRED = ("scipy.stats",)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)  # imports the parent package (scipy: numpy, which GE needs anyway)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


for _name in DEFERRED:
    _defer(_name)
