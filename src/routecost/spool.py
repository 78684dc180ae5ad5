"""The priced requests an audit's summaries are computed from, kept a segment at a time.

A streamed audit (``audit.py``) cannot keep a month of requests in memory, and its summaries (totals
by model and category, unpriced models, the logged-cost check, the reference lines, repeated ids)
need every request. So each priced segment's summary columns go to an Arrow IPC file in a private
temporary directory, and the summaries are polars queries over those files, run by the streaming
engine, whose memory depends on the number of groups, not of rows. An audit that keeps its requests
anyway keeps the segments in memory instead. Either way the directory is removed when the audit ends.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import polars as pl


class Spool:
    def __init__(self, columns: tuple[str, ...] | None, *, on_disk: bool) -> None:
        """Keep ``columns`` of each frame added (None: all of them)."""
        self._columns = list(columns) if columns is not None else None
        self._directory = Path(tempfile.mkdtemp(prefix="routecost-spool-")) if on_disk else None  # owner-only
        self._files: list[str] = []
        self._frames: list[pl.DataFrame] = []

    def add(self, priced: pl.DataFrame) -> None:
        columns = priced.select(self._columns) if self._columns is not None else priced
        if self._directory is None:
            self._frames.append(columns)
            return
        path = str(self._directory / f"{len(self._files):06d}.arrow")
        columns.write_ipc(path, compression="lz4")
        self._files.append(path)

    def scan(self) -> pl.LazyFrame:
        """Every segment added (at least one must be: an empty log is one empty segment)."""
        if self._files:
            return pl.scan_ipc(self._files)
        return pl.concat(self._frames, how="vertical", rechunk=False).lazy()

    def frames(self) -> Iterator[pl.DataFrame]:
        """Every frame added, in order, one at a time."""
        if self._directory is None:
            yield from self._frames
            return
        for path in self._files:
            yield pl.read_ipc(path)

    def close(self) -> None:
        self._frames = []
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """A summary query, run by the streaming engine (bounded memory on a spool of any length)."""
    return query.collect(engine="streaming")
