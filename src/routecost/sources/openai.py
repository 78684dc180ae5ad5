"""OpenAI: Chat Completions (bodies and final stream chunks), the Responses API, Batch API files.

Token semantics: ``prompt_tokens``/``input_tokens`` already include ``cached_tokens`` (and the 2026
``cache_write_tokens``); ``completion_tokens``/``output_tokens`` already include reasoning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, STATUS_INCOMPLETE, STATUS_OK, source_row
from routecost.sources.base import (
    NO_ENVELOPE,
    Count,
    Envelope,
    LogFormat,
    RequestText,
    Struct,
    Timestamp,
    chat_messages,
    content_text,
    has_keys,
    mode_of,
    split_system,
    sub,
)

PROVIDER = "openai"


class PromptTokensDetails(Struct):
    cached_tokens: Count | None = None
    cache_write_tokens: Count | None = None


class CompletionTokensDetails(Struct):
    reasoning_tokens: Count | None = None


class ChatUsage(Struct):
    prompt_tokens: Count
    completion_tokens: Count
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ChatCompletion(Struct, tag_field="object", tag="chat.completion"):
    model: str
    id: str | None = None
    created: Timestamp | None = None
    usage: ChatUsage | None = None
    service_tier: str | None = None


class ChatCompletionChunk(ChatCompletion, tag="chat.completion.chunk"):
    """A streamed chunk; only the last one of a stream (with ``stream_options.include_usage``) has usage."""


class InputTokensDetails(Struct):
    cached_tokens: Count | None = None
    cache_write_tokens: Count | None = None


class OutputTokensDetails(Struct):
    reasoning_tokens: Count | None = None


class ResponsesUsage(Struct):
    input_tokens: Count
    output_tokens: Count
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None


class ResponseObject(Struct, tag_field="object", tag="response"):
    model: str
    id: str | None = None
    created_at: Timestamp | None = None
    status: str | None = None
    usage: ResponsesUsage | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    metadata: msgspec.Raw = msgspec.Raw(b"")


ChatBody = ChatCompletion | ChatCompletionChunk
AnyBody = ChatCompletion | ChatCompletionChunk | ResponseObject

_FAILED_RESPONSE_STATUSES = {"failed", "cancelled"}


def chat_row(body: ChatCompletion, envelope: Envelope = NO_ENVELOPE) -> tuple[Any, ...]:
    usage = body.usage
    prompt_details = usage.prompt_tokens_details if usage is not None else None
    completion_details = usage.completion_tokens_details if usage is not None else None
    return (  # SOURCE_COLUMNS order, positional: this runs once per record (see records.source_row)
        body.id,  # request_id
        body.created if envelope.ts is None else envelope.ts,  # ts
        envelope.provider or PROVIDER,  # provider
        body.model or envelope.request_model,  # model
        None if usage is None else usage.prompt_tokens,  # input_tokens
        None if prompt_details is None else prompt_details.cached_tokens,  # cache_read_tokens
        None if prompt_details is None else prompt_details.cache_write_tokens,  # cache_write_tokens
        None,  # cache_write_1h_tokens
        None if usage is None else usage.completion_tokens,  # output_tokens
        None if completion_details is None else completion_details.reasoning_tokens,  # reasoning_tokens
        None,  # web_search_requests
        None,  # logged_cost_usd
        envelope.latency_ms,  # latency_ms
        STATUS_ERROR if envelope.failed else STATUS_OK,  # status
        True if body.__class__ is ChatCompletionChunk else envelope.stream,  # stream
        envelope.mode,  # mode
        body.service_tier,  # service_tier
        envelope.user,  # user
        envelope.tags,  # tags
        envelope.metadata,  # metadata
        None,  # gateway_cache_hit
        envelope.custom_id,  # custom_id
        envelope.prompt_print,  # prompt_print
        envelope.temperature,  # temperature
        envelope.has_tools,  # has_tools
    )


def responses_row(body: ResponseObject, envelope: Envelope = NO_ENVELOPE) -> tuple[Any, ...]:
    usage = body.usage
    input_details = usage.input_tokens_details if usage is not None else None
    output_details = usage.output_tokens_details if usage is not None else None
    failed = envelope.failed or body.status in _FAILED_RESPONSE_STATUSES
    return (  # SOURCE_COLUMNS order, positional: this runs once per record (see records.source_row)
        body.id,  # request_id
        body.created_at if envelope.ts is None else envelope.ts,  # ts
        envelope.provider or PROVIDER,  # provider
        body.model or envelope.request_model,  # model
        None if usage is None else usage.input_tokens,  # input_tokens
        None if input_details is None else input_details.cached_tokens,  # cache_read_tokens
        None if input_details is None else input_details.cache_write_tokens,  # cache_write_tokens
        None,  # cache_write_1h_tokens
        None if usage is None else usage.output_tokens,  # output_tokens
        None if output_details is None else output_details.reasoning_tokens,  # reasoning_tokens
        None,  # web_search_requests
        None,  # logged_cost_usd
        envelope.latency_ms,  # latency_ms
        STATUS_ERROR if failed else (STATUS_INCOMPLETE if body.status == STATUS_INCOMPLETE else STATUS_OK),  # status
        envelope.stream,  # stream
        envelope.mode,  # mode
        body.service_tier,  # service_tier
        envelope.user or body.user or body.safety_identifier,  # user
        envelope.tags,  # tags
        envelope.metadata or _raw_or_none(body.metadata),  # metadata
        None,  # gateway_cache_hit
        envelope.custom_id,  # custom_id
        envelope.prompt_print,  # prompt_print
        envelope.temperature,  # temperature
        envelope.has_tools,  # has_tools
    )


def body_row(body: AnyBody, envelope: Envelope = NO_ENVELOPE) -> tuple[Any, ...]:
    if isinstance(body, ResponseObject):
        return responses_row(body, envelope)
    return chat_row(body, envelope)


def _raw_or_none(raw: msgspec.Raw) -> bytes | None:
    data = bytes(raw)
    return data if data and data not in (b"null", b"{}") else None


def is_chat_body(record: Mapping[str, Any]) -> bool:
    return record.get("object") in ("chat.completion", "chat.completion.chunk")


def is_responses_body(record: Mapping[str, Any]) -> bool:
    return record.get("object") == "response" and ("output" in record or "usage" in record)


def chat_answer(body: Mapping[str, Any]) -> str:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    first = choices[0]
    return content_text(sub(first, "message").get("content") or sub(first, "delta").get("content"))


def responses_answer(body: Mapping[str, Any]) -> str:
    output = body.get("output")
    if not isinstance(output, list):
        return ""
    return "\n".join(
        part["text"]
        for item in output
        if isinstance(item, Mapping) and isinstance(item.get("content"), list)
        for part in item["content"]
        if isinstance(part, Mapping) and part.get("type") == "output_text" and isinstance(part.get("text"), str)
    )


def chat_request_text(request: Mapping[str, Any]) -> RequestText:
    """The text of a Chat Completions request body (``messages``) or a Responses one (``input``)."""
    if "messages" in request:
        system, conversation = split_system(chat_messages(request.get("messages")))
        return RequestText(system=system, messages=conversation)
    instructions = request.get("instructions")
    raw_input = request.get("input")
    if isinstance(raw_input, str):
        messages: tuple[tuple[str, str], ...] = (("user", raw_input),)
    else:
        messages = chat_messages(raw_input)
    system, rest = split_system(messages)
    system = "\n".join(part for part in (instructions if isinstance(instructions, str) else "", system) if part)
    return RequestText(system=system, messages=rest)


def _batch_output_row(line: BatchOutputLine) -> tuple[Any, ...]:
    response = line.response
    failed = line.error is not None or response is None or response.status_code >= 400 or response.body is None
    envelope = Envelope(mode=mode_of(True), failed=failed, custom_id=line.custom_id)
    if response is None or response.body is None:
        return source_row(request_id=line.id, provider=PROVIDER, status=STATUS_ERROR, mode=envelope.mode,
                          custom_id=line.custom_id)
    return body_row(response.body, envelope)


class BatchError(Struct):
    code: str | None = None
    message: str | None = None


class BatchResponse(Struct):
    status_code: int
    body: AnyBody | None = None
    request_id: str | None = None


class BatchOutputLine(Struct):
    custom_id: str
    response: BatchResponse | None
    error: BatchError | None
    id: str | None = None


class BatchInputBody(Struct):
    model: str | None = None


class BatchInputLine(Struct):
    custom_id: str
    method: str
    url: str
    body: BatchInputBody


def _is_batch_output(record: Mapping[str, Any]) -> bool:
    if not has_keys(record, "custom_id", "response", "error"):
        return False
    response = record.get("response")
    return str(record.get("id", "")).startswith("batch_req_") or response is None or (
        isinstance(response, Mapping) and has_keys(response, "status_code", "body")
    )


def _batch_output_texts(record: Mapping[str, Any]) -> RequestText:
    body = sub(sub(record, "response"), "body")
    return RequestText(answer=responses_answer(body) if body.get("object") == "response" else chat_answer(body))


def _bare_texts(record: Mapping[str, Any]) -> RequestText:
    if record.get("object") == "response":
        return RequestText(answer=responses_answer(record))
    return RequestText(answer=chat_answer(record))


BATCH_OUTPUT = LogFormat(
    name="openai-batch-output",
    struct=BatchOutputLine,
    matches=_is_batch_output,
    to_row=_batch_output_row,
    texts=_batch_output_texts,
)

BATCH_INPUT = LogFormat(
    name="openai-batch-input",
    struct=BatchInputLine,
    matches=lambda record: has_keys(record, "custom_id", "method", "url", "body"),
    to_row=lambda line: line.custom_id,
    texts=lambda record: chat_request_text(sub(record, "body")),
    kind="batch_request",
)

RESPONSES = LogFormat(
    name="openai-responses",
    struct=ResponseObject,
    matches=is_responses_body,
    to_row=responses_row,
    texts=_bare_texts,
)

CHAT = LogFormat(
    name="openai-chat",
    struct=ChatBody,
    matches=is_chat_body,
    to_row=chat_row,
    texts=_bare_texts,
)
