"""The judge's checks: control pairs with a known verdict, order flips, self-agreement; quality that
is "unmeasured" (never "no change") under a judge that fails them, and a gate that says so.

The judges are stubs on the local mock server (``tests/mock_llm.py``) with a known behaviour: one that
always answers "A" (position bias), one that tells answers apart (``fair_judge``), one that contradicts
itself when asked again.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from routecost.gate.thresholds import FAIL, WARN, GateFlags, load_gate_file, merge
from routecost.replay.checks import (
    ANOTHER_ANSWER,
    MIN_WORDS_TO_TRUNCATE,
    TRUNCATED,
    CheckCall,
    draw_controls,
    judge_check,
)
from routecost.replay.judge import CANDIDATE, LOGGED, PAIRWISE, TIE
from routecost.replay.results import Judged, Verdicts, summarize
from routecost.replay.runner import plan_results
from routecost.replay.store import CallRecord
from tests.mock_llm import MockLLM, fair_judge
from tests.test_replay import command, logs, replay, routecost

LONG = " ".join(f"word{index}" for index in range(MIN_WORDS_TO_TRUNCATE + 3))


def test_controls_cut_long_answers_and_swap_in_another_requests_answer_for_short_ones() -> None:
    answers = {"r1": LONG, "r2": "Paris.", "r3": "paris."}
    controls = draw_controls(answers, 10)
    kinds = Counter((control.request, control.kind) for control in controls)
    assert kinds[("r1", TRUNCATED)] == 1 and kinds[("r1", ANOTHER_ANSWER)] == 1
    cut = next(control for control in controls if control.kind == TRUNCATED)
    assert cut.broken == " ".join(LONG.split()[: len(LONG.split()) // 3])
    # a short answer is never cut; its broken copy is another request's answer, never one that reads the same
    r2 = [control for control in controls if control.request == "r2"]
    assert [control.kind for control in r2] == [ANOTHER_ANSWER] and r2[0].broken == LONG
    assert all(control.broken.casefold() != answers[control.request].casefold() for control in controls)
    # one per request before a second kind for any, and never more than asked
    assert [control.request for control in draw_controls(answers, 3)].count("r1") == 1
    assert draw_controls(answers, 10) == controls and len(draw_controls(answers, 2)) == 2
    assert draw_controls({"only": "Paris."}, 10) == []  # nothing to break it with


def calls(verdicts: list[tuple[str, str, str | None]]) -> list[CheckCall]:
    """Check calls of pairwise control pairs: (logged-first verdict, candidate-first verdict, repeat)."""
    made = []
    for index, (first, second, again) in enumerate(verdicts):
        made += [CheckCall(f"c{index}", "control/logged-first", first, None),
                 CheckCall(f"c{index}", "control/candidate-first", second, None)]
        if again is not None:
            made.append(CheckCall(f"c{index}", "repeat/logged-first", again, None))
    return made


def test_a_judge_that_always_answers_a_fails_on_controls_and_position_bias() -> None:
    # "A" names the intact answer when it is shown first (logged) and the broken one when it is second
    check = judge_check(calls([(LOGGED, CANDIDATE, LOGGED)] * 10), PAIRWISE, real_pairs=20, real_flips=20)
    assert check is not None and not check.passed
    assert (check.controls, check.right, check.pairs, check.flips) == (10, 0, 30, 30)
    assert any("0 of 10 control pairs" in failure for failure in check.failures)
    assert any("30 of 30 pairs (position bias)" in failure for failure in check.failures)


def test_a_judge_that_tells_answers_apart_and_agrees_with_itself_passes() -> None:
    check = judge_check(calls([(LOGGED, LOGGED, LOGGED)] * 9 + [(LOGGED, TIE, LOGGED)]), PAIRWISE, 10, 2)
    assert check is not None and check.passed and (check.right, check.flips, check.agreeing) == (9, 2, 10)


@pytest.mark.parametrize(("verdicts", "failure"), [
    ([(LOGGED, LOGGED, CANDIDATE)] * 10, "agreed with itself in only 0 of 10"),
    ([(LOGGED, LOGGED, LOGGED)] * 7 + [(TIE, TIE, TIE)] * 3, "only 7 of 10 control pairs"),
    ([(LOGGED, LOGGED, LOGGED)] * 2, "checked on 2 control pairs, fewer than 3"),
])
def test_each_bar_fails_on_its_own(verdicts: list[tuple[str, str, str | None]], failure: str) -> None:
    check = judge_check(calls(verdicts), PAIRWISE, 0, 0)
    assert check is not None and [problem for problem in check.failures if failure in problem]
    assert len(check.failures) == 1


def test_a_category_whose_pairs_follow_the_order_is_unmeasured_under_a_judge_that_passed() -> None:
    passed = judge_check(calls([(LOGGED, LOGGED, LOGGED)] * 10), PAIRWISE, 0, 0)
    flipped = {f"code{index}": Judged(TIE, 0.0, PAIRWISE, flipped=index < 3) for index in range(5)}
    fair = {f"support{index}": Judged(LOGGED, -1.0, PAIRWISE) for index in range(5)}
    records = [CallRecord(key, "candidate", key, "m", "m", True, category=key.rstrip("0123456789"))
               for key in [*flipped, *fair]]
    results = {result.category: result for result in summarize(records, Verdicts({**flipped, **fair}, passed),
                                                                set(flipped), {}, {}, 0.2)}
    assert results["code"].quality.unmeasured == \
        "the judge's verdict changed with the order in 3 of 5 of this category's pairs"
    assert results["code"].quality.delta is None and results["code"].escalation_rate is None
    assert results["support"].quality.unmeasured is None and results["support"].quality.delta == -1.0


def test_unmeasured_quality_fails_the_gate_unless_configured_to_warn(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("gate:\n  max_quality_drop: {value: 5, unmeasured: warn}\n", encoding="utf-8")
    [threshold] = merge(load_gate_file(str(policy)), GateFlags())
    assert (threshold.level, threshold.unmeasured_level) == (FAIL, WARN)
    [flagged] = merge({}, GateFlags(max_quality_drop=5, warn=("unmeasured-quality",)))
    assert (flagged.level, flagged.unmeasured_level) == (FAIL, WARN)
    [default] = merge({}, GateFlags(max_quality_drop=5))
    assert default.unmeasured_level == FAIL


# ---------------------------------------------------------------------------------------------
# End to end: the CLI against the mock server, then audit --replay and the gate on the store
# ---------------------------------------------------------------------------------------------

def gate_on_store(tmp_path: Path, *flags: str) -> Any:
    return routecost("gate", "--logs", str(tmp_path / "logs.jsonl"), "--head", str(tmp_path / "policy.yaml"),
                     "--replay", str(tmp_path / "store.sqlite"), "--max-quality-drop", "100", *flags,
                     "--format", "json")


def test_a_judge_that_always_answers_a_leaves_quality_unmeasured_and_the_gate_fails(tmp_path: Path,
                                                                                    mock: MockLLM) -> None:
    """Before: every pair a tie, delta 0 with a 95% interval of [0, 0], and the gate passed."""
    mock.judge_reply = lambda prompt: '{"winner": "A"}'
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--yes", "--format", "json"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    check = report["judge_check"]
    assert not check["passed"] and check["intact_preferred"] == 0 and check["control_pairs"] == 10
    assert check["order_flips"] == check["pairs"] == 15  # 5 real pairs and 10 control pairs, all flipped
    for category in report["categories"]:
        quality = category["quality"]
        assert quality["ties"] == quality["n"] > 0  # what the judge said is kept...
        assert quality["delta"] is None and quality["ci_low"] is None  # ...but read as no change, never
        assert quality["unmeasured"].startswith("the judge failed its checks")
    assert "judge checks: intact answer preferred in 0 of 10 control pairs" in result.stderr
    assert "FAILED" in result.stderr and "quality unmeasured in code, support: the judge failed its checks" in result.stderr

    audit = json.loads(routecost("audit", str(tmp_path / "logs.jsonl"), "--policy", str(tmp_path / "policy.yaml"),
                                 "--replay", str(tmp_path / "store.sqlite"), "--format", "json").stdout)
    [policy] = audit["policies"]
    assert all(row["quality"]["unmeasured"] for row in policy["categories"] if row["quality"])
    assert any("judge checks" in note and "FAILED" in note for note in policy["assumptions"])

    failed = gate_on_store(tmp_path)
    assert failed.returncode == 1, failed.stderr
    crossed = json.loads(failed.stdout)["gate"]["crossed"]
    assert {(entry["scope"], entry["level"]) for entry in crossed} == {("support", FAIL), ("code", FAIL)}
    assert all("quality unmeasured" in entry["message"] for entry in crossed)
    warned = gate_on_store(tmp_path, "--warn", "unmeasured-quality")
    assert warned.returncode == 0 and json.loads(warned.stdout)["gate"]["verdict"] == WARN


def test_a_judge_that_tells_answers_apart_measures_quality_and_the_gate_reads_it(tmp_path: Path,
                                                                                 mock: MockLLM) -> None:
    mock.judge_reply = fair_judge  # the logged answers are longer: they win every real pair
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--yes", "--format", "json"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["judge_check"]["passed"] and report["judge_check"]["intact_preferred"] == 10
    categories = {category["category"]: category for category in report["categories"]}
    assert categories["support"]["quality"]["delta"] == -1.0 and categories["support"]["quality"]["unmeasured"] is None
    assert categories["code"]["escalation_rate"] == 1.0  # every first try lost: all would escalate
    assert "judge checks: intact answer preferred in 10 of 10 control pairs, order flips 0 of 15 pairs (0%), " \
           "self-agreement 10 of 10: passed" in result.stderr
    failed = gate_on_store(tmp_path, "--max-quality-drop", "5")
    assert failed.returncode == 1 and "quality could drop" in failed.stdout
    # 2 of 2 first tries escalated: the rate is 1.0, but its interval reaches down, and so does the cost
    low, high = categories["code"]["escalation_ci"]
    assert 0.3 < low < 1.0 and high == 1.0
    audit = json.loads(routecost("audit", str(tmp_path / "logs.jsonl"), "--policy", str(tmp_path / "policy.yaml"),
                                 "--replay", str(tmp_path / "store.sqlite"), "--format", "json").stdout)
    code = next(row for row in audit["policies"][0]["categories"] if row["category"] == "code")
    # at least the escalations the interval's low end spares: gpt-4o at $2.50 / $10 per million, 1000 in, 40 out
    gpt_4o = (1000 * 2.50 + 40 * 10.00) / 1_000_000
    assert code["cost_usd"] - code["low_usd"] >= (1 - low) * 2 * gpt_4o


def test_a_judge_that_contradicts_itself_when_asked_again_fails_self_agreement(tmp_path: Path,
                                                                               mock: MockLLM) -> None:
    asked: Counter[str] = Counter()
    lock = threading.Lock()

    def fickle(prompt: str) -> str:
        with lock:
            asked[prompt] += 1
            again = asked[prompt] > 1
        verdict = json.loads(fair_judge(prompt))["winner"]
        return json.dumps({"winner": {"A": "B", "B": "A"}.get(verdict, verdict) if again else verdict})

    mock.judge_reply = fickle
    result = routecost(*command(tmp_path, mock, logs(tmp_path), "--yes", "--format", "json"))
    check = json.loads(result.stdout)["judge_check"]
    assert (check["repeats"], check["self_agreeing"], check["intact_preferred"]) == (10, 0, 10)
    assert check["failures"] == ["it agreed with itself in only 0 of 10 repeated judgments"]


def test_a_rerun_sends_no_check_twice(tmp_path: Path, mock: MockLLM) -> None:
    mock.judge_reply = fair_judge
    log = logs(tmp_path, support=2, code=0, chat=0)
    plan, _, store = replay(tmp_path, mock, log, judge_checks=4)
    store.close()
    assert len(plan.controls) == 4 and plan.check_calls == 12
    before = mock.hits["judge"]
    plan, outcome, store = replay(tmp_path, mock, log, judge_checks=4)
    assert mock.hits["judge"] == before and plan.check_calls == 0 and not outcome.sent
    assert plan_results(plan, store, 0.2).check.passed  # type: ignore[union-attr]
    store.close()
