"""The command line as users and CI scripts run it: exit codes, formats, files, error messages."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import MTOK, write_jsonl

ROUTECOST = [sys.executable, "-m", "routecost"]


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ROUTECOST, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


def chat(index: int, model: str = "gpt-4o-2024-08-06", prompt: int = 1000, completion: int = 100,
         feature: str = "support") -> dict[str, object]:
    return {"ts": f"2026-10-{index:02d}T12:00:00Z", "metadata": {"feature": feature},
            "request": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
            "response": {"id": f"c{index}", "object": "chat.completion", "created": 0, "model": model,
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
                         "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "log.jsonl", [chat(1), chat(2, feature="search"),
                                               chat(3, model="gpt-4o-mini-2024-07-18")])


# gpt-4o $2.50 / $10 per MTok; gpt-4o-mini $0.15 / $0.60 per MTok
GPT_4O = (1000 * 2.50 + 100 * 10.00) / MTOK
GPT_4O_MINI = (1000 * 0.15 + 100 * 0.60) / MTOK


def test_json_report_follows_the_contract(log):
    done = run("audit", str(log), "--format", "json", "--category-key", "feature")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["requests"] == 3
    assert report["malformed"] == 0 and report["unpriced_requests"] == 0
    assert report["period"]["start"] == "2026-10-01T12:00:00Z" and report["period"]["days"] == 2.0
    assert report["baseline"]["cost_usd"] == pytest.approx(2 * GPT_4O + GPT_4O_MINI, rel=1e-12)
    by_category = {row["category"]: row for row in report["baseline"]["categories"]}
    assert by_category["support"]["requests"] == 2
    assert by_category["support"]["cost_usd"] == pytest.approx(GPT_4O + GPT_4O_MINI, rel=1e-12)
    assert [row["model"] for row in report["baseline"]["by_model"]] == ["openai/gpt-4o", "openai/gpt-4o-mini"]
    cheapest, priciest = report["baseline"]["references"]
    assert (cheapest["model"], priciest["model"]) == ("openai/gpt-4o-mini", "openai/gpt-4o")
    assert cheapest["cost_usd"] == pytest.approx(3 * GPT_4O_MINI, rel=1e-12)
    assert priciest["cost_usd"] == pytest.approx(3 * GPT_4O, rel=1e-12)
    assert report["policies"] == []


def test_table_is_the_default_and_shows_totals_by_model_and_category(log):
    done = run("audit", str(log), "--category-key", "feature")
    assert done.returncode == 0, done.stderr
    assert f"total ${2 * GPT_4O + GPT_4O_MINI:,.4f}" in done.stdout
    assert "openai/gpt-4o-mini" in done.stdout and "search" in done.stdout
    assert "\x1b[" not in done.stdout
    # its own headings keep their line breaks (escaping is for what the logs say): no literal "\nNotes"
    assert "\\n" not in done.stdout and "\nprices: genai-prices" in done.stdout


def test_markdown_and_csv_reports(log, tmp_path):
    markdown = run("audit", str(log), "--format", "markdown")
    assert markdown.returncode == 0
    assert markdown.stdout.startswith("## routecost audit")
    assert "| openai/gpt-4o | 2 |" in markdown.stdout
    out = tmp_path / "report.csv"
    done = run("audit", str(log), "--format", "csv", "--out", str(out))
    assert done.returncode == 0 and done.stdout == ""
    rows = list(csv.DictReader(out.open()))
    total = next(row for row in rows if row["section"] == "total")
    assert float(total["cost_usd"]) == pytest.approx(2 * GPT_4O + GPT_4O_MINI, rel=1e-12)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_per_request_file(log, tmp_path, suffix):
    out = tmp_path / f"rows{suffix}"
    assert run("audit", str(log), "--per-request", str(out), "--format", "json").returncode == 0
    frame = {".parquet": pl.read_parquet, ".csv": pl.read_csv, ".jsonl": pl.read_ndjson}[suffix](out)
    assert frame.height == 3
    assert frame["cost_usd"].to_list() == pytest.approx([GPT_4O, GPT_4O, GPT_4O_MINI], rel=1e-12)
    assert {"source", "line", "model", "model_id", "category", "input_tokens", "ts"} <= set(frame.columns)


def test_stdin(log):
    done = run("audit", "-", "--format", "json", stdin=log.read_text())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["requests"] == 3


def test_bad_input_is_one_line_on_stderr_with_exit_2(tmp_path):
    missing = run("audit", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"routecost: error: {tmp_path / 'missing.jsonl'}: no such file or directory"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(chat(1)) + "\n{broken\n")
    strict = run("audit", str(bad), "--strict")
    assert strict.returncode == 2
    assert strict.stderr.count("\n") == 1 and "Traceback" not in strict.stderr
    assert strict.stderr.startswith(f"routecost: error: {bad}:2: invalid JSON")


def test_malformed_lines_are_reported_but_do_not_fail_without_strict(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(chat(1)) + "\n{broken\n")
    done = run("audit", str(bad), "--format", "json")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["malformed"] == 1
    assert report["malformed_examples"][0].startswith(f"{bad}:2: invalid JSON")


def test_strict_fails_on_unpriced_models(tmp_path):
    log = write_jsonl(tmp_path / "log.jsonl", [chat(1, model="acme-llama-3-70b")])
    assert run("audit", str(log)).returncode == 0
    strict = run("audit", str(log), "--strict")
    assert strict.returncode == 2
    assert "acme-llama-3-70b" in strict.stderr and "Traceback" not in strict.stderr


def test_bad_flags_and_price_files_exit_2(log, tmp_path):
    assert run("audit", str(log), "--format", "xml").returncode == 2
    assert run("audit", str(log), "--as-of", "last tuesday").returncode == 2
    prices = tmp_path / "prices.yaml"
    prices.write_text("aliases:\n  x: openai/gpt-4o\nbogus: 1\n")
    done = run("audit", str(log), "--prices", str(prices))
    assert done.returncode == 2
    assert done.stderr.strip() == f"routecost: error: {prices}:3:1: unknown key 'bogus' (expected one of: " \
                                  "aliases, models, discounts, tokenizer_ratios)"
    assert run("audit", str(log), "--per-request", str(tmp_path / "rows.xlsx")).returncode == 2


def test_version():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("routecost ")


def test_the_readmes_policy_example_is_what_the_command_prints():
    """The README quotes the markdown report of the example policies on the sample logs (its headings
    one level down): every table row must be what the command prints today (it said `$-85.98` where
    the report prints `-$85.98`)."""
    root = Path(__file__).resolve().parent.parent
    done = run("audit", str(root / "sample_logs"), *(argument for name in ("by-category", "by-prompt-length", "code-cascade")
               for argument in ("--policy", str(root / "policies" / f"{name}.yaml"))), "--format", "markdown")
    assert done.returncode == 0, done.stderr
    readme = (root / "README.md").read_text(encoding="utf-8")
    quoted = readme[readme.index("#### Policies and references"):]
    quoted = quoted[:quoted.index("\n#", quoted.index("##### code-cascade"))]
    printed = done.stdout[done.stdout.index("### Policies and references"):]
    rows = [line for line in quoted.splitlines() if line.startswith("|")]
    assert rows and rows == [line for line in printed.splitlines() if line.startswith("|")][:len(rows)]


@pytest.mark.parametrize(("args", "message"), [
    (["audit"], "routecost audit: Missing argument 'logs'."),
    (["audit", "x.jsonl", "--bogus"], "routecost audit: No such option: --bogus"),
    (["gate", "--max-quality-drop", "x"], "routecost gate: Invalid value for '--max-quality-drop'"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, message):
    """Before: five lines in a box (typer's), against the promise of one line."""
    done = run(*args)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"routecost: error: {message}") and "--help" in line and "╭" not in done.stderr


@pytest.mark.parametrize("command", [["replay", "x.jsonl", "--policy", "p.yaml"], ["cache", "sweep", "x.jsonl"]])
@pytest.mark.parametrize("unsupported", ["markdown", "html", "csv"])
def test_a_format_a_command_cannot_produce_is_refused(command, unsupported):
    """Before: accepted, then a table printed anyway."""
    done = run(*command, "--format", unsupported)
    assert done.returncode == 2 and "'table', 'json'" in done.stderr


def test_cost_gaps_show_enough_digits_and_say_how_many_are_not_listed(tmp_path):
    """Before: "7 differ by more than 1%", five listed as `logged $0.0002, price sheet $0.0002`, no word of the rest."""
    row = json.loads((Path(__file__).parent / "conformance/records/litellm/pubsub-spendlogs-row-gpt-4o.jsonl")
                     .read_text(encoding="utf-8"))
    # gpt-4o, 10 prompt and 20 completion tokens at $2.50 / $10 per million: $0.000225; logged $0.000240
    log = tmp_path / "spend.jsonl"
    log.write_text("".join(json.dumps({**row, "request_id": f"r{index}", "spend": 0.000240}) + "\n"
                           for index in range(7)), encoding="utf-8")
    done = run("audit", str(log))
    assert done.returncode == 0, done.stderr
    assert "7 differ by more than 1%" in done.stdout
    assert done.stdout.count("logged $0.00024, price sheet $0.00022") + \
        done.stdout.count("logged $0.00024, price sheet $0.00023") == 5
    assert "... and 2 more" in done.stdout


def test_the_stage_after_reading_is_told_to_the_progress_bar(tmp_path):
    """Before: the bar sat full, saying "reading logs", for seconds while pricing ran."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from routecost.audit import AuditOptions, run_audit
    from routecost.cli import ProgressBar, _stage_of
    from routecost.sources.reader import ReaderConfig

    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(chat(0)) + "\n", encoding="utf-8")
    policy = tmp_path / "p.yaml"
    policy.write_text("name: p\nroutes:\n  - to: openai/gpt-4o-mini\n", encoding="utf-8")
    with Progress(console=Console(file=io.StringIO(), force_terminal=True)) as progress:
        bar = ProgressBar(progress, progress.add_task("reading logs", total=100))
        stages: list[str] = []

        def heard(name: str) -> None:
            stages.append(name)
            _stage_of(bar)(name)  # type: ignore[misc]

        run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=[str(policy)]), bar,
                  on_stage=heard)
        assert stages == ["pricing", "projecting 1 policy", "summarizing"]
        assert progress.tasks[0].description == "summarizing"


def test_a_table_or_help_in_a_file_never_cuts_a_number_or_a_name():
    """Before: `$6.31–$…`, `baseli…` in a redirected report, `--max-cost-incre…` in `gate --help | cat`."""
    root = Path(__file__).resolve().parent.parent
    report = run("audit", str(root / "sample_logs"), "--policy", str(root / "policies" / "by-category.yaml"),
                 "--policy", str(root / "policies" / "code-cascade.yaml"))
    assert report.returncode == 0 and "…" not in report.stdout
    assert "$6.31–$6.66" in report.stdout and "-$85.98" in report.stdout
    for command in (["gate"], ["replay"], ["cache", "sweep"], ["audit"]):
        shown = run(*command, "--help", env={"COLUMNS": ""})
        assert shown.returncode == 0 and "…" not in shown.stdout, shown.stdout


def test_help_is_plain_text():
    """Before: boxes, `<bool>` on every flag, descriptions cut mid-sentence in the command list."""
    bare = run()
    assert bare.returncode == 2 and bare.stderr.startswith("Usage: routecost [OPTIONS] COMMAND")
    commands = bare.stderr.split("Commands:")[1].splitlines()
    assert "\\n" not in bare.stderr and not any(line.endswith("...") for line in commands)  # summaries whole
    for command in (["audit"], ["gate"], ["policy", "check"]):
        shown = run(*command, "--help")
        assert shown.returncode == 0 and "<bool>" not in shown.stdout and "╭" not in shown.stdout
    assert "--strict / --no-strict" in run("audit", "--help").stdout
