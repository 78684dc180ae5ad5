"""Pricing: model-name resolution, long-context tiers, dated and time-of-day prices, batch/flex/priority,
failed and usage-less requests, and the reference line, checked against the providers' published prices.

Prices used (USD per million tokens unless stated):
  OpenAI (openai.com/api/pricing):
    gpt-4o (2024-08-06 and later): input 2.50, cached input 1.25, output 10.00
    gpt-4o-2024-05-13:              input 5.00, output 15.00
    gpt-4o-mini:                    input 0.15, output 0.60
    fine-tuned gpt-4o-mini:         input 0.30, output 1.20
    gpt-4.1:  standard input 2.00, cached 0.50, output 8.00; priority input 3.50, cached 0.875, output 14.00
    gpt-5:    standard input 1.25, cached 0.125, output 10.00; flex input 0.625, cached 0.0625, output 5.00
    o3:       input 10.00, output 40.00 until 2025-06-09; input 2.00, output 8.00 from 2025-06-10 (the 80% cut);
              flex at launch (April 2025): input 5.00, output 20.00; priority/standard ratio 3.50/2.00 = 1.75
  Anthropic (anthropic.com/pricing, docs.anthropic.com "Pricing", "Batch processing"):
    claude-haiku-4-5:  input 1.00, cache read 0.10, 5m cache write 1.25, 1h cache write 2.00, output 5.00
    claude-sonnet-4:   input 3.00, cache read 0.30, 5m cache write 3.75, output 15.00; Message Batches 50% off
    claude-sonnet-4-5: total input <= 200k: input 3.00, cache read 0.30, 5m write 3.75, output 15.00;
                       total input (uncached + cache read + cache write) > 200k, ALL tokens: input 6.00,
                       cache read 0.60, 5m write 7.50, output 22.50
    claude-sonnet-4-6: the > 200k premium (6.00 / 22.50) applied until 2026-03-12; from 2026-03-13 the whole
                       context window is at the standard 3.00 / 15.00
  Google (ai.google.dev/gemini-api/docs/pricing):
    gemini-2.5-pro: prompts <= 200k input 1.25, output 10.00; prompts > 200k input 2.50, output 15.00
    gemini-2.5-flash: input 0.30, output 2.50
  Google Vertex AI (cloud.google.com/vertex-ai/generative-ai/pricing): Claude 3.5 Sonnet v2 input 3.00, output 15.00
  AWS Bedrock (aws.amazon.com/bedrock/pricing):
    Claude Haiku 4.5: global cross-region input 1.00, output 5.00; regional/geo (us.) input 1.10, output 5.50
    Claude 3 Haiku: input 0.25, output 1.25
  DeepSeek (api-docs.deepseek.com/quick_start/pricing), deepseek-chat:
    standard hours 00:30-16:30 UTC: cache miss 0.27, cache hit 0.07, output 1.10
    off-peak 16:30-00:30 UTC (50% off): cache miss 0.135, cache hit 0.035, output 0.55
  genai-prices 0.2.3 only starts its flex/priority prices on 2026-10-12 and batch prices on 2026-10-14;
  routecost's README documents how older requests are priced (the catalog's variant/standard ratio times the
  standard price of the request's day, or the provider's published discount, each listed as an assumption).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routecost.audit import Audit
from tests.conftest import MTOK, audit_records, costs, only_row

OCT_20_2026 = 1_792_500_000
"""2026-10-20 (epoch seconds): after the catalog's flex/priority/batch start dates."""


def chat(model: str, prompt: int, completion: int, *, cached: int | None = None, created: int = OCT_20_2026,
         content: str = "hi", **extra: object) -> dict[str, Any]:
    """An OpenAI Chat Completions response body."""
    usage: dict[str, object] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return {"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": usage, **extra}


def message(model: str, input_tokens: int, output_tokens: int, *, cache_read: int | None = None,
            cache_write: int | None = None, cache_write_1h: int | None = None,
            service_tier: str | None = None) -> dict[str, Any]:
    """An Anthropic Messages response body (``input_tokens`` excludes cache reads and writes)."""
    usage: dict[str, object] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read is not None:
        usage["cache_read_input_tokens"] = cache_read
    if cache_write is not None:
        usage["cache_creation_input_tokens"] = cache_write
    if cache_write is not None and cache_write_1h is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_write - cache_write_1h,
                                   "ephemeral_1h_input_tokens": cache_write_1h}
    if service_tier is not None:
        usage["service_tier"] = service_tier
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "usage": usage}


def wrapped(body: dict[str, Any], ts: str, provider: str | None = None, **fields: object) -> dict[str, Any]:
    """The in-house wrapper around a response body, with a timestamp and optionally a provider."""
    record: dict[str, Any] = {"ts": ts, "request": {"model": body["model"]}, "response": body, **fields}
    if provider is not None:
        record["provider"] = provider
    return record


def litellm_payload(model: str, provider: str | None, prompt: int, completion: int) -> dict[str, Any]:
    """A LiteLLM StandardLoggingPayload whose priced model (``model_map_key``) is ``model``."""
    return {"id": "req-1", "call_type": "acompletion", "status": "success", "response_cost": 0.0,
            "startTime": float(OCT_20_2026), "endTime": OCT_20_2026 + 1.5, "model": model, "model_group": "default",
            "custom_llm_provider": provider, "prompt_tokens": prompt, "completion_tokens": completion,
            "model_map_information": {"model_map_key": model}}


def single_assumption(audit: Audit) -> str:
    assumptions = audit.report.assumptions
    assert len(assumptions) == 1, assumptions
    return assumptions[0]


# --- model names -------------------------------------------------------------------------------------------


def test_dated_snapshot_gets_its_base_model_price_and_an_old_snapshot_keeps_its_own(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [chat("gpt-4o-2024-08-06", 1000, 100), chat("gpt-4o-2024-05-13", 1000, 100)])
    assert costs(audit) == [pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-12),
                            pytest.approx((1000 * 5.00 + 100 * 15.00) / MTOK, rel=1e-12)]
    assert audit.priced.requests["model_id"].to_list() == ["openai/gpt-4o", "openai/gpt-4o-2024-05-13"]


@pytest.mark.parametrize(
    ("model", "provider", "model_id", "input_price", "output_price"),
    [
        ("openai/gpt-4o", "openai", "openai/gpt-4o", 2.50, 10.00),
        ("anthropic/claude-haiku-4-5", "anthropic", "anthropic/claude-haiku-4-5", 1.00, 5.00),
        ("bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock",
         "aws/regional.anthropic.claude-haiku-4-5-20251001-v1:0", 1.10, 5.50),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock",
         "aws/regional.anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
        ("vertex_ai/claude-3-5-sonnet-v2@20241022", "vertex_ai", "google/claude-3-5-sonnet", 3.00, 15.00),
        ("gemini/gemini-2.5-flash", "gemini", "google/gemini-2.5-flash", 0.30, 2.50),
    ],
)
def test_provider_prefixed_litellm_model_names_resolve(
    tmp_path: Path, model: str, provider: str, model_id: str, input_price: float, output_price: float
) -> None:
    row = only_row(audit_records(tmp_path, [litellm_payload(model, provider, 1200, 300)]))
    assert row["model_id"] == model_id
    assert row["cost_usd"] == pytest.approx((1200 * input_price + 300 * output_price) / MTOK, rel=1e-12)


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 1.10, 5.50),  # US geo endpoint: 10% over global
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", 1.00, 5.00),
    ],
)
def test_bedrock_model_ids_resolve_with_the_wrappers_provider(
    tmp_path: Path, model: str, input_price: float, output_price: float
) -> None:
    record = wrapped(message(model, 2000, 150), "2026-10-20T09:00:00Z", provider="bedrock")
    row = only_row(audit_records(tmp_path, [record]))
    assert row["model_id"] == "aws/" + model.replace("us.", "regional.", 1)
    assert row["cost_usd"] == pytest.approx((2000 * input_price + 150 * output_price) / MTOK, rel=1e-12)


def test_azure_model_is_priced_and_a_deployment_name_is_unpriced_with_a_hint_to_alias_it(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        wrapped(chat("gpt-4o", 1000, 100), "2026-10-20T09:00:00Z", provider="azure"),
        wrapped(chat("my-gpt4o-deployment", 1000, 100), "2026-10-20T09:01:00Z", provider="azure"),
    ])
    assert costs(audit) == [pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-12), None]
    assert audit.priced.requests["model_id"].to_list() == ["azure/gpt-4o", None]
    [unpriced] = audit.report.unpriced
    assert (unpriced.model, unpriced.provider) == ("my-gpt4o-deployment", "azure")
    assert "alias" in unpriced.reason


@pytest.mark.parametrize("provider", ["hosted_vllm", "openai_compatible"])
def test_self_hosted_provider_never_gets_openais_price(tmp_path: Path, provider: str) -> None:
    row = only_row(audit_records(tmp_path, [wrapped(chat("gpt-4o", 1000, 100), "2026-10-20T09:00:00Z",
                                                    provider=provider)]))
    assert row["cost_usd"] is None
    assert row["model_id"] is None
    assert "self-hosted" in row["unpriced_reason"]


@pytest.mark.parametrize("model", ["hosted_vllm/gpt-4o", "openai_compatible/gpt-4o", "custom_openai/gpt-4o"])
def test_self_hosted_provider_prefix_in_the_model_name_never_gets_openais_price(tmp_path: Path, model: str) -> None:
    # the provider is only in the LiteLLM-style prefix (a payload without custom_llm_provider)
    row = only_row(audit_records(tmp_path, [litellm_payload(model, None, 1000, 100)]))
    assert row["model_id"] is None
    assert row["cost_usd"] is None


def test_fine_tune_is_priced_at_the_fine_tune_rate(tmp_path: Path) -> None:
    row = only_row(audit_records(tmp_path, [chat("ft:gpt-4o-mini-2024-07-18:acme::abc", 4000, 500)]))
    assert row["model_id"] == "openai/ft:gpt-4o-mini"
    assert row["cost_usd"] == pytest.approx((4000 * 0.30 + 500 * 1.20) / MTOK, rel=1e-12)


def test_unknown_model_is_unpriced_listed_and_left_out_of_the_total(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [chat("acme-secret-7b", 1000, 100), chat("gpt-4o-2024-08-06", 1000, 100),
                                     chat("acme-secret-7b", 500, 40)])
    known = (1000 * 2.50 + 100 * 10.00) / MTOK
    assert costs(audit) == [None, pytest.approx(known, rel=1e-12), None]
    report = audit.report
    assert report.cost_usd == pytest.approx(known, rel=1e-12)
    assert report.unpriced_requests == 2
    [unpriced] = report.unpriced
    assert (unpriced.model, unpriced.requests, unpriced.input_tokens, unpriced.output_tokens) == (
        "acme-secret-7b", 2, 1500, 140)
    assert "not in the price catalog" in unpriced.reason
    assert [model.model for model in report.by_model] == ["openai/gpt-4o"]


# --- long-context tiers ------------------------------------------------------------------------------------


def test_long_context_tier_charges_every_token_above_200k_input(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [message("claude-sonnet-4-5-20250929", 200_000, 1000),
                                     message("claude-sonnet-4-5-20250929", 200_001, 1000)])
    at_threshold = (200_000 * 3.00 + 1000 * 15.00) / MTOK
    above = (200_001 * 6.00 + 1000 * 22.50) / MTOK
    assert costs(audit) == [pytest.approx(at_threshold, rel=1e-12), pytest.approx(above, rel=1e-12)]


def test_long_context_threshold_counts_cache_reads_and_writes(tmp_path: Path) -> None:
    # 1,000 uncached input tokens, 150,000 read from cache, 48,999 or 49,001 written: 199,999 vs 200,001 in all
    audit = audit_records(tmp_path, [
        message("claude-sonnet-4-5-20250929", 1000, 800, cache_read=150_000, cache_write=48_999),
        message("claude-sonnet-4-5-20250929", 1000, 800, cache_read=150_000, cache_write=49_001),
    ])
    below = (1000 * 3.00 + 150_000 * 0.30 + 48_999 * 3.75 + 800 * 15.00) / MTOK
    above = (1000 * 6.00 + 150_000 * 0.60 + 49_001 * 7.50 + 800 * 22.50) / MTOK
    assert costs(audit) == [pytest.approx(below, rel=1e-12), pytest.approx(above, rel=1e-12)]
    assert audit.priced.requests["input_tokens"].to_list() == [199_999, 200_001]


def test_gemini_long_context_tier(tmp_path: Path) -> None:
    # Gemini's OpenAI-compatible endpoint logs Chat Completions bodies
    audit = audit_records(tmp_path, [
        wrapped(chat("gemini-2.5-pro", 200_000, 2000), "2026-10-20T09:00:00Z", provider="google"),
        wrapped(chat("gemini-2.5-pro", 200_001, 2000), "2026-10-20T09:01:00Z", provider="google"),
    ])
    assert costs(audit) == [pytest.approx((200_000 * 1.25 + 2000 * 10.00) / MTOK, rel=1e-12),
                            pytest.approx((200_001 * 2.50 + 2000 * 15.00) / MTOK, rel=1e-12)]


def test_anthropic_cache_reads_and_5m_and_1h_writes_have_their_own_prices(tmp_path: Path) -> None:
    row = only_row(audit_records(tmp_path, [
        message("claude-haiku-4-5-20251001", 100, 200, cache_read=2000, cache_write=1500, cache_write_1h=500)]))
    # 100 uncached, 2000 cache reads, 1000 5-minute writes, 500 1-hour writes, 200 output
    expected = (100 * 1.00 + 2000 * 0.10 + 1000 * 1.25 + 500 * 2.00 + 200 * 5.00) / MTOK
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12)


# --- prices that depend on the date and the time of day ----------------------------------------------------


def test_price_change_applies_from_its_date(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        wrapped(chat("o3-2025-04-16", 3000, 900), "2025-06-09T23:59:59Z"),
        wrapped(chat("o3-2025-04-16", 3000, 900), "2025-06-10T00:00:00Z"),
    ])
    assert costs(audit) == [pytest.approx((3000 * 10.00 + 900 * 40.00) / MTOK, rel=1e-12),
                            pytest.approx((3000 * 2.00 + 900 * 8.00) / MTOK, rel=1e-12)]


def test_long_context_premium_ends_on_2026_03_13(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        wrapped(message("claude-sonnet-4-6", 250_000, 1000), "2026-03-12T23:30:00Z"),
        wrapped(message("claude-sonnet-4-6", 250_000, 1000), "2026-03-13T00:30:00Z"),
    ])
    assert costs(audit) == [pytest.approx((250_000 * 6.00 + 1000 * 22.50) / MTOK, rel=1e-12),
                            pytest.approx((250_000 * 3.00 + 1000 * 15.00) / MTOK, rel=1e-12)]


OFF_PEAK = (400 * 0.135 + 600 * 0.035 + 100 * 0.55) / MTOK
PEAK = (400 * 0.27 + 600 * 0.07 + 100 * 1.10) / MTOK


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        pytest.param("2026-10-20T00:29:59Z", OFF_PEAK, id="just-before-00:30"),
        pytest.param("2026-10-20T00:30:00Z", PEAK, id="00:30"),
        pytest.param("2026-10-20T16:29:59Z", PEAK, id="just-before-16:30"),
        pytest.param("2026-10-20T16:30:00Z", OFF_PEAK, id="16:30"),
        pytest.param("2026-10-20T23:00:00Z", OFF_PEAK, id="23:00"),
        pytest.param("2026-10-20T18:00:00+02:00", PEAK, id="16:00-utc-with-an-offset"),
    ],
)
def test_deepseek_off_peak_window(tmp_path: Path, ts: str, expected: float) -> None:
    # 1,000 prompt tokens of which 600 cache hits (400 misses), 100 output
    record = wrapped(chat("deepseek-chat", 1000, 100, cached=600), ts, provider="deepseek")
    assert costs(audit_records(tmp_path, [record])) == [pytest.approx(expected, rel=1e-12)]


# --- batch, flex, priority ---------------------------------------------------------------------------------


def test_flex_is_half_price_before_and_after_the_catalogs_flex_start(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        wrapped(chat("gpt-5-2025-08-07", 5000, 2000, cached=3000, service_tier="flex"), "2026-10-11T12:00:00Z"),
        wrapped(chat("gpt-5-2025-08-07", 5000, 2000, cached=3000, service_tier="flex",
                     id="chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcU"), "2026-10-12T12:00:00Z"),
    ])
    flex = (2000 * 0.625 + 3000 * 0.0625 + 2000 * 5.00) / MTOK
    assert costs(audit) == [pytest.approx(flex, rel=1e-12), pytest.approx(flex, rel=1e-12)]
    assert audit.priced.requests["price_context"].to_list() == ["flex", "flex"]
    assumption = single_assumption(audit)  # only the request before 2026-10-12 needed one
    assert "flex" in assumption and "openai/gpt-5" in assumption and "(1 requests)" in assumption


def test_flex_before_the_catalogs_start_is_the_ratio_times_the_standard_price_of_its_day(tmp_path: Path) -> None:
    # o3 flex launched in April 2025 at half of the then-standard $10/$40
    row = only_row(audit_records(tmp_path, [
        wrapped(chat("o3-2025-04-16", 3000, 900, service_tier="flex"), "2025-05-01T12:00:00Z")]))
    assert row["cost_usd"] == pytest.approx((3000 * 5.00 + 900 * 20.00) / MTOK, rel=1e-12)


def test_priority_costs_the_priority_price_and_before_its_start_the_same_by_ratio(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        wrapped(chat("gpt-4.1-2025-04-14", 5000, 700, cached=2000, service_tier="priority"), "2026-10-11T12:00:00Z"),
        wrapped(chat("gpt-4.1-2025-04-14", 5000, 700, cached=2000, service_tier="priority",
                     id="chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcU"), "2026-10-12T12:00:00Z"),
        wrapped(chat("gpt-4.1-2025-04-14", 5000, 700, cached=2000, service_tier="default",
                     id="chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcV"), "2026-10-12T12:00:00Z"),
    ])
    priority = (3000 * 3.50 + 2000 * 0.875 + 700 * 14.00) / MTOK
    standard = (3000 * 2.00 + 2000 * 0.50 + 700 * 8.00) / MTOK
    assert costs(audit) == [pytest.approx(priority, rel=1e-12), pytest.approx(priority, rel=1e-12),
                            pytest.approx(standard, rel=1e-12)]
    assumption = single_assumption(audit)
    assert all(part in assumption for part in ("priority", "2026-10-12", "openai/gpt-4.1", "ratio", "(1 requests)"))


def test_priority_before_the_catalogs_start_scales_the_standard_price_of_its_day(tmp_path: Path) -> None:
    # documented assumption: o3's standard price on 2025-05-01 ($10/$40) times the catalog's 3.50/2.00 ratio
    row = only_row(audit_records(tmp_path, [
        wrapped(chat("o3-2025-04-16", 3000, 900, service_tier="priority"), "2025-05-01T12:00:00Z")]))
    assert row["cost_usd"] == pytest.approx((3000 * 10.00 * 1.75 + 900 * 40.00 * 1.75) / MTOK, rel=1e-12)


def test_batch_on_a_model_without_a_catalog_batch_price_gets_the_published_discount(tmp_path: Path) -> None:
    # claude-sonnet-4 has no batch price in the catalog; Message Batches are 50% off every token class
    audit = audit_records(tmp_path, [
        message("claude-sonnet-4-20250514", 400, 300, cache_read=5000, cache_write=1000, service_tier="batch")])
    row = only_row(audit)
    expected = (400 * 1.50 + 5000 * 0.15 + 1000 * 1.875 + 300 * 7.50) / MTOK
    assert (row["mode"], row["price_context"]) == ("batch", "batch")
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12)
    assumption = next(line for line in audit.report.assumptions if "batch" in line)
    assert "anthropic/claude-sonnet-4-0" in assumption and "published batch discount" in assumption


# --- failed requests, missing usage ------------------------------------------------------------------------


def test_failed_requests_cost_nothing_and_are_not_unpriced(tmp_path: Path) -> None:
    def failed(model: str) -> dict[str, Any]:
        return {"ts": "2026-10-20T09:00:00Z", "status": "error", "http_status": 500,
                "request": {"model": model, "messages": [{"role": "user", "content": "Summarise this"}]},
                "response": {"error": {"message": "internal error", "type": "server_error"}}}

    ok = wrapped(chat("gpt-4o-2024-08-06", 1000, 100), "2026-10-20T09:02:00Z")
    audit = audit_records(tmp_path, [failed("gpt-4o"), failed("acme-secret-7b"), ok])
    expected = (1000 * 2.50 + 100 * 10.00) / MTOK
    assert costs(audit) == [0.0, 0.0, pytest.approx(expected, rel=1e-12)]
    report = audit.report
    assert (report.requests, report.failed, report.unpriced_requests, report.unpriced) == (3, 2, 0, [])
    assert report.cost_usd == pytest.approx(expected, rel=1e-12)


def test_request_without_usage_or_text_is_unpriced_for_want_of_usage(tmp_path: Path) -> None:
    body = chat("gpt-4o-2024-08-06", 0, 0, content="")
    del body["usage"]
    audit = audit_records(tmp_path, [body])
    row = only_row(audit)
    assert row["cost_usd"] is None
    assert "no usage" in row["unpriced_reason"]
    assert audit.report.unpriced_requests == 1
    [unpriced] = audit.report.unpriced
    assert unpriced.model == "gpt-4o-2024-08-06" and "no usage" in unpriced.reason


# --- the reference line ------------------------------------------------------------------------------------


def test_reference_prices_all_priced_traffic_on_the_most_expensive_model_used(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [
        chat("gpt-4o-2024-08-06", 1000, 100, cached=400),
        chat("gpt-4o-mini-2024-07-18", 20_000, 3000),
        chat("acme-secret-7b", 50_000, 5000),  # unpriced: not in the reference either
    ])
    assert costs(audit)[:2] == [pytest.approx((600 * 2.50 + 400 * 1.25 + 100 * 10.00) / MTOK, rel=1e-12),
                                pytest.approx((20_000 * 0.15 + 3000 * 0.60) / MTOK, rel=1e-12)]
    cheapest, priciest = audit.report.references
    assert priciest.model == "openai/gpt-4o"
    # both models use the o200k encoding, so token counts carry over as they are; the gpt-4o request
    # keeps its cache reads (same model), the gpt-4o-mini one had none
    expected = (600 * 2.50 + 400 * 1.25 + 100 * 10.00 + 20_000 * 2.50 + 3000 * 10.00) / MTOK
    assert priciest.cost_usd == pytest.approx(expected, rel=1e-12)
    # on gpt-4o-mini the gpt-4o request's cache reads go cold: all 1000 input tokens at the input price
    assert cheapest.model == "openai/gpt-4o-mini"
    assert cheapest.cost_usd == pytest.approx((1000 * 0.15 + 100 * 0.60 + 20_000 * 0.15 + 3000 * 0.60) / MTOK,
                                              rel=1e-12)


def test_reference_keeps_each_requests_own_long_context_tier_on_its_day(tmp_path: Path) -> None:
    # before 2026-03-13 claude-sonnet-4-6 had the > 200k premium: only the long request pays it
    audit = audit_records(tmp_path, [
        wrapped(message("claude-sonnet-4-6", 250_000, 1000), "2026-03-01T10:00:00Z"),
        wrapped(message("claude-sonnet-4-6", 1000, 100), "2026-03-01T11:00:00Z"),
    ])
    expected = (250_000 * 6.00 + 1000 * 22.50 + 1000 * 3.00 + 100 * 15.00) / MTOK
    assert audit.report.cost_usd == pytest.approx(expected, rel=1e-12)
    for reference in audit.report.references:  # one model: it is both the cheapest and the priciest
        assert reference.model == "anthropic/claude-sonnet-4-6"
        assert reference.cost_usd == pytest.approx(expected, rel=1e-12)
