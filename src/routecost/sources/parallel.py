"""Read one large log file with several processes, one byte range each.

Decoding JSON is Python-bound (msgspec holds the GIL while it builds objects), so threads do not
help; processes do. The file is cut at line boundaries, each worker reads its range into a polars
frame with the same reader configuration, and the parent folds the parts back in file order,
shifting line numbers by the lines of the ranges before. Workers are spawned, not forked: polars'
thread pool does not survive a fork.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import tempfile
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from routecost.sources.reader import Malformed, ProgressCallback, ReaderConfig

PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Below this size the cost of starting worker processes outweighs what they save."""


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
    batch_custom_ids: list[str] = field(default_factory=list)
    batch_offsets: list[int | None] = field(default_factory=list)
    fatal: Malformed | None = None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def splittable(source: str) -> bool:
    """A plain, seekable JSONL file big enough to be worth splitting."""
    from routecost.sources.reader import DOCUMENT_SUFFIXES, STDIN, is_csv

    if source == STDIN or is_csv(source) or source.lower().endswith((".gz", *DOCUMENT_SUFFIXES)):
        return False
    try:
        if os.path.getsize(source) < PARALLEL_MIN_BYTES:
            return False
        with open(source, "rb") as handle:
            return handle.read(2) != b"\x1f\x8b"
    except OSError:
        return False


def line_aligned_ranges(source: str, parts: int) -> list[tuple[int, int]]:
    """Cut a file into ``parts`` byte ranges that each start at the beginning of a line."""
    size = os.path.getsize(source)
    cuts = [0]
    with open(source, "rb") as handle:
        for index in range(1, parts):
            handle.seek(max(size * index // parts, cuts[-1]))
            handle.readline()
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(start, end) for start, end in itertools.pairwise(cuts) if end > start]


_progress_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _progress_queue
    _progress_queue = progress_queue


def _read_range(source: str, start: int, end: int, config: ReaderConfig, spool: str) -> RangeResult:
    from routecost.sources.reader import LogReader

    return LogReader(config, on_progress=_progress_queue.put).read_range(source, start, end, spool)


def load_frame(result: RangeResult) -> pl.DataFrame:
    """A worker's rows, read back from its spool file (which is then removed)."""
    assert result.frame_path is not None
    frame = pl.read_ipc(result.frame_path)
    os.unlink(result.frame_path)
    return frame


def read_ranges(
    source: str, config: ReaderConfig, on_progress: ProgressCallback
) -> tuple[list[RangeResult], str]:
    """Read the file's ranges in parallel, relaying the workers' progress; results in file order,
    and the spool directory holding their frames (the caller loads them and removes it)."""
    ranges = line_aligned_ranges(source, config.workers)
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    spool = tempfile.mkdtemp(prefix="routecost-")
    with ProcessPoolExecutor(
        max_workers=len(ranges), mp_context=context, initializer=_init_worker, initargs=(progress_queue,)
    ) as pool:
        futures: list[Future[RangeResult]] = [
            pool.submit(_read_range, source, start, end, config, spool) for start, end in ranges
        ]
        while not all(future.done() for future in futures):
            try:
                on_progress(progress_queue.get(timeout=0.1))
            except queue.Empty:
                continue
        results = [future.result() for future in futures]
    while not progress_queue.empty():
        on_progress(progress_queue.get())
    return results, spool
