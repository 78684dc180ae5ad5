"""Cohere: v2 Chat responses.

Only ``usage.billed_units`` is billed; ``usage.tokens`` also counts the prompt template Cohere adds,
and ``cached_tokens`` does not lower the bill. A v2 body names no model and has no timestamp: read on
its own it is unpriced with that reason; inside an HTTP exchange the request supplies the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routecost.sources.base import Count, LogFormat, RequestText, Struct, content_text, sub
from routecost.sources.usage import TokenFields, row_with_tokens

PROVIDER = "cohere"


class BilledUnits(Struct):
    input_tokens: Count | None = None
    output_tokens: Count | None = None


class CohereUsage(Struct):
    billed_units: BilledUnits


class ChatResponse(Struct):
    usage: CohereUsage
    id: str | None = None
    model: str | None = None


_TOKENS = TokenFields(input="usage.billed_units.input_tokens", output="usage.billed_units.output_tokens")


def _row(response: ChatResponse) -> tuple[Any, ...]:
    return row_with_tokens(_TOKENS.read(response), request_id=response.id, provider=PROVIDER, model=response.model)


def _is_chat_response(record: Mapping[str, Any]) -> bool:
    return "billed_units" in sub(record, "usage") and ("message" in record or "finish_reason" in record)


CHAT = LogFormat(
    name="cohere-chat",
    struct=ChatResponse,
    matches=_is_chat_response,
    to_row=_row,
    texts=lambda record: RequestText(answer=content_text(sub(record, "message").get("content"))),
)
