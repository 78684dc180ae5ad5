"""HTTP exchanges with a model API, as capture tools record them: HAR files (browser and proxy
captures), nock and VCR cassette recordings, and Helicone's custom-log requests.

The response body is read with the provider body formats (JSON, or server-sent events joined into
one request); what the body does not say comes from the exchange: the provider from the request's
host, the model from the URL (Bedrock's ``/model/ID/converse``, Gemini's and Vertex AI's
``/models/M:generateContent``) or the request body, the time from the capture, failure from the
HTTP status. An Azure deployment name in the URL is not a model: the body's model is used.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

import msgspec

from routecost.records import STATUS_ERROR, field_of, with_fields
from routecost.sources import anthropic, bedrock, cohere, gemini, openai
from routecost.sources.base import LogFormat, Rows, parse_time

HOST_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("api.openai.com", "openai"), (".openai.azure.com", "azure"), (".services.ai.azure.com", "azure"),
    ("api.anthropic.com", "anthropic"), ("bedrock-runtime.", "aws"), ("aiplatform.googleapis.com", "google"),
    ("generativelanguage.googleapis.com", "google"), ("api.groq.com", "groq"), ("api.together.xyz", "together"),
    ("api.fireworks.ai", "fireworks"), ("api.mistral.ai", "mistral"), ("api.deepseek.com", "deepseek"),
    ("api.x.ai", "x-ai"), ("openrouter.ai", "openrouter"), ("api.perplexity.ai", "perplexity"),
    ("api.cohere.", "cohere"), ("api.cerebras.ai", "cerebras"),
)
"""Request host (suffix or prefix) -> the provider that serves and bills it."""

BODY_FORMATS: tuple[LogFormat, ...] = (
    openai.RESPONSES, openai.RESPONSES_EVENT, openai.CHAT, anthropic.MESSAGE, anthropic.STREAM_EVENT,
    gemini.RESPONSE, bedrock.CONVERSE, bedrock.INVOKE_BODY, bedrock.CONVERSE_STREAM_EVENT, cohere.CHAT,
)


@dataclass(frozen=True)
class Exchange:
    """One request and its response, whatever tool recorded them."""

    url: str
    status: int | None
    response: Any
    """The response body: a decoded object, or its text (JSON, or server-sent events)."""
    request: Any = None
    started: datetime | float | None = None
    duration_ms: float | None = None
    content_type: str | None = None


def provider_of_url(url: str) -> str | None:
    host = urlsplit(url).hostname or ""
    return next((provider for marker, provider in HOST_PROVIDERS
                 if host.endswith(marker) or host.startswith(marker) or marker in host), None)


def model_of_url(url: str) -> str | None:
    """The model a URL path names: Bedrock ``/model/ID/...``, Gemini/Vertex ``/models/M:method``, or
    an Azure deployment (``/deployments/NAME/``: a name the team chose, used only when the body has
    no model; an alias in a --prices file maps it to its model)."""
    path = urlsplit(url).path
    if "/deployments/" in path:
        return unquote(path.split("/deployments/", 1)[1].split("/", 1)[0]) or None
    if "/model/" in path:
        return bedrock.model_of(unquote(path.split("/model/", 1)[1].split("/", 1)[0]))
    if "/models/" in path:
        return unquote(path.rsplit("/models/", 1)[1].split(":", 1)[0].split("/", 1)[0])
    return None


def _json_objects(body: Any) -> Iterator[Any]:
    """The JSON objects of a response body: the body itself, or each ``data:`` event of a stream."""
    if isinstance(body, Mapping):
        yield body
        return
    if isinstance(body, list):  # events already decoded (an event stream's)
        yield from body
        return
    if not isinstance(body, str | bytes):
        return
    try:
        yield msgspec.json.decode(body)
        return
    except msgspec.DecodeError:
        pass
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for line in text.splitlines():
        data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
        if data and data != "[DONE]":
            try:
                yield msgspec.json.decode(data)
            except msgspec.DecodeError:
                continue


def _body_rows(body: Any) -> Rows:
    found = Rows()
    for item in _json_objects(body):
        if not isinstance(item, Mapping):
            continue
        if "choices" in item and "object" not in item and "prompt_tokens" in (item.get("usage") or {}):
            item = {**item, "object": "chat.completion"}  # an OpenAI-shaped body that leaves out its type
        body_format = next((candidate for candidate in BODY_FORMATS if candidate.matches(item)), None)
        if body_format is None:
            found.skipped["response body of no known model API"] += 1
            continue
        # decoded again from JSON: the formats' structs keep some fields raw, which only a decoder fills
        found.add(msgspec.json.encode(item), partial(_read_body, body_format), "response")
    return found


def _read_body(body_format: LogFormat, data: bytes) -> Any:
    return body_format.to_row(body_format.lenient_decoder.decode(data))


def _request_model(request: Any) -> str | None:
    for item in _json_objects(request):
        if isinstance(item, Mapping) and isinstance(item.get("model"), str):
            return item["model"]
    return None


def exchange_rows(exchange: Exchange) -> Rows:
    """The requests in one exchange's response, completed with what the exchange knows."""
    if exchange.content_type == bedrock.EVENT_STREAM and isinstance(exchange.response, bytes):
        events = [event for event in bedrock.event_stream_events(exchange.response) if isinstance(event, Mapping)]
        agent_steps = [event for event in events if "trace" in event or "chunk" in event]
        found = bedrock.agent_trace_rows(agent_steps) if agent_steps else _body_rows(events)
    else:
        found = _body_rows(exchange.response)
    if not found.rows and not found.skipped:
        found.skipped["HTTP exchange without a model API response"] += 1
    provider = provider_of_url(exchange.url)
    requested = _request_model(exchange.request)
    # an Azure deployment in the URL is a name the team chose: the request's model comes first there
    model = (requested or model_of_url(exchange.url)) if provider == "azure" else (
        model_of_url(exchange.url) or requested)
    failed = exchange.status is not None and exchange.status >= 400
    found.rows[:] = [
        with_fields(
            row,
            provider=provider or field_of(row, "provider"),
            model=field_of(row, "model") or model,
            ts=field_of(row, "ts") if field_of(row, "ts") is not None else exchange.started,
            latency_ms=field_of(row, "latency_ms") if field_of(row, "latency_ms") is not None else exchange.duration_ms,
            status=STATUS_ERROR if failed else field_of(row, "status"),
        )
        for row in found.rows
    ]
    return found


def _har_exchange(entry: Mapping[str, Any]) -> Exchange:
    request, response = entry.get("request") or {}, entry.get("response") or {}
    content = response.get("content") or {}
    text = content.get("text")
    if isinstance(text, str) and content.get("encoding") == "base64":
        text = base64.b64decode(text)
    started = entry.get("startedDateTime")
    return Exchange(
        url=str(request.get("url", "")),
        status=response.get("status") if isinstance(response.get("status"), int) else None,
        response=text,
        request=(request.get("postData") or {}).get("text"),
        started=parse_time(started),
        duration_ms=entry.get("time") if isinstance(entry.get("time"), int | float) else None,
        content_type=str(content.get("mimeType", "")).split(";", 1)[0] or None,
    )


def _nock_exchange(record: Mapping[str, Any]) -> Exchange:
    return Exchange(url=f"{record.get('scope', '')}{record.get('path', '')}",
                    status=record.get("status") if isinstance(record.get("status"), int) else None,
                    response=record.get("response"), request=record.get("body"))


def _vcr_exchange(record: Mapping[str, Any]) -> Exchange:
    request, response = record["request"], record["response"]
    status = response.get("status")
    return Exchange(url=str(request.get("uri", "")),
                    status=status.get("code") if isinstance(status, Mapping) else None,
                    response=(response.get("body") or {}).get("string"), request=request.get("body"))


def _helicone_exchange(record: Mapping[str, Any]) -> Exchange:
    request, response = record.get("providerRequest") or {}, record.get("providerResponse") or {}
    timing = record.get("timing") or {}
    start, end = timing.get("startTime") or {}, timing.get("endTime") or {}
    started = _seconds(start)
    ended = _seconds(end)
    return Exchange(url=str(request.get("url", "")),
                    status=response.get("status") if isinstance(response.get("status"), int) else None,
                    response=response.get("json"), request=request.get("json"), started=started,
                    duration_ms=None if started is None or ended is None else round((ended - started) * 1000, 3))


def _seconds(moment: Any) -> float | None:
    if not isinstance(moment, Mapping) or not isinstance(moment.get("seconds"), int):
        return None
    return moment["seconds"] + (moment.get("milliseconds") or 0) / 1000


def _exchange_format(name: str, matches: Callable[[Mapping[str, Any]], bool],
                     exchange: Callable[[Mapping[str, Any]], Exchange]) -> LogFormat:
    return LogFormat(name=name, struct=dict[str, Any], matches=matches,
                     to_row=lambda record: exchange_rows(exchange(record)), kind="requests")


def _har_rows(record: dict[str, Any]) -> Rows:
    return Rows.each(record["log"]["entries"], lambda entry: exchange_rows(_har_exchange(entry)), "log.entries")


def _is_har(record: Mapping[str, Any]) -> bool:
    log = record.get("log")
    return isinstance(log, Mapping) and isinstance(log.get("entries"), list)


def _is_nock(record: Mapping[str, Any]) -> bool:
    return "scope" in record and "path" in record and "response" in record


def _is_vcr(record: Mapping[str, Any]) -> bool:
    request, response = record.get("request"), record.get("response")
    return isinstance(request, Mapping) and "uri" in request and isinstance(response, Mapping) and (
        isinstance(response.get("body"), Mapping))


def _is_helicone(record: Mapping[str, Any]) -> bool:
    return isinstance(record.get("providerRequest"), Mapping) and isinstance(record.get("providerResponse"), Mapping)


HAR = LogFormat(name="har", struct=dict[str, Any], matches=_is_har, to_row=_har_rows, kind="requests")
NOCK = _exchange_format("nock-recording", _is_nock, _nock_exchange)
VCR = _exchange_format("vcr-interaction", _is_vcr, _vcr_exchange)
HELICONE_LOG = _exchange_format("helicone-custom-log", _is_helicone, _helicone_exchange)
