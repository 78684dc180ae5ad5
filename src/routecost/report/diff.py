"""``routecost diff`` and ``routecost gate`` output: a terminal table, a Markdown PR comment, or JSON.

All three show the same rows: per category and in total, the cost before (base) and after (head),
the change with an up/down marker, savings against the logged cost on both sides, and the head's
quality; with different price sheets, the change split into the prices' and the policy's effect.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group

from routecost.escape import markdown_text, plain
from routecost.gate.compare import Change, Comparison, Side, SideCategory
from routecost.gate.thresholds import FAIL, WARN, Threshold
from routecost.gate.verdict import GateResult, signed
from routecost.quality import UNMEASURED
from routecost.report import markdown
from routecost.report.json import quality_fields
from routecost.report.table import rich_table
from routecost.report.text import format_count, format_pct, format_usd

UP, DOWN, SAME = "▲", "▼", "="
VERDICT_MARK = {"pass": "✅", WARN: "⚠️", FAIL: "❌"}
LEVEL_MARK = {WARN: "⚠️", FAIL: "❌"}


def header(comparison: Comparison) -> list[str]:
    columns = ["category", "requests", "before", "after", "change", "savings before", "savings after"]
    if comparison.prices_changed:
        columns += ["price effect", "policy effect"]
    return [*columns, "quality after (95% CI)"]


def change_text(change: Change) -> str:
    """``▲ +$1.20 (+4.0%)``; ``=`` only when nothing changed (a change below a cent is still one)."""
    amount = change.change_usd
    if abs(amount) < SAME_BELOW_USD:
        return f"{SAME} $0.00"
    marker, sign = (UP, "+") if amount > 0 else (DOWN, "−")
    percent = "" if change.change_pct is None else f" ({sign}{abs(change.change_pct):.1f}%)"
    return f"{marker} {sign}{format_usd(abs(amount))}{percent}"


SAME_BELOW_USD = 5e-7
"""Float noise, not a change (the reports show amounts down to a hundredth of a cent)."""


def requests_text(before: SideCategory | None, after: SideCategory | None) -> str:
    """The category's requests; both counts when the two sides categorise differently."""
    counts = [side.requests if side else 0 for side in (before, after)]
    return format_count(counts[1]) if counts[0] == counts[1] else f"{format_count(counts[0])} → {format_count(counts[1])}"


def signed_usd(amount: float) -> str:
    return ("+" if amount > 0.005 else "−" if amount < -0.005 else "") + format_usd(abs(amount))


def quality_text(row: SideCategory | None) -> str:
    quality = row.quality if row else None
    if quality is not None and quality.unmeasured:
        return f"{UNMEASURED} n={quality.n}"
    if quality is None or quality.delta is None:
        return "—"
    interval = "" if quality.ci_low is None or quality.ci_high is None else (
        f" [{signed(quality.ci_low)}, {signed(quality.ci_high)}]")
    return f"{signed(quality.delta)}{interval} n={quality.n}"


def rows(comparison: Comparison) -> list[list[str]]:
    result = []
    for change in [*comparison.categories, comparison.total]:
        before, after = change.before, change.after
        row = [
            change.category, requests_text(before, after),
            format_usd(change.cost_before_usd) if before else "—", format_usd(change.cost_after_usd) if after else "—",
            change_text(change),
            format_pct(before.savings_pct) if before else "—", format_pct(after.savings_pct) if after else "—",
        ]
        if comparison.prices_changed:
            row += [signed_usd(change.price_effect_usd), signed_usd(change.policy_effect_usd)]
        row.append(quality_text(after) if change is not comparison.total else "")
        result.append(row)
    return result


def side_text(side: Side) -> str:
    return f"{side.policy} ({side.label})"


def summary_line(comparison: Comparison) -> str:
    total = comparison.total
    return (f"{side_text(comparison.head)} vs {side_text(comparison.base)}: {format_usd(total.cost_after_usd)} vs "
            f"{format_usd(total.cost_before_usd)}, {change_text(total)}; savings against the logged cost "
            f"{format_pct(comparison.head.savings_pct)} (was {format_pct(comparison.base.savings_pct)})")


def verdict_line(gate: GateResult) -> str:
    failed = sum(crossing.threshold.level == FAIL for crossing in gate.crossings)
    warned = len(gate.crossings) - failed
    if gate.verdict == FAIL:
        detail = f"{failed} fail threshold{'s' if failed != 1 else ''} crossed"
        detail += f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    elif gate.verdict == WARN:
        detail = f"{warned} warning{'s' if warned != 1 else ''}"
    else:
        count = len(gate.thresholds)
        detail = f"{count} threshold{'s hold' if count != 1 else ' holds'}"
    return f"routecost gate: {gate.verdict} ({detail})"


def crossing_lines(gate: GateResult) -> list[str]:
    return [f"{crossing.threshold.level} · {crossing.threshold.name.replace('_', '-')}: {crossing.message}"
            for crossing in gate.crossings]


def unpriced_text(comparison: Comparison) -> str | None:
    models: dict[str, int] = {}
    for side in (comparison.base, comparison.head):
        for model, requests in side.unpriced_models:
            models[model] = max(models.get(model, 0), requests)
    if not models:
        return None
    return ", ".join(f"{model} ({format_count(requests)} requests)" for model, requests in models.items())


def assumptions(comparison: Comparison) -> list[str]:
    return list(dict.fromkeys([*comparison.notes, *comparison.head.assumptions]))


def footer(comparison: Comparison) -> str:
    base, head = comparison.base, comparison.head
    return f"base: {side_text(base)}, prices {base.catalog} · head: {side_text(head)}, prices {head.catalog}"


def render_markdown(comparison: Comparison, gate: GateResult | None = None) -> str:
    title = f"{VERDICT_MARK[gate.verdict]} {verdict_line(gate)}" if gate else "routecost diff"
    lines = [f"### {markdown_text(title)}", "", markdown_text(summary_line(comparison)), ""]
    lines += [*markdown.table(header(comparison), rows(comparison), bold_last_row=True), ""]
    if gate and gate.crossings:
        lines += ["**Thresholds crossed**", ""]
        lines += [f"- {LEVEL_MARK[crossing.threshold.level]} {markdown_text(line)}"
                  for crossing, line in zip(gate.crossings, crossing_lines(gate), strict=True)]
        lines.append("")
    if gate and gate.thresholds:
        lines += [markdown_text(f"Thresholds: {'; '.join(threshold.describe() for threshold in gate.thresholds)}"), ""]
    unpriced = unpriced_text(comparison)
    if unpriced:
        lines += [f"**Unpriced models** (left out of every figure): {markdown_text(unpriced)}", ""]
    notes = assumptions(comparison)
    if notes:
        lines += [f"<details><summary>Assumptions ({len(notes)})</summary>", "",
                  *(f"- {markdown_text(note)}" for note in notes), "", "</details>", ""]
    lines.append(f"<sub>{markdown_text(footer(comparison))}</sub>")
    return "\n".join(lines) + "\n"


def renderable(comparison: Comparison, gate: GateResult | None = None) -> Group:
    parts: list[Any] = []
    if gate:
        style = {"pass": "bold green", WARN: "bold yellow", FAIL: "bold red"}[gate.verdict]
        parts.append(plain(verdict_line(gate), style=style))
    parts.append(plain(summary_line(comparison)))
    parts.append(rich_table(None, header(comparison), rows(comparison), total_row=True))
    if gate:
        for crossing, line in zip(gate.crossings, crossing_lines(gate), strict=True):
            parts.append(plain(line, style="red" if crossing.threshold.level == FAIL else "yellow"))
    unpriced = unpriced_text(comparison)
    if unpriced:
        parts.append(plain(f"unpriced models (left out of every figure): {unpriced}", style="yellow"))
    parts += [plain(f"· {note}", style="dim") for note in assumptions(comparison)]
    parts.append(plain(footer(comparison), style="dim"))
    return Group(*parts)


def render_json(comparison: Comparison, gate: GateResult | None = None) -> str:
    return json.dumps({
        "base": _side_json(comparison.base),
        "head": _side_json(comparison.head),
        "prices_changed": comparison.prices_changed,
        "same_traffic": comparison.same_traffic,
        "total": _change_json(comparison.total),
        "categories": [_change_json(change) for change in comparison.categories],
        "notes": comparison.notes,
        "gate": None if gate is None else {
            "verdict": gate.verdict,
            "thresholds": [_threshold_json(threshold) for threshold in gate.thresholds],
            "crossed": [{"threshold": crossing.threshold.name, "level": crossing.threshold.level,
                         "scope": crossing.scope, "message": crossing.message} for crossing in gate.crossings],
        },
    }, indent=2, ensure_ascii=False) + "\n"


def _side_json(side: Side) -> dict[str, Any]:
    return {"source": side.label, "policy": side.policy, "catalog": side.catalog, "requests": side.requests,
            "logged_cost_usd": side.logged_cost_usd, "cost_usd": side.cost_usd, "savings_pct": side.savings_pct,
            "unpriced_models": [{"model": model, "requests": requests} for model, requests in side.unpriced_models]}


def _change_json(change: Change) -> dict[str, Any]:
    def side(row: SideCategory | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {"requests": row.requests, "logged_cost_usd": row.logged_cost_usd, "cost_usd": row.cost_usd,
                "savings_pct": row.savings_pct, "quality": None if row.quality is None else quality_fields(row.quality)}

    return {"category": change.category, "before": side(change.before), "after": side(change.after),
            "change_usd": change.change_usd, "change_pct": change.change_pct,
            "price_effect_usd": change.price_effect_usd, "policy_effect_usd": change.policy_effect_usd}


def _threshold_json(threshold: Threshold) -> dict[str, Any]:
    return {"name": threshold.name, "value": threshold.value, "unit": threshold.unit, "level": threshold.level,
            "categories": dict(threshold.categories)}
