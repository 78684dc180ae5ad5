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


def category_expr(key: str = DEFAULT_CATEGORY_KEY) -> pl.Expr:
    value = pl.coalesce(metadata_value_expr(key), tag_value_expr(key))
    return pl.when(value.is_null() | (value == "")).then(pl.lit(UNCATEGORIZED)).otherwise(value).alias("category")
