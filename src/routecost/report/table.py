"""The terminal report: rich tables, headline first. Colour follows rich (NO_COLOR is respected)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from routecost.audit import AuditReport
from routecost.escape import plain
from routecost.report.text import (
    MODEL_HEADER,
    POLICY_CATEGORY_HEADER,
    POLICY_SUMMARY_HEADER,
    QUALITY_HEADER,
    baseline_lines,
    category_rows,
    detail_tables,
    lever_savings_text,
    model_rows,
    notes,
    period_text,
    policy_category_rows,
    policy_notes,
    policy_summary_rows,
    quality_rows,
)


def rich_table(title: str | None, header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,),
               total_row: bool = False) -> Table:
    """A table for the terminal: text columns (``left``) left-aligned, numbers right; with ``total_row``
    the last row in bold. A table too wide for its console wraps its text columns (a name is folded,
    never cut); numbers are never cut either: each number column is as wide as its widest cell."""
    table = Table(title=None if title is None else plain(title), title_justify="left", show_edge=False,
                  pad_edge=False)
    for index, name in enumerate(header):
        if index in left:
            table.add_column(plain(name), justify="left", overflow="fold")
        else:
            widest = max([len(row[index]) for row in rows if index < len(row)] + [len(word) for word in name.split()])
            table.add_column(plain(name), justify="right", no_wrap=True, min_width=widest)
    for index, row in enumerate(rows):
        table.add_row(*(plain(cell) for cell in row), style="bold" if total_row and index == len(rows) - 1 else None)
    return table


BAR_WIDTH = 24
EIGHTHS = " ▏▎▍▌▋▊▉"


def share_bar(share_pct: float, width: int = BAR_WIDTH) -> str:
    """A share (0-100) as a bar of block characters, to an eighth of a character (readable without color)."""
    eighths = round(max(0.0, min(share_pct, 100.0)) / 100 * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[rest] if rest else "")).ljust(width)


def renderable(report: AuditReport) -> Group:
    parts: list[object] = [
        plain(f"routecost audit · {period_text(report)}", style="bold"),
        plain(" · ".join(baseline_lines(report))),
        plain(""),
        rich_table("By model", MODEL_HEADER, model_rows(report)),
        plain(""),
        rich_table(f"By category ({report.category_key})", ["category", "requests", "cost", "share", ""],
               [[*row, share_bar(category.share_pct)] for row, category in zip(category_rows(report), report.categories,
                                                                               strict=True)], left=(0, 4)),
    ]
    parts.append(plain(""))
    parts.append(rich_table("Policies and references (same requests, same dates)", POLICY_SUMMARY_HEADER,
                        policy_summary_rows(report)))
    for projection in report.policies:
        parts.append(plain(""))
        parts.append(rich_table(f"Policy: {projection.name}", POLICY_CATEGORY_HEADER,
                                policy_category_rows(report, projection), left=(0, 2)))
        parts.append(plain(lever_savings_text(projection)))
        parts += [rich_table(f"{detail.title}: {projection.name}", detail.header, detail.rows, left=detail.left)
                  for detail in detail_tables(projection)]
        if qualities := quality_rows(projection):
            parts.append(rich_table(f"Quality (replay): {projection.name}", QUALITY_HEADER, qualities))
    note_lines = notes(report) + policy_notes(report)
    if note_lines:
        parts.append(Text("\nNotes", style="bold"))
        parts.extend(plain(line) for line in note_lines)
    parts.append(Text("\nprices: ", style="dim") + plain(report.catalog, style="dim"))
    return Group(*parts)  # type: ignore[arg-type]


def render(report: AuditReport, width: int = 132) -> str:
    console = Console(width=width, record=True, file=None, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(renderable(report))
    return capture.get()
