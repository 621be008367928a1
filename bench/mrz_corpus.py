"""
Read the whole generated passport corpus and print the three figures of issue 16.

    make mrz-corpus                              # 240 pages, the default seed
    .venv/bin/python bench/mrz_corpus.py --count 40 --seed 7 --verbose

Figures: the share of pages read fully (every field the form takes from a passport), the
number of wrong values filled (the goal is 0: a wrong value is worse than an empty one),
and the time per page (median, 90th percentile, worst). Pages are made in memory from the
seed (``tests/registration/mrz_corpus.py``); nothing is written unless ``--keep DIR``.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from registration.mrz import passport_read  # noqa: E402
from tests.registration.mrz_corpus import DEFAULT_SEED, corpus  # noqa: E402

TODAY = datetime.date(2026, 11, 29)


def wrong_values(reading, truth: dict) -> list[str]:
    """Return the names of the fields ``reading`` filled with something else than ``truth``."""
    wrong = []
    for name, value in reading.fields.items():
        expected = truth[name]
        if isinstance(expected, datetime.date):
            expected = expected.isoformat()
        if value != expected:
            wrong.append(f"{name}={value!r} (truth {expected!r})")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write each page here as page-NNNN.jpg")
    parser.add_argument("--verbose", action="store_true", help="one line per page")
    args = parser.parse_args()

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    full = 0
    wrong_total = 0
    seconds = []
    filled_total = 0
    started = time.monotonic()
    for page in corpus(count=args.count, seed=args.seed, start=args.start):
        if args.keep:
            (args.keep / f"page-{page.index:04d}.jpg").write_bytes(page.jpeg)
        reading = passport_read(image=page.jpeg, today=TODAY)
        seconds.append(reading.seconds)
        wrong = wrong_values(reading, page.passport.truth)
        wrong_total += len(wrong)
        filled_total += len(reading.fields)
        full += reading.complete and not wrong
        if args.verbose or wrong:
            missing = [name for name in page.passport.truth if name not in reading.fields]
            state = "FULL" if reading.complete else f"{len(reading.fields)}/8 missing {missing}"
            print(
                f"page {page.index:4d} {state} {reading.seconds:5.2f}s {page.conditions} "
                f"notes={list(reading.notes)}" + (f" WRONG {wrong}" if wrong else ""),
                flush=True,
            )
    count = len(seconds)
    ordered = sorted(seconds)
    print()
    print(f"pages:            {count} (seed {args.seed}, from {args.start})")
    print(f"read fully:       {full / count:.3f} ({full} of {count})")
    print(f"wrong values:     {wrong_total} (of {filled_total} filled)")
    print(
        f"seconds per page: median {statistics.median(ordered):.2f}, "
        f"p90 {ordered[int(0.9 * (count - 1))]:.2f}, max {ordered[-1]:.2f}, "
        f"mean {statistics.fmean(ordered):.2f}"
    )
    print(f"wall time:        {time.monotonic() - started:.0f} s (page generation included)")
    return 1 if wrong_total else 0


if __name__ == "__main__":
    sys.exit(main())
