"""Apply a policy to the priced requests: where each request would go, and at what cost.

The levers are applied in time order over the whole log, in this order: routing (routes and
cascades pick each request's model), the exact response cache and the semantic cache (a hit is
answered without a model call and costs nothing), the providers' prompt caches (which prefixes
are warm on the routed models), batching (latency-tolerant requests at batch prices).

Every request the baseline could price and that was billed gets one or more "legs": the model it is
routed to (weight 1), or for a cascade the cheap attempt (weight 1) plus the escalation model
(weight = escalation rate). A request the policy leaves as it was (same model, no cache, no batch)
costs what it cost; the others' tokens are carried over by the counterfactual rules
(``counterfactual.py``) and priced with the same rate cards as the baseline, all legs in one
vectorized pass. Failed requests cost nothing under any policy; requests the baseline could not
price are left out of every comparison (and counted).

Savings are attributed to levers by pulling each lever alone against the logged baseline; the
difference between the whole policy's savings and the sum of the levers alone is the interaction
remainder (negative where levers overlap: a cached request cannot also be batch-discounted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from routecost.categories import metadata_columns
from routecost.policy.conditions import EvalContext, unmatched
from routecost.policy.model import KEEP, Policy
from routecost.prices.catalog import BATCH, PriceBook
from routecost.prices.pricing import CATALOG_PRICED, apply_rates, billed_expr, cost_parts
from routecost.quality import Interval
from routecost.records import CALL_COLUMNS, PROMPT_PRINT_COLUMNS
from routecost.simulate.cache_pass import CacheAnswers
from routecost.simulate.counterfactual import (
    OUTPUT_RATIO_RANGE,
    counterfactual_tokens,
    input_ratio,
    input_ratio_exprs,
)
from routecost.simulate.exact_cache import exact_cache_rows, exact_hit_positions
from routecost.simulate.projection import TOKENIZER_NOTE, CategoryProjection, CategoryTotals, PolicyProjection
from routecost.simulate.prompt_cache import apply_prompt_cache, warm_prefixes
from routecost.simulate.self_hosted import hourly_load
from routecost.simulate.semantic_cache import SIMILARITY_TOLERANCE, EmbeddingStore, best_earlier_match
from routecost.simulate.text_ratios import exact_openai_ratios
from routecost.simulate.trimming import (
    CUT_COLUMNS,
    apply_trim,
    prompt_parts,
    replayed_tag,
    trim_cuts,
    trim_rule_expr,
)
from routecost.sources.texts import TextRef, read_texts, text_columns
from routecost.tokens import tokenizer_family

POLICY_INPUTS = (
    "model", "model_id", "provider", "status", "mode", "stream", "user", "tags", "category", "ts", "price_context",
    "gateway_cache_hit", "cost_usd", "input_tokens", "cache_read_tokens", "cache_write_tokens",
    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", *CALL_COLUMNS,
    "source", "offset", "format", "request_source", "request_offset", "temperature", "has_tools",
    *PROMPT_PRINT_COLUMNS,
)
LEG_COLUMNS = (
    "_row", "model_id", "category", "ts", "price_context", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", *CALL_COLUMNS,
    "status", "gateway_cache_hit", "prompt_cache_scope", "batch_scope", *PROMPT_PRINT_COLUMNS,
)
ROW_OUTPUTS = ("category", "routed_model", "escalate_to", "escalate_rate", "exact_cache_hit", "served", "batched",
               "trim_rule", "projected_cost_usd", "projected_low_usd", "projected_high_usd", "escalated_cost_usd")
"""Per request: the policy's category, the model it is routed to (a cascade's first try), the
model a cascade escalates to and the share escalated (null outside cascades), whether the exact
cache served it, whether any cache served it, whether it was batched, the trim rule that cut its
prompt (its index in the policy's ``trim``; null: none), the projected cost with its
range, and the part of it paid on the escalation model (the escalated share of its price there; 0
outside cascades)."""

@dataclass(frozen=True)
class MeasuredRatios:
    """What replay measured: output-length ratios by (category, target model), and the share of a
    cascade's first tries that had to escalate, by category; each with its 95% interval, which
    becomes the projection's low-high range (a ratio measured on 20 answers is not a point)."""

    output: Mapping[tuple[str, str], Interval] = field(default_factory=dict)
    escalation: Mapping[str, Interval] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInputs:
    """The columns every policy reads, prepared once for all of them: the request text when a
    policy has prompt conditions, and each metadata key the policies use, read out of the JSON."""

    frame: pl.DataFrame
    context: EvalContext


def prepare_inputs(priced: pl.DataFrame, policies: Sequence[Policy], first_position: int = 0) -> PolicyInputs:
    """``priced`` is a segment of the logs whose first request is the ``first_position``-th read (from 0)."""
    frame = priced.select(POLICY_INPUTS).with_row_index("_row").with_columns(
        _log_position=pl.col("_row").cast(pl.UInt64) + first_position)
    needs_text, trims = any(policy.needs_text for policy in policies), any(policy.trim for policy in policies)
    if needs_text or trims:
        texts = read_texts(TextRef.of(priced))
        frame = frame.hstack(text_columns(priced, texts)) if needs_text else frame
        frame = frame.hstack(prompt_parts(texts)) if trims else frame
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
    measured: MeasuredRatios | None = None,
    embeddings: EmbeddingStore | None = None,
    caches: Mapping[tuple[str, ...], CacheAnswers] | None = None,
) -> PolicyProjection:
    """The policy's projected cost per request and per category, with savings by lever.

    The levers-alone projections run beside the whole policy's, in threads: polars and numpy
    release the GIL. With a semantic cache the whole policy runs first, so the embeddings it
    computes are stored before the semantic cache alone looks them up. Without routing, the exact
    cache alone needs no run of its own: it has the same hits as in the whole policy (nothing
    before it in the lever order changes a request's model or prompt), and saves what they cost.

    ``caches`` holds the answers of the exact and prompt caches, by the levers of each variant
    (``projected_variants``), when a streamed audit's cache pass replayed them over the whole log;
    without them the caches are replayed on ``inputs``."""
    def answers(variant: Policy) -> CacheAnswers | None:
        return caches[tuple(variant.levers)] if caches is not None and variant.needs_fingerprints else None

    def whole() -> PolicyProjection:
        return _project(inputs, policy, book, as_of, tokenizer_ratios, measured, embeddings, answers(policy))

    def alone(lever: str) -> float:
        variant = policy.only(lever)
        return _project(inputs, variant, book, as_of, tokenizer_ratios, measured, embeddings, answers(variant),
                        savings_only=True).savings_usd

    levers = policy.levers
    if len(levers) == 1:
        projection = whole()
        projection.levers = {levers[0]: projection.savings_usd, "interaction": 0.0}
        return projection
    separate = _separate_levers(policy)
    with ThreadPoolExecutor(max_workers=len(separate) + 1) as pool:
        if policy.semantic_cache is not None:
            projection = whole()
            savings = dict(zip(separate, pool.map(alone, separate), strict=True))
        else:
            running = pool.submit(whole)
            savings = dict(zip(separate, pool.map(alone, separate), strict=True))
            projection = running.result()
    savings = {lever: savings[lever] if lever in savings else projection.total("exact_cache_hit_cost_usd")
               for lever in levers}
    projection.levers = _rounded({**savings, "interaction": projection.savings_usd - sum(savings.values())})
    return projection


def _separate_levers(policy: Policy) -> list[str]:
    """The levers of a policy of several levers that are projected alone (see ``project_policy``)."""
    derived = {"exact_cache"} if not policy.routes and not policy.cascades else set()
    return [lever for lever in policy.levers if lever not in derived]


def projected_variants(policy: Policy) -> list[Policy]:
    """The policy, and each lever alone that ``project_policy`` projects on its own."""
    if len(policy.levers) == 1:
        return [policy]
    return [policy, *(policy.only(lever) for lever in _separate_levers(policy))]


def policy_base(inputs: PolicyInputs, policy: Policy, measured: MeasuredRatios | None = None) -> pl.DataFrame:
    """The requests with the policy's choices: category, routed model (and cascade), whether the
    baseline priced and billed them (``in_scope``) and the scope of each cache and batch lever."""
    context = inputs.context
    base = inputs.frame.with_columns(category=policy.category_expr(pl.col("category"), context))
    escalation = measured.escalation if measured is not None else {}
    base = base.with_columns(**_choices(policy, context, escalation)).with_columns(
        in_scope=CATALOG_PRICED & billed_expr(),
    )
    return base.with_columns(**_lever_scopes(policy, context))


def routing_rows(inputs: PolicyInputs, policy: Policy) -> pl.DataFrame:
    """Per request, where the policy sends it (category, routed_model, escalate_to) and the target
    replay files its calls under (``filed_target``: the model, and how a trim rule cut the prompt),
    without pricing anything: what replay's measurements are matched on before the policy is
    projected with them."""
    context = inputs.context
    chosen = inputs.frame.with_columns(category=policy.category_expr(pl.col("category"), context))
    tag = pl.lit("")
    if policy.trim:
        tags = {index: replayed_tag(rule) for index, rule in enumerate(policy.trim)}
        rule = trim_rule_expr(policy.trim, context)
        tag = pl.when(pl.col("system_tokens").is_not_null()).then(
            rule.replace_strict(tags, default="", return_dtype=pl.String())).fill_null("")
    return chosen.select("category", **_choices(policy, context, {}), _tag=tag).select(
        "category", "routed_model", escalate_to=pl.col("cascade_escalate"),
        filed_target=pl.col("routed_model") + pl.col("_tag"))


def _rounded(levers: dict[str, float]) -> dict[str, float]:
    """Savings to a billionth of a dollar: float sums of equal costs leave 1e-15 residues."""
    return {lever: round(amount, 9) + 0.0 for lever, amount in levers.items()}


def _project(
    inputs: PolicyInputs,
    policy: Policy,
    book: PriceBook,
    as_of: datetime,
    tokenizer_ratios: Mapping[str, float] | None,
    measured: MeasuredRatios | None,
    embeddings: EmbeddingStore | None,
    caches: CacheAnswers | None,
    savings_only: bool = False,
) -> PolicyProjection:
    """The projection; with ``savings_only``, just the totals (for attributing savings to levers)."""
    context = inputs.context
    measured = measured or MeasuredRatios()
    base = policy_base(inputs, policy, measured)
    notes: list[str] = [] if savings_only else [*policy.notes, *unmatched(policy.labelled_conditions, base, context)]
    if policy.trim:
        base = _with_trim_cuts(base, policy, context, notes)
    base = base.with_columns(exact_cache_hit=_exact_hits(base, policy, caches))
    base = base.with_columns(semantic_cache_hit=_semantic_hits(base, policy, embeddings, notes))
    served = pl.col("exact_cache_hit") | pl.col("semantic_cache_hit")
    if policy.prompt_cache is not None:
        # a request answered from a response cache never reaches the provider: it warms no prefix
        warm = caches.warm_positions(base["_log_position"]) if caches is not None else None
        base = base.hstack(warm_prefixes(base, policy.prompt_cache, pl.col("prompt_cache_scope") & ~served, warm))
    # A request that stays as logged (same model, no cache, no batch) costs what it cost; only the
    # others are repriced. A cache hit costs nothing.
    changed = pl.col("in_scope") & ~served & (
        (pl.col("routed_model") != pl.col("model_id")) | pl.col("cascade_try").is_not_null()
        | pl.col("prompt_cache_scope") | pl.col("batch_scope") | _trimmed(policy)
    )
    leg_columns = [*LEG_COLUMNS, "in_scope", "routed_model", *(CUT_COLUMNS if policy.trim else ())]
    if policy.prompt_cache is not None:
        leg_columns += ["prompt_cache_read_bytes", "prompt_cache_write_bytes"]
    legs = base.lazy().filter(changed).select(
        *leg_columns, leg_model=pl.col("routed_model"), weight=pl.lit(1.0), weight_low=pl.lit(1.0),
        weight_high=pl.lit(1.0), escalation=pl.lit(False),
    ).collect()
    if policy.cascades:
        legs = pl.concat([legs, base.filter(changed & pl.col("cascade_try").is_not_null()).select(
            *leg_columns, leg_model=pl.col("cascade_escalate"), weight=pl.col("escalate_rate"),
            weight_low=pl.col("escalate_low"), weight_high=pl.col("escalate_high"), escalation=pl.lit(True),
        )])
    if policy.routes or policy.cascades:
        legs = _carry_tokens(legs, base, tokenizer_ratios, measured.output, notes)
    else:  # every request stays on its model: its tokens carry over exactly
        legs = legs.with_columns(**dict.fromkeys(
            ("input_scale", "input_low", "input_high", "output_scale", "output_low", "output_high"), pl.lit(1.0)
        ))
    if policy.prompt_cache is not None:
        legs = apply_prompt_cache(legs, policy.prompt_cache)
    if policy.trim:
        legs = apply_trim(legs, tokenizer_ratios, notes)
    legs = legs.with_columns(
        price_context=pl.when(pl.col("batch_scope")).then(pl.lit(BATCH)).otherwise(pl.col("price_context"))
    )
    priced = _price_legs(legs, book, as_of)
    priced = priced.with_columns(escalated_cost=pl.when(pl.col("escalation")).then(pl.col("leg_cost")).otherwise(0.0))
    summed = ("_row", "leg_cost", "leg_low", "leg_high", "cache_read_tokens", "input_tokens", "escalated_cost")
    # Without cascades every request has one leg: no need to sum legs per request.
    sums = priced.group_by("_row").agg(pl.col(summed[1:]).sum()) if policy.cascades else priced.select(summed)
    as_logged = base.select(
        pl.when(pl.col("in_scope") & served).then(pl.lit(0.0))
        .when(pl.col("in_scope")).then(pl.col("cost_usd"))
        .when(pl.col("cost_usd") == 0).then(pl.lit(0.0))
    ).to_series()
    if savings_only:
        projected = as_logged.clone().scatter(sums["_row"], sums["leg_cost"])
        baseline = base.select(pl.when(projected.is_not_null()).then(pl.col("cost_usd"))).to_series()
        total = CategoryProjection("all", base.height, 0, float(baseline.sum() or 0.0), float(projected.sum() or 0.0),
                                   0.0, 0.0, {})
        return PolicyProjection(policy=policy, categories=[total], rows=pl.DataFrame())
    rows = base.select(
        "category", "routed_model", "cost_usd", "in_scope", "exact_cache_hit", "semantic_cache_hit", "batch_scope",
        "escalate_rate", escalate_to=pl.col("cascade_escalate"),
        cache_read_before=pl.when(pl.col("in_scope")).then(pl.col("cache_read_tokens").fill_null(0)),
        input_before=pl.when(pl.col("in_scope")).then(pl.col("input_tokens")),
        trimmed=_trimmed(policy) & ~pl.col("exact_cache_hit") & ~pl.col("semantic_cache_hit"),
        trimmed_tokens=pl.sum_horizontal("trim_system_cut", "trim_history_cut") if policy.trim else pl.lit(0),
        trim_rule=pl.col("trim_rule") if policy.trim else pl.lit(None, dtype=pl.Int32()),
    ).with_columns(trim_rule=pl.when("trimmed").then("trim_rule")).with_columns(
        # Series.scatter writes in place: each column scatters into its own copy
        projected_cost_usd=as_logged.clone().scatter(sums["_row"], sums["leg_cost"]),
        projected_low_usd=as_logged.clone().scatter(sums["_row"], sums["leg_low"]),
        projected_high_usd=as_logged.clone().scatter(sums["_row"], sums["leg_high"]),
        escalated_cost_usd=pl.repeat(0.0, base.height, eager=True).scatter(sums["_row"], sums["escalated_cost"]),
    )
    rows = rows.with_columns(
        cache_read_after=_scattered(rows["cache_read_before"], sums["_row"], sums["cache_read_tokens"]),
        input_after=_scattered(rows["input_before"], sums["_row"], sums["input_tokens"]),
        served=pl.col("exact_cache_hit") | pl.col("semantic_cache_hit"),
        batched=pl.col("batch_scope") & ~pl.col("exact_cache_hit") & ~pl.col("semantic_cache_hit"),
    )
    load = hourly_load(priced, base["cost_usd"], policy.self_hosted) if policy.self_hosted else None
    kept = rows.select(ROW_OUTPUTS).with_columns(pl.col("category", "routed_model", "escalate_to").cast(pl.Categorical))
    totals = CategoryTotals.of(rows)
    return PolicyProjection(policy=policy, categories=totals.projections(), rows=kept, assumptions=sorted(set(notes)),
                            totals=totals, self_hosted_load=load)


def _trimmed(policy: Policy) -> pl.Expr:
    """Whether a trim rule cuts the request (its text logged)."""
    return pl.col("trim_system_cut").is_not_null() if policy.trim else pl.lit(False)


def _with_trim_cuts(base: pl.DataFrame, policy: Policy, context: EvalContext, notes: list[str]) -> pl.DataFrame:
    """The trim rule each billed request follows, and what it cuts (``simulate/trimming.py``)."""
    base = base.with_columns(trim_rule=pl.when(pl.col("in_scope")).then(trim_rule_expr(policy.trim, context)))
    unmeasured = base.select((pl.col("trim_rule").is_not_null() & pl.col("system_tokens").is_null()).sum()).item()
    if unmeasured:
        notes.append(f"{unmeasured:,} requests a trim rule matches have no logged text to cut: left as logged")
    return base.hstack(trim_cuts(base, policy.trim))


def _scattered(values: pl.Series, positions: pl.Series, replacements: pl.Series) -> pl.Series:
    """A copy of ``values`` with the given positions replaced."""
    return values.clone().scatter(positions, replacements.cast(values.dtype))


def _lever_scopes(policy: Policy, context: EvalContext) -> dict[str, pl.Expr]:
    """Which requests each cache or batch lever may act on."""
    in_scope = pl.col("in_scope")
    never = pl.lit(False)
    exact, semantic, prompt = policy.exact_cache, policy.semantic_cache, policy.prompt_cache
    exact_scope = never
    if exact is not None:
        exact_scope = in_scope & exact.when.expr(context) & pl.col("prompt_key").is_not_null()
        if not exact.include_streaming:
            exact_scope &= ~pl.col("stream").fill_null(False)
        if not exact.include_sampled:
            exact_scope &= pl.col("temperature").fill_null(0.0) <= 0.0
        if not exact.include_tools:
            exact_scope &= ~pl.col("has_tools").fill_null(False)
    batch_scope = never
    for rule in policy.batch:
        batch_scope |= rule.when.expr(context)
    return {
        "exact_cache_scope": exact_scope,
        "semantic_cache_scope": in_scope & semantic.when.expr(context) & pl.col("last_user_message").is_not_null()
        if semantic is not None else never,
        "prompt_cache_scope": in_scope & prompt.when.expr(context) if prompt is not None else never,
        "batch_scope": in_scope & batch_scope & ~pl.col("stream").fill_null(False),
    }


def _exact_hits(base: pl.DataFrame, policy: Policy, caches: CacheAnswers | None) -> pl.Series:
    cache = policy.exact_cache
    if cache is None:
        return pl.repeat(False, base.height, eager=True).alias("exact_cache_hit")
    if caches is not None:
        return caches.exact_hits(base["_log_position"])
    hits = exact_hit_positions(exact_cache_rows(base), cache.ttl_s, cache.max_entries)
    return base["_log_position"].is_in(hits.implode()).alias("exact_cache_hit")


def _semantic_hits(
    base: pl.DataFrame, policy: Policy, embeddings: EmbeddingStore | None, notes: list[str]
) -> pl.Series:
    cache = policy.semantic_cache
    if cache is None:
        return pl.repeat(False, base.height, eager=True).alias("semantic_cache_hit")
    scoped = base.with_row_index("_position").filter(pl.col("semantic_cache_scope") & ~pl.col("exact_cache_hit"))
    store = embeddings or EmbeddingStore()
    vectors = store.embed(scoped["last_user_message"].to_list())
    times = scoped.select(pl.col("ts").dt.epoch("us") / 1_000_000).to_series()
    best, _ = best_earlier_match(scoped["routed_model"], times, vectors, cache.ttl_s)
    hits = np.zeros(base.height, dtype=bool)
    hits[scoped["_position"].to_numpy()] = best >= cache.threshold - SIMILARITY_TOLERANCE
    notes.append(f"semantic cache: threshold {cache.threshold}, assumed false-hit rate "
                 f"{100 * cache.false_hit_rate:.0f}% of hits (not measured)")
    return pl.Series("semantic_cache_hit", hits)


def _choices(policy: Policy, context: EvalContext, escalation: Mapping[str, float]) -> dict[str, pl.Expr]:
    """Per request: the route's target, and the cascade it falls in (first match wins in each list),
    escalating at the rate replay measured for the request's category where it did."""
    keep = pl.col("model_id")
    route: pl.Expr = keep
    for rule in reversed(policy.routes):
        applies = rule.when.expr(context) if rule.share >= 1 else rule.when.expr(context) & _in_share(rule.share)
        route = pl.when(applies).then(keep if rule.to == KEEP else pl.lit(rule.to)).otherwise(route)
    tried: pl.Expr = pl.lit(None, dtype=pl.String())
    escalated: pl.Expr = pl.lit(None, dtype=pl.String())
    rates: list[pl.Expr] = [pl.lit(None, dtype=pl.Float64())] * 3
    for cascade in reversed(policy.cascades):
        condition = cascade.when.expr(context)
        tried = pl.when(condition).then(pl.lit(cascade.try_model)).otherwise(tried)
        escalated = pl.when(condition).then(
            keep if cascade.escalate_to == KEEP else pl.lit(cascade.escalate_to)
        ).otherwise(escalated)
        rates = [pl.when(condition).then(measured).otherwise(rate)
                 for rate, measured in zip(rates, _escalation_rates(cascade.escalate_rate, escalation), strict=True)]
    return {
        "cascade_try": tried,
        "cascade_escalate": escalated,
        "escalate_rate": rates[0],
        "escalate_low": rates[1],
        "escalate_high": rates[2],
        "routed_model": pl.coalesce(tried, route),
    }


SHARE_HASH_MULTIPLIER = 2_654_435_761
"""Knuth's multiplicative hash: spreads consecutive request numbers evenly over [0, 2^32)."""


def _in_share(share: float) -> pl.Expr:
    """True for a fixed, evenly spread ``share`` of requests (by their position in the logs), so a
    route's share picks the same requests on every run and a larger share keeps the smaller one's."""
    spread = (pl.col("_log_position") * SHARE_HASH_MULTIPLIER) % (1 << 32)
    return spread < int(share * (1 << 32))


def _carry_tokens(
    legs: pl.DataFrame,
    base: pl.DataFrame,
    tokenizer_ratios: Mapping[str, float] | None,
    output_ratios: Mapping[tuple[str, str], Interval],
    notes: list[str],
) -> pl.DataFrame:
    """The legs' tokens as they would have been on each leg's model (counterfactual rules)."""
    pairs = legs.filter(pl.col("in_scope")).select("model_id", "leg_model").unique().sort("model_id", "leg_model")
    models = set(pairs["model_id"].to_list()) | set(pairs["leg_model"].to_list())
    legs = legs.with_columns(**input_ratio_exprs(pl.col("model_id"), pl.col("leg_model"), models, tokenizer_ratios))
    legs = exact_openai_ratios(legs, base)
    same = pl.col("leg_model") == pl.col("model_id")
    point, low, high = _measured_output_exprs(output_ratios)
    legs = legs.with_columns(
        output_scale=pl.when(same).then(1.0).otherwise(point.fill_null(1.0)),
        output_low=pl.when(same).then(1.0).otherwise(low.fill_null(OUTPUT_RATIO_RANGE[0])),
        output_high=pl.when(same).then(1.0).otherwise(high.fill_null(OUTPUT_RATIO_RANGE[1])),
    )
    families = {
        f"{tokenizer_family(source)}->{tokenizer_family(target)} x{ratio.point:.2f}"
        for source, target in pairs.iter_rows()
        if (ratio := input_ratio(source, target, tokenizer_ratios)).low != ratio.high
    }
    if families:
        notes.append(TOKENIZER_NOTE + ", ".join(sorted(families)))
    return legs.with_columns(**counterfactual_tokens(same, pl.col("input_scale"), pl.col("output_scale")))


def _escalation_rates(assumed: float, measured: Mapping[str, Interval]) -> list[pl.Expr]:
    """The escalation rate and its low and high ends: measured for the request's category where replay
    measured it, else the policy's assumed rate (a point)."""
    rates: list[pl.Expr] = [pl.lit(assumed)] * 3
    for category, share in sorted(measured.items()):
        rates = [pl.when(pl.col("category") == category).then(pl.lit(value)).otherwise(rate)
                 for rate, value in zip(rates, (share.point, share.low, share.high), strict=True)]
    return rates


def _measured_output_exprs(output_ratios: Mapping[tuple[str, str], Interval]) -> list[pl.Expr]:
    """The measured output-length ratio of a leg's (category, model) and its low and high ends; null
    where not measured."""
    expressions: list[pl.Expr] = [pl.lit(None, dtype=pl.Float64())] * 3
    for (category, model), ratio in sorted(output_ratios.items()):
        leg = (pl.col("category") == category) & (pl.col("leg_model") == model)
        expressions = [pl.when(leg).then(pl.lit(value)).otherwise(expression)
                       for expression, value in zip(expressions, (ratio.point, ratio.low, ratio.high), strict=True)]
    return expressions


def _price_legs(legs: pl.DataFrame, book: PriceBook, as_of: datetime) -> pl.DataFrame:
    """Every leg priced on its model (rows kept in order), with its weighted cost and range."""
    in_scope = legs.filter(pl.col("in_scope"))["leg_model"].drop_nulls().unique().sort().to_list()
    targets = book.priced_models(in_scope)
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
    return priced.with_columns(leg_cost=pl.col("cost_usd") * weight, leg_low=low * pl.col("weight_low"),
                               leg_high=high * pl.col("weight_high"))
