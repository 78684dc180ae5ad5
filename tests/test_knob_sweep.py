"""``routecost sweep``: a policy across one knob, the route share, quality from a replay store
(the local mock LLM's judge prefers the logged answer, and passes its checks), and the APGR score worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.knob_sweep import SweepPoint, apgr_score, parse_values, run_sweep
from routecost.replay.endpoints import load_endpoints
from routecost.replay.judge import load_template
from routecost.replay.runner import ReplaySettings, plan_replay, run_replay
from routecost.replay.sample import SampleSize
from routecost.replay.store import ReplayStore
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, write_jsonl
from tests.mock_llm import MockLLM, fair_judge
from tests.test_replay import KEY_ENV, SECRET, endpoints_file, record

# Every request: 1000 input and 40 output tokens on gpt-4o ($2.50 / $10 per MTok) or, moved,
# on gpt-4o-mini ($0.15 / $0.60 per MTok; same tokenizer; output as long as replay measured it).
GPT_4O = (1000 * 2.50 + 40 * 10.00) / MTOK
POLICY = """\
name: share
categories:
  - from: metadata.category
routes:
  - when: {category: support}
    to: openai/gpt-4o-mini
    share: 1.0
"""


@pytest.fixture
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """Logs (8 support, 8 chat requests), the policy, and a store in which every support request was
    replayed on gpt-4o-mini and lost to its logged answer in both orders."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    log = write_jsonl(tmp_path / "logs.jsonl",
                      [record(index, "support", f"support question {index}") for index in range(8)]
                      + [record(100 + index, "chat", f"chat question {index}") for index in range(8)])
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    store_path = tmp_path / "store.sqlite"
    with MockLLM() as mock:
        mock.judge_reply = fair_judge  # the logged answer is longer: it wins
        audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1, fingerprint_prompts=True),
                                       policy_paths=[str(policy)], as_of=AS_OF))
        settings = ReplaySettings(size=SampleSize(per_category=20), retries=0, timeout_s=5.0, concurrency=4)
        with ReplayStore(store_path) as store:
            plan = plan_replay(audit, settings, load_template("pairwise"),
                               load_endpoints(str(endpoints_file(tmp_path, mock))), store)
            run_replay(plan, settings, audit.book, store)
    return log, policy, store_path


def sweep(log: Path, policy: Path, knob: str, values: str, store: Path | None) -> list[SweepPoint]:
    options = AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=[str(policy)], as_of=AS_OF,
                           replay_store=str(store) if store else None)
    return run_sweep(options, knob, parse_values(values)).points


def test_route_share_moves_that_share_and_quality_follows_the_judged_delta(replayed):
    log, policy, store = replayed
    points = sweep(log, policy, "routes.0.share", "0,0.5,1", store)
    logged_cost = 16 * GPT_4O
    # the measured output ratio: the mock answers "gpt-4o-mini says: support question N", 5 words for 40 tokens
    mini_cost = (1000 * 0.15 + 5 * 0.60) / MTOK
    for point in points:
        moved = round(point.moved_pct / 100 * 16)
        assert point.cost_usd == pytest.approx(logged_cost - moved * (GPT_4O - mini_cost), rel=1e-9)
        # each moved support request carries the category's judged delta, -1 (the logged answer won)
        assert point.quality == pytest.approx(-moved / 16) and point.quality_low == pytest.approx(-moved / 16)
    share_0, share_half, share_1 = points  # 1.0, the policy's own value, was asked for: not added again
    assert (share_0.moved_pct, share_1.moved_pct) == (0.0, 50.0)
    assert 0 < share_half.moved_pct < 50 and share_1.candidate and not share_0.candidate


def test_the_policys_own_value_is_always_swept(replayed):
    log, policy, _store = replayed
    points = sweep(log, policy, "routes.0.share", "0.5,0", None)
    assert [(point.value, point.candidate) for point in points] == [(0, False), (0.5, False), (1.0, True)]
    assert all(point.quality is None for point in points)


def test_a_move_replay_never_judged_has_no_quality(replayed):
    log, policy, store = replayed
    mini, other = sweep(log, policy, "routes.0.to", "openai/gpt-4o-mini,openai/gpt-4.1-mini", store)
    assert mini.quality == pytest.approx(-0.5)
    assert other.quality is None and other.unjudged_moved == 8


def test_apgr_of_a_linear_trade_off_is_one_half_and_the_command_reports_it(replayed, tmp_path):
    from tests.test_replay import routecost

    log, policy, store = replayed
    done = routecost("sweep", str(log), "--policy", str(policy), "--knob", "routes.0.share", "--values", "0,0.5,1",
                     "--replay", str(store), "--format", "json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # Quality falls by exactly 1/16 per moved request and cost by a fixed amount: every point lies on
    # the line from the cheapest variant to the logged traffic, the hull is that line, APGR = 0.5.
    assert result["apgr"] == pytest.approx(0.5)
    html = routecost("sweep", str(log), "--policy", str(policy), "--knob", "routes.0.share", "--values", "0:1:0.25",
                     "--replay", str(store), "--format", "html", "--out", str(tmp_path / "sweep.html"))
    assert html.returncode == 0, html.stderr
    page = (tmp_path / "sweep.html").read_text(encoding="utf-8")
    assert page.count("<circle") == 5 and "logged" in page and "policy (1.0)" in page


def point(cost: float, quality: float) -> SweepPoint:
    return SweepPoint(0, False, cost, 0.0, 0.0, quality, None, None, 0)


@pytest.mark.parametrize(("points", "expected"), [
    ([point(5, -0.5)], 0.5),                              # only the two ends: the diagonal
    ([point(5, -0.5), point(6, 0.0)], 0.1 + 0.8),         # all quality back at 20% of the cost range
    ([point(5, -0.5), point(9, -0.45)], 0.5),             # below the diagonal: the hull ignores it
    ([point(5, -0.5), point(7.5, -0.125)], 0.5 * 0.5 * 0.75 + 0.5 * (0.75 + 1) / 2),
])
def test_apgr_is_the_area_under_the_hull(points, expected):
    score, note = apgr_score(10.0, points)
    assert score == pytest.approx(expected) and note == ""


def test_apgr_needs_quality_and_a_gap():
    assert apgr_score(10.0, [SweepPoint(0, False, 5, 0, 0, None, None, None, 3)])[0] is None
    assert "nothing to recover" in apgr_score(10.0, [point(5, 0.0)])[1]


@pytest.mark.parametrize(("text", "values"), [("0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]), ("256, 512,1024", [256, 512, 1024]),
                                              ("200:1400:400", [200, 600, 1000, 1400]),
                                              ("openai/gpt-4o-mini", ["openai/gpt-4o-mini"])])
def test_values(text, values):
    parsed = parse_values(text)
    assert parsed == values and [type(value) for value in parsed] == [type(value) for value in values]


def test_bad_knobs_are_usage_errors(tmp_path):
    from tests.test_replay import routecost

    log = write_jsonl(tmp_path / "logs.jsonl", [record(0, "support", "q")])
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    for knob, values, message in [("cascades.0.escalate_rate", "0.1", "the policy has no `cascades`"),
                                  ("routes.0.share", "1.5", "a number between 0 and 1"),
                                  ("routes.0.share", "1:0:0.5", "needs a positive step")]:
        done = routecost("sweep", str(log), "--policy", str(policy), "--knob", knob, "--values", values)
        assert done.returncode == 2 and message in done.stderr, done.stderr


def test_an_integer_range_sweeps_a_token_bound(tmp_path):
    """Before: 200:1400:400 made 200.0, and a token bound refused it ("a whole number of tokens")."""
    log = write_jsonl(tmp_path / "logs.jsonl", [record(index, "support", f"q{index}") for index in range(3)])
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: short\nroutes:\n  - when: {input_tokens: {lt: 500}}\n    to: openai/gpt-4o-mini\n",
                      encoding="utf-8")
    points = sweep(log, policy, "routes.0.when.input_tokens.lt", "200:1400:400", None)
    assert [point.value for point in points] == [200, 500, 600, 1000, 1400]
    # the requests have 1,000 input tokens: a bound above 1,000 moves all three, one at or below none
    assert [point.moved_pct for point in points] == [0.0, 0.0, 0.0, 0.0, 100.0]
