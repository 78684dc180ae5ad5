"""Token counts for requests logged without usage: only those rows, from their text, marked estimated.

The oracle is tiktoken itself (OpenAI's tokenizer) on the same strings; what is under test is which
text routecost counts, with which encoding, and the chat-format overhead (3 tokens per message,
3 to prime the reply, as in OpenAI's token-counting guide).
"""

from __future__ import annotations

import pytest
import tiktoken

from routecost.tokens import CL100K, O200K, encoding, encoding_for
from tests.conftest import MTOK, audit_records

SYSTEM = "You are a terse assistant for Acme's support desk."
QUESTION = "How do I reset my password on the mobile app?"
ANSWER = "Open Settings, tap Account, then Reset password and follow the e-mail link."


def streamed_without_usage(model: str = "gpt-4o-2024-08-06") -> dict[str, object]:
    return {
        "ts": "2026-10-03T14:22:05Z",
        "request": {"model": "gpt-4o", "stream": True, "messages": [
            {"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]},
        "response": {"id": "chatcmpl-s", "object": "chat.completion", "created": 1_791_036_125, "model": model,
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}}]},
    }


def test_encoding_is_built_offline_and_matches_tiktoken_reference_ids():
    # "hello world" is [24912, 2375] in o200k_base and [15339, 1917] in cl100k_base
    assert encoding(O200K).encode_ordinary("hello world") == [24912, 2375]
    assert encoding(CL100K).encode_ordinary("hello world") == [15339, 1917]


def test_encoding_choice_by_model():
    assert encoding_for("gpt-4o-2024-08-06") == O200K
    assert encoding_for("openai/gpt-4.1-mini") == O200K
    assert encoding_for("gpt-4-0613") == CL100K
    assert encoding_for("gpt-3.5-turbo-0125") == CL100K
    assert encoding_for("claude-sonnet-4-5") == O200K


def test_missing_usage_is_counted_from_the_logged_text_and_priced(tmp_path):
    audit = audit_records(tmp_path, [streamed_without_usage()])
    o200k: tiktoken.Encoding = encoding(O200K)
    prompt = 3 + (3 + len(o200k.encode_ordinary(SYSTEM))) + (3 + len(o200k.encode_ordinary(QUESTION)))
    answer = len(o200k.encode_ordinary(ANSWER))
    row = audit.priced.requests.row(0, named=True)
    assert (row["input_tokens"], row["output_tokens"], row["tokens_estimated"]) == (prompt, answer, True)
    assert row["cost_usd"] == pytest.approx((prompt * 2.50 + answer * 10.00) / MTOK, rel=1e-12)  # gpt-4o
    assert audit.report.estimated == 1


def test_rows_with_usage_are_left_alone(tmp_path):
    with_usage = streamed_without_usage()
    with_usage["response"]["usage"] = {"prompt_tokens": 7, "completion_tokens": 3}  # type: ignore[index]
    audit = audit_records(tmp_path, [with_usage])
    row = audit.priced.requests.row(0, named=True)
    assert (row["input_tokens"], row["output_tokens"], row["tokens_estimated"]) == (7, 3, False)


def test_without_text_a_request_without_usage_stays_unpriced(tmp_path):
    bare = {"id": "c", "object": "chat.completion", "created": 1_791_036_125, "model": "gpt-4o", "choices": []}
    audit = audit_records(tmp_path, [bare])
    row = audit.priced.requests.row(0, named=True)
    assert row["cost_usd"] is None and row["tokens_estimated"] is False
    assert row["unpriced_reason"] == "no usage logged and no text to count"
    assert audit.report.unpriced_requests == 1


def test_batch_results_are_counted_with_the_text_of_their_request_line(tmp_path):
    request = {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": QUESTION}]}}
    result = {"id": "batch_req_1", "custom_id": "r1", "error": None, "response": {"status_code": 200, "body": {
        "id": "c", "object": "chat.completion", "created": 1_792_500_000, "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}}]}}}
    audit = audit_records(tmp_path, [result, request])
    o200k = encoding(O200K)
    row = audit.priced.requests.row(0, named=True)
    assert row["input_tokens"] == 3 + 3 + len(o200k.encode_ordinary(QUESTION))
    assert row["output_tokens"] == len(o200k.encode_ordinary(ANSWER))
