"""``routecost diff`` and ``routecost gate``: comparisons of hand-made reports (round numbers worked
out by hand), every threshold passing, warning and failing, the exit codes, the price-sheet split,
the Markdown comment against an expected file, and the --logs mode priced from published prices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MTOK, write_jsonl

ROUTECOST = [sys.executable, "-m", "routecost"]
DATA = Path(__file__).parent / "data"
CATALOG = "genai-prices 0.2.3"


def category(name: str, requests: int, logged: float, cost: float,
             quality: tuple[int, float, float, float] | None = None) -> dict[str, Any]:
    """A policy category as the JSON contract has it; ``quality`` is (n, delta, ci_low, ci_high), pairwise."""
    judged = None
    if quality is not None:
        n, delta, low, high = quality
        judged = {"n": n, "wins": 0, "ties": n, "losses": 0, "unparsed": 0, "delta": delta, "ci_low": low,
                  "ci_high": high, "ci_method": "bootstrap", "n_for_width": None, "judge_mode": "pairwise",
                  "escalation_rate": None}
    return {"category": name, "requests": requests, "priced_requests": requests, "baseline_cost_usd": logged,
            "cost_usd": cost, "savings_usd": logged - cost, "savings_pct": 100 * (logged - cost) / logged,
            "quality": judged}


def report(policy: str, categories: list[dict[str, Any]], catalog: str = CATALOG,
           unpriced: list[dict[str, Any]] | None = None, requests: int = 1750) -> dict[str, Any]:
    logged = sum(row["baseline_cost_usd"] for row in categories)
    cost = sum(row["cost_usd"] for row in categories)
    return {
        "catalog": catalog, "requests": requests,
        "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-31T00:00:00Z", "days": 30.0},
        "unpriced_models": unpriced or [],
        "assumptions": ["102 requests have no timestamp: priced at the prices of 2026-11-01"],
        "baseline": {"cost_usd": logged, "categories": [
            {"category": row["category"], "requests": row["requests"], "cost_usd": row["baseline_cost_usd"]}
            for row in categories]},
        "policies": [{"name": policy, "source": f"policies/{policy}.yaml", "baseline_cost_usd": logged,
                      "cost_usd": cost, "categories": categories,
                      "assumptions": ["output tokens on another model: the logged count times 1.0"]}],
    }


# Logged: support $100, code $50, chat $10 = $160.
# Base policy ("current"): support $80, code $50, chat $10 = $140 (12.5% saved).
# Head policy ("candidate"): support $40, code $35, chat $10 = $85 (46.875% saved), $55 (39.29%) below the base.
# Quality (pairwise, 95% CI low end): support -0.15 (a possible 15% drop, n=40), code -0.25 (25%, n=12).
BASE = report("current", [category("support", 1000, 100.0, 80.0), category("code", 500, 50.0, 50.0),
                          category("chat", 250, 10.0, 10.0)])
HEAD = report("candidate", [category("support", 1000, 100.0, 40.0, (40, -0.05, -0.15, 0.05)),
                            category("code", 500, 50.0, 35.0, (12, 0.0, -0.25, 0.25)),
                            category("chat", 250, 10.0, 10.0)],
              unpriced=[{"model": "acme-70b", "provider": None, "reason": "not in the catalog", "requests": 6,
                         "input_tokens": 0, "output_tokens": 0}])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROUTECOST, *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")})


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    (tmp_path / "base.json").write_text(json.dumps(BASE), encoding="utf-8")
    (tmp_path / "head.json").write_text(json.dumps(HEAD), encoding="utf-8")
    return tmp_path


def gate(folder: Path, *flags: str, base: str = "base.json", head: str = "head.json") -> tuple[int, dict[str, Any]]:
    done = run("gate", base, head, *flags, "--format", "json", cwd=folder)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def crossed(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(entry["threshold"], entry["scope"], entry["level"]) for entry in result["gate"]["crossed"]]


def test_diff_of_two_reports_per_category_and_in_total(reports):
    done = run("diff", "base.json", "head.json", "--format", "json", cwd=reports)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["gate"] is None and not result["prices_changed"] and result["same_traffic"]
    total = result["total"]
    assert total["before"]["cost_usd"] == pytest.approx(140.0) and total["after"]["cost_usd"] == pytest.approx(85.0)
    assert total["change_usd"] == pytest.approx(-55.0) and total["change_pct"] == pytest.approx(-55 / 140 * 100)
    assert total["before"]["savings_pct"] == pytest.approx(12.5) and total["after"]["savings_pct"] == pytest.approx(46.875)
    assert total["policy_effect_usd"] == pytest.approx(-55.0) and total["price_effect_usd"] == 0
    rows = {row["category"]: row for row in result["categories"]}
    assert [row["category"] for row in result["categories"]] == ["support", "code", "chat"]
    assert rows["support"]["change_usd"] == pytest.approx(-40.0) and rows["support"]["change_pct"] == pytest.approx(-50.0)
    assert rows["code"]["after"]["quality"]["ci_low"] == -0.25 and rows["chat"]["change_usd"] == 0


@pytest.mark.parametrize(("flags", "exit_code", "expected"), [
    (["--min-savings", "40"], 0, []),
    (["--min-savings", "50"], 1, [("min_savings", "total", "fail")]),
    (["--min-savings", "50", "--warn", "min-savings"], 0, [("min_savings", "total", "warn")]),
    (["--max-quality-drop", "30"], 0, []),
    (["--max-quality-drop", "20"], 1, [("max_quality_drop", "code", "fail")]),
    (["--max-quality-drop", "10", "--warn-only"], 0,
     [("max_quality_drop", "support", "warn"), ("max_quality_drop", "code", "warn")]),
    (["--min-samples", "12"], 0, []),
    (["--min-samples", "20"], 1, [("min_samples", "code", "fail")]),
    (["--min-samples", "41", "--warn", "min_samples"], 0,
     [("min_samples", "support", "warn"), ("min_samples", "code", "warn")]),
])
def test_thresholds_on_the_head_pass_warn_and_fail(reports, flags, exit_code, expected):
    code, result = gate(reports, *flags)
    assert code == exit_code
    assert sorted(crossed(result)) == sorted(expected)
    assert result["gate"]["verdict"] == ("fail" if exit_code else "warn" if expected else "pass")


@pytest.mark.parametrize(("limit", "exit_code", "level"), [
    ("60", 0, None),          # +$55 <= $60
    ("50", 1, "fail"),        # +$55 > $50
    ("$50", 1, "fail"),
    ("70%", 0, None),         # +55/85 = +64.7% <= 70%
    ("60%", 1, "fail"),       # +64.7% > 60%
])
def test_max_cost_increase_in_usd_or_percent(reports, limit, exit_code, level):
    # Swapped: the base is the cheaper candidate ($85), the head the dearer policy ($140).
    code, result = gate(reports, "--max-cost-increase", limit, base="head.json", head="base.json")
    assert code == exit_code
    assert crossed(result) == ([("max_cost_increase", "total", level)] if level else [])
    warned, result = gate(reports, "--max-cost-increase", limit, "--warn", "max-cost-increase", base="head.json",
                          head="base.json")
    assert warned == 0 and result["gate"]["verdict"] == ("warn" if level else "pass")


def test_per_category_savings_from_the_policy_files_gate_block(reports):
    (reports / "policies").mkdir()
    (reports / "policies" / "candidate.yaml").write_text(
        "name: candidate\nroutes:\n  - to: openai/gpt-4o-mini\n"
        "gate:\n  min_savings: {total: 40, categories: {support: 50, code: 35}, level: warn}\n  min_samples: 10\n",
        encoding="utf-8")
    code, result = gate(reports)  # the head report's policy source is policies/candidate.yaml
    assert code == 0
    assert crossed(result) == [("min_savings", "code", "warn")]  # code saved 30% < 35%; support 60%, total 46.9%
    code, result = gate(reports, "--min-savings", "50")  # a flag overrides the file's total, keeps its level
    assert code == 0 and ("min_savings", "total", "warn") in crossed(result)


def test_a_price_sheet_change_is_kept_apart_from_the_policy(tmp_path):
    # The same policy, priced twice: the new sheet makes the logged support traffic 10% dearer
    # ($100 -> $110) and the policy's support cost follows ($80 -> $88); code and chat are unchanged.
    old = report("current", [category("support", 1000, 100.0, 80.0), category("code", 500, 50.0, 50.0)],
                 catalog="genai-prices 0.2.2")
    new = report("current", [category("support", 1000, 110.0, 88.0), category("code", 500, 50.0, 50.0)])
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")
    code, result = gate(tmp_path, "--max-cost-increase", "1", base="old.json", head="new.json")
    assert result["prices_changed"]
    support = next(row for row in result["categories"] if row["category"] == "support")
    assert support["change_usd"] == pytest.approx(8.0)
    assert support["price_effect_usd"] == pytest.approx(80.0 * (110 / 100 - 1))
    assert support["policy_effect_usd"] == pytest.approx(0.0, abs=1e-9)
    assert code == 0 and crossed(result) == []  # +$8 is the prices' doing, not the policy's
    assert any("prices differ (genai-prices 0.2.2 → genai-prices 0.2.3)" in note for note in result["notes"])
    # A policy change on top of the price change: the head's support falls to $44 at the new prices.
    new["policies"][0]["categories"][0] = category("support", 1000, 110.0, 44.0)
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")
    _, result = gate(tmp_path, "--max-cost-increase", "1", base="old.json", head="new.json")
    support = next(row for row in result["categories"] if row["category"] == "support")
    assert support["price_effect_usd"] == pytest.approx(8.0) and support["policy_effect_usd"] == pytest.approx(-44.0)


def test_the_markdown_comment_matches_the_expected_file(reports):
    done = run("gate", "base.json", "head.json", "--min-savings", "50", "--max-quality-drop", "20", "--warn",
               "max-quality-drop", "--min-samples", "10", "--format", "markdown", cwd=reports)
    assert done.returncode == 1, done.stderr
    assert done.stdout == (DATA / "gate_comment.md").read_text(encoding="utf-8")


def test_the_terminal_table_names_the_verdict_and_the_crossed_thresholds(reports):
    done = run("gate", "base.json", "head.json", "--min-savings", "50", cwd=reports)
    assert done.returncode == 1
    assert "routecost gate: fail" in done.stdout and "min-savings: total savings 46.9% < 50%" in done.stdout
    assert "support" in done.stdout and "▼ −$40.00 (−50.0%)" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["missing.json", "head.json", "--min-savings", "1"], "missing.json: cannot read"),
    (["not-json.txt", "head.json", "--min-savings", "1"], "not-json.txt: not JSON"),
    (["base.json", "head.json"], "no thresholds"),
    (["base.json", "head.json", "--max-cost-increase", "ten"], "--max-cost-increase: expected a non-negative amount"),
    (["base.json", "head.json", "--min-savings", "1", "--warn", "min-saving"], "unknown threshold 'min_saving'"),
    (["base.json", "--min-savings", "1"], "give two reports"),
    (["two.json", "head.json", "--min-savings", "1"], "two.json: holds 2 policies (a, b)"),
    (["base.json", "head.json", "--min-savings", "1", "--head-policy", "nope"], "head.json: no policy 'nope'"),
    (["base.json", "head.json", "--gate-file", "bad-gate.yaml"], "bad-gate.yaml:2:27: `level` is warn or fail"),
])
def test_bad_input_is_one_line_and_exit_2(reports, args, message):
    (reports / "not-json.txt").write_text("hello", encoding="utf-8")
    two = report("a", [category("support", 1, 1.0, 1.0)])
    two["policies"].append({**two["policies"][0], "name": "b"})
    (reports / "two.json").write_text(json.dumps(two), encoding="utf-8")
    (reports / "bad-gate.yaml").write_text("gate:\n  min_samples: {value: 3, level: maybe}\n", encoding="utf-8")
    done = run("gate", *args, cwd=reports)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_policy_check_validates_the_gate_block(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("name: p\nroutes:\n  - to: openai/gpt-4o-mini\ngate:\n  min_savings: 20\n"
                      "  max_cost_increase: 5%\n", encoding="utf-8")
    assert run("policy", "check", str(policy), cwd=tmp_path).returncode == 0
    policy.write_text("name: p\nroutes:\n  - to: openai/gpt-4o-mini\ngate:\n  max_savings: 20\n", encoding="utf-8")
    done = run("policy", "check", str(policy), cwd=tmp_path)
    assert done.returncode == 2 and "p.yaml:5:3: unknown key 'max_savings'" in done.stderr


def chat(index: int, feature: str) -> dict[str, Any]:
    return {"ts": f"2026-10-{index:02d}T12:00:00Z", "metadata": {"category": feature},
            "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
            "response": {"id": f"c{index}", "object": "chat.completion", "created": 0, "model": "gpt-4o-2024-08-06",
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                         "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}}


# gpt-4o $2.50 / $10 per MTok; gpt-4o-mini $0.15 / $0.60 per MTok (same tokenizer: counts carry over)
GPT_4O = (1000 * 2.50 + 100 * 10.00) / MTOK
GPT_4O_MINI = (1000 * 0.15 + 100 * 0.60) / MTOK


def test_diff_and_gate_from_two_policies_on_the_same_logs(tmp_path):
    log = write_jsonl(tmp_path / "log.jsonl", [chat(1, "support"), chat(2, "support"), chat(3, "code")])
    (tmp_path / "current.yaml").write_text("name: current\nroutes:\n  - when: {category: code}\n"
                                           "    to: openai/gpt-4o-mini\n", encoding="utf-8")
    (tmp_path / "candidate.yaml").write_text(
        "name: candidate\nroutes:\n  - when: {category: support}\n    to: openai/gpt-4o-mini\n"
        "gate:\n  min_savings: 70\n", encoding="utf-8")
    done = run("diff", "--logs", str(log), "--base", "current.yaml", "--head", "candidate.yaml", "--format", "json",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"]["before"]["cost_usd"] == pytest.approx(2 * GPT_4O + GPT_4O_MINI, rel=1e-12)
    assert result["total"]["after"]["cost_usd"] == pytest.approx(2 * GPT_4O_MINI + GPT_4O, rel=1e-12)
    rows = {row["category"]: row for row in result["categories"]}
    assert rows["support"]["change_usd"] == pytest.approx(2 * (GPT_4O_MINI - GPT_4O), rel=1e-12)
    assert rows["code"]["change_usd"] == pytest.approx(GPT_4O - GPT_4O_MINI, rel=1e-12)
    assert not result["prices_changed"] and result["total"]["price_effect_usd"] == 0
    # Savings 2 * (0.0035 - 0.00021) / (3 * 0.0035) = 62.7% < the head file's 70%: exit 1.
    done = run("gate", "--logs", str(log), "--head", "candidate.yaml", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["base"]["policy"] == "logged"
    assert result["head"]["savings_pct"] == pytest.approx(100 * 2 * (GPT_4O - GPT_4O_MINI) / (3 * GPT_4O), rel=1e-9)
    assert [entry["threshold"] for entry in result["gate"]["crossed"]] == ["min_savings"]


def readme_blocks(language: str) -> list[str]:
    """The README's fenced blocks in ``language`` (fences are lines starting with three backticks)."""
    blocks: list[str] = []
    lines: list[str] = []
    fence: str | None = None
    for line in (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("```"):
            lines.append(line)
        elif fence is None:
            fence, lines = line[3:], []
        else:
            if fence == language:
                blocks.append("\n".join(lines))
            fence = None
    return blocks


def test_the_readmes_ci_examples_are_valid_yaml_and_use_real_flags():
    import yaml

    workflows = [yaml.safe_load(block) for block in readme_blocks("yaml") if "routecost gate" in block]
    assert len(workflows) == 2
    github, gitlab = workflows
    steps = github["jobs"]["gate"]["steps"]
    gitlab_script = gitlab["routecost-gate"]["script"]
    commands = [step["run"] for step in steps if "routecost gate" in step.get("run", "")]
    commands += [line for line in gitlab_script if "routecost gate" in line]
    assert len(commands) == 2
    help_text = run("gate", "--help", cwd=Path.cwd()).stdout
    for command in commands:
        for flag in (word for word in command.split() if word.startswith("--")):
            assert flag in help_text, flag


def test_a_price_file_is_part_of_the_catalog_a_report_names(tmp_path):
    import hashlib

    log = write_jsonl(tmp_path / "log.jsonl", [chat(1, "support")])
    prices = tmp_path / "prices.yaml"
    prices.write_text("discounts:\n  openai: 10\n", encoding="utf-8")
    done = run("audit", str(log), "--prices", str(prices), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    digest = hashlib.sha256(prices.read_bytes()).hexdigest()[:12]
    assert json.loads(done.stdout)["catalog"].endswith(f" + prices.yaml#{digest}")


def test_diff_of_policies_that_categorise_differently_shows_both_counts(tmp_path):
    """Before: one side's request count, so a category that gained requests looked unchanged."""
    from tests.test_cli import chat

    log = write_jsonl(tmp_path / "log.jsonl", [chat(index + 1, feature="search" if index < 2 else "support")
                                               for index in range(3)])
    (tmp_path / "base.yaml").write_text("name: base\ncategories:\n  - from: metadata.feature\nroutes:\n"
                                        "  - when: {category: search}\n    to: openai/gpt-4o-mini\n", encoding="utf-8")
    (tmp_path / "head.yaml").write_text("name: head\ncategories:\n  - name: support\nroutes:\n"
                                        "  - to: openai/gpt-4o-mini\n", encoding="utf-8")
    done = run("diff", "--logs", str(log), "--base", "base.yaml", "--head", "head.yaml", "--format", "markdown",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| category")}
    assert rows["support"] == "1 → 3" and rows["search"] == "2 → 0" and rows["**total**"].strip("*") == "3"


def test_a_change_below_half_a_cent_is_not_shown_as_none():
    from routecost.gate.compare import Change, SideCategory
    from routecost.report.diff import change_text

    change = Change("support", SideCategory(1, 0.0045, 0.0045), SideCategory(1, 0.0045, 0.0005), 0.0)
    assert change_text(change).startswith("▼ −$0.0040")
