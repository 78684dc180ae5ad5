"""Replay against real servers: the LiteLLM proxy (a real gateway, mock-response models) and
llama-cpp-python serving SmolLM2-135M (real generation, real usage, a grammar-constrained judge)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routecost.replay.endpoints import load_endpoints
from routecost.replay.judge import load_template
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
    results = {result.category: result for result in plan_results(plan, store, 0.2)}  # type: ignore[arg-type]
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
    plan, store = run(tmp_path, endpoints, logs(tmp_path, support=1, code=1, chat=0), judge_mode="rubric")
    candidates = list(store.records("candidate"))
    assert len(candidates) == 2 and all(record.ok and record.answer for record in candidates)
    assert all(record.input_tokens and record.output_tokens for record in candidates)  # the server's real usage
    judgments = list(store.records("judge"))
    assert len(judgments) == 4  # each candidate's answer and each logged answer scored once
    assert all(record.ok and record.verdict == "scored" and 1 <= (record.score or 0) <= 10 for record in judgments)
    results = plan_results(plan, store, 1.0)  # type: ignore[arg-type]
    assert sum(result.quality.n for result in results) == 2
    store.close()


def test_the_llama_cpp_build_is_portable() -> None:
    """A build tuned to the build machine (AVX-512, AMX kernels) dies with SIGILL on other CPUs."""
    from llama_cpp import llama_print_system_info

    info = llama_print_system_info().decode()
    assert "AVX2 = 1" in info or "SSE3 = 1" in info, info
    assert "AMX" not in info and "AVX512" not in info, info
