"""Portkey log exports. Portkey logs ``cost`` in CENTS (USD); it is converted to dollars here.

``req_units``/``res_units`` are the token counts; cache reads are only inside the raw response
body, so they are not split out. A ``cache_status`` hit is Portkey's own response cache ($0).
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

CENTS_PER_DOLLAR = 100
_TOKENS = TokenFields(input="req_units", output="res_units")


class PortkeyRecord(Struct):
    ai_org: str | None
    ai_model: str | None
    req_units: Count | None
    res_units: Count | None
    id: str | None = None
    trace_id: str | None = None
    created_at: Timestamp | None = None
    cost: Money | None = None
    cost_currency: str | None = None
    response_time: float | None = None
    is_success: bool | int | None = None
    response_status_code: int | None = None
    cache_status: str | None = None
    metadata: msgspec.Raw = msgspec.Raw(b"")


def _row(record: PortkeyRecord) -> tuple[Any, ...]:
    if not record.ai_model:
        raise RecordError("ai_model", "missing")
    if record.cost_currency not in (None, "", "USD", "usd"):
        raise RecordError("cost_currency", f"only USD costs are supported, got {record.cost_currency!r}")
    failed = record.is_success is not None and not record.is_success
    cache_status = (record.cache_status or "").upper()
    return row_with_tokens(
        _TOKENS.read(record),
        request_id=record.id or record.trace_id,
        ts=record.created_at,
        provider=record.ai_org,
        model=record.ai_model,
        logged_cost_usd=None if record.cost is None else record.cost / CENTS_PER_DOLLAR,
        latency_ms=record.response_time,
        status=status_from_http(record.response_status_code, failed),
        metadata=record.metadata,
        gateway_cache_hit="HIT" in cache_status or None,
    )


def _matches(record: Mapping[str, Any]) -> bool:
    return has_keys(record, "ai_org", "ai_model", "req_units", "res_units")


EXPORT = LogFormat(
    name="portkey",
    struct=PortkeyRecord,
    matches=_matches,
    to_row=_row,
)
