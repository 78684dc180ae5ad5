"""Exact input ratios between OpenAI encodings, counted on the logged text.

Moving a request between models with different OpenAI encodings (gpt-4's cl100k and gpt-4o's
o200k) changes its token count by a text-dependent amount; when the prompt was logged, both
encodings count it and the ratio is exact for that request. Other rows keep the table ratio.
"""

from __future__ import annotations

import polars as pl

from routecost.simulate.counterfactual import tokenizer_family
from routecost.sources.texts import TextRef, read_texts
from routecost.tokens import CL100K, O200K, TokenCounter

OPENAI_ENCODINGS = (O200K, CL100K)


def exact_openai_ratios(legs: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """Legs with ``input_scale``/``input_low``/``input_high`` replaced by the counted ratio where
    both models use OpenAI encodings that differ and the request's text can be read back."""
    pairs = legs.filter(pl.col("in_scope")).select("model_id", "leg_model").unique()
    crossing = [
        (source, target)
        for source, target in pairs.iter_rows()
        if {tokenizer_family(source), tokenizer_family(target)} == set(OPENAI_ENCODINGS)
    ]
    if not crossing:
        return legs
    crossing_frame = pl.DataFrame(crossing, schema={"model_id": pl.String(), "leg_model": pl.String()},
                                  orient="row")
    rows = legs.filter(pl.col("in_scope")).join(crossing_frame, on=["model_id", "leg_model"], how="semi").select(
        "_row", "model_id", "leg_model"
    ).unique()
    located = rows.join(base.select("_row", "source", "offset", "format", "request_source", "request_offset"),
                        on="_row", how="left")
    texts = read_texts(TextRef.of(located))
    counter = TokenCounter()
    counted: list[float | None] = []
    for (_, source, target), text in zip(located.select("_row", "model_id", "leg_model").iter_rows(), texts,
                                         strict=True):
        if text is None or not text.prompt:
            counted.append(None)
            continue
        source_tokens = counter.prompt_tokens(text, tokenizer_family(source))
        counted.append(counter.prompt_tokens(text, tokenizer_family(target)) / source_tokens if source_tokens else None)
    exact = located.select("_row", "leg_model").with_columns(exact_ratio=pl.Series(counted, dtype=pl.Float64()))
    ratio = pl.coalesce("exact_ratio", "input_scale")
    return legs.join(exact, on=["_row", "leg_model"], how="left", maintain_order="left").with_columns(
        input_scale=ratio,
        input_low=pl.when(pl.col("exact_ratio").is_not_null()).then(ratio).otherwise(pl.col("input_low")),
        input_high=pl.when(pl.col("exact_ratio").is_not_null()).then(ratio).otherwise(pl.col("input_high")),
    ).drop("exact_ratio")
