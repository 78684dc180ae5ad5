"""Langfuse observations: the public API shape (v1/v2, camelCase) and the blob/DB export (snake_case).

Only GENERATION observations are model calls; spans and events are skipped. ``usageDetails`` keys
vary by integration; Langfuse stores ``input`` as the exclusive remainder once cached/audio tokens
are split out, so the canonical input is the sum of every key containing ``input`` and the output
the sum of every key containing ``output``. Costs are USD, fixed at ingestion; null for unknown
models (kept null here, never 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, STATUS_OK, STREAM_CONTINUES, source_row
from routecost.sources.base import (
    Count,
    LogFormat,
    NotARequest,
    RequestText,
    Rows,
    Struct,
    Timestamp,
    chat_messages,
    content_text,
    epoch_seconds,
    has_keys,
    split_system,
)

_GENERATION_TYPES = ("GENERATION", "generation")
"""Tuples, not sets, for values read from untyped JSON: a list there must not raise on hashing."""
_CACHE_READ_MARKERS = ("cache_read", "cached")
_CACHE_WRITE_MARKERS = ("cache_creation", "cache_write")


class Observation(Struct):
    """API v1/v2 observation (camelCase)."""

    type: str
    startTime: Timestamp
    id: str | None = None
    traceId: str | None = None
    endTime: Timestamp | None = None
    model: str | None = None
    providedModelName: str | None = None
    usageDetails: dict[str, Count] | None = None
    usage: dict[str, Count | float | str | None] | None = None
    costDetails: dict[str, float] | None = None
    totalCost: float | None = None
    calculatedTotalCost: float | None = None
    inputUsage: Count | None = None
    outputUsage: Count | None = None
    """The API view's inclusive totals; its ``usageDetails`` may then list only the split-out parts."""
    latency: float | None = None
    level: str | None = None
    userId: str | None = None
    tags: list[str] | None = None
    metadata: msgspec.Raw = msgspec.Raw(b"")


class ExportedObservation(Struct):
    """Blob-storage / DB export row (snake_case, ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC times)."""

    type: str
    start_time: Timestamp
    trace_id: str | None = None
    id: str | None = None
    end_time: Timestamp | None = None
    provided_model_name: str | None = None
    model: str | None = None
    usage_details: dict[str, Count] | None = None
    cost_details: dict[str, float] | None = None
    total_cost: float | None = None
    level: str | None = None
    user_id: str | None = None
    tags: list[str] | None = None
    metadata: msgspec.Raw = msgspec.Raw(b"")


def _sum_keys(details: Mapping[str, int], markers: tuple[str, ...]) -> int | None:
    matching = [value for key, value in details.items() if any(marker in key for marker in markers)]
    return sum(matching) if matching else None


def usage_details_split(details: Mapping[str, int] | None) -> tuple[int | None, ...]:
    """(input, cache_read, cache_write, output, reasoning) from ``usageDetails``."""
    if not details:
        return None, None, None, None, None
    return (
        _sum_keys(details, ("input",)),
        _sum_keys(details, _CACHE_READ_MARKERS),
        _sum_keys(details, _CACHE_WRITE_MARKERS),
        _sum_keys(details, ("output",)),
        _sum_keys(details, ("reasoning",)),
    )


def _unreported_tokens(details: Mapping[str, int] | None, input_tokens: int | None, output_tokens: int | None) -> int:
    """Tokens in ``total`` beyond input + output: Gemini's thinking, when an integration left it out of
    both (the total is the provider's own)."""
    total = details.get("total") if details else None
    if not isinstance(total, int) or input_tokens is None or output_tokens is None:
        return 0
    return max(total - input_tokens - output_tokens, 0)


def _legacy_usage(usage: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The deprecated v1 ``usage`` block ({input, output, total, unit}) as usage details."""
    if not usage:
        return None
    return {key: int(value) for key, value in usage.items() if key in ("input", "output") and isinstance(value, int)}


def _row(
    *, kind: str, observation_id: str | None, start: Timestamp | None, end: Timestamp | None, model: str | None,
    details: Mapping[str, int] | None, cost: float | None, level: str | None, user: str | None,
    tags: list[str] | None, metadata: msgspec.Raw | bytes | None, totals: tuple[int | None, int | None] = (None, None),
    stream_key: str | None = None,
) -> tuple[Any, ...]:
    if kind not in _GENERATION_TYPES:
        raise NotARequest(f"Langfuse {kind.lower()} observation (not a model call)")
    input_tokens, cache_read, cache_write, output_tokens, reasoning = usage_details_split(details)
    input_tokens = totals[0] if totals[0] is not None else input_tokens
    output_tokens = totals[1] if totals[1] is not None else output_tokens
    unreported = _unreported_tokens(details, input_tokens, output_tokens)
    if unreported:  # thinking a provider bills but the integration did not break out
        output_tokens = (output_tokens or 0) + unreported
        reasoning = (reasoning or 0) + unreported
    start_s, end_s = epoch_seconds(start), epoch_seconds(end)
    return source_row(
        request_id=observation_id,
        ts=start,
        model=model,
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning,
        logged_cost_usd=cost,
        latency_ms=None if start_s is None or end_s is None else round((end_s - start_s) * 1000, 3),
        status=STATUS_ERROR if level == "ERROR" else STATUS_OK,
        user=user,
        tags=tags,
        metadata=metadata,
        stream_key=stream_key,
    )


def _observation_row(obs: Observation) -> tuple[Any, ...]:
    cost = obs.totalCost
    if cost is None and obs.costDetails:
        cost = obs.costDetails.get("total")
    return _row(
        kind=obs.type, observation_id=obs.id, start=obs.startTime, end=obs.endTime,
        model=obs.providedModelName or obs.model, details=obs.usageDetails or _legacy_usage(obs.usage),
        cost=cost if cost is not None else obs.calculatedTotalCost, level=obs.level, user=obs.userId,
        tags=obs.tags, metadata=obs.metadata, totals=(obs.inputUsage, obs.outputUsage),
    )


def _export_row(obs: ExportedObservation) -> tuple[Any, ...]:
    cost = obs.total_cost
    if cost is None and obs.cost_details:
        cost = obs.cost_details.get("total")
    return _row(
        kind=obs.type, observation_id=obs.id, start=obs.start_time, end=obs.end_time,
        model=obs.provided_model_name or obs.model, details=obs.usage_details, cost=cost, level=obs.level,
        user=obs.user_id, tags=obs.tags, metadata=obs.metadata,
    )


def _texts(record: Mapping[str, Any]) -> RequestText:
    """Langfuse ``input`` is free-form: a message list, ``{messages: [...]}``, or plain text."""
    raw_input = record.get("input")
    messages: tuple[tuple[str, str], ...]
    if isinstance(raw_input, Mapping):
        raw_input = raw_input.get("messages", raw_input.get("prompt"))
    if isinstance(raw_input, str):
        system, messages = "", (("user", raw_input),)
    else:
        system, messages = split_system(chat_messages(raw_input))
    output = record.get("output")
    answer = content_text(output.get("content")) if isinstance(output, Mapping) else content_text(output)
    return RequestText(system=system, messages=messages, answer=answer)


OBSERVATION = LogFormat(
    name="langfuse-observation",
    struct=Observation,
    matches=lambda record: has_keys(record, "traceId", "type", "startTime")
    and ("usageDetails" in record or "usage" in record),
    to_row=_observation_row,
    texts=_texts,
)

EXPORT = LogFormat(
    name="langfuse-export",
    struct=ExportedObservation,
    matches=lambda record: has_keys(record, "trace_id", "start_time", "usage_details")
    and ("provided_model_name" in record or "model" in record),
    to_row=_export_row,
    texts=_texts,
)


_EVENT_SUFFIXES = ("-create", "-update")
_GENERATION_EVENTS = ("generation-create", "generation-update", "observation-create", "observation-update")


def _event_row(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """A generation event of an ingestion batch; create and update events of one generation share
    its id and are joined into one request (``streams.py``)."""
    kind = event.get("type")
    body = event.get("body")
    if kind not in _GENERATION_EVENTS or not isinstance(body, Mapping):
        raise NotARequest(f"Langfuse {kind} event (not a model call)")
    observation = msgspec.convert(body, IngestedObservation, strict=False)
    if kind.startswith("observation-") and observation.type not in _GENERATION_TYPES:
        raise NotARequest(f"Langfuse {kind} event (not a model call)")
    usage = observation.usage or {}
    cost = observation.costDetails.get("total") if observation.costDetails else None
    legacy_cost = usage.get("totalCost")
    return _row(
        kind="GENERATION", observation_id=observation.id, start=observation.startTime, end=observation.endTime,
        model=observation.model, details=observation.usageDetails or _legacy_usage(usage),
        cost=cost if cost is not None else (legacy_cost if isinstance(legacy_cost, int | float) else None),
        level=observation.level, user=None, tags=None, metadata=None,
        stream_key=observation.id or STREAM_CONTINUES,
    )


class IngestedObservation(Struct):
    """The body of an ingestion event (every field optional: an update carries only what changed)."""

    id: str | None = None
    type: str | None = None
    startTime: Timestamp | None = None
    endTime: Timestamp | None = None
    model: str | None = None
    usageDetails: dict[str, Count] | None = None
    usage: dict[str, Count | float | str | None] | None = None
    costDetails: dict[str, float] | None = None
    level: str | None = None


def _wrapping(generations: list[Mapping[str, Any]]) -> set[str]:
    """The ids of the generations that other generations name as their parent."""
    return {generation["parentObservationId"] for generation in generations
            if isinstance(generation.get("parentObservationId"), str)}


def _skip_wrapping(generation: Any, wrapping: set[str]) -> None:
    if isinstance(generation, Mapping) and isinstance(generation.get("id"), str) and generation["id"] in wrapping:
        raise NotARequest(PARENT_GENERATION)


def _generation_body(event: Any) -> Any:
    body = event.get("body") if isinstance(event, Mapping) and event.get("type") in _GENERATION_EVENTS else None
    return body if isinstance(body, Mapping) else None


def _batch_rows(record: dict[str, Any]) -> Rows:
    wrapping = _wrapping([body for event in record["batch"] if (body := _generation_body(event)) is not None])

    def row(event: Any) -> tuple[Any, ...]:
        _skip_wrapping(_generation_body(event), wrapping)
        return _event_row(event)

    return Rows.each(record["batch"], row, "batch")


def _trace_observations(record: Mapping[str, Any]) -> Any:
    trace = record.get("trace")
    found = record.get("observations")
    return found if found is not None else (trace.get("observations") if isinstance(trace, Mapping) else None)


def _trace_rows(record: dict[str, Any]) -> Rows:
    observations = _trace_observations(record)
    generations = [item for item in observations if isinstance(item, Mapping) and item.get("type") in _GENERATION_TYPES]
    wrapping = _wrapping(generations)

    def row(item: Any) -> tuple[Any, ...]:
        if isinstance(item, Mapping) and item.get("type") in _GENERATION_TYPES:
            _skip_wrapping(item, wrapping)
        return _observation_row(_OBSERVATION_DECODER.decode(_with_object_metadata(item)))

    return Rows.each(observations, row, "observations")


PARENT_GENERATION = "Langfuse generation around other generations (its usage repeats theirs)"


_OBSERVATION_DECODER = msgspec.json.Decoder(Observation, strict=False)


def _with_object_metadata(observation: Any) -> bytes:
    """An observation as JSON again, its metadata an object where an export left it as JSON text."""
    if isinstance(observation, Mapping) and isinstance(observation.get("metadata"), str):
        try:
            metadata = msgspec.json.decode(observation["metadata"])
        except msgspec.DecodeError:
            metadata = None
        observation = {**observation, "metadata": metadata if isinstance(metadata, Mapping) else None}
    return msgspec.json.encode(observation)


INGESTION_BATCH = LogFormat(
    name="langfuse-ingestion-batch",
    struct=dict[str, Any],
    matches=lambda record: isinstance(record.get("batch"), list)
    and any(isinstance(event, Mapping) and "body" in event and str(event.get("type", "")).endswith(_EVENT_SUFFIXES)
            for event in record["batch"]),
    to_row=_batch_rows,
    kind="requests",
)

TRACE_EXPORT = LogFormat(
    name="langfuse-trace",
    struct=dict[str, Any],
    matches=lambda record: isinstance(record.get("trace"), Mapping) and isinstance(_trace_observations(record), list),
    to_row=_trace_rows,
    kind="requests",
)
