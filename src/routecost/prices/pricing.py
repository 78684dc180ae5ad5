"""Price every request: resolve each distinct model once, each distinct (model, instant, context) rate
card once, then join the rates onto the rows and do the arithmetic as polars expressions.

The instant a price is looked up at is the request's day for models whose prices change by date,
the start of its off-peak/peak window for models priced by time of day, and ``as_of`` for the rest,
so a month of logs costs a few hundred catalog look-ups, not one per row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from routecost.prices.catalog import BATCH, FLEX, PRIORITY, STANDARD, PriceBook, PricedModel, Unpriced
from routecost.prices.fees import FREE_ALLOWANCE_NOTE
from routecost.prices.rates import ALL_RATE_CLASSES, RateCard
from routecost.records import BILLED_STATUSES, CALL_COLUMNS, MODE_BATCH, TOKEN_COLUMNS

NO_USAGE = "no usage logged and no text to count"
NO_MODEL = "the record names no model (log it beside the response, or read the logs with --mapping)"
RATE_COLUMNS = tuple(f"rate_{rate_class}" for rate_class in ALL_RATE_CLASSES)
SUMMED_TOKEN_COLUMNS = (*TOKEN_COLUMNS, *CALL_COLUMNS)
PRICING_INPUTS = ("provider", "model", "ts", "mode", "service_tier", "status", "gateway_cache_hit",
                  "logged_cost_usd", *SUMMED_TOKEN_COLUMNS)
CATALOG_PRICED = pl.col("model_id").is_not_null() & pl.col("cost_usd").is_not_null()
"""Priced from the catalog (not from a logged cost): such a request can be re-priced on another model."""
LOGGED_CONTEXT = "logged"
"""The price context of a request priced at the cost its gateway logged (the catalog could not price it)."""


@dataclass
class PricedRequests:
    """Requests with ``model_id``, ``price_context``, ``cost_usd`` (null when unpriced) and why not."""

    requests: pl.DataFrame
    assumptions: Counter[str] = field(default_factory=Counter)
    catalog: str = ""


def price_requests(requests: pl.DataFrame, book: PriceBook, as_of: datetime) -> PricedRequests:
    """Add the as-logged cost of every request (the baseline every policy is compared with).

    The joins run on the columns pricing reads only; the result columns are then set on the full
    frame, so the wide text columns (metadata, tags, ids) are never copied."""
    models, priced_models = _resolve_models(requests, book)
    frame = (
        requests.select(PRICING_INPUTS)
        .join(models, on=["provider", "model"], how="left", nulls_equal=True, maintain_order="left")
        .with_columns(price_context=price_context_expr())
    )
    frame, assumptions = apply_rates(frame, priced_models, book, as_of, extra={"fees_usd": _fees_expr()})
    assumptions.update(_reading_assumptions(frame))
    frame, fallback = _logged_cost_fallback(frame)
    assumptions.update(fallback)
    priced = frame.select("model_id", "price_context", "cost_usd", "fees_usd", unpriced_reason=_unpriced_reason_expr())
    return PricedRequests(requests=requests.hstack(priced), assumptions=assumptions, catalog=book.catalog_version)


def _logged_cost_fallback(frame: pl.DataFrame) -> tuple[pl.DataFrame, Counter[str]]:
    """Requests the catalog cannot price but whose gateway logged what it charged are priced at that
    cost (evidence, not a guess), and the report says so per model. A logged $0 is not evidence:
    gateways log 0 for models they cannot price either (LiteLLM does), so those stay unpriced."""
    use_logged = (pl.col("model_id").is_null() & (pl.col("logged_cost_usd") > 0)
                  & pl.col("status").is_in(BILLED_STATUSES))
    chosen = frame.filter(use_logged)
    if chosen.is_empty():
        return frame, Counter()
    found: Counter[str] = Counter()
    for model, count in chosen.group_by("model").len().sort("model", nulls_last=True).iter_rows():
        found[f"{model or 'a model the record does not name'}: not in the price catalog; priced at the cost "
              "its gateway logged"] += count
    return frame.with_columns(
        cost_usd=pl.when(use_logged).then(pl.col("logged_cost_usd")).otherwise(pl.col("cost_usd")),
        price_context=pl.when(use_logged).then(pl.lit(LOGGED_CONTEXT)).otherwise(pl.col("price_context")),
    ), found


def _reading_assumptions(frame: pl.DataFrame) -> Counter[str]:
    """What pricing had to assume about what the logs did not say: who served a request whose record
    does not tell (the catalog's guess from the model name), and free allowances it cannot see."""
    found: Counter[str] = Counter()
    guessed = frame.filter(pl.col("provider").is_null() & pl.col("model_id").is_not_null())
    for model, model_id, count in guessed.group_by("model", "model_id").len().sort("model").iter_rows():
        found[f"the log does not say who served {model}: priced at {model_id.split('/', 1)[0]}'s rates "
              "(guessed from the model name)"] += count
    grounded = frame.filter(pl.col("grounded_prompts").fill_null(0) > 0).height
    if grounded:
        found[FREE_ALLOWANCE_NOTE["grounding"]] += grounded
    return found


def apply_rates(
    frame: pl.DataFrame,
    priced_models: list[PricedModel],
    book: PriceBook,
    as_of: datetime,
    *,
    input_tokens: pl.Expr | None = None,
    requests: pl.Expr | None = None,
    extra: dict[str, pl.Expr] | None = None,
) -> tuple[pl.DataFrame, Counter[str]]:
    """``cost_usd`` for rows whose ``model_key`` indexes ``priced_models`` (null where it is null).

    Rows are requests by default; for summed groups, ``input_tokens`` gives the input that decides
    the long-context band and ``requests`` the number of requests (per-request fees). ``extra``
    columns are computed while the rates are joined (for ``cost_parts``)."""
    card_of = ["model_key", "price_context", "price_instant"]
    keys = frame.select(pl.col("model_key"), pl.col("price_context"),
                        _instant_expr(priced_models, as_of).alias("price_instant"))
    cards, rates, assumptions = _rate_tables(keys, priced_models, book)
    threshold_columns = [name for name in cards.columns if name.startswith("threshold_")]
    # The card is found with a join on the three key columns alone, and the rates are gathered by
    # position, so the (wide) frame itself is never copied by a join.
    card_columns = keys.join(cards, on=card_of, how="left", maintain_order="left").drop(card_of)
    bands = max(len(threshold_columns) + 1, 1)
    rate_index = pl.col("card_key") * bands + band_expr(threshold_columns, input_tokens)
    rate_values = {name: pl.lit(rates[name]).gather(rate_index) for name in RATE_COLUMNS}
    priced = frame.hstack(card_columns).lazy().with_columns(**rate_values).with_columns(
        cost_usd=cost_expr() if requests is None else cost_parts(requests).total, **(extra or {})
    )
    return priced.drop("card_key", *threshold_columns, *RATE_COLUMNS).collect(), assumptions


def price_context_expr() -> pl.Expr:
    """Which price list a request was billed on: batch, flex, priority or standard."""
    return (
        pl.when(pl.col("mode") == MODE_BATCH)
        .then(pl.lit(BATCH))
        .when(pl.col("service_tier") == FLEX)
        .then(pl.lit(FLEX))
        .when(pl.col("service_tier") == PRIORITY)
        .then(pl.lit(PRIORITY))
        .otherwise(pl.lit(STANDARD))
    )


def band_expr(threshold_columns: list[str], input_tokens: pl.Expr | None = None) -> pl.Expr:
    """Long-context band: how many of the card's tier thresholds the request's total input exceeds."""
    tokens = pl.col("input_tokens") if input_tokens is None else input_tokens
    exceeded = [(tokens > pl.col(name)).fill_null(False).cast(pl.Int8) for name in threshold_columns]
    return pl.sum_horizontal(exceeded).cast(pl.Int8) if exceeded else pl.lit(0, dtype=pl.Int8())


@dataclass(frozen=True)
class CostParts:
    """A cost split by what drives it: input tokens, output tokens, and per-request or per-search
    fees. Projections scale the first two by tokenizer and output-length ratios."""

    input: pl.Expr
    output: pl.Expr
    fixed: pl.Expr

    @property
    def total(self) -> pl.Expr:
        return self.input + self.output + self.fixed


def cost_parts(requests: pl.Expr) -> CostParts:
    """The cost of the token columns at the joined ``rate_*`` columns (null when unpriced)."""
    cache_read = pl.col("cache_read_tokens").fill_null(0)
    cache_write = pl.col("cache_write_tokens").fill_null(0)
    cache_write_1h = pl.col("cache_write_1h_tokens").fill_null(0)
    reasoning = pl.col("reasoning_tokens").fill_null(0)
    return CostParts(
        input=(pl.col("input_tokens") - cache_read - cache_write) * pl.col("rate_uncached_input")
        + cache_read * pl.col("rate_cache_read")
        + (cache_write - cache_write_1h) * pl.col("rate_cache_write_5m")
        + cache_write_1h * pl.col("rate_cache_write_1h"),
        output=(pl.col("output_tokens") - reasoning) * pl.col("rate_output") + reasoning * pl.col("rate_reasoning"),
        fixed=pl.col("web_search_requests").fill_null(0) * pl.col("rate_web_search")
        + pl.col("file_search_calls").fill_null(0) * pl.col("rate_file_search")
        + pl.col("grounded_prompts").fill_null(0) * pl.col("rate_grounding")
        + pl.col("web_search_preview_calls").fill_null(0) * pl.col("rate_web_search_preview")
        + pl.col("code_containers").fill_null(0) * pl.col("rate_code_container")
        + _request_fees(requests),
    )


def _fees_expr() -> pl.Expr:
    """The per-call fees inside each request's cost (web and file searches, grounded prompts, request fees)."""
    return pl.when(billed_expr()).then(cost_parts(pl.lit(1)).fixed).otherwise(pl.lit(0.0))


def billed_expr() -> pl.Expr:
    """A request its provider billed: not failed, and not answered from a gateway's response cache."""
    return pl.col("status").is_in(BILLED_STATUSES) & ~pl.col("gateway_cache_hit").fill_null(False)


def _request_fees(requests: pl.Expr) -> pl.Expr:
    """Per-request fees; a request whose fee depends on its search context size (Perplexity) pays its
    context's fee where one is known, else the catalog's request fee."""
    low, medium = pl.col("low_context_requests").fill_null(0), pl.col("medium_context_requests").fill_null(0)

    def fee(rate: str) -> pl.Expr:
        return pl.when(pl.col(rate) > 0).then(pl.col(rate)).otherwise(pl.col("rate_request"))

    return (requests - low - medium) * pl.col("rate_request") + low * fee("rate_request_low") + (
        medium * fee("rate_request_medium"))


def cost_expr() -> pl.Expr:
    """Cost in USD of each request: its tokens at its rates, or $0 when it was not billed (failed,
    or answered from a gateway's response cache)."""
    return pl.when(billed_expr()).then(cost_parts(pl.lit(1)).total).otherwise(pl.lit(0.0))


def _unpriced_reason_expr() -> pl.Expr:
    return (
        pl.when(pl.col("cost_usd").is_not_null())
        .then(pl.lit(None, dtype=pl.String()))
        .when(pl.col("model").is_null())
        .then(pl.lit(NO_MODEL))
        .when(pl.col("unpriced_model_reason").is_not_null())
        .then(pl.col("unpriced_model_reason"))
        .otherwise(pl.lit(NO_USAGE))
    )


def _resolve_models(requests: pl.DataFrame, book: PriceBook) -> tuple[pl.DataFrame, list[PricedModel]]:
    """One row per distinct (provider, model) with its catalog key, or the reason it is unpriced."""
    distinct = requests.select("provider", "model").unique().filter(pl.col("model").is_not_null())
    priced_models: list[PricedModel] = []
    keys: list[int | None] = []
    model_ids: list[str | None] = []
    reasons: list[str | None] = []
    for provider, model in distinct.iter_rows():
        resolved = book.resolve(provider, model)
        if isinstance(resolved, Unpriced):
            keys.append(None)
            model_ids.append(None)
            reasons.append(resolved.reason)
            continue
        keys.append(len(priced_models))
        priced_models.append(resolved)
        model_ids.append(resolved.model_id)
        reasons.append(None)
    table = distinct.with_columns(
        model_key=pl.Series(keys, dtype=pl.Int32()),
        model_id=pl.Series(model_ids, dtype=pl.String()),
        unpriced_model_reason=pl.Series(reasons, dtype=pl.String()),
    )
    return table, priced_models


def _instant_expr(priced_models: list[PricedModel], as_of: datetime) -> pl.Expr:
    """The moment to look prices up at, coarse enough that few distinct instants exist."""
    as_of_literal = pl.lit(as_of).dt.cast_time_unit("us")
    day = pl.coalesce(pl.col("ts"), as_of_literal).dt.truncate("1d")
    dated_keys = [key for key, model in enumerate(priced_models) if model.date_dependent]
    instant = pl.when(pl.col("model_key").is_in(dated_keys)).then(day).otherwise(as_of_literal)
    for key, model in enumerate(priced_models):
        if model.time_of_day_boundaries:
            instant = pl.when(pl.col("model_key") == key).then(
                day + window_start(pl.coalesce(pl.col("ts"), as_of_literal) - day, model.time_of_day_boundaries)
            ).otherwise(instant)
    return instant


def window_start(time_of_day: pl.Expr, boundaries: tuple[int, ...]) -> pl.Expr:
    """Start of the time-of-day price window the request falls in (the latest boundary before it)."""
    start: pl.Expr = pl.lit(0)
    for boundary in boundaries:
        start = pl.when(time_of_day.dt.total_seconds() >= boundary).then(pl.lit(boundary)).otherwise(start)
    return pl.duration(seconds=start)


def _rate_tables(
    frame: pl.DataFrame, priced_models: list[PricedModel], book: PriceBook
) -> tuple[pl.DataFrame, pl.DataFrame, Counter[str]]:
    """Rate cards for each distinct (model, context, instant): the cards with their long-context
    thresholds, to join on; and the rates, one row per (card, band) at position card * bands + band,
    to gather from (a card with fewer thresholds repeats its last band's rates)."""
    distinct = (
        frame.filter(pl.col("model_key").is_not_null())
        .group_by("model_key", "price_context", "price_instant")
        .agg(requests=pl.len())
        .sort("model_key", "price_context", "price_instant")
    )
    assumptions: Counter[str] = Counter()
    card_rows: list[tuple[int, str, datetime, int, RateCard]] = []
    rate_rows: list[tuple[object, ...]] = []
    for card_key, (model_key, context, instant, requests) in enumerate(distinct.iter_rows()):
        priced = book.card(priced_models[model_key], instant, context)
        if priced.assumption:
            assumptions[priced.assumption] += requests
        card_rows.append((model_key, context, instant, card_key, priced.card))
    most = max((len(row[-1].thresholds) for row in card_rows), default=0)
    for card_key, *_, card in card_rows:
        for band in range(most + 1):
            rates_band = min(band, len(card.thresholds))
            rate_rows.append(tuple(card.rate(rate_class, rates_band) for rate_class in ALL_RATE_CLASSES))
    threshold_names = [f"threshold_{index + 1}" for index in range(most)]
    cards = pl.DataFrame(
        [(*row[:-1], *row[-1].thresholds, *([None] * (most - len(row[-1].thresholds)))) for row in card_rows],
        schema={"model_key": pl.Int32(), "price_context": pl.String(), "price_instant": pl.Datetime("us", "UTC"),
                "card_key": pl.Int64(), **dict.fromkeys(threshold_names, pl.Int64())},
        orient="row",
    )
    rates = pl.DataFrame(rate_rows, schema=dict.fromkeys(RATE_COLUMNS, pl.Float64()), orient="row")
    return cards, rates, assumptions
