"""Benchmark: time and peak memory of `routecost audit` at 1M, 4M and 20M records, in one run.

    .venv/bin/python bench/bench_scale.py [--sizes 1,4,20] [--base-records 1000000] [--cache-up-to 20] [--workers N]

A quick check of the script itself: ``--base-records 20000 --sizes 0.02,0.08,0.4`` (1, 4 and 20 files).

The base file is bench_audit.py's wrapper log of ``--base-records`` records (generated once, cached in
bench/out/). A larger size is the base file plus copies of it, bench/out/scale-<base records>/part-<k>.jsonl,
made once (about 45 GB of disk for 20M records) by rewriting the base file's bytes: copy k gets response ids
``chatcmpl-k<k>-...`` (so they stay distinct) and its timestamps' milliseconds shifted by k, so every copy
falls in the base file's month: the same month of traffic at 4x or 20x the volume, as a big team's month is.
A size of S million records is ``round(S * 1e6 / base records)`` files (at least 1).

For each size that fits in half the memory available, it first reads the files once, untimed (so that all
the commands read them warm); then it times, once each (these are long):

1. the baseline: bench_audit.py's bare streaming parse of the fields the audit needs, of every file of the
   size in turn, in one process;
2. `routecost audit FILES... --format json`;
3. the same audit with the three policies in bench/policies/;
4. at sizes up to --cache-up-to (every size by default), the same audit with
   bench/cache/exact-and-prompt.yaml (an exact cache and prompt caching, replayed over the whole log by
   the streamed audit's cache pass, simulate/cache_pass.py).

Peak resident memory is summed over the worker processes, sampled every 20 ms. It prints a Markdown
table, saves the figures in bench/out/bench_scale.json and prints PASS or FAIL for each bar:

- peak RSS under 1.5 GB at every size, for the plain audit and with the three policies;
- peak RSS under 3 GB with the cache policy at the largest size (20M);
- audit time at most 2x the bare parse at every size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_audit import (
    BASELINE,
    OUT,
    ROUTECOST,
    compile_routecost,
    policy_arguments,
    run_measured,
    save,
    wrapper_log,
)

CACHE_POLICY = Path(__file__).parent / "cache" / "exact-and-prompt.yaml"
RSS_BAR_MB = 1536
CACHE_RSS_BAR_MB = 3072
RATIO_BAR = 2.0
BLOCK = 64 << 20  # bytes read (and written) at a time when making a copy
TS_PREFIX = b'{"ts":"'  # every line starts {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ"; mmm is line[27:30]
ID = b'"id":"chatcmpl-'

# One process parsing every file of a size in turn: BASELINE reads only sys.argv[1].
PARSE_ALL = '''
import sys
code, names = sys.argv[1], sys.argv[2:]
for name in names:
    sys.argv = ["-c", name]
    exec(code, {"__name__": "__main__"})
'''


def _shift_lines(lines: list[bytes], k: int, milliseconds: dict[bytes, bytes], where: str) -> bytes:
    """The lines of a copy: milliseconds shifted by ``k``, response ids tagged with ``k``."""
    shifted = []
    for line in lines:
        if line[:7] != TS_PREFIX or line[26:27] != b"." or line[30:32] != b'Z"' or line[27:30] not in milliseconds:
            raise SystemExit(f"{where}: a line does not start with {{\"ts\":\"YYYY-MM-DDTHH:MM:SS.mmmZ\": "
                             f"{line[:40]!r}")
        shifted.append(line[:27] + milliseconds[line[27:30]] + line[30:])
    block = b"".join(shifted)
    if block.count(ID) != len(lines):
        raise SystemExit(f"{where}: expected one {ID.decode()} per line, found {block.count(ID)} in {len(lines)}")
    return block.replace(ID, b'"id":"chatcmpl-k%02d-' % k)


def make_copy(base: Path, records: int, k: int, target: Path) -> None:
    """Copy ``k`` of the base file at ``target``, unless it is there already with the right size."""
    expected = base.stat().st_size + len(b"k00-") * records
    if target.exists() and target.stat().st_size == expected:
        return
    milliseconds = {b"%03d" % ms: b"%03d" % ((ms + k) % 1000) for ms in range(1000)}
    partial = target.with_suffix(".jsonl.partial")
    start = time.perf_counter()
    with base.open("rb") as source, partial.open("wb", buffering=BLOCK) as out:
        while lines := source.readlines(BLOCK):
            out.write(_shift_lines(lines, k, milliseconds, str(base)))
    if partial.stat().st_size != expected:
        raise SystemExit(f"{partial}: {partial.stat().st_size:,} bytes, expected {expected:,}")
    partial.replace(target)
    elapsed = time.perf_counter() - start
    print(f"  {target.name}: {expected / 1e9:.2f} GB in {elapsed:.1f} s", flush=True)


def scale_files(base: Path, records: int, files: int) -> list[Path]:
    """The base file and copies 1..files-1 of it, made where missing."""
    folder = OUT / f"scale-{records}"
    folder.mkdir(parents=True, exist_ok=True)
    copies = [folder / f"part-{k:02d}.jsonl" for k in range(1, files)]
    expected = base.stat().st_size + len(b"k00-") * records
    missing = [copy for copy in copies if not (copy.exists() and copy.stat().st_size == expected)]
    if missing:
        needed = expected * len(missing)
        free = shutil.disk_usage(folder).free
        if needed > free:
            raise SystemExit(f"{len(missing)} copies need {needed / 1e9:.1f} GB in {folder}, {free / 1e9:.1f} GB free")
        print(f"making {len(missing)} copies of {base.name} ({needed / 1e9:.1f} GB) in {folder} ...", flush=True)
    for k, copy in enumerate(copies, start=1):
        make_copy(base, records, k, copy)
    return [base, *copies]


def parse_sizes(text: str) -> list[float]:
    try:
        sizes = [float(size) for size in text.split(",") if size.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text}") from None
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text}")
    return sizes


def _cell(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


def _bars(rows: list[dict[str, object]]) -> list[tuple[str, bool]]:
    """(the bar with the figure, whether it holds) for each size's runs."""
    bars = []
    memory = (("audit", "audit_peak_rss_mb", RSS_BAR_MB),
              ("with 3 policies", "audit_with_3_policies_peak_rss_mb", RSS_BAR_MB),
              ("with cache policy", "audit_with_cache_policy_peak_rss_mb", CACHE_RSS_BAR_MB))
    for row in rows:
        label = f"{row['records']:,} records"
        for name, key, limit in memory:
            if row[key] is not None:
                bars.append((f"{label}: {name} peak RSS {row[key]:,} MB < {limit:,} MB", row[key] < limit))
        bars.append((f"{label}: audit / bare parse {row['ratio']:.2f} <= {RATIO_BAR}", row["ratio"] <= RATIO_BAR))
    largest = rows[-1]
    if largest["audit_with_cache_policy_peak_rss_mb"] is None:
        unrun = f"{largest['records']:,} records: with cache policy under {CACHE_RSS_BAR_MB:,} MB: not run"
        bars.append((f"{unrun} (--cache-up-to)", False))
    return bars


def warmed(paths: list[str]) -> bool:
    """Read the files once when they fit in half the memory available, so that the first command timed
    does not read them from disk while the next ones find them in the page cache (a 1M file read cold
    after the 20M run made the parse 8 s against a warm audit's 7). Larger ones stay cold for all."""
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:  # not Linux: nothing to tell the free memory by, so nothing is read ahead
        return False
    available = next((int(line.split()[1]) * 1024 for line in meminfo.splitlines()
                      if line.startswith("MemAvailable:")), 0)
    if sum(Path(path).stat().st_size for path in paths) * 2 > available:
        return False
    for path in paths:
        with open(path, "rb") as log:
            while log.read(1 << 24):
                pass
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=[1.0, 4.0, 20.0],
                        help="millions of records, comma-separated (default: 1,4,20)")
    parser.add_argument("--base-records", type=int, default=1_000_000, help="records in the base file")
    parser.add_argument("--cache-up-to", type=float, default=float("inf"),
                        help="run the cache policy at sizes up to this many million records (default: every size)")
    parser.add_argument("--workers", type=int, default=None, help="routecost --workers (default: its own)")
    args = parser.parse_args()
    if args.base_records < 1:
        parser.error("--base-records must be at least 1")
    if args.cache_up_to > 0 and not CACHE_POLICY.exists():
        parser.error(f"{CACHE_POLICY} is missing (or pass --cache-up-to 0)")

    counts = sorted({max(1, round(size * 1_000_000 / args.base_records)) for size in args.sizes})
    base = wrapper_log(args.base_records)
    files = scale_files(base, args.base_records, counts[-1])
    compile_routecost()
    workers = ["--workers", str(args.workers)] if args.workers else []

    rows: list[dict[str, object]] = []
    for count in counts:
        logs = [str(log) for log in files[:count]]
        records = count * args.base_records
        gigabytes = sum(Path(log).stat().st_size for log in logs) / 1e9
        print(f"\n{records:,} records ({count} file{'s' if count > 1 else ''}, {gigabytes:.2f} GB):", flush=True)
        audit_command = [ROUTECOST, "audit", *logs, "--format", "json", *workers]
        if warmed(logs):
            print("  (read once, untimed: they fit in the page cache, so the parse and the audits all read them warm)")

        parse_s, parse_mb, parsed = run_measured([sys.executable, "-c", PARSE_ALL, BASELINE, *logs])
        print(f"  bare parse        {parse_s:8.2f} s  peak RSS {parse_mb:6d} MB", flush=True)
        audit_s, audit_mb, report = run_measured(audit_command)
        print(f"  audit             {audit_s:8.2f} s  peak RSS {audit_mb:6d} MB", flush=True)
        policies_s, policies_mb, _ = run_measured(audit_command + policy_arguments())
        print(f"  with 3 policies   {policies_s:8.2f} s  peak RSS {policies_mb:6d} MB", flush=True)
        cache_s = cache_mb = None
        if records <= args.cache_up_to * 1_000_000:
            cache_s, cache_mb, _ = run_measured(audit_command + ["--policy", str(CACHE_POLICY)])
            print(f"  with cache policy {cache_s:8.2f} s  peak RSS {cache_mb:6d} MB", flush=True)

        parsed_records = sum(int(line) for line in parsed.split())
        priced = json.loads(report)["requests"]
        if parsed_records != records or priced != records:
            print(f"  warning: {records:,} records written, {parsed_records:,} parsed, {priced:,} priced by the audit")
        rows.append({
            "records": records, "files": count, "file_gb": round(gigabytes, 3), "requests_priced": priced,
            "baseline_parse_s": round(parse_s, 2), "baseline_peak_rss_mb": parse_mb,
            "audit_s": round(audit_s, 2), "ratio": round(audit_s / parse_s, 2), "audit_peak_rss_mb": audit_mb,
            "audit_with_3_policies_s": round(policies_s, 2), "audit_with_3_policies_peak_rss_mb": policies_mb,
            "audit_with_cache_policy_s": None if cache_s is None else round(cache_s, 2),
            "audit_with_cache_policy_peak_rss_mb": cache_mb,
        })

    bars = _bars(rows)

    save("bench_scale", {
        "base_records": args.base_records, "workers": args.workers, "cpus": os.cpu_count(), "sizes": rows,
        "bars": [{"bar": bar, "pass": passed} for bar, passed in bars],
    })

    print("\n| size (records) | bare parse s | audit s | audit/parse | audit peak RSS MB "
          "| 3 policies s | 3 policies peak RSS MB | cache policy s | cache policy peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['records']:,} | {row['baseline_parse_s']:.2f} | {row['audit_s']:.2f} | {row['ratio']:.2f} "
              f"| {row['audit_peak_rss_mb']:,} | {row['audit_with_3_policies_s']:.2f} "
              f"| {row['audit_with_3_policies_peak_rss_mb']:,} | {_cell(row['audit_with_cache_policy_s'])} "
              f"| {_cell(row['audit_with_cache_policy_peak_rss_mb'])} |")
    print()
    for bar, passed in bars:
        print(f"{'PASS' if passed else 'FAIL'}  {bar}")
    print(f"\nfigures saved in {OUT / 'bench_scale.json'}")


if __name__ == "__main__":
    main()
