"""Prompt trimming: the system prompt cut to a share or to the team's shorter one, the history capped
to its last turns; counted on the logged text, priced on the request's model.

Worked by hand: gpt-4o-mini costs $0.15 per million input tokens, $0.075 per million cached ones and
$0.60 per million output tokens (OpenAI's price sheet). Token counts of the texts are tiktoken's
o200k counts (gpt-4o-mini's own encoding), plus 3 tokens of chat formatting per message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.replay.endpoints import load_endpoints
from routecost.replay.judge import load_template
from routecost.replay.runner import ReplaySettings, plan_replay, run_replay
from routecost.replay.store import ReplayStore
from routecost.simulate.trimming import kept_messages
from routecost.sources.reader import ReaderConfig
from routecost.tokens import O200K, encoding
from tests.conftest import AS_OF, write_jsonl, write_policy
from tests.mock_llm import MockLLM
from tests.test_cli import run
from tests.test_policy_projection import chat_record
from tests.test_replay import endpoints_file

MINI = "gpt-4o-mini-2024-07-18"
SYSTEM = "You are a careful assistant for the support team. Answer briefly and cite the policy. " * 8
HISTORY = [{"role": "user", "content": "My order 1234 has not arrived yet, it has been two weeks."},
           {"role": "assistant", "content": "Sorry to hear that. Let me check the tracking for order 1234."},
           {"role": "user", "content": "Any news?"},
           {"role": "assistant", "content": "It left the warehouse yesterday."}]
PROMPT, OUTPUT = 1000, 100


def tokens(text: str) -> int:
    return len(encoding(O200K).encode_ordinary(text))


def message_tokens(message: dict[str, str]) -> int:
    return 3 + tokens(message["content"])


def usd(input_tokens: int, output_tokens: int = OUTPUT, cached: int = 0) -> float:
    return ((input_tokens - cached) * 0.15 + cached * 0.075 + output_tokens * 0.60) / 1e6


def project(tmp_path: Path, trim: str, cached: int | None = None, extra_files: dict[str, str] | None = None):
    log = write_jsonl(tmp_path / "log.jsonl", [chat_record(MINI, PROMPT, OUTPUT, cached=cached, system=SYSTEM,
                                                           history=HISTORY, user="Thanks, when will it arrive?")])
    for name, text in (extra_files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    policy = write_policy(tmp_path, f"name: p\ntrim:\n{trim}")
    audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), as_of=AS_OF,
                                   policy_paths=[str(policy)]), keep_requests=True)
    return audit.report.policies[0]


def test_the_system_prompt_keeps_its_share_and_the_history_its_last_turns(tmp_path):
    found = project(tmp_path, "  system: 0.25\n  history_turns: 1\n")
    system_cut = round(tokens(SYSTEM) * 0.75)
    history_cut = message_tokens(HISTORY[0]) + message_tokens(HISTORY[1])  # the first turn; the second is kept
    assert math.isclose(found.cost_usd, usd(PROMPT - system_cut - history_cut), rel_tol=1e-9)
    assert math.isclose(found.baseline_cost_usd, usd(PROMPT), rel_tol=1e-9)
    category, = found.categories
    assert category.trimmed == 1 and category.trimmed_tokens == system_cut + history_cut
    assert found.levers["trimming"] == pytest.approx(usd(PROMPT) - found.cost_usd, abs=1e-12)
    assert found.rows["trim_rule"].to_list() == [0]


def test_a_cut_history_keeps_only_the_system_prompt_cached(tmp_path):
    found = project(tmp_path, "  system: 0.5\n  history_turns: 0\n", cached=800)
    system_kept = tokens(SYSTEM) - round(tokens(SYSTEM) * 0.5)
    history_cut = sum(message_tokens(message) for message in HISTORY)
    input_after = PROMPT - round(tokens(SYSTEM) * 0.5) - history_cut
    assert math.isclose(found.cost_usd, usd(input_after, cached=system_kept), rel_tol=1e-9)


def test_a_shorter_system_prompt_loses_its_cut_from_the_cached_prefix(tmp_path):
    found = project(tmp_path, "  system: 0.5\n", cached=800)
    system_cut = round(tokens(SYSTEM) * 0.5)
    assert math.isclose(found.cost_usd, usd(PROMPT - system_cut, cached=800 - system_cut), rel_tol=1e-9)


def test_a_system_file_replaces_the_logged_system_prompt(tmp_path):
    shorter = "Support assistant: answer briefly, cite the policy."
    found = project(tmp_path, "  system_file: short.txt\n", extra_files={"short.txt": shorter + "\n"})
    assert math.isclose(found.cost_usd, usd(PROMPT - (tokens(SYSTEM) - tokens(shorter))), rel_tol=1e-9)


def test_trimming_applies_on_the_model_a_route_sends_the_request_to(tmp_path):
    log = write_jsonl(tmp_path / "log.jsonl", [chat_record("gpt-4o-2024-08-06", PROMPT, OUTPUT, system=SYSTEM)])
    policy = write_policy(tmp_path, "name: p\nroutes:\n  - to: openai/gpt-4o-mini\ntrim:\n  system: 0\n")
    found = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), as_of=AS_OF,
                                   policy_paths=[str(policy)]), keep_requests=False).report.policies[0]
    assert math.isclose(found.cost_usd, usd(PROMPT - tokens(SYSTEM)), rel_tol=1e-9)  # gpt-4o -> mini: same encoding
    assert set(found.levers) == {"routing", "trimming", "interaction"}


@pytest.mark.parametrize(("turns", "kept"), [
    (None, 5), (2, 5), (1, 3), (0, 1),
])
def test_a_history_cap_keeps_the_current_message_and_the_last_turns(turns, kept):
    messages = [(message["role"], message["content"]) for message in HISTORY] + [("user", "now")]
    assert kept_messages(messages, turns) == tuple(messages[len(messages) - kept:])


def test_requests_whose_text_cannot_be_read_back_are_left_as_logged_and_counted(tmp_path):
    policy = write_policy(tmp_path, "name: p\ntrim:\n  system: 0.5\n")
    line = json.dumps(chat_record(MINI, PROMPT, OUTPUT, system=SYSTEM)) + "\n"
    done = run("audit", "-", "--policy", str(policy), "--format", "json", stdin=line)
    assert done.returncode == 0, done.stderr
    found, = json.loads(done.stdout)["policies"]
    assert math.isclose(found["cost_usd"], usd(PROMPT), rel_tol=1e-9)
    assert any("1 requests a trim rule matches have no logged text to cut" in note for note in found["assumptions"])


@pytest.mark.parametrize(("trim", "problem"), [
    ("  system: 1.5\n", "`system: 1.5`: the share of the system prompt kept"),
    ("  system: 0.5\n  system_file: a.txt\n", "not both"),
    ("  history_turns: -1\n", "`history_turns: -1`"),
    ("  when: {category: x}\n", "needs `system`, `system_file` or `history_turns`"),
    ("  system_file: missing.txt\n", "cannot read 'missing.txt'"),
])
def test_a_bad_trim_rule_is_a_one_line_error(tmp_path, trim, problem):
    policy = write_policy(tmp_path, f"name: p\ntrim:\n{trim}")
    done = run("policy", "check", str(policy))
    assert done.returncode == 2 and problem in done.stderr and len(done.stderr.strip().splitlines()) == 1


# Replay sends the trimmed prompt (the team's system prompt, the capped history) and files its calls
# apart from untrimmed ones; the judge compares the answer with the logged one on the logged conversation.

SHORT_SYSTEM = "Be brief."
REPLAY_HISTORY = [{"role": "user", "content": "first question here"}, {"role": "assistant", "content": "first answer"}]


def replayed(tmp_path: Path, mock: MockLLM, trim: str):
    records = [chat_record("gpt-4o-2024-08-06", 1000, 40, system="You are a helpful assistant.",
                           history=REPLAY_HISTORY, user=f"question {index}") | {"ts": f"2026-10-20T09:0{index}:00Z"}
               for index in range(2)]
    log = write_jsonl(tmp_path / "log.jsonl", records)
    (tmp_path / "short.txt").write_text(SHORT_SYSTEM, encoding="utf-8")
    policy = write_policy(tmp_path, f"name: p\ntrim:\n{trim}")
    options = ReplaySettings(retries=1, timeout_s=5.0, concurrency=2, judge_checks=0)
    audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=[str(policy)],
                                   as_of=AS_OF))
    store = ReplayStore(tmp_path / "store.sqlite")
    plan = plan_replay(audit, options, load_template(options.judge_mode),
                       load_endpoints(str(endpoints_file(tmp_path, mock))), store)
    run_replay(plan, options, audit.book, store)
    return plan, store, log, policy


def test_replay_sends_the_trimmed_prompt_and_files_it_apart(tmp_path, mock):
    plan, store, log, policy = replayed(tmp_path, mock, "  system_file: short.txt\n  history_turns: 0\n")
    candidates = list(store.records("candidate"))
    assert len(plan.tasks) == 2 and len(candidates) == 2
    for candidate in candidates:
        assert candidate.model == "openai/gpt-4o" and candidate.target_model.startswith("openai/gpt-4o#trim:")
        # the mock counts words (a chat request's system prompt twice: in the messages and on its own):
        # the short system prompt and the current question, no history
        assert candidate.input_tokens == 2 * len(SHORT_SYSTEM.split()) + len(["question", "0"])
    store.close()
    audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=[str(policy)],
                                   as_of=AS_OF, replay_store=str(tmp_path / "store.sqlite")), keep_requests=False)
    category, = audit.report.policies[0].categories
    assert category.quality is not None and category.quality.n == 2


def test_a_system_share_cut_alone_is_projected_not_replayed(tmp_path, mock):
    plan, store, _, _ = replayed(tmp_path, mock, "  system: 0.4\n")
    assert not plan.tasks and sum(plan.skipped.values()) == 2
    assert any("projected but not replayed" in reason for reason in plan.skipped)
    store.close()
