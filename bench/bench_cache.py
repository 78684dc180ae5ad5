"""Benchmark: cache simulations on the audit benchmark's records.

    .venv/bin/python bench/bench_cache.py [--records 1000000] [--semantic-records 100000]

1. `routecost audit FILE` against the same audit with the exact-cache and prompt-cache policy in
   bench/cache/ (prompt fingerprints read, both caches replayed in time order), alternating,
   --repeat times each, the fastest of each counting (this machine's timings vary by +-15%): what
   the caches add (the bar: at most +50%). Peak memory is the highest of the runs.
2. `routecost cache sweep` on the first N records twice, with an empty embedding cache and then a
   warm one: embeddings per second, and the second run's time.

The records come from bench_audit.py (generated there once, cached in bench/out/).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench_audit import OUT, ROUTECOST, run_measured, save, wrapper_log

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--semantic-records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="Audit runs of each kind; the fastest counts.")
    args = parser.parse_args()
    log = wrapper_log(args.records)
    routecost = ROUTECOST
    audit = [routecost, "audit", str(log), "--format", "json"]
    runs = [(run_measured(audit), run_measured([*audit, "--policy", str(HERE / "cache" / "exact-and-prompt.yaml")]))
            for _ in range(args.repeat)]
    audit_s, cached_s = min(plain[0] for plain, _ in runs), min(cached[0] for _, cached in runs)
    audit_mb, cached_mb = max(plain[1] for plain, _ in runs), max(cached[1] for _, cached in runs)
    report = runs[-1][1][2]
    policy = json.loads(report)["policies"][0]
    semantic_log = OUT / f"wrapper-first-{args.semantic_records}.jsonl"
    if not semantic_log.exists():
        with log.open("rb") as source, semantic_log.open("wb") as target:
            for index, line in enumerate(source):
                if index >= args.semantic_records:
                    break
                target.write(line)
    with tempfile.TemporaryDirectory() as cache:
        environment = {**os.environ, "ROUTECOST_CACHE_DIR": cache}
        sweep = [routecost, "cache", "sweep", str(semantic_log), "--format", "json"]
        cold_s, _, cold = run_measured(sweep, environment)
        warm_s, _, warm = run_measured(sweep, environment)
    cold_result, warm_result = json.loads(cold), json.loads(warm)
    rate = cold_result["embedded"] / cold_result["embed_seconds"] if cold_result["embed_seconds"] else 0.0
    results = {
        "records": args.records, "audit_s": round(audit_s, 2), "audit_with_caches_s": round(cached_s, 2),
        "caches_add_pct": round(100 * (cached_s / audit_s - 1), 1), "audit_peak_rss_mb": audit_mb,
        "audit_with_caches_peak_rss_mb": cached_mb, "cache_savings_pct": round(policy["savings_pct"], 2),
        "levers": policy["levers"], "sweep_records": args.semantic_records,
        "sweep_cold_s": round(cold_s, 2), "sweep_warm_s": round(warm_s, 2),
        "texts_embedded": cold_result["embedded"], "embeddings_per_s": round(rate),
        "embedded_on_second_run": warm_result["embedded"],
    }
    save(f"cache-{args.records}", results)
    print(f"audit:                         {audit_s:7.2f} s   peak RSS {audit_mb:5d} MB")
    print(f"audit + exact and prompt cache: {cached_s:7.2f} s   peak RSS {cached_mb:5d} MB "
          f"({100 * (cached_s / audit_s - 1):+.1f}%, bar: <= +50%)")
    print(f"cache sweep on {args.semantic_records:,} records: {cold_s:.2f} s cold "
          f"({cold_result['embedded']:,} texts, {rate:,.0f} embeddings/s), {warm_s:.2f} s warm "
          f"({warm_result['embedded']} embedded)")


if __name__ == "__main__":
    main()
