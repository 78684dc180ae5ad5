"""The command line: a thin layer that parses flags, runs the audit and renders the report.

Exit codes: 0 ok, 1 a gate failed, 2 usage or input error (one line on stderr, no traceback),
3 an internal error (set ROUTECOST_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from routecost import __version__
from routecost.errors import UsageError

if TYPE_CHECKING:
    from routecost.audit import AuditOptions
    from routecost.gate.compare import Comparison
    from routecost.gate.verdict import GateResult

# The commands import the engine (polars, the price catalog, tiktoken) when they run: worker
# processes that read large files re-import this module, and `--help` should be instant.

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130
"""Ctrl-C, as a shell reports a process ended by SIGINT."""
TABLE_WIDTH = 132
"""Width of the table when stdout is not a terminal (a file, a CI log): wide enough for every column."""

app = typer.Typer(
    name="routecost",
    help="What your LLM traffic costs, and what it would cost under other routing, caching and batching policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no boxes, no `<bool>` on every flag, lines broken between words
    context_settings={"max_content_width": TABLE_WIDTH},  # in a wide terminal or a pipe, whole sentences
)
stderr = Console(stderr=True)


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    html = "html"


class TableOrJson(str, Enum):
    """For the commands that print a table or JSON, and nothing else (a format they would ignore is refused)."""

    table = "table"
    json = "json"


def _version(value: bool) -> None:
    if value:
        print(f"routecost {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """routecost: audit LLM request logs against the providers' price sheets."""


@app.command(short_help="Price every logged request: the cost by model and category, and what each policy would cost.")
def audit(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.")],
    report_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report to this file.")] = None,
    per_request: Annotated[
        Path | None, typer.Option(help="Write every priced request to this file (.parquet, .csv or .jsonl).")
    ] = None,
    category_key: Annotated[
        str, typer.Option(help="Metadata field (or tag prefix) holding the task category.")
    ] = "category",
    prices: Annotated[
        Path | None, typer.Option(help="Price file: aliases, custom model prices, discounts (YAML).")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option(help="Read every record as this log format instead of detecting it.")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML mapping of an in-house log format's fields (see README).")
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Fail (exit 2) on the first malformed record or unpriced model.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option(help="Date (YYYY-MM-DD) for prices of requests without a timestamp. Default: today.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes for reading large files (default and most: one per CPU, 8 at most).")
    ] = None,
    policy: Annotated[
        list[Path] | None, typer.Option("--policy", "-p", help="A policy file to project (repeatable).")
    ] = None,
    what_if: Annotated[
        list[str] | None, typer.Option("--what-if", help="Price the traffic on this model instead (repeatable).")
    ] = None,
    where: Annotated[
        list[str] | None, typer.Option(help="Narrow --what-if: field=value, or input_tokens.lt=N (also lte, gt, gte; repeatable, all must hold).")
    ] = None,
    replay_store: Annotated[
        Path | None, typer.Option("--replay", help="A replay store: show measured quality, use measured ratios.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only requests logged from this time (2026-10-01 or 2026-10-01T12:00, UTC).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only requests logged before this time (as --since).")] = None,
    read_cache: ReadCacheOption = None,
) -> None:
    """Price every logged request and report the cost by model and by task category, and what each
    policy or --what-if model would have cost."""
    from routecost.workers import start_early, worker_count

    workers = worker_count(workers)
    start_early(logs, workers)  # before the imports below: their half-second overlaps the readers' own

    from routecost.audit import AuditOptions
    from routecost.output import PerRequestFile, write_text
    from routecost.report import RENDERERS
    from routecost.report.table import renderable
    from routecost.sources.reader import ReaderConfig

    options = AuditOptions(
        paths=logs,
        reader=ReaderConfig(
            forced_format=log_format,
            mapping_path=str(mapping) if mapping else None,
            strict=strict,
            workers=workers,
            read_cache=_read_cache(read_cache),
            since=_parse_time("--since", since),
            until=_parse_time("--until", until),
        ),
        prices_path=str(prices) if prices else None,
        category_key=category_key,
        as_of=_parse_as_of(as_of),
        strict=strict,
        policy_paths=[str(path) for path in policy or []],
        what_if=what_if or [],
        where=where or [],
        replay_store=str(replay_store) if replay_store else None,
    )
    rows = PerRequestFile(per_request) if per_request is not None else None
    try:
        report = _audited(options, logs, keep_requests=False, on_rows=rows.add if rows else None).report
        if strict and report.unpriced:
            names = ", ".join(f"{row.model} ({row.reason})" for row in report.unpriced)
            raise UsageError(f"unpriced models with --strict: {names}")
        if rows is not None:
            rows.close()
    finally:
        if rows is not None:
            rows.discard()
    if out is not None:
        write_text(out, RENDERERS[report_format.value](report))
        _say(f"wrote {report_format.value} report to {out}")
    elif report_format is ReportFormat.table:
        _stdout_console().print(renderable(report))
    else:
        sys.stdout.write(RENDERERS[report_format.value](report))


policy_app = typer.Typer(help="Check policy files, or write a starter policy from logs.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def policy_check(
    files: Annotated[list[Path], typer.Argument(help="Policy files to validate.")],
    prices: Annotated[Path | None, typer.Option(help="Price file whose models the policies may use.")] = None,
) -> None:
    """Validate policy files without reading any log (exit 2 on the first problem, with line:column)."""
    from routecost.policy.loader import load_policy
    from routecost.prices.catalog import PriceBook
    from routecost.prices.userfile import NO_USER_PRICES, load_user_prices
    from routecost.report.text import LEVER_NAMES

    book = PriceBook(load_user_prices(str(prices)) if prices else NO_USER_PRICES)
    for path in files:
        policy = load_policy(str(path), book)
        targets = ", ".join(policy.target_models) or "none"
        levers = ", ".join(LEVER_NAMES[lever] for lever in policy.levers)
        print(f"{path}: ok: {policy.name!r}: {len(policy.categories)} category rules, {len(policy.routes)} routes, "
              f"{len(policy.cascades)} cascades; sends traffic to: {targets}; levers: {levers}")
        for note in policy.notes:
            print(f"  {note}")


@policy_app.command("init")
def policy_init(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the policy here instead of stdout.")] = None,
    name: Annotated[str, typer.Option(help="The policy's name.")] = "starter",
    category_key: Annotated[
        str, typer.Option(help="Metadata field (or tag prefix) holding the task category.")
    ] = "category",
    prices: Annotated[Path | None, typer.Option(help="Price file: aliases, custom prices, discounts.")] = None,
) -> None:
    """Write a starter policy from the models and categories found in the logs, with comments."""
    from routecost.output import write_text
    from routecost.starter import starter_policy

    options = _options(logs, prices, category_key)
    text = starter_policy(_audited(options, logs), name=name)
    if out is None:
        sys.stdout.write(text)
    else:
        write_text(out, text)
        _say(f"wrote a starter policy to {out}")


cache_app = typer.Typer(help="Semantic-cache threshold sweeps.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")


@cache_app.command("sweep")
def cache_sweep(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.")],
    policy: Annotated[
        Path | None, typer.Option("--policy", "-p", help="Route first, and take the semantic cache's scope and TTL.")
    ] = None,
    when: Annotated[list[str] | None, typer.Option(help="Only requests matching field=value / field<N.")] = None,
    ttl: Annotated[str | None, typer.Option(help="Cache lifetime, e.g. 1h (default: the policy's, else 1h).")] = None,
    pairs: Annotated[Path | None, typer.Option(help="Write a sample of would-be hit pairs here (.jsonl).")] = None,
    sample: Annotated[int, typer.Option(min=0, help="How many pairs to sample.")] = 50,
    report_format: Annotated[TableOrJson, typer.Option("--format", "-f", help="table or json.")] = TableOrJson.table,
    prices: Annotated[Path | None, typer.Option(help="Price file: aliases, custom prices, discounts.")] = None,
    category_key: Annotated[str, typer.Option(help="Metadata field (or tag prefix) holding the category.")] = "category",
) -> None:
    """Hit rate of a semantic cache for thresholds 0.80 to 0.99, and sample pairs to review."""
    import msgspec

    from routecost.output import write_text
    from routecost.policy.conditions import ALWAYS
    from routecost.policy.loader import PolicyParser
    from routecost.policy.whatif import where_mapping
    from routecost.simulate.threshold_sweep import sweep
    from routecost.yamlfile import YamlDocument

    options = _options(logs, prices, category_key, policy_paths=[str(policy)] if policy else [])
    audit = _audited(options, logs)
    projection = audit.report.policies[0] if audit.report.policies else None
    semantic = projection.policy.semantic_cache if projection else None
    condition = semantic.when if semantic and not when else None
    if when:
        parser = PolicyParser(YamlDocument(path="--when", data=where_mapping(when)), audit.book)
        condition = parser.condition_of(where_mapping(when))
    parser = PolicyParser(YamlDocument(path="--ttl", data=None), audit.book)
    ttl_s = parser.duration((), ttl) if ttl else (semantic.ttl_s if semantic else 3600.0)
    result = sweep(
        audit.priced.requests,
        ttl_s=ttl_s,
        when=condition or ALWAYS,
        policy_rows=projection.rows if projection else None,
        sample_pairs=sample,
    )
    if pairs is not None:
        write_text(pairs, "".join(msgspec.json.encode(pair).decode() + "\n" for pair in result.pairs))
    if report_format is TableOrJson.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result), indent=2).decode() + "\n")
        return
    console = _stdout_console()
    console.print(f"semantic-cache sweep: {result.requests:,} requests, lifetime {ttl_s / 3600:g} h, "
                  f"{result.embedded:,} texts embedded ({result.embed_seconds:.1f} s; the rest from the cache)")
    for point in result.points:
        console.print(f"  threshold {point.threshold:.2f}: {point.hits:6,} hits  {point.hit_rate_pct:5.1f}%  "
                      f"saves ${point.saved_usd:,.4f}")
    if pairs is not None:
        console.print(f"wrote {len(result.pairs)} would-be hit pairs to {pairs} (review them: a false hit serves "
                      "a wrong answer)")


class JudgeMode(str, Enum):
    pairwise = "pairwise"
    rubric = "rubric"


@app.command(short_help="Send a sample of a policy's moved requests to their new models and judge the answers.")
def replay(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories or globs.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="The policy whose moved requests to replay.")],
    per_category: Annotated[
        int | None, typer.Option(min=1, help="Requests to sample per category (default 20).")
    ] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="Requests to sample in all, split by category.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed: the same seed draws the same requests.")] = 0,
    judge: Annotated[str, typer.Option(help="The judge model (PROVIDER/MODEL).")] = "openai/gpt-4.1",
    judge_mode: Annotated[JudgeMode, typer.Option(help="pairwise (both orders) or rubric (1-10 each).")] = (
        JudgeMode.pairwise
    ),
    endpoints: Annotated[
        Path | None, typer.Option(help="YAML file of endpoints: base URLs, key variable names, headers.")
    ] = None,
    store: Annotated[Path, typer.Option(help="SQLite store of calls and judgments (resumable).")] = Path(
        ".routecost/replay.sqlite"
    ),
    concurrency: Annotated[int, typer.Option(min=1, help="Calls in flight at once.")] = 8,
    max_spend: Annotated[float | None, typer.Option(min=0, help="Stop before the replay's spend passes USD.")] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per call attempt.")] = 60.0,
    retries: Annotated[int, typer.Option(min=0, help="Retries on 429, 5xx, timeouts and dropped connections.")] = 4,
    ci_width: Annotated[
        float | None, typer.Option(min=0.0, help="Interval width to size n for (default 0.2 pairwise, 1.0 rubric).")
    ] = None,
    judge_checks: Annotated[
        int, typer.Option(min=0, help="Control pairs to check the judge on, 3 calls each (0: unchecked, so quality "
                                      "is unmeasured).")
    ] = 10,
    dry_run: Annotated[bool, typer.Option(help="Print the plan and its estimated cost; send nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking (prompts leave the machine).")] = False,
    report_format: Annotated[TableOrJson, typer.Option("--format", "-f", help="table or json.")] = TableOrJson.table,
    prices: Annotated[Path | None, typer.Option(help="Price file: aliases, custom prices, discounts.")] = None,
    category_key: Annotated[str, typer.Option(help="Metadata field (or tag prefix) holding the category.")] = "category",
) -> None:
    """Send a sample of the requests a policy moves to their new models, judge the answers against the
    logged ones, and report the quality delta per category."""
    from routecost.replay.endpoints import load_endpoints
    from routecost.replay.judge import load_template
    from routecost.replay.runner import ReplaySettings, plan_replay, plan_results, run_replay
    from routecost.replay.sample import SampleSize
    from routecost.report.replay import (
        check_lines,
        failure_lines,
        outcome_lines,
        plan_lines,
        results_json,
        results_table,
    )

    settings = ReplaySettings(
        size=SampleSize(per_category=None if sample else per_category or 20, total=sample), seed=seed, judge=judge,
        judge_mode=judge_mode.value, concurrency=concurrency, max_spend_usd=max_spend, timeout_s=timeout,
        retries=retries, judge_checks=judge_checks,
    )
    width = ci_width or (0.2 if judge_mode is JudgeMode.pairwise else 1.0)
    configured = load_endpoints(str(endpoints) if endpoints else None)
    options = _options(logs, prices, category_key, fingerprint_prompts=True, policy_paths=[str(policy)])
    audit = _audited(options, logs)
    with _replay_store(store, dry_run) as replay_store:
        plan = plan_replay(audit, settings, load_template(judge_mode.value), configured, replay_store)
        for line in plan_lines(plan):
            _say(line)
        outcome = None
        if not dry_run and plan.tasks:
            _confirm_sending(yes)
            with _count_progress("replaying", len(plan.tasks) + len(plan.controls)) as on_progress:
                outcome = run_replay(plan, settings, audit.book, replay_store, on_progress)
            for line in outcome_lines(outcome):
                _say(line)
        results = plan_results(plan, replay_store, width)
    if report_format is TableOrJson.json:
        sys.stdout.write(results_json(plan, outcome, results))
    elif not dry_run:
        _stdout_console().print(results_table(results.categories, width))
    for line in [*failure_lines(results), *check_lines(results)]:
        _say(line)
    unsent = 0 if outcome is None else sum(outcome.failed.values()) + outcome.stopped_by_budget
    if outcome is not None and unsent and not any(result.quality.n for result in results.categories):
        _fail(f"nothing could be judged: {sum(outcome.failed.values())} calls failed (their errors are in {store}), "
              f"{outcome.stopped_by_budget} were not sent (--max-spend); check the endpoints and keys", EXIT_USAGE)


@contextmanager
def _replay_store(path: Path, dry_run: bool) -> Iterator[Any]:
    """The replay store; a dry run reads an existing one and creates none (a throwaway one stands in)."""
    from routecost.replay.store import ReplayStore

    if dry_run and not path.exists():
        with tempfile.TemporaryDirectory(prefix="routecost-") as scratch, ReplayStore(Path(scratch) / "dry-run.sqlite") as store:
            yield store
        return
    with ReplayStore(path) as store:
        yield store


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


Reports = Annotated[
    list[str] | None, typer.Argument(help="BASE.json HEAD.json: two `routecost audit --format json` reports.")
]
Logs = Annotated[list[str] | None, typer.Option("--logs", help="Logs to price both policies on (repeatable).")]
BasePolicyFile = Annotated[
    Path | None, typer.Option("--base", help="With --logs: the current policy (default: the traffic as logged).")
]
HeadPolicyFile = Annotated[Path | None, typer.Option("--head", help="With --logs: the candidate policy.")]
BasePolicyName = Annotated[str | None, typer.Option(help="The policy to take from BASE.json (if it holds several).")]
HeadPolicyName = Annotated[str | None, typer.Option(help="The policy to take from HEAD.json (if it holds several).")]
DiffFormatOption = Annotated[DiffFormat, typer.Option("--format", "-f", help="table, json or markdown.")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output to this file.")]
PricesOption = Annotated[Path | None, typer.Option(help="With --logs: a price file.")]
CategoryKeyOption = Annotated[str, typer.Option(help="With --logs: the metadata field holding the category.")]
ReplayOption = Annotated[Path | None, typer.Option("--replay", help="With --logs: a replay store for quality.")]


def _comparison(reports: list[str] | None, logs: list[str] | None, base: Path | None, head: Path | None,
                base_policy: str | None, head_policy: str | None, prices: Path | None, category_key: str,
                replay_store: Path | None) -> Comparison:
    from routecost.gate.compare import compare_policies, compare_reports

    if logs:
        if reports:
            raise UsageError("give either two reports (BASE.json HEAD.json) or --logs with --head, not both")
        if head is None:
            raise UsageError("--logs needs --head POLICY (and optionally --base POLICY)")

        options = _options(logs, prices, category_key, replay_store=str(replay_store) if replay_store else None)
        return compare_policies(options, str(base) if base else None, str(head))
    if not reports or len(reports) != 2:
        raise UsageError("give two reports (BASE.json HEAD.json), or --logs LOGS --base POLICY --head POLICY")
    if base or head:
        raise UsageError("--base and --head name policy files for --logs; with two reports use --base-policy NAME")
    return compare_reports(reports[0], reports[1], base_policy, head_policy)


def _emit(text: str | None, table: Callable[[], object], out: Path | None) -> None:
    """Write ``text`` (or, for the table format, the rendered ``table()``) to ``--out``, or show it."""
    from routecost.output import write_text

    if out is not None:
        write_text(out, text if text is not None else _plain(table()))
        _say(f"wrote {out}")
    elif text is not None:
        sys.stdout.write(text)
    else:
        _stdout_console().print(table())


def _options(logs: list[str], prices: Path | None, category_key: str, fingerprint_prompts: bool = False,
             **settings: Any) -> AuditOptions:
    """The audit options the commands other than ``audit`` share: logs read by one process per CPU."""
    from routecost.audit import AuditOptions
    from routecost.sources.reader import ReaderConfig
    from routecost.workers import default_workers

    reader = ReaderConfig(workers=default_workers(), fingerprint_prompts=fingerprint_prompts, read_cache=_read_cache(None))
    return AuditOptions(paths=logs, reader=reader,
                        prices_path=str(prices) if prices else None, category_key=category_key, **settings)


def _stdout_console() -> Console:
    """The console for tables on stdout: the terminal's width, or wide enough for every column in a
    file or CI log."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = TABLE_WIDTH
    return console


def _plain(renderable: object) -> str:
    """A rich renderable as plain text (for --out)."""
    console = Console(width=TABLE_WIDTH, record=True, force_terminal=False, color_system=None, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def _rendered(report_format: DiffFormat, comparison: Comparison, gate: GateResult | None) -> str | None:
    from routecost.report.diff import render_json, render_markdown

    if report_format is DiffFormat.json:
        return render_json(comparison, gate)
    if report_format is DiffFormat.markdown:
        return render_markdown(comparison, gate)
    return None


@app.command()
def diff(
    reports: Reports = None, logs: Logs = None, base: BasePolicyFile = None, head: HeadPolicyFile = None,
    base_policy: BasePolicyName = None, head_policy: HeadPolicyName = None,
    report_format: DiffFormatOption = DiffFormat.table, out: OutOption = None, prices: PricesOption = None,
    category_key: CategoryKeyOption = "category", replay_store: ReplayOption = None,
) -> None:
    """Per category and in total, how cost, savings and quality change from one report (or policy) to another."""
    from routecost.report.diff import renderable

    comparison = _comparison(reports, logs, base, head, base_policy, head_policy, prices, category_key, replay_store)
    _emit(_rendered(report_format, comparison, None), lambda: renderable(comparison), out)


@app.command()
def gate(
    reports: Reports = None, logs: Logs = None, base: BasePolicyFile = None, head: HeadPolicyFile = None,
    base_policy: BasePolicyName = None, head_policy: HeadPolicyName = None,
    min_savings: Annotated[float | None, typer.Option(help="Least total savings, % of the logged cost.")] = None,
    max_cost_increase: Annotated[
        str | None, typer.Option(help="Most the head may cost over the base, by the policy alone: USD (25) or 5%.")
    ] = None,
    max_quality_drop: Annotated[
        float | None, typer.Option(help="Most quality may drop in any category, % of the scale, 95% CI low end.")
    ] = None,
    min_samples: Annotated[int | None, typer.Option(min=0, help="Least judged requests per changed category.")] = None,
    max_latency_increase: Annotated[float | None, typer.Option(
        min=0, help="Most any category's p95 latency may rise over the logged one, %.")] = None,
    warn: Annotated[
        list[str] | None, typer.Option(help="Make this threshold a warning (repeatable), e.g. --warn min-samples; "
                                          "--warn unmeasured-quality: a judge that failed its checks only warns.")
    ] = None,
    warn_only: Annotated[bool, typer.Option(help="Every threshold only warns: exit 0 unless the input is bad.")] = False,
    gate_file: Annotated[
        Path | None, typer.Option(help="Read the `gate:` block from this file (default: the head's policy file).")
    ] = None,
    report_format: DiffFormatOption = DiffFormat.table, out: OutOption = None, prices: PricesOption = None,
    category_key: CategoryKeyOption = "category", replay_store: ReplayOption = None,
) -> None:
    """The diff, held to thresholds: exit 0 pass (warnings allowed), 1 a fail threshold crossed, 2 bad input."""
    from routecost.gate.thresholds import FAIL, GateFlags, load_gate_file, merge
    from routecost.gate.verdict import evaluate
    from routecost.report.diff import renderable

    comparison = _comparison(reports, logs, base, head, base_policy, head_policy, prices, category_key, replay_store)
    source = gate_file or (head if logs else None) or _existing(comparison.head.policy_file)
    from_file = load_gate_file(str(source)) if source else {}
    flags = GateFlags(min_savings, max_cost_increase, max_quality_drop, min_samples, tuple(warn or ()), warn_only,
                      max_latency_increase=max_latency_increase)
    thresholds = merge(from_file, flags)
    if not thresholds:
        raise UsageError("no thresholds: give --min-savings, --max-cost-increase, --max-quality-drop, "
                         "--min-samples or --max-latency-increase, or a `gate:` block in the policy file")
    result = evaluate(comparison, thresholds)
    _emit(_rendered(report_format, comparison, result), lambda: renderable(comparison, result), out)
    if result.verdict == FAIL:
        raise SystemExit(EXIT_GATE_FAILED)


def _existing(path: str | None) -> Path | None:
    return Path(path) if path and Path(path).is_file() else None


class SweepFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


@app.command()
def sweep(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories or globs.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="The policy to vary.")],
    knob: Annotated[str, typer.Option(help="Dotted path into the policy, e.g. cascades.0.escalate_rate.")],
    values: Annotated[str, typer.Option(help="Comma-separated values (0.1,0.2,0.4) or start:stop:step.")],
    replay_store: Annotated[
        Path | None, typer.Option("--replay", help="A replay store: the quality of each value (and APGR).")
    ] = None,
    report_format: Annotated[SweepFormat, typer.Option("--format", "-f", help="table, json or html.")] = (
        SweepFormat.table
    ),
    out: OutOption = None,
    prices: Annotated[Path | None, typer.Option(help="Price file: aliases, custom prices, discounts.")] = None,
    category_key: Annotated[str, typer.Option(help="Metadata field (or tag prefix) holding the category.")] = "category",
) -> None:
    """Evaluate a policy across one knob: cost and quality at each value, and the curve's APGR."""
    from routecost.knob_sweep import parse_values, run_sweep
    from routecost.report.knob_sweep import render_html, render_json, renderable

    options = _options(logs, prices, category_key, policy_paths=[str(policy)],
                       replay_store=str(replay_store) if replay_store else None)
    with _progress(logs) as on_progress:
        result = run_sweep(options, knob, parse_values(values), on_progress, _stage_of(on_progress))
    text = {SweepFormat.json: render_json, SweepFormat.html: render_html}.get(report_format)
    _emit(text(result) if text else None, lambda: renderable(result), out)


@app.command(short_help="Catalog models that would cut each category's cost, as a ready policy to replay.")
def scout(
    logs: Annotated[list[str], typer.Argument(help="Log files, directories, globs, or - for stdin.")],
    min_cut: Annotated[float, typer.Option(help="A candidate cuts a category's cost by at least this (%).")] = 30.0,
    provider: Annotated[list[str] | None, typer.Option(
        "--provider", help="Also consider this provider's models (repeatable; `all` for every provider). "
                           "By default: the providers the logs use.")] = None,
    policy_out: Annotated[Path | None, typer.Option(
        "--policy-out", help="Write a policy routing each category to its best candidate here.")] = None,
    since: Annotated[Path | None, typer.Option(
        help="An earlier `scout --format json` report: say what changed since (new models, prices).")] = None,
    report_format: DiffFormatOption = DiffFormat.table,
    out: OutOption = None,
    prices: Annotated[Path | None, typer.Option(help="Price file: aliases, custom prices, discounts.")] = None,
    category_key: Annotated[str, typer.Option(help="Metadata field (or tag prefix) holding the category.")] = "category",
) -> None:
    """Price every chat model of the providers you use on each category's own requests, and list those
    that would cut its cost by --min-cut or more: a ready policy to replay, and, run again with --since,
    what the catalog changed since the last report."""
    from routecost.output import write_text
    from routecost.report.scout import render_json, render_markdown, renderable
    from routecost.scout import read_previous, ready_policy
    from routecost.scout import scout as scout_models

    if not 0 < min_cut < 100:
        raise UsageError(f"--min-cut {min_cut:g}: a percentage between 0 and 100")
    previous = read_previous(since) if since is not None else None
    report = scout_models(_audited(_options(logs, prices, category_key), logs), providers=provider or (),
                          min_cut_pct=min_cut, previous=previous)
    if policy_out is not None:
        write_text(policy_out, ready_policy(report, name=f"scout-{report.as_of:%Y-%m-%d}"))
        _say(f"wrote a policy routing {sum(1 for row in report.categories if row.candidates)} categories to "
             f"{policy_out}")
    text = {DiffFormat.json: render_json, DiffFormat.markdown: render_markdown}.get(report_format)
    _emit(text(report) if text else None, lambda: renderable(report), out)


def _confirm_sending(yes: bool) -> None:
    """Prompts leave the machine only after the user says so: --yes, or a yes at the terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("nothing sent: replay sends logged prompts to the endpoints above; pass --yes to agree "
                         "(or --dry-run to only see the plan)")
    if not typer.confirm("Send these prompts to the endpoints above?", default=False, err=True):
        raise UsageError("nothing sent")


@contextmanager
def _count_progress(label: str, total: int) -> Iterator[Callable[[int], None] | None]:
    if not stderr.is_terminal:
        yield None
        return
    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.advance(task, done)


def _parse_time(option: str, text: str | None) -> datetime | None:
    """A date or a date and time, in UTC unless it names its offset."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: expected a date or time like 2026-10-01 or 2026-10-01T12:00, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


READ_CACHE_ENV = "ROUTECOST_READ_CACHE"
ReadCacheOption = Annotated[
    Path | None, typer.Option(help=f"A directory to keep what each log file reads to: the next run parses only new "
                                   f"or changed files (or set {READ_CACHE_ENV}).")
]


def _read_cache(given: Path | None) -> str | None:
    return str(given) if given is not None else os.environ.get(READ_CACHE_ENV) or None


def _parse_as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"--as-of: expected a date like 2026-10-31, got {text!r}") from None


class ProgressBar:
    """What was read (bytes, or database rows) on a terminal's progress bar, then the stage of the work
    that follows the reading (pricing, projecting policies), so the bar never sits full and silent."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress, self._task = progress, task

    def __call__(self, consumed: int) -> None:
        self._progress.advance(self._task, consumed)

    def stage(self, name: str) -> None:
        self._progress.update(self._task, description=name)


def _audited(options: Any, logs: list[str], *, keep_requests: bool = True, on_rows: Any = None) -> Any:
    """``run_audit`` with the progress bar on a terminal: bytes read, then the stage after reading."""
    from routecost.audit import run_audit

    with _progress(logs) as on_progress:
        return run_audit(options, on_progress, on_stage=_stage_of(on_progress), keep_requests=keep_requests,
                         on_rows=on_rows)


def _stage_of(bar: Callable[[int], None] | None) -> Callable[[str], None] | None:
    return bar.stage if isinstance(bar, ProgressBar) else None


@contextmanager
def _progress(paths: list[str]) -> Iterator[Callable[[int], None] | None]:
    """A byte-based progress bar on a terminal; nothing when stderr is not one (CI, pipes)."""
    from routecost.database import is_database_url
    from routecost.paths import STDIN, expand_paths, input_size

    if not stderr.is_terminal or STDIN in paths:
        yield None
        return
    if any(map(is_database_url, paths)):  # rows as they come from the database; how many is not asked
        with Progress(TextColumn("{task.description}"), TextColumn("{task.completed:,.0f} database rows"),
                      console=stderr, transient=True) as progress:
            yield ProgressBar(progress, progress.add_task("reading logs", total=None))
        return
    total = sum(input_size(path) for path in expand_paths(paths))
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        yield ProgressBar(progress, progress.add_task("reading logs", total=total))


def _say(line: str) -> None:
    """A line on stderr: never read as markup, control characters shown, not acted on."""
    from routecost.escape import printable

    stderr.print(printable(line), highlight=False, markup=False, soft_wrap=True)


def _fail(message: str, code: int) -> NoReturn:
    _say(f"routecost: error: {message}")
    raise SystemExit(code)


COMMAND_LINE_ERRORS = typer.exceptions.TyperException
"""A bad option or argument (typer raises its own copy of click's exceptions, all of this kind)."""
INTERRUPTIONS = typer.exceptions.Abort


def main() -> None:
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):  # help in a file or CI log: no option name cut
        os.environ["COLUMNS"] = str(TABLE_WIDTH)
    try:
        code = app(standalone_mode=False, prog_name="routecost")  # not "python -m routecost"
    except COMMAND_LINE_ERRORS as error:  # one line, like every other usage error (not a box)
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:  # a bare `routecost`: the help
            sys.stderr.write(context.get_help() + "\n")  # our own text: printed as it is
            raise SystemExit(EXIT_USAGE) from None
        command = context.command_path if context is not None else "routecost"
        _fail(f"{command}: {error.format_message()} (see {command} --help)", EXIT_USAGE)  # type: ignore[attr-defined]
    except INTERRUPTIONS:
        _fail("interrupted", EXIT_INTERRUPTED)
    except UsageError as error:
        _fail(str(error), EXIT_USAGE)
    except Exception as error:
        if os.environ.get("ROUTECOST_DEBUG"):
            raise
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        _fail(f"internal error: {type(error).__name__}: {first_line} (set ROUTECOST_DEBUG=1 for details)",
              EXIT_INTERNAL)
    raise SystemExit(code if isinstance(code, int) else 0)
