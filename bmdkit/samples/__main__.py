"""``python -m bmdkit.samples OUTDIR --seed N --count N``: write sample inputs with ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from bmdkit.samples.build import build_samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bmdkit.samples", description=__doc__)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=14, help="exams written in rotating forms")
    ap.add_argument("--no-fixed", action="store_true", help="leave out the edge cases and bad inputs")
    args = ap.parse_args(argv)
    written = build_samples(args.outdir, args.seed, args.count, include_fixed=not args.no_fixed)
    print(f"wrote {len(written)} files (each with a .truth.json) to {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
