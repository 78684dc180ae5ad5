"""OpenAI Batch API files: output lines (each request's result, its body read as OpenAI's) and input
lines (the requests, joined to their results by ``custom_id``, for their text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routecost.records import STATUS_ERROR, source_row
from routecost.sources.base import Envelope, LogFormat, RequestText, Struct, has_keys, mode_of, sub
from routecost.sources.openai import (
    PROVIDER,
    AnyBody,
    body_row,
    chat_answer,
    chat_request_text,
    responses_answer,
)


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


def _batch_output_row(line: BatchOutputLine) -> tuple[Any, ...]:
    response = line.response
    failed = line.error is not None or response is None or response.status_code >= 400 or response.body is None
    envelope = Envelope(mode=mode_of(True), failed=failed, custom_id=line.custom_id)
    if response is None or response.body is None:
        return source_row(request_id=line.id, provider=PROVIDER, status=STATUS_ERROR, mode=envelope.mode,
                          custom_id=line.custom_id)
    return body_row(response.body, envelope)


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
