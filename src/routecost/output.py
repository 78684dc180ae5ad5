"""Writing results to files: reports as text, per-request rows as parquet, CSV or JSON Lines."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from routecost.errors import UsageError

PER_REQUEST_FORMATS = (".parquet", ".csv", ".jsonl")


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror or error}") from None


def write_per_request(requests: pl.DataFrame, path: Path) -> None:
    """One row per request with the canonical columns, its category and its cost."""
    suffix = path.suffix.lower()
    if suffix not in PER_REQUEST_FORMATS:
        raise UsageError(f"{path}: --per-request writes {', '.join(PER_REQUEST_FORMATS)} files")
    try:
        if suffix == ".parquet":
            requests.write_parquet(path)
        elif suffix == ".csv":
            requests.with_columns(pl.col("tags").list.join(",")).write_csv(path)
        else:
            requests.write_ndjson(path)
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror or error}") from None
