"""Benchmark: `routecost policy check` on policies of 10,000 and 100,000 routes (the time must grow
linearly with the routes, not faster).

    .venv/bin/python bench/bench_policy_check.py

Writes the policies into bench/out/ (one route per category, all to gpt-4o-mini), times the check of
each in its own process, and prints the seconds and the time per route.
"""

from __future__ import annotations

from pathlib import Path

from bench_audit import OUT, ROUTECOST, compile_routecost, run_measured, save

SIZES = (10_000, 100_000)


def policy_file(routes: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"policy-{routes}.yaml"
    if not path.exists():
        lines = ["name: many-routes", "routes:"]
        lines += [f"  - when: {{category: c{index}}}\n    to: gpt-4o-mini" for index in range(routes)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    compile_routecost()
    results: dict[str, object] = {}
    for routes in SIZES:
        seconds, peak_mb, _ = run_measured([ROUTECOST, "policy", "check", str(policy_file(routes))])
        results[f"routes_{routes}_s"] = round(seconds, 2)
        results[f"routes_{routes}_peak_rss_mb"] = peak_mb
        print(f"{routes:>7,} routes: {seconds:6.2f} s ({1e3 * seconds / routes:.3f} ms a route), peak RSS {peak_mb} MB")
    save("policy-check", results)


if __name__ == "__main__":
    main()
