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

from routecost.records import STATUS_ERROR, STATUS_OK, source_row
from routecost.sources.base import (
    Count,
    LogFormat,
    NotARequest,
    RecordError,
    RequestText,
    Struct,
    Timestamp,
    chat_messages,
    content_text,
    epoch_seconds,
    has_keys,
    split_system,
)

_GENERATION_TYPES = {"GENERATION", "generation"}
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


def _token_split(details: Mapping[str, int] | None) -> tuple[int | None, ...]:
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


def _legacy_usage(usage: Mapping[str, Any] | None) -> dict[str, int] | None:
    """The deprecated v1 ``usage`` block ({input, output, total, unit}) as usage details."""
    if not usage:
        return None
    return {key: int(value) for key, value in usage.items() if key in ("input", "output") and isinstance(value, int)}


def _row(
    *, kind: str, observation_id: str | None, start: Timestamp, end: Timestamp | None, model: str | None,
    details: Mapping[str, int] | None, cost: float | None, level: str | None, user: str | None,
    tags: list[str] | None, metadata: msgspec.Raw,
) -> tuple[Any, ...]:
    if kind not in _GENERATION_TYPES:
        raise NotARequest(f"Langfuse {kind.lower()} observation (not a model call)")
    if not model:
        raise RecordError("model", "missing")
    input_tokens, cache_read, cache_write, output_tokens, reasoning = _token_split(details)
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
    )


def _observation_row(obs: Observation) -> tuple[Any, ...]:
    cost = obs.totalCost
    if cost is None and obs.costDetails:
        cost = obs.costDetails.get("total")
    return _row(
        kind=obs.type, observation_id=obs.id, start=obs.startTime, end=obs.endTime,
        model=obs.providedModelName or obs.model, details=obs.usageDetails or _legacy_usage(obs.usage),
        cost=cost if cost is not None else obs.calculatedTotalCost, level=obs.level, user=obs.userId,
        tags=obs.tags, metadata=obs.metadata,
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
