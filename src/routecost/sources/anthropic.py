"""Anthropic: Messages responses and Message Batches result/request lines.

Token semantics differ from OpenAI: ``input_tokens`` EXCLUDES cache reads and cache writes, so the
canonical (inclusive) input is ``input_tokens + cache_read_input_tokens + cache_creation_input_tokens``.
Cache writes carry a 5-minute / 1-hour split in ``cache_creation``; without it every write is 5m.
Errored, canceled and expired batch results are not billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routecost.records import STATUS_ERROR, STREAM_CONTINUES, source_row
from routecost.sources.base import (
    NO_ENVELOPE,
    STREAM_EVENT_WITHOUT_USAGE,
    Count,
    Envelope,
    LogFormat,
    NotARequest,
    RequestText,
    Struct,
    TokenCounts,
    chat_messages,
    content_text,
    enveloped_row,
    has_keys,
    mode_of,
    sub,
)
from routecost.sources.usage import CacheWriteSplit, inclusive_input

PROVIDER = "anthropic"
_SERVED_BY_ID_PREFIX = (("msg_bdrk_", "aws"), ("msg_vrtx_", "google"))
"""Claude served by a cloud says so in its message id: Bedrock's and Vertex AI's prices apply."""
BATCH_SERVICE_TIER = "batch"


class ServerToolUse(Struct):
    web_search_requests: Count | None = None


class OutputTokensDetails(Struct):
    thinking_tokens: Count | None = None


class IterationUsage(Struct):
    """One sampling step of a message (``usage.iterations``): server-side compaction is a step of its
    own, billed, and left out of the top-level counts (which repeat the last step)."""

    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_creation_input_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation: CacheWriteSplit | None = None


class MessageUsage(Struct):
    input_tokens: Count
    output_tokens: Count
    cache_creation_input_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation: CacheWriteSplit | None = None
    server_tool_use: ServerToolUse | None = None
    output_tokens_details: OutputTokensDetails | None = None
    service_tier: str | None = None
    iterations: list[IterationUsage] | None = None


def _summed_iterations(usage: MessageUsage) -> MessageUsage:
    """The usage of every sampling step together, when the message lists its steps."""
    steps = usage.iterations or ()
    one_hour = [step.cache_creation.ephemeral_1h_input_tokens or 0 for step in steps if step.cache_creation]
    return MessageUsage(
        input_tokens=sum(step.input_tokens for step in steps),
        output_tokens=sum(step.output_tokens for step in steps),
        cache_creation_input_tokens=sum(step.cache_creation_input_tokens or 0 for step in steps),
        cache_read_input_tokens=sum(step.cache_read_input_tokens or 0 for step in steps),
        cache_creation=CacheWriteSplit(ephemeral_1h_input_tokens=sum(one_hour)) if one_hour else None,
        server_tool_use=usage.server_tool_use,
        output_tokens_details=usage.output_tokens_details,
        service_tier=usage.service_tier,
    )


class Message(Struct, tag_field="type", tag="message"):
    model: str
    usage: MessageUsage
    id: str | None = None
    stop_reason: str | None = None


def served_by(message_id: str | None) -> str:
    if message_id is not None:
        for prefix, provider in _SERVED_BY_ID_PREFIX:
            if message_id.startswith(prefix):
                return provider
    return PROVIDER


def _message_tokens(usage: MessageUsage) -> TokenCounts:
    """The counts of a message's usage, the input made whole (cache reads and writes added back);
    cache writes are summed from their 5m/1h split when only the split is logged."""
    cache_read = usage.cache_read_input_tokens
    cache_write = usage.cache_creation_input_tokens
    split = usage.cache_creation
    cache_write_1h = split.ephemeral_1h_input_tokens if split else None
    if cache_write is None and split is not None:
        cache_write = (split.ephemeral_5m_input_tokens or 0) + (cache_write_1h or 0)
    thinking = usage.output_tokens_details
    return (
        usage.input_tokens + (cache_read or 0) + (cache_write or 0),
        cache_read,
        cache_write,
        cache_write_1h,
        usage.output_tokens,
        None if thinking is None else thinking.thinking_tokens,
    )


def message_row(message: Message, envelope: Envelope = NO_ENVELOPE, stream_key: str | None = None) -> tuple[Any, ...]:
    usage = _summed_iterations(message.usage) if message.usage.iterations else message.usage
    batch_tier = usage.service_tier == BATCH_SERVICE_TIER
    tools = usage.server_tool_use
    return enveloped_row(
        envelope,
        message.id,
        None,  # ts: a message logs no time of its own
        envelope.provider or served_by(message.id),
        message.model,
        _message_tokens(usage),
        service_tier=None if batch_tier else usage.service_tier,
        user=envelope.user,
        metadata=envelope.metadata,
        mode=mode_of(envelope.mode == "batch" or batch_tier),
        stream_key=stream_key,
        web_search_requests=None if tools is None else tools.web_search_requests,
    )


def is_message(record: Mapping[str, Any]) -> bool:
    return record.get("type") == "message" and isinstance(record.get("content"), list) and (
        "input_tokens" in sub(record, "usage")
    )


def message_answer(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if not isinstance(content, list):
        return ""
    return content_text([part for part in content if isinstance(part, Mapping) and part.get("type") == "text"])


def request_text(request: Mapping[str, Any]) -> RequestText:
    """The text of a Messages request: ``system`` (string or blocks) and ``messages``."""
    return RequestText(system=content_text(request.get("system")), messages=chat_messages(request.get("messages")))


class SucceededResult(Struct, tag_field="type", tag="succeeded"):
    message: Message


class ErroredResult(Struct, tag_field="type", tag="errored"):
    pass


class CanceledResult(Struct, tag_field="type", tag="canceled"):
    pass


class ExpiredResult(Struct, tag_field="type", tag="expired"):
    pass


class BatchResultLine(Struct):
    custom_id: str
    result: SucceededResult | ErroredResult | CanceledResult | ExpiredResult


class BatchParams(Struct):
    model: str | None = None


class BatchRequestLine(Struct):
    custom_id: str
    params: BatchParams


_RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")
_UNBILLED_STATUS: dict[type, str] = {ErroredResult: STATUS_ERROR, CanceledResult: "cancelled", ExpiredResult: "expired"}


def _batch_result_row(line: BatchResultLine) -> tuple[Any, ...]:
    envelope = Envelope(mode=mode_of(True), custom_id=line.custom_id)
    if isinstance(line.result, SucceededResult):
        return message_row(line.result.message, envelope)
    return source_row(
        provider=PROVIDER, status=_UNBILLED_STATUS[type(line.result)], mode=envelope.mode, custom_id=line.custom_id
    )


class DeltaUsage(Struct):
    """The cumulative usage on ``message_delta``; older API versions give only ``output_tokens``."""

    output_tokens: Count
    input_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    cache_read_input_tokens: Count | None = None
    server_tool_use: ServerToolUse | None = None


class StreamEvent(Struct):
    """One server-sent event of a streamed Messages call."""

    type: str
    message: Message | None = None
    usage: DeltaUsage | None = None


def _stream_event_row(event: StreamEvent) -> tuple[Any, ...]:
    """``message_start`` opens the request (model, input usage); the ``message_delta`` after it
    carries the final, cumulative usage (its input too, when server tools added input)."""
    if event.type == "message_start" and event.message is not None:
        return message_row(event.message, stream_key=event.message.id or STREAM_CONTINUES)
    if event.type == "message_delta" and event.usage is not None:
        usage = event.usage
        cache_read, cache_write = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
        # the delta's input replaces the start's only when it gives the cache counts too (the whole input)
        complete = cache_read is not None and cache_write is not None
        input_tokens = inclusive_input(usage.input_tokens, cache_read, cache_write) if complete else None
        tools = usage.server_tool_use
        return source_row(
            input_tokens=input_tokens,
            cache_read_tokens=None if input_tokens is None else cache_read,
            cache_write_tokens=None if input_tokens is None else cache_write,
            output_tokens=usage.output_tokens,
            web_search_requests=None if tools is None else tools.web_search_requests,
            stream=True,
            stream_key=STREAM_CONTINUES,
        )
    raise NotARequest(STREAM_EVENT_WITHOUT_USAGE)


def _is_stream_event(record: Mapping[str, Any]) -> bool:
    kind = record.get("type")
    return kind in _STREAM_EVENT_TYPES and ("message" in record or "delta" in record or "index" in record
                                            or kind in ("ping", "message_stop"))


_STREAM_EVENT_TYPES = ("message_start", "message_delta", "message_stop", "content_block_start",
                       "content_block_delta", "content_block_stop", "ping")


class _NotAMessage(Struct, tag_field="type", tag="__not_a_message__"):
    """Never matches: in a union, a tagged struct requires its tag (decoded alone it would not)."""


MESSAGE = LogFormat(
    name="anthropic-message",
    struct=Message | _NotAMessage,
    matches=is_message,
    to_row=message_row,
    texts=lambda record: RequestText(answer=message_answer(record)),
)

BATCH_RESULT = LogFormat(
    name="anthropic-batch-result",
    struct=BatchResultLine,
    matches=lambda record: has_keys(record, "custom_id", "result") and sub(record, "result").get("type") in _RESULT_TYPES,
    to_row=_batch_result_row,
    texts=lambda record: RequestText(answer=message_answer(sub(sub(record, "result"), "message"))),
)

BATCH_REQUEST = LogFormat(
    name="anthropic-batch-request",
    struct=BatchRequestLine,
    matches=lambda record: has_keys(record, "custom_id", "params") and "messages" in sub(record, "params"),
    to_row=lambda line: line.custom_id,
    texts=lambda record: request_text(sub(record, "params")),
    kind="batch_request",
)

STREAM_EVENT = LogFormat(
    name="anthropic-stream-event",
    struct=StreamEvent,
    matches=_is_stream_event,
    to_row=_stream_event_row,
    texts=lambda record: RequestText(answer=message_answer(sub(record, "message"))),
)
