"""The Markdown report: for a pull-request comment or a wiki page."""

from __future__ import annotations

from routecost.audit import AuditReport
from routecost.escape import markdown_text
from routecost.report.text import (
    MODEL_HEADER,
    POLICY_CATEGORY_HEADER,
    POLICY_SUMMARY_HEADER,
    QUALITY_HEADER,
    baseline_lines,
    category_rows,
    detail_tables,
    format_count,
    lever_savings_text,
    model_rows,
    notes,
    period_text,
    policy_category_rows,
    policy_notes,
    policy_summary_rows,
    quality_rows,
)


def table(header: list[str], rows: list[list[str]], right_aligned_from: int = 1, bold_last_row: bool = False) -> list[str]:
    """A Markdown table's lines: the first ``right_aligned_from`` columns left-aligned, the rest right;
    every cell escaped (``escape.markdown_text``), so that no value can leave its cell."""
    align = ["---" if index < right_aligned_from else "---:" for index in range(len(header))]
    cells = [[markdown_text(cell) for cell in row] for row in rows]
    if bold_last_row and cells:
        cells[-1] = [f"**{cell}**" if cell else cell for cell in cells[-1]]
    return ["| " + " | ".join(map(markdown_text, header)) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(row) + " |" for row in cells)]


def render(report: AuditReport) -> str:
    lines = ["## routecost audit", "",
             f"**{markdown_text(period_text(report))}** · " + markdown_text(" · ".join(baseline_lines(report))), ""]
    lines += ["### By model", "", *table(MODEL_HEADER, model_rows(report)), ""]
    lines += ["### By category", "", *table(["category", "requests", "cost", "share"], category_rows(report)), ""]
    lines += ["### Policies and references", "", *table(POLICY_SUMMARY_HEADER, policy_summary_rows(report)), ""]
    for projection in report.policies:
        lines += [f"#### {markdown_text(projection.name)}", "",
                  *table(POLICY_CATEGORY_HEADER, policy_category_rows(report, projection), right_aligned_from=3), "",
                  markdown_text(lever_savings_text(projection)), ""]
        for detail in detail_tables(projection):
            lines += [*table(detail.header, detail.rows), ""]
        if qualities := quality_rows(projection):
            lines += ["Quality measured by replay:", "", *table(QUALITY_HEADER, qualities), ""]
    note_lines = notes(report) + policy_notes(report)
    if note_lines:
        lines += ["### Notes", "", *(f"- {markdown_text(line)}" for line in note_lines), ""]
    lines.append(f"<sub>{format_count(report.requests)} requests from {len(report.sources)} file(s); "
                 f"prices: {markdown_text(report.catalog)}</sub>")
    return "\n".join(lines) + "\n"
