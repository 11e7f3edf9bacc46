"""Reading government information disclosure annual reports into long-form facts (no Dagster here).

Stages: ``discovery`` (files, hashes, formats) -> ``decoding`` (bytes to text) -> a front end
(``frontends``: text today) producing one cell grid -> ``tables`` (the template mapper),
``narrative`` and ``metadata`` -> ``pipeline`` (a batch into the raw tables of ``schemas``).
"""

# Bump when parsing changes what it emits: files parsed by another version are parsed again.
PARSER_VERSION = "2026.11.1"
