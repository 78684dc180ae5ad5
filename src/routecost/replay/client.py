"""Chat calls to OpenAI-compatible (``/chat/completions``) and Anthropic (``/messages``) endpoints.

One ``httpx.AsyncClient`` serves every call; a semaphore bounds how many are in flight. A call is
retried with exponential backoff and full jitter on 429, 5xx, timeouts, dropped connections and
bodies that are not the JSON the API promises; a ``Retry-After`` header (seconds or an HTTP date)
sets the wait instead. What finally happened, answer or error, is returned, never raised.

A judge call (``ChatRequest.json_schema``) asks for JSON the strongest way the endpoint's
``json_mode`` allows (``endpoints.JSON_FORMS``: OpenAI's ``json_schema``, then ``json_object`` with the
schema, then the prompt alone). An endpoint that refuses that way (an HTTP 400, 415, 422, 500 or 501
whose error names the response format, the schema or the grammar: llama.cpp's server answers a
``json_schema`` response format with a 500 "Input should be 'text' or 'json_object'", and the
LiteLLM proxy passes it on) is asked again at once the next weaker way, without waiting and without
spending a retry; the client remembers it per endpoint and model, so the rest of the run starts at
the way that works. ``attempts`` counts every request sent, step-downs included.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import os
import random
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from routecost.replay.endpoints import JSON_FORMS, Endpoint

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
REFUSAL_STATUSES = frozenset({400, 415, 422, 500, 501})
"""Statuses with which a server refuses a response format it does not support (with ``_REFUSAL``)."""
_REFUSAL = re.compile(r"(?i)response.?format|schema|grammar|structured.?output")
"""What such a refusal's error names: llama-cpp-python (and LiteLLM passing it on) ``('body',
'response_format', 'type') Input should be 'text' or 'json_object'``; llama.cpp's server
``response_format type must be one of "text" or "json_object"``; others ``json_schema is not
supported``, ``Invalid schema for response_format``, a grammar that does not compile."""
ANTHROPIC_VERSION = "2023-06-01"
MAX_RETRY_WAIT_S = 60.0


@dataclass(frozen=True)
class ChatRequest:
    """A conversation to send: the system prompt, (role, text) turns, and sampling parameters."""

    system: str
    messages: tuple[tuple[str, str], ...]
    max_tokens: int
    temperature: float | None = None
    json_schema: Mapping[str, Any] | None = None
    """Ask for a JSON reply matching this schema (judges), the way the endpoint supports."""


@dataclass(frozen=True)
class ChatResult:
    ok: bool
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float = 0.0
    attempts: int = 1
    error: str | None = None
    json_form: str | None = None
    """How a judge call asked for JSON in the end (one of ``JSON_FORMS``); None for other calls."""


@dataclass
class RetryPolicy:
    retries: int = 4
    base_delay_s: float = 0.5
    timeout_s: float = 60.0
    sleep: Any = field(default=asyncio.sleep)
    """Injected in tests to observe the waits."""

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2^attempt."""
        return random.uniform(0, self.base_delay_s * (2 ** attempt))


class ChatClient:
    """``concurrency`` single-connection httpx clients, each call borrowing one. One shared pool of
    that many connections would do the same, but httpcore's pool costs CPU per call that grows with
    its size (encode/httpx#3215): at concurrency 32 that alone passed 5 ms a call here."""

    def __init__(self, concurrency: int, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
                         for _ in range(concurrency)]
        self._idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in self._clients:
            self._idle.put_nowait(client)
        self._json_forms: dict[tuple[str, str, str], str] = {}
        """Per endpoint (name, URL) and model: the strongest JSON form not refused so far. It only
        moves down the ladder, and is read and written between awaits, so concurrent calls agree."""

    def json_form(self, endpoint: Endpoint, model_id: str) -> str:
        """How the next judge call to this endpoint and model asks for JSON."""
        learned = self._json_forms.get(_form_key(endpoint, model_id), JSON_FORMS[0])
        return max(endpoint.json_form, learned, key=JSON_FORMS.index)

    def stepped_down(self) -> dict[tuple[str, str], str]:
        """Per endpoint name and model (as the endpoint calls it): the JSON form judge calls stepped
        down to in this run."""
        return {(name, model): form for (name, _, model), form in sorted(self._json_forms.items())}

    def _step_down(self, endpoint: Endpoint, model_id: str, refused: str) -> str:
        weaker = JSON_FORMS[JSON_FORMS.index(refused) + 1]
        key = _form_key(endpoint, model_id)
        self._json_forms[key] = max(weaker, self._json_forms.get(key, weaker), key=JSON_FORMS.index)
        return self.json_form(endpoint, model_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients))

    async def complete(self, endpoint: Endpoint, model_id: str, request: ChatRequest) -> ChatResult:
        http = await self._idle.get()
        try:
            return await self._complete(http, endpoint, model_id, request)
        finally:
            self._idle.put_nowait(http)

    async def _complete(self, http: httpx.AsyncClient, endpoint: Endpoint, model_id: str,
                        request: ChatRequest) -> ChatResult:
        _, _, headers = _http_request(endpoint, model_id, request)
        result = await self._send(http, endpoint, model_id, request)
        return redacted(result, [value for name, value in headers.items() if name.lower() in SECRET_HEADERS])

    async def _send(self, http: httpx.AsyncClient, endpoint: Endpoint, model_id: str,
                    request: ChatRequest) -> ChatResult:
        timeout = endpoint.timeout_s or self.retry.timeout_s
        judging = request.json_schema is not None
        form = self.json_form(endpoint, model_id) if judging else None
        error = "not sent"
        sent = retries = 0
        while True:
            if form is not None:
                form = max(form, self.json_form(endpoint, model_id), key=JSON_FORMS.index)  # learned meanwhile
            url, body, headers = _http_request(endpoint, model_id, request, form)
            wait: float | None = None
            sent += 1
            started = time.perf_counter()
            try:
                response = await http.post(url, json=body, headers=headers, timeout=timeout)
            except httpx.TimeoutException:
                error = f"timed out after {timeout:g} s"
            except httpx.TransportError as failure:
                error = f"connection failed: {type(failure).__name__}"
            else:
                if response.status_code < 400:
                    parsed = _parse(endpoint.api, response)
                    if isinstance(parsed, ChatResult):
                        return ChatResult(True, parsed.text, parsed.input_tokens, parsed.output_tokens,
                                          (time.perf_counter() - started) * 1000, sent, json_form=form)
                    error = parsed
                else:
                    detail = _error_detail(response)
                    error = f"HTTP {response.status_code}: {detail[:ERROR_CHARS]}"
                    if form is not None and form != JSON_FORMS[-1] and _refuses_json_form(response.status_code,
                                                                                          detail):
                        form = self._step_down(endpoint, model_id, form)
                        continue  # the same call asked another way: not a retry
                    if response.status_code not in RETRY_STATUSES:
                        return ChatResult(False, latency_ms=(time.perf_counter() - started) * 1000,
                                          attempts=sent, error=error, json_form=form)
                    wait = retry_after_s(response.headers.get("retry-after"))
            if retries >= self.retry.retries:
                return ChatResult(False, latency_ms=(time.perf_counter() - started) * 1000,
                                  attempts=sent, error=error, json_form=form)
            await self.retry.sleep(min(wait if wait is not None else self.retry.backoff(retries), MAX_RETRY_WAIT_S))
            retries += 1


def _form_key(endpoint: Endpoint, model_id: str) -> tuple[str, str, str]:
    return endpoint.name, endpoint.base_url, endpoint.model_name(model_id)


def _refuses_json_form(status: int, detail: str) -> bool:
    """Whether an error refuses the way a judge call asked for JSON (not the call itself)."""
    return status in REFUSAL_STATUSES and _REFUSAL.search(detail) is not None


SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization"})
_CREDENTIAL = re.compile(
    r"(?i)(bearer\s+|basic\s+|(?:api[_-]?key|token|secret|password|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{8,}"
    r"|\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{30,}"
)
"""What a credential looks like in text a server sends back (a header it echoes, a key in an error)."""
REDACTED = "[redacted]"


def redact(text: str, secrets: Sequence[str] = (), *, shaped: bool = True) -> str:
    """Text with the request's secrets (exactly, and their bearer token alone) replaced by
    ``[redacted]``; with ``shaped``, anything shaped like a credential too."""
    for secret in secrets:
        for value in (secret, secret.removeprefix("Bearer ").strip()):
            if len(value) >= 8:
                text = text.replace(value, REDACTED)
    return _CREDENTIAL.sub(lambda match: (match.group(1) or "") + REDACTED, text) if shaped else text


def redacted(result: ChatResult, secrets: Sequence[str]) -> ChatResult:
    """A result safe to store and print: the request's keys are in neither its answer nor its error,
    and nothing shaped like a credential is in its error (an answer is judged as the model gave it:
    only the keys themselves are taken out of it)."""
    return dataclasses.replace(result, text=redact(result.text, secrets, shaped=False) if result.text else result.text,
                               error=redact(result.error, secrets) if result.error else result.error)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds to wait (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _http_request(endpoint: Endpoint, model_id: str, request: ChatRequest,
                  json_form: str | None = None) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The URL, body and headers of a call; a judge call asks for JSON the ``json_form`` way (the
    endpoint's first way if None)."""
    headers = {"content-type": "application/json", **endpoint.headers}
    key = os.environ.get(endpoint.key_env) if endpoint.key_env else None
    model = endpoint.model_name(model_id)
    if endpoint.api == "anthropic":
        if key:
            headers["x-api-key"] = key
        headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
        body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens,
                                "messages": [{"role": role, "content": text} for role, text in request.messages]}
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return f"{endpoint.base_url}/messages", body, headers
    if key:
        headers["authorization"] = f"Bearer {key}"
    messages = ([{"role": "system", "content": request.system}] if request.system else []) + [
        {"role": role, "content": text} for role, text in request.messages
    ]
    body = {"model": model, "messages": messages, "max_tokens": request.max_tokens}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    form = json_form or endpoint.json_form
    if request.json_schema is not None and form == "openai":
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "verdict", "schema": request.json_schema, "strict": True}}
    elif request.json_schema is not None and form == "llama-cpp":
        body["response_format"] = {"type": "json_object", "schema": request.json_schema}
    return f"{endpoint.base_url}/chat/completions", body, headers


def _parse(api: str, response: httpx.Response) -> ChatResult | str:
    """The answer and usage of a successful response, or what was wrong with it."""
    try:
        data = response.json()
    except ValueError:
        return "the response is not JSON"
    if not isinstance(data, dict):
        return "the response is not a JSON object"
    try:
        if api == "anthropic":
            text = "".join(block.get("text", "") for block in data["content"] if block.get("type") == "text")
            usage = data.get("usage") or {}
            input_tokens = _tokens(usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
            return ChatResult(True, text, input_tokens, usage.get("output_tokens"))
        message = data["choices"][0]["message"]
        usage = data.get("usage") or {}
        return ChatResult(True, message.get("content") or "", usage.get("prompt_tokens"), usage.get("completion_tokens"))
    except (KeyError, IndexError, TypeError, AttributeError):
        return "the response has no answer where the API puts it"


def _tokens(usage: Mapping[str, Any], *keys: str) -> int | None:
    values = [usage.get(key) for key in keys]
    return sum(value for value in values if isinstance(value, int)) if isinstance(values[0], int) else None


ERROR_CHARS = 200


def _error_detail(response: httpx.Response) -> str:
    """The provider's error message, whole (never the request, which may hold a key in a header);
    errors keep its first ``ERROR_CHARS``."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    if message is None and isinstance(data, dict):
        message = data.get("message") or data.get("detail")  # vLLM's errors; FastAPI's validation errors
    return str(message or response.reason_phrase or "error")


def turns(messages: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Logged turns as the APIs accept them: user and assistant only, alternating, starting with
    the user (consecutive turns of one role merged)."""
    merged: list[tuple[str, str]] = []
    for role, text in messages:
        if role not in ("user", "assistant") or not text:
            continue
        if merged and merged[-1][0] == role:
            merged[-1] = (role, merged[-1][1] + "\n\n" + text)
        else:
            merged.append((role, text))
    while merged and merged[0][0] != "user":
        merged.pop(0)
    return tuple(merged)
