"""Compare the marts of two warehouses (or serving copies) row for row; prints the differences and
exits 1 if there are any.

    .venv/bin/python scripts/compare_marts.py data/a.serving.duckdb data/b.serving.duckdb

Columns that record when a run happened (timestamps) differ between any two runs and are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.warehouse import marts_differences  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    differences = marts_differences(Path(sys.argv[1]), Path(sys.argv[2]))
    for table, (rows_a, only_a, only_b) in differences.items():
        status = "identical" if not (only_a or only_b) else f"DIFFERENT: {only_a} row(s) only in the first, " \
                                                           f"{only_b} only in the second"
        print(f"{table}: {rows_a} rows, {status}")
    return 1 if any(a or b for _, a, b in differences.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
