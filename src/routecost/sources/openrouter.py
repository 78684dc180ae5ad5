"""OpenRouter generation records (``GET /api/v1/generation``, one per line, or unwrapped from ``data``).

Billing uses the provider-native counts (``native_tokens_*``); ``tokens_prompt`` is OpenRouter's
normalized count and is only a fallback. Cached tokens are a subset of the prompt. Models are
OpenRouter slugs (``anthropic/claude-sonnet-4.5``), priced on OpenRouter's own sheet. For BYOK rows
``total_cost`` is OpenRouter's fee and the provider's charge is ``upstream_inference_cost``.
A cancelled stream is billed for the tokens it used, so it is an incomplete request, not a failed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routecost.records import STATUS_INCOMPLETE, STATUS_OK
from routecost.sources.base import (
    Count,
    LogFormat,
    Money,
    Struct,
    Timestamp,
    has_keys,
)
from routecost.sources.usage import TokenFields, row_with_tokens

PROVIDER = "openrouter"


class Generation(Struct):
    id: str
    model: str
    total_cost: Money | None
    tokens_prompt: Count | None = None
    tokens_completion: Count | None = None
    native_tokens_prompt: Count | None = None
    native_tokens_completion: Count | None = None
    native_tokens_cached: Count | None = None
    native_tokens_reasoning: Count | None = None
    upstream_inference_cost: Money | None = None
    is_byok: bool | None = None
    created_at: Timestamp | None = None
    latency: float | None = None
    generation_time: float | None = None
    streamed: bool | None = None
    cancelled: bool | None = None
    external_user: str | None = None


_TOKENS = TokenFields(
    input=("native_tokens_prompt", "tokens_prompt"),
    cache_read="native_tokens_cached",
    output=("native_tokens_completion", "tokens_completion"),
    reasoning="native_tokens_reasoning",
)


def _row(generation: Generation) -> tuple[Any, ...]:
    cost = generation.total_cost
    if generation.is_byok and generation.upstream_inference_cost is not None:
        cost = (cost or 0) + generation.upstream_inference_cost
    return row_with_tokens(
        _TOKENS.read(generation),
        request_id=generation.id,
        ts=generation.created_at,
        provider=PROVIDER,
        model=generation.model,
        logged_cost_usd=cost,
        latency_ms=generation.latency,
        status=STATUS_INCOMPLETE if generation.cancelled else STATUS_OK,
        stream=generation.streamed,
        user=generation.external_user,
    )


def _matches(record: Mapping[str, Any]) -> bool:
    return str(record.get("id", "")).startswith("gen-") and has_keys(record, "total_cost", "tokens_prompt")


class GenerationResponse(Struct):
    """The API's own response, ``{"data": {...}}``, as saved by a script that calls it."""

    data: Generation


GENERATION = LogFormat(
    name="openrouter-generation",
    struct=Generation,
    matches=_matches,
    to_row=_row,
)

GENERATION_RESPONSE = LogFormat(
    name="openrouter-generation-response",
    struct=GenerationResponse,
    matches=lambda record: isinstance(record.get("data"), Mapping) and _matches(record["data"]),
    to_row=lambda response: _row(response.data),
)
