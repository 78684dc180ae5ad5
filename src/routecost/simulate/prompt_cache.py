"""Providers' prompt (prefix) caches, replayed on the routed traffic.

Each request's prompt has three fingerprinted boundaries (``sources/prompts.py``): the system
prompt with the tools, the conversation history, the whole prompt. A boundary's prefix is warm on a
model when an earlier request on that model had the same prefix within the cache's lifetime (every
use refreshes it). A request reads the longest warm prefix it may read, if the prefix is at least
the model's minimum cacheable length:

- OpenAI (and Azure): automatic, any boundary, in 128-token steps past the first 1,024 tokens;
  an unused prefix lives about 5 minutes;
- Google Gemini: implicit caching, any boundary, about 5 minutes;
- Anthropic (and Claude on Bedrock/Vertex): only at the policy's breakpoints; a cold breakpoint is
  written, at 1.25x the input price for a 5-minute entry or 2x for a 1-hour one.

A prefix's tokens are the request's input tokens (on the routed model) times the prefix's share of
the prompt's bytes; logs that clip long prompts understate it. Which prefixes are warm is decided
over all the traffic the lever covers that reaches a provider (kept or rerouted; not the requests a
response cache answers); a kept request that logged cache activity keeps what it logged (that is
what happened), the others get the replay. Lifetimes and minimums are the providers' published
figures as of 2026-11 (``cache_rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from routecost.policy.model import PromptCache


@dataclass(frozen=True)
class CacheRules:
    lifetime_s: float
    min_tokens: int
    step_tokens: int
    explicit: bool


AUTOMATIC_OPENAI = CacheRules(lifetime_s=300, min_tokens=1024, step_tokens=128, explicit=False)
IMPLICIT_GEMINI = CacheRules(lifetime_s=300, min_tokens=1024, step_tokens=1, explicit=False)
EXPLICIT_ANTHROPIC = CacheRules(lifetime_s=300, min_tokens=1024, step_tokens=1, explicit=True)
WRITE_TTL_S = {"5m": 300.0, "1h": 3600.0}
MIN_TOKENS_BY_MODEL = (
    ("haiku-4", 4096),
    ("opus-4-5", 4096),
    ("claude-3-haiku", 2048),
    ("claude-3-5-haiku", 2048),
    ("gemini-2.5-pro", 2048),
    ("gemini-3", 2048),
)
"""Models whose minimum cacheable prefix differs from their provider's."""

BOUNDARIES = ("system", "history", "prompt")
PREFIX_ROW_SCHEMA = {"position": pl.UInt64(), "key": pl.UInt64(), "t": pl.Float64(), "lifetime": pl.Float64()}
"""What replaying a boundary's prefixes needs of a request (``prefix_rows``)."""
_BOUNDARY_GROWS = {
    "system": pl.col("system_bytes") > 0,
    "history": pl.col("history_bytes") > pl.col("system_bytes"),
    "prompt": pl.lit(True),
}
"""The requests whose prefix at each boundary is longer than at the one before. Only those need
the boundary's warmth: the others' prefix there is the shorter one (same bytes, warm whenever the
longer key is), and no longer prefix can share their key."""


def cache_rules(model_id: str, write_ttl: str) -> CacheRules | None:
    """How a model caches prompts; None for models without prompt caching in routecost's table."""
    provider, _, model = model_id.lower().rpartition("/")
    if "claude" in model or provider == "anthropic":
        rules = EXPLICIT_ANTHROPIC
        rules = CacheRules(WRITE_TTL_S[write_ttl], rules.min_tokens, rules.step_tokens, rules.explicit)
    elif provider in ("openai", "azure"):
        rules = AUTOMATIC_OPENAI
    elif provider == "google" or "gemini" in model:
        rules = IMPLICIT_GEMINI
    else:
        return None
    minimum = next((tokens for marker, tokens in MIN_TOKENS_BY_MODEL if marker in model), rules.min_tokens)
    return CacheRules(rules.lifetime_s, minimum, rules.step_tokens, rules.explicit)


def warm_prefixes(base: pl.DataFrame, cache: PromptCache, in_scope: pl.Expr,
                  warm: Mapping[str, pl.Series] | None = None) -> pl.DataFrame:
    """Per request: the bytes of the longest warm prefix it may read on its routed model, and of
    the prefix it would write (Anthropic breakpoints), as ``prompt_cache_read_bytes`` and
    ``prompt_cache_write_bytes`` (null outside the lever's scope).

    ``warm`` holds, per boundary, the log positions whose prefix there is warm, when the cache was
    replayed elsewhere (a streamed audit's cache pass, ``cache_pass.py``); without it the requests
    ``in_scope`` here are replayed (``warm_positions``)."""
    rules = _rules_of(base, cache)
    if not rules:
        return _scatter_back(base.height, pl.DataFrame(schema={"_position": pl.UInt32(), **dict.fromkeys(
            ("prompt_cache_read_bytes", "prompt_cache_write_bytes"), pl.Int64())}))
    scoped = _scoped(base, rules, in_scope).with_columns(
        _explicit=_per_model(pl.col("routed_model"), rules, "explicit", pl.Boolean())).collect()
    if warm is None:
        warm = {boundary: warm_positions(rows) for boundary, rows in _prefix_rows(scoped).items()}
    scoped = scoped.with_columns(
        pl.col("_log_position").is_in(warm[boundary].implode()).alias(f"_{boundary}_warm") for boundary in BOUNDARIES)
    readable = {boundary: pl.lit(True) if boundary in cache.breakpoints else ~pl.col("_explicit")
                for boundary in BOUNDARIES}
    written = [pl.when(pl.col("_explicit")).then(pl.col(f"{boundary}_bytes")).otherwise(0)
               for boundary in BOUNDARIES if boundary in cache.breakpoints]
    found = scoped.select(
        "_position",
        prompt_cache_read_bytes=pl.max_horizontal([
            pl.when(pl.col(f"_{boundary}_warm") & readable[boundary]).then(pl.col(f"{boundary}_bytes")).otherwise(0)
            for boundary in BOUNDARIES
        ]),
        prompt_cache_write_bytes=pl.max_horizontal(written) if written else pl.lit(0, dtype=pl.Int64()),
    )
    return _scatter_back(base.height, found)


def prefix_rows(base: pl.DataFrame, cache: PromptCache, in_scope: pl.Expr) -> dict[str, pl.DataFrame]:
    """Per boundary, what replaying its prefixes needs of the requests ``in_scope`` (on a model with
    prompt caching, prompt fingerprinted) whose prefix there is longer than at the boundary before:
    ``position`` in the log, ``key`` (the prefix on the routed model, hashed), time ``t`` in seconds
    and the model's cache ``lifetime``."""
    rules = _rules_of(base, cache)
    if not rules:
        return {boundary: pl.DataFrame(schema=PREFIX_ROW_SCHEMA) for boundary in BOUNDARIES}
    return _prefix_rows(_scoped(base, rules, in_scope).collect())


def warm_positions(rows: pl.DataFrame) -> pl.Series:
    """The positions of the ``prefix_rows`` whose prefix is warm: the row before it in (key, time,
    position) order has the same key and came at most ``lifetime`` seconds earlier (every use
    refreshes a prefix). Keys are independent, so any split of the rows by key gives the same answers."""
    ordered = rows.sort("key", "t", "position")
    key, moment = pl.col("key"), pl.col("t")
    return ordered.filter((key == key.shift()) & (moment - moment.shift() <= pl.col("lifetime")))["position"]


def _rules_of(base: pl.DataFrame, cache: PromptCache) -> dict[str, CacheRules]:
    """The caching rules of the routed models that cache prompts."""
    models = base["routed_model"].drop_nulls().unique().to_list()
    return {model: rule for model in models if (rule := cache_rules(model, cache.write_ttl)) is not None}


def _scoped(base: pl.DataFrame, rules: dict[str, CacheRules], in_scope: pl.Expr) -> pl.LazyFrame:
    """The requests whose prefixes are replayed, with their time and their model's cache lifetime."""
    model = pl.col("routed_model")
    return base.lazy().with_row_index("_position").filter(
        in_scope & model.is_in(list(rules)) & pl.col("prompt_key").is_not_null()
    ).select(
        "_position", "_log_position", "routed_model",
        *(f"{boundary}_{part}" for boundary in BOUNDARIES for part in ("key", "bytes")),
        _t=pl.col("ts").dt.epoch("us") / 1_000_000,
        _lifetime=_per_model(model, rules, "lifetime_s", pl.Float64()),
    )


def _prefix_rows(scoped: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {
        boundary: scoped.lazy().filter(grows & pl.col("_t").is_not_null()).select(
            position=pl.col("_log_position").cast(pl.UInt64),
            key=pl.struct("routed_model", f"{boundary}_key").hash(seed=0),
            t=pl.col("_t"),
            lifetime=pl.col("_lifetime"),
        ).collect()
        for boundary, grows in _BOUNDARY_GROWS.items()
    }


def _scatter_back(height: int, found: pl.DataFrame) -> pl.DataFrame:
    """Columns of ``found`` spread back over ``height`` rows at their ``_position`` (null elsewhere)."""
    positions = found["_position"]
    return pl.DataFrame({
        name: pl.repeat(None, height, dtype=pl.Int64(), eager=True).alias(name).scatter(
            positions, found[name].cast(pl.Int64)
        )
        for name in found.columns if name != "_position"
    })


def apply_prompt_cache(legs: pl.DataFrame, cache: PromptCache) -> pl.DataFrame:
    """Legs with their cache-read and cache-write tokens from the replay, where it covers them.

    Tokens are the leg's (carried-over) input times the prefix's share of the prompt's bytes,
    below the model's minimum nothing is cached, OpenAI reads in 128-token steps, and a write
    covers what the breakpoint prefix adds beyond the read. A leg that stays on its logged model
    and logged cache activity keeps it."""
    models = legs["leg_model"].drop_nulls().unique().to_list()
    rules = {model: rule for model in models if (rule := cache_rules(model, cache.write_ttl)) is not None}
    if not rules:
        return legs
    model = pl.col("leg_model")
    minimum, step = pl.col("_minimum"), pl.col("_step")

    def tokens(column: str) -> pl.Expr:
        share = (pl.col("input_tokens") * pl.col(column) / pl.col("prompt_bytes")).floor().cast(pl.Int64)
        return pl.when(share >= minimum).then(share).otherwise(0)

    readable, written = tokens("prompt_cache_read_bytes"), tokens("prompt_cache_write_bytes")
    read = pl.when(readable > 0).then(minimum + (readable - minimum) // step * step).otherwise(0)
    logged_activity = (pl.col("cache_read_tokens").fill_null(0) + pl.col("cache_write_tokens").fill_null(0)) > 0
    replayed = (
        pl.col("prompt_cache_read_bytes").is_not_null() & minimum.is_not_null()
        & (pl.col("leg_model") == pl.col("routed_model"))
        & ~((pl.col("leg_model") == pl.col("model_id")) & logged_activity)
    )
    write = pl.when(written > pl.col("_read")).then(written - pl.col("_read")).otherwise(0)
    one_hour = cache.write_ttl == "1h"
    return legs.lazy().with_columns(
        _minimum=_per_model(model, rules, "min_tokens", pl.Int64()),
        _step=_per_model(model, rules, "step_tokens", pl.Int64()),
    ).with_columns(_read=read).with_columns(_write=write, _replayed=replayed).with_columns(
        cache_read_tokens=pl.when("_replayed").then(pl.col("_read")).otherwise(pl.col("cache_read_tokens")),
        cache_write_tokens=pl.when("_replayed").then(pl.col("_write")).otherwise(pl.col("cache_write_tokens")),
        cache_write_1h_tokens=pl.when("_replayed").then(pl.col("_write") if one_hour else pl.lit(0))
        .otherwise(pl.col("cache_write_1h_tokens")),
    ).drop("_minimum", "_step", "_read", "_write", "_replayed").collect()


def _per_model(model: pl.Expr, rules: dict[str, CacheRules], attribute: str, dtype: pl.DataType) -> pl.Expr:
    """A rule's value for each row's model."""
    values = pl.Series([getattr(rule, attribute) for rule in rules.values()], dtype=dtype, strict=False)
    return model.replace_strict(list(rules), values, default=None, return_dtype=dtype)
