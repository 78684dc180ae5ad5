"""Which logged requests to replay: a stratified, seeded sample of the ones a policy moves.

The candidates are the billed, successful, priced requests whose model the policy changes (a
route, or a cascade's first try) or whose prompt it trims. Each gets a rank from a digest of (seed, file, byte offset), so
the same seed always draws the same requests, whatever else is in the logs or however they are
read; each category contributes its lowest-ranked requests: ``per_category`` of them, or a share
of ``total`` proportional to the category's size (at least one each, largest remainders first).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import polars as pl

from routecost.prices.pricing import CATALOG_PRICED
from routecost.records import STATUS_OK

SAMPLE_COLUMNS = ("source", "offset", "line", "format", "request_source", "request_offset", "model_id",
                  "input_tokens", "output_tokens", "temperature", "has_tools")


def replay_candidates(priced: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The requests a policy moves to another model or trims, with their category, target and trim rule."""
    frame = priced.select(SAMPLE_COLUMNS).hstack(
        rows.select(pl.col("category", "routed_model", "escalate_to").cast(pl.String), "trim_rule")
    ).hstack(priced.select(ok=(pl.col("status") == STATUS_OK) & CATALOG_PRICED))
    moved = (pl.col("routed_model") != pl.col("model_id")) | pl.col("trim_rule").is_not_null()
    return frame.filter(pl.col("ok") & moved & pl.col("offset").is_not_null()).drop("ok")


@dataclass(frozen=True)
class SampleSize:
    per_category: int | None = 20
    total: int | None = None


def draw_sample(candidates: pl.DataFrame, size: SampleSize, seed: int) -> pl.DataFrame:
    if candidates.is_empty():
        return candidates
    ranks = [
        hashlib.sha256(f"{seed}:{source}:{offset}".encode()).hexdigest()
        for source, offset in candidates.select("source", "offset").iter_rows()
    ]
    ranked = candidates.with_columns(_rank=pl.Series(ranks)).sort("category", "_rank")
    quotas = _quotas(dict(ranked.group_by("category").len().iter_rows()), size)
    taken = ranked.with_columns(_index=pl.int_range(pl.len()).over("category")).filter(
        pl.col("_index") < pl.col("category").replace_strict(quotas, return_dtype=pl.Int64())
    )
    return taken.drop("_rank", "_index")


def _quotas(sizes: dict[str, int], size: SampleSize) -> dict[str, int]:
    if size.total is None:
        per = size.per_category or 0
        return {category: min(count, per) for category, count in sizes.items()}
    total = min(size.total, sum(sizes.values()))
    grand = sum(sizes.values())
    exact = {category: total * count / grand for category, count in sizes.items()}
    quotas = {category: min(count, max(1, math.floor(exact[category]))) for category, count in sizes.items()}
    remainders = sorted(sizes, key=lambda category: (-(exact[category] - math.floor(exact[category])), category))
    for category in remainders:
        if sum(quotas.values()) >= total:
            break
        if quotas[category] < sizes[category]:
            quotas[category] += 1
    return quotas
