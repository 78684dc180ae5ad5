"""Text that whoever wrote the logs or a policy chose can colour no terminal, leave no Markdown table
cell, ping no one, and run no formula in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import write_jsonl
from tests.test_cli import run

TERMINAL_ATTACK = "\x1b]0;pwned\x07\x1b[2J[bold red]markup[/]\u202e"
MARKDOWN_ATTACK = "x | y\n# Heading @octocat <img src=x onerror=alert(1)> ![i](http://e/i.png) [l](javascript:alert(1))"
FORMULA_ATTACK = "=HYPERLINK(\"http://evil\",\"click\")"


def record(index: int, category: str, model: str = "gpt-4o-2024-08-06") -> dict[str, object]:
    return {"ts": f"2026-10-0{index}T12:00:00Z", "metadata": {"category": category},
            "request": {"model": "gpt-4o"},
            "response": {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 0, "model": model,
                         "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "log.jsonl", [
        record(1, TERMINAL_ATTACK), record(2, MARKDOWN_ATTACK), record(3, FORMULA_ATTACK),
        record(4, "support", model=f"acme-{TERMINAL_ATTACK}"),
    ])


def test_the_terminal_table_shows_control_characters_and_markup_as_text(log):
    result = run("audit", str(log))
    assert result.returncode == 0, result.stderr
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stdout
    assert "\\x1b]0;pwned\\x07\\x1b[2J[bold red]markup[/]\\u202e" in result.stdout


def test_a_one_line_error_shows_control_characters_as_text(log):
    result = run("audit", str(log), "--strict")
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\\x1b]0;pwned" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_markdown_value_never_leaves_its_cell_pings_or_links(log, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: 'p | <b>@team</b>'\nroutes:\n  - when: {category: support}\n    to: gpt-4o-mini\n",
                      encoding="utf-8")
    result = run("audit", str(log), "--format", "markdown", "--policy", str(policy))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    for block in tables:
        widths = {len(row.replace("\\|", "").split("|")) for row in block.splitlines()}
        assert len(widths) == 1, block  # no value added a column
    assert "<img" not in text and "<b>" not in text
    assert "@octocat" not in text and "@team" not in text
    assert "[l](javascript" not in text and "![i](" not in text
    assert not any(line.startswith("# Heading") for line in text.splitlines())
    assert "\x1b" not in text


def test_the_csv_report_never_starts_a_cell_with_a_formula(log):
    result = run("audit", str(log), "--format", "csv")
    assert result.returncode == 0, result.stderr
    cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row]
    assert f"'{FORMULA_ATTACK}" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_per_request_csv_never_starts_a_cell_with_a_formula(log, tmp_path):
    out = tmp_path / "requests.csv"
    assert run("audit", str(log), "--per-request", str(out)).returncode == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["category"] for row in rows][2] == f"'{FORMULA_ATTACK}"
    assert not any(value.startswith(("=", "+", "@")) for row in rows for value in row.values())
    assert json.loads(rows[0]["metadata"])["category"] == TERMINAL_ATTACK
