"""Reference lines: all the traffic on one model, by the same counterfactual rules as a policy.

Yardsticks for a report ("all on the cheapest model seen", "all on the most expensive"), computed
for every model the logs use, so they must be cheap: requests are summed into groups that share a
price on the target (source model, price context, day and price window, long-context band of the
carried-over input) and only the groups are priced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from routecost.prices.catalog import PriceBook, PricedModel
from routecost.prices.pricing import (
    CATALOG_PRICED,
    SUMMED_TOKEN_COLUMNS,
    apply_rates,
    billed_expr,
    window_start,
)
from routecost.simulate.counterfactual import counterfactual_tokens, input_ratio
from routecost.spool import collect

GROUP_INPUTS = ("model_id", "ts", "price_context", "status", "gateway_cache_hit", "cost_usd", *SUMMED_TOKEN_COLUMNS)


@dataclass(frozen=True)
class Reference:
    """The same traffic priced on one model: a yardstick, not a proposal."""

    label: str
    model: str
    cost_usd: float


def all_traffic_on(
    priced: pl.DataFrame | pl.LazyFrame,
    model_id: str,
    book: PriceBook,
    as_of: datetime,
    tokenizer_ratios: Mapping[str, float] | None = None,
) -> float:
    """What the billed, priced requests would have cost had they all gone to ``model_id``."""
    return traffic_costs_on(priced, [model_id], book, as_of, tokenizer_ratios)[model_id]


def traffic_costs_on(
    priced: pl.DataFrame | pl.LazyFrame,
    model_ids: Sequence[str],
    book: PriceBook,
    as_of: datetime,
    tokenizer_ratios: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """``all_traffic_on`` for several models; the requests are filtered once and the models' groups
    summed side by side."""
    targets = book.priced_models(model_ids)
    billed = priced.lazy().select(GROUP_INPUTS).filter(CATALOG_PRICED & billed_expr())
    by_day = collect(_groups(billed, as_of, pl.lit(1.0))) if any(_priced_by_day(target) for target in targets) else None
    model_ids_of = billed if by_day is None else by_day.lazy()  # the groups hold every source model: no second pass
    sources = collect(model_ids_of.select(pl.col("model_id").unique())).to_series().sort().to_list()
    if not sources:
        return dict.fromkeys(model_ids, 0.0)
    plans = [_target_groups(billed, sources, target, as_of, tokenizer_ratios, by_day) for target in targets]
    summed = pl.collect_all([groups for groups, _ in plans], engine="streaming")
    costs: dict[str, float] = {}
    for model_id, target, (_, input_scale), groups in zip(model_ids, targets, plans, summed, strict=True):
        carried = groups.with_columns(
            **counterfactual_tokens(pl.col("model_id") == target.model_id, input_scale, pl.lit(1.0)),
            model_key=pl.lit(0, dtype=pl.Int32()),
        )
        repriced, _ = apply_rates(carried, [target], book, as_of, input_tokens=pl.col("largest_input"),
                                  requests=pl.col("requests"))
        costs[model_id] = float(repriced["cost_usd"].sum() or 0.0)
    return costs


def _priced_by_day(target: PricedModel) -> bool:
    """A target whose price depends on neither the time of day nor the input's length: the requests'
    groups for it are the same for every such target (only the input's scale differs)."""
    return not target.time_of_day_boundaries and not target.tier_thresholds


def _target_groups(billed: pl.LazyFrame, sources: list[str], target: PricedModel, as_of: datetime,
                   tokenizer_ratios: Mapping[str, float] | None,
                   by_day: pl.DataFrame | None) -> tuple[pl.LazyFrame, pl.Expr]:
    """The requests summed into groups that share a price on the target, and the expression scaling
    each source model's input to the target's tokenizer (groups by day, already summed, are reused
    for a target priced by day: the scale is one number per source model)."""
    scales = {source: input_ratio(source, target.model_id, tokenizer_ratios).point for source in sources}
    input_scale = pl.col("model_id").replace_strict(scales, return_dtype=pl.Float64())
    if by_day is not None and _priced_by_day(target):
        return by_day.lazy().with_columns(largest_input=pl.col("largest_input") * input_scale), input_scale
    return _groups(billed, as_of, input_scale, target.time_of_day_boundaries, target.tier_thresholds), input_scale


def _groups(billed: pl.LazyFrame, as_of: datetime, input_scale: pl.Expr, boundaries: tuple[int, ...] = (),
            thresholds: tuple[int, ...] = ()) -> pl.LazyFrame:
    """Requests summed by source model, price context, price window (the day, or the time-of-day
    window of ``boundaries``) and long-context band of the scaled input (of ``thresholds``)."""
    as_of_literal = pl.lit(as_of).dt.cast_time_unit("us")
    moment = pl.coalesce(pl.col("ts"), as_of_literal)
    day = moment.dt.truncate("1d")
    scaled_input = pl.col("input_tokens") * input_scale
    return billed.group_by(
        "model_id",
        "price_context",
        (day + window_start(moment - day, boundaries)).alias("ts"),
        pl.sum_horizontal([(scaled_input > threshold).cast(pl.Int8) for threshold in thresholds]
                          or [pl.lit(0)]).alias("input_band"),
    ).agg(
        requests=pl.len(),
        largest_input=scaled_input.max(),
        **{name: pl.col(name).sum() for name in SUMMED_TOKEN_COLUMNS},
    )


def cheapest_and_priciest(
    priced: pl.DataFrame | pl.LazyFrame, book: PriceBook, as_of: datetime,
    tokenizer_ratios: Mapping[str, float] | None = None,
) -> list[Reference]:
    """All priced traffic on the cheapest and on the most expensive model the logs use."""
    used = priced.lazy().filter(pl.col("cost_usd").is_not_null() & pl.col("model_id").is_not_null())
    models = collect(used.select(pl.col("model_id").unique())).to_series().sort().to_list()
    if not models:
        return []
    costs = traffic_costs_on(priced, models, book, as_of, tokenizer_ratios)
    cheapest = min(models, key=costs.__getitem__)
    priciest = max(models, key=costs.__getitem__)
    return [
        Reference("the cheapest model used", cheapest, costs[cheapest]),
        Reference("the most expensive model used", priciest, costs[priciest]),
    ]
