"""Helicone request exports (the ``@helicone/export`` tool's JSONL/CSV and the request API records).

``prompt_tokens`` is taken as the total input with ``prompt_cache_read_tokens`` and
``prompt_cache_write_tokens`` inside it (OpenAI semantics); where Helicone logged otherwise for a
provider, the reconciliation against the logged ``costUSD`` shows the gap. HTTP status >= 400 rows
are failed requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routecost.sources.base import (
    Count,
    LogFormat,
    Money,
    RecordError,
    Struct,
    Timestamp,
    has_keys,
    status_from_http,
)
from routecost.sources.usage import TokenFields, row_with_tokens


class HeliconeRecord(Struct):
    request_id: str
    request_created_at: Timestamp
    response_status: int | None = None
    model: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    provider: str | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    prompt_cache_read_tokens: Count | None = None
    prompt_cache_write_tokens: Count | None = None
    costUSD: Money | None = None
    cost: Money | None = None
    delay_ms: float | None = None
    request_user_id: str | None = None
    request_properties: msgspec.Raw = msgspec.Raw(b"")


_TOKENS = TokenFields(input="prompt_tokens", cache_read="prompt_cache_read_tokens",
                      cache_write="prompt_cache_write_tokens", output="completion_tokens")


def _row(record: HeliconeRecord) -> tuple[Any, ...]:
    model = record.response_model or record.model or record.request_model
    if not model:
        raise RecordError("model", "missing")
    return row_with_tokens(
        _TOKENS.read(record),
        request_id=record.request_id,
        ts=record.request_created_at,
        provider=record.provider.lower() if record.provider else None,
        model=model,
        logged_cost_usd=record.costUSD if record.costUSD is not None else record.cost,
        latency_ms=record.delay_ms,
        status=status_from_http(record.response_status),
        user=record.request_user_id,
        metadata=record.request_properties,
    )


def _matches(record: Mapping[str, Any]) -> bool:
    return has_keys(record, "request_id", "request_created_at", "response_status") and (
        "prompt_tokens" in record or "delay_ms" in record
    )


EXPORT = LogFormat(
    name="helicone",
    struct=HeliconeRecord,
    matches=_matches,
    to_row=_row,
)
