"""The Markdown report: for a pull-request comment or a wiki page."""

from __future__ import annotations

from routecost.audit import AuditReport
from routecost.report.text import (
    LEVER_HEADER,
    MODEL_HEADER,
    POLICY_CATEGORY_HEADER,
    POLICY_SUMMARY_HEADER,
    QUALITY_HEADER,
    baseline_lines,
    category_rows,
    format_count,
    lever_rows,
    lever_savings_text,
    model_rows,
    notes,
    period_text,
    policy_category_rows,
    policy_notes,
    policy_summary_rows,
    quality_rows,
)


def table(header: list[str], rows: list[list[str]], right_aligned_from: int = 1) -> list[str]:
    """A Markdown table's lines: the first ``right_aligned_from`` columns left-aligned, the rest right."""
    align = ["---" if index < right_aligned_from else "---:" for index in range(len(header))]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(row) + " |" for row in rows)]


def render(report: AuditReport) -> str:
    lines = ["## routecost audit", "", f"**{period_text(report)}** · " + " · ".join(baseline_lines(report)), ""]
    lines += ["### By model", "", *table(MODEL_HEADER, model_rows(report)), ""]
    lines += ["### By category", "", *table(["category", "requests", "cost", "share"], category_rows(report)), ""]
    lines += ["### Policies and references", "", *table(POLICY_SUMMARY_HEADER, policy_summary_rows(report)), ""]
    for projection in report.policies:
        lines += [f"#### {projection.name}", "",
                  *table(POLICY_CATEGORY_HEADER, policy_category_rows(report, projection), right_aligned_from=3), "",
                  lever_savings_text(projection), ""]
        if levers := lever_rows(projection):
            lines += [*table(LEVER_HEADER, levers), ""]
        if qualities := quality_rows(projection):
            lines += ["Quality measured by replay:", "", *table(QUALITY_HEADER, qualities), ""]
    note_lines = notes(report) + policy_notes(report)
    if note_lines:
        lines += ["### Notes", "", *(f"- {line}" for line in note_lines), ""]
    lines.append(f"<sub>{format_count(report.requests)} requests from {len(report.sources)} file(s); "
                 f"prices: {report.catalog}</sub>")
    return "\n".join(lines) + "\n"
