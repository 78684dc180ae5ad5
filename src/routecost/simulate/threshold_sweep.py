"""``routecost cache sweep``: semantic-cache hit rates across similarity thresholds.

Each request in scope is compared once with the earlier requests of its (routed) model within the
cache's lifetime; its best similarity then says, for every threshold at once, whether it would
have been a hit. Hit rates can only fall as the threshold rises. A false hit serves a wrong answer,
so the sweep also writes a sample of would-be hit pairs, both prompts side by side, for review.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from routecost.policy.conditions import ALWAYS, Condition, EvalContext
from routecost.prices.pricing import CATALOG_PRICED, billed_expr
from routecost.simulate.semantic_cache import SIMILARITY_TOLERANCE, EmbeddingStore, best_earlier_match
from routecost.sources.texts import text_columns

THRESHOLDS = tuple(round(0.80 + step / 100, 2) for step in range(20))


@dataclass(frozen=True)
class SweepPoint:
    threshold: float
    hits: int
    hit_rate_pct: float
    saved_usd: float
    """Baseline cost of the requests that would have been hits."""


@dataclass
class SweepResult:
    requests: int
    ttl_s: float
    points: list[SweepPoint]
    pairs: list[dict[str, object]] = field(default_factory=list)
    embedded: int = 0
    """Texts embedded in this run (the others came from the on-disk cache)."""
    embed_seconds: float = 0.0


def sweep(
    priced: pl.DataFrame,
    *,
    ttl_s: float,
    when: Condition = ALWAYS,
    policy_rows: pl.DataFrame | None = None,
    store: EmbeddingStore | None = None,
    sample_pairs: int = 50,
    seed: int = 0,
) -> SweepResult:
    context = EvalContext(
        logged_models=tuple(priced["model"].drop_nulls().unique().to_list()),
        model_ids=tuple(priced["model_id"].drop_nulls().unique().to_list()),
    )
    frame = priced.hstack(text_columns(priced))
    if policy_rows is None:
        frame = frame.with_columns(_model=pl.col("model_id"), _served=pl.lit(False))
    else:  # as the audit sees them under the policy: its categories, routed models, exact-cache hits
        frame = frame.with_columns(category=policy_rows["category"].cast(pl.String),
                                   _model=policy_rows["routed_model"].cast(pl.String),
                                   _served=policy_rows["exact_cache_hit"])
    scoped = frame.filter(  # the audit's semantic-cache scope (simulate/routing.py), one definition of a hit
        CATALOG_PRICED & billed_expr() & pl.col("last_user_message").is_not_null() & when.expr(context)
        & ~pl.col("_served")
    )
    store = store or EmbeddingStore()
    embedded_before = store.computed
    started = datetime.now()
    vectors = store.embed(scoped["last_user_message"].to_list())
    embed_seconds = (datetime.now() - started).total_seconds()
    times = scoped.select(pl.col("ts").dt.epoch("us") / 1_000_000).to_series()
    best, match = best_earlier_match(scoped["_model"], times, vectors, ttl_s)
    costs = scoped["cost_usd"].to_numpy()
    points = [
        SweepPoint(threshold, int(hit.sum()), 100.0 * float(hit.mean()) if len(hit) else 0.0, float(costs[hit].sum()))
        for threshold in THRESHOLDS
        if (hit := best >= threshold - SIMILARITY_TOLERANCE) is not None
    ]
    return SweepResult(
        requests=scoped.height, ttl_s=ttl_s, points=points,
        pairs=_pairs(scoped, best, match, sample_pairs, seed), embedded=store.computed - embedded_before,
        embed_seconds=embed_seconds,
    )


def _pairs(scoped: pl.DataFrame, best: np.ndarray, match: np.ndarray, count: int, seed: int) -> list[dict[str, object]]:
    """A seeded sample of would-be hits at the lowest threshold, with both prompts."""
    candidates = np.flatnonzero(best >= THRESHOLDS[0]).tolist()
    chosen = sorted(random.Random(seed).sample(candidates, min(count, len(candidates))))
    texts = scoped["last_user_message"].to_list()
    where = scoped.select(pl.format("{}:{}", "source", "line")).to_series().to_list()
    return [
        {"similarity": round(float(best[index]), 4), "request": where[index], "prompt": texts[index],
         "earlier_request": where[int(match[index])], "earlier_prompt": texts[int(match[index])]}
        for index in chosen
    ]
