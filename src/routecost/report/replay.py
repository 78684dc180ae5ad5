"""The replay's plan and results: a table on the terminal, or JSON."""

from __future__ import annotations

import json
from collections import Counter

from rich.table import Table

from routecost.escape import plain
from routecost.quality import CI_METHOD, Interval
from routecost.replay.checks import JudgeCheck
from routecost.replay.endpoints import endpoint_summary
from routecost.replay.results import CategoryResult
from routecost.replay.runner import ReplayPlan, ReplayResults, RunOutcome
from routecost.report.json import quality_fields
from routecost.report.text import delta_cells, format_usd


def plan_lines(plan: ReplayPlan) -> list[str]:
    """What a run would do: requests, calls per model, where prompts go, what it would cost."""
    categories = Counter(task.category for task in plan.tasks)
    lines = [
        (f"policy {plan.policy}: {plan.candidates:,} requests change model; sampled {len(plan.tasks):,} "
        f"({', '.join(f'{category} {count}' for category, count in sorted(categories.items())) or 'none'})"),
    ]
    lines += [f"  not replayable: {count} ({reason})" for reason, count in plan.skipped.most_common()]
    calls = ", ".join(f"{model} {count}" for model, count in sorted(plan.calls_to_send.items())) or "none"
    lines.append(f"calls to send: {calls} (already stored: {plan.stored_calls}); judge {plan.judge}, "
                 f"{plan.template.mode} ({plan.template.version})")
    lines.append(f"judge checks: {len(plan.controls)} control pairs (a logged answer against a broken copy), "
                 f"{plan.check_calls} calls to send" if plan.controls else
                 "judge checks: none (no control pairs could be drawn, or --judge-checks 0): quality will be unmeasured")
    lines.append(f"prompts would go to: {endpoint_summary(list({endpoint.name: endpoint for endpoint in plan.endpoints.values()}.values()))}")
    estimate = (f"estimated cost {format_usd(plan.estimated_usd)} at catalog prices: candidates "
                f"{format_usd(plan.estimated_usd - plan.judge_estimated_usd)}, judge {plan.judge} "
                f"{format_usd(plan.judge_estimated_usd)} (a reply that does not parse is asked again, at most once)")
    if plan.unpriced_calls:
        estimate += f", plus {plan.unpriced_calls} calls to unpriced models (not counted)"
    lines.append(estimate)
    if plan.cheaper_judge is not None:
        model, cost = plan.cheaper_judge
        lines.append(f"a cheaper judge on the same endpoint: --judge {model} would cost about {format_usd(cost)} "
                     f"instead of {format_usd(plan.judge_estimated_usd)} (its checks on the run show whether it "
                     "judges well enough)")
    if plan.judge in {task.target_model for task in plan.tasks}:
        lines.append(f"warning: the judge {plan.judge} is also one of the models judged, and models tend to prefer "
                     "their own answers; choose another --judge")
    return lines


def outcome_lines(outcome: RunOutcome) -> list[str]:
    sent, failed = sum(outcome.sent.values()), sum(outcome.failed.values())
    lines = [f"sent {sent} calls, spent {format_usd(outcome.spent_usd)}"]
    if failed:
        lines.append(f"{failed} calls failed after retries: stored with their errors; a rerun tries them again")
    if outcome.sent_by_another_run:
        lines.append(f"{outcome.sent_by_another_run} calls left to another replay that was sending them on the same "
                     "store (a rerun once it finishes fills in any it could not)")
    lines += [f"endpoint {endpoint} refused a stronger JSON mode for {model}: the judge asked as {form} from then on"
              for (endpoint, model), form in outcome.json_fallbacks.items()]
    if outcome.stopped_by_budget:
        lines.append(f"stopped by --max-spend: {outcome.stopped_by_budget} calls not sent (they could have passed "
                     "the limit); a rerun with a higher limit sends only those")
    return lines


def results_table(results: list[CategoryResult], width: float) -> Table:
    table = Table(title=f"Quality by category (candidate vs logged answer; 95% CI: {CI_METHOD})")
    for header in ("category", "sampled", "answered", "failed", "W/T/L", "delta", "95% CI", f"n for ±{width / 2:g}",
                   "output ratio",
                   "escalation", "unparsed", "replay cost"):
        table.add_column(header, justify="left" if header == "category" else "right")
    for result in results:
        quality = result.quality
        table.add_row(*map(plain, (
            result.category, str(result.sampled), str(result.answered), failed_text(result),
            f"{quality.wins}/{quality.ties}/{quality.losses}",
            *delta_cells(quality),
            "" if quality.n_for_width is None else f"{quality.n_for_width:,}",
            ", ".join(f"{model.partition('/')[2] or model} {ratio.point:.2f} ({ratio.low:.2f}-{ratio.high:.2f})"
                      for model, ratio in result.output_ratios.items()),
            "" if result.escalation is None else
            f"{100 * result.escalation.point:.0f}% ({100 * result.escalation.low:.0f}-{100 * result.escalation.high:.0f}%)",
            str(quality.unparsed), format_usd(result.cost_usd),
        )))
    return table


def check_lines(results: ReplayResults) -> list[str]:
    """How the judge did on its checks, and which categories' quality is therefore unmeasured."""
    lines = [results.check.summary()] if results.check else []
    unmeasured: dict[str, list[str]] = {}
    for result in results.categories:
        if result.quality.unmeasured:
            unmeasured.setdefault(result.quality.unmeasured, []).append(result.category)
    lines += [f"quality unmeasured in {', '.join(categories)}: {reason}" for reason, categories in unmeasured.items()]
    return lines


def failed_text(result: CategoryResult) -> str:
    """Failed calls of a category: candidates, and judge calls when there were any."""
    return f"{result.failed} + {result.judge_failed} judge" if result.judge_failed else str(result.failed)


def failure_lines(results: ReplayResults) -> list[str]:
    """Each endpoint and category with failed calls, and its first errors (credentials redacted)."""
    lines = [f"endpoint {endpoint.name}: {endpoint.failed} of {endpoint.calls} calls failed: {'; '.join(endpoint.errors)}"
             for endpoint in results.endpoints if endpoint.failed]
    return lines + [f"{result.category}: {failed_text(result)} calls failed: {'; '.join(result.errors)}"
                    for result in results.categories if result.errors]


def results_json(plan: ReplayPlan, outcome: RunOutcome | None, results: ReplayResults) -> str:
    return json.dumps({
        "policy": plan.policy,
        "judge": plan.judge,
        "judge_mode": plan.template.mode,
        "template": plan.template.version,
        "sampled": len(plan.tasks),
        "skipped": dict(plan.skipped),
        "estimated_usd": plan.estimated_usd,
        "judge_estimated_usd": plan.judge_estimated_usd,
        "cheaper_judge": None if plan.cheaper_judge is None else {"judge": plan.cheaper_judge[0],
                                                                   "estimated_usd": plan.cheaper_judge[1]},
        "sent": None if outcome is None else dict(outcome.sent),
        "failed": None if outcome is None else dict(outcome.failed),
        "spent_usd": None if outcome is None else outcome.spent_usd,
        "stopped_by_budget": None if outcome is None else outcome.stopped_by_budget,
        "sent_by_another_run": None if outcome is None else outcome.sent_by_another_run,
        "judge_check": check_json(results.check),
        "endpoints": [{"endpoint": endpoint.name, "calls": endpoint.calls, "failed": endpoint.failed,
                       "errors": list(endpoint.errors)} for endpoint in results.endpoints],
        "categories": [
            {"category": result.category, "sampled": result.sampled, "answered": result.answered,
             "failed": result.failed, "judge_failed": result.judge_failed, "errors": list(result.errors),
             "quality": quality_fields(result.quality),
             "output_ratios": {model: interval_json(ratio) for model, ratio in result.output_ratios.items()},
             "escalation_rate": result.escalation_rate,
             "escalation_ci": None if result.escalation is None else [result.escalation.low, result.escalation.high],
             "cost_usd": result.cost_usd}
            for result in results.categories
        ],
    }, indent=2) + "\n"


def check_json(check: JudgeCheck | None) -> dict[str, object] | None:
    if check is None:
        return None
    return {"passed": check.passed, "failures": check.failures, "control_pairs": check.controls,
            "intact_preferred": check.right, "pairs": check.pairs, "order_flips": check.flips,
            "repeats": check.repeats, "self_agreeing": check.agreeing}


def interval_json(interval: Interval) -> dict[str, float | int]:
    return {"ratio": interval.point, "ci_low": interval.low, "ci_high": interval.high, "n": interval.n}
