"""``routecost sweep`` output: a terminal table, JSON, or a self-contained HTML page with the curve."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group

from routecost.escape import plain
from routecost.knob_sweep import SweepPoint, SweepResult
from routecost.report import html, svg
from routecost.report.svg import escape
from routecost.report.table import rich_table
from routecost.report.text import format_pct, format_usd

HEADER = ["value", "cost", "savings", "moved to another model", "quality vs logged", "quality range"]
APGR_TEXT = ("the quality gap recovered, averaged over cost from the cheapest variant to the logged traffic; "
             "0.5 = mixing the two at random, 1.0 = all the quality at the cheapest cost")


def rows(result: SweepResult) -> list[list[str]]:
    return [[f"{point.value}{' (policy)' if point.candidate else ''}", format_usd(point.cost_usd),
             format_pct(point.savings_pct), format_pct(point.moved_pct), _quality(point),
             "" if point.quality_low is None or point.quality_high is None
             else f"{point.quality_low:+.3f} to {point.quality_high:+.3f}"]
            for point in result.points]


def _quality(point: SweepPoint) -> str:
    if point.quality is not None:
        return f"{point.quality:+.3f}"
    return f"not judged ({point.unjudged_moved:,} moved)" if point.unjudged_moved else "—"


def score_line(result: SweepResult) -> str:
    if result.apgr is None:
        return f"APGR: n/a ({result.apgr_note})"
    return f"APGR {result.apgr:.3f} ({APGR_TEXT})"


def renderable(result: SweepResult) -> Group:
    title = f"{result.policy}: {result.knob} (logged cost {format_usd(result.baseline_cost_usd)})"
    return Group(rich_table(title, HEADER, rows(result)), plain(score_line(result)))


def render_json(result: SweepResult) -> str:
    def point(entry: SweepPoint) -> dict[str, Any]:
        return {"value": entry.value, "candidate": entry.candidate, "cost_usd": entry.cost_usd,
                "savings_pct": entry.savings_pct, "moved_pct": entry.moved_pct, "quality": entry.quality,
                "quality_low": entry.quality_low, "quality_high": entry.quality_high,
                "unjudged_moved": entry.unjudged_moved}

    return json.dumps({"policy": result.policy, "knob": result.knob, "baseline_cost_usd": result.baseline_cost_usd,
                       "replay_store": result.replay_store, "apgr": result.apgr, "apgr_note": result.apgr_note or None,
                       "points": [point(entry) for entry in result.points]}, indent=2) + "\n"


def chart(result: SweepResult) -> str:
    """Cost against quality (the logged traffic and the policy's own value marked); without quality,
    cost against the knob's value."""
    judged = [point for point in result.points if point.quality is not None]
    if judged:
        points = [svg.Point(point.cost_usd, point.quality or 0.0, f"{result.knob}={point.value}") for point in judged]
        points.append(svg.Point(result.baseline_cost_usd, 0.0, "logged", kind="baseline"))
        points += [svg.Point(point.cost_usd, point.quality or 0.0, f"policy ({point.value})", kind="candidate")
                   for point in judged if point.candidate]
        return svg.curve(points, "cost", "quality vs logged", format_usd, f"Cost and quality across {result.knob}")
    numeric = [point for point in result.points if isinstance(point.value, int | float)
               and not isinstance(point.value, bool)]
    points = [svg.Point(float(point.value), point.cost_usd, f"{result.knob}={point.value}") for point in numeric]
    points += [svg.Point(float(point.value), point.cost_usd, f"policy ({point.value})", kind="candidate")
               for point in numeric if point.candidate]
    if not points:
        return ""
    return svg.curve(points, result.knob, "cost", lambda value: f"{value:g}", f"Cost across {result.knob}",
                     y_format=format_usd)


def render_html(result: SweepResult) -> str:
    drawn = chart(result)
    return html.page("routecost sweep", (
        f"<h1>routecost sweep: {escape(result.policy)}</h1><p>{escape(score_line(result))}</p>"
        + (html.figure("sweep-curve", result.knob, drawn) if drawn else "")
        + html.table(HEADER, rows(result))
        + f'<p class="muted">logged cost {format_usd(result.baseline_cost_usd)}</p>'))
