"""Dagster definitions of ogi-warehouse: they only wire the ``ingest`` and ``expectations`` libraries
into assets, checks, schedules and sensors."""
