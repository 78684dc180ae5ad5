"""Streamed responses logged event by event, joined into one request per stream.

A stream logged as its events (OpenAI chat chunks, Gemini chunks, Anthropic ``message_start`` ...
``message_delta``, OpenAI Responses ``response.created`` ... ``response.completed``) is one request,
not one per event. Each event row carries a ``stream_key`` (the response id); an event without an id
of its own (``STREAM_CONTINUES``) belongs to the stream of the event before it in the same file.

Usage in stream events is cumulative (Gemini repeats running totals; OpenAI and Anthropic report it
on the last event), so the joined request takes each column's last logged value; where and when the
request happened (file, line, timestamp, id) come from its first event.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from routecost.records import CANONICAL_SCHEMA, STREAM_CONTINUES

_FIRST = ("source", "line", "offset", "format", "request_id", "ts", "request_source", "request_offset")
ORPHAN_EVENTS = "stream events whose stream start is not in the file"
JOINED_EVENTS = "stream events joined into the request of their stream"


@dataclass(frozen=True)
class JoinedStreams:
    requests: pl.DataFrame
    joined_events: int
    """Events folded into an earlier event of their stream (a stream of n events counts n - 1)."""
    orphan_events: int
    """Events whose stream start was not logged (dropped: nothing says whose they are)."""


def join_stream_events(requests: pl.DataFrame) -> JoinedStreams:
    """Requests with each stream's events joined into one row, in the place of its first event."""
    if requests.get_column("stream_key").null_count() == requests.height:
        return JoinedStreams(requests, 0, 0)
    marked = requests.with_row_index(_ORDER).with_columns(
        pl.col("stream_key").is_not_null().alias(_EVENT),
        stream_key=pl.when(pl.col("stream_key") == STREAM_CONTINUES).then(None).otherwise(pl.col("stream_key"))
        .forward_fill().over("source"),
    )
    orphans = marked.filter(pl.col(_EVENT) & pl.col("stream_key").is_null()).height
    joined = marked.filter(pl.col(_EVENT) & pl.col("stream_key").is_not_null()).group_by(
        "source", "stream_key", maintain_order=True
    ).agg(
        pl.col(_ORDER).first(),
        (pl.len() > 1).alias(_EVENTS),
        *(pl.col(name).drop_nulls().first() for name in _FIRST if name != "source"),
        *(pl.col(name).drop_nulls().last() for name in CANONICAL_SCHEMA if name not in (*_FIRST, "stream_key")),
    ).with_columns(stream_key=pl.lit(None, dtype=pl.String()), stream=pl.col(_EVENTS) | pl.col("stream"))
    others = marked.filter(~pl.col(_EVENT))
    columns = [_ORDER, *CANONICAL_SCHEMA]
    combined = pl.concat([others.select(columns), joined.select(columns)], how="vertical")
    events = marked.height - others.height - orphans
    return JoinedStreams(combined.sort(_ORDER).drop(_ORDER), events - joined.height, orphans)


_ORDER = "__order"
_EVENT = "__event"
_EVENTS = "__events"
