"""Cache and batch levers projected over small hand-built logs, checked against costs worked out by hand.

Prices used (USD per million tokens, the providers' published price sheets):
  gpt-4o:            input 2.50, cached input 1.25, output 10.00
  gpt-4o-mini:       input 0.15, cached input 0.075, output 0.60; Batch API 0.075 / 0.30
  claude-sonnet-4-5: input 3.00, cache read 0.30, cache write 5m 3.75, 1h 6.00, output 15.00;
                     Message Batches: half of each (input 1.50, cache read 0.15, write 5m 1.875, output 7.50)
  claude-haiku-4-5:  input 1.00, cache read 0.10, cache write 5m 1.25, output 5.00
  gemini-2.5-flash:  input 0.30, context cache read 0.03, output 2.50; Batch: input 0.15, output 1.25,
                     cache reads NOT discounted (0.03)

Providers' prompt-cache rules (``simulate/prompt_cache.py``): OpenAI caches automatically from 1,024
tokens in 128-token steps, Anthropic at breakpoints from 1,024 tokens (4,096 for Haiku 4.5); an
unused prefix lives 5 minutes (Anthropic 1-hour writes: an hour). A prefix's tokens are the
request's input tokens times the prefix's share of the prompt's bytes; the byte sizes are the ones the
reader measured while fingerprinting (``system_bytes``, ``prompt_bytes``: the measurement, not the pricing).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.errors import UsageError
from routecost.policy.loader import load_policy
from routecost.prices.catalog import PriceBook
from routecost.simulate.exact_cache import exact_cache_hits
from routecost.simulate.projection import CategoryProjection, PolicyProjection
from routecost.simulate.semantic_cache import EmbeddingStore, best_earlier_match
from routecost.simulate.threshold_sweep import sweep
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, write_jsonl

REL = 1e-9
START = datetime(2026, 10, 3, 14, 0, 0, tzinfo=UTC)
"""Before the catalog's own batch prices (2026-10-14): batch is the standard price times the catalog's
batch/standard ratio."""
GPT4O = "gpt-4o-2024-08-06"
MINI = "gpt-4o-mini-2024-07-18"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
FLASH = "gemini-2.5-flash"

ON_GPT4O = (1000 * 2.50 + 200 * 10.00) / MTOK  # 4500 / MTOK: a 1000-in, 200-out gpt-4o request

LONG_SYSTEM = "You are the support assistant for Acme Cloud. Answer from the handbook, cite it. " * 140
"""About 11,300 characters: most of a 3000-token prompt's bytes."""
SHORT_SYSTEM = "Be brief."
QUESTIONS = ["How do I rotate an API key?", "Why was I billed twice?", "Can I export my logs?",
             "Is there an EU region?"]
"""Different last user messages after a shared system prompt."""


# ---------------------------------------------------------------------------------------------
# Records, policies, results
# ---------------------------------------------------------------------------------------------

def at(seconds: float, start: datetime = START) -> str:
    return (start + timedelta(seconds=seconds)).isoformat()


def chat(model: str, prompt: int, completion: int, *, t: float = 0.0, user: str = "Hello",
         system: str | None = None, cached: int | None = None, start: datetime = START,
         metadata: dict[str, Any] | None = None, **request: Any) -> dict[str, Any]:
    """An in-house wrapper around an OpenAI chat completion, ``t`` seconds after ``start``; extra
    keyword arguments (``temperature``, ``stream``, ``tools``) go into the request."""
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion,
                             "total_tokens": prompt + completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    response = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_791_000_000, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure."},
                             "finish_reason": "stop"}],
                "usage": usage}
    return {"ts": at(t, start), "metadata": metadata or {},
            "request": {"model": model, "messages": messages, **request}, "response": response}


def message(model: str, input_tokens: int, output_tokens: int, *, t: float = 0.0,
            user: str = "Hello") -> dict[str, Any]:
    """An in-house wrapper around an Anthropic message with the long system prompt (no cache activity)."""
    response = {"id": "msg_01", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "Sure."}], "stop_reason": "end_turn",
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}
    return {"ts": at(t), "request": {"model": model, "max_tokens": 1024, "system": LONG_SYSTEM,
                                     "messages": [{"role": "user", "content": user}]},
            "response": response}


def gemini(prompt: int, candidates: int, cached: int) -> dict[str, Any]:
    """An in-house wrapper around a Gemini response whose prompt partly came from a context cache."""
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
             "cachedContentTokenCount": cached, "totalTokenCount": prompt + candidates}
    candidate = {"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "STOP"}
    response = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": FLASH}
    return {"ts": at(0), "request": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
            "response": response}


def project(tmp_path: Path, records: Sequence[dict[str, Any]], policies: Sequence[str]) -> Audit:
    """Audit the records with the given policy files (YAML text)."""
    log = write_jsonl(tmp_path / "log.jsonl", records)
    paths = []
    for index, text in enumerate(policies):
        path = tmp_path / f"policy{index}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=paths,
                                  as_of=AS_OF))


def projected(audit: Audit, index: int = 0) -> list[float]:
    return audit.report.policies[index].rows["projected_cost_usd"].to_list()


def only_category(audit: Audit, index: int = 0) -> CategoryProjection:
    rows = audit.report.policies[index].categories
    assert len(rows) == 1, rows
    return rows[0]


def by_category(audit: Audit, index: int = 0) -> dict[str, CategoryProjection]:
    return {row.category: row for row in audit.report.policies[index].categories}


def system_shares(audit: Audit) -> list[float]:
    """Each request's system prompt share of its prompt's bytes, as the reader measured them while
    fingerprinting (``system_bytes`` / ``prompt_bytes``): the byte measurement, not the pricing under test."""
    frame = audit.priced.requests
    return (frame["system_bytes"] / frame["prompt_bytes"]).to_list()


def long_system_shares(audit: Audit) -> list[float]:
    """``system_shares``, checked to be most of each prompt (the long system prompt dominates it)."""
    shares = system_shares(audit)
    assert all(0.95 < share < 1.0 for share in shares), shares
    return shares


def prefix_tokens(input_tokens: int, share: float) -> int:
    return math.floor(input_tokens * share)


def openai_cached(prefix: int) -> int:
    """OpenAI reads 1024 tokens plus whole 128-token steps."""
    return 1024 + 128 * ((prefix - 1024) // 128)


# ---------------------------------------------------------------------------------------------
# Exact cache
# ---------------------------------------------------------------------------------------------

def exact_policy(ttl: str, *lines: str) -> str:
    block = [f"    ttl: {ttl}", *(f"    {line}" for line in lines)]
    return "\n".join(["name: exact", "cache:", "  exact:", *block]) + "\n"


def test_identical_request_is_answered_from_the_cache_for_free(tmp_path: Path) -> None:
    records = [chat(GPT4O, 1000, 200, t=0), chat(GPT4O, 1000, 200, t=60)]
    audit = project(tmp_path, records, [exact_policy("1h")])
    assert projected(audit) == pytest.approx([ON_GPT4O, 0.0], rel=REL)
    row = only_category(audit)
    assert row.exact_cache_hits == 1
    assert row.savings_usd == pytest.approx(ON_GPT4O, rel=REL)


TTL_CASES = [
    pytest.param([0, 9], [False, True], id="hit at ttl - 1s"),
    pytest.param([0, 11], [False, False], id="miss at ttl + 1s"),
    pytest.param([0, 6, 12], [False, True, False], id="hits do not extend the entry"),
    pytest.param([0, 11, 15, 22], [False, False, True, False], id="a miss writes a fresh entry"),
]


@pytest.mark.parametrize("max_entries", [None, 10])
@pytest.mark.parametrize(("offsets", "hits"), TTL_CASES)
def test_ttl_counts_from_the_miss_that_wrote_the_entry(tmp_path: Path, offsets: list[int], hits: list[bool],
                                                       max_entries: int | None) -> None:
    records = [chat(GPT4O, 1000, 200, t=offset) for offset in offsets]
    lines = [] if max_entries is None else [f"max_entries: {max_entries}"]
    audit = project(tmp_path, records, [exact_policy("10s", *lines)])
    assert projected(audit) == pytest.approx([0.0 if hit else ON_GPT4O for hit in hits], rel=REL)
    assert only_category(audit).exact_cache_hits == sum(hits)


@pytest.mark.parametrize(("max_entries", "third_hits"), [(1, False), (2, True)])
def test_least_recently_used_entry_is_evicted(tmp_path: Path, max_entries: int, third_hits: bool) -> None:
    records = [chat(GPT4O, 1000, 200, t=0, user="A"), chat(GPT4O, 1000, 200, t=1, user="B"),
               chat(GPT4O, 1000, 200, t=2, user="A")]
    audit = project(tmp_path, records, [exact_policy("1h", f"max_entries: {max_entries}")])
    # with one entry, B evicts A; with two, A is still there
    assert projected(audit) == pytest.approx([ON_GPT4O, ON_GPT4O, 0.0 if third_hits else ON_GPT4O], rel=REL)


def test_expired_entry_does_not_push_a_live_one_out_of_a_bounded_cache(tmp_path: Path) -> None:
    # ttl 10s, 2 entries. A is written at 0 and hit at 9 (so A is the most recently used); at 11 A has
    # expired and C is written: a cache keeps live entries, so the expired A goes, not B (written at 5)
    offsets_users = [(0, "A"), (5, "B"), (9, "A"), (11, "C"), (12, "B")]
    records = [chat(GPT4O, 1000, 200, t=offset, user=user) for offset, user in offsets_users]
    audit = project(tmp_path, records, [exact_policy("10s", "max_entries: 2")])
    assert projected(audit) == pytest.approx([ON_GPT4O, ON_GPT4O, 0.0, ON_GPT4O, 0.0], rel=REL)


def test_model_and_sampling_parameters_are_part_of_the_key(tmp_path: Path) -> None:
    records = [
        chat(GPT4O, 1000, 200, t=0, temperature=0.2),
        chat(MINI, 1000, 200, t=1, temperature=0.2),   # another model: miss
        chat(GPT4O, 1000, 200, t=2, temperature=0.7),  # another temperature: miss
        chat(GPT4O, 1000, 200, t=3, temperature=0.7),  # same model, messages, temperature: hit
        chat(GPT4O, 1000, 200, t=4, temperature=0.2),  # the first one again: hit
    ]
    audit = project(tmp_path, records, [exact_policy("1h", "include: [sampled]")])
    on_mini = (1000 * 0.15 + 200 * 0.60) / MTOK
    assert projected(audit) == pytest.approx([ON_GPT4O, on_mini, ON_GPT4O, 0.0, 0.0], rel=REL)


TOOLS = [{"type": "function",
          "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
LEFT_OUT = [
    pytest.param({"stream": True}, "streaming", id="streaming"),
    pytest.param({"temperature": 0.7}, "sampled", id="sampled"),
    pytest.param({"tools": TOOLS}, "tools", id="tools"),
]


@pytest.mark.parametrize(("request_fields", "include"), LEFT_OUT)
def test_streaming_sampled_and_tool_requests_are_cached_only_when_included(
        tmp_path: Path, request_fields: dict[str, Any], include: str) -> None:
    records = [chat(GPT4O, 1000, 200, t=offset, **request_fields) for offset in (0, 60)]
    audit = project(tmp_path, records, [exact_policy("1h"), exact_policy("1h", f"include: [{include}]")])
    assert projected(audit, 0) == pytest.approx([ON_GPT4O, ON_GPT4O], rel=REL)
    assert only_category(audit, 0).exact_cache_hits == 0
    assert projected(audit, 1) == pytest.approx([ON_GPT4O, 0.0], rel=REL)
    assert only_category(audit, 1).exact_cache_hits == 1


def test_exact_cache_hits_are_counted_per_category(tmp_path: Path) -> None:
    faq = {"category": "faq"}
    records = [
        chat(GPT4O, 1000, 200, t=0, user="Opening hours?", metadata=faq),
        chat(GPT4O, 1000, 200, t=10, user="Write me a poem", metadata={"category": "chat"}),
        chat(GPT4O, 1000, 200, t=20, user="Opening hours?", metadata=faq),
        chat(GPT4O, 1000, 200, t=30, user="Write me a sonnet", metadata={"category": "chat"}),
        chat(GPT4O, 1000, 200, t=40, user="Opening hours?", metadata=faq),
    ]
    audit = project(tmp_path, records, [exact_policy("1h")])
    rows = by_category(audit)
    assert {name: row.exact_cache_hits for name, row in rows.items()} == {"faq": 2, "chat": 0}
    assert rows["faq"].cost_usd == pytest.approx(ON_GPT4O, rel=REL)  # 1 miss of 3
    assert rows["chat"].cost_usd == pytest.approx(2 * ON_GPT4O, rel=REL)


def reference_hits(keys: Sequence[int | None], times: Sequence[float | None], ttl: float,
                   max_entries: int | None) -> list[bool]:
    """A plain TTL + LRU cache, one request at a time in time order (ties in input order): an entry
    lives ``ttl`` seconds from the miss that wrote it, expired entries are gone, and past
    ``max_entries`` the least recently used entry is evicted."""
    hits = [False] * len(keys)
    order = sorted((i for i in range(len(keys)) if keys[i] is not None and times[i] is not None),
                   key=lambda i: (times[i], i))
    cache: dict[int, float] = {}  # key -> time written, least recently used first
    for i in order:
        key, now = keys[i], times[i]
        assert key is not None and now is not None
        cache = {k: written for k, written in cache.items() if now - written <= ttl}
        if key in cache:
            hits[i] = True
            cache[key] = cache.pop(key)
            continue
        cache[key] = now
        if max_entries is not None and len(cache) > max_entries:
            del cache[next(iter(cache))]
    return hits


@pytest.mark.parametrize("max_entries", [None, 1, 2, 3])
def test_exact_cache_hits_match_a_naive_replay(max_entries: int | None) -> None:
    rng = random.Random(20261103 + (max_entries or 0))
    for trial in range(150):
        count = rng.randint(200, 500) if trial % 10 == 0 else rng.randint(0, 60)
        alphabet = rng.randint(1, 6)
        keys = [None if rng.random() < 0.1 else rng.randrange(alphabet) for _ in range(count)]
        times = [None if rng.random() < 0.05 else float(rng.randrange(60)) + rng.choice([0.0, 0.5])
                 for _ in range(count)]
        ttl = rng.choice([0.5, 1.0, 3.0, 7.0, 20.0, 100.0])
        got = exact_cache_hits(pl.Series(keys, dtype=pl.Int64), pl.Series(times, dtype=pl.Float64), ttl,
                               max_entries)
        assert got.to_list() == reference_hits(keys, times, ttl, max_entries), (keys, times, ttl)


# ---------------------------------------------------------------------------------------------
# Providers' prompt caches
# ---------------------------------------------------------------------------------------------

PROMPT_5M = "name: prompt\ncache:\n  prompt: {ttl: 5m, breakpoints: [system]}\n"


def test_openai_reads_the_warm_system_prefix_in_128_token_steps(tmp_path: Path) -> None:
    offsets = [0, 120, 120 + 360]  # the third comes 6 minutes after the second: the prefix has gone cold
    records = [chat(GPT4O, 3000, 200, t=offset, system=LONG_SYSTEM, user=question)
               for offset, question in zip(offsets, QUESTIONS, strict=False)]
    audit = project(tmp_path, records, [PROMPT_5M])
    cached = openai_cached(prefix_tokens(3000, long_system_shares(audit)[1]))
    assert 2048 < cached < 3000  # the long system prompt is most of the prompt
    cold = (3000 * 2.50 + 200 * 10.00) / MTOK
    warm = ((3000 - cached) * 2.50 + cached * 1.25 + 200 * 10.00) / MTOK
    assert projected(audit) == pytest.approx([cold, warm, cold], rel=REL)
    row = only_category(audit)
    assert row.cache_read_share_before == 0.0
    assert row.cache_read_share_after == pytest.approx(100 * cached / (3 * 3000), rel=REL)


def test_a_request_answered_from_the_response_cache_does_not_keep_the_prefix_warm(tmp_path: Path) -> None:
    """The repeat at 4 minutes never reaches the provider, so the prefix written at 0 is gone by 8 minutes
    (5-minute lifetime); without the response cache the repeat itself refreshes it."""
    first, repeat, later = (chat(GPT4O, 3000, 200, t=offset, system=LONG_SYSTEM, user=question)
                            for offset, question in ((0, QUESTIONS[0]), (240, QUESTIONS[0]), (480, QUESTIONS[1])))
    both = "name: both\ncache:\n  exact: {ttl: 1h}\n  prompt: {ttl: 5m, breakpoints: [system]}\n"
    audit = project(tmp_path, [first, repeat, later], [both, PROMPT_5M])
    cached = openai_cached(prefix_tokens(3000, long_system_shares(audit)[2]))
    cold = (3000 * 2.50 + 200 * 10.00) / MTOK
    warm = ((3000 - cached) * 2.50 + cached * 1.25 + 200 * 10.00) / MTOK
    assert projected(audit, 0) == pytest.approx([cold, 0.0, cold], rel=REL)
    assert projected(audit, 1)[2] == pytest.approx(warm, rel=REL)


def test_openai_prefix_below_1024_tokens_is_not_cached(tmp_path: Path) -> None:
    # the 3000 tokens are a pasted document in each (different) user message; the system prompt is tiny
    records = [chat(GPT4O, 3000, 200, t=offset, system=SHORT_SYSTEM, user=LONG_SYSTEM + question)
               for offset, question in zip((0, 60), QUESTIONS, strict=False)]
    audit = project(tmp_path, records, [PROMPT_5M])
    assert all(prefix_tokens(3000, share) < 1024 for share in system_shares(audit))
    assert projected(audit) == pytest.approx([(3000 * 2.50 + 200 * 10.00) / MTOK] * 2, rel=REL)
    assert only_category(audit).cache_read_share_after == 0.0


@pytest.mark.parametrize(("ttl", "gap", "write_price", "second_reads"), [
    pytest.param("5m", 120, 3.75, True, id="5m write, read 2 minutes later"),
    pytest.param("5m", 1800, 3.75, False, id="5m write, gone 30 minutes later"),
    pytest.param("1h", 1800, 6.00, True, id="1h write, read 30 minutes later"),
])
def test_anthropic_writes_the_breakpoint_prefix_and_reads_it_while_it_lives(
        tmp_path: Path, ttl: str, gap: int, write_price: float, second_reads: bool) -> None:
    records = [message(SONNET, 3000, 200, t=offset, user=question)
               for offset, question in zip((0, gap), QUESTIONS, strict=False)]
    policy = f"name: prompt\ncache:\n  prompt: {{ttl: {ttl}, breakpoints: [system]}}\n"
    audit = project(tmp_path, records, [policy])
    first, second = (prefix_tokens(3000, share) for share in long_system_shares(audit))
    assert first > 1024
    written = ((3000 - first) * 3.00 + first * write_price + 200 * 15.00) / MTOK
    if second_reads:
        expected_second = ((3000 - second) * 3.00 + second * 0.30 + 200 * 15.00) / MTOK
    else:
        expected_second = ((3000 - second) * 3.00 + second * write_price + 200 * 15.00) / MTOK
    assert projected(audit) == pytest.approx([written, expected_second], rel=REL)


def test_anthropic_without_a_system_breakpoint_never_reads_the_shared_system_prompt(tmp_path: Path) -> None:
    records = [message(SONNET, 3000, 200, t=0, user="How do I rotate an API key?"),
               message(SONNET, 3000, 200, t=60, user="Why was I billed twice?")]
    audit = project(tmp_path, records, ["name: prompt\ncache:\n  prompt: {ttl: 5m, breakpoints: [prompt]}\n"])
    # the only breakpoint is at the end of each (different) prompt: each request writes all of it,
    # none reads anything
    assert projected(audit) == pytest.approx([(3000 * 3.75 + 200 * 15.00) / MTOK] * 2, rel=REL)
    assert only_category(audit).cache_read_share_after == 0.0


@pytest.mark.parametrize(("input_tokens", "cached"), [(3000, False), (6000, True)])
def test_haiku_4_5_needs_a_4096_token_prefix(tmp_path: Path, input_tokens: int, cached: bool) -> None:
    records = [message(HAIKU, input_tokens, 200, t=offset, user=question)
               for offset, question in zip((0, 60), QUESTIONS, strict=False)]
    audit = project(tmp_path, records, [PROMPT_5M])
    first, second = (prefix_tokens(input_tokens, share) for share in long_system_shares(audit))
    assert (first >= 4096, second >= 4096) == (cached, cached)
    assert first > 1024  # enough for Sonnet, not for Haiku 4.5 at 3000 input tokens
    if cached:
        expected = [((input_tokens - first) * 1.00 + first * 1.25 + 200 * 5.00) / MTOK,
                    ((input_tokens - second) * 1.00 + second * 0.10 + 200 * 5.00) / MTOK]
    else:
        expected = [(input_tokens * 1.00 + 200 * 5.00) / MTOK] * 2
    assert projected(audit) == pytest.approx(expected, rel=REL)


def test_kept_request_that_logged_cache_activity_keeps_its_logged_tokens(tmp_path: Path) -> None:
    records = [chat(GPT4O, 3000, 200, t=0, system=LONG_SYSTEM, user=QUESTIONS[0]),
               chat(GPT4O, 3000, 200, t=60, system=LONG_SYSTEM, user=QUESTIONS[1], cached=1024),
               chat(GPT4O, 3000, 200, t=120, system=LONG_SYSTEM, user=QUESTIONS[2])]
    audit = project(tmp_path, records, [PROMPT_5M])
    replayed = openai_cached(prefix_tokens(3000, long_system_shares(audit)[2]))
    assert replayed > 1024  # the replay would read more than the second request logged
    assert projected(audit) == pytest.approx([
        (3000 * 2.50 + 200 * 10.00) / MTOK,
        ((3000 - 1024) * 2.50 + 1024 * 1.25 + 200 * 10.00) / MTOK,  # as logged
        ((3000 - replayed) * 2.50 + replayed * 1.25 + 200 * 10.00) / MTOK,
    ], rel=REL)
    row = only_category(audit)
    assert row.cache_read_share_before == pytest.approx(100 * 1024 / 9000, rel=REL)
    assert row.cache_read_share_after == pytest.approx(100 * (1024 + replayed) / 9000, rel=REL)


def test_rerouting_breaks_the_warm_prefix_of_the_old_model(tmp_path: Path) -> None:
    moved = {"lane": "b"}
    records = [chat(GPT4O, 3000, 200, t=60 * index, system=LONG_SYSTEM, user=question,
                    metadata=moved if index % 2 else {})
               for index, question in enumerate(QUESTIONS)]
    reroute = ("name: reroute\nroutes:\n  - when: {metadata.lane: b}\n    to: gpt-4o-mini\n  - to: keep\n"
               "cache:\n  prompt: {ttl: 5m, breakpoints: [system]}\n")
    audit = project(tmp_path, records, [PROMPT_5M, reroute])
    cached = [openai_cached(prefix_tokens(3000, share)) for share in long_system_shares(audit)]
    cold_4o = (3000 * 2.50 + 200 * 10.00) / MTOK

    def warm_4o(tokens: int) -> float:
        return ((3000 - tokens) * 2.50 + tokens * 1.25 + 200 * 10.00) / MTOK

    # all on gpt-4o, one minute apart: every request after the first reads the system prefix
    assert projected(audit, 0) == pytest.approx([cold_4o, *map(warm_4o, cached[1:])], rel=REL)
    # requests 2 and 4 move to gpt-4o-mini: request 2 is cold there (gpt-4o's warm prefix does not move),
    # request 4 reads what request 2 wrote on gpt-4o-mini; request 3 still reads request 1's on gpt-4o
    assert projected(audit, 1) == pytest.approx([
        cold_4o,
        (3000 * 0.15 + 200 * 0.60) / MTOK,
        warm_4o(cached[2]),
        ((3000 - cached[3]) * 0.15 + cached[3] * 0.075 + 200 * 0.60) / MTOK,
    ], rel=REL)
    assert only_category(audit, 0).cache_read_share_after == pytest.approx(
        100 * sum(cached[1:]) / 12000, rel=REL)
    row = only_category(audit, 1)
    assert row.cache_read_share_before == 0.0
    assert row.cache_read_share_after == pytest.approx(100 * (cached[2] + cached[3]) / 12000, rel=REL)


# ---------------------------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------------------------

BATCH_REPORTS = ("name: batch\ncategories:\n  - from: metadata.category\n"
                 "batch:\n  - when: {category: reports}\n    max_delay: 24h\n")


def test_eligible_requests_are_half_price_before_and_after_the_catalogs_batch_start(tmp_path: Path) -> None:
    late = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)  # after the catalog's batch prices start (2026-10-14)
    reports = {"category": "reports"}
    records = [
        chat(MINI, 1000, 200, metadata=reports),
        chat(MINI, 1000, 200, start=late, metadata=reports),
        chat(MINI, 1000, 200, metadata=reports, stream=True),  # someone waits on a stream: not batched
        chat(MINI, 1000, 200, metadata={"category": "chat"}),
    ]
    audit = project(tmp_path, records, [BATCH_REPORTS])
    standard = (1000 * 0.15 + 200 * 0.60) / MTOK  # 270 / MTOK
    batch = (1000 * 0.075 + 200 * 0.30) / MTOK    # 135 / MTOK
    assert projected(audit) == pytest.approx([batch, batch, standard, standard], rel=REL)
    rows = by_category(audit)
    assert {name: row.batched for name, row in rows.items()} == {"reports": 2, "chat": 0}
    assert rows["reports"].savings_usd == pytest.approx(2 * (270 - 135) / MTOK, rel=REL)


def test_anthropic_batch_and_prompt_cache_discounts_stack(tmp_path: Path) -> None:
    records = [message(SONNET, 3000, 200, t=offset, user=question)
               for offset, question in zip((0, 120), QUESTIONS, strict=False)]
    policy = PROMPT_5M + "batch:\n  - max_delay: 24h\n"
    audit = project(tmp_path, records, [policy])
    first, second = (prefix_tokens(3000, share) for share in long_system_shares(audit))
    assert projected(audit) == pytest.approx([
        ((3000 - first) * 1.50 + first * 1.875 + 200 * 7.50) / MTOK,   # batch write
        ((3000 - second) * 1.50 + second * 0.15 + 200 * 7.50) / MTOK,  # batch read: $0.15, not $0.30
    ], rel=REL)
    assert only_category(audit).batched == 2


def test_gemini_batch_does_not_discount_context_cache_reads(tmp_path: Path) -> None:
    audit = project(tmp_path, [gemini(12840, 310, cached=8192)],
                    ["name: batch\nbatch:\n  - max_delay: 24h\n"])
    row = only_category(audit)
    # baseline: 4648 uncached x $0.30 + 8192 cache reads x $0.03 + 310 x $2.50
    assert row.baseline_cost_usd == pytest.approx((4648 * 0.30 + 8192 * 0.03 + 310 * 2.50) / MTOK, rel=REL)
    # batch: input and output halve, cache reads stay at $0.03
    assert row.cost_usd == pytest.approx((4648 * 0.15 + 8192 * 0.03 + 310 * 1.25) / MTOK, rel=REL)
    assert row.batched == 1


# ---------------------------------------------------------------------------------------------
# Semantic cache
# ---------------------------------------------------------------------------------------------

RESET = "How do I reset my password?"
RESET_AGAIN = "How can I reset my password?"


def test_best_earlier_match_is_the_closest_earlier_request_in_group_and_ttl(tmp_path: Path) -> None:
    store = EmbeddingStore(path=tmp_path / "e.sqlite")
    texts = [RESET, "What is the capital of France?", RESET_AGAIN, RESET_AGAIN, RESET_AGAIN]
    vectors = store.embed(texts)
    groups = pl.Series(["m", "m", "m", "other", "m"])
    times = pl.Series([0.0, 10.0, 60.0, 60.0, 7260.0])
    best, match = best_earlier_match(groups, times, vectors, ttl_s=3600.0)
    similarity = float(vectors[0] @ vectors[2])
    assert float(vectors[1] @ vectors[2]) < similarity
    assert best[:2].tolist() == [-1.0, pytest.approx(float(vectors[0] @ vectors[1]), rel=1e-6)]
    assert (best[2], match[2]) == (pytest.approx(similarity, rel=1e-6), 0)  # the paraphrase, not France
    assert (best[3], match[3]) == (-1.0, -1)  # another group (routed model) never matches
    assert (best[4], match[4]) == (-1.0, -1)  # two hours later: the earlier ones are past the ttl


def semantic_policy(name: str, threshold: float, ttl: str = "1h", routes: str = "") -> str:
    return f"name: {name}\n{routes}cache:\n  semantic: {{threshold: {threshold}, ttl: {ttl}}}\n"


def test_near_identical_question_is_a_semantic_hit_at_a_low_threshold_only(tmp_path: Path) -> None:
    records = [chat(GPT4O, 1000, 200, t=0, user=RESET),
               chat(GPT4O, 1000, 200, t=60, user=RESET_AGAIN, metadata={"lane": "b"})]
    to_mini = "routes:\n  - when: {metadata.lane: b}\n    to: gpt-4o-mini\n  - to: keep\n"
    policies = [semantic_policy("low", 0.8), semantic_policy("strict", 0.999),
                semantic_policy("short", 0.8, "30s"), semantic_policy("apart", 0.5, routes=to_mini)]
    audit = project(tmp_path, records, policies)
    assert projected(audit, 0) == pytest.approx([ON_GPT4O, 0.0], rel=REL)
    assert only_category(audit, 0).semantic_cache_hits == 1
    for index in (1, 2):  # too strict, or a minute is past a 30-second ttl
        assert projected(audit, index) == pytest.approx([ON_GPT4O, ON_GPT4O], rel=REL)
        assert only_category(audit, index).semantic_cache_hits == 0
    # on different routed models, even a lenient threshold never matches
    assert projected(audit, 3) == pytest.approx([ON_GPT4O, (1000 * 0.15 + 200 * 0.60) / MTOK], rel=REL)
    assert only_category(audit, 3).semantic_cache_hits == 0


SWEEP_QUESTIONS = [RESET, RESET_AGAIN, "I forgot my password, how do I reset it?", "Reset password how?",
                   "What is the capital of France?", "Which city is the capital of France?", RESET,
                   "Tell me a joke about cats"]


def sweep_log(tmp_path: Path) -> pl.DataFrame:
    """The priced requests of a gpt-4o log asking ``SWEEP_QUESTIONS`` 30 seconds apart."""
    records = [chat(GPT4O, 1000, 200, t=30 * index, user=question)
               for index, question in enumerate(SWEEP_QUESTIONS)]
    return project(tmp_path, records, [exact_policy("1h")]).priced.requests


def test_sweep_hit_rate_never_rises_with_the_threshold_and_a_rerun_embeds_nothing(tmp_path: Path) -> None:
    priced = sweep_log(tmp_path)
    first = sweep(priced, ttl_s=3600, store=EmbeddingStore(path=tmp_path / "sweep.sqlite"))
    hits = [point.hits for point in first.points]
    assert all(later <= earlier for earlier, later in itertools.pairwise(hits))
    assert hits[0] > hits[-1] >= 1  # the repeated question hits at every threshold, paraphrases at low ones
    assert first.points[0].saved_usd == pytest.approx(hits[0] * ON_GPT4O, rel=REL)
    assert first.embedded == len(set(SWEEP_QUESTIONS))
    again = sweep(priced, ttl_s=3600, store=EmbeddingStore(path=tmp_path / "sweep.sqlite"))
    assert again.embedded == 0
    assert [point.hits for point in again.points] == hits


def test_sweep_counts_only_its_own_embeddings_when_the_store_is_reused(tmp_path: Path) -> None:
    priced = sweep_log(tmp_path)
    store = EmbeddingStore(path=tmp_path / "sweep.sqlite")
    assert sweep(priced, ttl_s=3600, store=store).embedded == len(set(SWEEP_QUESTIONS))
    assert sweep(priced, ttl_s=3600, store=store).embedded == 0  # every text was already stored


def test_the_sweep_counts_the_hits_the_audit_counts_for_the_same_policy(tmp_path: Path) -> None:
    """Before: the sweep counted a repeat the policy's exact cache had already answered (and gateway
    cache hits, never billed) as semantic hits: more hits than the audit of the same policy."""
    records = [chat(GPT4O, 1000, 200, t=30 * index, user=question) for index, question in enumerate(SWEEP_QUESTIONS)]
    policy = "name: both\ncache:\n  exact: {ttl: 1h}\n  semantic: {threshold: 0.85, ttl: 1h}\n"
    audit = project(tmp_path, records, [policy])
    projection = audit.report.policies[0]
    assert sum(projection.rows["exact_cache_hit"]) == 1  # RESET asked again word for word
    result = sweep(audit.priced.requests, ttl_s=3600, when=projection.policy.semantic_cache.when,  # type: ignore[union-attr]
                   policy_rows=projection.rows, store=EmbeddingStore(path=tmp_path / "sweep.sqlite"))
    [at_threshold] = [point for point in result.points if point.threshold == 0.85]
    assert at_threshold.hits == only_category(audit).semantic_cache_hits
    assert result.requests == len(SWEEP_QUESTIONS) - 1  # the exact hit is not the semantic cache's to answer


# ---------------------------------------------------------------------------------------------
# Savings by lever
# ---------------------------------------------------------------------------------------------

def test_savings_by_lever_and_their_interaction_add_up_to_the_policys_savings(tmp_path: Path) -> None:
    records = [chat(GPT4O, 1000, 200, t=0, user="Q1"), chat(GPT4O, 1000, 200, t=60, user="Q1"),
               chat(GPT4O, 1000, 200, t=120, user="Q2")]
    policy = ("name: all\nroutes:\n  - to: gpt-4o-mini\ncache:\n  exact: {ttl: 1h}\n"
              "batch:\n  - max_delay: 24h\n")
    projection: PolicyProjection = project(tmp_path, records, [policy]).report.policies[0]
    # baseline 3 x 4500; routing alone: 3 x 270 on gpt-4o-mini; exact cache alone: the repeat is free;
    # batching alone: 3 x (1000 x $1.25 + 200 x $5) = 3 x 2250 on gpt-4o batch;
    # all together: gpt-4o-mini batch (1000 x $0.075 + 200 x $0.30 = 135) for the two misses
    assert projection.savings_usd == pytest.approx((13500 - 2 * 135) / MTOK, rel=REL)
    assert list(projection.levers) == ["routing", "exact_cache", "batching", "interaction"]
    assert projection.levers["routing"] == pytest.approx(3 * (4500 - 270) / MTOK, rel=REL)
    assert projection.levers["exact_cache"] == pytest.approx(4500 / MTOK, rel=REL)
    assert projection.levers["batching"] == pytest.approx(3 * (4500 - 2250) / MTOK, rel=REL)
    assert projection.levers["interaction"] == pytest.approx((13230 - (12690 + 4500 + 6750)) / MTOK, rel=REL)
    assert sum(projection.levers.values()) == pytest.approx(projection.savings_usd, rel=REL)


# ---------------------------------------------------------------------------------------------
# Policy validation for the cache and batch blocks
# ---------------------------------------------------------------------------------------------

INVALID_BLOCKS = [
    pytest.param("cache:\n  exact:\n    ttl: 24 hours\n", 4, 5, "a duration such as 30s, 5m, 24h or 2d",
                 id="bad-duration"),
    pytest.param("batch:\n  - max_delay: 1 day\n", 3, 5, "a duration such as 30s, 5m, 24h or 2d",
                 id="bad-batch-delay"),
    pytest.param("batch:\n  - when: {mode: realtime}\n    max_delay: 1h\n", 4, 5,
                 "the batch APIs promise results within 24h, not sooner: requests that cannot wait 24h cannot be "
                 "batched", id="batch-delay-under-the-24h-window"),
    pytest.param("cache:\n  exact:\n    ttl: 1h\n    size: 100\n", 5, 5,
                 "unknown key 'size' (expected one of: ttl, when, max_entries, include)",
                 id="unknown-exact-key"),
    pytest.param("cache:\n  exact:\n    ttl: 1h\n    max_entries: 0\n", 5, 5,
                 "a whole number of entries, at least 1", id="max-entries-zero"),
    pytest.param("cache:\n  prompt:\n    breakpoints: [system, tools]\n", 4, 5,
                 "a list of: system, history, prompt", id="unknown-breakpoint"),
    pytest.param("cache:\n  prompt:\n    ttl: 10m\n", 4, 5, "Anthropic cache writes last 5m or 1h",
                 id="prompt-ttl-not-5m-or-1h"),
    pytest.param("cache:\n  semantic:\n    threshold: 1.5\n    ttl: 1h\n", 4, 5, "a number between -1 and 1",
                 id="threshold-above-1"),
    pytest.param("cache:\n  semantic:\n    threshold: -1.2\n    ttl: 1h\n", 4, 5, "a number between -1 and 1",
                 id="threshold-below-minus-1"),
]


@pytest.mark.parametrize(("text", "line", "column", "problem"), INVALID_BLOCKS)
def test_invalid_cache_or_batch_block_is_reported_at_its_line_and_column(
        tmp_path: Path, text: str, line: int, column: int, problem: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("name: p\n" + text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), PriceBook())
    message = str(caught.value)  # between the place and the problem: the key and value found there
    assert message.startswith(f"{path}:{line}:{column}: ") and message.endswith(problem), message


def test_without_routing_the_exact_cache_alone_saves_what_its_hits_cost(tmp_path: Path) -> None:
    """Exact cache and prompt caching on gpt-4o: the repeat (t=60) is free with the exact cache alone; the
    third request (t=120) reads the warm system prefix with prompt caching alone; together both happen."""
    records = [chat(GPT4O, 3000, 200, t=offset, system=LONG_SYSTEM, user=question)
               for offset, question in ((0, QUESTIONS[0]), (60, QUESTIONS[0]), (120, QUESTIONS[1]))]
    policy = "name: both\ncache:\n  exact: {ttl: 1h}\n  prompt: {ttl: 5m, breakpoints: [system]}\n"
    audit = project(tmp_path, records, [policy])
    projection = audit.report.policies[0]
    cold = (3000 * 2.50 + 200 * 10.00) / MTOK
    repeat_cached = openai_cached(prefix_tokens(3000, long_system_shares(audit)[1]))
    third_cached = openai_cached(prefix_tokens(3000, long_system_shares(audit)[2]))
    prompt_alone = repeat_cached * (2.50 - 1.25) / MTOK + third_cached * (2.50 - 1.25) / MTOK
    assert projection.levers["exact_cache"] == pytest.approx(cold, rel=REL)
    assert projection.levers["prompt_cache"] == pytest.approx(prompt_alone, rel=REL)
    assert projection.savings_usd == pytest.approx(cold + third_cached * (2.50 - 1.25) / MTOK, rel=REL)
    assert projection.levers["interaction"] == pytest.approx(-repeat_cached * (2.50 - 1.25) / MTOK, rel=REL)


def test_a_log_with_no_request_in_a_semantic_cache_scope_sweeps_and_audits_to_nothing(tmp_path: Path) -> None:
    """An empty log (or one whose requests are all out of scope) has no request to match: the sweep
    counts no hit at any threshold, and an audit with a semantic cache saves nothing (before, both
    failed with an internal IndexError: the group boundaries of no requests were [0, 1])."""
    best, match = best_earlier_match(pl.Series([], dtype=pl.String()), pl.Series([], dtype=pl.Float64()),
                                     EmbeddingStore(path=tmp_path / "none.sqlite").embed([]), ttl_s=3600)
    assert len(best) == len(match) == 0
    policy = "name: semantic\ncache:\n  semantic: {threshold: 0.85, ttl: 1h}\n"
    audit = project(tmp_path, [], [policy])
    assert audit.report.requests == 0
    assert projected(audit) == []
    result = sweep(audit.priced.requests, ttl_s=3600, store=EmbeddingStore(path=tmp_path / "sweep.sqlite"))
    assert result.requests == 0 and {point.hits for point in result.points} == {0}
