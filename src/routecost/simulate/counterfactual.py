"""What a logged request's tokens would have been on another model: the counterfactual cost model.

- Input: the logged count times the ratio of the target's tokenizer to the source's. The ratio is
  exactly 1 for the same encoding (gpt-4o and gpt-4o-mini share o200k); between OpenAI encodings
  the text is counted with both when it is logged (``tokens.py``); across families a table of
  tokens per o200k token is used (``TOKENIZER_DEFAULTS``, overridable with ``tokenizer_ratios`` in
  the price file), with a ±10% range.
- Output: the logged output times an output-length ratio per (category, target model): 1.0 with
  a 0.8-1.25 range until replay measures it.
- Prompt-cache reads and writes stay on the same model and go cold elsewhere: on another model
  all input is priced as uncached input. Reasoning tokens stay part of the output.
- Batch requests stay batch-priced on the target; failed requests cost nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from routecost.tokens import TOKENIZER_DEFAULTS, tokenizer_family

COUNTERFACTUAL_RULES = (
    ("input tokens on another model = logged x tokenizer ratio (1 for the same encoding; counted with both "
    "OpenAI encodings when the text is logged; a per-family table, +/-10%, across families)"),
    "output tokens = logged x output-length ratio (1.0, range 0.8-1.25, until replay measures it)",
    "prompt-cache reads and writes stay on the same model and go cold on another (priced as plain input)",
    ("batch requests stay batch-priced; failed requests cost nothing; cascades pay the first try for every "
    "request and the escalation model for the escalated share"),
)
"""The rules above, as the report states them."""

CROSS_FAMILY_UNCERTAINTY = 0.10
OUTPUT_RATIO_RANGE = (0.8, 1.25)
"""Output length on another model relative to the logged one, when replay has not measured it."""

@dataclass(frozen=True)
class Ratio:
    point: float
    low: float
    high: float

    @classmethod
    def exact(cls, value: float = 1.0) -> Ratio:
        return cls(value, value, value)


def family_weight(family: str, overrides: Mapping[str, float] | None = None) -> float:
    """Tokens per o200k token for a tokenizer family (the user's table first, then the defaults)."""
    table = {**TOKENIZER_DEFAULTS, **(overrides or {})}
    return table.get(family, table["other"])


def input_ratio(source_model: str, target_model: str, overrides: Mapping[str, float] | None = None) -> Ratio:
    """Target tokens per source token for the same text (1 for the same encoding)."""
    source, target = tokenizer_family(source_model), tokenizer_family(target_model)
    if source == target:
        return Ratio.exact()
    point = family_weight(target, overrides) / family_weight(source, overrides)
    return Ratio(point, point * (1 - CROSS_FAMILY_UNCERTAINTY), point * (1 + CROSS_FAMILY_UNCERTAINTY))


def input_ratio_exprs(
    source: pl.Expr, target: pl.Expr, models: Iterable[str], overrides: Mapping[str, float] | None = None
) -> dict[str, pl.Expr]:
    """``input_ratio`` for every row at once: ``input_scale``, ``input_low``, ``input_high`` columns
    from the source and target model-id columns (``models`` lists the ids they may hold)."""
    families = {model: tokenizer_family(model) for model in models}
    weights = {model: family_weight(family, overrides) for model, family in families.items()}
    scale = target.replace_strict(weights, default=None, return_dtype=pl.Float64()) / source.replace_strict(
        weights, default=None, return_dtype=pl.Float64()
    )
    same_family = source.replace_strict(families, default=None, return_dtype=pl.String()) == target.replace_strict(
        families, default=None, return_dtype=pl.String()
    )
    return {
        "input_scale": scale,
        "input_low": pl.when(same_family).then(scale).otherwise(scale * (1 - CROSS_FAMILY_UNCERTAINTY)),
        "input_high": pl.when(same_family).then(scale).otherwise(scale * (1 + CROSS_FAMILY_UNCERTAINTY)),
    }


def counterfactual_tokens(same_model: pl.Expr, input_scale: pl.Expr, output_scale: pl.Expr) -> dict[str, pl.Expr]:
    """Token columns as they would have been on the target (to be set with ``with_columns``)."""
    cold = pl.lit(0, dtype=pl.Int64())
    return {
        "input_tokens": (pl.col("input_tokens") * input_scale).round().cast(pl.Int64),
        "cache_read_tokens": pl.when(same_model).then(pl.col("cache_read_tokens")).otherwise(cold),
        "cache_write_tokens": pl.when(same_model).then(pl.col("cache_write_tokens")).otherwise(cold),
        "cache_write_1h_tokens": pl.when(same_model).then(pl.col("cache_write_1h_tokens")).otherwise(cold),
        "output_tokens": (pl.col("output_tokens") * output_scale).round().cast(pl.Int64),
        "reasoning_tokens": pl.when(same_model).then(pl.col("reasoning_tokens")).otherwise(cold),
    }
