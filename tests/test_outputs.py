"""Nothing a user wrote is overwritten: outputs refuse the run's inputs and replace a file only whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routecost.errors import UsageError
from routecost.output import write_atomically
from tests.conftest import write_jsonl
from tests.test_cli import chat, run


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "log.jsonl", [chat(1), chat(2)])


@pytest.mark.parametrize("flag", ["--out", "--per-request"])
def test_an_output_naming_the_input_log_is_refused_and_the_log_kept(log, flag):
    before = log.read_bytes()
    target = str(log) if flag == "--out" else str(log.with_suffix(".jsonl"))
    result = run("audit", str(log), flag, target)
    assert result.returncode == 2
    assert "refusing to write over it" in result.stderr
    assert "Traceback" not in result.stderr
    assert log.read_bytes() == before


def test_an_output_reaching_the_input_through_a_link_is_refused(log, tmp_path):
    (tmp_path / "report.txt").symlink_to(log)
    before = log.read_bytes()
    result = run("audit", str(tmp_path), "--out", str(tmp_path / "report.txt"))
    assert result.returncode == 2
    assert "refusing to write over it" in result.stderr
    assert log.read_bytes() == before


def test_an_output_naming_the_policy_file_is_refused(log, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: p\nroutes:\n  - when: {category: support}\n    to: gpt-4o-mini\n", encoding="utf-8")
    before = policy.read_bytes()
    result = run("audit", str(log), "--policy", str(policy), "--out", str(policy))
    assert result.returncode == 2
    assert "refusing to write over it" in result.stderr, result.stderr
    assert policy.read_bytes() == before


def test_a_report_is_written_whole_and_replaces_the_old_one(log, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("an older report", encoding="utf-8")
    assert run("audit", str(log), "--format", "json", "--out", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8"))["requests"] == 2
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_partial_one(tmp_path):
    out = tmp_path / "report.md"
    out.write_text("the previous report", encoding="utf-8")

    def fails_half_way(temporary: Path) -> None:
        temporary.write_text("half a rep", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(UsageError, match="No space left on device"):
        write_atomically(out, fails_half_way)
    assert out.read_text(encoding="utf-8") == "the previous report"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.md"]
