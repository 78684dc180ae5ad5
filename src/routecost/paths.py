"""Which files the paths on a command line name, and what kind each one is.

Kept free of heavy imports: the command line consults it before it loads polars and the log
formats (to start the reader processes early, see ``workers.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from glob import glob
from pathlib import Path

from routecost.errors import UsageError

STDIN = "-"
STDIN_NAME = "<stdin>"
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".har", ".log", ".csv", ".gz")
DOCUMENT_SUFFIXES = (".json", ".har")
"""Files that hold one JSON document (an array, ``{"data": [...]}``, a HAR log), not JSON lines."""
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Below this size the cost of starting reader processes outweighs what they save."""


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files behind the given paths: files as given, directories walked for log files, globs expanded."""
    files: list[str] = []
    for path in paths:
        if path == STDIN:
            files.append(STDIN)
            continue
        target = Path(path)
        if target.is_dir():
            found = sorted(p for p in target.rglob("*") if p.is_file() and is_log_file(p.name))
            if not found:
                raise UsageError(f"{path}: no log files in this directory (looked for {', '.join(LOG_SUFFIXES)})")
            files.extend(str(p) for p in found)
        elif target.is_file():
            files.append(path)
        elif any(char in path for char in "*?["):
            matched = sorted(glob(path, recursive=True))
            if not matched:
                raise UsageError(f"{path}: no files match this pattern")
            files.extend(expand_paths(matched))
        else:
            raise UsageError(f"{path}: no such file or directory")
    return files


def is_log_file(name: str) -> bool:
    return name.lower().endswith(LOG_SUFFIXES)


def is_csv(source: str) -> bool:
    return source.lower().removesuffix(".gz").endswith(".csv")


def is_document(source: str) -> bool:
    """Named as a whole-file JSON document (see ``DOCUMENT_SUFFIXES``), gzipped or not."""
    return source.lower().removesuffix(".gz").endswith(DOCUMENT_SUFFIXES)


def splittable(source: str) -> bool:
    """A plain, seekable JSON-lines file big enough to be worth cutting into byte ranges for several
    reader processes (a whole-file document cut in pieces would not parse)."""
    if source == STDIN or is_csv(source) or source.lower().endswith((".gz", *DOCUMENT_SUFFIXES)):
        return False
    try:
        if os.path.getsize(source) < PARALLEL_MIN_BYTES:
            return False
        with open(source, "rb") as handle:
            return handle.read(2) != b"\x1f\x8b"
    except OSError:
        return False
