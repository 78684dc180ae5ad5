"""Writing results to files: reports as text, per-request rows as Parquet, CSV or JSON Lines.

Every output goes through ``write_atomically``: it refuses a path that names one of the run's inputs
(a log, a policy, a price file, a report: ``paths.is_input``), and writes a temporary file beside the
target that replaces it only once complete, so an interrupted run never leaves half a report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import polars.selectors as cs

from routecost.errors import UsageError
from routecost.escape import csv_safe
from routecost.paths import is_input

PER_REQUEST_FORMATS = (".parquet", ".csv", ".jsonl")


def write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


class PerRequestFile:
    """The per-request rows (``--per-request``): one row per request with the canonical columns, its
    category and its cost, and per policy where it goes and what it would cost. The rows arrive a
    segment at a time (``add``); each is kept in a private temporary directory beside the target,
    and ``close`` streams them all into the file (polars' sinks: memory does not grow with the log)."""

    def __init__(self, path: Path) -> None:
        suffix = path.suffix.lower()
        if suffix not in PER_REQUEST_FORMATS:
            raise UsageError(f"{path}: --per-request writes {', '.join(PER_REQUEST_FORMATS)} files")
        if is_input(path):
            raise UsageError(f"{path}: this run reads it as input; refusing to write over it (choose another file)")
        self._path, self._suffix = path, suffix
        self._parts: list[str] = []
        self._directory: str | None = None

    def add(self, rows: pl.DataFrame) -> None:
        if self._directory is None:
            try:
                self._directory = tempfile.mkdtemp(prefix=f".{self._path.name}.", dir=self._path.parent)
            except OSError as error:
                raise UsageError(f"{self._path}: cannot write: {error.strerror or error}") from None
        rows = rows.with_columns(cs.categorical().cast(pl.String))
        if self._suffix == ".csv":
            rows = csv_safe(rows.with_columns(pl.col("tags").list.join(",")))
        part = os.path.join(self._directory, f"{len(self._parts):06d}.arrow")
        rows.write_ipc(part)
        self._parts.append(part)

    def close(self) -> None:
        """Write the file from the parts (an audit hands over at least one, if only empty)."""
        rows = pl.scan_ipc(self._parts)
        sink = {".parquet": rows.sink_parquet, ".csv": rows.sink_csv, ".jsonl": rows.sink_ndjson}[self._suffix]
        try:
            write_atomically(self._path, sink)
        finally:
            self.discard()

    def discard(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


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
