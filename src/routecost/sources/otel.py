"""OpenTelemetry spans of model calls: OTLP/JSON (an OpenTelemetry Collector's file exporter,
``resourceSpans -> scopeSpans -> spans`` with attributes as ``{key, value}`` lists), single resource
spans, and flattened spans (an object with an ``attributes`` map, or the attribute map alone).

The attribute names are a declarative table (``SPAN_FIELDS``): the GenAI semantic conventions first
(``gen_ai.*``, current and deprecated names), then the vendor conventions on top of them
(OpenInference ``llm.*``, OpenLLMetry ``llm.usage.*``, the Vercel AI SDK ``ai.*``, Langfuse
``langfuse.observation.*``). Token counts are inclusive (the conventions count cached input inside
the input). A span is one request only when it is a model call: agent, chain, tool and parent spans
(whose usage repeats their children's) are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, STATUS_OK, source_row
from routecost.sources.base import LogFormat, NotARequest, Rows, epoch_seconds, parse_time, token_count
from routecost.sources.langfuse import usage_details_split

SPAN_FIELDS: dict[str, tuple[str, ...]] = {
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "llm.response.model",
              "llm.request.model", "ai.response.model", "ai.model.id", "langfuse.observation.model.name"),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system", "ai.model.provider"),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt",
                     "llm.usage.prompt_tokens", "ai.usage.inputTokens", "ai.usage.promptTokens",
                     "ai.usage.tokens"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
                      "llm.usage.completion_tokens", "ai.usage.outputTokens", "ai.usage.completionTokens"),
    "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read", "ai.usage.cachedInputTokens"),
    "cache_write_tokens": ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
                           "llm.token_count.prompt_details.cache_write"),
    "reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", "llm.token_count.completion_details.reasoning",
                         "ai.usage.reasoningTokens"),
    "request_id": ("gen_ai.response.id", "ai.response.id"),
    "cost": ("langfuse.observation.cost_details.total", "gen_ai.usage.cost", "llm.usage.cost"),
}
"""Canonical field -> span attributes that may hold it, the most authoritative first."""

PROVIDER_NAMES: dict[str, str] = {
    "az.ai.openai": "azure", "azure.ai.openai": "azure", "azure_openai": "azure", "azure.ai.inference": "azure",
    "az.ai.inference": "azure",
    "aws.bedrock": "aws", "bedrock": "aws", "amazon_bedrock": "aws",
    "gcp.gemini": "google", "gcp.vertex_ai": "google", "gcp.gen_ai": "google", "vertex_ai": "google",
    "vertexai": "google", "gemini": "google", "google_genai": "google",
    "mistral_ai": "mistral", "mistralai": "mistral", "x_ai": "x-ai", "xai": "x-ai", "cohere": "cohere",
}
"""Provider names the conventions use -> the price catalog's provider ids (others pass through)."""

_CALL_OPERATIONS = (".doGenerate", ".doStream", ".doEmbed")
_NOT_CALLS = ("invoke_agent", "create_agent", "execute_tool")
_CALL_KINDS = ("LLM", "EMBEDDING")
_ATTRIBUTE_PREFIXES = ("gen_ai.", "llm.", "ai.", "langfuse.observation.")


def any_value(value: Any) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain value; int64s come as decimal text, or as ``{low, high}``
    where a protobuf library decoded them."""
    if not isinstance(value, Mapping):
        return value
    for kind, item in value.items():
        if kind == "intValue":
            return _int64(item)
        if kind in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
            return item
        if kind == "arrayValue":
            return [any_value(element) for element in item.get("values", [])] if isinstance(item, Mapping) else []
        if kind == "kvlistValue":
            return attribute_map(item.get("values", [])) if isinstance(item, Mapping) else {}
    return None


def _int64(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if isinstance(value, Mapping) and isinstance(value.get("low"), int) and isinstance(value.get("high"), int):
        return (value["high"] << 32) | (value["low"] & 0xFFFFFFFF)
    return None


def attribute_map(attributes: Any) -> dict[str, Any]:
    """Span attributes as a flat map: an OTLP ``[{key, value}]`` list, or a map as exported."""
    if isinstance(attributes, Mapping):
        return dict(attributes)
    if isinstance(attributes, list):
        return {item["key"]: any_value(item.get("value")) for item in attributes
                if isinstance(item, Mapping) and isinstance(item.get("key"), str)}
    return {}


def spans(record: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The spans a record holds: an export request, one resource's spans, or one span."""
    resources = record.get("resourceSpans")
    for resource in resources if isinstance(resources, list) else [record]:
        scopes = resource.get("scopeSpans") if isinstance(resource, Mapping) else None
        if not isinstance(scopes, list):
            yield resource
            continue
        for scope in scopes:
            found = scope.get("spans") if isinstance(scope, Mapping) else None
            yield from (span for span in found or () if isinstance(span, Mapping))


def _first(attributes: Mapping[str, Any], name: str) -> Any:
    return next((attributes[key] for key in SPAN_FIELDS[name] if attributes.get(key) is not None), None)


def _count(attributes: Mapping[str, Any], name: str) -> int | None:
    key = next((key for key in SPAN_FIELDS[name] if attributes.get(key) is not None), None)
    if key is None:
        return None
    value = attributes[key]
    converted = _int64(value)  # OTLP's int64 as text or {low, high}
    return token_count(value if converted is None else converted, f'attributes["{key}"]')


def provider_of(name: Any) -> str | None:
    """``openai.responses`` (Vercel) is OpenAI; ``az.ai.openai`` is Azure; and so on."""
    if not isinstance(name, str) or not name:
        return None
    lowered = name.strip().lower()
    return PROVIDER_NAMES.get(lowered) or PROVIDER_NAMES.get(lowered.split(".")[0]) or lowered.split(".")[0]


def _why_not_a_call(attributes: Mapping[str, Any]) -> str | None:
    operation_id = attributes.get("ai.operationId")
    if isinstance(operation_id, str) and not operation_id.endswith(_CALL_OPERATIONS):
        return "parent span (its usage repeats its model calls')"
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() not in _CALL_KINDS:
        return f"{kind.lower()} span (not a model call)"
    observation = attributes.get("langfuse.observation.type")
    if isinstance(observation, str) and observation.lower() not in ("generation", "embedding"):
        return f"Langfuse {observation.lower()} span (not a model call)"
    if attributes.get("gen_ai.operation.name") in _NOT_CALLS:
        return f"{attributes['gen_ai.operation.name']} span (not a model call)"
    return None


def _is_embedding(attributes: Mapping[str, Any]) -> bool:
    return (attributes.get("gen_ai.operation.name") == "embeddings"
            or str(attributes.get("ai.operationId", "")).endswith(".doEmbed")
            or str(attributes.get("openinference.span.kind", "")).upper() == "EMBEDDING")


def _span_time(span: Mapping[str, Any], *names: str) -> float | None:
    """Epoch seconds of a span time: OTLP nanoseconds (text or ``{low, high}``), an ``[s, ns]`` pair
    (the JavaScript SDK's), or a logged time."""
    for name in names:
        value = span.get(name)
        if value is None:
            continue
        if isinstance(value, list) and len(value) == 2 and all(isinstance(part, int) for part in value):
            return value[0] + value[1] / 1e9
        nanos = _int64(value) if name.endswith("UnixNano") else None
        if nanos is not None:
            return nanos / 1e9
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch_seconds(value)
        if isinstance(value, str):
            return epoch_seconds(parse_time(value))
    return None


def _langfuse_usage(attributes: Mapping[str, Any]) -> tuple[int | None, ...] | None:
    details = attributes.get("langfuse.observation.usage_details")
    if isinstance(details, str):
        try:
            details = msgspec.json.decode(details)
        except msgspec.DecodeError:
            return None
    if not isinstance(details, Mapping):
        return None
    return usage_details_split({key: value for key, value in details.items() if isinstance(value, int)})


def _cost(attributes: Mapping[str, Any]) -> float | None:
    cost = _first(attributes, "cost")
    if cost is None and isinstance(attributes.get("langfuse.observation.cost_details"), Mapping):
        cost = attributes["langfuse.observation.cost_details"].get("total")
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0 else None


def span_row(span: Mapping[str, Any]) -> tuple[Any, ...]:
    attributes = attribute_map(span["attributes"]) if "attributes" in span else dict(span)
    reason = _why_not_a_call(attributes)
    if reason is not None:
        raise NotARequest(reason)
    model = _first(attributes, "model")
    langfuse = _langfuse_usage(attributes)
    input_tokens, cache_read, cache_write, output_tokens, reasoning = langfuse or (
        _count(attributes, "input_tokens"), _count(attributes, "cache_read_tokens"),
        _count(attributes, "cache_write_tokens"), _count(attributes, "output_tokens"),
        _count(attributes, "reasoning_tokens"))
    if model is None and input_tokens is None and output_tokens is None:
        raise NotARequest("span without a model call")
    if output_tokens is None and input_tokens is not None and _is_embedding(attributes):
        output_tokens = 0
    cached = (cache_read or 0) + (cache_write or 0)
    if langfuse is None and input_tokens is not None and cached > input_tokens:
        # an instrumentation that passed on Anthropic's own count (the Vercel AI SDK before v6): the
        # input left the cache out, so the cache is added back to reach the whole input
        input_tokens += cached
    status = span.get("status")
    failed = isinstance(status, Mapping) and status.get("code") in (2, "STATUS_CODE_ERROR", "ERROR")
    start = _span_time(span, "startTimeUnixNano", "startTime", "start_time")
    end = _span_time(span, "endTimeUnixNano", "endTime", "end_time")
    request_id = _first(attributes, "request_id")
    context = span.get("spanContext")
    span_id = span.get("spanId") or span.get("span_id") or (context.get("spanId") if isinstance(context, Mapping) else None)
    return source_row(
        request_id=str(request_id or span_id) if (request_id or isinstance(span_id, str)) else None,
        ts=start,
        provider=provider_of(_first(attributes, "provider")),
        model=None if model is None else str(model),
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning,
        logged_cost_usd=_cost(attributes),
        latency_ms=None if start is None or end is None else round((end - start) * 1000, 3),
        status=STATUS_ERROR if failed else STATUS_OK,
    )


def _rows(record: dict[str, Any]) -> Rows:
    return Rows.each(list(spans(record)), span_row, "spans")


def _has_span_attributes(keys: Any) -> bool:
    return any(isinstance(key, str) and key.startswith(_ATTRIBUTE_PREFIXES) for key in keys)


def is_span_record(record: Mapping[str, Any]) -> bool:
    if isinstance(record.get("resourceSpans"), list) or isinstance(record.get("scopeSpans"), list):
        return True
    attributes = record.get("attributes")
    if isinstance(attributes, Mapping):
        return _has_span_attributes(attributes)
    if isinstance(attributes, list):
        return _has_span_attributes(item.get("key") for item in attributes if isinstance(item, Mapping))
    return _has_span_attributes(record) and not isinstance(record.get("usage"), Mapping)


SPANS = LogFormat(
    name="otel-spans",
    struct=dict[str, Any],
    matches=is_span_record,
    to_row=_rows,
    kind="requests",
)
