"""Replay: sampling, the HTTP client against a real local server with injected faults, the store and
resuming, the judge, the quality statistics, and ``audit --replay``.

The server (``tests/mock_llm.py``) is a real HTTP server on 127.0.0.1: it answers with text derived
from the request and usage counted from it, so nothing here depends on the code under test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.quality import quality, ratio_interval, share_interval
from routecost.replay.client import ChatClient, ChatRequest, RetryPolicy, retry_after_s, turns
from routecost.replay.endpoints import Endpoint, load_endpoints
from routecost.replay.judge import (
    CANDIDATE,
    CANDIDATE_FIRST,
    LOGGED,
    LOGGED_FIRST,
    TIE,
    UNPARSED,
    load_template,
    pairwise_outcome,
    parse_pairwise,
    parse_score,
)
from routecost.replay.results import spend_by_category
from routecost.replay.runner import ReplayPlan, ReplaySettings, plan_replay, plan_results, run_replay
from routecost.replay.sample import SampleSize, draw_sample
from routecost.replay.store import CallRecord, ReplayStore
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, KEY_ENV, MTOK, SECRET, write_jsonl
from tests.mock_llm import MockLLM, fair_judge

REL = 1e-9
START = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
POLICY = """\
name: cheaper
categories:
  - from: metadata.category
routes:
  - when: {category: support}
    to: openai/gpt-4o-mini
cascades:
  - when: {category: code}
    try: anthropic/claude-haiku-4-5
    escalate_to: keep
    escalate_rate: 0.3
"""


def record(index: int, category: str, question: str, *, output_tokens: int = 40,
           answer: str | None = None) -> dict[str, Any]:
    """An in-house wrapper around a gpt-4o chat completion (1000 input tokens)."""
    answer = logged_answer(question.strip()) if answer is None else answer
    return {
        "ts": (START + timedelta(minutes=index)).isoformat(), "metadata": {"category": category},
        "request": {"model": "gpt-4o", "temperature": 0.0, "messages": [
            {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": question}]},
        "response": {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 1_792_000_000 + index,
                     "model": "gpt-4o-2024-08-06",
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 1000, "completion_tokens": output_tokens,
                               "total_tokens": 1000 + output_tokens}},
    }


def logs(tmp_path: Path, support: int = 3, code: int = 2, chat: int = 2, marker: str = "") -> Path:
    records = [record(index, "support", f"support question {index} {marker}") for index in range(support)]
    records += [record(100 + index, "code", f"code question {index}") for index in range(code)]
    records += [record(200 + index, "chat", f"chat question {index}") for index in range(chat)]
    return write_jsonl(tmp_path / "logs.jsonl", records)


def logged_answer(question: str) -> str:
    """Long enough to be cut for a control pair, and naming its question (``fair_judge`` looks for it)."""
    return f"The logged answer to {question}: open the settings page, choose the account, then restart the service."


def endpoints_file(tmp_path: Path, mock: MockLLM) -> Path:
    path = tmp_path / "endpoints.yaml"
    path.write_text(f"""\
endpoints:
  - name: mock-openai
    base_url: {mock.url}/v1
    key_env: {KEY_ENV}
    models: ["openai/*"]
    json_mode: prompt
  - name: mock-anthropic
    base_url: {mock.url}/v1
    api: anthropic
    key_env: {KEY_ENV}
    providers: [anthropic]
""", encoding="utf-8")
    return path


def audited(tmp_path: Path, log: Path, replay_store: str | None = None) -> Audit:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1, fingerprint_prompts=True),
                                  policy_paths=[str(policy)], as_of=AS_OF, replay_store=replay_store))


def replay(tmp_path: Path, mock: MockLLM, log: Path, **settings: Any) -> tuple[ReplayPlan, Any, ReplayStore]:
    """Plan and run a replay of the log under POLICY; the store stays open for inspection. The judge
    is not checked unless asked (``judge_checks``): its checks' calls would blur the counts."""
    options = ReplaySettings(**{"retries": 2, "timeout_s": 5.0, "concurrency": 4, "judge_checks": 0, **settings})
    audit = audited(tmp_path, log)
    store = ReplayStore(tmp_path / "store.sqlite")
    plan = plan_replay(audit, options, load_template(options.judge_mode), load_endpoints(str(endpoints_file(
        tmp_path, mock))), store)
    outcome = run_replay(plan, options, audit.book, store)
    return plan, outcome, store


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------

def candidates_frame(sizes: dict[str, int]) -> pl.DataFrame:
    rows = [(f"f{category}", offset, category) for category, count in sizes.items() for offset in range(count)]
    return pl.DataFrame(rows, schema=["source", "offset", "category"], orient="row")


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    frame = candidates_frame({"a": 50, "b": 50})
    first = set(draw_sample(frame, SampleSize(per_category=5), seed=1).rows())
    assert first == set(draw_sample(frame.reverse(), SampleSize(per_category=5), seed=1).rows())
    assert first != set(draw_sample(frame, SampleSize(per_category=5), seed=2).rows())
    assert Counter(category for _, _, category in first) == {"a": 5, "b": 5}


def test_a_total_sample_is_split_in_proportion_with_at_least_one_per_category() -> None:
    def drawn(sizes: dict[str, int], total: int) -> Counter[str]:
        sample = draw_sample(candidates_frame(sizes), SampleSize(per_category=None, total=total), seed=0)
        return Counter(sample["category"].to_list())

    # exact shares 9, 4.5, 1.5 -> 9, 4, 1, and the one left goes to the largest remainder (a tie: by name)
    assert drawn({"big": 60, "mid": 30, "tiny": 10}, 15) == {"big": 9, "mid": 5, "tiny": 1}
    # exact shares 9.9, 0.1 -> 9, and at least one for the small category
    assert drawn({"big": 99, "tiny": 1}, 10) == {"big": 9, "tiny": 1}


def test_only_requests_the_policy_moves_are_sampled(tmp_path: Path, mock: MockLLM) -> None:
    plan, _, store = replay(tmp_path, mock, logs(tmp_path, support=3, code=2, chat=4))
    assert plan.candidates == 5  # chat stays on gpt-4o
    assert Counter(task.category for task in plan.tasks) == {"support": 3, "code": 2}
    assert {task.target_model for task in plan.tasks} == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"}
    store.close()


# ---------------------------------------------------------------------------------------------
# The HTTP client: retries, Retry-After, timeouts, malformed bodies, dropped connections
# ---------------------------------------------------------------------------------------------

def call(mock: MockLLM, text: str, retries: int = 3, timeout_s: float = 5.0) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> Any:
        endpoint = Endpoint("mock", f"{mock.url}/v1", key_env=KEY_ENV, models=("openai/*",))
        async with ChatClient(2, RetryPolicy(retries=retries, timeout_s=timeout_s, sleep=record_wait)) as client:
            return await client.complete(endpoint, "openai/gpt-4o-mini", ChatRequest("", (("user", text),), 64))

    return asyncio.run(go()), waits


@pytest.mark.parametrize("fault", ["429", "500", "malformed", "drop"])
def test_a_transient_fault_is_retried_until_the_answer_comes(mock: MockLLM, fault: str) -> None:
    mock.faults["[x]"] = [fault, fault]
    result, waits = call(mock, "hello [x]")
    assert result.ok and result.text == "gpt-4o-mini says: hello [x]"
    assert result.attempts == 3 and mock.hits["hello [x]"] == 3 and len(waits) == 2
    if fault == "429":
        assert waits == [0.05, 0.05]  # the server's Retry-After, not the backoff


def test_a_response_slower_than_the_timeout_is_retried(mock: MockLLM) -> None:
    mock.faults["[slow]"] = ["slow"]
    mock.slow_s = 1.5
    result, _ = call(mock, "hi [slow]", timeout_s=0.5)
    assert result.ok and result.attempts == 2


def test_a_client_error_is_not_retried_and_the_last_error_is_reported(mock: MockLLM) -> None:
    mock.always["[bad]"] = "400"
    result, waits = call(mock, "hi [bad]")
    assert not result.ok and result.attempts == 1 and waits == [] and result.error == "HTTP 400: bad request"
    mock.always["[down]"] = "500"
    result, waits = call(mock, "hi [down]", retries=2)
    assert not result.ok and result.attempts == 3 and len(waits) == 2 and result.error == "HTTP 500: boom"


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("7", now) == 7.0
    assert retry_after_s("Sun, 22 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_s("Sun, 22 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_s("soon", now) is None and retry_after_s(None, now) is None


def test_logged_turns_are_sent_as_alternating_user_and_assistant_turns() -> None:
    assert turns((("assistant", "hi"), ("user", "a"), ("user", "b"), ("tool", "x"), ("assistant", "c"),
                  ("user", "d"))) == (("user", "a\n\nb"), ("assistant", "c"), ("user", "d"))


# ---------------------------------------------------------------------------------------------
# The judge and the statistics
# ---------------------------------------------------------------------------------------------

def test_pairwise_verdicts_are_read_per_position_and_a_flip_is_a_tie() -> None:
    assert parse_pairwise('{"winner": "B"}', LOGGED_FIRST) == CANDIDATE
    assert parse_pairwise('Sure. {"winner": "B"}', CANDIDATE_FIRST) == LOGGED
    assert parse_pairwise('```json\n{"winner": "tie"}\n```', LOGGED_FIRST) == TIE
    assert parse_pairwise("B is better", LOGGED_FIRST) is None
    assert parse_pairwise('{"winner": "C"}', LOGGED_FIRST) is None
    assert pairwise_outcome(CANDIDATE, CANDIDATE) == CANDIDATE
    assert pairwise_outcome(CANDIDATE, LOGGED) == TIE  # position bias
    assert pairwise_outcome(LOGGED, TIE) == TIE
    assert pairwise_outcome(None, CANDIDATE) == UNPARSED


def test_rubric_scores_are_whole_numbers_from_1_to_10() -> None:
    assert parse_score('{"score": 7}') == 7
    assert parse_score('{"score": 11}') is None and parse_score('{"score": 6.5}') is None
    assert parse_score('{"score": "7"}') is None and parse_score("7/10") is None


def test_quality_delta_interval_and_sample_size() -> None:
    scores = [1.0] * 6 + [0.0] * 2 + [-1.0] * 2
    result = quality(scores, unparsed=1, width=0.2, judge_mode="pairwise")
    assert (result.n, result.wins, result.ties, result.losses, result.unparsed) == (10, 6, 2, 2, 1)
    assert result.delta == pytest.approx(0.4)
    assert result.ci_low is not None and result.ci_high is not None
    assert -1.0 <= result.ci_low < 0.4 < result.ci_high <= 1.0
    assert result.n_for_width is not None and result.n_for_width > 10
    assert quality([]).delta is None


@pytest.mark.parametrize("scores", [[1.0] * 3, [1.0] * 8, [0.0] * 20, [-1.0] * 2 + [0.0] * 18],
                         ids=["3 wins of 3", "8 wins of 8", "20 ties", "2 losses, 18 ties"])
def test_a_small_or_uniform_sample_is_never_certain(scores: list[float]) -> None:
    """A bootstrap of the judgments gave [+1, +1] for 3 wins of 3 and [0, 0] for 20 ties."""
    result = quality(scores, judge_mode="pairwise")
    assert result.ci_low is not None and result.ci_high is not None and result.n_for_width is not None
    assert result.ci_high - result.ci_low > 0.1
    assert result.ci_low <= result.delta <= result.ci_high


@pytest.mark.parametrize("n", [3, 10, 20, 50])
def test_the_interval_covers_the_true_delta_95_percent_of_the_time(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Coverage by simulation: for each true mix of wins, ties and losses, 200 samples of n judgments;
    the interval must hold the true delta in about 95% of them (at least 88% for any one mix, allowing
    for the simulation's own noise, and 93% on average)."""
    import routecost.quality as stats

    monkeypatch.setattr(stats, "RESAMPLES", 2_000)
    rng = np.random.default_rng(n)
    mixes = [(0.0, 0.0), (0.1, 0.0), (0.3, 0.1), (0.6, 0.1), (0.9, 0.1), (0.3, 0.3), (0.0, 0.6), (0.5, 0.5)]
    coverage = []
    for wins, losses in mixes:
        truth = wins - losses
        samples = rng.choice([1.0, 0.0, -1.0], size=(200, n), p=[wins, max(0.0, 1.0 - wins - losses), losses])
        results = [quality(sample, judge_mode="pairwise", seed=index) for index, sample in enumerate(samples)]
        coverage.append(sum(result.ci_low <= truth <= result.ci_high for result in results) / len(results))
    assert min(coverage) >= 0.88, coverage
    assert sum(coverage) / len(coverage) >= 0.93, coverage


@pytest.mark.parametrize("n", [5, 20, 50])
def test_the_escalation_interval_covers_the_true_rate_95_percent_of_the_time(n: int,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Jeffreys' interval for the share of first tries that escalate, by simulation as above."""
    import routecost.quality as stats

    monkeypatch.setattr(stats, "RESAMPLES", 2_000)
    rng = np.random.default_rng(n)
    coverage = []
    for rate in (0.02, 0.1, 0.3, 0.5, 0.8):
        hits = rng.binomial(n, rate, size=200)
        intervals = [share_interval(int(count), n, seed=index) for index, count in enumerate(hits)]
        coverage.append(sum(interval.low <= rate <= interval.high for interval in intervals) / len(intervals))
    assert min(coverage) >= 0.88, coverage
    assert sum(coverage) / len(coverage) >= 0.93, coverage


def test_the_output_ratio_interval_covers_the_true_ratio() -> None:
    """Answers whose length varies around twice the logged one: the interval of 20 holds the true ratio
    of sums about 95% of the time, and 3 answers are never read as a point."""
    rng = np.random.default_rng(7)
    logged = rng.integers(20, 400, size=(200, 20))
    produced = np.rint(logged * rng.lognormal(np.log(2.0), 0.5, size=(200, 20))).astype(int)
    truth = 2.0 * np.exp(0.5 ** 2 / 2)  # the mean of the lognormal factor
    intervals = [ratio_interval(list(zip(made, base, strict=True))) for made, base in zip(produced, logged, strict=True)]
    assert sum(interval.low <= truth <= interval.high for interval in intervals) / len(intervals) >= 0.88
    few = ratio_interval([(80, 40)] * 3)
    assert (few.low, few.point, few.high) == (pytest.approx(1.6), 2.0, pytest.approx(2.5))


# ---------------------------------------------------------------------------------------------
# Replay end to end against the local server
# ---------------------------------------------------------------------------------------------

def test_replay_stores_every_call_and_judgment_and_reports_per_category(tmp_path: Path, mock: MockLLM) -> None:
    plan, outcome, store = replay(tmp_path, mock, logs(tmp_path))
    candidates = list(store.records("candidate"))
    judgments = list(store.records("judge"))
    assert len(candidates) == 5 and all(record.ok for record in candidates)
    assert len(judgments) == 10 and {record.position for record in judgments} == {LOGGED_FIRST, CANDIDATE_FIRST}
    # The judge always answers "B": the candidate wins when shown second, loses when shown first -> ties
    results = {result.category: result for result in plan_results(plan, store, 0.2).categories}
    assert (results["support"].quality.ties, results["support"].quality.n) == (3, 3)
    # an unchecked judge measures nothing: no delta, and no escalation rate read from its verdicts
    assert results["support"].quality.delta is None and "not checked" in (results["support"].quality.unmeasured or "")
    assert results["code"].escalation_rate is None
    mini = next(record for record in candidates if record.target_model == "openai/gpt-4o-mini")
    answer = "gpt-4o-mini says: " + mini.answer.split("says: ", 1)[1]  # type: ignore[union-attr]
    assert mini.answer == answer
    # usage as the server counted it, priced at gpt-4o-mini's $0.15 / $0.60 per million
    assert mini.cost_usd == pytest.approx((mini.input_tokens * 0.15 + mini.output_tokens * 0.60) / MTOK, rel=REL)
    assert sum(outcome.sent.values()) == 15
    store.close()


def test_a_rerun_sends_nothing_already_stored(tmp_path: Path, mock: MockLLM) -> None:
    log = logs(tmp_path)
    replay(tmp_path, mock, log)[2].close()
    before = Counter(mock.hits)
    plan, outcome, store = replay(tmp_path, mock, log)
    assert mock.hits == before and sum(outcome.sent.values()) == 0
    assert plan.stored_calls == 15 and not plan.calls_to_send
    store.close()


def test_failed_calls_are_recorded_and_a_rerun_fills_only_the_gaps(tmp_path: Path, mock: MockLLM) -> None:
    log = logs(tmp_path, marker="[down]", support=2)
    mock.always["support question 0"] = "500"
    _, outcome, store = replay(tmp_path, mock, log)
    failed = [record for record in store.records("candidate") if not record.ok]
    assert len(failed) == 1 and failed[0].error == "HTTP 500: boom" and failed[0].attempts == 3
    assert sum(outcome.failed.values()) == 1
    store.close()
    del mock.always["support question 0"]
    before = Counter(mock.hits)
    _, outcome, store = replay(tmp_path, mock, log)
    sent = mock.hits - before
    assert sent == {"support question 0 [down]": 1, "judge": 2}
    assert all(record.ok for record in store.records("candidate"))
    store.close()


def test_an_unparsable_judge_reply_is_asked_once_more_then_recorded_unparsed(tmp_path: Path, mock: MockLLM) -> None:
    mock.judge_reply = lambda prompt: "The second answer is better."
    plan, _, store = replay(tmp_path, mock, logs(tmp_path, support=1, code=0))
    judgments = list(store.records("judge"))
    assert [record.verdict for record in judgments] == [UNPARSED, UNPARSED]
    assert all(record.attempts == 2 for record in judgments) and mock.hits["judge"] == 4
    [support] = plan_results(plan, store, 0.2).categories
    assert (support.quality.n, support.quality.unparsed) == (0, 1)
    store.close()


def test_rubric_mode_scores_each_answer_and_uses_the_difference(tmp_path: Path, mock: MockLLM) -> None:
    # fair_judge scores 3 + words // 4: the logged answers (18 words) 7, the candidates' (5 words) 4
    mock.judge_reply = fair_judge
    plan, _, store = replay(tmp_path, mock, logs(tmp_path, support=2, code=0), judge_mode="rubric", judge_checks=3)
    [support] = plan_results(plan, store, 1.0).categories
    assert (support.quality.n, support.quality.losses, support.quality.delta) == (2, 2, -3.0)
    # 2 candidates + 2 logged answers, one score each; 3 control pairs: intact, broken, intact again
    assert mock.hits["judge"] == 4 + 3 * 3
    store.close()


def test_max_spend_stops_before_the_limit_and_says_how_many_calls_wait(tmp_path: Path, mock: MockLLM) -> None:
    # One gpt-4o-mini call's worst case: (1250 + 16) input x $0.15 + 256 output x $0.60 per million ~ $0.00034
    _plan, outcome, store = replay(tmp_path, mock, logs(tmp_path, support=3, code=0), max_spend_usd=0.0005,
                                  concurrency=1)
    assert outcome.stopped_by_budget > 0 and outcome.spent_usd <= 0.0005
    assert len(list(store.records("candidate"))) < 3
    store.close()


def test_keys_come_from_the_environment_and_are_never_stored(tmp_path: Path, mock: MockLLM) -> None:
    _, _, store = replay(tmp_path, mock, logs(tmp_path, support=1, code=1))
    store.close()
    assert any(headers.get("authorization") == f"Bearer {SECRET}" for headers in mock.headers)
    assert any(headers.get("x-api-key") == SECRET for headers in mock.headers)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert stat.S_IMODE((tmp_path / "store.sqlite").stat().st_mode) == 0o600


def test_a_missing_key_is_a_usage_error_before_anything_is_sent(tmp_path: Path, mock: MockLLM,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from routecost.errors import UsageError

    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(UsageError, match=f"{KEY_ENV} is not set"):
        replay(tmp_path, mock, logs(tmp_path))
    assert not mock.hits


# ---------------------------------------------------------------------------------------------
# The command: plan, consent, interruption
# ---------------------------------------------------------------------------------------------

def routecost(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routecost", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, timeout=120, **kwargs)


def command(tmp_path: Path, mock: MockLLM, log: Path, *extra: str) -> list[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return ["replay", str(log), "--policy", str(policy), "--endpoints", str(endpoints_file(tmp_path, mock)),
            "--store", str(tmp_path / "store.sqlite"), *extra]


def test_dry_run_prints_the_plan_and_sends_nothing(tmp_path: Path, mock: MockLLM) -> None:
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--dry-run"))
    assert result.returncode == 0, result.stderr
    assert "sampled 5 (code 2, support 3)" in result.stderr
    # 5 requests judged in both orders, and 10 control pairs (each cut short and answered by another request's
    # answer) judged in both orders and once again
    assert "calls to send: anthropic/claude-haiku-4-5 2, openai/gpt-4.1 40, openai/gpt-4o-mini 3" in result.stderr
    assert "judge checks: 10 control pairs (a logged answer against a broken copy), 30 calls to send" in result.stderr
    assert f"mock-openai ({mock.url}/v1)" in result.stderr and "estimated cost $" in result.stderr
    assert not mock.hits
    assert not (tmp_path / "store.sqlite").exists()  # a dry run creates no store
    assert "warning: the judge" not in result.stderr


def test_a_judge_that_is_also_judged_is_warned_about(tmp_path: Path, mock: MockLLM) -> None:
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--dry-run", "--judge", "openai/gpt-4o-mini"))
    assert result.returncode == 0, result.stderr
    assert "warning: the judge openai/gpt-4o-mini is also one of the models judged" in result.stderr


def test_a_replay_where_every_call_failed_exits_non_zero(tmp_path: Path, mock: MockLLM) -> None:
    mock.always["question"] = "400"
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--yes"))
    assert result.returncode == 2
    assert "nothing could be judged: 5 calls failed" in result.stderr and "Traceback" not in result.stderr


def test_an_unparsed_verdict_is_asked_again_on_a_rerun(tmp_path: Path, mock: MockLLM) -> None:
    log = logs(tmp_path, support=2, code=0)
    mock.judge_reply = lambda prompt: "I cannot decide."
    _, _, store = replay(tmp_path, mock, log)
    assert {record.verdict for record in store.records("judge")} == {"unparsed"}
    store.close()
    mock.judge_reply = lambda prompt: '{"winner": "B"}'
    before = mock.hits["judge"]
    _, _, store = replay(tmp_path, mock, log)
    assert mock.hits["judge"] - before == 4  # two requests, both orders, asked once more each
    assert {record.verdict for record in store.records("judge")} != {"unparsed"}
    store.close()


def test_without_consent_nothing_is_sent(tmp_path: Path, mock: MockLLM) -> None:
    result = routecost(*command(tmp_path, mock, logs(tmp_path)))
    assert result.returncode == 2 and "nothing sent" in result.stderr and "Traceback" not in result.stderr
    assert not mock.hits


def test_replay_json_report(tmp_path: Path, mock: MockLLM) -> None:
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--yes", "--format", "json"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    support = next(category for category in report["categories"] if category["category"] == "support")
    assert support["quality"]["n"] == 3 and support["quality"]["ties"] == 3
    assert SECRET not in result.stdout + result.stderr


def test_an_interrupted_replay_resumes_without_repeating_a_stored_call(tmp_path: Path, mock: MockLLM) -> None:
    mock.delay_s = 0.15
    log = logs(tmp_path, support=12, code=0)
    process = subprocess.Popen([sys.executable, "-m", "routecost", *command(tmp_path, mock, log, "--yes",
                                                                             "--concurrency", "2")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    stored: set[str] = set()
    while time.monotonic() < deadline and len(stored) < 4:
        time.sleep(0.05)
        if (tmp_path / "store.sqlite").exists():
            with ReplayStore(tmp_path / "store.sqlite") as store:
                stored = {record.request for record in store.records("candidate") if record.ok}
    process.send_signal(signal.SIGKILL)
    process.wait()
    with ReplayStore(tmp_path / "store.sqlite") as store:
        done_before = {record.key: record for record in store.records() if record.ok}
    assert 4 <= len(stored) < 12
    result = routecost(*command(tmp_path, mock, log, "--yes", "--concurrency", "2"))
    assert result.returncode == 0, result.stderr
    with ReplayStore(tmp_path / "store.sqlite") as store:
        after = {record.key: record for record in store.records()}
        answered = [record for record in store.records("candidate") if record.ok]
    assert all(after[key] == record for key, record in done_before.items())  # nothing lost, nothing redone
    assert len(answered) == 12
    stored_lines = {record.line for record in done_before.values() if record.kind == "candidate"}
    for line in stored_lines:  # a question answered and stored before the kill was not sent again
        assert mock.completed[f"support question {line - 1} "] == 1
    # at most the two calls in flight at the kill were sent twice
    assert sum(count for text, count in mock.completed.items() if text != "judge") <= 12 + 2


# ---------------------------------------------------------------------------------------------
# audit --replay: quality beside the savings, measured ratios in the projection
# ---------------------------------------------------------------------------------------------

def test_audit_with_a_replay_store_shows_quality_and_uses_measured_output_ratios(tmp_path: Path,
                                                                                 mock: MockLLM) -> None:
    log = logs(tmp_path, support=2, code=0, chat=1)
    mock.answer = lambda model, text: " ".join(["word"] * 80)  # 80 output tokens vs 40 logged: ratio 2.0
    mock.judge_reply = lambda prompt: '{"winner": "A"}'  # A in both orders: a flip, so ties
    replay(tmp_path, mock, log)[2].close()
    audit = audited(tmp_path, log, replay_store=str(tmp_path / "store.sqlite"))
    projection = audit.report.policies[0]
    support = next(row for row in projection.categories if row.category == "support")
    assert support.quality is not None and (support.quality.n, support.quality.ties) == (2, 2)
    # gpt-4o-mini at the measured output ratio 2.0: 1000 x $0.15 + 80 x $0.60 per million, for each request
    assert support.cost_usd == pytest.approx(2 * (1000 * 0.15 + 80 * 0.60) / MTOK, rel=REL)
    # measured on 2 answers, the ratio is not a point: its interval is widened to the assumed 0.8-1.25 of it
    assert support.low_usd == pytest.approx(2 * (1000 * 0.15 + 40 * 2.0 * 0.8 * 0.60) / MTOK, rel=REL)
    assert support.high_usd == pytest.approx(2 * (1000 * 0.15 + 40 * 2.0 * 1.25 * 0.60) / MTOK, rel=REL)
    assert any("quality from 2 judged requests" in note for note in projection.assumptions)


def test_audit_finds_the_judged_requests_by_content_after_the_log_is_moved_and_gzipped(tmp_path: Path,
                                                                                     mock: MockLLM) -> None:
    """Before: replay said "already stored" while audit --replay found none, once the log was gzipped."""
    import gzip

    log = logs(tmp_path, support=3, code=2, chat=1)
    mock.answer = lambda model, text: " ".join(["word"] * 80)
    replay(tmp_path, mock, log)[2].close()
    moved = tmp_path / "archive" / "2026-10.jsonl.gz"
    moved.parent.mkdir()
    with gzip.open(moved, "wb") as out:  # another order too: the offsets change
        out.write(b"".join(reversed(log.read_bytes().splitlines(keepends=True))))
    log.unlink()
    audit = audited(tmp_path, moved, replay_store=str(tmp_path / "store.sqlite"))
    qualities = {row.category: row.quality for row in audit.report.policies[0].categories if row.quality}
    assert {category: quality.n for category, quality in qualities.items()} == {"support": 3, "code": 2}
    support = next(row for row in audit.report.policies[0].categories if row.category == "support")
    assert support.cost_usd == pytest.approx(3 * (1000 * 0.15 + 80 * 0.60) / MTOK, rel=REL)  # the measured ratio 2.0


def test_a_store_that_is_not_sqlite_is_a_clear_usage_error(tmp_path: Path) -> None:
    from routecost.errors import UsageError

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 100, encoding="utf-8")
    with pytest.raises(UsageError, match="not a routecost replay store"):
        ReplayStore(notes)
    assert notes.read_text(encoding="utf-8") == "my notes, not a database\n" * 100


def test_someone_elses_sqlite_database_is_never_written_to(tmp_path: Path) -> None:
    import sqlite3

    from routecost.errors import UsageError

    theirs = tmp_path / "app.sqlite"
    with sqlite3.connect(theirs) as database:
        database.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(UsageError, match="other tables: users"):
        ReplayStore(theirs)
    with sqlite3.connect(theirs) as database:
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == ["users"]


def test_a_store_readable_by_everyone_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    ReplayStore(path).close()
    path.chmod(0o644)
    ReplayStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_embeddings_cache_is_owner_only(tmp_path: Path) -> None:
    from routecost.simulate.semantic_cache import EmbeddingStore

    path = tmp_path / "cache" / "embeddings" / "vectors.sqlite"
    EmbeddingStore(path).embed(["a prompt that should stay private"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_server_that_echoes_the_key_gets_it_redacted_from_the_store(tmp_path: Path, mock: MockLLM) -> None:
    mock.always["support question 0"] = "echo"
    mock.answer = lambda model, text: f"{model} was called with {SECRET}"
    _, _, store = replay(tmp_path, mock, logs(tmp_path, support=2, code=0))
    errors = [record.error for record in store.records("candidate") if not record.ok]
    answers = [record.answer for record in store.records("candidate") if record.ok]
    store.close()
    assert errors == ["HTTP 401: invalid credentials: [redacted]"]
    assert answers and all(answer.endswith("was called with [redacted]") for answer in answers)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_an_error_shaped_like_a_credential_is_redacted_but_an_answer_is_not() -> None:
    from routecost.replay.client import ChatResult, redacted

    result = redacted(ChatResult(True, text="set password=correcthorse in the config"), ["Bearer sk-abc"])
    assert result.text == "set password=correcthorse in the config"
    failed = redacted(ChatResult(False, error="HTTP 401: key sk-proj-0123456789abcdefghij is revoked"), [])
    assert failed.error == "HTTP 401: key [redacted] is revoked"


def test_two_replays_on_one_store_never_send_a_call_twice(tmp_path: Path, mock: MockLLM) -> None:
    """Each run claims a call in the store before it sends it; the other leaves it alone."""
    mock.delay_s = 0.2
    log = logs(tmp_path, support=8, code=0)
    args = [sys.executable, "-m", "routecost", *command(tmp_path, mock, log, "--yes", "--concurrency", "2")]
    runs = [subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             text=True) for _ in range(2)]
    errors = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    candidates = {marker: hits for marker, hits in mock.hits.items() if marker.startswith("support question")}
    assert len(candidates) == 8 and set(candidates.values()) == {1}
    with ReplayStore(tmp_path / "store.sqlite") as store:
        judged = [record for record in store.records() if record.kind in ("judge", "check") and record.ok]
        assert mock.hits["judge"] == len(judged) and judged
        assert all(record.ok for record in store.records("candidate"))
    assert any("left to another replay" in error for error in errors)


def test_failed_judge_calls_are_shown_per_category_with_their_errors(tmp_path: Path, mock: MockLLM) -> None:
    """A category whose judge calls all failed showed W/T/L 0/0/0, unparsed 0: as if nothing happened."""
    mock.judge_fault = "400"
    result = routecost(*command(tmp_path, mock, logs(tmp_path, support=2, code=1), "--yes", "--format", "json",
                                "--judge-checks", "0"))
    assert result.returncode == 2 and "nothing could be judged" in result.stderr
    categories = {category["category"]: category for category in json.loads(result.stdout)["categories"]}
    assert categories["support"]["judge_failed"] == 4 and categories["code"]["judge_failed"] == 2
    assert categories["support"]["errors"] == ["HTTP 400: bad request"]
    assert categories["support"]["quality"]["n"] == 0
    assert "support: 0 + 4 judge calls failed: HTTP 400: bad request" in result.stderr
    # per endpoint: the judge's (with 2 of the 3 candidates) failed on every judgment; the other is fine
    endpoints = {entry["endpoint"]: entry for entry in json.loads(result.stdout)["endpoints"]}
    assert (endpoints["mock-openai"]["calls"], endpoints["mock-openai"]["failed"]) == (8, 6)
    assert (endpoints["mock-anthropic"]["calls"], endpoints["mock-anthropic"]["failed"]) == (1, 0)
    assert "endpoint mock-openai: 6 of 8 calls failed: HTTP 400: bad request" in result.stderr


def test_money_sums_carry_no_float_noise_whatever_order_the_calls_are_read_in() -> None:
    calls = [CallRecord(f"k{index}", "candidate", "r", "m", "m", True, category="support", cost_usd=cost)
             for index, cost in enumerate([0.1, 0.2, 1e-9, 0.3])]
    assert spend_by_category(calls) == spend_by_category(calls[::-1]) == {"support": 0.600000001}


def test_the_plan_shows_the_judges_cost_apart(tmp_path: Path, mock: MockLLM) -> None:
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--dry-run", "--format", "json"))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert 0 < plan["judge_estimated_usd"] < plan["estimated_usd"]
    assert "judge openai/gpt-4.1 $" in result.stderr and ": candidates $" in result.stderr
    # gpt-4.1-mini, on the same endpoint, costs a fifth of gpt-4.1 ($0.40 / $1.60 against $2 / $8 per million)
    assert plan["cheaper_judge"]["judge"] == "openai/gpt-4.1-mini"
    assert plan["cheaper_judge"]["estimated_usd"] == pytest.approx(plan["judge_estimated_usd"] / 5, rel=1e-9)
    assert "a cheaper judge on the same endpoint: --judge openai/gpt-4.1-mini would cost about $" in result.stderr
    already = routecost(*command(tmp_path, mock, logs(tmp_path), "--dry-run", "--format", "json", "--judge",
                                 "openai/gpt-4.1-mini"))
    assert json.loads(already.stdout)["cheaper_judge"] is None  # nothing cheaper it serves that is not judged
