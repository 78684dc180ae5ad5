"""``routecost scout``: per category, the catalog models that cut its cost at the logs' own token mix.

Expected costs are the published per-million-token prices worked out by hand (OpenAI's price page:
gpt-4o $2.50 in / $10 out, gpt-4o-mini $0.15 / $0.60, gpt-4.1 $2 / $8, gpt-4.1-mini $0.40 / $1.60).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from routecost.audit import AuditOptions, run_audit
from routecost.policy.loader import load_policy
from routecost.prices.catalog import PriceBook
from routecost.report.scout import render_json
from routecost.scout import ScoutReport, ready_policy, scout
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, write_jsonl
from tests.test_cli import run
from tests.test_policy_projection import GPT4O, ON_GPT4O, ON_GPT41, ON_MINI, chat_record

REL = 1e-9


def scouted(tmp_path: Path, records: list[dict[str, Any]], **settings: Any) -> ScoutReport:
    log = write_jsonl(tmp_path / "log.jsonl", records)
    audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), as_of=AS_OF))
    return scout(audit, **settings)


def support(prompt: int = 1000, completion: int = 200) -> dict[str, Any]:
    return chat_record(GPT4O, prompt, completion, metadata={"category": "support"})


def candidates(report: ScoutReport, category: str) -> dict[str, float]:
    [row] = [row for row in report.categories if row.category == category]
    return {candidate.model: candidate.cost_usd for candidate in row.candidates}


def test_a_candidate_costs_the_categorys_own_tokens_at_its_published_prices(tmp_path):
    report = scouted(tmp_path, [support() for _ in range(3)])
    [row] = report.categories
    assert row.requests == 3 and row.cost_usd == pytest.approx(3 * ON_GPT4O, rel=REL)
    found = candidates(report, "support")
    # gpt-4o-mini shares gpt-4o's tokenizer: the same 1000 in and 200 out, 94% cheaper
    assert found["openai/gpt-4o-mini"] == pytest.approx(3 * ON_MINI, rel=REL)
    assert [c.cut_pct for c in row.candidates if c.model == "openai/gpt-4o-mini"] == [
        pytest.approx(100 * (1 - ON_MINI / ON_GPT4O), rel=REL)]
    # gpt-4.1 cuts 20% (3600 against 4500 per MTOK): below the 30% bar, not a candidate; at 10% it is one
    assert "openai/gpt-4.1" not in found
    assert "openai/gpt-4o" not in found  # the model itself saves nothing
    assert candidates(scouted(tmp_path, [support()], min_cut_pct=10), "support")["openai/gpt-4.1"] == pytest.approx(
        ON_GPT41, rel=REL)
    assert list(found.values()) == sorted(found.values())  # cheapest first
    assert report.providers == ["openai"]  # the providers the logs use
    assert all(model.startswith("openai/") for model in found)


def test_a_model_whose_context_window_cannot_hold_the_largest_request_is_no_candidate(tmp_path):
    # 150,000 input tokens: gpt-4o-mini's window is 128,000; gpt-4.1-mini's 1,047,576
    report = scouted(tmp_path, [support(150_000, 100)])
    found = candidates(report, "support")
    assert report.categories[0].largest_request_tokens == 150_100
    assert "openai/gpt-4o-mini" not in found
    assert found["openai/gpt-4.1-mini"] == pytest.approx((150_000 * 0.40 + 100 * 1.60) / MTOK, rel=REL)


def test_named_providers_widen_the_search(tmp_path):
    report = scouted(tmp_path, [support()], providers=["anthropic"])
    assert report.providers == ["anthropic", "openai"]
    assert any(model.startswith("anthropic/") for model in candidates(report, "support"))


def test_the_ready_policy_routes_each_category_to_its_best_candidate_and_passes_the_check(tmp_path):
    report = scouted(tmp_path, [support(), chat_record(GPT4O, 500, 50, metadata={"category": "chat"})])
    path = tmp_path / "scout.yaml"
    path.write_text(ready_policy(report, "scout"), encoding="utf-8")
    policy = load_policy(str(path), PriceBook())
    best = {row.category: row.candidates[0].model for row in report.categories}
    assert len(policy.routes) == 3  # one per category and the fallback, as `policy check` reads them
    routes = yaml.safe_load(path.read_text(encoding="utf-8"))["routes"]
    assert routes[:-1] == [{"when": {"category": name}, "to": best[name]} for name in best]
    assert routes[-1] == {"to": "keep"}
    audited = run_audit(AuditOptions(paths=[str(tmp_path / "log.jsonl")], reader=ReaderConfig(workers=1),
                                     as_of=AS_OF, policy_paths=[str(path)]))
    [projection] = audited.report.policies
    assert projection.cost_usd == pytest.approx(sum(row.candidates[0].cost_usd for row in report.categories), rel=REL)


def test_a_later_run_says_which_models_are_new_and_which_prices_changed(tmp_path):
    report = scouted(tmp_path, [support()])
    previous = json.loads(render_json(report))
    del previous["considered"]["openai/gpt-4.1-mini"]
    previous["considered"]["openai/gpt-4o-mini"]["input_per_mtok"] = 0.30
    best = previous["categories"][0]["candidates"].pop(0)  # not among the best last time
    again = scouted(tmp_path, [support()], previous=previous)
    assert "new in the catalog: openai/gpt-4.1-mini" in again.changes
    assert "price change: openai/gpt-4o-mini input $0.3 -> $0.15 per million tokens" in again.changes
    assert f"new candidate for support: {best['model']} (-{best['cut_pct']:.0f}%)" in again.changes
    assert len(again.changes) == 3
    assert scouted(tmp_path, [support()], previous=json.loads(render_json(report))).changes == []


def test_the_command_writes_the_policy_and_reads_its_last_report(tmp_path):
    log = str(write_jsonl(tmp_path / "log.jsonl", [support()]))
    first = run("scout", log, "--format", "json", "--out", str(tmp_path / "s.json"),
                "--policy-out", str(tmp_path / "p.yaml"))
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "p.yaml").read_text(encoding="utf-8").startswith("# Written by `routecost scout`")
    again = run("scout", log, "--since", str(tmp_path / "s.json"), "--format", "markdown")
    assert again.returncode == 0 and "| support |" in again.stdout
    bad = run("scout", log, "--min-cut", "150")
    assert bad.returncode == 2 and "--min-cut 150: a percentage between 0 and 100" in bad.stderr
    not_a_report = run("scout", log, "--since", log)
    assert not_a_report.returncode == 2 and "not a scout report" in not_a_report.stderr
