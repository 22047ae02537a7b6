"""Benchmark (not a test): one full reader pass over an SSDA903 return, with time and memory.

Times the reader's two passes over the files (``open_return``: recognise, check the LA column,
index each child's rows; then ``records()``: every child's rows parsed and checked by the
rules), and prints the outcome counts, the most common rejections and the peak resident
memory of the process (``ru_maxrss``). Run it under ``/usr/bin/time -v`` for a second opinion.

    python benchmarks/ssda903_generate.py --size national --out /tmp/903/national
    /usr/bin/time -v python benchmarks/ssda903_read.py /tmp/903/national/*.csv --as-of 2026-03-31
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.care_record.reader import open_return  # noqa: E402
from services.care_record.rules import Accepted  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: read the files given and print what the reader found, how fast."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--la", help="the authority to read from a regional file")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    args = parser.parse_args(argv)

    started = time.perf_counter()
    care_return = open_return(args.paths, la=args.la)
    indexed = time.perf_counter()
    accepted = rejected = rows = 0
    reasons: Counter[str] = Counter()
    for outcome in care_return.records(as_of=args.as_of):
        if isinstance(outcome, Accepted):
            accepted += 1
            record = outcome.record
            rows += 1 + len(record.episodes) + len(record.reviews)
        else:
            rejected += 1
            reasons.update(f"{r.column}: {r.reason.split(' (')[0]}" for r in outcome.rejections)
    finished = time.perf_counter()

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    data_rows = sum(f.data_rows for f in care_return.files)
    print(f"files: {len(care_return.files)}, data rows: {data_rows:,}")
    print(f"children: {care_return.child_count:,} (accepted {accepted:,}, rejected {rejected:,})")
    print(f"rows without a child id: {len(care_return.unattached):,}")
    print(f"index pass: {indexed - started:.1f} s, records pass: {finished - indexed:.1f} s")
    print(f"total: {finished - started:.1f} s, peak memory: {peak_mib:.0f} MiB")
    for reason, count in reasons.most_common(5):
        print(f"  {count:,} x {reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
