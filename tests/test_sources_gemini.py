"""Gemini generateContent responses (REST camelCase, SDK snake_case) and Batch API file lines, priced from
Google's published prices.

Prices used (USD per million tokens, ai.google.dev/gemini-api/docs/pricing, paid tier, text):
  gemini-2.5-flash: input 0.30, output (thinking included) 2.50, context cache read 0.03
  gemini-2.5-pro:   prompts <= 200k tokens: input 1.25, output 10.00, cache read 0.125;
                    prompts > 200k tokens:  input 2.50, output 15.00, cache read 0.25
  Batch API:        50% of the input and output prices; cache reads keep their price
                    (the batch discount does not stack with the caching discount)
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.conftest import MTOK, audit_records, costs, only_row

FLASH = "gemini-2.5-flash"


def usage_metadata(prompt: int, candidates: int, *, cached: int | None = None, thoughts: int | None = None,
                   tool_use: int | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                             "totalTokenCount": prompt + candidates + (thoughts or 0) + (tool_use or 0),
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    optional = {"cachedContentTokenCount": cached, "thoughtsTokenCount": thoughts, "toolUsePromptTokenCount": tool_use}
    usage.update((key, value) for key, value in optional.items() if value is not None)
    return usage


RESPONSE_IDS = itertools.count()


def response(model: str, usage: dict[str, Any], **extra: object) -> dict[str, Any]:
    """A whole response; each has its own id, as Gemini's do (lines sharing one are a stream's chunks)."""
    return {"candidates": [{"content": {"parts": [{"text": "Hello!"}], "role": "model"},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage, "modelVersion": model, "responseId": f"mKdGaOuvGJuSz7IPsfu{next(RESPONSE_IDS)}",
            **extra}


def test_thoughts_are_billed_as_output_on_top_of_candidates_and_cache_is_inside_prompt(tmp_path):
    record = response(FLASH, usage_metadata(12840, 310, cached=8192, thoughts=800))
    audit = audit_records(tmp_path, [record])
    # uncached 12840 - 8192 = 4648 at $0.30, 8192 cache reads at $0.03, output 310 + 800 = 1110 at $2.50
    expected = (4648 * 0.30 + 8192 * 0.03 + 1110 * 2.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (
        12840, 8192, 1110, 800)
    assert (row["model_id"], row["format"]) == ("google/gemini-2.5-flash", "gemini-response")


def test_tool_use_prompt_tokens_are_added_to_input(tmp_path):
    audit = audit_records(tmp_path, [response(FLASH, usage_metadata(1000, 200, tool_use=4000))])
    expected = ((1000 + 4000) * 0.30 + 200 * 2.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    assert only_row(audit)["input_tokens"] == 5000


def test_snake_case_sdk_dump(tmp_path):
    record = {
        "candidates": [{"content": {"parts": [{"text": "Hello!", "thought": None}], "role": "model"},
                        "finish_reason": "STOP", "index": 0}],
        "create_time": None, "response_id": "mKdGaOuvGJuSz7IPsfuO8Qs", "model_version": FLASH,
        "prompt_feedback": None, "automatic_function_calling_history": [], "parsed": None,
        "usage_metadata": {"cache_tokens_details": None, "cached_content_token_count": 2048,
                           "candidates_token_count": 150, "prompt_token_count": 3000, "thoughts_token_count": 450,
                           "tool_use_prompt_token_count": 500, "total_token_count": 4100, "traffic_type": None},
    }
    audit = audit_records(tmp_path, [record])
    # input 3000 + 500 tool-use = 3500, of which 2048 cache reads; output 150 + 450 thoughts = 600
    expected = ((3500 - 2048) * 0.30 + 2048 * 0.03 + 600 * 2.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (3500, 600, 450)


def test_gemini_2_5_pro_long_context_price_above_200k_prompt_tokens(tmp_path):
    long_prompt = response("gemini-2.5-pro", usage_metadata(250_000, 2000, cached=100_000, thoughts=1000))
    short_prompt = response("gemini-2.5-pro", usage_metadata(200_000, 2000, cached=100_000, thoughts=1000))
    audit = audit_records(tmp_path, [long_prompt, short_prompt])
    above = (150_000 * 2.50 + 100_000 * 0.25 + 3000 * 15.00) / MTOK
    at_or_below = (100_000 * 1.25 + 100_000 * 0.125 + 3000 * 10.00) / MTOK
    assert costs(audit) == [pytest.approx(above, rel=1e-12), pytest.approx(at_or_below, rel=1e-12)]


def test_wrapped_response_takes_its_time_from_the_wrapper(tmp_path):
    record = {"ts": 1791036125, "latency_ms": 950, "user_id": "u_042",
              "request": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
              "response": response(FLASH, usage_metadata(400, 100, thoughts=250))}
    audit = audit_records(tmp_path, [record])
    row = only_row(audit)
    assert (row["format"], row["ts"].isoformat()) == ("wrapped-gemini-response", "2026-10-03T14:02:05+00:00")
    assert row["cost_usd"] == pytest.approx((400 * 0.30 + 350 * 2.50) / MTOK, rel=1e-12)


def _batch_line(key: str, create_time: str, prompt: int, candidates: int, cached: int, thoughts: int) -> dict[str, Any]:
    usage = usage_metadata(prompt, candidates, cached=cached, thoughts=thoughts)
    return {"key": key, "response": response(FLASH, usage, createTime=create_time)}


def test_batch_lines_are_half_price_before_and_after_the_catalogs_batch_start_and_errors_cost_nothing(tmp_path):
    before = "2026-10-03T14:22:05.123456Z"  # the catalog's batch prices start on 2026-10-14
    after = "2026-10-20T09:00:00.000000Z"
    error = {"key": "c", "error": {"code": 3, "message": "Request contains an invalid argument.",
                                   "status": "INVALID_ARGUMENT"}}
    audit = audit_records(tmp_path, [_batch_line("a", before, 5000, 300, 4096, 700),
                                     _batch_line("b", after, 5000, 300, 4096, 700), error])
    # 50% of $0.30 input and $2.50 output; cache reads stay at $0.03
    half = ((5000 - 4096) * 0.15 + 4096 * 0.03 + (300 + 700) * 1.25) / MTOK
    assert costs(audit) == [pytest.approx(half, rel=1e-12), pytest.approx(half, rel=1e-12), 0.0]
    frame = audit.priced.requests
    assert frame["mode"].to_list() == ["batch", "batch", "batch"]
    assert frame["custom_id"].to_list() == ["a", "b", "c"]
    assert frame["status"].to_list() == ["ok", "ok", "error"]
    assert (audit.report.requests, audit.report.failed, audit.report.unpriced_requests) == (3, 1, 0)
