"""Self-hosted tiers: a route to a model the team serves on its own GPUs, priced from GPU time.

Worked by hand. The tier below: 2 GPUs a replica at $2 per GPU-hour ($4 a replica-hour), 1 input
token/s of prefill and 1 output token/s of decode, 50% utilised: a token costs $4 / 3600 / 1 / 0.5
= $0.0022222 (input and output alike). Each logged request is gpt-4o-mini with 1,000 input and 500
output tokens ($0.15 and $0.60 per million: $0.00045 as logged); on the tier, a llama-family
model, its input is 1,000 x 1.03 / 1.00 = 1,030 tokens (the tokenizer table: llama 1.03, o200k
1.00), so it costs (1,030 + 500) x $0.0022222 = $3.40 and keeps a replica busy 1,530 s. Three
requests at 10:05, 10:40 and 11:10 UTC: the busiest hour (10:00) needs 3,060 s / 3,600 / 0.5 = 1.7
replicas, so 2, i.e. 3.4 GPU-hours; a fixed fleet of 2 replicas over the 65 logged minutes costs
2 x $4 x 65 / 60 = $8.6667.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.prices.self_hosted import SelfHostedTier
from routecost.replay.endpoints import load_endpoints
from routecost.replay.judge import load_template
from routecost.replay.runner import ReplaySettings, plan_replay, run_replay
from routecost.replay.store import ReplayStore
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, KEY_ENV, write_jsonl, write_policy
from tests.test_cli import run
from tests.test_policy_projection import chat_record

TOKEN_USD = 4 / 3600 / 1 / 0.5
REQUEST_USD = (1030 + 500) * TOKEN_USD
LOGGED_USD = (1000 * 0.15 + 500 * 0.60) / 1e6
TIER = """\
self_hosted:
  llama-70b:
    gpu: L40S
    gpu_hour: 2
    gpus: 2
    prefill_tokens_s: 1
    decode_tokens_s: 1
    utilisation: 0.5
{extra}"""


def logs(tmp_path: Path) -> Path:
    times = ("2026-10-29T10:05:00Z", "2026-10-29T10:40:00Z", "2026-10-29T11:10:00Z")
    return write_jsonl(tmp_path / "log.jsonl", [chat_record("gpt-4o-mini-2024-07-18", 1000, 500) | {"ts": moment}
                                                for moment in times])


def policy_file(tmp_path: Path, extra: str = "", route: str = "self_hosted/llama-70b") -> Path:
    return write_policy(tmp_path, f"name: p\n{TIER.format(extra=extra)}routes:\n  - to: {route}\n")


def projection(tmp_path: Path, extra: str = "", route: str = "self_hosted/llama-70b"):
    audit = run_audit(AuditOptions(paths=[str(logs(tmp_path))], reader=ReaderConfig(workers=1), as_of=AS_OF,
                                   policy_paths=[str(policy_file(tmp_path, extra, route))]), keep_requests=False)
    return audit.report.policies[0]


def test_a_tiers_token_costs_its_gpu_time_at_its_utilisation():
    tier = SelfHostedTier(name="t", gpu_hour_usd=2.5, gpus=4, prefill_tokens_s=10_000, decode_tokens_s=2_000,
                          utilisation=0.5, speculative_speedup=2.0)
    assert math.isclose(tier.input_usd_per_token * 1e6, 10 / 3600 / 10_000 / 0.5 * 1e6, rel_tol=1e-12)  # $0.5556
    assert math.isclose(tier.output_usd_per_token * 1e6, 10 / 3600 / 4_000 / 0.5 * 1e6, rel_tol=1e-12)  # $1.389


@pytest.mark.parametrize("route", ["self_hosted/llama-70b", "llama-70b"])
def test_routed_traffic_is_priced_at_the_tiers_effective_price(tmp_path, route):
    found = projection(tmp_path, route=route)
    assert math.isclose(found.cost_usd, 3 * REQUEST_USD, rel_tol=1e-9)
    assert math.isclose(found.baseline_cost_usd, 3 * LOGGED_USD, rel_tol=1e-9)
    assert found.categories[0].routed == {"self_hosted/llama-70b": 100.0}


def test_the_fleet_is_sized_for_the_busiest_hour_and_compared_with_the_api(tmp_path):
    plan, = projection(tmp_path).fleets
    assert plan.requests == 3 and plan.input_tokens == 3 * 1030 and plan.output_tokens == 3 * 500
    assert math.isclose(plan.busy_replica_hours, 3 * 1530 / 3600, rel_tol=1e-12)
    assert plan.peak_hour is not None and plan.peak_hour.isoformat() == "2026-10-29T10:00:00+00:00"
    assert math.isclose(plan.peak_gpu_hours, 2 * 1530 / 3600 / 0.5 * 2, rel_tol=1e-12)
    assert plan.replicas_needed == 2 and plan.replicas == 2
    assert plan.fleet_cost_usd is not None and math.isclose(plan.fleet_cost_usd, 2 * 4 * 65 / 60, rel_tol=1e-9)
    assert math.isclose(plan.cost_usd, 3 * REQUEST_USD, rel_tol=1e-9)
    assert math.isclose(plan.api_cost_usd, 3 * LOGGED_USD, rel_tol=1e-9)
    assert plan.fleet_cheaper is False


def test_a_fixed_fleet_too_small_for_the_busiest_hour_says_so(tmp_path):
    found = projection(tmp_path, extra="    replicas: 1\n    speculative_decoding: 1\n")
    plan, = found.fleets
    assert plan.replicas == 1 and plan.replicas_needed == 2
    assert math.isclose(plan.fleet_cost_usd or 0, 4 * 65 / 60, rel_tol=1e-9)
    assert any("1 replica cannot serve the busiest hour (2026-10-29 10:00 UTC needs 2" in note
               for note in found.assumptions)


def test_speculative_decoding_speeds_up_the_answer_only(tmp_path):
    found = projection(tmp_path, extra="    speculative_decoding: 2\n")
    assert math.isclose(found.cost_usd, 3 * (1030 + 500 / 2) * TOKEN_USD, rel_tol=1e-9)


def test_segments_add_up_to_the_same_fleet(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTECOST_SEGMENT_ROWS", "1")
    test_the_fleet_is_sized_for_the_busiest_hour_and_compared_with_the_api(tmp_path)


def test_reports_show_the_fleet(tmp_path):
    arguments = ("audit", str(logs(tmp_path)), "--policy", str(policy_file(tmp_path)))
    table = run(*arguments)
    assert table.returncode == 0, table.stderr
    assert "Self-hosted: p" in table.stdout and "2026-10-29 10:00 (3.4)" in table.stdout
    markdown = run(*arguments, "--format", "markdown").stdout
    assert "| self\\_hosted/llama-70b | 3 | 2.55 | 2026-10-29 10:00 (3.4) | 2 | $10.20 | $8.67 (59% busy) | $0.0014 |" in markdown
    tier, = json.loads(run(*arguments, "--format", "json").stdout)["policies"][0]["self_hosted"]
    assert tier["replicas"] == 2 and tier["fleet_cheaper_than_api"] is False
    assert math.isclose(tier["input_usd_per_mtok"], TOKEN_USD * 1e6, rel_tol=1e-12)


@pytest.mark.parametrize(("tier", "problem"), [
    ("  big:\n    gpu_hour: 2\n    gpus: 1\n    prefill_tokens_s: 1\n", "needs `decode_tokens_s`"),
    ("  big:\n    gpu_hour: 2\n    gpus: 1.5\n    prefill_tokens_s: 1\n    decode_tokens_s: 1\n", "`gpus: 1.5`"),
    ("  big:\n    gpu_hour: 2\n    gpus: 1\n    prefill_tokens_s: 1\n    decode_tokens_s: 1\n    utilisation: 60\n",
     "`utilisation: 60`: a share of the GPU time above 0 and at most 1"),
    ("  big:\n    gpu_hour: 2\n    gpus: 1\n    prefill_tokens_s: 1\n    decode_tokens_s: 1\n    gpu_count: 2\n",
     "gpu_count"),
])
def test_a_bad_tier_is_a_one_line_error_naming_the_key(tmp_path, tier, problem):
    path = write_policy(tmp_path, f"name: p\nself_hosted:\n{tier}routes:\n  - to: self_hosted/big\n")
    done = run("policy", "check", str(path))
    assert done.returncode == 2 and problem in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_tier_no_route_uses_is_an_error(tmp_path):
    path = write_policy(tmp_path, f"name: p\n{TIER.format(extra='')}routes:\n  - to: openai/gpt-4o-mini\n")
    done = run("policy", "check", str(path))
    assert done.returncode == 2 and "no route or cascade sends requests to self_hosted/llama-70b" in done.stderr


def test_the_html_report_shows_the_fleet(tmp_path):
    page = run("audit", str(logs(tmp_path)), "--policy", str(policy_file(tmp_path)), "--format", "html").stdout
    assert "<td>self_hosted/llama-70b</td><td>3</td><td>2.55</td><td>2026-10-29 10:00 (3.4)</td>" in page


def test_replay_reaches_a_tier_through_an_endpoint_for_self_hosted_models(tmp_path, mock):
    endpoints = tmp_path / "endpoints.yaml"
    endpoints.write_text(f"endpoints:\n  - name: our-vllm\n    base_url: {mock.url}/v1\n    key_env: {KEY_ENV}\n"
                         "    providers: [self_hosted]\n", encoding="utf-8")
    options = ReplaySettings(retries=1, timeout_s=5.0, concurrency=2, judge_checks=0, judge="self_hosted/llama-70b")
    audit = run_audit(AuditOptions(paths=[str(logs(tmp_path))], reader=ReaderConfig(workers=1), as_of=AS_OF,
                                   policy_paths=[str(policy_file(tmp_path))]))
    with ReplayStore(tmp_path / "store.sqlite") as store:
        plan = plan_replay(audit, options, load_template(options.judge_mode), load_endpoints(str(endpoints)), store)
        run_replay(plan, options, audit.book, store)
        candidates = list(store.records("candidate"))
    assert len(plan.tasks) == 3 and candidates and all(record.ok for record in candidates)  # one prompt, asked once
    # the endpoint is asked for the tier's own name, as a vLLM or llama.cpp server serves it
    assert {record.answer.split(" says:")[0] for record in candidates} == {"llama-70b"}  # type: ignore[union-attr]
