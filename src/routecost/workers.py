"""The reader processes that read one large log file in parallel (``sources/parallel.py``).

They are spawned, not forked (polars' thread pool does not survive a fork), so each one starts by
importing polars and the log formats: about half a second. A command that is about to read a large
file starts them before it loads the price catalog and the policies (``start_early``), so that their
start-up overlaps its own. Kept free of heavy imports for that reason.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from routecost.paths import splittable

MAX_WORKERS = 8
"""Past this many readers, merging their parts costs more than reading in parallel saves."""


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def worker_count(requested: int | None) -> int:
    """The reader processes to start: as requested, but never more than there are CPUs to run them
    (each one costs about 200 MB; more processes than CPUs only take turns)."""
    return min(requested or default_workers(), default_workers())


class ReaderProcesses:
    """A pool of spawned reader processes, and the queue they report their progress on."""

    def __init__(self, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.workers = workers
        self.progress: Any = context.Queue()
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(self.progress,)
        )
        for _ in range(workers):  # the pool spawns a process per task waiting for one: start them all now
            self.executor.submit(int)

    def close(self, *, wait: bool = True) -> None:
        """Stop the processes; ``wait=False`` when none is reading any more: they exit while the caller
        goes on (a quarter of a second: each tears down its polars), and are joined at exit."""
        self.executor.shutdown(wait=wait, cancel_futures=True)
        self.progress.close()


_progress_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    """In each reader process: keep the progress queue, and import the reader now, while it waits."""
    global _progress_queue
    _progress_queue = progress_queue
    import routecost.sources.reader  # noqa: F401 - the import is the point


def report_progress(consumed: int) -> None:
    """In a reader process: pass the bytes consumed to the parent's progress bar."""
    _progress_queue.put(consumed)


_early: ReaderProcesses | None = None


def start_early(paths: Sequence[str], workers: int) -> None:
    """Start the reader processes now when one of the named files will be read in parallel."""
    global _early
    if _early is None and workers > 1 and any(splittable(path) for path in paths):
        _early = ReaderProcesses(workers)


def reader_processes(workers: int) -> ReaderProcesses:
    """The processes started early for this many workers (once), or new ones; the caller closes them."""
    global _early
    early, _early = _early, None
    if early is not None and early.workers == workers:
        return early
    if early is not None:
        early.close()
    return ReaderProcesses(workers)
