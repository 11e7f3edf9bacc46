"""python -m ingest.synth OUT_DIR [-n N] [--seed S] [--layouts a,b] [--inject-error-rate R]
[--republish-rate R]"""

from __future__ import annotations

import argparse
import sys
import time

from .generator import ALL_LAYOUTS, LAYOUTS, generate_corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m ingest.synth", description="Write a synthetic report corpus with truth.jsonl"
    )
    ap.add_argument("out_dir")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--layouts", default=",".join(LAYOUTS), help=f"comma-separated subset of {','.join(ALL_LAYOUTS)} (default: {','.join(LAYOUTS)})"
    )
    ap.add_argument("--inject-error-rate", type=float, default=0.0)
    ap.add_argument(
        "--republish-rate",
        type=float,
        default=0.0,
        help="share of reports that also get a corrected republication (same agency and year, later date)",
    )
    args = ap.parse_args(argv)
    t = time.time()
    paths = generate_corpus(
        args.out_dir,
        args.n,
        args.seed,
        layouts=[x for x in args.layouts.split(",") if x],
        inject_error_rate=args.inject_error_rate,
        republish_rate=args.republish_rate,
    )
    print(f"wrote {len(paths)} reports and truth.jsonl to {args.out_dir} in {time.time() - t:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
