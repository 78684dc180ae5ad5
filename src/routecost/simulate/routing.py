"""Apply a routing policy to the priced requests: where each request would go, and at what cost.

Every request the baseline could price and that was billed gets one or more "legs": the model it is
routed to (weight 1), or for a cascade the cheap attempt (weight 1) plus the escalation model
(weight = escalation rate). Each leg's tokens are carried over by the counterfactual rules
(``counterfactual.py``) and priced with the same rate cards as the baseline, all legs of all
requests in one vectorized pass. Failed requests cost nothing under any policy; requests the
baseline could not price are left out of every comparison (and counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from routecost.categories import metadata_columns
from routecost.errors import UsageError
from routecost.policy.conditions import EvalContext
from routecost.policy.model import KEEP, Policy
from routecost.prices.catalog import PriceBook, PricedModel, Unpriced
from routecost.prices.pricing import apply_rates, cost_parts
from routecost.records import BILLED_STATUSES
from routecost.simulate.counterfactual import (
    OUTPUT_RATIO_RANGE,
    counterfactual_tokens,
    input_ratio,
    input_ratio_exprs,
)
from routecost.simulate.text_ratios import exact_openai_ratios
from routecost.sources.texts import text_columns
from routecost.tokens import tokenizer_family

POLICY_INPUTS = (
    "model", "model_id", "provider", "status", "mode", "user", "tags", "category", "ts", "price_context",
    "gateway_cache_hit", "cost_usd", "input_tokens", "cache_read_tokens", "cache_write_tokens",
    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "web_search_requests",
    "source", "offset", "format", "request_source", "request_offset",
)
LEG_COLUMNS = (
    "_row", "model_id", "category", "ts", "price_context", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "web_search_requests",
    "status", "gateway_cache_hit",
)
ROW_OUTPUTS = ("category", "routed_model", "projected_cost_usd", "projected_low_usd", "projected_high_usd")

OutputRatios = Mapping[tuple[str, str], float]
"""Measured output-length ratios by (category, target model), from replay."""


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

    @property
    def savings_usd(self) -> float:
        return self.baseline_cost_usd - self.cost_usd

    @property
    def savings_pct(self) -> float:
        return 100.0 * self.savings_usd / self.baseline_cost_usd if self.baseline_cost_usd else 0.0


@dataclass
class PolicyProjection:
    policy: Policy
    categories: list[CategoryProjection]
    rows: pl.DataFrame
    """Per request, in the priced frame's order: category, routed_model, projected_cost_usd (+ range)."""
    assumptions: list[str] = field(default_factory=list)

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
class PolicyInputs:
    """The columns every policy reads, prepared once for all of them: the request text when a
    policy has prompt conditions, and each metadata key the policies use, read out of the JSON."""

    frame: pl.DataFrame
    context: EvalContext


def prepare_inputs(priced: pl.DataFrame, policies: Sequence[Policy]) -> PolicyInputs:
    frame = priced.select(POLICY_INPUTS).with_row_index("_row")
    if any(policy.needs_text for policy in policies):
        frame = frame.hstack(text_columns(priced))
    keys = sorted({key for policy in policies for key in policy.metadata_keys})
    if keys:
        frame = frame.hstack(metadata_columns(priced, keys))
    context = EvalContext(
        logged_models=tuple(priced["model"].drop_nulls().unique().sort().to_list()),
        model_ids=tuple(priced["model_id"].drop_nulls().unique().sort().to_list()),
    )
    return PolicyInputs(frame=frame, context=context)


def project_policy(
    inputs: PolicyInputs,
    policy: Policy,
    book: PriceBook,
    as_of: datetime,
    *,
    tokenizer_ratios: Mapping[str, float] | None = None,
    output_ratios: OutputRatios | None = None,
) -> PolicyProjection:
    """The policy's projected cost per request and per category."""
    base = inputs.frame.with_columns(category=policy.category_expr(pl.col("category"), inputs.context))
    base = base.with_columns(**_choices(policy, inputs.context)).with_columns(
        in_scope=pl.col("cost_usd").is_not_null() & pl.col("status").is_in(BILLED_STATUSES)
        & ~pl.col("gateway_cache_hit").fill_null(False),
    )
    # A request that stays on its logged model costs what it cost; only moved requests are repriced.
    moved = pl.col("in_scope") & ((pl.col("routed_model") != pl.col("model_id")) | pl.col("cascade_try").is_not_null())
    legs = pl.concat([
        base.filter(moved).select(*LEG_COLUMNS, "in_scope", leg_model=pl.col("routed_model"), weight=pl.lit(1.0)),
        base.filter(moved & pl.col("cascade_try").is_not_null()).select(
            *LEG_COLUMNS, "in_scope", leg_model=pl.col("cascade_escalate"), weight=pl.col("escalate_rate")
        ),
    ])
    notes: list[str] = []
    priced = _price_legs(_carry_tokens(legs, base, tokenizer_ratios, output_ratios, notes), book, as_of)
    sums = priced.group_by("_row").agg(pl.col("leg_cost", "leg_low", "leg_high").sum())
    stays = base.select(
        pl.when(pl.col("in_scope")).then(pl.col("cost_usd")).when(pl.col("cost_usd") == 0).then(pl.lit(0.0))
    ).to_series()
    rows = base.select("category", "routed_model", "cost_usd", "in_scope").with_columns(
        # Series.scatter writes in place: each column scatters into its own copy
        projected_cost_usd=stays.clone().scatter(sums["_row"], sums["leg_cost"]),
        projected_low_usd=stays.clone().scatter(sums["_row"], sums["leg_low"]),
        projected_high_usd=stays.clone().scatter(sums["_row"], sums["leg_high"]),
    )
    kept = rows.select(ROW_OUTPUTS).with_columns(pl.col("category", "routed_model").cast(pl.Categorical))
    return PolicyProjection(policy=policy, categories=_by_category(rows), rows=kept,
                            assumptions=sorted(set(notes)))


def _choices(policy: Policy, context: EvalContext) -> dict[str, pl.Expr]:
    """Per request: the route's target, and the cascade it falls in (first match wins in each list)."""
    keep = pl.col("model_id")
    route: pl.Expr = keep
    for rule in reversed(policy.routes):
        route = pl.when(rule.when.expr(context)).then(keep if rule.to == KEEP else pl.lit(rule.to)).otherwise(route)
    tried: pl.Expr = pl.lit(None, dtype=pl.String())
    escalated: pl.Expr = pl.lit(None, dtype=pl.String())
    rate: pl.Expr = pl.lit(None, dtype=pl.Float64())
    for cascade in reversed(policy.cascades):
        condition = cascade.when.expr(context)
        tried = pl.when(condition).then(pl.lit(cascade.try_model)).otherwise(tried)
        escalated = pl.when(condition).then(
            keep if cascade.escalate_to == KEEP else pl.lit(cascade.escalate_to)
        ).otherwise(escalated)
        rate = pl.when(condition).then(pl.lit(cascade.escalate_rate)).otherwise(rate)
    return {
        "cascade_try": tried,
        "cascade_escalate": escalated,
        "escalate_rate": rate,
        "routed_model": pl.coalesce(tried, route),
    }


def _carry_tokens(
    legs: pl.DataFrame,
    base: pl.DataFrame,
    tokenizer_ratios: Mapping[str, float] | None,
    output_ratios: OutputRatios | None,
    notes: list[str],
) -> pl.DataFrame:
    """The legs' tokens as they would have been on each leg's model (counterfactual rules)."""
    pairs = legs.filter(pl.col("in_scope")).select("model_id", "leg_model").unique().sort("model_id", "leg_model")
    models = set(pairs["model_id"].to_list()) | set(pairs["leg_model"].to_list())
    legs = legs.with_columns(**input_ratio_exprs(pl.col("model_id"), pl.col("leg_model"), models, tokenizer_ratios))
    legs = exact_openai_ratios(legs, base)
    same = pl.col("leg_model") == pl.col("model_id")
    measured = _measured_output_expr(output_ratios)
    legs = legs.with_columns(
        output_scale=pl.when(same).then(1.0).otherwise(measured.fill_null(1.0)),
        output_low=pl.when(same).then(1.0).otherwise(measured.fill_null(OUTPUT_RATIO_RANGE[0])),
        output_high=pl.when(same).then(1.0).otherwise(measured.fill_null(OUTPUT_RATIO_RANGE[1])),
    )
    families = {
        f"{tokenizer_family(source)}->{tokenizer_family(target)} x{ratio.point:.2f}"
        for source, target in pairs.iter_rows()
        if (ratio := input_ratio(source, target, tokenizer_ratios)).low != ratio.high
    }
    if families:
        notes.append(f"tokenizer table ratios used (+/-10%): {', '.join(sorted(families))}")
    return legs.with_columns(**counterfactual_tokens(same, pl.col("input_scale"), pl.col("output_scale")))


def _measured_output_expr(output_ratios: OutputRatios | None) -> pl.Expr:
    """The measured output-length ratio of a leg's (category, model); null where not measured."""
    expression: pl.Expr = pl.lit(None, dtype=pl.Float64())
    for (category, model), ratio in sorted((output_ratios or {}).items()):
        expression = pl.when((pl.col("category") == category) & (pl.col("leg_model") == model)).then(
            pl.lit(ratio)
        ).otherwise(expression)
    return expression


def _price_legs(legs: pl.DataFrame, book: PriceBook, as_of: datetime) -> pl.DataFrame:
    """Every leg priced on its model (rows kept in order), with its weighted cost and range."""
    in_scope = legs.filter(pl.col("in_scope"))["leg_model"].drop_nulls().unique().sort().to_list()
    targets = _targets(in_scope, book)
    keys = {model.model_id: index for index, model in enumerate(targets)}
    keyed = legs.with_columns(model_key=pl.when(pl.col("in_scope")).then(
        pl.col("leg_model").replace_strict(keys, default=None, return_dtype=pl.Int32())
    ))
    parts = cost_parts(pl.lit(1))
    priced, _ = apply_rates(keyed, targets, book, as_of, extra={
        "input_cost": parts.input, "output_cost": parts.output, "fixed_cost": parts.fixed,
    })
    weight = pl.col("weight")
    low = (pl.col("input_cost") * pl.col("input_low") / pl.col("input_scale")
           + pl.col("output_cost") * pl.col("output_low") / pl.col("output_scale") + pl.col("fixed_cost"))
    high = (pl.col("input_cost") * pl.col("input_high") / pl.col("input_scale")
            + pl.col("output_cost") * pl.col("output_high") / pl.col("output_scale") + pl.col("fixed_cost"))
    return priced.with_columns(leg_cost=pl.col("cost_usd") * weight, leg_low=low * weight, leg_high=high * weight)


def _targets(model_ids: Sequence[str], book: PriceBook) -> list[PricedModel]:
    targets: list[PricedModel] = []
    for model_id in model_ids:
        model = book.model(model_id)
        if isinstance(model, Unpriced):
            raise UsageError(f"{model_id}: {model.reason}")
        targets.append(model)
    return targets


def _by_category(rows: pl.DataFrame) -> list[CategoryProjection]:
    in_scope = pl.col("in_scope")
    totals = rows.group_by("category").agg(
        requests=pl.len(),
        priced_requests=in_scope.sum(),
        baseline_cost_usd=pl.col("cost_usd").filter(pl.col("projected_cost_usd").is_not_null()).sum(),
        cost_usd=pl.col("projected_cost_usd").sum(),
        low_usd=pl.col("projected_low_usd").sum(),
        high_usd=pl.col("projected_high_usd").sum(),
    ).sort("baseline_cost_usd", "category", descending=[True, False])
    shares = (
        rows.filter(in_scope).group_by("category", "routed_model").agg(count=pl.len())
        .join(rows.filter(in_scope).group_by("category").agg(total=pl.len()), on="category")
        .with_columns(share=100.0 * pl.col("count") / pl.col("total"))
    )
    routed: dict[str, dict[str, float]] = {}
    for category, model, share in shares.select("category", "routed_model", "share").sort("share",
                                                                                       descending=True).iter_rows():
        routed.setdefault(category, {})[model] = share
    return [
        CategoryProjection(
            category=row["category"], requests=row["requests"], priced_requests=row["priced_requests"],
            baseline_cost_usd=row["baseline_cost_usd"], cost_usd=row["cost_usd"], low_usd=row["low_usd"],
            high_usd=row["high_usd"], routed=routed.get(row["category"], {}),
        )
        for row in totals.iter_rows(named=True)
    ]
