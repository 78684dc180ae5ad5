"""Rules of reading that the conformance corpus shows on real records, pinned on small typed ones:
streams joined into one request, mapping paths, the provider assumed, logged cost used as evidence.
Expected costs are worked from the providers' published prices per million tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.prices.pricing import NO_MODEL
from routecost.sources.mapping import load_mapping
from routecost.sources.reader import ReaderConfig
from routecost.sources.streams import JOINED_EVENTS, ORPHAN_EVENTS
from routecost.yamlfile import YamlError
from tests.conftest import AS_OF, MTOK, audit_records, costs


def chunk(stream_id: str, usage: dict[str, Any] | None, text: str = "") -> dict[str, Any]:
    return {"id": stream_id, "object": "chat.completion.chunk", "created": 1_791_036_125, "model": "gpt-4o-mini",
            "choices": [] if usage else [{"index": 0, "delta": {"content": text}}], "usage": usage}


def test_two_interleaved_streams_are_two_requests_with_their_final_usage(tmp_path: Path) -> None:
    first, second = "chatcmpl-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "chatcmpl-BBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
    records = [chunk(first, None, "Hel"), chunk(second, None, "Bon"), chunk(first, None, "lo"),
               chunk(second, {"prompt_tokens": 200, "completion_tokens": 30}),
               chunk(first, {"prompt_tokens": 100, "completion_tokens": 10})]
    audit = audit_records(tmp_path, records)
    requests = audit.priced.requests
    assert requests.select("request_id", "line", "input_tokens", "output_tokens", "stream").rows() == [
        (first, 1, 100, 10, True), (second, 2, 200, 30, True)]
    # gpt-4o-mini: $0.15 input, $0.60 output
    assert costs(audit) == [pytest.approx((100 * 0.15 + 10 * 0.60) / MTOK, rel=1e-12),
                            pytest.approx((200 * 0.15 + 30 * 0.60) / MTOK, rel=1e-12)]
    assert audit.report.skipped[JOINED_EVENTS] == 3  # five events, two requests


def test_stream_events_whose_start_was_not_logged_are_counted_not_priced(tmp_path: Path) -> None:
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 40}}
    audit = audit_records(tmp_path, [delta, {"type": "message_stop"}])
    assert audit.report.requests == 0
    assert audit.report.skipped[ORPHAN_EVENTS] == 1 and audit.report.skipped["stream event without usage"] == 1


def test_an_anthropic_stream_takes_its_usage_from_the_last_delta(tmp_path: Path) -> None:
    start = {"type": "message_start", "message": {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [],
        "usage": {"input_tokens": 20, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0,
                  "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"input_tokens": 20, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 0,
                       "output_tokens": 250}}
    records = [start, {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
               {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}, delta,
               {"type": "message_stop"}]
    audit = audit_records(tmp_path, records)
    # Sonnet 4.5: $3 input, $0.30 cache read, $15 output
    assert costs(audit) == [pytest.approx((20 * 3 + 1000 * 0.30 + 250 * 15) / MTOK, rel=1e-12)]


def mapping(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_mapping_paths_reach_list_items_and_keys_with_dots(tmp_path: Path) -> None:
    spec = mapping(tmp_path, """\
name: span-dump
fields:
  model: 'calls[0].attributes["gen_ai.request.model"]'
  provider: 'calls[0].attributes["gen_ai.provider.name"]'
  input_tokens: 'calls[0].attributes["gen_ai.usage.input_tokens"]'
  output_tokens: "calls[0].attributes['gen_ai.usage.output_tokens']"
""")
    record = {"calls": [{"attributes": {"gen_ai.request.model": "gpt-4.1-mini", "gen_ai.provider.name": "openai",
                                        "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100}}]}
    audit = audit_records(tmp_path, [record], reader=ReaderConfig(workers=1, mapping_path=spec))
    # gpt-4.1-mini: $0.40 input, $1.60 output
    assert costs(audit) == [pytest.approx((1000 * 0.40 + 100 * 1.60) / MTOK, rel=1e-12)]


def test_mapping_each_reads_every_item_of_a_list_as_a_request(tmp_path: Path) -> None:
    spec = mapping(tmp_path, """\
name: event-batch
each: batch
fields: {model: body.model, provider: body.vendor, input_tokens: body.usage.in, output_tokens: body.usage.out}
""")
    record = {"batch": [{"body": {"model": "gpt-4.1-mini", "vendor": "openai", "usage": {"in": 1000, "out": 10}}},
                        {"body": {"vendor": "openai", "usage": {"in": 5, "out": 5}}}]}
    audit = audit_records(tmp_path, [record], reader=ReaderConfig(workers=1, mapping_path=spec))
    requests = audit.priced.requests
    assert requests["cost_usd"].to_list()[0] == pytest.approx((1000 * 0.40 + 10 * 1.60) / MTOK, rel=1e-12)
    assert requests["unpriced_reason"].to_list() == [None, NO_MODEL]  # the second item names no model


def test_a_mapping_path_that_is_not_one_is_an_error_at_its_line(tmp_path: Path) -> None:
    spec = mapping(tmp_path, "fields:\n  model: 'calls[x].model'\n")
    with pytest.raises(YamlError, match=r"mapping.yaml:2:3: 'calls\[x\]\.model' is not a field path"):
        load_mapping(spec)


def test_a_body_that_does_not_say_who_served_it_is_priced_by_its_model_and_says_so(tmp_path: Path) -> None:
    body = {"id": "5319bd0299614c679a0068a4f2c8ffd0", "object": "chat.completion", "created": 1_769_088_720,
            "model": "gpt-4.1-mini", "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}
    audit = audit_records(tmp_path, [body])
    assert audit.priced.requests["model_id"].to_list() == ["openai/gpt-4.1-mini"]
    assert any(note.startswith("the log does not say who served gpt-4.1-mini: priced at openai's rates")
               for note in audit.report.assumptions)


def test_a_groq_body_is_priced_at_groqs_rates_not_openais(tmp_path: Path) -> None:
    body = {"id": "chatcmpl-09d64d2a-ed1c-4473-829f-78db43f1a2b3", "object": "chat.completion",
            "created": 1_770_770_798, "model": "openai/gpt-oss-120b", "x_groq": {"id": "req_01"},
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}
    audit = audit_records(tmp_path, [body])
    assert audit.priced.requests["model_id"].to_list() == ["groq/openai/gpt-oss-120b"]
    # Groq gpt-oss-120b: $0.15 input, $0.60 output (OpenAI's own API does not sell it)
    assert costs(audit) == [pytest.approx((1000 * 0.15 + 100 * 0.60) / MTOK, rel=1e-12)]


def test_a_model_the_catalog_lacks_is_priced_at_the_cost_its_gateway_logged(tmp_path: Path) -> None:
    known = {"id": "gen-1", "provider": "OpenAI", "model": "openai/gpt-4o", "object": "chat.completion",
             "created": 1_769_672_415, "usage": {"prompt_tokens": 12, "completion_tokens": 2, "cost": 0.00005}}
    unknown = {**known, "id": "gen-2", "model": "acme/house-model-9", "usage": {**known["usage"], "cost": 0.00042}}
    audit = audit_records(tmp_path, [known, unknown])
    requests = audit.priced.requests
    assert requests.select("model_id", "price_context").rows() == [("openrouter/openai/gpt-4o", "standard"),
                                                                    (None, "logged")]
    assert requests["cost_usd"].to_list() == [pytest.approx((12 * 2.50 + 2 * 10.00) / MTOK, rel=1e-12), 0.00042]
    assert audit.report.unpriced_requests == 0
    assert "acme/house-model-9: not in the price catalog; priced at the cost its gateway logged (1 requests)" in (
        audit.report.assumptions)
    assert audit.report.reconciliation is not None and audit.report.reconciliation.requests == 1


def test_an_otlp_export_prices_its_model_calls_and_skips_its_agent_span(tmp_path: Path) -> None:
    def attribute(key: str, value: dict[str, Any]) -> dict[str, Any]:
        return {"key": key, "value": value}

    llm = {"spanId": "b1", "startTimeUnixNano": "1791036125000000000", "endTimeUnixNano": "1791036126500000000",
           "attributes": [attribute("gen_ai.operation.name", {"stringValue": "chat"}),
                          attribute("gen_ai.provider.name", {"stringValue": "openai"}),
                          attribute("gen_ai.response.model", {"stringValue": "gpt-4.1-mini"}),
                          attribute("gen_ai.usage.input_tokens", {"intValue": "1000"}),
                          attribute("gen_ai.usage.output_tokens", {"intValue": {"low": 100, "high": 0}})]}
    agent = {"spanId": "a1", "attributes": [attribute("gen_ai.operation.name", {"stringValue": "invoke_agent"}),
                                            attribute("gen_ai.usage.input_tokens", {"intValue": "1000"})]}
    export = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [agent, llm]}]}]}
    audit = audit_records(tmp_path, [export])
    row = audit.priced.requests.row(0, named=True)
    assert audit.report.requests == 1 and audit.report.skipped["invoke_agent span (not a model call)"] == 1
    assert (row["latency_ms"], row["ts"].isoformat()) == (1500.0, "2026-10-03T14:02:05+00:00")
    assert row["cost_usd"] == pytest.approx((1000 * 0.40 + 100 * 1.60) / MTOK, rel=1e-12)


def test_a_span_with_a_negative_token_count_is_malformed_with_its_attribute(tmp_path: Path) -> None:
    span = {"attributes": {"gen_ai.request.model": "gpt-4.1-mini", "gen_ai.usage.input_tokens": -5}}
    audit = audit_records(tmp_path, [span])
    assert audit.report.malformed == 1
    assert audit.report.malformed_examples[0].field == 'attributes["gen_ai.usage.input_tokens"]'
    assert audit.priced.requests.filter(pl.col("cost_usd") < 0).height == 0


@pytest.mark.parametrize(("body", "tokens"), [
    ({"generation": "Paris.", "prompt_token_count": 20, "generation_token_count": 3, "stop_reason": "stop"}, (20, 3)),
    ({"inputTextTokenCount": 12, "results": [{"tokenCount": 40, "outputText": "Paris", "completionReason": "FINISH"}]},
     (12, 40)),
    ({"generation": "", "prompt_token_count": None, "generation_token_count": 7, "stop_reason": "stop",
      "amazon-bedrock-invocationMetrics": {"inputTokenCount": 30, "outputTokenCount": 7, "invocationLatency": 511,
                                           "firstByteLatency": 302}}, (30, 7)),  # a stream's last chunk
])
def test_a_bedrock_invoke_body_is_read_from_the_url_of_its_exchange(tmp_path: Path, body: dict[str, Any],
                                                                   tokens: tuple[int, int]) -> None:
    exchange = {"scope": "https://bedrock-runtime.us-east-1.amazonaws.com:443", "method": "POST",
                "path": "/model/meta.llama3-8b-instruct-v1%3A0/invoke", "status": 200, "response": body}
    audit = audit_records(tmp_path, [exchange])
    row = audit.priced.requests.row(0, named=True)
    assert (row["provider"], row["model"], row["input_tokens"], row["output_tokens"]) == (
        "aws", "meta.llama3-8b-instruct-v1:0", *tokens)
    # Llama 3 8B Instruct on Bedrock: $0.30 input, $0.60 output per million tokens
    assert row["cost_usd"] == pytest.approx((tokens[0] * 0.30 + tokens[1] * 0.60) / MTOK, rel=1e-12)


def test_a_bare_bedrock_invoke_body_is_unpriced_for_want_of_a_model(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [{"generation": "Hi", "prompt_token_count": 5, "generation_token_count": 2}])
    assert audit.priced.requests["unpriced_reason"].to_list() == [NO_MODEL]


def har(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}


def har_entry(url: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"startedDateTime": "2026-10-03T14:02:05.000Z", "time": 812.5,
            "request": {"method": "POST", "url": url, "headers": []},
            "response": {"status": status, "content": {"mimeType": "application/json", "text": json.dumps(body)}}}


def test_a_har_capture_takes_the_provider_from_the_host_and_the_model_from_the_url(tmp_path: Path) -> None:
    gemini = {"usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 100}, "responseId": "r1"}
    azure = {"id": "chatcmpl-x", "object": "chat.completion", "created": 1_791_036_125, "model": None,
             "usage": {"prompt_tokens": 10, "completion_tokens": 5}}
    capture = har([
        har_entry("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/"
                  "google/models/gemini-2.5-flash:generateContent", gemini),
        har_entry("https://acme.openai.azure.com/openai/deployments/support-bot/chat/completions?api-version=1",
                  azure),
        har_entry("https://api.openai.com/v1/chat/completions", {"error": {"message": "bad key"}}, status=401),
    ])
    path = tmp_path / "capture.har"
    path.write_text(json.dumps(capture), encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    requests = audit.priced.requests
    assert requests.select("provider", "model", "latency_ms").rows() == [
        ("google", "gemini-2.5-flash", 812.5), ("azure", "support-bot", 812.5)]
    # Gemini 2.5 Flash: $0.30 input, $2.50 output; an Azure deployment name is not a model: unpriced, said so
    assert requests["cost_usd"].to_list()[0] == pytest.approx((1000 * 0.30 + 100 * 2.50) / MTOK, rel=1e-12)
    assert "Azure deployment" in requests["unpriced_reason"].to_list()[1]
    assert audit.report.skipped["response body of no known model API"] == 1
