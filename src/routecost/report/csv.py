"""The CSV report: one row per (section, key), for spreadsheets."""

from __future__ import annotations

import csv
import io

from routecost.audit import AuditReport


def render(report: AuditReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                     "output_tokens", "cost_usd", "share_pct"])
    writer.writerow(["total", "all", report.requests, "", "", "", "", report.cost_usd, 100.0])
    for row in report.by_model:
        writer.writerow(["model", row.model, row.requests, row.input_tokens, row.cache_read_tokens,
                         row.cache_write_tokens, row.output_tokens, row.cost_usd, row.share_pct])
    for row in report.categories:
        writer.writerow(["category", row.category, row.requests, "", "", "", "", row.cost_usd, row.share_pct])
    for row in report.unpriced:
        writer.writerow(["unpriced", row.model, row.requests, row.input_tokens, "", "", row.output_tokens, "", ""])
    for reference in report.references:
        writer.writerow(["reference", reference.model, report.requests, "", "", "", "", reference.cost_usd, ""])
    return out.getvalue()
