"""Reading government information disclosure annual reports into long-form facts (no Dagster here).

Stages: ``discovery`` (files, hashes, formats) -> ``decoding`` (bytes to text) -> a front end
(``frontends``) producing one cell grid -> ``tables`` (the template mapper), ``narrative`` and
``metadata`` -> ``pipeline`` (a batch into the raw tables of ``schemas``) -> ``warehouse`` (DuckDB).
"""

import hashlib
import os
from pathlib import Path

# Polars' allocator (jemalloc, configured from this variable when Polars is first imported, so before
# any `import polars`): freed memory is kept for 10 s before it goes back to the system, rather than
# handed back as soon as its default does. The parse stage allocates and frees its frames chunk after
# chunk, and on this project's virtual machines taking fresh pages from the system is costly: the
# parse stage alone over 10,000 reports faulted 790,000-830,000 pages (2.1-2.4 s of kernel time), now
# 390,000-400,000 (1.2-1.3 s), 10.7-11.0 s wall before and 10.2-10.4 s after, for the same peak memory
# (README, Performance: eighth round). A value the user sets is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")

# Bump when parsing code changes what it emits.
PARSER_RELEASE = "2026.12.1"


def _schema_digest() -> str:
    schema = Path(__file__).parent / "reference" / "canonical_schema.yaml"
    return hashlib.sha256(schema.read_bytes()).hexdigest()[:8]


# The version stamped on every fact: the parser release plus the vocabulary it read. Content parsed
# by another version (new code or an edited schema registry) is parsed again on the next run.
PARSER_VERSION = f"{PARSER_RELEASE}+schema.{_schema_digest()}"
