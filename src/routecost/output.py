"""Writing results to files: reports as text, per-request rows as parquet, CSV or JSON Lines.

Every output goes through ``write_atomically``: it refuses a path that names one of the run's inputs
(a log, a policy, a price file, a report: ``paths.is_input``), and writes a temporary file beside the
target that replaces it only once complete, so an interrupted run never leaves half a report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import polars as pl

from routecost.errors import UsageError
from routecost.escape import csv_safe
from routecost.paths import is_input

PER_REQUEST_FORMATS = (".parquet", ".csv", ".jsonl")


def write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_per_request(requests: pl.DataFrame, path: Path) -> None:
    """One row per request with the canonical columns, its category and its cost."""
    suffix = path.suffix.lower()
    if suffix not in PER_REQUEST_FORMATS:
        raise UsageError(f"{path}: --per-request writes {', '.join(PER_REQUEST_FORMATS)} files")
    if suffix == ".parquet":
        write_atomically(path, requests.write_parquet)
    elif suffix == ".csv":
        write_atomically(path, csv_safe(requests.with_columns(pl.col("tags").list.join(","))).write_csv)
    else:
        write_atomically(path, requests.write_ndjson)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` into a temporary file beside ``path``, then put it in ``path``'s place."""
    if is_input(path):
        raise UsageError(f"{path}: this run reads it as input; refusing to write over it (choose another file)")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except OSError as error:
        raise UsageError(f"{path}: cannot write: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def private_file(path: Path) -> None:
    """A file that will hold prompts, answers or their embeddings, readable by its owner only: created
    so (in a directory made owner-only), or tightened when an older version or a copy left it
    readable by everyone."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        return
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass
