"""Google Gemini: generateContent responses (REST camelCase and SDK snake_case) and batch file lines.

``promptTokenCount`` includes cached tokens but not ``toolUsePromptTokenCount``;
``candidatesTokenCount`` EXCLUDES ``thoughtsTokenCount``, and thoughts are billed as output, so both
are added to reach the canonical inclusive totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from routecost.records import STATUS_ERROR, source_row
from routecost.sources.base import (
    NO_ENVELOPE,
    NO_TOKENS,
    Count,
    Envelope,
    LogFormat,
    RecordError,
    RequestText,
    Struct,
    Timestamp,
    TokenCounts,
    content_text,
    enveloped_row,
    has_keys,
    mode_of,
    sub,
)

PROVIDER = "google"

_SERVICE_TIERS = {
    "ON_DEMAND_FLEX": "flex",
    "ON_DEMAND_PRIORITY": "priority",
    "PROVISIONED_THROUGHPUT": "provisioned",
}


class UsageMetadata(Struct, rename="camel"):
    """``usageMetadata`` as the REST API spells it (``promptTokenCount``, ...)."""

    prompt_token_count: Count = 0
    candidates_token_count: Count = 0
    cached_content_token_count: Count | None = None
    thoughts_token_count: Count | None = None
    tool_use_prompt_token_count: Count | None = None
    traffic_type: str | None = None


UsageMetadataSnake = msgspec.defstruct(
    "UsageMetadataSnake",
    [(field.name, field.type, field.default) for field in msgspec.structs.fields(UsageMetadata)],
    bases=(Struct,),
)
"""The same block as the Python SDK dumps it (``usage_metadata``, snake case): the same attributes, so
one reader serves both spellings."""


class GroundingMetadata(Struct):
    webSearchQueries: list[str] | None = None
    web_search_queries: list[str] | None = None


class Candidate(Struct):
    groundingMetadata: GroundingMetadata | None = None
    grounding_metadata: GroundingMetadata | None = None


class GenerateContentResponse(Struct):
    usageMetadata: UsageMetadata | None = None
    usage_metadata: UsageMetadataSnake | None = None
    modelVersion: str | None = None
    model_version: str | None = None
    responseId: str | None = None
    response_id: str | None = None
    createTime: Timestamp | None = None
    create_time: Timestamp | None = None
    candidates: list[Candidate] | None = None


def _tokens(usage: UsageMetadata | UsageMetadataSnake) -> TokenCounts:
    """The counts of either spelling of the usage block, the input and output made whole (tool-use
    prompt and thoughts added)."""
    thoughts = usage.thoughts_token_count
    return (
        usage.prompt_token_count + (usage.tool_use_prompt_token_count or 0),
        usage.cached_content_token_count,
        None,
        None,
        usage.candidates_token_count + (thoughts or 0),
        thoughts,
    )


def _grounded_prompts(response: GenerateContentResponse) -> int | None:
    """1 when Google Search grounded the answer (billed per grounded prompt, whatever the number of queries)."""
    for candidate in response.candidates or ():
        grounding = candidate.groundingMetadata or candidate.grounding_metadata
        if grounding is not None and (grounding.webSearchQueries or grounding.web_search_queries):
            return 1
    return None


def response_row(response: GenerateContentResponse, envelope: Envelope = NO_ENVELOPE,
                 stream_key: str | None = None) -> tuple[Any, ...]:
    usage = response.usageMetadata if response.usageMetadata is not None else response.usage_metadata
    model = response.modelVersion or response.model_version
    if usage is None and not model:
        raise RecordError("usageMetadata", "missing (neither usage nor modelVersion: not a Gemini response)")
    return enveloped_row(
        envelope,
        response.responseId or response.response_id,
        response.createTime if response.createTime is not None else response.create_time,
        envelope.provider or PROVIDER,
        model,
        NO_TOKENS if usage is None else _tokens(usage),
        service_tier=None if usage is None else _SERVICE_TIERS.get(usage.traffic_type or ""),
        user=envelope.user,
        metadata=envelope.metadata,
        stream_key=stream_key,
        grounded_prompts=_grounded_prompts(response),
    )


def is_response(record: Mapping[str, Any]) -> bool:
    return "usageMetadata" in record or "usage_metadata" in record or has_keys(record, "candidates", "modelVersion")


def response_answer(response: Mapping[str, Any]) -> str:
    """Text of the first candidate, without thought parts."""
    candidates = response.get("candidates")
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], Mapping):
        return ""
    parts = sub(candidates[0], "content").get("parts")
    if not isinstance(parts, list):
        return ""
    return content_text([part for part in parts if isinstance(part, Mapping) and not part.get("thought")])


def request_text(request: Mapping[str, Any]) -> RequestText:
    """The text of a generateContent request: ``systemInstruction`` and ``contents``."""
    system = sub(request, "systemInstruction") or sub(request, "system_instruction")
    contents = request.get("contents")
    messages = tuple(
        (str(turn.get("role", "user")), content_text(turn.get("parts")))
        for turn in (contents if isinstance(contents, list) else [])
        if isinstance(turn, Mapping)
    )
    return RequestText(system=content_text(system.get("parts")), messages=messages)


class BatchLine(Struct):
    key: str
    response: GenerateContentResponse | None = None
    error: dict[str, Any] | None = None


class BatchRequestLine(Struct):
    key: str
    request: dict[str, Any]


def _batch_row(line: BatchLine) -> tuple[Any, ...]:
    if line.response is None and line.error is None:
        raise RecordError("response", "missing (a batch request line, not a result)")
    if line.response is None or line.error is not None:
        return source_row(provider=PROVIDER, status=STATUS_ERROR, mode=mode_of(True), custom_id=line.key)
    return response_row(line.response, Envelope(mode=mode_of(True), custom_id=line.key))


def _is_batch_line(record: Mapping[str, Any]) -> bool:
    return "key" in record and ("response" in record or "error" in record)


def _is_batch_request(record: Mapping[str, Any]) -> bool:
    return "key" in record and "contents" in sub(record, "request") and not _is_batch_line(record)


def _bare_response_row(response: GenerateContentResponse) -> tuple[Any, ...]:
    """A response logged on its own line may be one chunk of a stream: chunks share the response id
    and repeat running totals, so they are joined into one request (``streams.py``)."""
    return response_row(response, stream_key=response.responseId or response.response_id)


RESPONSE = LogFormat(
    name="gemini-response",
    struct=GenerateContentResponse,
    matches=is_response,
    to_row=_bare_response_row,
    texts=lambda record: RequestText(answer=response_answer(record)),
)

BATCH = LogFormat(
    name="gemini-batch",
    struct=BatchLine,
    matches=_is_batch_line,
    to_row=_batch_row,
    texts=lambda record: RequestText(answer=response_answer(sub(record, "response"))),
)

BATCH_REQUEST = LogFormat(
    name="gemini-batch-request",
    struct=BatchRequestLine,
    matches=_is_batch_request,
    to_row=lambda line: line.key,
    texts=lambda record: request_text(sub(record, "request")),
    kind="batch_request",
)
