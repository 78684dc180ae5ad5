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
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from routecost.errors import Malformed
from routecost.sources.spill import SpilledPart
from routecost.workers import ReaderProcesses

ProgressCallback = Callable[[int], None]
RangeReader = Callable[[str, int, int, Any, str], "RangeResult"]
"""Reads (source, start, end, reader settings, spool directory) in a reader process: a module-level
function of the reader, so this module needs nothing of it."""

@dataclass
class RangeResult:
    """What a worker read from its byte range (line numbers relative to the range's first line).

    The rows travel as Arrow IPC files, a part at a time (``spill.py``), not through the result pipe:
    pickling a frame would hold a second copy of it in both processes."""

    parts: list[SpilledPart] = field(default_factory=list)
    line_count: int = 0
    malformed: int = 0
    examples: list[Malformed] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    implausible_times: int = 0
    first_implausible_line: int | None = None
    batch_custom_ids: list[str] = field(default_factory=list)
    batch_offsets: list[int | None] = field(default_factory=list)
    fatal: Malformed | None = None


def skip_line(readline: Callable[[int], bytes], piece_bytes: int) -> int:
    """Read past the rest of a line, ``piece_bytes`` at a time however long it is; the bytes skipped."""
    skipped = 0
    while piece := readline(piece_bytes):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            break
    return skipped


def line_aligned_ranges(source: str, parts: int) -> list[tuple[int, int]]:
    """Cut a file into ``parts`` byte ranges that each start at the beginning of a line."""
    size = os.path.getsize(source)
    cuts = [0]
    with open(source, "rb") as handle:
        for index in range(1, parts):
            handle.seek(max(size * index // parts, cuts[-1]))
            skip_line(handle.readline, 1 << 20)
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(start, end) for start, end in itertools.pairwise(cuts) if end > start]



RANGE_BYTES = 128 * 1024 * 1024
"""About the size of a byte range: a large file is cut into more ranges than there are readers, taken
in file order, so that the parent folds each finished range (pricing it) while the next are read,
instead of all of them once the last is done."""


def range_count(size: int, workers: int) -> int:
    """Ranges to cut a file of ``size`` bytes into for ``workers`` readers: one each at least, and
    about ``RANGE_BYTES`` each for a large file."""
    return max(workers, -(-size // RANGE_BYTES))


@contextmanager
def ranges_in_order(
    source: str, config: Any, on_progress: ProgressCallback, processes: ReaderProcesses, read_range: RangeReader
) -> Iterator[Iterator[RangeResult]]:
    """Read the file's ranges in parallel with ``read_range`` (given the reader's ``config``): the
    results in file order, each as soon as it and those before it are read, relaying the workers'
    progress meanwhile. The ranges' frames wait in a spool directory, removed on leaving."""
    ranges = line_aligned_ranges(source, range_count(os.path.getsize(source), processes.workers))
    spool = tempfile.mkdtemp(prefix="routecost-")
    futures: list[Future[RangeResult]] = [
        processes.executor.submit(read_range, source, start, end, config, spool) for start, end in ranges
    ]

    def in_order() -> Iterator[RangeResult]:
        for future in futures:
            while not future.done():
                with suppress(queue.Empty):
                    on_progress(processes.progress.get(timeout=0.1))
            yield future.result()
        while not processes.progress.empty():
            on_progress(processes.progress.get())

    try:
        yield in_order()
    finally:
        for future in futures:
            future.cancel()
        shutil.rmtree(spool, ignore_errors=True)
