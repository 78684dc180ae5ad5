"""Routing policies projected over small logs, checked against costs worked out by hand.

Prices used (USD per million tokens, the providers' published price sheets):
  gpt-4o:            input 2.50, cached input 1.25, output 10.00
  gpt-4o-mini:       input 0.15, cached input 0.075, output 0.60
  gpt-4.1:           input 2.00, cached input 0.50, output 8.00
  gpt-4.1-mini:      input 0.40, cached input 0.10, output 1.60
  gpt-4 (0613):      input 30.00, output 60.00
  claude-sonnet-4-5: input 3.00, cache read 0.30, cache write (5m) 3.75, output 15.00
  claude-haiku-4-5:  input 1.00, cache read 0.10, cache write (5m) 1.25, output 5.00
  gemini-2.5-flash:  input 0.30, output 2.50
  Batch API:         50% of the standard prices (requests dated before the catalog's batch prices)

Counterfactual rules (``simulate/counterfactual.py``): input tokens carry over exactly between
models sharing an encoding; across families they scale by ``tokens.TOKENIZER_DEFAULTS`` (o200k
1.00, anthropic 1.15, gemini 1.03) with a ±10% range; output keeps its length with a 0.8-1.25
range on another model; prompt-cache reads and writes stay warm on the same model and go cold
(plain input) on another.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.report.json import render
from routecost.segment_audit import per_request_rows
from routecost.simulate.projection import CategoryProjection
from routecost.sources.reader import ReaderConfig
from routecost.tokens import encoding
from tests.conftest import AS_OF, MTOK, write_jsonl

TS = "2026-10-03T14:22:05Z"
GPT4O = "gpt-4o-2024-08-06"
SONNET = "claude-sonnet-4-5-20250929"
MINI = "openai/gpt-4o-mini"
REL = 1e-9

# The same gpt-4o request (1000 input, 200 output tokens) on the models it is routed to below.
ON_GPT4O = (1000 * 2.50 + 200 * 10.00) / MTOK      # 4500 / MTOK, the baseline
ON_MINI = (1000 * 0.15 + 200 * 0.60) / MTOK        # 270 / MTOK
ON_GPT41 = (1000 * 2.00 + 200 * 8.00) / MTOK       # 3600 / MTOK
ON_GPT41_MINI = (1000 * 0.40 + 200 * 1.60) / MTOK  # 720 / MTOK


def chat_record(model: str, prompt: int, completion: int, *, cached: int | None = None, user: str = "Hello",
                system: str | None = None, history: Sequence[dict[str, str]] = (), tags: Sequence[str] = (),
                metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """An in-house wrapper around an OpenAI chat completion; the last message is ``user``."""
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    messages = [*([{"role": "system", "content": system}] if system else []), *history,
                {"role": "user", "content": user}]
    response = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_791_000_000, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure."},
                             "finish_reason": "stop"}],
                "usage": usage}
    return {"ts": TS, "tags": list(tags), "metadata": metadata or {},
            "request": {"model": model, "messages": messages}, "response": response}


def message_record(model: str, input_tokens: int, output_tokens: int, *, cache_read: int = 0,
                   cache_write: int = 0, user: str = "Hello") -> dict[str, Any]:
    """An in-house wrapper around an Anthropic message (``input_tokens`` excludes the cache)."""
    response = {"id": "msg_01", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "Sure."}], "stop_reason": "end_turn",
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "cache_read_input_tokens": cache_read, "cache_creation_input_tokens": cache_write}}
    return {"ts": TS, "tags": [], "metadata": {},
            "request": {"model": model, "max_tokens": 1024, "system": "Be brief.",
                        "messages": [{"role": "user", "content": user}]},
            "response": response}


def failed_record(model: str) -> dict[str, Any]:
    return {"ts": TS, "status": "error", "http_status": 500,
            "request": {"model": model, "messages": [{"role": "user", "content": "Hello"}]},
            "response": {"error": {"message": "overloaded"}}}


def batch_output_line(model: str, prompt: int, completion: int) -> dict[str, Any]:
    """An OpenAI Batch API result line (2026-10-03, before the catalog's own batch prices)."""
    body = chat_record(model, prompt, completion)["response"]
    return {"id": "batch_req_1", "custom_id": "a", "error": None,
            "response": {"status_code": 200, "request_id": "r", "body": body}}


def write_text(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def project(tmp_path: Path, records: Sequence[dict[str, Any]], policies: Sequence[str] = (), *,
            prices: str | None = None, what_if: Sequence[str] = (), where: Sequence[str] = ()) -> Audit:
    """Audit the records with the given policy files (YAML text) and price file."""
    log = write_jsonl(tmp_path / "log.jsonl", records)
    policy_paths = [write_text(tmp_path / f"policy{index}.yaml", text) for index, text in enumerate(policies)]
    prices_path = None if prices is None else write_text(tmp_path / "prices.yaml", prices)
    return run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), prices_path=prices_path,
                                  policy_paths=policy_paths, what_if=what_if, where=where, as_of=AS_OF))


def column(audit: Audit, policy: str, name: str) -> list[Any]:
    """A per-request column of one policy (``routed_model``, ``projected_cost_usd``, ...)."""
    assert audit.priced is not None
    return per_request_rows(audit.priced.requests, audit.report.policies)[f"{policy}.{name}"].to_list()


def categories(audit: Audit, index: int = 0) -> dict[str, CategoryProjection]:
    return {row.category: row for row in audit.report.policies[index].categories}


def only_category(audit: Audit, index: int = 0) -> CategoryProjection:
    rows = audit.report.policies[index].categories
    assert len(rows) == 1, rows
    return rows[0]


def to_mini_when(condition: str) -> str:
    return f"name: p\nroutes:\n  - when: {condition}\n    to: gpt-4o-mini\n  - to: keep\n"


# ---------------------------------------------------------------------------------------------
# Every kind of condition drives routing
# ---------------------------------------------------------------------------------------------

CONDITION_CASES = {
    "metadata value": (
        "{metadata.feature: triage}",
        chat_record(GPT4O, 1000, 200, metadata={"feature": "triage"}),
        chat_record(GPT4O, 1000, 200, metadata={"feature": "chat"}),
    ),
    "nested metadata value": (
        "{metadata.app.team: support}",
        chat_record(GPT4O, 1000, 200, metadata={"app": {"team": "support"}}),
        chat_record(GPT4O, 1000, 200, metadata={"app": {"team": "sales"}, "team": "support"}),
    ),
    "tag": (
        '{tag: "tier:free"}',
        chat_record(GPT4O, 1000, 200, tags=["env:prod", "tier:free"]),
        chat_record(GPT4O, 1000, 200, tags=["env:prod", "tier:paid"]),
    ),
    "prompt regex on the last user message": (
        '{prompt: {regex: "(?i)traceback"}}',
        chat_record(GPT4O, 1000, 200, user="Why do I get this Traceback?"),
        chat_record(GPT4O, 1000, 200, user="Thanks, fixed.",
                    history=[{"role": "user", "content": "Traceback (most recent call last)"},
                             {"role": "assistant", "content": "Import it first."}]),
    ),
    "prompt keywords, case-insensitive": (
        "{prompt: {keywords: [refund, invoice]}}",
        chat_record(GPT4O, 1000, 200, user="Where is my INVOICE?"),
        chat_record(GPT4O, 1000, 200, user="Where is my parcel?", system="Handle refund questions."),
    ),
    "system prompt": (
        "{system: {keywords: [json]}}",
        chat_record(GPT4O, 1000, 200, system="Reply in JSON only.", user="List three colours"),
        chat_record(GPT4O, 1000, 200, system="Be brief.", user="Give me json please"),
    ),
}


@pytest.mark.parametrize("case", CONDITION_CASES.values(), ids=CONDITION_CASES.keys())
def test_condition_sends_matching_requests_to_the_route_and_keeps_the_rest(
        tmp_path: Path, case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    condition, matching, other = case
    audit = project(tmp_path, [matching, other], [to_mini_when(condition)])
    assert column(audit, "p", "routed_model") == [MINI, "openai/gpt-4o"]
    # matching: 1000 x $0.15 + 200 x $0.60 on gpt-4o-mini; other: kept, 1000 x $2.50 + 200 x $10
    assert column(audit, "p", "projected_cost_usd") == pytest.approx([ON_MINI, ON_GPT4O], rel=REL)
    projection = audit.report.policies[0]
    assert projection.savings_usd == pytest.approx((4500 - 270) / MTOK, rel=REL)
    assert only_category(audit).routed == {MINI: 50.0, "openai/gpt-4o": 50.0}


def test_input_token_bounds_are_inclusive_or_exclusive_as_written(tmp_path: Path) -> None:
    records = [chat_record(GPT4O, prompt, 100) for prompt in (499, 500, 1999, 2000)]
    audit = project(tmp_path, records, [to_mini_when("{input_tokens: {gte: 500, lt: 2000}}")])
    assert column(audit, "p", "routed_model") == ["openai/gpt-4o", MINI, MINI, "openai/gpt-4o"]
    assert column(audit, "p", "projected_cost_usd") == pytest.approx([
        (499 * 2.50 + 100 * 10.00) / MTOK,
        (500 * 0.15 + 100 * 0.60) / MTOK,
        (1999 * 0.15 + 100 * 0.60) / MTOK,
        (2000 * 2.50 + 100 * 10.00) / MTOK,
    ], rel=REL)


def test_model_condition_matches_the_canonical_name_exactly_or_by_glob(tmp_path: Path) -> None:
    records = [chat_record(GPT4O, 1000, 200), chat_record("gpt-4o-mini-2024-07-18", 1000, 200),
               chat_record("gpt-4.1-2025-04-14", 1000, 200)]
    policy = ("name: p\nroutes:\n"
              "  - when: {model: gpt-4o}\n    to: gpt-4o-mini\n"
              '  - when: {model: "gpt-4.*"}\n    to: gpt-4.1-mini\n')
    audit = project(tmp_path, records, [policy])
    # gpt-4o-mini-2024-07-18 is not "gpt-4o" and not "gpt-4.*": it stays where it was
    assert column(audit, "p", "routed_model") == [MINI, MINI, "openai/gpt-4.1-mini"]
    assert column(audit, "p", "projected_cost_usd") == pytest.approx(
        [ON_MINI, ON_MINI, ON_GPT41_MINI], rel=REL)
    # baseline 4500 + 270 + 3600 (gpt-4.1), projected 270 + 270 + 720
    assert audit.report.policies[0].savings_usd == pytest.approx(
        ((4500 + 270 + 3600) - (270 + 270 + 720)) / MTOK, rel=REL)


def test_provider_condition_routes_only_that_providers_requests(tmp_path: Path) -> None:
    records = [chat_record(GPT4O, 1000, 200), message_record(SONNET, 1000, 200)]
    policy = "name: p\nroutes:\n  - when: {provider: anthropic}\n    to: claude-haiku-4-5\n  - to: keep\n"
    audit = project(tmp_path, records, [policy])
    assert column(audit, "p", "routed_model") == ["openai/gpt-4o", "anthropic/claude-haiku-4-5"]
    # sonnet -> haiku shares a tokenizer: 1000 x $1 + 200 x $5 (baseline 1000 x $3 + 200 x $15)
    assert column(audit, "p", "projected_cost_usd") == pytest.approx(
        [ON_GPT4O, (1000 * 1.00 + 200 * 5.00) / MTOK], rel=REL)
    assert audit.report.policies[0].savings_usd == pytest.approx(
        ((1000 * 3.00 + 200 * 15.00) - (1000 * 1.00 + 200 * 5.00)) / MTOK, rel=REL)


def test_failed_requests_cost_nothing_under_every_policy(tmp_path: Path) -> None:
    records = [failed_record("gpt-4o"), chat_record(GPT4O, 1000, 200)]
    route = ("name: route\nroutes:\n  - when: {status: error}\n    to: gpt-4.1\n"
             "  - when: {status: ok}\n    to: gpt-4o-mini\n")
    cascade = ("name: cascade\ncascades:\n"
               "  - try: gpt-4o-mini\n    escalate_to: gpt-4.1\n    escalate_rate: 0.5\n")
    audit = project(tmp_path, records, [route, cascade])
    assert column(audit, "route", "routed_model") == ["openai/gpt-4.1", MINI]
    assert column(audit, "route", "projected_cost_usd") == pytest.approx([0.0, ON_MINI], rel=REL)
    # cascade: 270 on gpt-4o-mini + 0.5 x 3600 on gpt-4.1
    assert column(audit, "cascade", "projected_cost_usd") == pytest.approx(
        [0.0, (270 + 0.5 * 3600) / MTOK], rel=REL)
    for index in (0, 1):
        row = only_category(audit, index)
        assert (row.requests, row.priced_requests) == (2, 1)
        assert row.baseline_cost_usd == pytest.approx(ON_GPT4O, rel=REL)
        assert row.routed == {MINI: 100.0}


def test_batch_requests_match_mode_and_stay_batch_priced_on_the_target(tmp_path: Path) -> None:
    records = [batch_output_line(GPT4O, 1000, 200), chat_record(GPT4O, 1000, 200)]
    policy = ("name: p\nroutes:\n  - when: {mode: batch}\n    to: gpt-4o-mini\n"
              "  - when: {mode: realtime}\n    to: gpt-4.1-mini\n")
    audit = project(tmp_path, records, [policy])
    # (a batch result comes after the other requests: it waits for the request lines it is joined to)
    assert column(audit, "p", "routed_model") == ["openai/gpt-4.1-mini", MINI]
    # batch at 50%: 1000 x $0.075 + 200 x $0.30 on gpt-4o-mini (baseline 1000 x $1.25 + 200 x $5 on gpt-4o)
    batch_on_mini = (1000 * 0.075 + 200 * 0.30) / MTOK
    assert column(audit, "p", "projected_cost_usd") == pytest.approx([ON_GPT41_MINI, batch_on_mini], rel=REL)
    row = only_category(audit)
    assert row.baseline_cost_usd == pytest.approx((1000 * 1.25 + 200 * 5.00 + 4500) / MTOK, rel=REL)
    assert row.cost_usd == pytest.approx((1000 * 0.075 + 200 * 0.30 + 720) / MTOK, rel=REL)


# ---------------------------------------------------------------------------------------------
# First match wins: categories, routes, cascades
# ---------------------------------------------------------------------------------------------

CATEGORY_POLICY = """\
name: triage
categories:
  - name: code
    when: {prompt: {regex: "(?i)traceback|def "}}
  - name: support
    when: {tag: "team:support"}
  - name: other
routes:
  - when: {category: support}
    to: gpt-4o-mini
  - when: {category: [support, code]}
    to: gpt-4.1
"""


def category_records() -> list[dict[str, Any]]:
    return [
        # "code" (the first rule), though it is also tagged team:support
        chat_record(GPT4O, 1000, 200, tags=["team:support"], user="Traceback in my script"),
        chat_record(GPT4O, 1000, 200, tags=["team:support"], user="Reset my password"),  # support
        chat_record(GPT4O, 1000, 200, user="Plan a trip"),  # other
    ]


def test_first_matching_category_rule_and_first_matching_route_win(tmp_path: Path) -> None:
    audit = project(tmp_path, category_records(), [CATEGORY_POLICY])
    assert column(audit, "triage", "category") == ["code", "support", "other"]
    # support matches both routes and takes the first; no route matches "other", which stays on gpt-4o
    assert column(audit, "triage", "routed_model") == ["openai/gpt-4.1", MINI, "openai/gpt-4o"]
    assert column(audit, "triage", "projected_cost_usd") == pytest.approx(
        [ON_GPT41, ON_MINI, ON_GPT4O], rel=REL)
    by_name = categories(audit)
    code, support, other = by_name["code"], by_name["support"], by_name["other"]
    assert (code.requests, code.routed) == (1, {"openai/gpt-4.1": 100.0})
    assert (code.baseline_cost_usd, code.cost_usd) == pytest.approx((4500 / MTOK, 3600 / MTOK), rel=REL)
    assert code.savings_usd == pytest.approx((4500 - 3600) / MTOK, rel=REL)
    assert code.savings_pct == pytest.approx(100 * 900 / 4500, rel=REL)  # 20%
    assert support.savings_usd == pytest.approx((4500 - 270) / MTOK, rel=REL)
    assert support.savings_pct == pytest.approx(100 * 4230 / 4500, rel=REL)  # 94%
    assert (other.savings_usd, other.savings_pct, other.routed) == (0.0, 0.0, {"openai/gpt-4o": 100.0})
    projection = audit.report.policies[0]
    assert projection.cost_usd == pytest.approx((3600 + 270 + 4500) / MTOK, rel=REL)
    assert projection.savings_usd == pytest.approx((3 * 4500 - (3600 + 270 + 4500)) / MTOK, rel=REL)


def test_category_from_a_logged_metadata_key_drives_the_routes(tmp_path: Path) -> None:
    records = [chat_record(GPT4O, 1000, 200, metadata={"feature": "triage"}),
               chat_record(GPT4O, 1000, 200, metadata={"feature": "drafting"}),
               chat_record(GPT4O, 1000, 200)]
    policy = ("name: p\ncategories:\n  - from: metadata.feature\n"
              "routes:\n  - when: {category: triage}\n    to: gpt-4o-mini\n"
              "  - when: {category: uncategorized}\n    to: gpt-4.1\n")
    audit = project(tmp_path, records, [policy])
    assert column(audit, "p", "category") == ["triage", "drafting", "uncategorized"]
    assert column(audit, "p", "projected_cost_usd") == pytest.approx([ON_MINI, ON_GPT4O, ON_GPT41], rel=REL)
    assert {name: row.savings_usd for name, row in categories(audit).items()} == pytest.approx(
        {"triage": (4500 - 270) / MTOK, "drafting": 0.0, "uncategorized": (4500 - 3600) / MTOK}, rel=REL)


def test_cascade_pays_the_try_for_every_request_and_the_escalation_for_its_share(tmp_path: Path) -> None:
    records = [
        # 1000 prompt tokens of which 400 cached: 600 x $2.50 + 400 x $1.25 + 200 x $10 = 4000 / MTOK
        chat_record(GPT4O, 1000, 200, cached=400, metadata={"feature": "support"}),
        chat_record(GPT4O, 1000, 200, metadata={"feature": "legal"}),
        chat_record(GPT4O, 1000, 200, metadata={"feature": "chat"}),
    ]
    policy = """\
name: cascade
cascades:
  - when: {metadata.feature: support}
    try: gpt-4o-mini
    escalate_to: keep
    escalate_rate: 0.2
  - when: {metadata.feature: [support, legal]}
    try: gpt-4.1-mini
    escalate_to: gpt-4.1
    escalate_rate: 0.5
routes:
  - to: gpt-4.1-mini
"""
    audit = project(tmp_path, records, [policy])
    assert column(audit, "cascade", "routed_model") == [MINI, "openai/gpt-4.1-mini", "openai/gpt-4.1-mini"]
    # support: the try on gpt-4o-mini is cold (1000 x $0.15 + 200 x $0.60 = 270), the escalation stays on the
    #   logged gpt-4o with its cache warm (4000) for 20% of requests
    # legal: gpt-4.1-mini (720) + 50% x gpt-4.1 (3600); chat: routed to gpt-4.1-mini (720)
    assert column(audit, "cascade", "projected_cost_usd") == pytest.approx([
        (270 + 0.2 * 4000) / MTOK,
        (720 + 0.5 * 3600) / MTOK,
        720 / MTOK,
    ], rel=REL)
    projection = audit.report.policies[0]
    assert projection.cost_usd == pytest.approx((1070 + 2520 + 720) / MTOK, rel=REL)
    assert projection.savings_usd == pytest.approx(
        ((4000 + 4500 + 4500) - (1070 + 2520 + 720)) / MTOK, rel=REL)


def test_cascade_range_covers_the_try_output_but_not_the_kept_escalation(tmp_path: Path) -> None:
    record = chat_record(GPT4O, 1000, 200, cached=400)
    policy = "name: c\ncascades:\n  - try: gpt-4o-mini\n    escalate_to: keep\n    escalate_rate: 0.2\n"
    row = only_category(project(tmp_path, [record], [policy]))
    # input on gpt-4o-mini 1000 x $0.15 = 150 exactly; output 200 x $0.60 = 120 in 0.8-1.25;
    # escalation on the logged gpt-4o, cache warm and no range: 0.2 x 4000
    assert row.cost_usd == pytest.approx((150 + 120 + 0.2 * 4000) / MTOK, rel=REL)
    assert row.low_usd == pytest.approx((150 + 0.8 * 120 + 0.2 * 4000) / MTOK, rel=REL)
    assert row.high_usd == pytest.approx((150 + 1.25 * 120 + 0.2 * 4000) / MTOK, rel=REL)


# ---------------------------------------------------------------------------------------------
# Counterfactual tokens
# ---------------------------------------------------------------------------------------------

def test_same_encoding_carries_input_tokens_over_exactly(tmp_path: Path) -> None:
    audit = project(tmp_path, [chat_record(GPT4O, 1234, 321)], ["name: p\nroutes:\n  - to: gpt-4o-mini\n"])
    # gpt-4o and gpt-4o-mini share o200k: 1234 x $0.15 = 185.1 exactly; output 321 x $0.60 = 192.6 in 0.8-1.25
    row = only_category(audit)
    assert row.cost_usd == pytest.approx((1234 * 0.15 + 321 * 0.60) / MTOK, rel=REL)
    assert row.low_usd == pytest.approx((1234 * 0.15 + 0.8 * 321 * 0.60) / MTOK, rel=REL)
    assert row.high_usd == pytest.approx((1234 * 0.15 + 1.25 * 321 * 0.60) / MTOK, rel=REL)


def test_cached_tokens_go_cold_on_another_model_and_stay_cached_on_the_same(tmp_path: Path) -> None:
    record = chat_record(GPT4O, 2000, 100, cached=1500)
    policies = [f"name: {name}\nroutes:\n  - to: {target}\n"
                for name, target in (("mini", "gpt-4o-mini"), ("same", "gpt-4o"), ("kept", "keep"))]
    audit = project(tmp_path, [record], policies)
    # baseline: 500 x $2.50 + 1500 x $1.25 + 100 x $10 = 4125 / MTOK
    baseline = (500 * 2.50 + 1500 * 1.25 + 100 * 10.00) / MTOK
    # on gpt-4o-mini all 2000 input tokens are plain input (not 500 x $0.15 + 1500 x $0.075)
    assert column(audit, "mini", "projected_cost_usd") == pytest.approx(
        [(2000 * 0.15 + 100 * 0.60) / MTOK], rel=REL)
    for index, name in ((1, "same"), (2, "kept")):
        assert column(audit, name, "projected_cost_usd") == pytest.approx([baseline], rel=REL)
        row = only_category(audit, index)
        assert (row.cost_usd, row.low_usd, row.high_usd) == pytest.approx(
            (baseline, baseline, baseline), rel=REL)
        assert row.savings_usd == pytest.approx(0.0, abs=1e-15)


def test_anthropic_cache_reads_and_writes_go_cold_on_another_model(tmp_path: Path) -> None:
    record = message_record(SONNET, 500, 100, cache_read=1000, cache_write=2000)
    audit = project(tmp_path, [record], ["name: p\nroutes:\n  - to: claude-haiku-4-5\n"])
    row = only_category(audit)
    # baseline: 500 x $3 + 1000 reads x $0.30 + 2000 writes x $3.75 + 100 x $15 = 10800 / MTOK
    assert row.baseline_cost_usd == pytest.approx(
        (500 * 3.00 + 1000 * 0.30 + 2000 * 3.75 + 100 * 15.00) / MTOK, rel=REL)
    # haiku (same tokenizer): 3500 plain input x $1 + 100 x $5 (warm it would be 500 + 100 + 2500 + 500)
    assert row.cost_usd == pytest.approx((3500 * 1.00 + 100 * 5.00) / MTOK, rel=REL)


CROSS_FAMILY = [
    # target, price file, target tokens per o200k token, target input and output price
    pytest.param("claude-haiku-4-5", None, 1.15, 1.00, 5.00, id="anthropic, tokenizer table"),
    pytest.param("claude-haiku-4-5", "tokenizer_ratios: {anthropic: 1.30}\n", 1.30, 1.00, 5.00,
                 id="anthropic, price file override"),
    pytest.param("gemini-2.5-flash", None, 1.03, 0.30, 2.50, id="gemini, tokenizer table"),
]


@pytest.mark.parametrize(("target", "prices", "ratio", "input_price", "output_price"), CROSS_FAMILY)
def test_cross_family_scales_input_with_a_range(tmp_path: Path, target: str, prices: str | None, ratio: float,
                                                input_price: float, output_price: float) -> None:
    audit = project(tmp_path, [chat_record(GPT4O, 1000, 200)], [f"name: p\nroutes:\n  - to: {target}\n"],
                    prices=prices)
    # 1000 logged o200k tokens become 1150 (haiku, table), 1300 (haiku, override) or 1030 (gemini)
    input_cost = round(1000 * ratio) * input_price
    output_cost = 200 * output_price  # output length carries over: 1000 (haiku) or 500 (gemini)
    row = only_category(audit)
    assert row.cost_usd == pytest.approx((input_cost + output_cost) / MTOK, rel=REL)
    assert row.low_usd == pytest.approx((0.9 * input_cost + 0.8 * output_cost) / MTOK, rel=REL)
    assert row.high_usd == pytest.approx((1.1 * input_cost + 1.25 * output_cost) / MTOK, rel=REL)
    assert row.savings_usd == pytest.approx((4500 - (input_cost + output_cost)) / MTOK, rel=REL)


CL100K_CONVERSATION = [
    {"role": "system", "content": "Tu es un assistant méticuleux. Réponds en français, sans emoji 🤖."},
    {"role": "user", "content": "Explique la tokenisation: naïveté, café, straße, 東京, ½ + ¾ = 1¼."},
    {"role": "assistant", "content": "Les mots rares sont découpés; les caractères CJK coûtent plus."},
]
CL100K_QUESTION = "Et pour du code? `def añadir(x): return x + 1` 👍"


def chat_prompt_tokens(encoding_name: str) -> int:
    """The oracle: tiktoken's count of the logged prompt, 3 tokens per message + 3 to prime the reply."""
    texts = [message["content"] for message in CL100K_CONVERSATION] + [CL100K_QUESTION]
    return 3 + sum(3 + len(encoding(encoding_name).encode_ordinary(text)) for text in texts)


def test_cl100k_to_o200k_counts_the_logged_prompt_with_both_encodings(tmp_path: Path) -> None:
    cl100k, o200k = chat_prompt_tokens("cl100k_base"), chat_prompt_tokens("o200k_base")
    assert o200k not in (cl100k, round(cl100k / 1.05))  # the text makes the exact count differ from the table
    record = chat_record("gpt-4-0613", cl100k, 50, system=CL100K_CONVERSATION[0]["content"],
                         history=CL100K_CONVERSATION[1:], user=CL100K_QUESTION)
    audit = project(tmp_path, [record], ["name: p\nroutes:\n  - to: gpt-4o\n"])
    # the logged cl100k prompt becomes exactly the o200k count on gpt-4o; output 50 x $10 in 0.8-1.25
    assert column(audit, "p", "projected_cost_usd") == pytest.approx(
        [(o200k * 2.50 + 50 * 10.00) / MTOK], rel=REL)
    row = only_category(audit)
    assert row.baseline_cost_usd == pytest.approx((cl100k * 30.00 + 50 * 60.00) / MTOK, rel=REL)
    assert row.low_usd == pytest.approx((o200k * 2.50 + 0.8 * 50 * 10.00) / MTOK, rel=REL)
    assert row.high_usd == pytest.approx((o200k * 2.50 + 1.25 * 50 * 10.00) / MTOK, rel=REL)


# ---------------------------------------------------------------------------------------------
# --what-if, the JSON contract, unpriced requests
# ---------------------------------------------------------------------------------------------

def what_if_records() -> list[dict[str, Any]]:
    return [
        # baselines: 300 x $2.50 + 100 x $10 = 1750; 3000 x $2.50 + 1000 = 8500; 300 x $2 + 100 x $8 = 1400
        chat_record(GPT4O, 300, 100, metadata={"feature": "triage"}),
        chat_record(GPT4O, 3000, 100, metadata={"feature": "triage"}),
        chat_record("gpt-4.1-2025-04-14", 300, 100, metadata={"feature": "chat"}),
    ]


def test_what_if_sends_every_request_to_each_model(tmp_path: Path) -> None:
    audit = project(tmp_path, what_if_records(), what_if=["gpt-4o-mini", "gpt-4.1-mini"])
    mini, gpt41_mini = "what-if openai/gpt-4o-mini", "what-if openai/gpt-4.1-mini"
    assert [policy.name for policy in audit.report.policies] == [mini, gpt41_mini]
    assert column(audit, mini, "routed_model") == [MINI] * 3
    assert column(audit, mini, "projected_cost_usd") == pytest.approx([
        (300 * 0.15 + 100 * 0.60) / MTOK, (3000 * 0.15 + 100 * 0.60) / MTOK, (300 * 0.15 + 100 * 0.60) / MTOK,
    ], rel=REL)
    assert column(audit, gpt41_mini, "projected_cost_usd") == pytest.approx([
        (300 * 0.40 + 100 * 1.60) / MTOK, (3000 * 0.40 + 100 * 1.60) / MTOK, (300 * 0.40 + 100 * 1.60) / MTOK,
    ], rel=REL)
    # baseline 1750 + 8500 + 1400 = 11650; on gpt-4o-mini 105 + 510 + 105 = 720
    assert audit.report.policies[0].savings_usd == pytest.approx((11650 - 720) / MTOK, rel=REL)


def test_what_if_where_moves_only_the_matching_requests(tmp_path: Path) -> None:
    audit = project(tmp_path, what_if_records(), what_if=["gpt-4o-mini"],
                    where=["metadata.feature=triage", "input_tokens<1000"])
    name = "what-if openai/gpt-4o-mini where metadata.feature=triage and input_tokens<1000"
    assert [policy.name for policy in audit.report.policies] == [name]
    assert column(audit, name, "routed_model") == [MINI, "openai/gpt-4o", "openai/gpt-4.1"]
    assert column(audit, name, "projected_cost_usd") == pytest.approx(
        [(300 * 0.15 + 100 * 0.60) / MTOK, 8500 / MTOK, 1400 / MTOK], rel=REL)
    assert audit.report.policies[0].savings_usd == pytest.approx((1750 - 105) / MTOK, rel=REL)


def test_json_report_policies_follow_the_contract(tmp_path: Path) -> None:
    audit = project(tmp_path, category_records(), [CATEGORY_POLICY])
    policy = json.loads(render(audit.report))["policies"][0]
    assert {"name", "cost_usd", "savings_usd", "savings_pct", "categories"} <= policy.keys()
    assert policy["name"] == "triage"
    assert policy["cost_usd"] == pytest.approx((3600 + 270 + 4500) / MTOK, rel=REL)
    assert policy["savings_usd"] == pytest.approx((13500 - 8370) / MTOK, rel=REL)
    assert policy["savings_pct"] == pytest.approx(100 * 5130 / 13500, rel=REL)  # 38%
    contract = {"category", "requests", "baseline_cost_usd", "cost_usd", "savings_usd", "savings_pct",
                "low_usd", "high_usd", "routed"}
    by_name = {row["category"]: row for row in policy["categories"]}
    assert all(contract <= row.keys() for row in by_name.values())
    support = by_name["support"]
    assert support["requests"] == 1
    assert support["routed"] == {MINI: 100.0}
    money = [support[key] for key in ("baseline_cost_usd", "cost_usd", "savings_usd", "savings_pct")]
    assert money == pytest.approx([4500 / MTOK, 270 / MTOK, 4230 / MTOK, 94.0], rel=REL)
    # gpt-4o -> gpt-4o-mini: input 150 exact, output 120 in 0.8-1.25
    assert [support["low_usd"], support["high_usd"]] == pytest.approx(
        [(150 + 0.8 * 120) / MTOK, (150 + 1.25 * 120) / MTOK], rel=REL)


def test_requests_the_baseline_cannot_price_are_left_out_of_the_comparison(tmp_path: Path) -> None:
    records = [chat_record(GPT4O, 1000, 200), chat_record("acme-llm-7b", 1000, 200)]
    audit = project(tmp_path, records, ["name: p\nroutes:\n  - to: gpt-4o-mini\n"])
    assert audit.report.unpriced_requests == 1
    costs = column(audit, "p", "projected_cost_usd")
    assert costs[0] == pytest.approx(ON_MINI, rel=REL)
    assert costs[1] is None  # not $0: there is no baseline to save against
    row = only_category(audit)
    assert (row.requests, row.priced_requests) == (2, 1)
    assert (row.baseline_cost_usd, row.cost_usd) == pytest.approx((4500 / MTOK, 270 / MTOK), rel=REL)
    # 94%, not diluted by the unpriced request
    assert row.savings_pct == pytest.approx(100 * 4230 / 4500, rel=REL)
    assert row.routed == {MINI: 100.0}


def test_a_clause_or_a_listed_value_that_matches_no_request_is_named(tmp_path: Path) -> None:
    """Before: a typo (`stme`) beside a value that matched gave smaller savings and no word."""
    policy = """\
name: typo
categories:
  - from: metadata.category
routes:
  - when: {category: [extraction, stme]}
    to: gpt-4o-mini
  - when: {model: gpt-9}
    to: gpt-4o-mini
cascades:
  - when: {category: extraction}
    try: gpt-4o-mini
    escalate_to: keep
    escalate_rate: 0.2
"""
    records = [chat_record(GPT4O, 1000, 200, metadata={"category": category}) for category in ("extraction", "stem")]
    notes = project(tmp_path, records, [policy]).report.policies[0].assumptions
    unmatched = [note for note in notes if "matched no request" in note]
    assert unmatched == ["routes[0] (to openai/gpt-4o-mini): category 'stme' matched no request",
                         "routes[1] (to openai/gpt-4o-mini) matched no request"]
    what_if = project(tmp_path, records, what_if=["gpt-4o-mini"], where=["category=sales"])
    assert any("matched no request" in note for note in what_if.report.policies[0].assumptions)


def test_a_cascades_escalated_cost_is_put_on_the_model_it_escalates_to(tmp_path: Path) -> None:
    """Before: the whole cascade cost was drawn and labelled as its first try's model."""
    policy = ("name: c\ncascades:\n  - try: gpt-4o-mini\n    escalate_to: gpt-4.1\n    escalate_rate: 0.25\n")
    audit = project(tmp_path, [chat_record(GPT4O, 1000, 200) for _ in range(4)], [policy])
    [row] = audit.report.policies[0].categories
    assert row.routed == {MINI: 100.0} and row.escalated == {"openai/gpt-4.1": 25.0}
    # each request: gpt-4o-mini, plus a quarter of gpt-4.1 (same o200k tokens)
    assert column(audit, "c", "escalated_cost_usd") == pytest.approx([0.25 * ON_GPT41] * 4, rel=REL)
    assert column(audit, "c", "projected_cost_usd") == pytest.approx([ON_MINI + 0.25 * ON_GPT41] * 4, rel=REL)
    [stack] = audit.report.policies[0].projected_stacks
    assert stack.by_model == pytest.approx({MINI: 4 * ON_MINI, "openai/gpt-4.1": ON_GPT41}, rel=REL)
