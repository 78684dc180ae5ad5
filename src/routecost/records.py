"""The canonical request: the contract between the log sources and everything after them.

One row per logged request. Token totals are inclusive whatever the source's convention:
``input_tokens`` = uncached + cache read + cache write, ``output_tokens`` includes reasoning.
Unknown is null, never 0.

Sources build rows as plain tuples in ``SOURCE_COLUMNS`` order (see ``source_row``), leaving the
timestamp, tags and metadata as logged; the reader adds the provenance columns and turns batches of
rows into polars frames with ``CANONICAL_SCHEMA`` (``source_frame``), converting those three in bulk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_INCOMPLETE = "incomplete"
BILLED_STATUSES = (STATUS_OK, STATUS_INCOMPLETE)
"""Failed, cancelled and expired requests are not billed; incomplete ones are, for what they used."""
MODE_REALTIME = "realtime"
MODE_BATCH = "batch"
TAG_SEPARATOR = "\x1f"
STREAM_CONTINUES = ""
"""The ``stream_key`` of a stream event that carries no id of its own (Anthropic's ``message_delta``):
it closes the one stream of its format still open in its file (``sources/streams.py``)."""
PLAUSIBLE_FROM = datetime(2015, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
"""A logged time outside these years (a ``"ts": 0``, a year 9999) is not a time a request was made:
the request is kept, but out of the period (which would otherwise stretch to 1970), and reported."""
EPOCH_UNITS = (1, 1_000, 1_000_000, 1_000_000_000)
"""An epoch number is read in the first unit (seconds, milliseconds, microseconds, nanoseconds) that
puts it between ``PLAUSIBLE_FROM`` and ``PLAUSIBLE_UNTIL``; the ranges never overlap, so the guess is
never ambiguous. A number no unit places there is not a plausible time."""

SOURCE_COLUMNS: tuple[str, ...] = (
    "request_id",
    "ts",
    "provider",
    "model",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "web_search_requests",
    "logged_cost_usd",
    "latency_ms",
    "status",
    "stream",
    "mode",
    "service_tier",
    "user",
    "tags",
    "metadata",
    "gateway_cache_hit",
    "custom_id",
    "prompt_print",
    "temperature",
    "has_tools",
    "file_search_calls",
    "grounded_prompts",
    "stream_key",
    "low_context_requests",
    "medium_context_requests",
    "web_search_preview_calls",
    "code_containers",
)

CANONICAL_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "line": pl.Int64(),
    "offset": pl.Int64(),
    "format": pl.String(),
    "request_id": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "provider": pl.String(),
    "model": pl.String(),
    "input_tokens": pl.Int64(),
    "cache_read_tokens": pl.Int64(),
    "cache_write_tokens": pl.Int64(),
    "cache_write_1h_tokens": pl.Int64(),
    "output_tokens": pl.Int64(),
    "reasoning_tokens": pl.Int64(),
    "web_search_requests": pl.Int64(),
    "tokens_estimated": pl.Boolean(),
    "logged_cost_usd": pl.Float64(),
    "latency_ms": pl.Float64(),
    "status": pl.String(),
    "stream": pl.Boolean(),
    "mode": pl.String(),
    "service_tier": pl.String(),
    "user": pl.String(),
    "tags": pl.List(pl.String()),
    "metadata": pl.String(),
    "gateway_cache_hit": pl.Boolean(),
    "custom_id": pl.String(),
    "request_source": pl.String(),
    "request_offset": pl.Int64(),
    "system_key": pl.Int64(),
    "system_bytes": pl.Int64(),
    "history_key": pl.Int64(),
    "history_bytes": pl.Int64(),
    "prompt_key": pl.Int64(),
    "prompt_bytes": pl.Int64(),
    "temperature": pl.Float64(),
    "has_tools": pl.Boolean(),
    "file_search_calls": pl.Int64(),
    "grounded_prompts": pl.Int64(),
    "stream_key": pl.String(),
    "low_context_requests": pl.Int64(),
    "medium_context_requests": pl.Int64(),
    "web_search_preview_calls": pl.Int64(),
    "code_containers": pl.Int64(),
}
PROMPT_PRINT_COLUMNS = ("system_key", "system_bytes", "history_key", "history_bytes", "prompt_key", "prompt_bytes")
"""Prompt fingerprints (``sources/prompts.py``), read only when a policy simulates caches."""

PromptPrint = tuple[bytes, bytes, int, int, bytes]
"""What a request's prompt fingerprints are computed from (``sources/prompts.py``): the system prompt
and tools, the messages' raw JSON back to back, where the conversation after the system messages
starts in it and the size of the last message (in bytes), and the sampling parameters."""

_CONVERTED_IN_BULK = ("ts", "tags", "metadata", "prompt_print")
SOURCE_SCHEMA: dict[str, pl.DataType] = {
    name: CANONICAL_SCHEMA[name] for name in SOURCE_COLUMNS if name not in _CONVERTED_IN_BULK
}
"""The source columns built as typed as-is; ts, tags and metadata are converted by ``build_source_frame``."""

PROVENANCE_SCHEMA: dict[str, pl.DataType] = {name: CANONICAL_SCHEMA[name] for name in ("source", "line", "offset", "format")}

TOKEN_COLUMNS: tuple[str, ...] = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)


CALL_COLUMNS: tuple[str, ...] = ("web_search_requests", "file_search_calls", "grounded_prompts",
                                  "low_context_requests", "medium_context_requests", "web_search_preview_calls",
                                  "code_containers")
"""Calls billed per call (a fee on top of the tokens): web searches, file searches, grounded prompts, and
requests whose per-request fee depends on their search context size (Perplexity: low, medium; high is
the catalog's request fee), OpenAI's preview web searches (priced apart from its current web search) and
code-interpreter containers."""


def source_row(
    *,
    request_id: str | None = None,
    ts: datetime | float | None = None,
    provider: str | None = None,
    model: str | None = None,
    input_tokens: int | None = None,
    cache_read_tokens: int | None = None,
    cache_write_tokens: int | None = None,
    cache_write_1h_tokens: int | None = None,
    output_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    web_search_requests: int | None = None,
    logged_cost_usd: float | None = None,
    latency_ms: float | None = None,
    status: str = STATUS_OK,
    stream: bool | None = None,
    mode: str = MODE_REALTIME,
    service_tier: str | None = None,
    user: str | None = None,
    tags: list[str] | None = None,
    metadata: Any = None,
    gateway_cache_hit: bool | None = None,
    custom_id: str | None = None,
    prompt_print: PromptPrint | None = None,
    temperature: float | None = None,
    has_tools: bool | None = None,
    file_search_calls: int | None = None,
    grounded_prompts: int | None = None,
    stream_key: str | None = None,
    low_context_requests: int | None = None,
    medium_context_requests: int | None = None,
    web_search_preview_calls: int | None = None,
    code_containers: int | None = None,
) -> tuple[Any, ...]:
    """One request as a tuple in ``SOURCE_COLUMNS`` order (a tuple, because a million of them are built).

    Keyword arguments keep the many log formats readable, but a call with twenty of them costs about
    2 µs; the bodies read once per record on the hot path (OpenAI, Anthropic, Gemini) build the tuple
    positionally instead, one commented line per column.

    ``ts`` is a datetime (naive meaning UTC) or epoch seconds (milliseconds above 1e11); ``metadata``
    is the JSON text of an object (bytes or ``msgspec.Raw``, kept as a copy: a Raw decoded from a line
    holds the whole line, and a batch's rows would keep all its lines in memory).

    ``stream_key`` marks one event of a streamed response (see ``STREAM_CONTINUES``): the reader
    joins the events of one stream into one request."""
    return (
        request_id,
        ts,
        provider,
        model,
        input_tokens,
        cache_read_tokens,
        cache_write_tokens,
        cache_write_1h_tokens,
        output_tokens,
        reasoning_tokens,
        web_search_requests,
        logged_cost_usd,
        latency_ms,
        status,
        stream,
        mode,
        service_tier,
        user,
        tags,
        None if metadata is None else bytes(metadata),  # a msgspec.Raw would keep its whole record alive
        gateway_cache_hit,
        custom_id,
        prompt_print,
        temperature,
        has_tools,
        file_search_calls,
        grounded_prompts,
        stream_key,
        low_context_requests,
        medium_context_requests,
        web_search_preview_calls,
        code_containers,
    )


_SOURCE_INDEX = {name: index for index, name in enumerate(SOURCE_COLUMNS)}


def with_fields(row: tuple[Any, ...], **fields: Any) -> tuple[Any, ...]:
    """A source row with some columns replaced (for what an envelope knows and the body does not)."""
    values = list(row)
    for name, value in fields.items():
        values[_SOURCE_INDEX[name]] = value
    return tuple(values)


def field_of(row: tuple[Any, ...], name: str) -> Any:
    return row[_SOURCE_INDEX[name]]


def empty_requests() -> pl.DataFrame:
    """A frame with the canonical columns and no rows."""
    return pl.DataFrame(schema=CANONICAL_SCHEMA)


def build_source_frame(
    source_columns: Sequence[Sequence[Any]], provenance: dict[str, Sequence[Any] | pl.Series]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical requests from the source rows' columns (in ``SOURCE_COLUMNS`` order), and the source
    and line of those whose timestamp is not a plausible time (their ``ts`` is left null: see
    ``PLAUSIBLE_FROM``).

    Timestamps, tags and metadata arrive as logged; they are converted for the whole batch at once.
    """
    columns = dict(zip(SOURCE_COLUMNS, source_columns, strict=True))
    data: dict[str, pl.Series] = {name: _column(name, columns[name], dtype) for name, dtype in SOURCE_SCHEMA.items()}
    data.update((name, values.alias(name) if isinstance(values, pl.Series)
                 else pl.Series(name, values, dtype=PROVENANCE_SCHEMA[name])) for name, values in provenance.items())
    timestamps, implausible = _timestamps(columns["ts"])
    data.update(_prompt_print_columns(columns["prompt_print"]))
    frame = pl.DataFrame(data).with_columns(
        ts=timestamps,
        tags=pl.Series([None if tags is None else TAG_SEPARATOR.join(tags) for tags in columns["tags"]],
                       dtype=pl.String()).str.split(TAG_SEPARATOR).list.filter(pl.element() != ""),
        metadata=_metadata_text(columns["metadata"]),
        tokens_estimated=pl.lit(False),
        request_source=pl.lit(None, dtype=pl.String()),
        request_offset=pl.lit(None, dtype=pl.Int64()),
    ).select(list(CANONICAL_SCHEMA))
    return frame, frame.select("source", "line").filter(implausible)


def _column(name: str, values: Sequence[Any], dtype: pl.DataType) -> pl.Series:
    """One source column; most formats leave many columns empty, which need no conversion."""
    if (not values or values[0] is None) and values.count(None) == len(values):  # counted only when it may be
        return repeated(None, len(values), dtype).alias(name)
    return pl.Series(name, values, dtype=dtype, strict=False)


def repeated(value: Any, count: int, dtype: pl.DataType) -> pl.Series:
    """``value`` ``count`` times, built by polars from one value: a Python list of them costs a
    conversion per row, and ``pl.repeat`` a query (~0.15 ms) per call, twenty times per batch."""
    return pl.Series([value], dtype=dtype).new_from_index(0, count)


def _metadata_text(values: Sequence[bytes | None]) -> pl.Series:
    """Metadata JSON as text, cast in bulk; bytes that are not UTF-8 (a rare, broken log) are replaced.
    The rows hold it as bytes already (copied out of the line: ``source_row``, ``envelope_of``)."""
    raw = [value or None for value in values]
    try:
        return pl.Series(raw, dtype=pl.Binary()).cast(pl.String)
    except pl.exceptions.ComputeError:
        return pl.Series([None if value is None else value.decode("utf-8", "replace") for value in raw],
                         dtype=pl.String())


def _timestamps(values: Sequence[Any]) -> tuple[pl.Series, pl.Series]:
    """UTC datetimes of logged timestamps (datetimes, or epoch numbers in the unit that makes them
    plausible), and where a value was logged but is not a plausible time (its datetime is null)."""
    try:  # the common case, a datetime with its zone, without a call per value
        epochs = [value.timestamp() if value.__class__ is datetime and value.tzinfo is not None else _epoch_number(value)
                  for value in values]
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset that leaves the range
        epochs = [_epoch_number(value) for value in values]
    numbers = pl.Series(epochs, dtype=pl.Float64())
    seconds = pl.select(plausible_seconds(pl.lit(numbers))).to_series()
    timestamps = (seconds * 1_000_000).round().cast(pl.Int64).cast(pl.Datetime("us", "UTC")).alias("ts")
    return timestamps, numbers.is_not_null() & seconds.is_null()


_PLAUSIBLE_SECONDS = (PLAUSIBLE_FROM.timestamp(), PLAUSIBLE_UNTIL.timestamp())


def plausible_seconds(numbers: pl.Expr) -> pl.Expr:
    """Epoch seconds of epoch numbers read in their plausible unit (``EPOCH_UNITS``); null when none is."""
    low, high = _PLAUSIBLE_SECONDS
    return pl.coalesce(*(pl.when((numbers / unit >= low) & (numbers / unit < high)).then(numbers / unit)
                         for unit in EPOCH_UNITS))


def plausible_epoch_seconds(number: float) -> float | None:
    """``plausible_seconds`` for one number."""
    low, high = _PLAUSIBLE_SECONDS
    return next((number / unit for unit in EPOCH_UNITS if low <= number / unit < high), None)


def _epoch_number(value: Any) -> float | None:
    """A datetime as epoch seconds (naive means UTC); numbers pass through as logged; anything else
    is not a time (-1, which no unit makes plausible)."""
    if value.__class__ is datetime:
        try:
            return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
        except (OverflowError, ValueError):  # year 1 or 9999 with an offset that leaves the range
            return -1.0
    if value is None or value.__class__ in (int, float):
        return value
    return -1.0


def _prompt_print_columns(prints: Sequence[PromptPrint | None]) -> dict[str, pl.Series]:
    """Prompt fingerprints (see ``sources/prompts.py``), every segment hashed in one vectorized pass.

    A boundary's key combines the hash of the system segment with the hash of the messages up to
    the boundary (multiply and xor: the hashes are already uniform 64-bit values)."""
    if list(prints).count(None) == len(prints):
        return {name: repeated(None, len(prints), pl.Int64()).alias(name) for name in PROMPT_PRINT_COLUMNS}
    parts = {
        name: pl.Series([None if value is None else value[index] for value in prints], dtype=dtype)
        for index, (name, dtype) in enumerate((("system", pl.Binary()), ("messages", pl.Binary()),
                                               ("history_start", pl.Int64()), ("last_size", pl.Int64()),
                                               ("sampling", pl.Binary())))
    }
    messages, history_start = pl.col("messages"), pl.col("history_start")
    size = messages.bin.size().cast(pl.Int64)
    last_start = pl.max_horizontal(size - pl.col("last_size"), history_start)
    system_size = pl.col("system").bin.size().cast(pl.Int64)
    system = pl.col("system").hash(seed=0) * _HASH_MULTIPLIER
    keys = {
        "system_key": system ^ messages.bin.slice(0, history_start).hash(seed=0),
        "history_key": system ^ messages.bin.slice(0, last_start).hash(seed=0),
        "prompt_key": (system ^ messages.hash(seed=0)) * _HASH_MULTIPLIER ^ pl.col("sampling").hash(seed=0),
    }
    frame = pl.DataFrame(parts).lazy().select(
        *(pl.when(messages.is_not_null()).then(key.reinterpret(signed=True)).alias(name) for name, key in keys.items()),
        system_bytes=system_size + history_start,
        history_bytes=system_size + last_start,
        prompt_bytes=system_size + size + pl.col("sampling").bin.size().cast(pl.Int64),
    ).collect()
    return {name: frame[name] for name in PROMPT_PRINT_COLUMNS}


_HASH_MULTIPLIER = 0x9E3779B97F4A7C15
"""An odd 64-bit constant (2^64 / golden ratio): multiplying by it before the xor makes the
combination depend on which hash is which."""
