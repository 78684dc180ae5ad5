"""In-house wrapper records: ``{"ts", "latency_ms", "user_id", "tags", "metadata", "request", "response"}``.

Teams that log their own traffic usually write the provider's request and response side by side,
with a timestamp, latency and their own metadata around them. The provider body inside
``response`` is read with that provider's own rules (OpenAI Chat or Responses, Anthropic
Messages, Gemini); the wrapper adds what the body lacks (time, latency, user, tags, metadata).
An error response (``{"error": ...}``, ``status: error`` or an HTTP status >= 400) is a failed
request: it is counted and costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, source_row
from routecost.sources import anthropic, gemini, openai
from routecost.sources.base import (
    Envelope,
    LogFormat,
    RequestText,
    Struct,
    Timestamp,
    has_keys,
    sub,
)

_FAILED_STATUSES = {"error", "failed", "failure", "errored"}


class WrappedRequest(Struct):
    model: str | None = None
    stream: bool | None = None


class WrapperFields(Struct):
    """The wrapper's own fields, under the names in-house loggers commonly use."""

    request: WrappedRequest | None = None
    ts: Timestamp | None = None
    timestamp: Timestamp | None = None
    created_at: Timestamp | None = None
    latency_ms: float | None = None
    duration_ms: float | None = None
    user: str | None = None
    user_id: str | None = None
    provider: str | None = None
    tags: list[str] | None = None
    metadata: msgspec.Raw = msgspec.Raw(b"")
    status: str | int | None = None
    http_status: int | None = None
    status_code: int | None = None


class ErrorDetail(Struct):
    message: str | None = None


class ErrorBody(Struct):
    error: ErrorDetail | str


def _failed(fields: WrapperFields) -> bool:
    status = fields.status
    if isinstance(status, str) and status.lower() in _FAILED_STATUSES:
        return True
    http_status = fields.http_status or fields.status_code or (status if isinstance(status, int) else None)
    return http_status is not None and http_status >= 400


def envelope_of(fields: WrapperFields) -> Envelope:
    """The wrapper's fields as an envelope (straight-line code: this runs once per record)."""
    request = fields.request
    when = fields.ts
    if when is None:
        when = fields.timestamp if fields.timestamp is not None else fields.created_at
    latency = fields.latency_ms
    return Envelope(
        ts=when,
        latency_ms=fields.duration_ms if latency is None else latency,
        provider=fields.provider,
        request_model=None if request is None else request.model,
        stream=None if request is None else request.stream,
        failed=False if fields.status is None and fields.http_status is None and fields.status_code is None
        else _failed(fields),
        user=fields.user or fields.user_id,
        tags=fields.tags,
        metadata=fields.metadata,
    )


def _error_row(record: Any) -> tuple[Any, ...]:
    envelope = envelope_of(record)
    return source_row(
        ts=envelope.ts,
        provider=envelope.provider,
        model=envelope.request_model,
        latency_ms=envelope.latency_ms,
        status=STATUS_ERROR,
        stream=envelope.stream,
        user=envelope.user,
        tags=envelope.tags,
        metadata=envelope.metadata,
    )


def _is_wrapper(record: Mapping[str, Any]) -> bool:
    return has_keys(record, "request", "response") and isinstance(record.get("request"), Mapping)


def _wrapped(
    name: str,
    body_type: Any,
    body_matches: Callable[[Mapping[str, Any]], bool],
    body_row: Callable[[Any, Envelope], tuple[Any, ...]],
    request_text: Callable[[Mapping[str, Any]], RequestText],
    answer: Callable[[Mapping[str, Any]], str],
) -> LogFormat:
    """A wrapper around one provider body type, read with that provider's rules."""
    struct = msgspec.defstruct(f"Wrapped{name.title().replace('-', '')}", [("response", body_type)],
                               bases=(WrapperFields,), gc=False, kw_only=True)

    def texts(record: Mapping[str, Any]) -> RequestText:
        asked = request_text(sub(record, "request"))
        return RequestText(system=asked.system, messages=asked.messages, answer=answer(sub(record, "response")))

    return LogFormat(
        name=f"wrapped-{name}",
        struct=struct,
        matches=lambda record: _is_wrapper(record) and body_matches(sub(record, "response")),
        to_row=lambda record: body_row(record.response, envelope_of(record)),
        texts=texts,
    )


WRAPPED_CHAT = _wrapped(
    "openai-chat", openai.ChatBody, openai.is_chat_body, openai.chat_row, openai.chat_request_text, openai.chat_answer
)
WRAPPED_RESPONSES = _wrapped(
    "openai-responses",
    openai.ResponseObject,
    openai.is_responses_body,
    openai.responses_row,
    openai.chat_request_text,
    openai.responses_answer,
)
WRAPPED_ANTHROPIC = _wrapped(
    "anthropic-message",
    anthropic.Message,
    anthropic.is_message,
    anthropic.message_row,
    anthropic.request_text,
    anthropic.message_answer,
)
WRAPPED_GEMINI = _wrapped(
    "gemini-response",
    gemini.GenerateContentResponse,
    gemini.is_response,
    gemini.response_row,
    gemini.request_text,
    gemini.response_answer,
)


def _request_text_any(request: Mapping[str, Any]) -> RequestText:
    if "contents" in request:
        return gemini.request_text(request)
    if "system" in request:
        return anthropic.request_text(request)
    return openai.chat_request_text(request)


WRAPPED_ERROR = LogFormat(
    name="wrapped-error",
    struct=msgspec.defstruct("WrappedError", [("response", ErrorBody | None)], bases=(WrapperFields,), gc=False,
                             kw_only=True),
    matches=lambda record: _is_wrapper(record)
    and ("error" in sub(record, "response") or record.get("response") is None),
    to_row=_error_row,
    texts=lambda record: _request_text_any(sub(record, "request")),
)
