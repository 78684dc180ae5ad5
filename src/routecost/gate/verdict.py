"""Hold a comparison to thresholds: which ones the head side crosses, and the verdict.

- ``min_savings``: the head's savings against the logged cost, in total and per named category.
- ``max_cost_increase``: the head's cost over the base's, by the policy's effect alone (a price-sheet
  change is not the policy's doing), in USD or % of the base's cost.
- ``max_quality_drop``: per category, the 95% interval's lower bound of the quality delta (not the
  point estimate), as % of the scale: a drop the data cannot rule out. A changed category whose
  quality is unmeasured (the judge failed its checks) crosses it too, at its ``unmeasured`` level.
- ``min_samples``: judged requests in each category the head policy changes.
- ``max_latency_increase``: per category, the head policy's 95th-percentile latency over the logged
  one, in % (``simulate/latency.py``); a category whose logs give no latency is not held to it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from routecost.gate.compare import Comparison
from routecost.gate.thresholds import (
    FAIL,
    MAX_COST_INCREASE,
    MAX_LATENCY_INCREASE,
    MAX_QUALITY_DROP,
    MIN_SAMPLES,
    MIN_SAVINGS,
    USD,
    WARN,
    Threshold,
    format_bound,
)
from routecost.simulate.latency import format_ms

PASS = "pass"


def signed(value: float) -> str:
    """``+0.05`` or ``−0.15`` (a true minus sign, as the reports print money)."""
    return f"{value:+.2f}".replace("-", "−")


@dataclass(frozen=True)
class Crossing:
    threshold: Threshold
    scope: str
    """``total`` or a category."""
    message: str


@dataclass(frozen=True)
class GateResult:
    comparison: Comparison
    thresholds: list[Threshold]
    crossings: list[Crossing]

    @property
    def verdict(self) -> str:
        levels = {crossing.threshold.level for crossing in self.crossings}
        return FAIL if FAIL in levels else WARN if WARN in levels else PASS


def evaluate(comparison: Comparison, thresholds: list[Threshold]) -> GateResult:
    checks = {MIN_SAVINGS: _min_savings, MAX_COST_INCREASE: _max_cost_increase, MAX_QUALITY_DROP: _max_quality_drop,
              MIN_SAMPLES: _min_samples, MAX_LATENCY_INCREASE: _max_latency_increase}
    crossings = [crossing for threshold in thresholds for crossing in checks[threshold.name](comparison, threshold)]
    return GateResult(comparison, thresholds, crossings)


def _min_savings(comparison: Comparison, threshold: Threshold) -> list[Crossing]:
    head = comparison.head
    crossings = []
    if threshold.value is not None and head.savings_pct < threshold.value:
        crossings.append(Crossing(threshold, "total", f"total savings {head.savings_pct:.1f}% < {threshold.value:g}%"))
    for category, bound in threshold.categories.items():
        row = head.categories.get(category)
        if row is None:
            crossings.append(Crossing(threshold, category, f"{category}: no requests in the report (wanted {bound:g}% "
                                                           "savings)"))
        elif row.savings_pct < bound:
            crossings.append(Crossing(threshold, category, f"{category}: savings {row.savings_pct:.1f}% < {bound:g}%"))
    return crossings


def _max_cost_increase(comparison: Comparison, threshold: Threshold) -> list[Crossing]:
    if threshold.value is None:
        return []
    increase = comparison.total.policy_effect_usd
    before = comparison.total.cost_before_usd
    amount = increase if threshold.unit == USD else (100 * increase / before if before else 0.0)
    if amount <= threshold.value + 1e-9:
        return []
    shown = f"${increase:,.2f}" if threshold.unit == USD else f"{amount:.1f}% (${increase:,.2f})"
    by_policy = " by the policy alone" if comparison.prices_changed else ""
    return [Crossing(threshold, "total", f"cost rises {shown}{by_policy} > "
                                        f"{format_bound(threshold.name, threshold.value, threshold.unit)}")]


def _max_quality_drop(comparison: Comparison, threshold: Threshold) -> list[Crossing]:
    if threshold.value is None:
        return []
    crossings = []
    for category, row in comparison.head.categories.items():
        quality = row.quality
        if quality is not None and quality.unmeasured and row.changed:
            crossings.append(Crossing(dataclasses.replace(threshold, level=threshold.unmeasured_level), category,
                                      f"{category}: quality unmeasured ({quality.unmeasured}), n={quality.n}"))
            continue
        if quality is None or quality.drop_pct is None or quality.drop_pct <= threshold.value:
            continue
        crossings.append(Crossing(threshold, category, (
            f"{category}: quality could drop {quality.drop_pct:.1f}% (95% CI low end {signed(quality.ci_low or 0.0)}, "
            f"n={quality.n}) > {threshold.value:g}%")))
    return crossings


def _min_samples(comparison: Comparison, threshold: Threshold) -> list[Crossing]:
    if threshold.value is None:
        return []
    crossings = []
    for category, row in comparison.head.categories.items():
        judged = row.quality.n if row.quality else 0
        if row.changed and judged < threshold.value:
            crossings.append(Crossing(threshold, category,
                                      f"{category}: {judged} judged requests < {threshold.value:g}"))
    return crossings


def _max_latency_increase(comparison: Comparison, threshold: Threshold) -> list[Crossing]:
    if threshold.value is None:
        return []
    crossings = []
    for category, row in comparison.head.categories.items():
        before, after = row.latency_p95_ms
        if before is None or after is None or before <= 0:
            continue
        increase = 100 * (after - before) / before
        if increase > threshold.value + 1e-9:
            crossings.append(Crossing(threshold, category, (
                f"{category}: p95 latency {format_ms(before)} → {format_ms(after)} (+{increase:.0f}%) > "
                f"{threshold.value:g}%")))
    return crossings
