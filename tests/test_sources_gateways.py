"""Gateway and observability exports (LiteLLM, Langfuse, Helicone, Portkey, OpenRouter) and the user's own
YAML mapping, priced from the providers' published prices.

Prices used (USD per million tokens):
  openai.com/api/pricing:
    gpt-4o:       input 2.50, cached input 1.25, output 10.00
    gpt-4o-mini:  input 0.15, cached input 0.075, output 0.60
    gpt-4.1-mini: input 0.40, cached input 0.10, output 1.60
    o4-mini:      input 1.10, cached input 0.275, output 4.40
  claude.com/pricing:
    claude-sonnet-4-5: input 3.00, output 15.00, cache write 5m 3.75, cache write 1h 6.00, cache read 0.30
    claude-haiku-4-5:  input 1.00, output 5.00, cache write 5m 1.25, cache write 1h 2.00, cache read 0.10
  openrouter.ai/models: OpenRouter passes the provider's price through
    openai/gpt-4o-mini:          input 0.15, cached input 0.075, output 0.60
    anthropic/claude-sonnet-4.5: input 3.00, output 15.00
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, audit_records, costs, only_row

START = 1791036125.25  # 2026-10-03 14:02:05.25 UTC, as LiteLLM logs it (epoch float seconds)


def audit_file(path: Path) -> Audit:
    return run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))


# --- LiteLLM StandardLoggingPayload -------------------------------------------------------------------


def litellm_payload(*, model_map_key: str | None, litellm_model_name: str, provider: str, prompt: int,
                    completion: int, cost: float, usage_object: dict[str, Any], model: str = "gpt-4o",
                    model_group: str = "gpt-4o", cache_hit: bool = False, status: str = "success") -> dict[str, Any]:
    """A payload as LiteLLM's proxy logs it; ``model``/``model_group`` are what the caller asked for."""
    return {
        "id": "739ee8a2-6006-4edf-bb8e-b5d23726d6ac", "trace_id": "fcc3a2fd-e65f-48bf-a0bb-6968a9ed6358",
        "call_type": "acompletion", "stream": False, "response_cost": cost, "status": status,
        "custom_llm_provider": provider, "total_tokens": prompt + completion, "prompt_tokens": prompt,
        "completion_tokens": completion, "startTime": START, "endTime": START + 1.5,
        "completionStartTime": START + 0.4, "response_time": 1.5,
        "model_map_information": None if model_map_key is None else {"model_map_key": model_map_key,
                                                                     "model_map_value": None},
        "model": model, "model_id": "4ae53c4919284af8", "model_group": model_group,
        "api_base": "https://api.openai.com/v1",
        "metadata": {"user_api_key_hash": "7ced7c4a", "user_api_key_alias": "prod", "user_api_key_user_id": "u_115",
                     "spend_logs_metadata": {"feature": "science-qa"}, "requester_metadata": {},
                     "usage_object": usage_object},
        "cache_hit": cache_hit, "cache_key": None, "saved_cache_cost": 0.0, "request_tags": ["category:stem"],
        "end_user": "u_115", "messages": [{"role": "user", "content": "Hi"}], "response": {},
        "hidden_params": {"model_id": "4ae53c4919284af8", "cache_key": None, "api_base": "https://api.openai.com/v1",
                          "response_cost": cost, "litellm_model_name": litellm_model_name},
    }


def openai_usage(prompt: int, completion: int, cached: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": None},
            "completion_tokens_details": {"reasoning_tokens": 0}}


def anthropic_usage(prompt: int, completion: int, read: int, write_5m: int, write_1h: int) -> dict[str, Any]:
    """LiteLLM's usage object for an Anthropic call; the 5m/1h split sits in ``prompt_tokens_details``."""
    write = write_5m + write_1h
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "completion_tokens_details": {"reasoning_tokens": 0, "text_tokens": completion},
            "prompt_tokens_details": {"cached_tokens": read, "cache_creation_tokens": write,
                                      "cache_creation_token_details": {"ephemeral_5m_input_tokens": write_5m,
                                                                       "ephemeral_1h_input_tokens": write_1h}},
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read}


MINI = (304 * 0.15 + 1536 * 0.075 + 22 * 0.60) / MTOK
"""gpt-4o-mini, 1840 prompt tokens of which 1536 cached, 22 output: uncached 304 at $0.15, cached at $0.075."""


@pytest.mark.parametrize("model_map_key", ["gpt-4o-mini-2024-07-18", None])
def test_litellm_payload_prices_the_model_litellm_sent_not_the_model_group(tmp_path, model_map_key):
    record = litellm_payload(model_map_key=model_map_key, litellm_model_name="openai/gpt-4o-mini-2024-07-18",
                             provider="openai", prompt=1840, completion=22, cost=MINI,
                             usage_object=openai_usage(1840, 22, cached=1536))
    audit = audit_records(tmp_path, [record])
    assert costs(audit) == [pytest.approx(MINI, rel=1e-12)]
    row = only_row(audit)
    assert (row["model_id"], row["cache_read_tokens"], row["latency_ms"]) == ("openai/gpt-4o-mini", 1536, 1500.0)
    assert (row["format"], row["user"], row["ts"].isoformat()) == (
        "litellm-payload", "u_115", "2026-10-03T14:02:05.250000+00:00")


def test_litellm_response_cost_is_reconciled_row_by_row(tmp_path):
    usage = openai_usage(1840, 22, cached=1536)
    right = litellm_payload(model_map_key="gpt-4o-mini-2024-07-18", litellm_model_name="openai/gpt-4o-mini",
                            provider="openai", prompt=1840, completion=22, cost=MINI, usage_object=usage)
    ten_percent_off = {**right, "response_cost": MINI * 1.10}
    audit = audit_records(tmp_path, [right, ten_percent_off])
    reconciliation = audit.report.reconciliation
    assert reconciliation is not None
    assert (reconciliation.requests, reconciliation.differing) == (2, 1)
    assert reconciliation.examples[0].where.endswith("log.jsonl:2")
    assert reconciliation.logged_usd == pytest.approx(MINI * 2.10, rel=1e-12)
    assert reconciliation.computed_usd == pytest.approx(MINI * 2, rel=1e-12)


def test_litellm_response_cache_hit_and_failure_cost_nothing(tmp_path):
    usage = openai_usage(1840, 22, cached=1536)
    cache_hit = litellm_payload(model_map_key="gpt-4o-mini-2024-07-18", litellm_model_name="openai/gpt-4o-mini",
                                provider="openai", prompt=1840, completion=22, cost=0.0, usage_object=usage,
                                cache_hit=True)
    failure = {**cache_hit, "cache_hit": False, "status": "failure", "prompt_tokens": 0, "completion_tokens": 0}
    audit = audit_records(tmp_path, [cache_hit, failure])
    assert costs(audit) == [0.0, 0.0]
    assert (audit.report.requests, audit.report.successful, audit.report.failed) == (2, 1, 1)


def test_litellm_anthropic_cache_writes_are_added_back_when_prompt_tokens_left_them_out(tmp_path):
    # 50 uncached + 3000 cache reads + 1200 cache writes; LiteLLM v1.74.9 logged prompt_tokens = 50 + 3000
    expected = (50 * 3.00 + 3000 * 0.30 + 1200 * 3.75 + 400 * 15.00) / MTOK
    records = [
        litellm_payload(model_map_key="claude-sonnet-4-5", litellm_model_name="anthropic/claude-sonnet-4-5",
                        provider="anthropic", prompt=prompt, completion=400, cost=expected,
                        usage_object=anthropic_usage(prompt, 400, read=3000, write_5m=1200, write_1h=0),
                        model="anthropic/claude-sonnet-4-5", model_group="claude-default")
        for prompt in (50 + 3000, 50 + 3000 + 1200)  # writes left out (old LiteLLM), writes included (current)
    ]
    audit = audit_records(tmp_path, records)
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)] * 2
    assert audit.priced.requests["input_tokens"].to_list() == [4250, 4250]
    assert audit.priced.requests["cache_write_tokens"].to_list() == [1200, 1200]


def test_litellm_anthropic_1h_cache_writes_are_priced_at_the_1h_rate(tmp_path):
    expected = (50 * 3.00 + 3000 * 0.30 + 200 * 3.75 + 1000 * 6.00 + 400 * 15.00) / MTOK
    record = litellm_payload(model_map_key="claude-sonnet-4-5", litellm_model_name="anthropic/claude-sonnet-4-5",
                             provider="anthropic", prompt=4250, completion=400, cost=expected,
                             usage_object=anthropic_usage(4250, 400, read=3000, write_5m=200, write_1h=1000),
                             model="anthropic/claude-sonnet-4-5", model_group="claude-default")
    audit = audit_records(tmp_path, [record])
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    assert only_row(audit)["cache_write_1h_tokens"] == 1000


# --- LiteLLM_SpendLogs --------------------------------------------------------------------------------


def spend_log(request_id: str, *, model: str, provider: str, prompt: int, completion: int, spend: float,
              usage: dict[str, Any], cache_hit: str = "False") -> dict[str, Any]:
    return {
        "request_id": request_id, "call_type": "acompletion", "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05",
        "spend": spend, "total_tokens": prompt + completion, "prompt_tokens": prompt, "completion_tokens": completion,
        "startTime": "2026-10-03 14:22:05.123000", "endTime": "2026-10-03 14:22:06.935000",
        "completionStartTime": "2026-10-03 14:22:05.500000", "model": model, "model_id": "4ae53c4919284af8",
        "model_group": "default-chat", "custom_llm_provider": provider, "api_base": "https://api.example.com",
        "user": "u_042", "metadata": {"user_api_key_alias": "prod", "additional_usage_values": usage,
                                      "spend_logs_metadata": {"feature": "support"}},
        "cache_hit": cache_hit, "cache_key": "Cache OFF", "request_tags": ["env:prod"], "team_id": "team-1",
        "end_user": "", "requester_ip_address": "", "session_id": "sess-1", "status": "success",
    }


HAIKU_WRITES_LEFT_OUT = (50 * 1.00 + 3000 * 0.10 + 1200 * 1.25 + 400 * 5.00) / MTOK
"""claude-haiku-4-5: 50 uncached, 3000 cache reads, 1200 5-minute writes, 400 output."""


def _spend_logs() -> list[dict[str, Any]]:
    haiku_usage = {"cache_read_input_tokens": 3000, "cache_creation_input_tokens": 1200,
                   "prompt_tokens_details": {"cached_tokens": 3000, "cache_creation_tokens": 1200}}
    return [
        spend_log("chatcmpl-1", model="gpt-4o-mini-2024-07-18", provider="openai", prompt=1840, completion=22,
                  spend=MINI, usage={"prompt_tokens_details": {"cached_tokens": 1536}}),
        spend_log("msg_2", model="claude-haiku-4-5-20251001", provider="anthropic", prompt=50 + 3000, completion=400,
                  spend=HAIKU_WRITES_LEFT_OUT, usage=haiku_usage),
        spend_log("chatcmpl-3", model="gpt-4o-mini-2024-07-18", provider="openai", prompt=1840, completion=22,
                  spend=0.0, usage={"prompt_tokens_details": {"cached_tokens": 1536}}, cache_hit="True"),
    ]


def _check_spend_logs(audit: Audit) -> None:
    assert costs(audit) == [pytest.approx(MINI, rel=1e-12), pytest.approx(HAIKU_WRITES_LEFT_OUT, rel=1e-12), 0.0]
    frame = audit.priced.requests
    assert frame["input_tokens"].to_list() == [1840, 4250, 1840]
    assert frame["gateway_cache_hit"].to_list() == [False, False, True]
    assert frame["ts"][0].isoformat() == "2026-10-03T14:22:05.123000+00:00"
    assert frame["latency_ms"][0] == pytest.approx(1812.0)
    assert audit.report.reconciliation is not None and audit.report.reconciliation.differing == 0


def test_litellm_spend_logs_as_json_lines(tmp_path):
    audit = audit_records(tmp_path, _spend_logs())
    assert set(audit.priced.requests["format"].to_list()) == {"litellm-spendlog"}
    _check_spend_logs(audit)


def test_litellm_spend_logs_as_csv(tmp_path):
    rows = _spend_logs()
    path = tmp_path / "spend_logs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: json.dumps(value) if isinstance(value, dict | list) else value
                             for key, value in row.items()})
    audit = audit_file(path)
    assert (audit.report.requests, audit.report.malformed) == (3, 0)
    _check_spend_logs(audit)


# --- Langfuse -----------------------------------------------------------------------------------------


O4_MINI = (1072 * 1.10 + 2048 * 0.275 + (234 + 1216) * 4.40) / MTOK
"""o4-mini, usage details {input 1072, input_cached_tokens 2048, output 234, output_reasoning_tokens 1216}."""


def langfuse_observation(kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": "obs-1", "traceId": "trace-1", "type": kind, "name": "chat", "startTime": "2026-10-03T14:22:05.123Z",
            "endTime": "2026-10-03T14:22:06.935Z", "parentObservationId": None, "level": "DEFAULT",
            "statusMessage": None, "metadata": {"feature": "support"}, "environment": "default", **fields}


def test_langfuse_observation_usage_details_are_summed_by_key_and_spans_are_skipped(tmp_path):
    usage_details = {"input": 1072, "input_cached_tokens": 2048, "output": 234, "output_reasoning_tokens": 1216,
                     "total": 4570}
    generation = langfuse_observation(
        "GENERATION", model="o4-mini-2025-04-16", usageDetails=usage_details,
        usage={"input": 3120, "output": 1450, "total": 4570, "unit": "TOKENS"},
        costDetails={"input": 0.0011792, "input_cached_tokens": 0.0005632, "output": 0.00638, "total": O4_MINI},
        totalCost=O4_MINI)
    span = langfuse_observation("SPAN", model=None, usageDetails={}, costDetails={}, name="retrieve")
    audit = audit_records(tmp_path, [span, generation])
    assert costs(audit) == [pytest.approx(O4_MINI, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["cache_read_tokens"], row["output_tokens"], row["reasoning_tokens"]) == (
        3120, 2048, 1450, 1216)
    assert (row["format"], row["latency_ms"]) == ("langfuse-observation", pytest.approx(1812.0))
    assert (audit.report.requests, sum(audit.report.skipped.values())) == (1, 1)
    assert audit.report.reconciliation is not None and audit.report.reconciliation.differing == 0


def test_langfuse_blob_export_row(tmp_path):
    expected = (50 * 1.00 + 3000 * 0.10 + 1200 * 1.25 + 400 * 5.00) / MTOK
    row = {"id": "obs-2", "trace_id": "trace-2", "project_id": "proj-1", "type": "GENERATION",
           "parent_observation_id": None, "name": "anthropic-chat", "start_time": "2026-10-03 14:22:05.123456",
           "end_time": "2026-10-03 14:22:07.000000", "level": "DEFAULT", "status_message": None,
           "provided_model_name": "claude-haiku-4-5-20251001", "internal_model_id": "clx123", "metadata": {},
           "usage_details": {"input": 50, "input_cache_read": 3000, "input_cache_creation": 1200, "output": 400,
                             "total": 4650},
           "cost_details": {"total": expected}, "total_cost": expected, "user_id": "u_042", "tags": ["prod"]}
    audit = audit_records(tmp_path, [row])
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    priced = only_row(audit)
    assert (priced["input_tokens"], priced["cache_read_tokens"], priced["cache_write_tokens"]) == (4250, 3000, 1200)
    assert (priced["format"], priced["ts"].isoformat()) == ("langfuse-export", "2026-10-03T14:22:05.123456+00:00")


# --- Helicone, Portkey, OpenRouter ---------------------------------------------------------------------


def helicone_record(request_id: str, status: int, cost: float) -> dict[str, Any]:
    return {"response_id": f"resp-{request_id}", "response_created_at": "2026-10-03T14:22:06.935Z",
            "response_status": status, "request_created_at": "2026-10-03T14:22:05.123Z", "request_id": request_id,
            "request_user_id": "u_042", "request_properties": {"Helicone-Property-Feature": "support"},
            "model": "gpt-4o-2024-08-06", "request_model": "gpt-4o", "response_model": "gpt-4o-2024-08-06",
            "provider": "OPENAI", "prompt_tokens": 1840, "completion_tokens": 22, "prompt_cache_read_tokens": 1536,
            "prompt_cache_write_tokens": 0, "total_tokens": 1862, "delay_ms": 1812, "time_to_first_token": 377,
            "costUSD": cost, "country_code": "US", "target_url": "https://api.openai.com/v1/chat/completions"}


def test_helicone_records(tmp_path):
    expected = (304 * 2.50 + 1536 * 1.25 + 22 * 10.00) / MTOK
    audit = audit_records(tmp_path, [helicone_record("a", 200, expected), helicone_record("b", 429, 0.0)])
    assert costs(audit) == [pytest.approx(expected, rel=1e-12), 0.0]
    frame = audit.priced.requests
    assert frame["model_id"].to_list() == ["openai/gpt-4o", "openai/gpt-4o"]
    assert frame["status"].to_list() == ["ok", "error"]
    assert audit.report.failed == 1
    assert audit.report.reconciliation is not None and audit.report.reconciliation.differing == 0


def portkey_record(record_id: str, cost_cents: float, *, cache_status: str = "MISS", is_success: int = 1,
                   status_code: int = 200) -> dict[str, Any]:
    return {"id": record_id, "trace_id": f"trace-{record_id}", "created_at": "2026-10-03T14:22:05.123Z",
            "request_url": "https://api.openai.com/v1/chat/completions", "ai_org": "openai", "ai_model": "gpt-4o",
            "req_units": 30_000, "res_units": 5000, "total_units": 35_000, "cost": cost_cents, "cost_currency": "USD",
            "response_time": 2310, "response_status_code": status_code, "is_success": is_success,
            "cache_status": cache_status, "metadata": {"_user": "u_042"}, "mode": "single"}


def test_portkey_cost_is_in_cents(tmp_path):
    records = [portkey_record("a", 12.5), portkey_record("b", 0.0, cache_status="HIT"),
               portkey_record("c", 0.0, is_success=0, status_code=500)]
    audit = audit_records(tmp_path, records)
    expected = (30_000 * 2.50 + 5000 * 10.00) / MTOK  # = $0.125, logged as 12.5 cents
    assert costs(audit) == [pytest.approx(expected, rel=1e-12), 0.0, 0.0]
    assert audit.priced.requests["logged_cost_usd"][0] == pytest.approx(0.125, rel=1e-12)
    assert audit.priced.requests["status"].to_list() == ["ok", "ok", "error"]
    assert audit.report.reconciliation is not None and audit.report.reconciliation.differing == 0


def openrouter_generation(model: str, *, native_prompt: int, native_completion: int, native_cached: int,
                          total_cost: float, byok: bool = False, upstream_cost: float | None = None) -> dict[str, Any]:
    return {"id": "gen-1791036125-kxjdxx6sVxZzmnQHB7XE", "upstream_id": "chatcmpl-1", "total_cost": total_cost,
            "cache_discount": None, "upstream_inference_cost": upstream_cost, "created_at": "2026-10-03T14:22:05.123Z",
            "model": model, "app_id": None, "streamed": True, "cancelled": False, "provider_name": "OpenAI",
            "latency": 812, "moderation_latency": None, "generation_time": 700, "finish_reason": "stop",
            "native_finish_reason": "stop", "tokens_prompt": native_prompt + 17, "tokens_completion": native_completion + 3,
            "native_tokens_prompt": native_prompt, "native_tokens_completion": native_completion,
            "native_tokens_reasoning": 0, "native_tokens_cached": native_cached, "num_media_prompt": None,
            "num_media_completion": None, "num_search_results": None, "origin": "https://acme.example",
            "usage": total_cost, "is_byok": byok, "external_user": "u_042", "api_type": "completions"}


def test_openrouter_generation_is_billed_on_native_tokens_at_openrouter_prices(tmp_path):
    record = openrouter_generation("openai/gpt-4o-mini", native_prompt=1840, native_completion=22, native_cached=1536,
                                   total_cost=MINI)
    audit = audit_records(tmp_path, [record])
    assert costs(audit) == [pytest.approx(MINI, rel=1e-12)]
    row = only_row(audit)
    assert (row["model_id"], row["input_tokens"], row["output_tokens"]) == ("openrouter/openai/gpt-4o-mini", 1840, 22)
    assert audit.report.reconciliation is not None and audit.report.reconciliation.differing == 0


def test_openrouter_saved_generation_api_responses_are_unwrapped_from_data(tmp_path):
    # GET /api/v1/generation?id=... answers {"data": {...}}: one saved response per line
    record = openrouter_generation("openai/gpt-4o-mini", native_prompt=1840, native_completion=22, native_cached=1536,
                                   total_cost=MINI)
    audit = audit_records(tmp_path, [{"data": record}, {"data": record}])
    assert (audit.report.requests, audit.report.malformed) == (2, 0)
    assert costs(audit) == [pytest.approx(MINI, rel=1e-12)] * 2


def test_openrouter_byok_logged_cost_adds_the_upstream_inference_cost(tmp_path):
    upstream = (1000 * 3.00 + 133 * 15.00) / MTOK  # charged by Anthropic on the user's own key
    fee = 0.05 * upstream                           # OpenRouter's BYOK fee, logged as total_cost
    record = openrouter_generation("anthropic/claude-sonnet-4.5", native_prompt=1000, native_completion=133,
                                   native_cached=0, total_cost=fee, byok=True, upstream_cost=upstream)
    audit = audit_records(tmp_path, [record])
    row = only_row(audit)
    assert row["logged_cost_usd"] == pytest.approx(fee + upstream, rel=1e-12)
    assert row["cost_usd"] == pytest.approx(upstream, rel=1e-12)


# --- the user's own format (--mapping) ------------------------------------------------------------------


def mapping_file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(
        "name: acme-gateway\n"
        "fields:\n"
        "  model: llm.model\n"
        "  provider: llm.vendor\n"
        "  ts: event.time\n"
        "  input_tokens: usage.in\n"
        "  output_tokens: usage.out\n"
        "  cache_read_tokens: usage.cached\n"
        "  cache_write_tokens: usage.written\n"
        "  cache_write_1h_tokens: usage.written_1h\n"
        "  logged_cost: billing.amount\n"
        "  metadata: ctx\n"
        f"{extra}",
        encoding="utf-8",
    )
    return path


def acme_record(model: str, vendor: str, usage: dict[str, int], amount: float) -> dict[str, Any]:
    return {"event": {"time": "2026-10-03T14:22:05Z", "id": "evt_1"}, "llm": {"model": model, "vendor": vendor},
            "usage": usage, "billing": {"amount": amount}, "ctx": {"feature": "support"}}


def test_mapping_with_anthropic_style_input_and_cost_in_cents(tmp_path):
    mapping = mapping_file(tmp_path, "input_includes_cache: false\ncost_unit: cents\n")
    # 50 uncached, 3000 reads, 1200 writes of which 400 1-hour, 400 output
    expected = (50 * 3.00 + 3000 * 0.30 + 800 * 3.75 + 400 * 6.00 + 400 * 15.00) / MTOK
    usage = {"in": 50, "cached": 3000, "written": 1200, "written_1h": 400, "out": 400}
    record = acme_record("claude-sonnet-4-5", "anthropic", usage, amount=expected * 100)
    audit = audit_records(tmp_path, [record], reader=ReaderConfig(workers=1, mapping_path=str(mapping)))
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["format"], row["input_tokens"], row["cache_write_1h_tokens"]) == ("acme-gateway", 4250, 400)
    assert row["logged_cost_usd"] == pytest.approx(expected, rel=1e-12)
    assert row["ts"].isoformat() == "2026-10-03T14:22:05+00:00"


def test_mapping_defaults_to_inclusive_input_and_usd(tmp_path):
    mapping = mapping_file(tmp_path, "")
    expected = (304 * 0.40 + 1536 * 0.10 + 22 * 1.60) / MTOK
    record = acme_record("gpt-4.1-mini", "openai", {"in": 1840, "cached": 1536, "out": 22}, amount=expected)
    audit = audit_records(tmp_path, [record], reader=ReaderConfig(workers=1, mapping_path=str(mapping)))
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["model_id"]) == (1840, "openai/gpt-4.1-mini")
    assert row["logged_cost_usd"] == pytest.approx(expected, rel=1e-12)
