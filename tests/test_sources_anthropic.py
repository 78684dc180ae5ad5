"""Anthropic Messages responses (bare and wrapped) and Message Batches results, priced from Anthropic's
published prices.

Prices used (USD per million tokens, claude.com/pricing and docs.claude.com "Pricing"):
  claude-sonnet-4-5: input 3.00, output 15.00, cache write 5m 3.75, cache write 1h 6.00, cache read 0.30;
                     prompts over 200k input tokens (input + cache reads + cache writes): input 6.00,
                     output 22.50, cache write 5m 7.50, cache write 1h 12.00, cache read 0.60
  claude-haiku-4-5:  input 1.00, output 5.00, cache write 5m 1.25, cache write 1h 2.00, cache read 0.10
  Message Batches:   50% of every token price above, cache reads and writes included
  Web search:        $10 per 1,000 searches
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, audit_records, costs, only_row, write_jsonl

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
BEFORE_BATCH_PRICES = "2026-10-03T14:22:05Z"  # the catalog's batch prices start on 2026-10-14
AFTER_BATCH_PRICES = "2026-10-20T09:00:00Z"


def message(model: str, input_tokens: int, output_tokens: int, *, cache_read: int | None = 0,
            cache_write: int | None = 0, split: tuple[int, int] | None = None, service_tier: str = "standard",
            **usage_extra: object) -> dict[str, Any]:
    """A Messages API response; ``split`` is (5m, 1h) cache writes as ``usage.cache_creation``."""
    usage: dict[str, Any] = {"input_tokens": input_tokens, "cache_creation_input_tokens": cache_write,
                             "cache_read_input_tokens": cache_read, "output_tokens": output_tokens,
                             "service_tier": service_tier, **usage_extra}
    if split is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": split[0], "ephemeral_1h_input_tokens": split[1]}
    return {"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "Hello!"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": usage}


def wrapped(ts: str, response: dict[str, Any]) -> dict[str, Any]:
    return {"ts": ts, "latency_ms": 1840, "user_id": "u_042",
            "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "Be brief.",
                        "messages": [{"role": "user", "content": "Hello"}]},
            "response": response}


def audit_as_of(tmp_path: Path, records: list[dict[str, Any]], as_of: datetime) -> Audit:
    """Audit records that carry no timestamp, priced at the prices of ``as_of``."""
    path = write_jsonl(tmp_path / "results.jsonl", records)
    return run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=as_of))


def test_input_tokens_exclude_cache_reads(tmp_path):
    audit = audit_records(tmp_path, [message(SONNET, 38, 412, cache_read=18250, split=(0, 0))])
    # 38 uncached at $3, 18250 cache reads at $0.30, 412 output at $15
    expected = (38 * 3.00 + 18250 * 0.30 + 412 * 15.00) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["cache_read_tokens"], row["model_id"]) == (
        38 + 18250, 18250, "anthropic/claude-sonnet-4-5")
    assert row["format"] == "anthropic-message"


def test_cache_writes_are_priced_by_their_5m_and_1h_split(tmp_path):
    audit = audit_records(tmp_path, [message(SONNET, 12, 61, cache_read=500, cache_write=3000, split=(1000, 2000))])
    # 12 uncached at $3, 500 reads at $0.30, 1000 5-minute writes at $3.75, 2000 1-hour writes at $6, 61 out at $15
    expected = (12 * 3.00 + 500 * 0.30 + 1000 * 3.75 + 2000 * 6.00 + 61 * 15.00) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["cache_write_tokens"], row["cache_write_1h_tokens"]) == (12 + 500 + 3000, 3000, 2000)


def test_cache_writes_without_a_split_are_5_minute_writes(tmp_path):
    audit = audit_records(tmp_path, [message(SONNET, 12, 61, cache_write=3000)])
    expected = (12 * 3.00 + 3000 * 3.75 + 61 * 15.00) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    assert only_row(audit)["input_tokens"] == 3012


def test_null_cache_fields_are_no_cache(tmp_path):
    audit = audit_records(tmp_path, [message(HAIKU, 2210, 14, cache_read=None, cache_write=None)])
    assert costs(audit) == [pytest.approx((2210 * 1.00 + 14 * 5.00) / MTOK, rel=1e-12)]


def test_thinking_tokens_are_inside_output_tokens_and_not_billed_twice(tmp_path):
    record = message(HAIKU, 900, 1450, output_tokens_details={"thinking_tokens": 1216})
    audit = audit_records(tmp_path, [record])
    assert costs(audit) == [pytest.approx((900 * 1.00 + 1450 * 5.00) / MTOK, rel=1e-12)]
    assert only_row(audit)["reasoning_tokens"] == 1216


def test_web_search_requests_cost_10_dollars_per_thousand(tmp_path):
    record = message(SONNET, 2100, 350, server_tool_use={"web_search_requests": 3})
    audit = audit_records(tmp_path, [record])
    expected = (2100 * 3.00 + 350 * 15.00) / MTOK + 3 * 10.00 / 1000
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]


def test_long_context_price_applies_when_cache_reads_take_the_prompt_over_200k(tmp_path):
    # only 10,000 uncached tokens, but 10,000 + 195,000 cache reads = 205,000 > 200,000 input tokens
    audit = audit_records(tmp_path, [message(SONNET, 10_000, 1000, cache_read=195_000)])
    expected = (10_000 * 6.00 + 195_000 * 0.60 + 1000 * 22.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]


def test_wrapped_message_takes_time_and_user_from_the_wrapper(tmp_path):
    record = wrapped("2026-10-03T14:22:05Z", message(SONNET, 38, 61, cache_read=1200, cache_write=800))
    audit = audit_records(tmp_path, [record])
    row = only_row(audit)
    assert row["format"] == "wrapped-anthropic-message"
    assert (row["ts"].isoformat(), row["latency_ms"], row["user"]) == ("2026-10-03T14:22:05+00:00", 1840.0, "u_042")
    expected = (38 * 3.00 + 1200 * 0.30 + 800 * 3.75 + 61 * 15.00) / MTOK
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-12)


def test_wrapped_anthropic_error_costs_nothing_and_is_counted_as_failed(tmp_path):
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
             "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    audit = audit_records(tmp_path, [wrapped("2026-10-03T14:22:05Z", error),
                                     wrapped("2026-10-03T14:22:09Z", message(HAIKU, 100, 20))])
    assert costs(audit) == [0.0, pytest.approx((100 * 1.00 + 20 * 5.00) / MTOK, rel=1e-12)]
    assert (audit.report.requests, audit.report.failed, audit.report.unpriced_requests) == (2, 1, 0)


@pytest.mark.parametrize("ts", [BEFORE_BATCH_PRICES, AFTER_BATCH_PRICES])
def test_service_tier_batch_halves_every_token_price(tmp_path, ts):
    response = message(SONNET, 40, 300, cache_read=2000, cache_write=1000, split=(600, 400), service_tier="batch")
    audit = audit_records(tmp_path, [wrapped(ts, response)])
    # 50% of $3 input, $0.30 cache read, $3.75 5m write, $6 1h write, $15 output
    expected = (40 * 1.50 + 2000 * 0.15 + 600 * 1.875 + 400 * 3.00 + 300 * 7.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["mode"], row["price_context"]) == ("batch", "batch")


def _result(custom_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"custom_id": custom_id, "result": result}


@pytest.mark.parametrize("as_of", [datetime(2026, 10, 3, tzinfo=UTC), AS_OF])
def test_batch_results_are_half_price_and_unsucceeded_ones_cost_nothing(tmp_path, as_of):
    succeeded = message(HAIKU, 40, 300, cache_read=2000, cache_write=1000, split=(600, 400), service_tier="batch")
    errored = {"type": "errored", "error": {"type": "error", "error": {
        "type": "invalid_request_error", "message": "max_tokens: Field required"}}}
    records = [_result("a", {"type": "succeeded", "message": succeeded}), _result("b", errored),
               _result("c", {"type": "canceled"}), _result("d", {"type": "expired"})]
    audit = audit_as_of(tmp_path, records, as_of)
    # 50% of haiku's $1 input, $0.10 cache read, $1.25 5m write, $2 1h write, $5 output
    expected = (40 * 0.50 + 2000 * 0.05 + 600 * 0.625 + 400 * 1.00 + 300 * 2.50) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12), 0.0, 0.0, 0.0]
    frame = audit.priced.requests
    assert frame["status"].to_list() == ["ok", "error", "cancelled", "expired"]
    assert frame["custom_id"].to_list() == ["a", "b", "c", "d"]
    assert set(frame["mode"].to_list()) == {"batch"}
    assert (audit.report.requests, audit.report.failed, audit.report.unpriced_requests) == (4, 3, 0)


def test_batch_results_join_their_requests_by_custom_id(tmp_path):
    request = {"custom_id": "b", "params": {"model": HAIKU, "max_tokens": 1024,
                                            "messages": [{"role": "user", "content": "Summarise"}]}}
    result_a = _result("a", {"type": "succeeded", "message": message(HAIKU, 10, 1, service_tier="batch")})
    result_b = _result("b", {"type": "succeeded", "message": message(HAIKU, 10, 1, service_tier="batch")})
    audit = audit_records(tmp_path, [result_a, request, result_b])
    frame = audit.priced.requests
    assert frame["custom_id"].to_list() == ["a", "b"]
    assert frame["request_offset"].to_list()[0] is None
    assert frame["request_offset"].to_list()[1] is not None
    assert costs(audit) == [pytest.approx((10 * 0.50 + 1 * 2.50) / MTOK, rel=1e-12)] * 2
