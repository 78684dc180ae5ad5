"""A policy's projection: its result types, and how the projections of a log's segments add up.

A streamed audit projects each policy on one segment of the log at a time (``audit.py``). Every
figure of a category's projection is a sum over its requests, or a ratio of two sums, so each
segment's projection keeps those sums (``CategoryTotals``) and the segments' sums are added before
the figures are taken: the result is the projection of the whole log, up to the order of float
additions. Notes add up as well: a clause matched no request only if it matched none in any segment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from routecost.policy.conditions import UNMATCHED
from routecost.policy.model import Policy
from routecost.quality import Quality
from routecost.simulate.latency import Latency
from routecost.simulate.self_hosted import FleetPlan, added_loads

TOKENIZER_NOTE = "tokenizer table ratios used (+/-10%): "
"""The note naming the tokenizer families whose ratios came from the table, before the families."""

@dataclass(frozen=True)
class CategoryProjection:
    category: str
    requests: int
    priced_requests: int
    baseline_cost_usd: float
    cost_usd: float
    low_usd: float
    high_usd: float
    routed: dict[str, float]
    """Share (0-100) of the category's priced requests sent to each model (a cascade's first try)."""
    escalated: dict[str, float] = field(default_factory=dict)
    """Share (0-100) of the category's priced requests a cascade escalates to each model (expected)."""
    exact_cache_hits: int = 0
    exact_cache_hit_cost_usd: float = 0.0
    """What the exact-cache hits cost as logged."""
    semantic_cache_hits: int = 0
    batched: int = 0
    trimmed: int = 0
    """Requests whose prompt a trim rule cut ..."""
    trimmed_tokens: int = 0
    """... and the input tokens it cut from them (o200k, as counted on the logged text)."""
    cache_read_share_before: float = 0.0
    """Share (0-100) of the category's input tokens read from a prompt cache, as logged ..."""
    cache_read_share_after: float = 0.0
    """... and under the policy."""
    quality: Quality | None = None
    """The quality delta replay measured for the category's moved requests (``audit --replay``)."""
    escalation_measured: float | None = None
    latency: Latency | None = None
    """The category's latency as logged and under the policy (``simulate/latency.py``)."""

    @property
    def savings_usd(self) -> float:
        return self.baseline_cost_usd - self.cost_usd

    @property
    def savings_pct(self) -> float:
        return 100.0 * self.savings_usd / self.baseline_cost_usd if self.baseline_cost_usd else 0.0


@dataclass(frozen=True)
class CostStack:
    """One category's cost split by model (for stacked bars)."""

    category: str
    by_model: dict[str, float]


@dataclass
class PolicyProjection:
    policy: Policy
    categories: list[CategoryProjection]
    rows: pl.DataFrame
    """Per request, in the priced frame's order: category, routed_model, projected_cost_usd (+ range);
    empty for a streamed audit, which keeps no requests."""
    assumptions: list[str] = field(default_factory=list)
    levers: dict[str, float] = field(default_factory=dict)
    """Savings by lever (each alone against the baseline) and the ``interaction`` remainder."""
    logged_stacks: list[CostStack] = field(default_factory=list)
    """The policy's categories as logged, by logged model ..."""
    projected_stacks: list[CostStack] = field(default_factory=list)
    """... and under the policy, by the model each request is routed to (a cascade's first try)."""
    totals: CategoryTotals | None = None
    """The sums behind ``categories``: what the projections of two segments of a log add up with."""
    self_hosted_load: pl.DataFrame | None = None
    """The traffic on the policy's self-hosted tiers by hour (``simulate/self_hosted.py``) ..."""
    fleets: list[FleetPlan] = field(default_factory=list)
    """... and the fleet each tier needs over the logged period (set once the period is known)."""

    @property
    def name(self) -> str:
        return self.policy.name

    def total(self, attribute: str) -> float:
        return float(sum(getattr(category, attribute) for category in self.categories))

    @property
    def baseline_cost_usd(self) -> float:
        return self.total("baseline_cost_usd")

    @property
    def cost_usd(self) -> float:
        return self.total("cost_usd")

    @property
    def savings_usd(self) -> float:
        return self.baseline_cost_usd - self.cost_usd

    @property
    def savings_pct(self) -> float:
        baseline = self.baseline_cost_usd
        return 100.0 * self.savings_usd / baseline if baseline else 0.0



@dataclass(frozen=True)
class CategoryTotals:
    """Per category, the sums a projection's figures are taken from: totals, requests by routed
    model, and expected escalations by escalation model."""

    totals: pl.DataFrame
    routed: pl.DataFrame
    escalated: pl.DataFrame

    @classmethod
    def of(cls, rows: pl.DataFrame) -> CategoryTotals:
        """The sums of a projection's rows (see ``routing._project``)."""
        in_scope = pl.col("in_scope")
        totals = rows.group_by("category").agg(
            requests=pl.len(),
            priced_requests=in_scope.sum(),
            baseline_cost_usd=pl.col("cost_usd").filter(pl.col("projected_cost_usd").is_not_null()).sum(),
            cost_usd=pl.col("projected_cost_usd").sum(),
            low_usd=pl.col("projected_low_usd").sum(),
            high_usd=pl.col("projected_high_usd").sum(),
            exact_cache_hits=(in_scope & pl.col("exact_cache_hit")).sum(),
            exact_cache_hit_cost_usd=pl.col("cost_usd").filter(in_scope & pl.col("exact_cache_hit")).sum(),
            semantic_cache_hits=(in_scope & pl.col("semantic_cache_hit")).sum(),
            batched=pl.col("batched").sum(),
            trimmed=pl.col("trimmed").sum(),
            trimmed_tokens=pl.col("trimmed_tokens").filter(pl.col("trimmed")).sum(),
            **{name: pl.col(name).sum() for name in ("cache_read_before", "input_before", "cache_read_after",
                                                     "input_after")},
        )
        in_scope_rows = rows.filter(in_scope)
        routed = in_scope_rows.group_by("category", "routed_model").agg(count=pl.len())
        escalated = (in_scope_rows.filter(pl.col("escalate_to").is_not_null()).group_by("category", "escalate_to")
                     .agg(expected=pl.col("escalate_rate").sum()))
        return cls(totals, routed, escalated)

    @classmethod
    def added(cls, parts: Sequence[CategoryTotals]) -> CategoryTotals:
        def add(frames: list[pl.DataFrame], keys: tuple[str, ...]) -> pl.DataFrame:
            return pl.concat(frames, how="vertical").group_by(keys).agg(pl.exclude(keys).sum())

        return cls(add([part.totals for part in parts], ("category",)),
                   add([part.routed for part in parts], ("category", "routed_model")),
                   add([part.escalated for part in parts], ("category", "escalate_to")))

    def projections(self) -> list[CategoryProjection]:
        """The categories, dearest baseline first."""
        totals = self.totals.with_columns(
            pl.col("baseline_cost_usd", "cost_usd", "low_usd", "high_usd").round(9),  # float sums' 1e-16 residues
            cache_read_share_before=100 * pl.col("cache_read_before") / pl.col("input_before"),
            cache_read_share_after=100 * pl.col("cache_read_after") / pl.col("input_after"),
        ).sort("baseline_cost_usd", "category", descending=[True, False])
        priced = self.totals.select("category", "priced_requests")
        routed = self._shares(self.routed.join(priced, on="category"), "routed_model", pl.col("count"))
        escalated = self._shares(self.escalated.join(priced, on="category"), "escalate_to", pl.col("expected"))
        return [
            CategoryProjection(
                category=row["category"], requests=row["requests"], priced_requests=row["priced_requests"],
                baseline_cost_usd=row["baseline_cost_usd"], cost_usd=row["cost_usd"], low_usd=row["low_usd"],
                high_usd=row["high_usd"], routed=routed.get(row["category"], {}),
                escalated=escalated.get(row["category"], {}),
                exact_cache_hits=row["exact_cache_hits"], exact_cache_hit_cost_usd=row["exact_cache_hit_cost_usd"],
                semantic_cache_hits=row["semantic_cache_hits"],
                batched=row["batched"], trimmed=row["trimmed"], trimmed_tokens=row["trimmed_tokens"],
                cache_read_share_before=row["cache_read_share_before"] or 0.0,
                cache_read_share_after=row["cache_read_share_after"] or 0.0,
            )
            for row in totals.iter_rows(named=True)
        ]

    @staticmethod
    def _shares(frame: pl.DataFrame, model: str, amount: pl.Expr) -> dict[str, dict[str, float]]:
        """Per category, each model's share (0-100) of the category's priced requests, largest first."""
        shares: dict[str, dict[str, float]] = {}
        for category, name, share in frame.select(
            "category", model, share=100.0 * amount / pl.col("priced_requests")
        ).sort("share", model, descending=[True, False]).iter_rows():
            shares.setdefault(category, {})[name] = share
        return shares


def added_projections(parts: Sequence[PolicyProjection]) -> PolicyProjection:
    """One policy's projections of a log's segments, added up into the projection of the log."""
    if len(parts) == 1:
        return parts[0]
    totals = CategoryTotals.added([part.totals for part in parts if part.totals is not None])
    levers: Counter[str] = Counter()
    for part in parts:
        levers.update(part.levers)
    loads = [part.self_hosted_load for part in parts if part.self_hosted_load is not None]
    return PolicyProjection(
        policy=parts[0].policy, categories=totals.projections(), rows=pl.DataFrame(),
        assumptions=added_notes([part.assumptions for part in parts]),
        levers={lever: round(amount, 9) + 0.0 for lever, amount in levers.items()}, totals=totals,
        self_hosted_load=added_loads(loads) if loads else None)


def added_notes(parts: Sequence[Sequence[str]]) -> list[str]:
    """The notes of a log's segments as the whole log's: a clause unmatched in every segment, the
    tokenizer families of any, every other note once."""
    unmatched = set.intersection(*({note for note in notes if note.endswith(UNMATCHED)} for notes in parts))
    families = {family for notes in parts for note in notes if note.startswith(TOKENIZER_NOTE)
                for family in note.removeprefix(TOKENIZER_NOTE).split(", ")}
    others = {note for notes in parts for note in notes
              if not note.endswith(UNMATCHED) and not note.startswith(TOKENIZER_NOTE)}
    return sorted(unmatched | others | ({TOKENIZER_NOTE + ", ".join(sorted(families))} if families else set()))
