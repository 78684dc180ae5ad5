"""The price file (``--prices``): aliases, the user's own model prices, negotiated discounts, and errors that
point at the offending line and column.

Catalog prices used (USD per million tokens):
  OpenAI (openai.com/api/pricing): gpt-4o input 2.50, output 10.00; gpt-4o-mini input 0.15, output 0.60;
    gpt-4.1 input 2.00, output 8.00; fine-tuned gpt-4o-mini input 0.30, output 1.20
  Azure OpenAI (azure.microsoft.com/pricing/details/cognitive-services/openai-service): gpt-4o global
    input 2.50, output 10.00
  Anthropic (anthropic.com/pricing): claude-haiku-4-5 input 1.00, output 5.00
The user's own prices are the ones written in each test's price file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from routecost.yamlfile import YamlError
from tests.conftest import MTOK, audit_records, costs, only_row

OCT_20_2026 = 1_792_500_000


def price_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "prices.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def chat(model: str, prompt: int, completion: int, *, cached: int | None = None,
         reasoning: int | None = None) -> dict[str, Any]:
    """An OpenAI Chat Completions response body."""
    usage: dict[str, object] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": OCT_20_2026, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": usage}


def message(model: str, input_tokens: int, output_tokens: int, *, cache_read: int, cache_write: int,
            cache_write_1h: int) -> dict[str, Any]:
    """An Anthropic Messages response body (``input_tokens`` excludes cache reads and writes)."""
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_read_input_tokens": cache_read,
             "cache_creation_input_tokens": cache_write,
             "cache_creation": {"ephemeral_5m_input_tokens": cache_write - cache_write_1h,
                                "ephemeral_1h_input_tokens": cache_write_1h}}
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "usage": usage}


def from_provider(body: dict[str, Any], provider: str) -> dict[str, Any]:
    """The body in the in-house wrapper, which names the provider."""
    return {"ts": "2026-10-20T09:00:00Z", "provider": provider, "request": {"model": body["model"]},
            "response": body}


# --- aliases -----------------------------------------------------------------------------------------------


def test_exact_alias_prices_an_azure_deployment_name(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        aliases:
          my-gpt4o-deployment: azure/gpt-4o
    """)
    row = only_row(audit_records(tmp_path, [from_provider(chat("my-gpt4o-deployment", 1000, 100), "azure")],
                                 prices=prices))
    assert row["model_id"] == "azure/gpt-4o"
    assert row["cost_usd"] == pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-12)


def test_glob_alias_prices_every_matching_fine_tune(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        aliases:
          "ft:gpt-4o-mini-2024-07-18:acme:*": openai/ft:gpt-4o-mini-2024-07-18
    """)
    audit = audit_records(tmp_path, [chat("ft:gpt-4o-mini-2024-07-18:acme::abc123", 4000, 500),
                                     chat("ft:gpt-4o-mini-2024-07-18:acme:support:def456", 2000, 100)], prices=prices)
    assert costs(audit) == [pytest.approx((4000 * 0.30 + 500 * 1.20) / MTOK, rel=1e-12),
                            pytest.approx((2000 * 0.30 + 100 * 1.20) / MTOK, rel=1e-12)]
    assert audit.priced.requests["model_id"].to_list() == ["openai/ft:gpt-4o-mini", "openai/ft:gpt-4o-mini"]


def test_exact_alias_wins_over_a_glob_listed_before_it(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        aliases:
          "team-*": openai/gpt-4o
          team-cheap: openai/gpt-4o-mini
    """)
    audit = audit_records(tmp_path, [chat("team-cheap", 1000, 100), chat("team-smart", 1000, 100)], prices=prices)
    assert audit.priced.requests["model_id"].to_list() == ["openai/gpt-4o-mini", "openai/gpt-4o"]
    assert costs(audit) == [pytest.approx((1000 * 0.15 + 100 * 0.60) / MTOK, rel=1e-12),
                            pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-12)]


# --- the user's own model prices ---------------------------------------------------------------------------


def test_own_model_prices_a_self_hosted_model_via_a_glob_alias(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        aliases:
          "llama-3-70b-*": acme-llama-3-70b
        models:
          acme-llama-3-70b: {input_mtok: 0.60, output_mtok: 0.80, cache_read_mtok: 0.15}
    """)
    audit = audit_records(tmp_path, [
        from_provider(chat("acme-llama-3-70b", 3000, 400, cached=1000), "hosted_vllm"),
        from_provider(chat("llama-3-70b-instruct-awq", 2000, 100), "hosted_vllm"),
    ], prices=prices)
    assert audit.priced.requests["model_id"].to_list() == ["acme-llama-3-70b", "acme-llama-3-70b"]
    assert costs(audit) == [pytest.approx((2000 * 0.60 + 1000 * 0.15 + 400 * 0.80) / MTOK, rel=1e-12),
                            pytest.approx((2000 * 0.60 + 100 * 0.80) / MTOK, rel=1e-12)]
    assert audit.report.unpriced == []


def test_own_model_cache_reads_default_to_the_input_price_and_a_request_price_is_added(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        models:
          acme-router: {input_mtok: 1.00, output_mtok: 2.00, request_price: 0.004}
    """)
    row = only_row(audit_records(tmp_path, [chat("acme-router", 3000, 400, cached=1000)], prices=prices))
    assert row["cost_usd"] == pytest.approx((2000 * 1.00 + 1000 * 1.00 + 400 * 2.00) / MTOK + 0.004, rel=1e-12)


def test_own_model_prices_cache_writes_by_ttl_and_reasoning_separately(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        models:
          acme-claude-proxy:
            input_mtok: 2.00
            output_mtok: 10.00
            cache_read_mtok: 0.20
            cache_write_mtok: 2.50
            cache_write_1h_mtok: 4.00
          acme-thinker: {input_mtok: 1.00, output_mtok: 4.00, reasoning_mtok: 3.00}
    """)
    audit = audit_records(tmp_path, [
        message("acme-claude-proxy", 100, 200, cache_read=2000, cache_write=1500, cache_write_1h=500),
        chat("acme-thinker", 1000, 900, reasoning=600),
    ], prices=prices)
    # 100 uncached, 2000 cache reads, 1000 5-minute writes, 500 1-hour writes, 200 output
    proxy = (100 * 2.00 + 2000 * 0.20 + 1000 * 2.50 + 500 * 4.00 + 200 * 10.00) / MTOK
    # 900 output of which 600 reasoning
    thinker = (1000 * 1.00 + 300 * 4.00 + 600 * 3.00) / MTOK
    assert costs(audit) == [pytest.approx(proxy, rel=1e-12), pytest.approx(thinker, rel=1e-12)]


# --- discounts ---------------------------------------------------------------------------------------------


def test_discounts_by_provider_and_by_model_where_the_model_wins(tmp_path: Path) -> None:
    prices = price_file(tmp_path, """
        discounts:
          openai: 20
          openai/gpt-4o: 10
          openai/gpt-4o-mini: 0
          anthropic: 5
    """)
    audit = audit_records(tmp_path, [
        chat("gpt-4o-2024-08-06", 1000, 100),
        chat("gpt-4.1-2025-04-14", 1000, 100),
        chat("gpt-4o-mini-2024-07-18", 1000, 100),
        from_provider(chat("gpt-4o", 1000, 100), "azure"),
        {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
         "content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 1000, "output_tokens": 100}},
    ], prices=prices)
    assert costs(audit) == [
        pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK * 0.90, rel=1e-12),  # its own 10%, not openai's 20%
        pytest.approx((1000 * 2.00 + 100 * 8.00) / MTOK * 0.80, rel=1e-12),   # openai's 20%
        pytest.approx((1000 * 0.15 + 100 * 0.60) / MTOK, rel=1e-12),          # its own 0% wins
        pytest.approx((1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-12),         # azure: no discount
        pytest.approx((1000 * 1.00 + 100 * 5.00) / MTOK * 0.95, rel=1e-12),   # anthropic's 5%
    ]


# --- validation errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        pytest.param("""
            aliases:
              smart: openai/gpt-4o
            discount:
              openai: 10
        """, 3, 1, "unknown key 'discount'", id="unknown-top-level-key"),
        pytest.param("""
            models:
              acme:
                input_mtok: 1.0
                output_mtok: 2.0
                cached_mtok: 0.5
        """, 5, 5, "unknown key 'cached_mtok'", id="unknown-model-price-key"),
        pytest.param("""
            models:
              acme:
                input_mtok: 1.0
                output_mtok: -2.0
        """, 4, 5, "a price is a finite number >= 0", id="negative-price"),
        pytest.param("""
            models:
              acme:
                input_mtok: .nan
                output_mtok: 2.0
        """, 3, 5, "a price is a finite number >= 0", id="nan-price"),
        pytest.param("""
            models:
              acme:
                input_mtok: 1.0
                output_mtok: .inf
        """, 4, 5, "a price is a finite number >= 0", id="infinite-price"),
        pytest.param("""
            discounts:
              openai: .nan
        """, 2, 3, "between 0 and 100", id="nan-discount"),
        pytest.param("""
            tokenizer_ratios:
              anthropic: .inf
        """, 2, 3, "a ratio is a finite number > 0", id="infinite-tokenizer-ratio"),
        pytest.param("""
            discounts:
              openai: 10
              anthropic/claude-haiku-4-5: 120
        """, 3, 3, "between 0 and 100", id="discount-over-100"),
        pytest.param("""
            models:
              acme:
                input_mtok: 1.0
        """, 2, 3, "`output_mtok` is required", id="missing-output-price"),
        pytest.param("""
            aliases:
              smart: anthropic/claude: sonnet
        """, 2, 26, "invalid YAML", id="bad-yaml"),
    ],
)
def test_price_file_errors_name_the_line_and_column(
    tmp_path: Path, text: str, line: int, column: int, problem: str
) -> None:
    prices = price_file(tmp_path, text)
    with pytest.raises(YamlError) as raised:
        audit_records(tmp_path, [chat("gpt-4o", 10, 10)], prices=prices)
    message_text = str(raised.value)
    assert message_text.startswith(f"{prices}:{line}:{column}: ")
    assert problem in message_text
