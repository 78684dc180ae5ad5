"""OpenAI Chat Completions, Responses and Batch files, priced from OpenAI's published prices.

Prices used (USD per million tokens, openai.com/api/pricing):
  gpt-4o (2024-08-06): input 2.50, cached input 1.25, output 10.00
  gpt-4o-mini:         input 0.15, cached input 0.075, output 0.60
  o4-mini:             input 1.10, cached input 0.275, output 4.40
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.records import SOURCE_COLUMNS
from routecost.sources.reader import ReaderConfig
from routecost.sources.wrapper import WRAPPED_CHAT
from tests.conftest import AS_OF, MTOK, audit_records, costs, only_row


def chat(model: str, prompt: int, completion: int, cached: int | None = None, reasoning: int | None = None,
         created: int = 1_790_000_000, **extra: object) -> dict[str, object]:
    usage: dict[str, object] = {"prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": usage, **extra}


def test_cached_tokens_are_a_subset_of_prompt_tokens(tmp_path):
    audit = audit_records(tmp_path, [chat("gpt-4o-2024-08-06", prompt=1840, completion=22, cached=1536)])
    # uncached 1840 - 1536 = 304 at $2.50, cached 1536 at $1.25, output 22 at $10
    expected = (304 * 2.50 + 1536 * 1.25 + 22 * 10.00) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    row = only_row(audit)
    assert (row["input_tokens"], row["cache_read_tokens"], row["model_id"]) == (1840, 1536, "openai/gpt-4o")


def test_reasoning_tokens_are_inside_completion_tokens_and_not_billed_twice(tmp_path):
    audit = audit_records(tmp_path, [chat("o4-mini-2025-04-16", prompt=3120, completion=1450, reasoning=1216)])
    expected = (3120 * 1.10 + 1450 * 4.40) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    assert only_row(audit)["reasoning_tokens"] == 1216


def test_final_stream_chunk_with_usage_is_a_streamed_request(tmp_path):
    chunk = chat("gpt-4o-mini-2024-07-18", prompt=1000, completion=200)
    chunk["object"] = "chat.completion.chunk"
    chunk["choices"] = []
    audit = audit_records(tmp_path, [chunk])
    assert costs(audit) == [pytest.approx((1000 * 0.15 + 200 * 0.60) / MTOK, rel=1e-12)]
    assert only_row(audit)["stream"] is True


def test_wrapper_adds_time_latency_user_tags_and_metadata(tmp_path):
    record = {
        "ts": "2026-10-03T14:22:05.123Z", "latency_ms": 812, "user_id": "u_042",
        "tags": ["env:prod", "category:writing"], "metadata": {"feature": "blog-writer", "team": "growth"},
        "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Write a haiku"}], "stream": False},
        "response": chat("gpt-4o-2024-08-06", prompt=100, completion=50),
    }
    audit = audit_records(tmp_path, [record], category_key="feature")
    row = only_row(audit)
    assert row["ts"].isoformat() == "2026-10-03T14:22:05.123000+00:00"
    assert (row["latency_ms"], row["user"], row["tags"]) == (812.0, "u_042", ["env:prod", "category:writing"])
    assert row["category"] == "blog-writer"
    assert row["format"] == "wrapped-openai-chat"
    assert row["cost_usd"] == pytest.approx((100 * 2.50 + 50 * 10.00) / MTOK, rel=1e-12)


def test_wrapped_error_response_costs_nothing_and_is_counted_as_failed(tmp_path):
    failed = {"ts": "2026-10-03T14:22:05Z", "status": "error", "http_status": 429,
              "request": {"model": "gpt-4o", "messages": []},
              "response": {"error": {"message": "Rate limit reached", "type": "tokens", "code": "rate_limit_exceeded"}}}
    ok = {"ts": "2026-10-03T14:23:05Z", "request": {"model": "gpt-4o"},
          "response": chat("gpt-4o-2024-08-06", prompt=10, completion=10)}
    audit = audit_records(tmp_path, [failed, ok])
    assert costs(audit) == [0.0, pytest.approx((10 * 2.50 + 10 * 10.00) / MTOK, rel=1e-12)]
    assert (audit.report.requests, audit.report.failed, audit.report.unpriced_requests) == (2, 1, 0)


def test_responses_api_object(tmp_path):
    response = {
        "id": "resp_1", "object": "response", "created_at": 1_790_000_000, "status": "completed",
        "model": "o4-mini-2025-04-16", "output": [],
        "usage": {"input_tokens": 5230, "input_tokens_details": {"cached_tokens": 4096},
                  "output_tokens": 890, "output_tokens_details": {"reasoning_tokens": 640}, "total_tokens": 6120},
    }
    audit = audit_records(tmp_path, [response])
    # uncached 5230 - 4096 = 1134 at $1.10, cached 4096 at $0.275, output 890 at $4.40
    expected = (1134 * 1.10 + 4096 * 0.275 + 890 * 4.40) / MTOK
    assert costs(audit) == [pytest.approx(expected, rel=1e-12)]
    assert only_row(audit)["format"] == "openai-responses"


def _batch_output(custom_id: str, created: int, prompt: int, completion: int) -> dict[str, object]:
    body = chat("gpt-4o-mini-2024-07-18", prompt=prompt, completion=completion, created=created)
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": "r", "body": body}, "error": None}


def test_batch_output_is_half_price_before_and_after_the_catalogs_batch_start(tmp_path):
    before = 1_791_000_000  # 2026-10-03, before the catalog's batch prices start (2026-10-14)
    after = 1_792_500_000   # 2026-10-20
    expired = {"id": "batch_req_3", "custom_id": "c", "response": None,
               "error": {"code": "batch_expired", "message": "not done in time"}}
    audit = audit_records(tmp_path, [_batch_output("a", before, 31, 4), _batch_output("b", after, 31, 4), expired])
    # OpenAI Batch API: 50% of gpt-4o-mini's $0.15 / $0.60
    half = (31 * 0.075 + 4 * 0.30) / MTOK
    assert costs(audit) == [pytest.approx(half, rel=1e-12), pytest.approx(half, rel=1e-12), 0.0]
    assert audit.priced.requests["mode"].to_list() == ["batch", "batch", "batch"]


def test_batch_results_join_their_requests_by_custom_id(tmp_path):
    request = {"custom_id": "b", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Summarise"}]}}
    (tmp_path / "in.jsonl").write_text("", encoding="utf-8")
    audit = audit_records(tmp_path, [_batch_output("a", 1_792_500_000, 10, 1), request,
                                     _batch_output("b", 1_792_500_000, 10, 1)])
    frame = audit.priced.requests
    assert frame["custom_id"].to_list() == ["a", "b"]
    assert frame["request_offset"].to_list()[0] is None
    assert frame["request_offset"].to_list()[1] is not None
    assert audit.report.requests == 2


CONFORMANCE = Path(__file__).parent / "conformance" / "records"
ENVELOPES: list[dict[str, Any]] = [
    {"ts": "2026-10-01T00:00:00.000Z", "latency_ms": 120, "user_id": "u_1", "tags": ["env:prod"],
     "metadata": {"feature": "x"}, "request": {"model": "gpt-4o", "stream": False}},
    {"timestamp": 1790812800123, "duration_ms": 80.5, "user": "alice", "status": "error", "request": {"stream": True}},
    {"created_at": "2026-10-02T10:00:00", "http_status": 503, "provider": "groq", "tags": []},
    {"status_code": 200, "status": 201, "request": {"model": "sonar-pro"}},
    {"status": "ok", "request": {"model": "gpt-4o-search-preview"}, "metadata": {}},
]
"""Wrapper fields as in-house loggers write them, each way a field may be named or fail a request."""


def _recorded_chat_bodies() -> list[dict[str, Any]]:
    """Every Chat Completions body (or final chunk) in the conformance corpus: real responses from
    OpenAI, Azure, Groq, DeepSeek, Perplexity, xAI, Together, Cerebras, Mistral and OpenRouter."""
    bodies = []
    for path in sorted(CONFORMANCE.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line) if line.strip() else None
            if isinstance(record, dict) and record.get("object") in ("chat.completion", "chat.completion.chunk"):
                bodies.append(record)
    return bodies


def test_wrapped_chat_columns_match_its_rows() -> None:
    """The reader builds wrapped chat completions a column at a time (``LogFormat.columns``): column by
    column, the same values as ``to_row`` gives record by record, for every recorded chat body of the
    corpus in every kind of envelope."""
    bodies = _recorded_chat_bodies()
    assert len(bodies) >= 20
    wrapped = [{**envelope, "response": body} for body in bodies for envelope in ENVELOPES]
    records = [WRAPPED_CHAT.decoder.decode(json.dumps(record)) for record in wrapped]
    assert WRAPPED_CHAT.columns is not None
    columns = WRAPPED_CHAT.columns(records)
    rows = [WRAPPED_CHAT.to_row(record) for record in records]
    for index, name in enumerate(SOURCE_COLUMNS):
        expected = [row[index] for row in rows]
        assert list(columns.get(name, [None] * len(records))) == expected, name
    providers = set(columns["provider"])
    assert {"openai", "azure", "groq", "perplexity", "x-ai", "deepseek"} <= providers, providers


def test_a_file_mixing_formats_and_blank_lines_reads_every_line(tmp_path: Path) -> None:
    """The reader decodes a block of lines in one go while they keep to one format, and line by line
    around a miss (a blank line, a record of another format, a malformed one): each request keeps its
    own line, and nothing is read twice."""
    wrapped = {"ts": "2026-10-01T00:00:00Z", "request": {"model": "gpt-4o"}, "metadata": {"note": "x" * 200},
               "response": chat("gpt-4o-2024-08-06", 1_000, 100)}
    lines = [json.dumps({**wrapped, "latency_ms": index}) for index in range(6_000)]
    odd = {1_500: "", 3_000: json.dumps(chat("gpt-4o-mini", 10, 1)), 4_500: "{not json"}
    lines = [odd.get(index, line) for index, line in enumerate(lines)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    frame = audit.priced.requests
    kept = [index for index in range(6_000) if index not in odd]
    assert audit.report.requests == 5_998 and audit.report.malformed == 1
    in_wrappers = frame.filter(pl.col("format") == "wrapped-openai-chat")
    assert in_wrappers["line"].to_list() == [index + 1 for index in kept]
    assert in_wrappers["latency_ms"].to_list() == [float(index) for index in kept]
    offsets = in_wrappers["offset"].to_list()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    assert offsets == [starts[index] for index in kept]
    assert frame.filter(pl.col("format") == "openai-chat")["line"].to_list() == [3_001]


def test_a_record_holding_no_requests_between_wrappers_costs_nothing(tmp_path: Path) -> None:
    """A record of a format that holds several requests may hold none (an OTLP export without spans):
    among wrapped chat records, built a column at a time, it starts a run of no rows, which the
    reader passes over."""
    wrapped = {"ts": "2026-10-01T00:00:00Z", "request": {"model": "gpt-4o"},
               "response": chat("gpt-4o-2024-08-06", 1_000, 100)}
    lines = [json.dumps(wrapped), json.dumps({"resourceSpans": []}), json.dumps(wrapped)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    assert audit.priced.requests["line"].to_list() == [1, 3]
    assert audit.report.requests == 2 and audit.report.malformed == 0
    assert costs(audit) == pytest.approx([(1_000 * 2.50 + 100 * 10.00) / MTOK] * 2)


def test_an_empty_block_of_lines_adds_no_row_and_no_offset() -> None:
    """The reader's hot loop takes blocks of lines from any source; an empty one (none of today's
    sources yields one) adds nothing, so the lines, offsets and rows of a batch stay aligned."""
    from routecost.sources.reader import LogReader, _Batch

    lines = [(json.dumps({"ts": "2026-10-01T00:00:00Z", "latency_ms": index, "request": {"model": "gpt-4o"},
                          "response": chat("gpt-4o-2024-08-06", 100, 10)}) + "\n").encode() for index in range(5)]
    size = len(lines[0])  # every line has the same length
    blocks = [(0, 0, lines[:2]), (2, size * 2, lines[2:3]), (3, size * 3, []), (3, size * 3, lines[3:])]
    batch = _Batch(source="blocks.jsonl")
    LogReader(ReaderConfig(workers=1))._read_records(batch, iter(blocks), lenient=False)
    frame, _ = batch.frame()
    assert frame["line"].to_list() == [1, 2, 3, 4, 5]
    assert frame["offset"].to_list() == [size * index for index in range(5)]
    assert frame["latency_ms"].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0]
