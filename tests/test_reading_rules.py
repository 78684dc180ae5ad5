"""Rules of reading that the conformance corpus shows on real records, pinned on small typed ones:
streams joined into one request, mapping paths, the provider assumed, logged cost used as evidence.
Expected costs are worked from the providers' published prices per million tokens."""

from __future__ import annotations

import base64
import json
import random
import struct
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
    assert audit.report.malformed_examples[0].field == 'spans[0].attributes["gen_ai.usage.input_tokens"]'
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
    audit = audit_records(tmp_path, [{"generation": "Hi", "prompt_token_count": 5, "generation_token_count": 2,
                                      "stop_reason": "stop"}])
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
    requests = audit.priced.requests.sort("provider", descending=True)
    assert requests.select("provider", "model", "latency_ms").rows() == [
        ("google", "gemini-2.5-flash", 812.5), ("azure", "support-bot", 812.5)]
    # Gemini 2.5 Flash: $0.30 input, $2.50 output; an Azure deployment name is not a model: unpriced, said so
    assert requests["cost_usd"].to_list()[0] == pytest.approx((1000 * 0.30 + 100 * 2.50) / MTOK, rel=1e-12)
    assert "Azure deployment" in requests["unpriced_reason"].to_list()[1]
    assert audit.report.skipped["response body of no known model API"] == 1


# --- found in review: each a record that was misread ---------------------------------------------------


def test_a_bedrock_llama_body_does_not_swallow_the_lines_after_it(tmp_path: Path) -> None:
    llama = {"generation": "hi", "prompt_token_count": 10, "generation_token_count": 5, "stop_reason": "stop"}
    chat = {"id": "chatcmpl-ABCDEFGHIJKLMNOPQRSTUVWXYZ012", "object": "chat.completion", "created": 1_791_036_125,
            "model": "gpt-4o-mini", "usage": {"prompt_tokens": 1000, "completion_tokens": 500}}
    audit = audit_records(tmp_path, [llama, chat, chat])
    assert audit.priced.requests["format"].to_list() == ["bedrock-invoke", "openai-chat", "openai-chat"]
    assert audit.priced.requests["input_tokens"].to_list() == [10, 1000, 1000]


def test_a_llama_stream_on_bedrock_is_one_request_with_its_invocation_metrics(tmp_path: Path) -> None:
    chunks = [{"generation": "Hello", "prompt_token_count": 15, "generation_token_count": 1, "stop_reason": None},
              {"generation": " there", "prompt_token_count": None, "generation_token_count": 2, "stop_reason": None},
              {"generation": "", "prompt_token_count": None, "generation_token_count": 3, "stop_reason": "stop",
               "amazon-bedrock-invocationMetrics": {"inputTokenCount": 15, "outputTokenCount": 3}}]
    audit = audit_records(tmp_path, chunks)
    assert audit.priced.requests.select("input_tokens", "output_tokens").rows() == [(15, 3)]


def anthropic_start(message_id: str, input_tokens: int, cache_read: int = 0) -> dict[str, Any]:
    return {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001", "content": [],
        "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": cache_read,
                  "cache_creation_input_tokens": 0, "output_tokens": 1}}}


def delta(output_tokens: int, **usage: int) -> dict[str, Any]:
    return {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": output_tokens,
                                                                                     **usage}}


def test_interleaved_anthropic_streams_leave_their_deltas_unattributed_and_counted(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [anthropic_start("msg_A", 1000), anthropic_start("msg_B", 10),
                                     delta(500), delta(5)])
    assert audit.priced.requests.select("request_id", "output_tokens").rows() == [("msg_A", 1), ("msg_B", 1)]
    assert audit.report.skipped[ORPHAN_EVENTS] == 2


def test_a_delta_after_its_stream_closed_does_not_overwrite_it(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [anthropic_start("msg_A", 100), delta(500), {"type": "message_stop"}, delta(3)])
    assert audit.priced.requests.select("request_id", "output_tokens").rows() == [("msg_A", 500)]
    assert audit.report.skipped[ORPHAN_EVENTS] == 1


def test_a_streamed_claude_on_bedrock_keeps_bedrocks_price(tmp_path: Path) -> None:
    start = anthropic_start("msg_bdrk_01", 100_000)
    audit = audit_records(tmp_path, [start, delta(10_000)])
    row = audit.priced.requests.row(0, named=True)
    assert row["model_id"].startswith("aws/")
    # Haiku 4.5 on a Bedrock regional endpoint: $1.10 input, $5.50 output
    assert row["cost_usd"] == pytest.approx((100_000 * 1.10 + 10_000 * 5.50) / MTOK, rel=1e-12)


def test_a_delta_whose_input_leaves_out_the_cache_keeps_the_starts_whole_input(tmp_path: Path) -> None:
    audit = audit_records(tmp_path, [anthropic_start("msg_C", 10, cache_read=5000), delta(50, input_tokens=10)])
    assert audit.report.malformed == 0
    assert audit.priced.requests.select("input_tokens", "cache_read_tokens", "output_tokens").rows() == [
        (5010, 5000, 50)]


def test_one_bad_span_costs_only_itself(tmp_path: Path) -> None:
    def span(span_id: str, tokens: dict[str, Any]) -> dict[str, Any]:
        return {"spanId": span_id, "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": tokens},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "5"}}]}

    export = {"resourceSpans": [{"scopeSpans": [{"spans": [
        span("a", {"intValue": "100"}), span("b", {"stringValue": "many"}), span("c", {"intValue": "100"})]}]}]}
    audit = audit_records(tmp_path, [export])
    assert audit.priced.requests["request_id"].to_list() == ["a", "c"]
    assert audit.report.malformed == 1
    assert audit.report.malformed_examples[0].field == 'spans[1].attributes["gen_ai.usage.input_tokens"]'


def test_a_generation_wrapping_another_in_an_ingestion_batch_is_not_counted_twice(tmp_path: Path) -> None:
    def generation(observation_id: str, parent: str | None) -> dict[str, Any]:
        return {"id": f"e-{observation_id}", "type": "generation-create", "timestamp": "2025-05-01T00:00:00Z",
                "body": {"id": observation_id, "type": "GENERATION", "startTime": "2025-05-01T00:00:00Z",
                         "model": "gpt-4o-mini", "usageDetails": {"input": 1000, "output": 100},
                         "parentObservationId": parent}}

    audit = audit_records(tmp_path, [{"batch": [generation("parent", None), generation("child", "parent")]}])
    assert audit.priced.requests["request_id"].to_list() == ["child"]


def test_json_lines_in_a_file_named_json_are_read_as_lines(tmp_path: Path) -> None:
    chat = {"id": "chatcmpl-ABCDEFGHIJKLMNOPQRSTUVWXYZ012", "object": "chat.completion", "created": 1_791_036_125,
            "model": "gpt-4o-mini", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}
    audit = audit_records(tmp_path, [chat, chat], name="traces.json")
    assert (audit.report.requests, audit.report.malformed) == (2, 0)


def test_a_groq_stream_takes_its_usage_from_x_groq(tmp_path: Path) -> None:
    chunk_id = "chatcmpl-8566e76f-7ded-47d7-a2ca-d212098af00c"
    first = {"id": chunk_id, "object": "chat.completion.chunk", "created": 1_756_000_000,
             "model": "llama-3.3-70b-versatile", "choices": [{"index": 0, "delta": {"content": "Hi"}}],
             "x_groq": {"id": "req_01"}}
    last = {**first, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "x_groq": {"id": "req_01", "usage": {"prompt_tokens": 23000, "completion_tokens": 19000}}}
    audit = audit_records(tmp_path, [first, last])
    assert audit.priced.requests.select("model_id", "input_tokens", "output_tokens").rows() == [
        ("groq/llama-3.3-70b-versatile", 23000, 19000)]


def test_an_azure_stream_is_azures_and_its_preamble_is_not_malformed(tmp_path: Path) -> None:
    preamble = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    chunk = {"choices": [{"content_filter_results": {}, "delta": {"content": "Hi"}, "index": 0}],
             "created": 1_748_736_000, "id": "chatcmpl-ABCDEFGHIJKLMNOPQRSTUVWXYZ012", "model": "gpt-4o-2024-11-20",
             "object": "chat.completion.chunk"}
    last = {**chunk, "choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 10}}
    audit = audit_records(tmp_path, [preamble, chunk, last])
    assert audit.report.malformed == 0
    assert audit.priced.requests.select("provider", "input_tokens").rows() == [("azure", 100)]


JSON_LINE_CASES = sorted(path for path in (Path(__file__).parent / "conformance" / "records").rglob("*.jsonl"))


def read_totals(path: Path) -> tuple[int, float, int]:
    audit = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    return audit.report.requests, audit.report.cost_usd, audit.report.malformed


def test_real_records_read_the_same_whatever_format_comes_before_them(tmp_path: Path) -> None:
    """The fast path decodes a line with the previous line's format: no format may swallow another's.
    The corpus's JSON-lines files, concatenated in twenty shuffled orders (about 1,700 neighbours),
    read as the sum of the files read alone."""
    alone = [read_totals(path) for path in JSON_LINE_CASES]
    expected = (sum(part[0] for part in alone), sum(part[1] for part in alone), sum(part[2] for part in alone))
    shuffler = random.Random(12)
    for order in range(20):
        files = JSON_LINE_CASES[:]
        shuffler.shuffle(files)
        joined = tmp_path / f"corpus-{order}.jsonl"
        joined.write_bytes(b"".join(path.read_bytes().rstrip(b"\n") + b"\n" for path in files))
        requests, cost, malformed = read_totals(joined)
        assert (requests, malformed) == (expected[0], expected[2]), [path.name for path in files]
        assert cost == pytest.approx(expected[1], rel=1e-9)


def event_stream(*events: dict[str, Any]) -> bytes:
    """AWS event-stream frames (prelude, no headers, payload, CRC; routecost does not check the CRCs)."""
    frames = b""
    for event in events:
        payload = json.dumps(event).encode()
        frames += struct.pack(">II", 12 + len(payload) + 4, 0) + b"\0" * 4 + payload + b"\0" * 4
    return frames


def test_a_bedrock_converse_stream_in_a_har_capture_is_one_request(tmp_path: Path) -> None:
    frames = event_stream({"p": "abc", "role": "assistant"},
                          {"contentBlockIndex": 0, "delta": {"text": "Hi"}, "p": "ab"},
                          {"p": "abcd", "stopReason": "end_turn"},
                          {"metrics": {"latencyMs": 900}, "p": "a", "usage": {"inputTokens": 1000, "outputTokens": 100}})
    entry = {"startedDateTime": "2026-10-03T14:02:05.000Z", "time": 950,
             "request": {"method": "POST", "url": "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
                                                   "us.amazon.nova-micro-v1%3A0/converse-stream"},
             "response": {"status": 200, "content": {"mimeType": "application/vnd.amazon.eventstream",
                                                     "encoding": "base64",
                                                     "text": base64.b64encode(frames).decode()}}}
    path = tmp_path / "stream.har"
    path.write_text(json.dumps(har([entry])), encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    row = audit.priced.requests.row(0, named=True)
    assert (audit.report.requests, row["model"], row["input_tokens"], row["output_tokens"]) == (
        1, "us.amazon.nova-micro-v1:0", 1000, 100)
    # Nova Micro: $0.035 input, $0.14 output per million tokens
    assert row["cost_usd"] == pytest.approx((1000 * 0.035 + 100 * 0.14) / MTOK, rel=1e-12)


@pytest.mark.parametrize(("context", "fee"), [("low", 5.0), ("medium", 8.0), ("high", 12.0), (None, 5.0)])
def test_a_perplexity_request_pays_the_fee_of_its_search_context_size(tmp_path: Path, context: str | None,
                                                                     fee: float) -> None:
    usage: dict[str, Any] = {"prompt_tokens": 100, "completion_tokens": 200}
    if context:
        usage["search_context_size"] = context
    body = {"id": "702738a1-c1e0-4a7f-b9ab-0f6fe1b13514", "object": "chat.completion", "created": 1_770_768_226,
            "model": "sonar", "citations": ["https://example.org"], "usage": usage}
    # sonar: $1 input, $1 output per million tokens; $5 / $8 / $12 per 1,000 requests at low / medium / high
    # search context (low is the API's default)
    assert costs(audit_records(tmp_path, [body])) == [pytest.approx((100 + 200) / MTOK + fee / 1000, rel=1e-12)]


def test_a_chat_search_model_pays_one_preview_search_per_request(tmp_path: Path) -> None:
    body = {"id": "chatcmpl-ABCDEFGHIJKLMNOPQRSTUVWXYZ012", "object": "chat.completion", "created": 1_791_036_125,
            "model": "gpt-4o-mini-search-preview-2025-03-11", "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}
    row = audit_records(tmp_path, [body]).priced.requests.row(0, named=True)
    # gpt-4o-mini: $0.15 input, $0.60 output; web search preview on a non-reasoning model $25 per 1,000 calls
    assert row["fees_usd"] == pytest.approx(0.025, rel=1e-12)
    assert row["cost_usd"] == pytest.approx((1000 * 0.15 + 100 * 0.60) / MTOK + 0.025, rel=1e-12)


def responses_body(model: str, tools: list[dict[str, Any]], output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1_791_036_125, "status": "completed",
            "model": model, "tools": tools, "output": output, "usage": {"input_tokens": 1000, "output_tokens": 100}}


@pytest.mark.parametrize(("model", "tool", "fee"), [
    ("gpt-4.1-2025-04-14", "web_search_preview", 25.00), ("gpt-4.1-2025-04-14", "web_search", 10.00),
    ("o4-mini-2025-04-16", "web_search_preview", 10.00),
])
def test_a_responses_web_search_pays_its_tools_fee(tmp_path: Path, model: str, tool: str, fee: float) -> None:
    search = {"type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "x"}}
    row = audit_records(tmp_path, [responses_body(model, [{"type": tool}], [search])]).priced.requests.row(
        0, named=True)
    assert row["fees_usd"] == pytest.approx(fee / 1000, rel=1e-12)


def test_code_interpreter_containers_are_billed_once_each(tmp_path: Path) -> None:
    calls = [{"type": "code_interpreter_call", "container_id": container, "code": "1+1"}
             for container in ("cntr_a", "cntr_a", "cntr_b")]
    row = audit_records(tmp_path, [responses_body("gpt-4.1-2025-04-14", [{"type": "code_interpreter"}], calls)]
                        ).priced.requests.row(0, named=True)
    # two containers at $0.03 each
    assert row["fees_usd"] == pytest.approx(0.06, rel=1e-12)


def test_a_span_whose_input_leaves_out_the_cache_gets_it_added_back(tmp_path: Path) -> None:
    span = {"name": "ai.streamText.doStream", "attributes": {
        "ai.operationId": "ai.streamText.doStream", "ai.model.provider": "anthropic.messages",
        "ai.model.id": "claude-sonnet-4-20250514", "ai.usage.inputTokens": 5, "ai.usage.outputTokens": 300,
        "ai.usage.cachedInputTokens": 9000}}
    audit = audit_records(tmp_path, [span])
    assert audit.report.malformed == 0
    # Claude Sonnet 4: $3 input, $0.30 cache read, $15 output
    assert costs(audit) == [pytest.approx((5 * 3 + 9000 * 0.30 + 300 * 15) / MTOK, rel=1e-12)]
