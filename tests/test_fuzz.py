"""Property: any mutation of a valid record ends cleanly, never in a traceback.

Every line of a log either becomes a priced (or explicitly unpriced) request, a skipped record, or
a malformed one with a location; the audit of the result never raises. In strict mode the only
exception is the one-line ``InputError``.
"""

from __future__ import annotations

import copy
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routecost.errors import InputError, UsageError
from routecost.prices.catalog import PriceBook
from routecost.prices.pricing import price_requests
from routecost.sources.reader import ReaderConfig, read_logs

VALID: list[dict[str, Any]] = [
    {"id": "c1", "object": "chat.completion", "created": 1_791_036_125, "model": "gpt-4o-2024-08-06",
     "usage": {"prompt_tokens": 1840, "completion_tokens": 22, "prompt_tokens_details": {"cached_tokens": 1536},
               "completion_tokens_details": {"reasoning_tokens": 0}}, "service_tier": "default"},
    {"id": "r1", "object": "response", "created_at": 1_791_036_125, "status": "completed", "model": "o4-mini",
     "usage": {"input_tokens": 100, "output_tokens": 50, "input_tokens_details": {"cached_tokens": 0},
               "output_tokens_details": {"reasoning_tokens": 20}}},
    {"id": "m1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
     "content": [{"type": "text", "text": "hi"}],
     "usage": {"input_tokens": 38, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 200,
               "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60},
               "output_tokens": 61}},
    {"ts": "2026-10-03T14:22:05Z", "latency_ms": 812, "user_id": "u1", "tags": ["category:writing"],
     "metadata": {"feature": "blog"}, "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
     "response": {"id": "c2", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
                  "usage": {"prompt_tokens": 10, "completion_tokens": 5}}},
    {"usageMetadata": {"promptTokenCount": 12840, "candidatesTokenCount": 310, "thoughtsTokenCount": 800,
                       "cachedContentTokenCount": 8192}, "modelVersion": "gemini-2.5-flash", "responseId": "g1"},
    {"id": "batch_req_1", "custom_id": "a", "error": None,
     "response": {"status_code": 200, "body": {"object": "chat.completion", "model": "gpt-4o-mini",
                                               "created": 1_791_036_125,
                                               "usage": {"prompt_tokens": 31, "completion_tokens": 4}}}},
    {"custom_id": "b", "result": {"type": "succeeded", "message": {
        "type": "message", "model": "claude-haiku-4-5", "content": [],
        "usage": {"input_tokens": 5, "output_tokens": 5, "service_tier": "batch"}}}},
    {"id": "l1", "call_type": "acompletion", "response_cost": 0.001, "startTime": 1_791_036_125.5,
     "endTime": 1_791_036_126.5, "model_group": "fast", "model": "gemini/gemini-2.5-flash",
     "custom_llm_provider": "gemini", "prompt_tokens": 100, "completion_tokens": 50, "status": "success",
     "hidden_params": {"litellm_model_name": "gemini/gemini-2.5-flash"},
     "metadata": {"usage_object": {"prompt_tokens_details": {"cached_tokens": 10}}, "spend_logs_metadata": {}}},
    {"id": "o1", "traceId": "t1", "type": "GENERATION", "startTime": "2026-10-03T14:22:05.000Z",
     "model": "gpt-4o", "usageDetails": {"input": 10, "output": 5}, "costDetails": {"total": 0.00005}},
    {"id": "gen-1", "model": "openai/gpt-4o-mini", "total_cost": 0.0001, "tokens_prompt": 10,
     "native_tokens_prompt": 11, "native_tokens_completion": 3, "created_at": "2026-10-03T14:22:05Z"},
    {"type": "message_start", "message": {"id": "msg_9", "type": "message", "model": "claude-sonnet-4-20250514",
                                          "content": [], "usage": {"input_tokens": 20, "output_tokens": 1}}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 40}},
    {"type": "response.completed", "sequence_number": 9, "response": {
        "id": "resp_1", "object": "response", "model": "gpt-5-mini", "status": "completed",
        "output": [{"type": "web_search_call", "action": {"type": "search"}}],
        "usage": {"input_tokens": 100, "output_tokens": 20}}},
    {"schemaType": "ModelInvocationLog", "timestamp": "2025-03-11T00:38:02Z", "region": "us-east-1",
     "modelId": "amazon.nova-lite-v1:0", "input": {"inputTokenCount": 4}, "output": {"outputTokenCount": 38}},
    {"metrics": {"latencyMs": 379}, "output": {"message": {"content": []}}, "stopReason": "end_turn",
     "usage": {"inputTokens": 13, "outputTokens": 41, "cacheReadInputTokens": 0}},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "1791036125000000000", "attributes": [
        {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4.1-mini"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": {"low": 10, "high": 0}}}]}]}]}]},
    {"batch": [{"type": "generation-create", "body": {"id": "g1", "model": "gpt-4o", "startTime":
               "2025-01-16T11:28:54.796360-08:00", "usage": {"input": 10, "output": 20}}}]},
    {"scope": "https://bedrock-runtime.us-east-1.amazonaws.com:443", "method": "POST",
     "path": "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse", "status": 200,
     "response": {"usage": {"inputTokens": 13, "outputTokens": 5}, "output": {}, "metrics": {}}},
]
MULTI_RECORD_KEYS = (b"resourceSpans", b"batch", b"scope")
"""Lines that may hold several requests (or none): each line then has at least one outcome."""

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_paths(child, (*prefix, index)))
    return paths


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    record = copy.deepcopy(draw(st.sampled_from(VALID)))
    kind = draw(st.sampled_from(["replace", "delete", "truncate", "garbage"]))
    if kind in ("replace", "delete"):
        path = draw(st.sampled_from(_paths(record)[1:]))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    line = json.dumps(record).encode()
    if kind == "truncate":
        line = line[: draw(st.integers(min_value=0, max_value=len(line) - 1))]
    elif kind == "garbage":
        position = draw(st.integers(min_value=0, max_value=len(line)))
        line = line[:position] + draw(st.binary(min_size=1, max_size=8)) + line[position:]
    return line


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_line(), min_size=1, max_size=4), st.booleans())
def test_mutated_records_end_cleanly(lines: list[bytes], strict: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "log.jsonl"
        path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
        try:
            result = read_logs([str(path)], ReaderConfig(workers=1, strict=strict))
        except InputError as error:
            assert strict
            assert str(error).startswith(f"{path}")
            assert "\n" not in str(error)
            return
        except UsageError as error:  # a file that starts like gzip but is not, or like UTF-16: one clear line
            wide = lines[0][:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in lines[0][:2]
            assert lines[0].startswith(b"\x1f\x8b") or wide
            assert str(error).startswith(f"{path}: cannot read" if not wide else f"{path}: UTF-16")
            assert "\n" not in str(error)
            return
        accounted = result.requests.height + result.malformed + sum(result.skipped.values())
        non_blank = sum(1 for line in lines if line.strip())
        if any(key in line for line in lines for key in MULTI_RECORD_KEYS):
            assert accounted >= (non_blank or 1)
        else:
            assert accounted == non_blank  # every line has one outcome
        if not non_blank:
            assert result.notes == [f"{path}: empty: no log records"]
        assert all(example.line is None or 1 <= example.line <= len(lines) for example in result.malformed_examples)
        priced = price_requests(result.requests, PriceBook(), datetime(2026, 11, 1, tzinfo=UTC)).requests
        billed_unpriced = priced.filter(priced["cost_usd"].is_null())
        assert billed_unpriced["unpriced_reason"].null_count() == 0
        assert (priced["cost_usd"].drop_nulls() >= 0).all()
