"""Streamed responses logged event by event, joined into one request per stream.

A stream logged as its events (OpenAI chat chunks, Gemini chunks, Anthropic ``message_start`` ...
``message_delta``, OpenAI Responses ``response.created`` ... ``response.completed``) is one request,
not one per event. Each event row carries a ``stream_key`` (the response id). An event without an id
of its own (``STREAM_CONTINUES``: Anthropic's ``message_delta``) closes the one stream of its format
still open in the same file; when none is open, or several are (streams logged interleaved), nothing
says whose it is, and it is counted, not guessed.

Usage in stream events is cumulative (Gemini repeats running totals; OpenAI and Anthropic report it
on the last event), so the joined request takes each column's last logged value; where and when the
request happened (file, line, timestamp, id) and who served it come from its first event. Records that
share an id without being stream chunks (a Langfuse generation's create and update events) are joined
the same way but are not marked as streamed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from routecost.records import CANONICAL_SCHEMA, STREAM_CONTINUES

_FIRST = ("source", "line", "offset", "format", "request_id", "ts", "request_source", "request_offset", "provider")
STREAMED_FORMATS = ("openai-chat", "gemini-response", "anthropic-stream-event", "openai-responses-event")
"""Formats whose events are the chunks of one streamed response (a joined request is then streamed)."""
ORPHAN_EVENTS = "stream events whose stream is not open in the file (its start not logged, or streams interleaved)"
JOINED_EVENTS = "events joined into the request they belong to (stream chunks, create and update events)"


@dataclass(frozen=True)
class JoinedStreams:
    requests: pl.DataFrame
    joined_events: int
    """Events folded into an earlier event of their request (a stream of n events counts n - 1)."""
    orphan_events: int
    """Continuation events with no single open stream to belong to (dropped, counted)."""


def join_stream_events(requests: pl.DataFrame) -> JoinedStreams:
    """Requests with each stream's events joined into one row, in the place of its first event."""
    if requests.get_column("stream_key").null_count() == requests.height:
        return JoinedStreams(requests, 0, 0)
    marked = requests.with_row_index(_ORDER).with_columns(pl.col("stream_key").is_not_null().alias(_EVENT))
    events = marked.filter(pl.col(_EVENT))
    if (events.get_column("stream_key") == STREAM_CONTINUES).any():  # only continuations need an owner found
        keys = _owners(events.select("source", "format", "stream_key").rows())
        events = events.with_columns(stream_key=pl.Series(keys, dtype=pl.String()))
    orphans = events.filter(pl.col("stream_key").is_null()).height
    joined = events.filter(pl.col("stream_key").is_not_null()).group_by(
        "source", "stream_key", maintain_order=True
    ).agg(
        pl.col(_ORDER).first(),
        ((pl.len() > 1) & pl.col("format").first().is_in(STREAMED_FORMATS)).alias(_STREAMED),
        *(pl.col(name).drop_nulls().first() for name in _FIRST if name != "source"),
        *(pl.col(name).drop_nulls().last() for name in CANONICAL_SCHEMA if name not in (*_FIRST, "stream_key")),
    ).with_columns(stream_key=pl.lit(None, dtype=pl.String()), stream=pl.col(_STREAMED) | pl.col("stream"))
    others = marked.filter(~pl.col(_EVENT))
    columns = [_ORDER, *CANONICAL_SCHEMA]
    combined = pl.concat([others.select(columns), joined.select(columns)], how="vertical")
    return JoinedStreams(combined.sort(_ORDER).drop(_ORDER), events.height - orphans - joined.height, orphans)


def _owners(events: list[tuple[str, str, str]]) -> list[str | None]:
    """The stream each event belongs to: its own key, or for a continuation the one open stream of its
    format in its file (which it closes); None when there is no such single stream."""
    open_streams: dict[tuple[str, str], set[str]] = {}
    owners: list[str | None] = []
    for source, log_format, key in events:
        streams = open_streams.setdefault((source, log_format), set())
        if key != STREAM_CONTINUES:
            streams.add(key)
            owners.append(key)
        elif len(streams) == 1:
            owners.append(streams.pop())
        else:
            owners.append(None)
    return owners


_ORDER = "__order"
_EVENT = "__event"
_STREAMED = "__streamed"
