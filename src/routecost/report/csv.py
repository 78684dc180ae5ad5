"""The CSV report: one row per (section, key), for spreadsheets."""

from __future__ import annotations

import csv
import io
from typing import Any

from routecost.audit import AuditReport
from routecost.escape import csv_cell


class _SafeWriter:
    """A csv writer whose every value goes through ``escape.csv_cell``."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


def render(report: AuditReport) -> str:
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(["section", "name", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                     "output_tokens", "fees_usd", "cost_usd", "share_pct"])
    writer.writerow(["total", "all", report.requests, "", "", "", "", "", report.cost_usd, 100.0])
    for model in report.by_model:
        writer.writerow(["model", model.model, model.requests, model.input_tokens, model.cache_read_tokens,
                         model.cache_write_tokens, model.output_tokens, model.fees_usd, model.cost_usd,
                         model.share_pct])
    for category in report.categories:
        writer.writerow(["category", category.category, category.requests, "", "", "", "", "", category.cost_usd,
                         category.share_pct])
    for unpriced in report.unpriced:
        writer.writerow(["unpriced", unpriced.model, unpriced.requests, unpriced.input_tokens, "", "",
                         unpriced.output_tokens, "", "", ""])
    for reference in report.references:
        writer.writerow(["reference", reference.model, report.requests, "", "", "", "", "", reference.cost_usd, ""])
    for projection in report.policies:
        writer.writerow(["policy", projection.name, "", "", "", "", "", "", projection.cost_usd, ""])
        for row in projection.categories:
            writer.writerow([f"policy:{projection.name}", row.category, row.requests, "", "", "", "", "",
                             row.cost_usd, ""])
    return out.getvalue()
