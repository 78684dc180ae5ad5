"""The HTML report and charts: self-contained, the numbers in the charts worked out by hand from
published prices, quality intervals from a replay store, and every chart rendered by a real
headless Chromium (skipped, saying why, where none is installed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import Chromium, find_chromium
from tests.conftest import MTOK, write_jsonl
from tests.test_cli import chat, run
from tests.test_knob_sweep import replayed  # noqa: F401  (a fixture)

ARTIFACTS = Path(os.environ.get("ROUTECOST_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))
POLICY = "name: cheaper\nroutes:\n  - when: {category: support}\n    to: openai/gpt-4o-mini\n"
# gpt-4o $2.50 / $10 per MTok; gpt-4o-mini $0.15 / $0.60 (1000 input and 100 output tokens each)
GPT_4O = (1000 * 2.50 + 100 * 10.00) / MTOK
GPT_4O_MINI = (1000 * 0.15 + 100 * 0.60) / MTOK


@pytest.fixture
def audited_html(tmp_path: Path) -> Path:
    """Two support requests on gpt-4o, one search request on gpt-4o-mini, one on an unpriced model;
    the policy moves support to gpt-4o-mini."""
    log = write_jsonl(tmp_path / "log.jsonl", [chat(1), chat(2), chat(3, model="gpt-4o-mini-2024-07-18",
                                                                     feature="search"),
                                               chat(4, model="acme-llama-70b", feature="search")])
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    out = tmp_path / "report.html"
    done = run("audit", str(log), "--category-key", "feature", "--policy", str(tmp_path / "policy.yaml"),
               "--format", "html", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def titles(page: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", page)


def test_the_report_is_one_self_contained_file(audited_html):
    page = audited_html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=|href=\"http", page)


def test_stacked_bars_and_waterfall_carry_the_hand_worked_costs(audited_html):
    page = audited_html.read_text(encoding="utf-8")
    assert 'data-chart="cost-by-category"' in page and 'data-chart="savings-waterfall"' in page
    marks = titles(page)
    assert f"support · logged · openai/gpt-4o: ${2 * GPT_4O:.4f}" in marks
    assert f"support · cheaper · openai/gpt-4o-mini: ${2 * GPT_4O_MINI:.4f}" in marks
    assert f"search · cheaper · openai/gpt-4o-mini: ${GPT_4O_MINI:.4f}" in marks
    assert f"routing: −${2 * (GPT_4O - GPT_4O_MINI):.4f}" in marks
    assert f"logged: ${2 * GPT_4O + GPT_4O_MINI:.4f}" in marks


def test_unpriced_models_and_assumptions_are_shown(audited_html):
    page = audited_html.read_text(encoding="utf-8")
    unpriced = page.split('id="unpriced"')[1].split("<h2")[0]
    assert "acme-llama-70b" in unpriced and "Left out of every figure" in unpriced
    assert 'id="assumptions"' in page and "Projections:" in page


def test_quality_intervals_from_a_replay_store(replayed, tmp_path):  # noqa: F811
    log, policy, store = replayed
    out = tmp_path / "quality.html"
    done = run("audit", str(log), "--policy", str(policy), "--replay", str(store), "--format", "html", "--out",
               str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert 'data-chart="quality-intervals"' in page
    # every judged answer lost to the logged one: the delta is -1, the interval keeps -1 and is not a point
    support = next(title for title in titles(page) if title.startswith("support: -1.00 [-1.00, "))
    upper = float(support.removeprefix("support: -1.00 [-1.00, ").split("]")[0])
    assert -1.0 < upper < -0.3 and support.endswith("] n=8")


def test_terminal_category_shares_as_bars(tmp_path):
    log = write_jsonl(tmp_path / "log.jsonl", [chat(1), chat(2), chat(3, feature="search")])
    done = run("audit", str(log), "--category-key", "feature")
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith(("support", "search"))}
    # 2/3 and 1/3 of the cost: 16 and 8 full blocks of a 24-character bar
    assert lines["support"].rstrip().endswith("│ " + "█" * 16) and lines["search"].rstrip().endswith("│ " + "█" * 8)


CHARTS_SCRIPT = """
[...document.querySelectorAll('figure.chart')].map(figure => {
  const svg = figure.querySelector('svg, canvas');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {kind: figure.dataset.chart, width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('rect, circle, polyline, line').length : 0};
})
"""


def test_every_chart_renders_in_headless_chromium(audited_html, replayed, tmp_path):  # noqa: F811
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium here (the README's test command installs Debian's chromium)")
    log, policy, store = replayed
    with_quality = tmp_path / "quality.html"
    sweep = tmp_path / "sweep.html"
    assert run("audit", str(log), "--policy", str(policy), "--replay", str(store), "--format", "html", "--out",
               str(with_quality)).returncode == 0
    assert run("sweep", str(log), "--policy", str(policy), "--knob", "routes.0.share", "--values", "0:1:0.25",
               "--replay", str(store), "--format", "html", "--out", str(sweep)).returncode == 0
    expected = {audited_html: {"cost-by-category", "savings-waterfall"},
                with_quality: {"cost-by-category", "savings-waterfall", "quality-intervals"},
                sweep: {"sweep-curve"}}
    with Chromium(executable) as browser:
        for path, kinds in expected.items():
            page = browser.open(path)
            charts = page.evaluate(CHARTS_SCRIPT)
            assert {chart["kind"] for chart in charts} == kinds
            for chart in charts:
                assert chart["width"] > 100 and chart["height"] > 50 and chart["marks"] > 0, chart
            assert page.errors() == []
            shot = ARTIFACTS / f"{path.stem}.png"
            page.screenshot(shot)
            assert shot.stat().st_size > 10_000


def test_a_small_saving_is_a_bar_and_reading_notes_are_apart_from_assumptions(tmp_path: Path) -> None:
    """Before: a step of a few percent was a 1-pixel hairline on an axis from $0; the end bar bore the
    policy's name (two bars "batching" for a policy named after its lever); malformed lines were
    listed among the assumptions."""
    import re as regex

    # nine gpt-4o requests stay; one moves to gpt-4o-mini: a saving of about 8% of the total
    log = write_jsonl(tmp_path / "log.jsonl", [chat(day, feature="search" if day < 10 else "support")
                                               for day in range(1, 11)])
    with log.open("a", encoding="utf-8") as out:
        out.write('{"broken": \n')
    (tmp_path / "routing.yaml").write_text(POLICY.replace("name: cheaper", "name: routing"), encoding="utf-8")
    out = tmp_path / "report.html"
    done = run("audit", str(log), "--category-key", "feature", "--policy", str(tmp_path / "routing.yaml"),
               "--format", "html", "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    waterfall = page[page.index('data-chart="savings-waterfall"'):]
    waterfall = waterfall[:waterfall.index("</svg>")]
    saving = f"routing: −${GPT_4O - GPT_4O_MINI:.4f}"
    step = regex.search(r'<rect [^>]*height="([\d.]+)"[^>]*><title>' + regex.escape(saving), waterfall)
    assert step is not None and float(step.group(1)) > 40  # pixels (19 on an axis from $0)
    assert "axis from $" in waterfall and ">projected<" in waterfall
    reading = page[page.index('id="reading"'):page.index('id="assumptions"')]
    assert "malformed" in reading and "malformed" not in page[page.index('id="assumptions"'):]
