"""Benchmark: re-auditing a month of daily log files after one more day, with ``--read-cache``.

    .venv/bin/python bench/bench_incremental.py [--records 1000000]

Splits the benchmark's wrapper log (``bench_audit.py``: N records over October 2026) into one file
per day, then times in one run, each `routecost audit DIR --format json` in its own process:

1. the first 30 days, without a cache (the plain audit);
2. the same with ``--read-cache`` into an empty directory (a cold cache: parse and keep);
3. the same again (a warm cache: nothing to parse);
4. after the 31st day's file is added (the bar: only that file is read, by the report's note);
5. the 31 days without a cache, to compare.

It prints each run's time, peak RSS and the report's read-cache note.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from bench_audit import ROUTECOST, compile_routecost, run_measured, save, wrapper_log


def split_by_day(log: Path, folder: Path) -> list[Path]:
    """One file per day of the log's records (each line starts with its ``"ts"``)."""
    if folder.exists() and len(list(folder.glob("*.jsonl"))) == 31:
        return sorted(folder.glob("*.jsonl"))
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[bytes, object] = {}
    with log.open("rb") as lines:
        for line in lines:
            day = line[8:18]  # {"ts":"2026-10-DD...
            if day not in handles:
                handles[day] = (folder / f"{day.decode()}.jsonl").open("wb")
            handles[day].write(line)  # type: ignore[attr-defined]
    for handle in handles.values():
        handle.close()  # type: ignore[attr-defined]
    return sorted(folder.glob("*.jsonl"))


def run(folder: Path, *extra: str) -> dict[str, object]:
    seconds, peak, stdout = run_measured([ROUTECOST, "audit", str(folder), "--format", "json", *extra])
    report = json.loads(stdout)
    note = next((note for note in report["assumptions"] if note.startswith("read cache")), "")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak), "requests": report["requests"],
            "cost_usd": report["baseline"]["cost_usd"], "note": note}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    records = parser.parse_args().records
    compile_routecost()
    days = split_by_day(wrapper_log(records), Path(__file__).parent / "out" / f"month-{records}")
    with tempfile.TemporaryDirectory(prefix="routecost-bench-") as scratch:
        month = Path(scratch) / "logs"
        month.mkdir()
        for day in days[:30]:
            (month / day.name).symlink_to(day.resolve())
        cache = Path(scratch) / "cache"
        results = {
            "30 days, no cache": run(month),
            "30 days, cold cache": run(month, "--read-cache", str(cache)),
            "30 days, warm cache": run(month, "--read-cache", str(cache)),
        }
        (month / days[30].name).symlink_to(days[30].resolve())
        results["31 days, the new day read"] = run(month, "--read-cache", str(cache))
        results["31 days, no cache"] = run(month)
        cache_mb = sum(path.stat().st_size for path in cache.iterdir()) / 1e6
        shutil.rmtree(cache)
    print(f"{records:,} records in 31 daily files; the cache held {cache_mb:,.0f} MB")
    for name, figures in results.items():
        print(f"{name:28} {figures['seconds']:6.2f} s  {figures['peak_rss_mb']:6,} MB  {figures['requests']:>9,} requests"
              f"  {figures['note']}")
    assert results["31 days, the new day read"]["note"].startswith(f"read cache {cache}: 1 files read, 30 taken")
    save("incremental", {"records": records, "cache_mb": round(cache_mb), **results})


if __name__ == "__main__":
    main()
