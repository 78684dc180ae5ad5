"""The rows read, finished into segments: what the reader hands on, a bounded number of rows at a time.

A month of a large team's logs does not fit in memory as one frame, so the reader hands on its rows
in segments of about ``SEGMENT_ROWS`` requests, each finished as a whole log would be (stream events
joined, impossible token splits rejected, batch results joined to their request lines, the
``--since``/``--until`` window applied). Two kinds of rows wait instead of going into the segment
they were read in, because what finishes them may come later: a stream's events wait for the end of
their file (a stream never spans files), and batch results wait for the end of the reading (their
request lines may be in a later file). Without a segment size, every row goes into one segment,
finished once, in the same order: a request's position is the same whatever the segments' size.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from routecost.database import is_database_url
from routecost.errors import Malformed
from routecost.records import BILLED_STATUSES, empty_requests
from routecost.sources.streams import JOINED_EVENTS, ORPHAN_EVENTS, join_stream_events

SEGMENT_ROWS = int(os.environ.get("ROUTECOST_SEGMENT_ROWS", "") or 100_000)
"""Requests per segment of a streamed audit: large enough that the per-segment steps (pricing by
distinct model, projecting each policy) cost little, small enough that a few segments in flight
stay far below the memory bar. ``ROUTECOST_SEGMENT_ROWS`` overrides it (the tests use tiny ones)."""
OUTSIDE_WINDOW = "logged outside --since/--until (or without a time)"

IMPOSSIBLE_SPLITS: tuple[tuple[str, pl.Expr, str], ...] = (
    ("cache_read_tokens",
     pl.col("cache_read_tokens").fill_null(0) + pl.col("cache_write_tokens").fill_null(0) > pl.col("input_tokens"),
     "cache reads and writes exceed the input they are part of"),
    ("cache_write_1h_tokens", pl.col("cache_write_1h_tokens") > pl.col("cache_write_tokens").fill_null(0),
     "1-hour cache writes exceed all cache writes"),
    ("reasoning_tokens", pl.col("reasoning_tokens") > pl.col("output_tokens"),
     "reasoning tokens exceed the output they are part of"),
)
"""Token splits no provider bills: priced as logged they would make a negative cost."""


@dataclass
class Segmenter:
    """Raw frames in (as the reader builds them), finished segments out (to ``emit``)."""

    emit: Callable[[pl.DataFrame], None]
    rows: int | None
    """Requests per segment; None for one segment holding everything."""
    window: pl.Expr | None
    skipped: Counter[str]
    formats: Counter[str]
    malformed: Callable[[Malformed], None]
    batch_requests: Callable[[], pl.DataFrame | None]
    """The batch request lines read so far (``custom_id``, ``request_source``, ``request_offset``)."""
    _pending: list[pl.DataFrame] = field(default_factory=list)
    _pending_rows: int = 0
    _file_streams: list[pl.DataFrame] = field(default_factory=list)
    _batch_results: list[pl.DataFrame] = field(default_factory=list)

    def add(self, frame: pl.DataFrame) -> None:
        frame = self._set_aside(frame)
        self._pending.append(frame)
        self._pending_rows += frame.height
        if self.rows is not None and self._pending_rows >= self.rows:
            self._flush()

    def end_of_file(self) -> None:
        """The file's stream events, all read: they join the rows of the current segment."""
        if self._file_streams:
            streams, self._file_streams = pl.concat(self._file_streams, how="vertical"), []
            self._pending.append(streams)
            self._pending_rows += streams.height

    def close(self) -> None:
        """Everything read: the waiting rows are finished with the last segment."""
        self.end_of_file()
        if self._batch_results:
            self._pending.extend(self._batch_results)
            self._batch_results = []
        self._flush()

    def _set_aside(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows that can be finished now; stream events and batch results wait."""
        height = frame.height
        if frame["stream_key"].null_count() == height and frame["custom_id"].null_count() == height:
            return frame
        event = pl.col("stream_key").is_not_null()
        batch_result = pl.col("custom_id").is_not_null() & ~event
        self._file_streams.append(frame.filter(event))
        self._batch_results.append(frame.filter(batch_result))
        return frame.filter(~event & ~batch_result)

    def _flush(self) -> None:
        frames, self._pending, self._pending_rows = self._pending, [], 0
        if frames or self.rows is None:
            segment = self._finished(pl.concat(frames, how="vertical", rechunk=False) if frames else empty_requests())
            if segment.height or self.rows is None:
                self.emit(segment)

    def _finished(self, requests: pl.DataFrame) -> pl.DataFrame:
        streams = join_stream_events(requests)
        for reason, count in ((JOINED_EVENTS, streams.joined_events), (ORPHAN_EVENTS, streams.orphan_events)):
            if count:
                self.skipped[reason] += count
        requests = self._reject_impossible_splits(streams.requests.with_columns(model=pl.col("model").replace("", None)))
        batch_requests = self.batch_requests()
        if batch_requests is not None:
            requests = _join_batch_requests(requests, batch_requests)
        if self.window is not None:
            inside = requests.select(self.window).to_series()
            if outside := requests.height - int(inside.sum()):
                self.skipped[OUTSIDE_WINDOW] += outside
            requests = requests.filter(inside)
        self.formats.update(dict(requests.group_by("format").len().iter_rows()))
        return requests

    def _reject_impossible_splits(self, requests: pl.DataFrame) -> pl.DataFrame:
        """A request whose token parts exceed their whole is malformed (named), never priced below zero."""
        billed = pl.col("status").is_in(BILLED_STATUSES)  # a failed request costs nothing, whatever it logged
        checks = requests.select(*(check.fill_null(False).and_(billed).alias(name) for name, check, _ in IMPOSSIBLE_SPLITS))
        bad = pl.any_horizontal(checks.columns)
        if not checks.select(bad.any()).item():
            return requests
        problems = {name: problem for name, _, problem in IMPOSSIBLE_SPLITS}
        first_failed = pl.coalesce(*(pl.when(pl.col(name)).then(pl.lit(name)) for name in problems))
        failed = requests.select("source", "line", "request_id").hstack(checks.select(first_failed.alias("field")))
        for source, line, request_id, name in failed.filter(pl.col("field").is_not_null()).iter_rows():
            if is_database_url(source):  # a database row is named by its request_id
                source, line = f"{source} request_id {request_id}", None
            self.malformed(Malformed(source, line, name, problems[name]))
        return requests.filter(~checks.select(bad).to_series())


def _join_batch_requests(requests: pl.DataFrame, batch_requests: pl.DataFrame) -> pl.DataFrame:
    joined = requests.drop("request_source", "request_offset").join(
        batch_requests, on="custom_id", how="left", maintain_order="left"
    )
    return joined.select(requests.columns)


def repeated_ids_note(requests: pl.LazyFrame) -> str | None:
    """Request ids logged more than once: counted each time (a gateway that logs a request twice
    doubles its cost), and said. Asked of the whole log (a streamed audit keeps it on disk), so the
    common case, no id repeated, is one pass over the ids' hashes."""
    ids = requests.select("request_id").filter(pl.col("request_id").is_not_null())
    counts = ids.select(rows=pl.len(), hashes=pl.col("request_id").hash().n_unique()).collect().row(0)
    if counts[0] == counts[1]:  # distinct hashes, distinct ids
        return None
    repeated = (ids.group_by("request_id").agg(pl.len()).filter(pl.col("len") > 1)
                .collect().sort("request_id"))
    if repeated.is_empty():  # two ids shared a hash
        return None
    first = requests.select("request_id", "source", "line").filter(pl.col("request_id") == repeated["request_id"][0])
    places = first.head(2).collect()
    where = " and ".join(f"{source}:{line}" for _, source, line in places.iter_rows())
    return (f"{repeated.height} request ids appear more than once ({int(repeated['len'].sum())} requests; "
            f"e.g. {places['request_id'][0]} at {where}): each is counted every time it appears; if a gateway "
            "logged them twice, their cost is counted twice")
