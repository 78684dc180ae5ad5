"""Each real file is read once, whatever names reach it; walks and globs finish on looping links."""

from __future__ import annotations

import os

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.errors import UsageError
from routecost.paths import find_inputs
from routecost.sources.reader import ReaderConfig
from tests.conftest import write_jsonl

# gpt-4o-2024-08-06 at $2.50 per million input tokens, $10.00 per million output tokens (OpenAI's
# price sheet): 1,000 input and 100 output tokens cost $0.0025 + $0.001 = $0.0035 a request.
COST_PER_REQUEST = 1_000 * 2.50 / 1e6 + 100 * 10.00 / 1e6


def chat(index: int) -> dict[str, object]:
    return {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 1_790_812_800 + index,
            "model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 1_000, "completion_tokens": 100}}


@pytest.fixture
def logs(tmp_path):
    """logs/2026/a.jsonl (2 requests), logs/2026/b.jsonl (1 request)."""
    year = tmp_path / "logs" / "2026"
    year.mkdir(parents=True)
    write_jsonl(year / "a.jsonl", [chat(1), chat(2)])
    write_jsonl(year / "b.jsonl", [chat(3)])
    return tmp_path / "logs"


def audited(paths: list[str]):
    return run_audit(AuditOptions(paths=paths, reader=ReaderConfig(workers=1))).report


def test_a_file_named_twice_is_read_once_and_the_report_says_so(logs):
    a = str(logs / "2026" / "a.jsonl")
    report = audited([a, a])
    assert report.requests == 2
    assert report.cost_usd == pytest.approx(2 * COST_PER_REQUEST, rel=1e-9)
    assert f"{a} is the same file as {a}: read once" in report.assumptions


def test_a_directory_and_a_file_inside_it_are_read_once(logs):
    report = audited([str(logs), str(logs / "2026" / "b.jsonl")])
    assert report.requests == 3
    assert report.cost_usd == pytest.approx(3 * COST_PER_REQUEST, rel=1e-9)


def test_a_recursive_glob_across_a_link_to_a_directory_reads_each_file_once(logs):
    (logs / "current").symlink_to(logs / "2026", target_is_directory=True)
    report = audited([f"{logs}/**/*.jsonl"])
    assert report.requests == 3
    assert any("a directory already read" in note for note in report.assumptions)


def test_a_link_back_up_and_a_loop_of_links_finish_and_read_each_file_once(logs):
    (logs / "2026" / "parent").symlink_to("..", target_is_directory=True)
    (logs / "loop_a").symlink_to(logs / "loop_b")
    (logs / "loop_b").symlink_to(logs / "loop_a")
    for paths in ([str(logs)], [f"{logs}/**/*.jsonl"], [f"{logs}/**"]):
        assert find_inputs(paths).files == [str(logs / "2026" / "a.jsonl"), str(logs / "2026" / "b.jsonl")]


def test_a_walk_follows_a_link_to_a_directory_and_notes_a_dangling_link(tmp_path, logs):
    elsewhere = tmp_path / "archive"
    elsewhere.mkdir()
    write_jsonl(elsewhere / "old.jsonl", [chat(4)])
    (logs / "archive").symlink_to(elsewhere, target_is_directory=True)
    (logs / "gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    inputs = find_inputs([str(logs)])
    assert str(logs / "archive" / "old.jsonl") in inputs.files
    assert f"{logs / 'gone.jsonl'}: a link to nothing: skipped" in inputs.notes


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_directory_is_noted_and_the_rest_read(logs):
    locked = logs / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        inputs = find_inputs([str(logs)])
    finally:
        locked.chmod(0o700)
    assert len(inputs.files) == 2
    assert any("cannot read this directory" in note for note in inputs.notes)


def test_a_named_dangling_link_is_a_clear_error(tmp_path):
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    with pytest.raises(UsageError, match="a link to nothing"):
        find_inputs([str(tmp_path / "gone.jsonl")])


def test_a_glob_matching_a_directory_walks_it(logs):
    assert find_inputs([f"{logs}/20*"]).files == [str(logs / "2026" / "a.jsonl"), str(logs / "2026" / "b.jsonl")]
