"""OpenAI: Chat Completions (bodies and final stream chunks) and the Responses API (Batch API files:
``openai_batch``).

Token semantics: ``prompt_tokens``/``input_tokens`` already include ``cached_tokens`` (and the 2026
``cache_write_tokens``); ``completion_tokens``/``output_tokens`` already include reasoning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from routecost.records import MODE_REALTIME, STATUS_ERROR, STATUS_INCOMPLETE, STATUS_OK, STREAM_CONTINUES
from routecost.sources.base import (
    NO_ENVELOPE,
    NO_TOKENS,
    STREAM_EVENT_WITHOUT_USAGE,
    Count,
    Envelope,
    EnvelopeColumns,
    LogFormat,
    Money,
    NotARequest,
    RequestText,
    Struct,
    Timestamp,
    TokenCounts,
    chat_messages,
    content_text,
    enveloped_row,
    skip_format,
    split_system,
    sub,
)
from routecost.sources.usage import InputCacheDetails, ReasoningDetails

PROVIDER = "openai"


class UsageCost(Struct):
    """Perplexity's itemised ``usage.cost``."""

    total_cost: Money | None = None


class ChatUsage(Struct):
    prompt_tokens: Count
    completion_tokens: Count
    total_tokens: Count | None = None
    prompt_tokens_details: InputCacheDetails | None = None
    completion_tokens_details: ReasoningDetails | None = None
    prompt_cache_hit_tokens: Count | None = None
    """DeepSeek's count of cached prompt tokens (the same as ``cached_tokens``)."""
    cached_tokens: Count | None = None
    """Together puts the cached count here, not in ``prompt_tokens_details``."""
    cost: Money | UsageCost | None = None
    """What OpenRouter (a number) or Perplexity (itemised) charged."""
    cost_in_usd_ticks: Count | None = None
    """What xAI charged, in 1e-10 USD."""
    search_context_size: str | None = None


class GroqExtras(Struct):
    """Groq's ``x_groq``: a stream's usage arrives here, on its last chunk."""

    usage: ChatUsage | None = None


class ChoiceMarkers(Struct):
    content_filter_results: msgspec.Raw = msgspec.Raw(b"")
    """Azure's content filter: only Azure OpenAI adds it to each choice."""


class ChatCompletion(Struct, tag_field="object", tag="chat.completion"):
    model: str | None = None
    id: str | None = None
    created: Timestamp | None = None
    usage: ChatUsage | None = None
    service_tier: str | None = None
    provider: str | None = None
    """OpenRouter: the upstream provider that served the request."""
    x_groq: GroqExtras | None = None
    choices: list[ChoiceMarkers] | None = None
    time_info: msgspec.Raw = msgspec.Raw(b"")
    citations: msgspec.Raw = msgspec.Raw(b"")
    search_results: msgspec.Raw = msgspec.Raw(b"")
    prompt_filter_results: msgspec.Raw = msgspec.Raw(b"")
    prompt: msgspec.Raw = msgspec.Raw(b"")


class ChatCompletionChunk(ChatCompletion, tag="chat.completion.chunk"):
    """A streamed chunk; only the last one of a stream (with ``stream_options.include_usage``) has usage."""


class ResponsesUsage(Struct):
    input_tokens: Count
    output_tokens: Count
    input_tokens_details: InputCacheDetails | None = None
    output_tokens_details: ReasoningDetails | None = None


class SearchAction(Struct):
    type: str | None = None


class OutputItem(Struct):
    type: str | None = None
    action: SearchAction | None = None
    container_id: str | None = None


class ToolSpec(Struct):
    type: str | None = None


class ResponseObject(Struct, tag_field="object", tag="response"):
    model: str
    id: str | None = None
    output: list[OutputItem] | None = None
    tools: list[ToolSpec] | None = None
    content_filters: msgspec.Raw = msgspec.Raw(b"")
    """Azure's content-filter results: only Azure OpenAI adds them."""
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


_OPENAI_CHAT_ID_LENGTH = len("chatcmpl-") + 29
_TOGETHER_ID = re.compile(r"[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-[0-9a-f]{16}")
TICKS_PER_USD = 10_000_000_000


def chat_provider(body: ChatCompletion) -> str | None:
    """Who served an OpenAI-shaped chat completion, from what the body carries (many providers speak
    this shape); None when nothing in it tells (the price book then guesses from the model name)."""
    request_id = body.id or ""
    if body.prompt_filter_results or (body.choices and body.choices[0].content_filter_results):
        return "azure"
    if len(request_id) == _OPENAI_CHAT_ID_LENGTH and request_id.startswith("chatcmpl-") and request_id[9:].isalnum():
        return PROVIDER  # the common case first: this runs once per record
    usage = body.usage
    if body.provider is not None and request_id.startswith("gen-"):
        return "openrouter"
    if body.x_groq is not None:
        return "groq"
    if body.time_info:
        return "cerebras"
    if body.citations or body.search_results or (usage is not None and usage.search_context_size is not None):
        return "perplexity"
    if usage is not None and usage.prompt_cache_hit_tokens is not None:
        return "deepseek"
    if usage is not None and usage.cost_in_usd_ticks is not None:
        return "x-ai"
    if body.prompt and _TOGETHER_ID.fullmatch(request_id):
        return "together"
    return None


def _chat_usage(usage: ChatUsage) -> tuple[TokenCounts, float | None]:
    """The token counts and the logged cost of a chat usage block (Together puts ``cached_tokens`` at
    the top)."""
    details = usage.prompt_tokens_details
    cached = None if details is None else details.cached_tokens
    completion = usage.completion_tokens_details
    reasoning = None if completion is None else completion.reasoning_tokens
    tokens = (
        usage.prompt_tokens,
        usage.cached_tokens if cached is None else cached,
        None if details is None else details.cache_write_tokens,
        None,
        _output_tokens(usage, reasoning),
        reasoning,
    )
    return tokens, _logged_cost(usage)


def _output_tokens(usage: ChatUsage, reasoning: int | None) -> int:
    """xAI counts reasoning apart from ``completion_tokens`` (its total is prompt + completion +
    reasoning); OpenAI and the rest count it inside."""
    output = usage.completion_tokens
    if reasoning and usage.total_tokens == usage.prompt_tokens + output + reasoning:
        return output + reasoning
    return output


def _logged_cost(usage: ChatUsage) -> float | None:
    if usage.cost_in_usd_ticks is not None:
        return usage.cost_in_usd_ticks / TICKS_PER_USD
    if usage.cost is not None:
        return usage.cost.total_cost if isinstance(usage.cost, UsageCost) else usage.cost
    return None


_NO_USAGE: tuple[TokenCounts, None] = (NO_TOKENS, None)
_SEARCH_PREVIEW = "-search-preview"
"""OpenAI's Chat Completions search models search the web on every request: one preview search call."""
PERPLEXITY_DEFAULT_CONTEXT = "low"
"""Perplexity's per-request fee depends on the search context size; a request that does not say was
made with the API's default, low."""


def _search_context(usage: ChatUsage | None) -> str | None:
    if usage is None:
        return None
    return (usage.search_context_size or PERPLEXITY_DEFAULT_CONTEXT).lower()


def chat_row(body: ChatCompletion, envelope: Envelope = NO_ENVELOPE) -> tuple[Any, ...]:
    usage = body.usage if body.usage is not None or body.x_groq is None else body.x_groq.usage
    tokens, cost = _NO_USAGE if usage is None else _chat_usage(usage)
    chunk = body.__class__ is ChatCompletionChunk
    provider = envelope.provider or chat_provider(body)
    context = _search_context(usage) if provider == "perplexity" else None
    return enveloped_row(
        envelope, body.id, body.created, provider, body.model, tokens,
        service_tier=body.service_tier,
        user=envelope.user,
        metadata=envelope.metadata,
        streamed=chunk,
        stream_key=body.id if chunk and envelope is NO_ENVELOPE else None,
        logged_cost_usd=cost,
        low_context_requests=1 if context == "low" else None,
        medium_context_requests=1 if context == "medium" else None,
        web_search_preview_calls=1 if usage is not None and _SEARCH_PREVIEW in (body.model or "") else None,
    )


def chat_columns(bodies: Sequence[ChatCompletion], envelope: EnvelopeColumns) -> dict[str, Sequence[Any]]:
    """``chat_row`` of many bodies in their envelopes, a column at a time (``LogFormat.columns``): a list
    comprehension per column instead of a tuple per body. Keep the two in step (a test compares them
    record by record); the rarer cases (logged costs, xAI reasoning, Perplexity) call the same helpers."""
    usages = [body.usage if body.usage is not None or body.x_groq is None else body.x_groq.usage for body in bodies]
    details = [None if usage is None else usage.prompt_tokens_details for usage in usages]
    reasoning = [None if usage is None or usage.completion_tokens_details is None
                 else usage.completion_tokens_details.reasoning_tokens for usage in usages]
    providers = [provider or chat_provider(body) for provider, body in zip(envelope.provider, bodies, strict=True)]
    columns: dict[str, Sequence[Any]] = {
        "request_id": [body.id for body in bodies],
        "ts": [body.created if ts is None else ts for body, ts in zip(bodies, envelope.ts, strict=True)],
        "provider": providers,
        "model": [body.model or model for body, model in zip(bodies, envelope.request_model, strict=True)],
        "input_tokens": [None if usage is None else usage.prompt_tokens for usage in usages],
        "cache_read_tokens": [
            None if usage is None else usage.cached_tokens if detail is None or detail.cached_tokens is None
            else detail.cached_tokens for usage, detail in zip(usages, details, strict=True)
        ],
        "cache_write_tokens": [None if detail is None else detail.cache_write_tokens for detail in details],
        "output_tokens": [None if usage is None else _output_tokens(usage, thought) if thought
                          else usage.completion_tokens for usage, thought in zip(usages, reasoning, strict=True)],
        "reasoning_tokens": reasoning,
        "logged_cost_usd": [
            None if usage is None or (usage.cost is None and usage.cost_in_usd_ticks is None) else _logged_cost(usage)
            for usage in usages
        ],
        "latency_ms": envelope.latency_ms,
        "status": [STATUS_ERROR if failed else STATUS_OK for failed in envelope.failed],
        "stream": [True if body.__class__ is ChatCompletionChunk else stream
                   for body, stream in zip(bodies, envelope.stream, strict=True)],
        "mode": [MODE_REALTIME] * len(bodies),
        "service_tier": [body.service_tier for body in bodies],
        "user": envelope.user,
        "tags": envelope.tags,
        "metadata": envelope.metadata,
        "web_search_preview_calls": [1 if usage is not None and _SEARCH_PREVIEW in (body.model or "") else None
                                     for usage, body in zip(usages, bodies, strict=True)],
    }
    if "perplexity" in providers:
        contexts = [_search_context(usage) if provider == "perplexity" else None
                    for usage, provider in zip(usages, providers, strict=True)]
        columns["low_context_requests"] = [1 if context == "low" else None for context in contexts]
        columns["medium_context_requests"] = [1 if context == "medium" else None for context in contexts]
    return columns


WEB_SEARCH_BILLED_ACTIONS = (None, "search")
"""A ``web_search_call`` is billed when it searched; opening a page or finding in it is not a call."""


def _tool_calls(body: ResponseObject) -> tuple[int | None, int | None, int | None, int | None]:
    """(web searches, preview web searches, file searches, code containers) among the response's output
    items, billed per call (containers once each). A search made with the ``web_search_preview`` tool
    is priced apart from the current ``web_search`` tool."""
    if not body.output:
        return None, None, None, None
    searches = sum(1 for item in body.output if item.type == "web_search_call"
                   and (item.action is None or item.action.type in WEB_SEARCH_BILLED_ACTIONS)) or None
    file_searches = sum(1 for item in body.output if item.type == "file_search_call") or None
    containers = len({item.container_id for item in body.output
                      if item.type == "code_interpreter_call" and item.container_id}) or None
    if any((tool.type or "").startswith("web_search_preview") for tool in body.tools or ()):
        return None, searches, file_searches, containers
    return searches, None, file_searches, containers


def responses_provider(body: ResponseObject) -> str | None:
    if body.content_filters:
        return "azure"
    return PROVIDER if (body.id or "").startswith("resp_") else None


def _responses_tokens(usage: ResponsesUsage) -> TokenCounts:
    cache = usage.input_tokens_details
    details = usage.output_tokens_details
    return (
        usage.input_tokens,
        None if cache is None else cache.cached_tokens,
        None if cache is None else cache.cache_write_tokens,
        None,
        usage.output_tokens,
        None if details is None else details.reasoning_tokens,
    )


def _responses_status(status: str | None) -> str:
    if status in _FAILED_RESPONSE_STATUSES:
        return STATUS_ERROR
    return STATUS_INCOMPLETE if status == STATUS_INCOMPLETE else STATUS_OK


def responses_row(body: ResponseObject, envelope: Envelope = NO_ENVELOPE,
                  stream_key: str | None = None) -> tuple[Any, ...]:
    web_searches, preview_searches, file_searches, containers = _tool_calls(body)
    tokens = NO_TOKENS if body.usage is None else _responses_tokens(body.usage)
    return enveloped_row(
        envelope, body.id, body.created_at, envelope.provider or responses_provider(body), body.model, tokens,
        service_tier=body.service_tier,
        user=envelope.user or body.user or body.safety_identifier,
        metadata=envelope.metadata or _raw_or_none(body.metadata),
        status=_responses_status(body.status),
        stream_key=stream_key,
        web_search_requests=web_searches,
        file_search_calls=file_searches,
        web_search_preview_calls=preview_searches,
        code_containers=containers,
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


def _bare_texts(record: Mapping[str, Any]) -> RequestText:
    if record.get("object") == "response":
        return RequestText(answer=responses_answer(record))
    return RequestText(answer=chat_answer(record))


class _NotAResponse(Struct, tag_field="object", tag="__not_a_response__"):
    """Never matches: in a union, a tagged struct requires its tag (decoded alone it would not)."""


RESPONSES = LogFormat(
    name="openai-responses",
    struct=ResponseObject | _NotAResponse,
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


class ResponseEvent(Struct):
    """One event of a streamed Responses API call; the lifecycle events carry the response object."""

    type: str
    response: ResponseObject | None = None


def _event_row(event: ResponseEvent) -> tuple[Any, ...]:
    if event.response is None:
        raise NotARequest(STREAM_EVENT_WITHOUT_USAGE)
    return responses_row(event.response, stream_key=event.response.id or STREAM_CONTINUES)


def _is_response_event(record: Mapping[str, Any]) -> bool:
    return str(record.get("type", "")).startswith("response.") and "sequence_number" in record


RESPONSES_EVENT = LogFormat(
    name="openai-responses-event",
    struct=ResponseEvent,
    matches=_is_response_event,
    to_row=_event_row,
    texts=lambda record: RequestText(answer=responses_answer(sub(record, "response"))),
)


AZURE_STREAM_PREAMBLE = skip_format(
    "azure-stream-preamble", lambda record: record.get("object") == "" and "prompt_filter_results" in record,
    "Azure content-filter preamble of a stream (no usage)")
