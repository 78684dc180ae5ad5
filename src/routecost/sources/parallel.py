"""Read one large log file with several processes, one byte range each.

Decoding JSON is Python-bound (msgspec holds the GIL while it builds objects), so threads do not
help; processes do (``workers.py``). The file is cut at line boundaries, each worker reads its range
into a polars frame with the same reader configuration, and the parent folds the parts back in file
order, shifting line numbers by the lines of the ranges before.
"""

from __future__ import annotations

import itertools
import os
import queue
import tempfile
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from routecost.workers import ReaderProcesses, report_progress

if TYPE_CHECKING:
    from routecost.sources.reader import Malformed, ProgressCallback, ReaderConfig

@dataclass
class RangeResult:
    """What a worker read from its byte range (line numbers relative to the range's first line).

    The rows travel as an Arrow IPC file, not through the result pipe: pickling a frame would hold
    a second copy of it in both processes."""

    frame_path: str | None = None
    line_count: int = 0
    malformed: int = 0
    examples: list[Malformed] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    implausible_times: int = 0
    first_implausible_line: int | None = None
    batch_custom_ids: list[str] = field(default_factory=list)
    batch_offsets: list[int | None] = field(default_factory=list)
    fatal: Malformed | None = None


def line_aligned_ranges(source: str, parts: int) -> list[tuple[int, int]]:
    """Cut a file into ``parts`` byte ranges that each start at the beginning of a line."""
    from routecost.sources.reader import skip_line

    size = os.path.getsize(source)
    cuts = [0]
    with open(source, "rb") as handle:
        for index in range(1, parts):
            handle.seek(max(size * index // parts, cuts[-1]))
            skip_line(handle.readline, 1 << 20)
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(start, end) for start, end in itertools.pairwise(cuts) if end > start]


def _read_range(source: str, start: int, end: int, config: ReaderConfig, spool: str) -> RangeResult:
    from routecost.sources.reader import LogReader

    return LogReader(config, on_progress=report_progress).read_range(source, start, end, spool)


def read_ranges(
    source: str, config: ReaderConfig, on_progress: ProgressCallback, processes: ReaderProcesses
) -> tuple[list[RangeResult], str]:
    """Read the file's ranges in parallel, relaying the workers' progress; results in file order,
    and the spool directory holding their frames (the caller loads them and removes it)."""
    ranges = line_aligned_ranges(source, processes.workers)
    spool = tempfile.mkdtemp(prefix="routecost-")
    futures: list[Future[RangeResult]] = [
        processes.executor.submit(_read_range, source, start, end, config, spool) for start, end in ranges
    ]
    while not all(future.done() for future in futures):
        try:
            on_progress(processes.progress.get(timeout=0.1))
        except queue.Empty:
            continue
    results = [future.result() for future in futures]
    while not processes.progress.empty():
        on_progress(processes.progress.get())
    return results, spool
