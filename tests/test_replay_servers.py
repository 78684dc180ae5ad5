"""Replay against real servers: the LiteLLM proxy (a real gateway, mock-response models) and
llama-cpp-python serving SmolLM2-135M (real generation, real usage, a grammar-constrained judge)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from routecost.replay.client import ChatClient, ChatResult, RetryPolicy
from routecost.replay.endpoints import Endpoint, load_endpoints
from routecost.replay.judge import CANDIDATE, LOGGED, TIE, load_template, pairwise_request
from routecost.replay.runner import ReplaySettings, plan_replay, plan_results, run_replay
from routecost.replay.store import ReplayStore
from tests.conftest import MTOK
from tests.servers import LITELLM_KEY, SMOLLM2_ALIAS, litellm_proxy, smollm2_server
from tests.test_replay import audited, logs

REL = 1e-9


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with litellm_proxy(tmp_path_factory.mktemp("litellm")) as url:
        yield url


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with smollm2_server(tmp_path_factory.mktemp("smollm2")) as url:
        yield url


@pytest.fixture(scope="module")
def litellm_to_llama(tmp_path_factory: pytest.TempPathFactory, smollm2: str) -> Iterator[str]:
    """The LiteLLM proxy with the mock models and SmolLM2 on the llama.cpp server behind it."""
    with litellm_proxy(tmp_path_factory.mktemp("litellm-llama"), llama_url=smollm2) as url:
        yield url


def run(tmp_path: Path, endpoints: str, log: Path, **settings: object) -> tuple[object, ReplayStore]:
    (tmp_path / "endpoints.yaml").write_text(endpoints, encoding="utf-8")
    options = ReplaySettings(**{"retries": 1, "timeout_s": 120.0, "concurrency": 2, **settings})  # type: ignore[arg-type]
    audit = audited(tmp_path, log)
    store = ReplayStore(tmp_path / "store.sqlite")
    plan = plan_replay(audit, options, load_template(options.judge_mode),
                       load_endpoints(str(tmp_path / "endpoints.yaml")), store)
    run_replay(plan, options, audit.book, store)
    return plan, store


def test_replay_through_the_litellm_proxy(tmp_path: Path, litellm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_TEST_KEY", LITELLM_KEY)
    endpoints = f"""\
endpoints:
  - name: litellm
    base_url: {litellm}
    key_env: LITELLM_TEST_KEY
    providers: [openai, anthropic]
    model_names: {{openai/gpt-4o-mini: gpt-4o-mini, anthropic/claude-haiku-4-5: claude-haiku-4-5, openai/gpt-4.1: judge}}
    json_mode: prompt
"""
    plan, store = run(tmp_path, endpoints, logs(tmp_path, support=2, code=1, chat=1))
    candidates = list(store.records("candidate"))
    assert len(candidates) == 3 and all(record.ok for record in candidates)
    mini = [record for record in candidates if record.target_model == "openai/gpt-4o-mini"]
    assert {record.answer for record in mini} == {"Rotate the key under Settings, then API keys."}
    # LiteLLM's mock usage (10 prompt, 20 completion tokens) at gpt-4o-mini's $0.15 / $0.60 per million
    assert all((record.input_tokens, record.output_tokens) == (10, 20) for record in mini)
    assert mini[0].cost_usd == pytest.approx((10 * 0.15 + 20 * 0.60) / MTOK, rel=REL)
    judgments = list(store.records("judge"))
    assert len(judgments) == 6 and all(record.ok for record in judgments)
    results = {result.category: result for result in plan_results(plan, store, 0.2).categories}  # type: ignore[arg-type]
    assert results["support"].quality.ties == 2  # "B" in both orders: position bias, a tie
    assert all(record.verdict in ("candidate", "logged") for record in judgments)
    store.close()


def test_replay_with_real_generation_and_a_grammar_constrained_judge(tmp_path: Path, smollm2: str) -> None:
    endpoints = f"""\
endpoints:
  - name: llama-cpp
    base_url: {smollm2}
    providers: [openai, anthropic]
    model_names: {{openai/gpt-4o-mini: {SMOLLM2_ALIAS}, anthropic/claude-haiku-4-5: {SMOLLM2_ALIAS}, openai/gpt-4.1: {SMOLLM2_ALIAS}}}
    json_mode: llama-cpp
"""
    plan, store = run(tmp_path, endpoints, logs(tmp_path, support=1, code=1, chat=0), judge_mode="rubric",
                      judge_checks=3)
    candidates = list(store.records("candidate"))
    assert len(candidates) == 2 and all(record.ok and record.answer for record in candidates)
    assert all(record.input_tokens and record.output_tokens for record in candidates)  # the server's real usage
    judgments = list(store.records("judge"))
    assert len(judgments) == 4  # each candidate's answer and each logged answer scored once
    assert all(record.ok and record.verdict == "scored" and 1 <= (record.score or 0) <= 10 for record in judgments)
    results = plan_results(plan, store, 1.0)  # type: ignore[arg-type]
    assert sum(result.quality.n for result in results.categories) == 2
    # the real small judge is checked too: 3 control pairs, each answer scored and the first once more
    checks = list(store.records("check"))
    assert len(checks) == 9 and all(record.ok and record.verdict == "scored" for record in checks)
    assert results.check is not None and results.check.controls == 3
    if not results.check.passed:  # whatever a 135M judge makes of them, its verdicts are then not trusted
        assert all(result.quality.unmeasured for result in results.categories if result.quality.n)
    store.close()


def test_the_llama_cpp_build_is_portable() -> None:
    """A build tuned to the build machine (AVX-512, AMX kernels) dies with SIGILL on other CPUs."""
    from llama_cpp import llama_print_system_info

    info = llama_print_system_info().decode()
    assert "AVX2 = 1" in info or "SSE3 = 1" in info, info
    assert "AMX" not in info and "AVX512" not in info, info


def test_a_judge_through_litellm_to_llama_cpp_steps_down_from_json_schema(tmp_path: Path, litellm_to_llama: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """llama.cpp refuses OpenAI's ``json_schema`` response format (HTTP 500, "Input should be 'text'
    or 'json_object'", passed on by LiteLLM): with 4 retries every judge call failed after 5 attempts
    (15 requests to llama.cpp, LiteLLM's own client trying each 3 times). With the default json_mode
    the first calls step down to ``json_object`` with the schema and the rest start there."""
    monkeypatch.setenv("LITELLM_TEST_KEY", LITELLM_KEY)
    endpoints = f"""\
endpoints:
  - name: litellm
    base_url: {litellm_to_llama}
    key_env: LITELLM_TEST_KEY
    providers: [openai, anthropic]
    model_names: {{openai/gpt-4o-mini: gpt-4o-mini, anthropic/claude-haiku-4-5: claude-haiku-4-5, openai/gpt-4.1: {SMOLLM2_ALIAS}}}
"""
    _, store = run(tmp_path, endpoints, logs(tmp_path, support=2, code=1, chat=0), retries=4)
    assert all(record.ok for record in store.records("candidate"))
    judgments = list(store.records("judge"))
    assert len(judgments) == 6 and all(record.ok for record in judgments), [r.error for r in judgments]
    # grammar-constrained to the schema: every reply parses
    assert all(record.verdict in (CANDIDATE, LOGGED, TIE) for record in judgments)
    asked = [record for record in store.records() if record.kind != "candidate"]  # the judge's checks too
    assert all(record.ok for record in asked)
    attempts = sorted(record.attempts or 0 for record in asked)
    # a refused json_schema request for each call sent before the first refusal was known (at most
    # the concurrency, 2), one request for every call: no retries of a refused body
    assert attempts[-1] == 2 and set(attempts) <= {1, 2} and sum(attempts) <= len(asked) + 2, attempts
    store.close()


def test_an_explicit_openai_json_mode_falls_back_on_llama_cpp(smollm2: str) -> None:
    endpoint = Endpoint("llama-cpp", smollm2, providers=("openai",), model_names={"openai/gpt-4.1": SMOLLM2_ALIAS},
                        json_mode="openai")
    request = pairwise_request(load_template("pairwise"), "", "USER: What is 2 + 2?", "4", "5")

    async def go() -> list[ChatResult]:
        async with ChatClient(1, RetryPolicy(retries=4, timeout_s=120.0)) as client:
            return [await client.complete(endpoint, "openai/gpt-4.1", request) for _ in range(2)]

    first, second = asyncio.run(go())
    assert first.ok and first.attempts == 2 and first.json_form == "llama-cpp"
    assert second.ok and second.attempts == 1 and second.json_form == "llama-cpp"
