"""Reading government information disclosure annual reports into long-form facts (no Dagster here).

Stages: ``discovery`` (files, hashes, formats) -> ``decoding`` (bytes to text) -> a front end
(``frontends``) producing one cell grid -> ``tables`` (the template mapper), ``narrative`` and
``metadata`` -> ``pipeline`` (a batch into the raw tables of ``schemas``) -> ``warehouse`` (DuckDB).
"""

import hashlib
from pathlib import Path

# Bump when parsing code changes what it emits.
PARSER_RELEASE = "2026.12.1"


def _schema_digest() -> str:
    schema = Path(__file__).parent / "reference" / "canonical_schema.yaml"
    return hashlib.sha256(schema.read_bytes()).hexdigest()[:8]


# The version stamped on every fact: the parser release plus the vocabulary it read. Content parsed
# by another version (new code or an edited schema registry) is parsed again on the next run.
PARSER_VERSION = f"{PARSER_RELEASE}+schema.{_schema_digest()}"
