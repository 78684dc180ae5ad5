"""In-house wrapper records: ``{"ts", "latency_ms", "user_id", "tags", "metadata", "request", "response"}``.

Teams that log their own traffic usually write the provider's request and response side by side,
with a timestamp, latency and their own metadata around them. The provider body inside
``response`` is read with that provider's own rules (OpenAI Chat or Responses, Anthropic
Messages, Gemini); the wrapper adds what the body lacks (time, latency, user, tags, metadata).
An error response (``{"error": ...}``, ``status: error`` or an HTTP status >= 400) is a failed
request: it is counted and costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from routecost.records import STATUS_ERROR, PromptPrint, source_row
from routecost.sources import anthropic, gemini, openai
from routecost.sources.base import (
    Envelope,
    EnvelopeColumns,
    LogFormat,
    RequestText,
    Struct,
    Timestamp,
    has_keys,
    sub,
)
from routecost.sources.prompts import prompt_boundaries, sampling_bytes

_FAILED_STATUSES = {"error", "failed", "failure", "errored"}


class WrappedRequest(Struct):
    model: str | None = None
    stream: bool | None = None


class PromptedRequest(WrappedRequest):
    """The request with what the cache simulations fingerprint (see ``prompts.py``); read only when
    a policy simulates caches, since it costs a little more to decode."""

    messages: list[msgspec.Raw] | None = None
    system: msgspec.Raw = msgspec.Raw(b"")
    instructions: str | None = None
    input: str | list[msgspec.Raw] | None = None
    contents: list[msgspec.Raw] | None = None
    systemInstruction: msgspec.Raw = msgspec.Raw(b"")
    tools: msgspec.Raw = msgspec.Raw(b"")
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    n: int | None = None
    response_format: msgspec.Raw = msgspec.Raw(b"")
    tool_choice: msgspec.Raw = msgspec.Raw(b"")
    stop: msgspec.Raw = msgspec.Raw(b"")


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


def envelope_of(
    fields: WrapperFields,
    prompt_print: PromptPrint | None = None,
    temperature: float | None = None,
    has_tools: bool | None = None,
) -> Envelope:
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
        metadata=bytes(fields.metadata),  # a copy: the Raw would keep the whole line alive until its batch is built
        prompt_print=prompt_print,
        temperature=temperature,
        has_tools=has_tools,
    )


def envelope_columns(records: Sequence[WrapperFields]) -> EnvelopeColumns:
    """``envelope_of`` of many records, a field at a time (``LogFormat.columns``); keep the two in step."""
    requests = [record.request for record in records]
    return EnvelopeColumns(
        ts=[record.ts if record.ts is not None else record.timestamp if record.timestamp is not None
            else record.created_at for record in records],
        latency_ms=[record.duration_ms if record.latency_ms is None else record.latency_ms for record in records],
        provider=[record.provider for record in records],
        request_model=[None if request is None else request.model for request in requests],
        stream=[None if request is None else request.stream for request in requests],
        failed=[False if record.status is None and record.http_status is None and record.status_code is None
                else _failed(record) for record in records],
        user=[record.user or record.user_id for record in records],
        tags=[record.tags for record in records],
        metadata=[bytes(record.metadata) for record in records],  # copies, as in envelope_of
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


def prompted_envelope(fields: Any) -> Envelope:
    """The envelope of a wrapper decoded with its request's prompt (to fingerprint), temperature and
    whether it offers tools."""
    request: PromptedRequest | None = fields.request
    if request is None:
        return envelope_of(fields)
    messages = request.messages or request.contents
    if messages is None and request.input is not None:
        prompt = request.input
        messages = prompt if isinstance(prompt, list) else [
            msgspec.Raw(msgspec.json.encode({"role": "user", "content": prompt}))
        ]
    tools = request.tools
    system = b""
    if request.system or request.systemInstruction or request.instructions or tools or request.response_format \
            or request.tool_choice or request.stop:
        instructions = msgspec.json.encode(request.instructions) if request.instructions else b""
        system = b"".join((request.system, request.systemInstruction, instructions, tools, request.response_format,
                           request.tool_choice, request.stop))
    sampling = b""
    max_tokens = request.max_tokens or request.max_completion_tokens or request.max_output_tokens
    if request.top_p is not None or request.seed is not None or request.n is not None or max_tokens is not None:
        sampling = sampling_bytes(request.top_p, request.seed, request.n, max_tokens)
    has_tools = bool(tools) and bytes(tools) not in (b"null", b"[]")
    return envelope_of(fields, prompt_boundaries(system, messages or (), sampling), request.temperature, has_tools)


class Body(NamedTuple):
    """A provider body a wrapper may hold, and the provider's rules for reading it."""

    struct: Any
    matches: Callable[[Mapping[str, Any]], bool]
    row: Callable[[Any, Envelope], tuple[Any, ...]]
    request_text: Callable[[Mapping[str, Any]], RequestText]
    answer: Callable[[Mapping[str, Any]], str]
    columns: Callable[[Sequence[Any], EnvelopeColumns], Mapping[str, Sequence[Any]]] | None = None
    """``row`` of many bodies a column at a time, for the bodies most wrappers hold (``LogFormat.columns``)."""


def _wrapped(name: str, body: Body, prompted: bool = False) -> LogFormat:
    """A wrapper around one provider body type, read with that provider's rules (``prompted``: with
    the request's fingerprints, for the cache simulations)."""
    fields: list[tuple[Any, ...]] = [("response", body.struct)]
    if prompted:
        fields.append(("request", PromptedRequest | None, None))
    struct = msgspec.defstruct(f"Wrapped{name.title().replace('-', '')}{'Prompted' if prompted else ''}", fields,
                               bases=(WrapperFields,), gc=False, kw_only=True)
    envelope = prompted_envelope if prompted else envelope_of
    row, body_columns = body.row, body.columns

    def texts(record: Mapping[str, Any]) -> RequestText:
        asked = body.request_text(sub(record, "request"))
        return RequestText(system=asked.system, messages=asked.messages, answer=body.answer(sub(record, "response")))

    def columns(records: Sequence[Any]) -> Mapping[str, Sequence[Any]]:
        return body_columns([record.response for record in records], envelope_columns(records))

    return LogFormat(
        name=f"wrapped-{name}",
        struct=struct,
        matches=lambda record: _is_wrapper(record) and body.matches(sub(record, "response")),
        to_row=lambda record: row(record.response, envelope(record)),
        texts=texts,
        columns=None if prompted or body_columns is None else columns,
    )


_BODIES: dict[str, Body] = {
    "openai-chat": Body(openai.ChatBody, openai.is_chat_body, openai.chat_row, openai.chat_request_text,
                    openai.chat_answer, openai.chat_columns),
    "openai-responses": Body(openai.ResponseObject, openai.is_responses_body, openai.responses_row,
                         openai.chat_request_text, openai.responses_answer),
    "anthropic-message": Body(anthropic.Message, anthropic.is_message, anthropic.message_row, anthropic.request_text,
                          anthropic.message_answer),
    "gemini-response": Body(gemini.GenerateContentResponse, gemini.is_response, gemini.response_row,
                        gemini.request_text, gemini.response_answer),
}
WRAPPED_CHAT, WRAPPED_RESPONSES, WRAPPED_ANTHROPIC, WRAPPED_GEMINI = (
    _wrapped(name, body) for name, body in _BODIES.items()
)
PROMPTED = {f"wrapped-{name}": _wrapped(name, body, prompted=True) for name, body in _BODIES.items()}
"""The same wrapper formats, fingerprinting each request's prompt (same names)."""


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
