"""``routecost policy init``: a starter policy written from what the logs contain.

It lists the categories found in the logs, one route per category that keeps the logged models, and
as a comment under each the cheapest model seen in the logs with what the category would cost on
it, so editing the file is a matter of uncommenting lines. The file it writes passes
``routecost policy check`` as it is.
"""

from __future__ import annotations

import polars as pl

from routecost.audit import Audit
from routecost.report.text import format_count, format_usd
from routecost.simulate.references import all_traffic_on


def starter_policy(audit: Audit, name: str = "starter") -> str:
    report = audit.report
    frame = audit.priced.requests
    cheapest = report.references[0].model if report.references else None
    lines = [
        f"# A starter policy written by `routecost policy init` from {format_count(report.requests)} requests",
        f"# ({', '.join(report.sources[:3])}{', ...' if len(report.sources) > 3 else ''}).",
        "# Every route keeps the logged model: uncomment a `to:` line to try a cheaper one, then run",
        "#   routecost audit LOGS --policy THIS_FILE",
        f"name: {name}",
        "categories:",
        f"  - from: metadata.{report.category_key}   # the category the logs carry",
        f"  - from: tag.{report.category_key}",
        "routes:",
    ]
    for row in report.categories:
        in_category = frame.filter(pl.col("category") == row.category)
        top = (
            in_category.filter(pl.col("model_id").is_not_null())["model_id"].value_counts(sort=True).head(2)
            .get_column("model_id").to_list()
        )
        lines.append(f"  # {row.category}: {format_count(row.requests)} requests, {format_usd(row.cost_usd)} "
                     f"({row.share_pct:.1f}% of cost), mostly on {', '.join(top) or 'unpriced models'}")
        lines.append(f"  - when: {{category: {_quoted(row.category)}}}")
        if cheapest is not None and row.cost_usd:
            on_cheapest = all_traffic_on(in_category, cheapest, audit.book, audit.as_of,
                                         audit.book.user_prices.tokenizer_ratios)
            lines.append(f"    # to: {cheapest}   # all of {row.category} on it: {format_usd(on_cheapest)}")
        lines.append("    to: keep")
    lines += ["  - to: keep", ""]
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
