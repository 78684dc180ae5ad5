"""LiteLLM: the proxy's StandardLoggingPayload (callback/bucket logs) and LiteLLM_SpendLogs rows.

``prompt_tokens`` follows OpenAI semantics (cache reads included). For Anthropic-family models
LiteLLM changed whether cache *writes* are included (BerriAI/litellm#13207): when
``prompt_tokens - cache_read - cache_write`` is negative the writes were left out, and they are
added back. ``cache_hit`` is LiteLLM's own response cache: no provider call was made, it costs $0.
The model priced is the one LiteLLM sent (``model_map_key`` / ``litellm_model_name``), not the
user-facing ``model_group`` alias.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, STATUS_OK
from routecost.sources.base import (
    Count,
    LogFormat,
    Money,
    NotARequest,
    RecordError,
    RequestText,
    Struct,
    Timestamp,
    TokenCounts,
    chat_messages,
    epoch_seconds,
    has_keys,
    split_system,
    sub,
)
from routecost.sources.openai import chat_answer
from routecost.sources.usage import CacheWriteSplit, ReasoningDetails, TokenFields, row_with_tokens

_BATCH_JOB_CALL_TYPES = {"acreate_batch", "create_batch", "aretrieve_batch", "retrieve_batch", "afile_content"}
_ANTHROPIC_FAMILY = ("anthropic", "bedrock", "vertex_ai")


class PromptDetails(Struct):
    cached_tokens: Count | None = None
    cache_creation_tokens: Count | None = None
    cache_creation_token_details: CacheWriteSplit | None = None


class UsageObject(Struct):
    """LiteLLM's normalized usage, as kept in ``metadata.usage_object`` (or ``additional_usage_values``).

    The 5m/1h cache-write split lives in ``prompt_tokens_details.cache_creation_token_details``
    (older versions put it at the top level)."""

    prompt_tokens_details: PromptDetails | None = None
    completion_tokens_details: ReasoningDetails | None = None
    cache_read_input_tokens: Count | None = None
    cache_creation_input_tokens: Count | None = None
    cache_creation_token_details: CacheWriteSplit | None = None


class PayloadMetadata(Struct):
    user_api_key_user_id: str | None = None
    user_api_key_end_user_id: str | None = None
    spend_logs_metadata: msgspec.Raw = msgspec.Raw(b"")
    requester_metadata: msgspec.Raw = msgspec.Raw(b"")
    usage_object: UsageObject | None = None
    additional_usage_values: UsageObject | None = None


class HiddenParams(Struct):
    litellm_model_name: str | None = None
    usage_object: UsageObject | None = None


class ModelMapInformation(Struct):
    model_map_key: str | None = None


class StandardLoggingPayload(Struct):
    call_type: str
    startTime: Timestamp
    id: str | None = None
    endTime: Timestamp | None = None
    model: str | None = None
    custom_llm_provider: str | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    response_cost: Money | None = None
    status: str | None = None
    stream: bool | None = None
    cache_hit: bool | None = None
    request_tags: list[str] | None = None
    end_user: str | None = None
    metadata: PayloadMetadata | None = None
    hidden_params: HiddenParams | None = None
    model_map_information: ModelMapInformation | None = None


class SpendLogRow(Struct):
    request_id: str
    call_type: str
    startTime: Timestamp
    endTime: Timestamp | None = None
    model: str | None = None
    custom_llm_provider: str | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None
    spend: Money | None = None
    status: str | None = None
    cache_hit: bool | str | None = None
    request_tags: list[str] | str | None = None
    user: str | None = None
    end_user: str | None = None
    request_duration_ms: float | None = None
    metadata: PayloadMetadata | str | None = None
    """An object, or its JSON text as LiteLLM's webhooks, Pub/Sub and database exports carry it."""


def _cache_write_1h(usage: UsageObject) -> int | None:
    """The 1-hour writes of the cache-write split, where the version that logged it put the split."""
    prompt_details = usage.prompt_tokens_details
    split = (prompt_details.cache_creation_token_details if prompt_details else None) or (
        usage.cache_creation_token_details
    )
    return split.ephemeral_1h_input_tokens if split else None


_USAGE_OBJECT_TOKENS = TokenFields(
    cache_read=("cache_read_input_tokens", "prompt_tokens_details.cached_tokens"),
    cache_write=("cache_creation_input_tokens", "prompt_tokens_details.cache_creation_tokens"),
    cache_write_1h=_cache_write_1h,
    reasoning="completion_tokens_details.reasoning_tokens",
)
"""What LiteLLM's normalized usage adds to a row's own prompt and completion counts."""


def _tokens(
    provider: str | None, prompt_tokens: int | None, completion_tokens: int | None, usage: UsageObject | None
) -> TokenCounts:
    """A row's counts: its prompt (inclusive) and completion counts, the rest from its normalized usage;
    cache writes that an Anthropic-family prompt count left out are added back (see the module docstring)."""
    if usage is None:
        return prompt_tokens, None, None, None, completion_tokens, None
    _, cache_read, cache_write, cache_write_1h, _, reasoning = _USAGE_OBJECT_TOKENS.read(usage)
    input_tokens = prompt_tokens
    anthropic_family = (provider or "").startswith(_ANTHROPIC_FAMILY)
    if input_tokens is not None and cache_write and anthropic_family and input_tokens < (cache_read or 0) + cache_write:
        input_tokens += cache_write
    return input_tokens, cache_read, cache_write, cache_write_1h, completion_tokens, reasoning


def _latency_ms(start: Timestamp, end: Timestamp | None) -> float | None:
    start_s, end_s = epoch_seconds(start), epoch_seconds(end)
    if start_s is None or end_s is None:
        return None
    return round((end_s - start_s) * 1000, 3)


def _custom_metadata(metadata: PayloadMetadata | None) -> msgspec.Raw | None:
    """The caller's own metadata: ``spend_logs_metadata``, else ``requester_metadata``."""
    if metadata is None:
        return None
    return metadata.spend_logs_metadata or metadata.requester_metadata


def _is_failure(status: str | None) -> bool:
    return status is not None and status.lower() not in ("success", "ok")


def _priced_model(payload: StandardLoggingPayload) -> str:
    mapped = payload.model_map_information.model_map_key if payload.model_map_information else None
    sent = payload.hidden_params.litellm_model_name if payload.hidden_params else None
    model = mapped or sent or payload.model
    if not model:
        raise RecordError("model", "missing (no model, hidden_params.litellm_model_name or model_map_key)")
    return model


def _payload_row(payload: StandardLoggingPayload) -> tuple[Any, ...]:
    if payload.call_type in _BATCH_JOB_CALL_TYPES:
        raise NotARequest("LiteLLM batch-job bookkeeping row")
    metadata = payload.metadata
    usage = (metadata.usage_object if metadata else None) or (
        payload.hidden_params.usage_object if payload.hidden_params else None
    )
    provider = payload.custom_llm_provider
    return row_with_tokens(
        _tokens(provider, payload.prompt_tokens, payload.completion_tokens, usage),
        request_id=payload.id,
        ts=payload.startTime,
        provider=provider,
        model=_priced_model(payload),
        logged_cost_usd=payload.response_cost,
        latency_ms=_latency_ms(payload.startTime, payload.endTime),
        status=STATUS_ERROR if _is_failure(payload.status) else STATUS_OK,
        stream=payload.stream,
        user=payload.end_user or (metadata.user_api_key_user_id if metadata else None),
        tags=payload.request_tags,
        metadata=_custom_metadata(metadata),
        gateway_cache_hit=payload.cache_hit,
    )


def _truthy(value: bool | str | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return value.strip().lower() in ("true", "1", "yes", "t")


_METADATA_DECODER = msgspec.json.Decoder(PayloadMetadata | None)
_TAGS_DECODER = msgspec.json.Decoder(list[str] | None)


def _from_json_text(value: Any, decoder: msgspec.json.Decoder[Any], field: str) -> Any:
    """A column that LiteLLM stores as JSON text (``metadata``, ``request_tags``), decoded."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return decoder.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise RecordError(field, f"JSON text that does not decode ({error})") from None


def _spend_log_row(row: SpendLogRow) -> tuple[Any, ...]:
    if row.call_type in _BATCH_JOB_CALL_TYPES:
        raise NotARequest("LiteLLM batch-job bookkeeping row")
    metadata = _from_json_text(row.metadata, _METADATA_DECODER, "metadata")
    usage = (metadata.usage_object or metadata.additional_usage_values) if metadata else None
    latency = row.request_duration_ms if row.request_duration_ms is not None else _latency_ms(row.startTime, row.endTime)
    return row_with_tokens(
        _tokens(row.custom_llm_provider, row.prompt_tokens, row.completion_tokens, usage),
        request_id=row.request_id,
        ts=row.startTime,
        provider=row.custom_llm_provider,
        model=row.model,
        logged_cost_usd=row.spend,
        latency_ms=latency,
        status=STATUS_ERROR if _is_failure(row.status) else STATUS_OK,
        user=row.end_user or row.user,
        tags=_from_json_text(row.request_tags, _TAGS_DECODER, "request_tags"),
        metadata=_custom_metadata(metadata),
        gateway_cache_hit=_truthy(row.cache_hit),
    )


def _payload_texts(record: Mapping[str, Any]) -> RequestText:
    system, messages = split_system(chat_messages(record.get("messages")))
    return RequestText(system=system, messages=messages, answer=chat_answer(sub(record, "response")))


PAYLOAD = LogFormat(
    name="litellm-payload",
    struct=StandardLoggingPayload,
    matches=lambda record: has_keys(record, "call_type", "response_cost", "startTime", "endTime", "model_group")
    and ("hidden_params" in record or "model_map_information" in record),
    to_row=_payload_row,
    texts=_payload_texts,
)

SPEND_LOG = LogFormat(
    name="litellm-spendlog",
    struct=SpendLogRow,
    matches=lambda record: has_keys(
        record, "request_id", "call_type", "spend", "prompt_tokens", "completion_tokens", "startTime", "model"
    ),
    to_row=_spend_log_row,
    texts=_payload_texts,
)
