"""Task categories read from the logs: a metadata field, or a ``key:value`` tag.

``--category-key feature`` takes the category from ``metadata.feature`` (a dotted key reaches into
nested metadata), else from a tag ``feature:<value>``; the default key is ``category``. Requests
with neither are ``uncategorized``. Rule-based categorizers come with policies (``policy/``).
"""

from __future__ import annotations

import re

import polars as pl

UNCATEGORIZED = "uncategorized"
DEFAULT_CATEGORY_KEY = "category"
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


def with_category(requests: pl.DataFrame, key: str = DEFAULT_CATEGORY_KEY) -> pl.DataFrame:
    """The requests with a ``category`` column (the value is computed once, then tidied)."""
    return requests.with_columns(category=pl.coalesce(metadata_value_expr(key), tag_value_expr(key))).with_columns(
        category=pl.when(pl.col("category").is_null() | (pl.col("category") == ""))
        .then(pl.lit(UNCATEGORIZED))
        .otherwise(pl.col("category"))
    )
