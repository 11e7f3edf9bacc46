"""Accounting-rule validation (Great Expectations) for the ogi warehouse. Does not import dagster."""
