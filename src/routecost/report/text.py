"""Numbers and sentences shared by the human-readable reports (terminal table and Markdown)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from routecost.audit import AuditReport
from routecost.quality import UNMEASURED, Quality
from routecost.simulate.counterfactual import COUNTERFACTUAL_RULES
from routecost.simulate.latency import format_ms
from routecost.simulate.projection import CategoryProjection, PolicyProjection


def format_usd(amount: float | None) -> str:
    """Dollars to the cent, or to a hundredth of a cent below one dollar (single requests are cheap)."""
    if amount is None:
        return "n/a"
    if abs(amount) < 0.00005:
        amount = 0.0
    if amount < 0:
        return "-" + format_usd(-amount)
    if abs(amount) >= 1 or amount == 0:
        return f"${amount:,.2f}"
    return f"${amount:,.4f}"


def format_usd_apart(first: float, second: float) -> tuple[str, str]:
    """Two amounts with enough digits to show that they differ (``$0.0003`` and ``$0.0003`` say
    nothing: ``$0.000312`` and ``$0.000297`` do), up to a millionth of a cent."""
    shown = format_usd(first), format_usd(second)
    for digits in range(3 if max(abs(first), abs(second)) >= 1 else 5, 9):
        if shown[0] != shown[1] or first == second:
            break
        shown = (f"${first:,.{digits}f}", f"${second:,.{digits}f}") if min(first, second) >= 0 else shown
    return shown


def more_than_shown(total: int, shown: int) -> list[str]:
    """``  ... and N more`` when a list shows only some of its items."""
    return [f"  ... and {format_count(total - shown)} more"] if total > shown else []


def format_count(count: int) -> str:
    return f"{count:,}"


def format_pct(share: float) -> str:
    return f"{0.0 if abs(share) < 0.05 else share:.1f}%"


def period_text(report: AuditReport) -> str:
    period = report.period
    if period.start is None or period.end is None:
        return "period unknown (no timestamps)"
    days = period.days or 0.0
    return f"{period.start:%Y-%m-%d %H:%M} → {period.end:%Y-%m-%d %H:%M} UTC ({days:.1f} days)"


def baseline_lines(report: AuditReport) -> list[str]:
    """The headline numbers, one phrase each."""
    projection = report.projected_30d_usd
    return [
        f"{format_count(report.requests)} requests ({format_count(report.failed)} failed, unbilled)",
        f"total {format_usd(report.cost_usd)}",
        f"{format_usd(report.cost_per_successful_request)} per successful request",
        f"30-day projection {format_usd(projection)}" if projection is not None else "30-day projection n/a (< 1 day)",
        f"{format_count(report.malformed)} malformed",
        f"{format_count(report.unpriced_requests)} unpriced",
    ]


MODEL_HEADER = ["model", "requests", "input (incl. cache)", "cache read", "cache write", "output", "fees", "cost",
                "share"]
"""``input`` counts every input token, cache reads and writes included (they are shown again apart)."""


def model_rows(report: AuditReport) -> list[list[str]]:
    return [
        [row.model, format_count(row.requests), format_count(row.input_tokens), format_count(row.cache_read_tokens),
         format_count(row.cache_write_tokens), format_count(row.output_tokens),
         format_usd(row.fees_usd) if row.fees_usd else "–", format_usd(row.cost_usd), format_pct(row.share_pct)]
        for row in report.by_model
    ]


def category_rows(report: AuditReport) -> list[list[str]]:
    return [
        [row.category, format_count(row.requests), format_usd(row.cost_usd), format_pct(row.share_pct)]
        for row in report.categories
    ]


def notes(report: AuditReport) -> list[str]:
    """What the reader must know to trust the numbers: gaps, estimates, assumptions."""
    return reading_notes(report) + report.assumptions


def reading_notes(report: AuditReport) -> list[str]:
    """What reading and checking the logs found: unpriced models, malformed and skipped records,
    estimates, the logged-cost check."""
    lines: list[str] = []
    if report.unpriced:
        lines.append(f"{format_count(report.unpriced_requests)} requests could not be priced (not counted as $0):")
        lines.extend(
            f"  {row.model} ({row.provider or 'provider unknown'}): {format_count(row.requests)} requests, "
            f"{format_count(row.input_tokens)} in / {format_count(row.output_tokens)} out tokens: {row.reason}"
            for row in report.unpriced
        )
    if report.malformed:
        lines.append(f"{format_count(report.malformed)} malformed records skipped (--strict makes this an error):")
        lines.extend(f"  {example.message()}" for example in report.malformed_examples)
        lines += more_than_shown(report.malformed, len(report.malformed_examples))
    if report.estimated:
        lines.append(f"{format_count(report.estimated)} requests had no usage logged: tokens counted from the "
                     "logged text with tiktoken (estimates)")
    for reason, count in sorted(report.skipped.items()):
        lines.append(f"{format_count(count)} records skipped: {reason}")
    reconciliation = report.reconciliation
    if reconciliation is not None:
        lines.append(
            f"Logged cost check: {format_count(reconciliation.requests)} requests carry their own cost: logged "
            f"{format_usd(reconciliation.logged_usd)}, price sheet {format_usd(reconciliation.computed_usd)}; "
            f"{format_count(reconciliation.differing)} differ by more than 1%"
        )
        for gap in reconciliation.examples:
            logged, computed = format_usd_apart(gap.logged_usd, gap.computed_usd)
            lines.append(f"  {gap.where} {gap.model}: logged {logged}, price sheet {computed}")
        lines += more_than_shown(reconciliation.differing, len(reconciliation.examples))
    return lines


POLICY_SUMMARY_HEADER = ["policy", "baseline", "projected", "range", "savings", "savings %", "30-day savings"]
POLICY_CATEGORY_HEADER = ["category", "requests", "routed to", "baseline", "projected", "range", "savings",
                          "savings %", "projected 30-day cost"]


def format_range(low: float, high: float) -> str:
    return f"{format_usd(low)}–{format_usd(high)}"


def policy_summary_rows(report: AuditReport) -> list[list[str]]:
    """Every policy side by side, then the reference lines (all traffic on one model)."""
    rows = [
        [projection.name, format_usd(projection.baseline_cost_usd), format_usd(projection.cost_usd),
         format_range(projection.total("low_usd"), projection.total("high_usd")),
         format_usd(projection.savings_usd), format_pct(projection.savings_pct),
         format_usd(report.over_30_days(projection.savings_usd))]
        for projection in report.policies
    ]
    rows += [
        [f"all on {reference.model} ({reference.label})", format_usd(report.cost_usd), format_usd(reference.cost_usd), "",
         format_usd(report.cost_usd - reference.cost_usd),
         format_pct(100 * (report.cost_usd - reference.cost_usd) / report.cost_usd if report.cost_usd else 0.0),
         format_usd(report.over_30_days(report.cost_usd - reference.cost_usd))]
        for reference in report.references
    ]
    return rows


def routed_text(routed: dict[str, float], escalated: dict[str, float] | None = None, limit: int = 2) -> str:
    """The main targets of a category, by share, with model names without their provider; then the
    share a cascade escalates (``, then 25% escalated``: to the model named, or as logged)."""
    shown = [f"{share:.0f}% {model.rsplit('/', 1)[-1]}" for model, share in list(routed.items())[:limit]]
    if len(routed) > limit:
        shown.append(f"+{len(routed) - limit} more")
    text = ", ".join(shown)
    if escalated:
        targets = list(escalated)
        where = f" to {targets[0].rsplit('/', 1)[-1]}" if len(targets) == 1 else ""
        text += f", then {sum(escalated.values()):.0f}% escalated{where}"
    return text


def policy_category_rows(report: AuditReport, projection: PolicyProjection) -> list[list[str]]:
    """One row per category, then the policy's total."""
    rows = [
        [row.category, format_count(row.requests), routed_text(row.routed, row.escalated),
         format_usd(row.baseline_cost_usd),
         format_usd(row.cost_usd), format_range(row.low_usd, row.high_usd), format_usd(row.savings_usd),
         format_pct(row.savings_pct), format_usd(report.over_30_days(row.cost_usd))]
        for row in projection.categories
    ]
    rows.append(["total", format_count(sum(row.requests for row in projection.categories)), "",
                 format_usd(projection.baseline_cost_usd), format_usd(projection.cost_usd),
                 format_range(projection.total("low_usd"), projection.total("high_usd")),
                 format_usd(projection.savings_usd), format_pct(projection.savings_pct),
                 format_usd(report.over_30_days(projection.cost_usd))])
    return rows


def policy_notes(report: AuditReport) -> list[str]:
    """The counterfactual model's rules, stated once, and each policy's own assumptions."""
    if not report.policies:
        return []
    lines = [f"Projections: {rule}" for rule in COUNTERFACTUAL_RULES]
    for projection in report.policies:
        unpriced = sum(row.requests - row.priced_requests for row in projection.categories)
        lines.extend(f"{projection.name}: {note}" for note in projection.assumptions)
        if unpriced:
            lines.append(f"{projection.name}: {format_count(unpriced)} requests not in the comparison "
                         "(failed, cached by a gateway, or unpriced in the baseline)")
    return lines


LEVER_NAMES = {"routing": "routing", "trimming": "prompt trimming", "exact_cache": "exact cache", "semantic_cache": "semantic cache",
               "prompt_cache": "prompt caching", "batching": "batching", "interaction": "interaction remainder"}


def lever_savings_text(projection: PolicyProjection) -> str:
    """Savings by lever, each alone against the baseline, and what their overlap takes back."""
    return "savings by lever: " + ", ".join(
        f"{LEVER_NAMES[lever]} {format_usd(amount)}" for lever, amount in projection.levers.items()
    )


def _rate(count: int, total: int) -> str:
    return f"{format_count(count)} ({100 * count / total:.1f}%)" if total else "0"


def lever_table(projection: PolicyProjection) -> tuple[list[str], list[list[str]]]:
    """Per category, what the levers other than routing did (a column per lever the policy pulls):
    prompts trimmed, cache hits, batched requests, and the prompt-cache read share before and after.
    No rows for a policy that only routes."""
    levers = set(projection.policy.levers)
    if not levers - {"routing"}:
        return [], []
    columns: list[tuple[str, Callable[[CategoryProjection], str]]] = [
        (header, cell) for lever, header, cell in (
            ("trimming", "trimmed (input tokens cut)",
             lambda row: f"{_rate(row.trimmed, row.priced_requests)}, {format_count(row.trimmed_tokens)}"),
            ("exact_cache", "exact-cache hits", lambda row: _rate(row.exact_cache_hits, row.priced_requests)),
            ("semantic_cache", "semantic hits", lambda row: _rate(row.semantic_cache_hits, row.priced_requests)),
            ("batching", "batched", lambda row: _rate(row.batched, row.priced_requests)),
        ) if lever in levers
    ]
    columns.append(("cache-read share (logged → policy)",
                    lambda row: f"{row.cache_read_share_before:.1f}% → {row.cache_read_share_after:.1f}%"))
    return (["category", *(header for header, _ in columns)],
            [[row.category, *(cell(row) for _, cell in columns)] for row in projection.categories])


LATENCY_HEADER = ["category", "p50 (logged → policy)", "p95 (logged → policy)", "latency unknown"]


def latency_rows(projection: PolicyProjection) -> list[list[str]]:
    """Per category whose logs give latencies: the median and 95th percentile, as logged and under
    the policy (``simulate/latency.py``); none when the logs carry no latency."""
    return [
        [row.category, f"{format_ms(latency.p50_before_ms)} → {format_ms(latency.p50_after_ms)}",
         f"{format_ms(latency.p95_before_ms)} → {format_ms(latency.p95_after_ms)}",
         format_count(latency.unknown_after) if latency.unknown_after else ""]
        for row in projection.categories if (latency := row.latency) is not None
    ]


SELF_HOSTED_HEADER = ["self-hosted tier", "requests", "GPU-hours", "busiest hour (GPU-hours)", "replicas",
                      "pay per use", "fixed fleet", "as logged"]


def _hours(amount: float) -> str:
    return f"{amount:,.1f}" if amount >= 10 else f"{amount:.3g}"


def self_hosted_rows(projection: PolicyProjection) -> list[list[str]]:
    """Per self-hosted tier: the traffic routed to it, the GPU time it keeps busy (in all, and in the
    logs' busiest hour at the tier's utilisation), the replicas that serve that hour, and three ways
    to pay over the logged period: GPU time as needed (what the projection counts), a fixed fleet
    (busy for the share shown), or the API as logged."""
    rows = []
    for plan in projection.fleets:
        fleet = "n/a" if plan.fleet_cost_usd is None else (
            f"{format_usd(plan.fleet_cost_usd)} ({plan.fleet_utilisation or 0:.0%} busy)")
        replicas = str(plan.replicas) + (f" (needs {plan.replicas_needed})" if plan.replicas_needed > plan.replicas else "")
        rows.append([
            plan.tier.model_id, format_count(round(plan.requests)), _hours(plan.busy_replica_hours * plan.tier.gpus),
            "" if plan.peak_hour is None else f"{plan.peak_hour:%Y-%m-%d %H:00} ({_hours(plan.peak_gpu_hours)})",
            replicas, format_usd(plan.cost_usd), fleet, format_usd(plan.api_cost_usd),
        ])
    return rows


LEVERS_TABLE = "Levers"


@dataclass(frozen=True)
class DetailTable:
    """One of the tables under a policy's category table."""

    title: str
    header: list[str]
    rows: list[list[str]]
    left: tuple[int, ...] = (0,)
    """The text columns (left-aligned in the terminal)."""


def detail_tables(projection: PolicyProjection) -> list[DetailTable]:
    """The levers, latency and self-hosted tables of a policy, those with rows, in the order every
    report shows them."""
    lever_header, levers = lever_table(projection)
    tables = [DetailTable(LEVERS_TABLE, lever_header, levers),
              DetailTable("Latency", LATENCY_HEADER, latency_rows(projection)),
              DetailTable("Self-hosted", SELF_HOSTED_HEADER, self_hosted_rows(projection), left=(0, 3))]
    return [table for table in tables if table.rows]


QUALITY_HEADER = ["category", "judged", "wins/ties/losses", "quality delta", "95% CI", "escalation (measured)"]


def delta_cells(quality: Quality) -> tuple[str, str]:
    """The delta and its interval, or ``unmeasured`` (the judge failed its checks: see the notes)."""
    if quality.unmeasured:
        return UNMEASURED, "(judge not trusted)"
    if quality.delta is None or quality.ci_low is None or quality.ci_high is None:
        return "", ""
    return f"{quality.delta:+.2f}", f"{quality.ci_low:+.2f} to {quality.ci_high:+.2f}"


def quality_rows(projection: PolicyProjection) -> list[list[str]]:
    """Per category with replay measurements: the judged quality delta of the moved requests."""
    rows = []
    for row in projection.categories:
        quality = row.quality
        if quality is None or quality.n == 0:
            continue
        rows.append([
            row.category, format_count(quality.n), f"{quality.wins}/{quality.ties}/{quality.losses}",
            *delta_cells(quality),
            "" if row.escalation_measured is None else f"{100 * row.escalation_measured:.0f}%",
        ])
    return rows
