"""AWS Bedrock: model-invocation logs (what Bedrock writes to CloudWatch Logs or S3) and Converse
responses (whole, or the events of ConverseStream as SDKs decode them).

Bedrock's token counts exclude cache reads and writes (``inputTokens`` + cache read + cache write is
the whole input, as with Anthropic). Converse repeats each cache counter (``cacheReadInputTokens``
and ``cacheReadInputTokenCount`` hold the same number): one is read. The model is a model id, a
cross-region inference profile (``us.``, ``eu.``, ``global.`` prefixes, priced at the profile's rate),
or an ARN; an application inference profile's ARN hides its model, so such a record is unpriced with
that reason. A Converse response body names no model at all: it is read, and unpriced until the
model is logged beside it.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, STATUS_OK, source_row
from routecost.sources.base import (
    STREAM_EVENT_WITHOUT_USAGE,
    Count,
    LogFormat,
    NotARequest,
    RequestText,
    Rows,
    Struct,
    Timestamp,
    content_text,
    parse_time,
    skip_format,
    sub,
    token_count,
)
from routecost.sources.usage import TokenFields, row_with_tokens

PROVIDER = "aws"
_APPLICATION_PROFILE = ":application-inference-profile/"


class InvocationInput(Struct):
    inputTokenCount: Count | None = None
    cacheReadInputTokenCount: Count | None = None
    cacheWriteInputTokenCount: Count | None = None


class InvocationOutput(Struct):
    outputTokenCount: Count | None = None


class InvocationLog(Struct):
    modelId: str
    timestamp: Timestamp | None = None
    requestId: str | None = None
    region: str | None = None
    operation: str | None = None
    input: InvocationInput | None = None
    output: InvocationOutput | None = None
    errorCode: str | None = None


def model_of(model_id: str) -> str:
    """The model (or inference profile) an id or ARN names: ``arn:...:foundation-model/ID`` and
    ``arn:...:inference-profile/ID`` end in it; anything else is returned as logged."""
    if model_id.startswith("arn:") and "/" in model_id and _APPLICATION_PROFILE not in model_id:
        return model_id.rsplit("/", 1)[1]
    return model_id


_INVOCATION_LOG_TOKENS = TokenFields(
    input="input.inputTokenCount",
    cache_read="input.cacheReadInputTokenCount",
    cache_write="input.cacheWriteInputTokenCount",
    output="output.outputTokenCount",
    input_excludes_cache=True,
)


def _invocation_row(log: InvocationLog) -> tuple[Any, ...]:
    return row_with_tokens(
        _INVOCATION_LOG_TOKENS.read(log),
        request_id=log.requestId,
        ts=log.timestamp,
        provider=PROVIDER,
        model=model_of(log.modelId),
        status=STATUS_ERROR if log.errorCode else STATUS_OK,
        stream=log.operation in ("ConverseStream", "InvokeModelWithResponseStream") or None,
    )


class CacheDetail(Struct):
    inputTokens: Count | None = None
    ttl: str | None = None


class ConverseUsage(Struct):
    inputTokens: Count
    outputTokens: Count
    cacheReadInputTokens: Count | None = None
    cacheWriteInputTokens: Count | None = None
    cacheDetails: list[CacheDetail] | None = None


class ConverseMetrics(Struct):
    latencyMs: float | None = None


class ConverseResponse(Struct):
    usage: ConverseUsage
    metrics: ConverseMetrics | None = None


def _cache_write_1h(response: ConverseResponse) -> int | None:
    details = response.usage.cacheDetails
    if not details:
        return None
    return sum(detail.inputTokens or 0 for detail in details if detail.ttl == "1h")


_CONVERSE_TOKENS = TokenFields(
    input="usage.inputTokens",
    cache_read="usage.cacheReadInputTokens",
    cache_write="usage.cacheWriteInputTokens",
    cache_write_1h=_cache_write_1h,
    output="usage.outputTokens",
    input_excludes_cache=True,
)


def _converse_row(response: ConverseResponse) -> tuple[Any, ...]:
    return row_with_tokens(_CONVERSE_TOKENS.read(response), provider=PROVIDER,
                           latency_ms=response.metrics.latencyMs if response.metrics else None)


def _is_converse(record: Mapping[str, Any]) -> bool:
    """A whole Converse response, or ConverseStream's closing ``metadata`` event (it alone has usage)."""
    usage = sub(record, "usage")
    return "inputTokens" in usage and "outputTokens" in usage and ("output" in record or "metrics" in record)


class InvocationMetrics(Struct):
    inputTokenCount: Count
    outputTokenCount: Count
    invocationLatency: float | None = None
    cacheReadInputTokenCount: Count | None = None
    cacheWriteInputTokenCount: Count | None = None


class InvokeBody(Struct):
    """An InvokeModel body of a model family that is not Anthropic's (those are Messages, ``msg_bdrk_``):
    Meta Llama (``prompt_token_count`` / ``generation_token_count``), Amazon Titan Text
    (``inputTextTokenCount`` / ``results[].tokenCount``), or the last chunk of a streamed invocation
    (``amazon-bedrock-invocationMetrics``, any family). None of them names the model."""

    prompt_token_count: Count | None = None
    generation_token_count: Count | None = None
    stop_reason: str | None = None
    """Null on every chunk of a Llama stream but the last (which carries the invocation metrics)."""
    inputTextTokenCount: Count | None = None
    results: list[TitanResult] | None = None
    invocation_metrics: InvocationMetrics | None = msgspec.field(default=None, name="amazon-bedrock-invocationMetrics")


class TitanResult(Struct):
    tokenCount: Count = 0


_STREAM_METRICS_TOKENS = TokenFields(
    input="inputTokenCount",
    cache_read="cacheReadInputTokenCount",
    cache_write="cacheWriteInputTokenCount",
    output="outputTokenCount",
    input_excludes_cache=True,
)
_TITAN_TOKENS = TokenFields(
    input="inputTextTokenCount", output=lambda body: sum(result.tokenCount for result in body.results or ())
)
_LLAMA_TOKENS = TokenFields(input="prompt_token_count", output="generation_token_count")


def _invoke_row(body: InvokeBody) -> tuple[Any, ...]:
    """A body of this shape, or a record that is not one (every field is optional, so on the fast path
    any object decodes: it must show one of the families' keys)."""
    metrics = body.invocation_metrics
    if metrics is None and body.inputTextTokenCount is None and body.generation_token_count is None:
        raise msgspec.ValidationError("not a Bedrock InvokeModel body")
    if metrics is None and body.stop_reason is None and body.results is None:
        raise NotARequest(STREAM_EVENT_WITHOUT_USAGE)
    if metrics is not None:
        return row_with_tokens(_STREAM_METRICS_TOKENS.read(metrics), provider=PROVIDER,
                               latency_ms=metrics.invocationLatency)
    tokens = _TITAN_TOKENS if body.inputTextTokenCount is not None else _LLAMA_TOKENS
    return row_with_tokens(tokens.read(body), provider=PROVIDER)


def _is_invoke_body(record: Mapping[str, Any]) -> bool:
    return ("amazon-bedrock-invocationMetrics" in record
            or ("generation" in record and "prompt_token_count" in record)
            or ("inputTextTokenCount" in record and "results" in record))


_STREAM_EVENT_KEYS = ("role", "delta", "contentBlockIndex", "stopReason", "start")


def _is_stream_event(record: Mapping[str, Any]) -> bool:
    """ConverseStream's other events (messageStart, contentBlockDelta, ..., messageStop), as decoded
    from the event stream: one of these keys, the padding field ``p``, and no usage."""
    return "usage" not in record and "p" in record and any(key in record for key in _STREAM_EVENT_KEYS)


def _converse_texts(record: Mapping[str, Any]) -> RequestText:
    return RequestText(answer=content_text(sub(sub(record, "output"), "message").get("content")))


INVOCATION_LOG = LogFormat(
    name="bedrock-invocation-log",
    struct=InvocationLog,
    matches=lambda record: record.get("schemaType") == "ModelInvocationLog",
    to_row=_invocation_row,
    texts=lambda record: RequestText(answer=content_text(
        sub(sub(sub(sub(record, "output"), "outputBodyJson"), "output"), "message").get("content"))),
)

CONVERSE = LogFormat(
    name="bedrock-converse",
    struct=ConverseResponse,
    matches=_is_converse,
    to_row=_converse_row,
    texts=_converse_texts,
)

INVOKE_BODY = LogFormat(
    name="bedrock-invoke",
    struct=InvokeBody,
    matches=_is_invoke_body,
    to_row=_invoke_row,
    texts=lambda record: RequestText(answer=str(record.get("generation") or "")),
)

CONVERSE_STREAM_EVENT = skip_format("bedrock-converse-stream-event", _is_stream_event, STREAM_EVENT_WITHOUT_USAGE)


EVENT_STREAM = "application/vnd.amazon.eventstream"
_PRELUDE_BYTES = 12
_MESSAGE_CRC_BYTES = 4


def event_stream_payloads(data: bytes) -> Iterator[bytes]:
    """The payloads of an AWS event stream (``application/vnd.amazon.eventstream``): frames of
    total length, headers length, prelude CRC, headers, payload and message CRC."""
    position = 0
    while position + _PRELUDE_BYTES <= len(data):
        total, headers_length = struct.unpack_from(">II", data, position)
        if total < _PRELUDE_BYTES + _MESSAGE_CRC_BYTES or position + total > len(data):
            return
        start = position + _PRELUDE_BYTES + headers_length
        yield data[start:position + total - _MESSAGE_CRC_BYTES]
        position += total


def event_stream_events(data: bytes) -> Iterator[Any]:
    """The JSON events of an event stream; InvokeModelWithResponseStream wraps each chunk, base64, in
    ``{"bytes": ...}``: the chunk itself is the event."""
    for payload in event_stream_payloads(data):
        try:
            event = msgspec.json.decode(payload)
            if isinstance(event, Mapping) and isinstance(event.get("bytes"), str):
                event = msgspec.json.decode(base64.b64decode(event["bytes"]))
        except (msgspec.DecodeError, ValueError):
            continue
        yield event


def agent_trace_rows(events: list[Mapping[str, Any]]) -> Rows:
    """The model calls inside a Bedrock agent's InvokeAgent response: each step's trace names the
    foundation model it invokes (``modelInvocationInput``) and then its usage (``modelInvocationOutput``)."""
    found = Rows()
    model: str | None = None
    for event in events:
        steps = event.get("trace")
        if not isinstance(steps, Mapping) or not steps:
            found.skipped["agent event without a model call"] += 1
            continue
        for step in steps.values():
            invoked = sub(step, "modelInvocationInput").get("foundationModel")
            model = invoked if isinstance(invoked, str) else model
            usage = sub(sub(step, "modelInvocationOutput"), "metadata").get("usage")
            if isinstance(usage, Mapping):
                found.rows.append(source_row(
                    provider=PROVIDER, model=None if model is None else model_of(model),
                    input_tokens=token_count(usage.get("inputTokens"), "inputTokens"),
                    output_tokens=token_count(usage.get("outputTokens"), "outputTokens"),
                    ts=parse_time(event.get("eventTime"))))
    return found
