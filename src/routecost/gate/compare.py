"""Two cost reports side by side: what changes per category and in total, in cost, savings and quality.

A side is one policy of a JSON audit report (or the logged traffic, for a report without
policies). The reports are read as the JSON contract, so a baseline made by another routecost
version on another day still compares.

Price-sheet changes are not policy changes. When the two sides were priced with different catalogs
(genai-prices version, price file digest), the logged traffic's cost per category changed by the
prices alone (on the same logs); the base side's cost scaled by that change is what the base policy
would cost at the head's prices, and the rest of the change is the policy's. That split is an
estimate (a price change on a model only the policy routes to shows as policy effect); pricing both
policies in one run (``diff --logs``) needs none.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routecost.errors import UsageError
from routecost.paths import note_input
from routecost.quality import Quality

if TYPE_CHECKING:
    from routecost.audit import AuditOptions

LOGGED = "logged"
"""The side of a report without policies: the traffic as logged."""


@dataclass(frozen=True)
class SideCategory:
    requests: int
    logged_cost_usd: float
    cost_usd: float
    quality: Quality | None = None
    latency_p95_ms: tuple[float | None, float | None] = (None, None)
    """The category's 95th-percentile latency as logged and under the policy (None where unknown)."""

    @property
    def savings_pct(self) -> float:
        return 100 * (self.logged_cost_usd - self.cost_usd) / self.logged_cost_usd if self.logged_cost_usd else 0.0

    @property
    def changed(self) -> bool:
        """Whether the policy changes this category (its cost, or replay judged it)."""
        return self.quality is not None or abs(self.cost_usd - self.logged_cost_usd) > 1e-9


@dataclass(frozen=True)
class Side:
    label: str
    """Where it came from: a report file, or a policy file."""
    policy: str
    policy_file: str | None
    catalog: str
    requests: int
    period: tuple[str | None, str | None]
    categories: Mapping[str, SideCategory]
    unpriced_models: tuple[tuple[str, int], ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def logged_cost_usd(self) -> float:
        return sum(category.logged_cost_usd for category in self.categories.values())

    @property
    def cost_usd(self) -> float:
        return sum(category.cost_usd for category in self.categories.values())

    @property
    def savings_pct(self) -> float:
        logged = self.logged_cost_usd
        return 100 * (logged - self.cost_usd) / logged if logged else 0.0


@dataclass(frozen=True)
class Change:
    """One category (or the total): before, after, and the change split into price and policy effects."""

    category: str
    before: SideCategory | None
    after: SideCategory | None
    price_effect_usd: float

    @property
    def cost_before_usd(self) -> float:
        return self.before.cost_usd if self.before else 0.0

    @property
    def cost_after_usd(self) -> float:
        return self.after.cost_usd if self.after else 0.0

    @property
    def change_usd(self) -> float:
        return self.cost_after_usd - self.cost_before_usd

    @property
    def change_pct(self) -> float | None:
        return 100 * self.change_usd / self.cost_before_usd if self.cost_before_usd else None

    @property
    def policy_effect_usd(self) -> float:
        return self.change_usd - self.price_effect_usd


@dataclass(frozen=True)
class Comparison:
    base: Side
    head: Side
    categories: list[Change]
    total: Change
    notes: list[str] = field(default_factory=list)

    @property
    def prices_changed(self) -> bool:
        return self.base.catalog != self.head.catalog

    @property
    def same_traffic(self) -> bool:
        return self.base.requests == self.head.requests and self.base.period == self.head.period


def load_report(path: str) -> dict[str, Any]:
    """A JSON audit report (``routecost audit --format json``); a problem is one line, exit 2."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    note_input(path)
    try:
        report = json.loads(text)
    except ValueError as error:
        raise UsageError(f"{path}: not JSON ({error}); make one with `routecost audit --format json --out`") from None
    if not isinstance(report, dict) or "baseline" not in report or "policies" not in report:
        raise UsageError(f"{path}: not a routecost JSON report (no `baseline` and `policies`); make one with "
                         "`routecost audit --format json --out FILE`")
    return report


def side(report: Mapping[str, Any], label: str, policy: str | None = None) -> Side:
    """One side of a comparison: the report's policy ``policy`` (its only one by default), or the
    logged traffic for a report without policies (or ``policy="logged"``)."""
    try:
        policies = report["policies"]
        names = [entry["name"] for entry in policies]
        if policy is None and len(policies) > 1:
            raise UsageError(f"{label}: holds {len(policies)} policies ({', '.join(names)}): name one with "
                             "--base-policy / --head-policy")
        if policy is not None and policy != LOGGED and policy not in names:
            raise UsageError(f"{label}: no policy {policy!r} (it holds: "
                             f"{', '.join(names) or 'none, only the logged traffic'})")
        chosen = None if not policies or policy == LOGGED else policies[names.index(policy) if policy else 0]
        return policy_side(report, label, chosen)
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"{label}: not a routecost JSON report: missing or bad field {error}") from None


def policy_side(report: Mapping[str, Any], label: str, chosen: Mapping[str, Any] | None,
                as_logged: bool = False) -> Side:
    """The side of one of the report's policies (None: the logged traffic, by the log's categories).
    ``as_logged`` keeps the policy's categories but takes their logged cost, so the logged traffic
    compares with the policy category by category."""
    assumptions = tuple(report["assumptions"])
    name, policy_file = LOGGED, None
    if chosen is None:
        categories = {row["category"]: SideCategory(int(row["requests"]), float(row["cost_usd"]), float(row["cost_usd"]))
                      for row in report["baseline"]["categories"]}
    else:
        categories = {
            row["category"]: SideCategory(int(row["requests"]), float(row["baseline_cost_usd"]),
                                          float(row["baseline_cost_usd" if as_logged else "cost_usd"]),
                                          None if as_logged else _quality(row.get("quality")),
                                          (None, None) if as_logged else _latency_p95(row.get("latency_ms")))
            for row in chosen["categories"]
        }
        if not as_logged:
            name, policy_file = chosen["name"], chosen.get("source")
            assumptions += tuple(chosen["assumptions"])
    return Side(
        label=label, policy=name, policy_file=policy_file, catalog=str(report["catalog"]),
        requests=int(report["requests"]), period=(report["period"]["start"], report["period"]["end"]),
        categories=categories,
        unpriced_models=tuple((entry["model"], int(entry["requests"])) for entry in report["unpriced_models"]),
        assumptions=assumptions,
    )


def _latency_p95(raw: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    """A category's ``latency_ms`` object's p95 before and after (a report without latency: None)."""
    if not isinstance(raw, Mapping):
        return None, None
    return raw.get("p95_before_ms"), raw.get("p95_after_ms")


def _quality(raw: Mapping[str, Any] | None) -> Quality | None:
    """A category's ``quality`` object back as measured (null, or nothing judged: None)."""
    if raw is None or not raw.get("n"):
        return None
    return Quality(int(raw["n"]), int(raw["wins"]), int(raw["ties"]), int(raw["losses"]), int(raw.get("unparsed", 0)),
                   raw.get("delta"), raw.get("ci_low"), raw.get("ci_high"), raw.get("n_for_width"),
                   raw.get("judge_mode"), raw.get("unmeasured"))


def compare(base: Side, head: Side) -> Comparison:
    names = list(dict.fromkeys([*base.categories, *head.categories]))
    prices_changed = base.catalog != head.catalog
    changes = [_change(name, base.categories.get(name), head.categories.get(name), prices_changed) for name in names]
    changes.sort(key=lambda change: (-max(change.cost_before_usd, change.cost_after_usd), change.category))
    total_before = SideCategory(base.requests, base.logged_cost_usd, base.cost_usd)
    total_after = SideCategory(head.requests, head.logged_cost_usd, head.cost_usd)
    total = Change("total", total_before, total_after, sum(change.price_effect_usd for change in changes))
    comparison = Comparison(base, head, changes, total)
    if prices_changed:
        comparison.notes.append(
            f"prices differ ({base.catalog} → {head.catalog}): the price-sheet effect is estimated from the logged "
            "traffic's change in cost per category and kept apart from the policy's effect"
        )
    if not comparison.same_traffic:
        comparison.notes.append(
            f"the reports cover different traffic ({base.requests:,} vs {head.requests:,} requests, "
            f"{_period(base.period)} vs {_period(head.period)}): the change mixes traffic and policy"
        )
    return comparison


def _change(name: str, before: SideCategory | None, after: SideCategory | None, prices_changed: bool) -> Change:
    if not prices_changed or before is None or after is None or not before.logged_cost_usd:
        return Change(name, before, after, 0.0)
    price_factor = after.logged_cost_usd / before.logged_cost_usd
    return Change(name, before, after, before.cost_usd * (price_factor - 1))


def _period(period: tuple[str | None, str | None]) -> str:
    start, end = period
    return f"{(start or '?')[:10]} to {(end or '?')[:10]}"


def compare_reports(base_path: str, head_path: str, base_policy: str | None, head_policy: str | None) -> Comparison:
    """Two JSON reports (``routecost audit --format json --out``)."""
    return compare(side(load_report(base_path), base_path, base_policy),
                   side(load_report(head_path), head_path, head_policy))


def compare_policies(options: AuditOptions, base_file: str | None, head_file: str) -> Comparison:
    """Two policy files on the same logs, priced in one run (one price sheet, so no price effect);
    without a base policy, the head against the logged traffic."""
    from routecost.audit import run_audit
    from routecost.report.json import report_dict

    files = [file for file in (base_file, head_file) if file is not None]
    report = report_dict(run_audit(dataclasses.replace(options, policy_paths=files), keep_requests=False).report)
    policies = report["policies"]
    head = policies[-1]
    base = policy_side(report, base_file, policies[0]) if base_file else policy_side(report, "logs", head, as_logged=True)
    return compare(base, policy_side(report, head_file, head))
