"""Benchmark: the HTML report and the sweep on the audit benchmark's records.

    .venv/bin/python bench/bench_reports.py [--records 1000000]

1. `routecost audit FILE` with the three policies in bench/policies/, as JSON and as HTML: what
   drawing the charts adds (the cost stacks behind them are computed in every audit).
2. `routecost sweep FILE` over five escalation rates of bench/policies/cascade.yaml (six variants
   with the policy's own value): the time against one audit with the policy.

The records come from bench_audit.py (generated there once, cached in bench/out/).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_audit import POLICIES, ROUTECOST, policy_arguments, run_measured, save, wrapper_log

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    log = wrapper_log(args.records)
    routecost = ROUTECOST
    policies = policy_arguments()
    cascade = str(POLICIES / "cascade.yaml")
    with tempfile.TemporaryDirectory() as folder:
        json_s, json_mb, _ = run_measured([routecost, "audit", str(log), *policies, "--format", "json", "--out",
                                           f"{folder}/report.json"])
        html_s, html_mb, _ = run_measured([routecost, "audit", str(log), *policies, "--format", "html", "--out",
                                           f"{folder}/report.html"])
        size_kb = Path(f"{folder}/report.html").stat().st_size / 1024
    one_s, one_mb, _ = run_measured([routecost, "audit", str(log), "--policy", cascade, "--format", "json"])
    sweep_s, sweep_mb, _ = run_measured([routecost, "sweep", str(log), "--policy", cascade, "--knob",
                                         "cascades.0.escalate_rate", "--values", "0:1:0.25", "--format", "json"])
    save(f"reports-{args.records}", {
        "records": args.records, "audit_3_policies_json_s": round(json_s, 2), "json_peak_rss_mb": json_mb,
        "audit_3_policies_html_s": round(html_s, 2), "html_peak_rss_mb": html_mb, "html_kb": round(size_kb),
        "audit_cascade_s": round(one_s, 2), "audit_cascade_peak_rss_mb": one_mb, "sweep_6_variants_s": round(sweep_s, 2),
        "sweep_peak_rss_mb": sweep_mb, "per_extra_variant_s": round((sweep_s - one_s) / 5, 2),
    })
    print(f"audit with 3 policies, JSON: {json_s:6.2f} s  peak RSS {json_mb:5} MB")
    print(f"audit with 3 policies, HTML: {html_s:6.2f} s  peak RSS {html_mb:5} MB  ({size_kb:,.0f} KB file)")
    print(f"audit with cascade.yaml:     {one_s:6.2f} s  peak RSS {one_mb:5} MB")
    print(f"sweep, 6 variants:           {sweep_s:6.2f} s  peak RSS {sweep_mb:5} MB  "
          f"({(sweep_s - one_s) / 5:.2f} s per extra variant)")


if __name__ == "__main__":
    main()
