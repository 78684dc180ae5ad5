"""How a judge asks for JSON: the strongest way the endpoint's ``json_mode`` allows, stepping down at
once (no retry, no wait) when the endpoint refuses it, and starting there for the rest of the run.

Against the in-process server (``tests/mock_llm.py``), which refuses response-format types on demand
with the errors real servers give."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from routecost.replay.client import ChatClient, ChatResult, RetryPolicy
from routecost.replay.endpoints import DEFAULT_ENDPOINTS, Endpoint, load_endpoints
from routecost.replay.judge import CANDIDATE, LOGGED, TIE, load_template, pairwise_request
from routecost.yamlfile import YamlError
from tests.mock_llm import MockLLM
from tests.test_replay import KEY_ENV, SECRET, logs
from tests.test_replay_servers import run

JUDGE = "openai/gpt-4.1"
LLAMA_CPP_REFUSAL = (500, ("litellm.InternalServerError: InternalServerError: OpenAIException - 1 validation error:\n"
                          "  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input "
                          "should be 'text' or 'json_object'\", 'input': 'json_schema'}"))
"""What the LiteLLM proxy answered for a ``json_schema`` judge call routed to llama-cpp-python."""
UNSUPPORTED = (400, "response_format json_object is not supported by this model")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLLM]:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with MockLLM() as mock:
        yield mock


def endpoint(mock: MockLLM, **fields: object) -> Endpoint:
    return dataclasses.replace(Endpoint("mock", f"{mock.url}/v1", key_env=KEY_ENV, models=("openai/*",)), **fields)


def judge_calls(mock: MockLLM, batches: list[int], retries: int = 3, concurrency: int = 2,
                **fields: object) -> tuple[list[list[ChatResult]], list[float]]:
    """Batches of concurrent judge calls on one client, one batch after the other; and the waits."""
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    request = pairwise_request(load_template("pairwise"), "", "USER: hi", "hello", "hey")

    async def go() -> list[list[ChatResult]]:
        target = endpoint(mock, **fields)
        async with ChatClient(concurrency, RetryPolicy(retries=retries, sleep=record_wait)) as client:
            return [list(await asyncio.gather(*(client.complete(target, JUDGE, request) for _ in range(size))))
                    for size in batches]

    return asyncio.run(go()), waits


def test_a_refused_json_schema_steps_down_at_once_and_later_calls_start_there(server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = LLAMA_CPP_REFUSAL
    [[first], [second]], waits = judge_calls(server, [1, 1])
    assert first.ok and first.attempts == 2 and first.json_form == "llama-cpp" and first.error is None
    assert second.ok and second.attempts == 1 and second.json_form == "llama-cpp"
    assert server.formats == ["json_schema", "json_object", "json_object"] and waits == []


def test_an_endpoint_refusing_both_response_formats_is_asked_in_the_prompt(server: MockLLM) -> None:
    server.refuse_formats.update(json_schema=(400, "json_schema is not supported"), json_object=UNSUPPORTED)
    [[first], [second]], waits = judge_calls(server, [1, 1])
    assert (first.ok, first.attempts, first.json_form) == (True, 3, "prompt")
    assert (second.ok, second.attempts, second.json_form) == (True, 1, "prompt")
    assert server.formats == ["json_schema", "json_object", None, None] and waits == []


@pytest.mark.parametrize(("json_mode", "sent"), [("llama-cpp", "json_object"), ("prompt", None),
                                                 ("openai", "json_schema"), ("auto", "json_schema")])
def test_the_json_mode_is_the_first_way_asked(server: MockLLM, json_mode: str, sent: str | None) -> None:
    [[result]], _ = judge_calls(server, [1], json_mode=json_mode)
    assert result.ok and result.attempts == 1 and server.formats == [sent]


def test_an_anthropic_endpoint_is_asked_in_the_prompt(server: MockLLM) -> None:
    [[result]], _ = judge_calls(server, [1], api="anthropic")
    assert result.ok and result.json_form == "prompt" and server.formats == [None]


def test_a_step_down_does_not_spend_the_retry_budget(server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = LLAMA_CPP_REFUSAL
    server.judge_fault = "500"  # then json_object fails too, for another reason
    [[result]], waits = judge_calls(server, [1], retries=2)
    assert not result.ok and result.error == "HTTP 500: boom" and result.json_form == "llama-cpp"
    assert result.attempts == 1 + 3 and len(waits) == 2
    assert server.formats == ["json_schema"] + ["json_object"] * 3


def test_errors_that_do_not_refuse_the_format_behave_as_before(server: MockLLM) -> None:
    server.judge_fault = "500"  # retried, in the same form
    [[result]], waits = judge_calls(server, [1], retries=2)
    assert (result.ok, result.attempts, result.error, len(waits)) == (False, 3, "HTTP 500: boom", 2)
    assert server.formats == ["json_schema"] * 3
    server.formats.clear()
    server.judge_fault = "400"  # not retried, not stepped down
    [[result]], waits = judge_calls(server, [1], retries=2)
    assert (result.ok, result.attempts, result.error, waits) == (False, 1, "HTTP 400: bad request", [])
    assert server.formats == ["json_schema"]


def test_a_429_naming_the_schema_is_a_rate_limit_not_a_refusal(server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = (429, "too many json_schema requests")
    [[result]], waits = judge_calls(server, [1], retries=1)
    assert not result.ok and result.attempts == 2 and len(waits) == 1 and server.formats == ["json_schema"] * 2


def test_the_refusal_is_found_past_the_stored_length_of_the_error(server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = (422, "x" * 300 + " unsupported response_format")
    [[result]], _ = judge_calls(server, [1])
    assert result.ok and result.json_form == "llama-cpp"


def test_concurrent_calls_step_down_once_each_and_agree(server: MockLLM) -> None:
    server.refuse_formats.update(json_schema=LLAMA_CPP_REFUSAL, json_object=UNSUPPORTED)
    server.delay_s = 0.05
    [first, later], waits = judge_calls(server, [8, 8], concurrency=8)
    assert all(result.ok and result.json_form == "prompt" for result in first + later) and waits == []
    assert all(result.attempts <= 3 for result in first) and all(result.attempts == 1 for result in later)
    assert server.formats.count("json_schema") <= 8 and server.formats.count("json_object") <= 8
    assert len(server.formats) == sum(result.attempts for result in first + later)


def test_what_is_learned_is_per_endpoint_and_model(server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = LLAMA_CPP_REFUSAL
    request = pairwise_request(load_template("pairwise"), "", "USER: hi", "hello", "hey")

    async def go() -> tuple[str, str, str]:
        async with ChatClient(1) as client:
            await client.complete(endpoint(server), JUDGE, request)
            return (client.json_form(endpoint(server), JUDGE), client.json_form(endpoint(server), "openai/gpt-4o"),
                    client.json_form(endpoint(server, name="other"), JUDGE))

    assert asyncio.run(go()) == ("llama-cpp", "openai", "openai")


def test_errors_stay_redacted_after_a_step_down(server: MockLLM) -> None:
    server.refuse_formats.update(json_schema=(400, f"response_format refused for key {SECRET}"),
                                 json_object=(400, f"schema refused for Bearer {SECRET}"))
    server.judge_fault = "echo"
    [[result]], _ = judge_calls(server, [1])
    assert result.error == "HTTP 401: invalid credentials: [redacted]" and result.attempts == 3


def test_the_default_json_mode_is_auto_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yaml"
    path.write_text("endpoints:\n  - {base_url: 'http://127.0.0.1:1/v1', providers: [openai]}\n"
                    "  - {base_url: 'http://127.0.0.1:2/v1', api: anthropic, providers: [anthropic]}\n",
                    encoding="utf-8")
    openai, anthropic = load_endpoints(str(path)).configured
    assert (openai.json_mode, openai.json_form) == ("auto", "openai")
    assert (anthropic.json_mode, anthropic.json_form) == ("auto", "prompt")
    assert DEFAULT_ENDPOINTS[0].json_form == "openai"
    path.write_text("endpoints:\n  - {base_url: 'http://127.0.0.1:1/v1', providers: [openai], json_mode: strict}\n",
                    encoding="utf-8")
    with pytest.raises(YamlError, match="auto, openai, llama-cpp, prompt"):
        load_endpoints(str(path))


def test_a_replay_with_the_default_json_mode_judges_through_a_server_without_json_schema(
        tmp_path: Path, server: MockLLM) -> None:
    server.refuse_formats["json_schema"] = LLAMA_CPP_REFUSAL
    endpoints = f"""\
endpoints:
  - name: mock
    base_url: {server.url}/v1
    key_env: {KEY_ENV}
    providers: [openai, anthropic]
"""
    _, store = run(tmp_path, endpoints, logs(tmp_path, support=3, code=2, chat=0), concurrency=1)
    judgments = list(store.records("judge"))
    asked = [record for record in store.records() if record.kind != "candidate"]  # the judge's checks too
    store.close()
    assert len(judgments) == 10 and all(record.ok and record.verdict in (CANDIDATE, LOGGED, TIE)
                                        for record in judgments)
    assert all(record.ok for record in asked)
    # one call at a time: the first is refused once and steps down, every other starts at json_object
    assert sorted(record.attempts for record in asked) == [1] * (len(asked) - 1) + [2]
    assert server.formats == ["json_schema"] + ["json_object"] * len(asked)


def test_the_run_says_when_an_endpoint_made_the_judge_step_down(tmp_path: Path, server: MockLLM) -> None:
    from tests.test_replay import POLICY, routecost

    server.refuse_formats["json_schema"] = LLAMA_CPP_REFUSAL
    (tmp_path / "endpoints.yaml").write_text(f"""\
endpoints:
  - name: gateway
    base_url: {server.url}/v1
    key_env: {KEY_ENV}
    providers: [openai, anthropic]
""", encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    result = routecost("replay", str(logs(tmp_path, support=2, code=0, chat=0)), "--policy", str(tmp_path / "policy.yaml"),
                       "--endpoints", str(tmp_path / "endpoints.yaml"), "--store", str(tmp_path / "store.sqlite"),
                       "--yes", "--judge-checks", "0")
    assert result.returncode == 0, result.stderr
    assert "endpoint gateway refused a stronger JSON mode for gpt-4.1: the judge asked as llama-cpp from then on" \
        in result.stderr
