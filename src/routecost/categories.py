"""Task categories read from the logs: a metadata field, or a ``key:value`` tag.

``--category-key feature`` takes the category from ``metadata.feature`` (a dotted key reaches into
nested metadata), else from a tag ``feature:<value>``; the default key is ``category``. Requests
with neither are ``uncategorized``. Rule-based categorizers come with policies (``policy/``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

UNCATEGORIZED = "uncategorized"
REPEATS_TO_DEDUPLICATE = 4
"""Parse each distinct metadata object once when they repeat at least this often on average."""
DEFAULT_CATEGORY_KEY = "category"
METADATA_PREFIX = "metadata."
"""Conditions and category rules name metadata fields ``metadata.<key>``; so do extracted columns."""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def metadata_value_expr(key: str) -> pl.Expr:
    """The value at a (dotted) metadata key, as text; null when absent."""
    path = "$" + "".join(f".{part}" if _IDENTIFIER.match(part) else f"['{part}']" for part in key.split("."))
    return pl.col("metadata").str.json_path_match(path)


def tag_value_expr(key: str) -> pl.Expr:
    """The value of the first ``key:value`` tag; null when there is none."""
    prefix = f"{key}:"
    return (
        pl.col("tags")
        .list.eval(pl.element().filter(pl.element().str.starts_with(prefix)))
        .list.first()
        .str.strip_prefix(prefix)
    )


def metadata_columns(requests: pl.DataFrame, keys: Sequence[str]) -> pl.DataFrame:
    """A ``metadata.<key>`` column per key, aligned with the requests.

    Logs repeat a few metadata objects (a feature, a team) many times, and reading a JSON path costs
    about a microsecond a row; so when most objects repeat, each distinct one is read once and the
    values are joined back."""
    columns = [metadata_value_expr(key).alias(f"{METADATA_PREFIX}{key}") for key in keys]
    if requests.is_empty() or requests["metadata"].n_unique() * REPEATS_TO_DEDUPLICATE > requests.height:
        return requests.select(columns)
    distinct = requests.select(pl.col("metadata").unique()).with_columns(columns)
    return (
        requests.select("metadata")
        .join(distinct, on="metadata", how="left", nulls_equal=True, maintain_order="left")
        .drop("metadata")
    )


def with_category(requests: pl.DataFrame, key: str = DEFAULT_CATEGORY_KEY) -> pl.DataFrame:
    """The requests with a ``category`` column (the value is computed once, then tidied)."""
    from_metadata = metadata_columns(requests, [key]).to_series()
    return requests.with_columns(category=pl.coalesce(from_metadata, tag_value_expr(key))).with_columns(
        category=or_uncategorized(pl.col("category"))
    )


def or_uncategorized(category: pl.Expr) -> pl.Expr:
    """The category, or ``uncategorized`` where it is missing or empty."""
    return pl.when(category.is_null() | (category == "")).then(pl.lit(UNCATEGORIZED)).otherwise(category)
