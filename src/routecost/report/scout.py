"""``routecost scout`` output: a terminal table, JSON (which a later run reads back), or Markdown."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group

from routecost.escape import markdown_text, plain
from routecost.report.table import rich_table
from routecost.report.text import format_count, format_usd
from routecost.scout import CategoryScout, ScoutReport

HEADER = ["category", "requests", "logged cost", "largest request (tokens)", "candidates (cost cut)"]


def _candidates(row: CategoryScout, limit: int = 3) -> str:
    if not row.candidates:
        return "none"
    shown = ", ".join(f"{candidate.model} -{candidate.cut_pct:.0f}%" for candidate in row.candidates[:limit])
    more = len(row.candidates) - limit
    return shown + (f" (and {more} more)" if more > 0 else "")


def rows(report: ScoutReport) -> list[list[str]]:
    return [[row.category, format_count(row.requests), format_usd(row.cost_usd),
             format_count(row.largest_request_tokens), _candidates(row)] for row in report.categories]


def summary(report: ScoutReport) -> list[str]:
    lines = [(f"{len(report.considered):,} chat models of {', '.join(report.providers)} priced on each category's "
              f"own requests ({report.catalog}, prices of each request's day); a candidate cuts the cost by at least "
              f"{report.min_cut_pct:g}% and fits the category's largest request. Replay before trusting one.")]
    if report.unsized:
        lines.append(f"{report.unsized:,} models left out: the catalog gives no context window for them")
    if report.changes:
        lines.append(f"Since the last report ({len(report.changes)}):")
        lines += [f"  {change}" for change in report.changes]
    return lines


def renderable(report: ScoutReport) -> Group:
    table = rich_table("Cheaper models per category", HEADER, rows(report), left=(0, 4))
    return Group(table, *(plain(line) for line in summary(report)))


def render_markdown(report: ScoutReport) -> str:
    lines = ["### routecost scout", "", "| " + " | ".join(HEADER) + " |", "|---|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows(report)]
    lines += ["", *(markdown_text(line) for line in summary(report)), ""]
    return "\n".join(lines)


def render_json(report: ScoutReport) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"


def report_dict(report: ScoutReport) -> dict[str, Any]:
    """The report as JSON data (``--format json``; a later run reads it back with ``--since``)."""
    return {
        "as_of": report.as_of.isoformat(), "catalog": report.catalog, "min_cut_pct": report.min_cut_pct,
        "providers": report.providers, "unsized_models": report.unsized, "changes": report.changes,
        "categories": [
            {"category": row.category, "requests": row.requests, "cost_usd": row.cost_usd,
             "largest_request_tokens": row.largest_request_tokens,
             "candidates": [{"model": candidate.model, "cost_usd": candidate.cost_usd, "cut_pct": candidate.cut_pct}
                            for candidate in row.candidates]}
            for row in report.categories
        ],
        "considered": {model: {"input_per_mtok": rates.input, "output_per_mtok": rates.output}
                       for model, rates in sorted(report.considered.items())},
    }


