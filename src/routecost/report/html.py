"""The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched).

Charts first, tables after: cost by category and model as stacked bars (the logged traffic beside
each policy), savings by lever as a waterfall, quality by category with 95% intervals when replay
measured it; then the policies, the models, the assumptions and the unpriced models.
"""

from __future__ import annotations

from collections.abc import Sequence

from routecost.audit import AuditReport
from routecost.quality import MAX_DELTA
from routecost.report import svg
from routecost.report.svg import escape
from routecost.report.text import (
    LEVER_NAMES,
    LEVERS_TABLE,
    MODEL_HEADER,
    POLICY_CATEGORY_HEADER,
    POLICY_SUMMARY_HEADER,
    QUALITY_HEADER,
    baseline_lines,
    detail_tables,
    format_count,
    format_usd,
    model_rows,
    period_text,
    policy_category_rows,
    policy_notes,
    policy_summary_rows,
    quality_rows,
    reading_notes,
)
from routecost.simulate.projection import CostStack, PolicyProjection

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee}
td:not(:first-child),th:not(:first-child){text-align:right;white-space:nowrap}th{background:#f6f6f6}
svg{max-width:100%;height:auto}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.4rem}.legend{font-size:.8rem;margin:.3rem 0}
.key{display:inline-block;margin-right:.8rem}.key i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;
vertical-align:-1px}.muted{color:#666;font-size:.85rem}.warn{color:#a15c00}
"""
TOP_MODELS = 9
"""Models with their own color in the stacked bars; the rest are grouped as ``other``."""


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(kind: str, caption: str, chart: str, extra: str = "") -> str:
    """A chart with its caption; ``data-chart`` names its kind (the browser test finds charts by it)."""
    return f'<figure class="chart" data-chart="{kind}"><figcaption>{escape(caption)}</figcaption>{extra}{chart}</figure>'


def page(title: str, body: str) -> str:
    """A whole self-contained HTML document."""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>{body}</body></html>\n")


def _model_colors(stacks: Sequence[Sequence[CostStack]]) -> dict[str, str]:
    """One color per model across every chart, the dearest models first."""
    totals: dict[str, float] = {}
    for stack_list in stacks:
        for stack in stack_list:
            for model, cost in stack.by_model.items():
                totals[model] = totals.get(model, 0.0) + cost
    ranked = sorted(totals, key=lambda model: (-totals[model], model))
    colors = svg.colors_for(ranked[:TOP_MODELS])
    if len(ranked) > TOP_MODELS:
        colors["other"] = svg.OTHER_COLOR
    return colors


def _parts(stack: CostStack | None, colors: dict[str, str]) -> dict[str, float]:
    parts: dict[str, float] = {}
    for model, cost in (stack.by_model.items() if stack else ()):
        key = model if model in colors else "other"
        parts[key] = parts.get(key, 0.0) + cost
    return parts


def cost_chart(report: AuditReport, projection: PolicyProjection | None, colors: dict[str, str]) -> str:
    if projection is None:
        groups = [(stack.category, [svg.Bar("logged", _parts(stack, colors))]) for stack in report.logged_stacks]
        caption = "Cost by category and model (as logged)"
    else:
        projected = {stack.category: stack for stack in projection.projected_stacks}
        groups = [(stack.category, [svg.Bar("logged", _parts(stack, colors)),
                                    svg.Bar(projection.name, _parts(projected.get(stack.category), colors))])
                  for stack in projection.logged_stacks]
        caption = f"Cost by category and model: logged vs {projection.name}"
    chart = svg.stacked_bars(groups, colors, format_usd, caption)
    return figure("cost-by-category", caption, chart, svg.legend(colors))


def lever_chart(projection: PolicyProjection) -> str:
    steps = [(LEVER_NAMES.get(lever, lever), amount) for lever, amount in projection.levers.items()
             if lever != "interaction" or abs(amount) > 1e-9]
    caption = f"Savings by lever: {projection.name}"
    chart = svg.waterfall(("logged", projection.baseline_cost_usd), steps, ("projected", projection.cost_usd),
                          format_usd, caption)
    return figure("savings-waterfall", caption, chart)


def quality_chart(projection: PolicyProjection) -> str | None:
    rows = []
    largest = 1.0
    for category in projection.categories:
        quality = category.quality
        if quality is None or quality.delta is None or quality.ci_low is None or quality.ci_high is None:
            continue
        largest = max(largest, MAX_DELTA.get(quality.judge_mode or "", 1.0))
        rows.append(svg.Interval(category.category, quality.delta, quality.ci_low, quality.ci_high, f"n={quality.n}"))
    if not rows:
        return None
    caption = f"Quality by category: {projection.name} vs the logged answers (95% CI)"
    return figure("quality-intervals", caption, svg.intervals(rows, (-largest, largest), caption))


def render(report: AuditReport) -> str:
    colors = _model_colors([report.logged_stacks, *(projection.projected_stacks for projection in report.policies)])
    parts = [(f"<h1>routecost audit</h1><p>{escape(period_text(report))} · "
             f"{escape(' · '.join(baseline_lines(report)))}</p>")]
    parts.append("<h2>Cost</h2>")
    sides: list[PolicyProjection | None] = [*report.policies] or [None]
    parts += [cost_chart(report, projection, colors) for projection in sides]
    if report.policies:
        parts.append("<h2>Savings</h2>")
        parts.append(table(POLICY_SUMMARY_HEADER, policy_summary_rows(report)))
        parts += [lever_chart(projection) for projection in report.policies if projection.levers]
        quality = [chart for projection in report.policies if (chart := quality_chart(projection))]
        if quality:
            parts.append("<h2>Quality (replay)</h2>")
            parts += quality
            parts += [table(QUALITY_HEADER, rows) for projection in report.policies
                      if (rows := quality_rows(projection))]
        for projection in report.policies:
            parts.append(f"<h2>{escape(projection.name)} by category</h2>")
            parts.append(table(POLICY_CATEGORY_HEADER, policy_category_rows(report, projection)))
            parts += [table(detail.header, detail.rows) for detail in detail_tables(projection)
                      if detail.title != LEVERS_TABLE]  # the levers are charted above
    parts.append("<h2>By model</h2>")
    parts.append(table(MODEL_HEADER, model_rows(report)))
    parts.append('<h2 id="unpriced">Unpriced models</h2>')
    if report.unpriced:
        parts.append('<p class="warn">Left out of every figure: add an alias or a price in a --prices file.</p>')
        parts.append(table(["model", "provider", "requests", "why"],
                            [[row.model, row.provider or "", format_count(row.requests), row.reason] for row in report.unpriced]))
    else:
        parts.append("<p>None: every request was priced.</p>")
    if reading := reading_notes(report):  # what reading found, apart from what the figures assume
        parts.append('<h2 id="reading">Reading and checks</h2><ul>' + "".join(
            f"<li>{escape(line)}</li>" for line in reading) + "</ul>")
    parts.append('<h2 id="assumptions">Assumptions</h2><ul>' + "".join(
        f"<li>{escape(line)}</li>" for line in report.assumptions + policy_notes(report)) + "</ul>")
    parts.append(f'<p class="muted">{report.requests:,} requests from {len(report.sources)} file(s); '
                 f"prices: {escape(report.catalog)}</p>")
    return page("routecost audit", "".join(parts))
