"""Dagster definitions of ogi-warehouse: they only wire the ``ingest`` and ``expectations`` libraries
into assets, checks, schedules and sensors."""

# first, so that its allocator setting for Polars is in place before anything imports Polars
import ingest  # noqa: F401
