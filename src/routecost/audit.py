"""The audit: read the logs, count missing tokens, price every request, and sum it up.

This is the baseline every policy is compared with, so it says plainly what it could not price
(unpriced models, requests without usage), what it assumed, and where its numbers disagree with
the costs the logs carry themselves.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from routecost.categories import DEFAULT_CATEGORY_KEY
from routecost.errors import Malformed
from routecost.policy.loader import load_policy
from routecost.policy.model import Policy
from routecost.policy.whatif import what_if_policies
from routecost.prices.catalog import PriceBook
from routecost.prices.pricing import LOGGED_CONTEXT, SUMMED_TOKEN_COLUMNS, PricedRequests
from routecost.prices.userfile import NO_USER_PRICES, load_user_prices
from routecost.records import BILLED_STATUSES, PLAUSIBLE_FROM, PLAUSIBLE_UNTIL, STATUS_OK, empty_requests
from routecost.segment_audit import RowsCallback, SegmentAudits, read_replay_store
from routecost.simulate.projection import CostStack, PolicyProjection
from routecost.simulate.references import Reference, cheapest_and_priciest
from routecost.simulate.self_hosted import fleet_notes, fleet_plans
from routecost.sources.reader import LogReader, ReaderConfig, ReadResult
from routecost.sources.segments import SEGMENT_ROWS, repeated_ids_note
from routecost.spool import Spool, collect

PROJECTION_DAYS = 30
RECONCILE_TOLERANCE = 0.01
"""A row disagrees with its logged cost when the two differ by more than 1%."""
MAX_EXAMPLES = 5
UNPRICED_COLUMNS = ("model", "provider", "unpriced_reason", "input_tokens", "output_tokens", "status", "cost_usd")
RECONCILED_COLUMNS = ("source", "line", "model", "logged_cost_usd", "cost_usd", "price_context")
SUMMARY_COLUMNS = tuple(dict.fromkeys((
    "source", "line", "request_id", "model", "provider", "model_id", "category", "status", "ts", "tokens_estimated",
    "price_context", "gateway_cache_hit", "cost_usd", "fees_usd", "logged_cost_usd", "unpriced_reason",
    *SUMMED_TOKEN_COLUMNS)))
"""The columns of the priced requests the summaries read (all a streamed audit keeps of them)."""


@dataclass(frozen=True)
class AuditOptions:
    paths: Sequence[str]
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    prices_path: str | None = None
    category_key: str = DEFAULT_CATEGORY_KEY
    as_of: datetime = field(default_factory=lambda: datetime.now(UTC))
    strict: bool = False
    policy_paths: Sequence[str] = ()
    what_if: Sequence[str] = ()
    where: Sequence[str] = ()
    replay_store: str | None = None
    """A replay store whose measurements the policies use (quality, output ratios, escalation)."""


@dataclass(frozen=True)
class Period:
    start: datetime | None
    end: datetime | None

    @property
    def days(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds() / 86_400


@dataclass(frozen=True)
class ModelCost:
    model: str
    requests: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: float
    share_pct: float
    fees_usd: float = 0.0
    """Per-call fees inside ``cost_usd`` (web and file searches, grounded prompts, request fees)."""


@dataclass(frozen=True)
class CategoryCost:
    category: str
    requests: int
    cost_usd: float
    share_pct: float


@dataclass(frozen=True)
class UnpricedModel:
    model: str
    provider: str | None
    reason: str
    requests: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class CostGap:
    """A request whose logged cost differs from the price-sheet cost."""

    where: str
    model: str
    logged_usd: float
    computed_usd: float


@dataclass(frozen=True)
class Reconciliation:
    requests: int
    logged_usd: float
    computed_usd: float
    differing: int
    examples: list[CostGap]


@dataclass
class AuditReport:
    sources: list[str]
    requests: int
    successful: int
    failed: int
    malformed: int
    malformed_examples: list[Malformed]
    skipped: Counter[str]
    estimated: int
    unpriced_requests: int
    unpriced: list[UnpricedModel]
    period: Period
    cost_usd: float
    by_model: list[ModelCost]
    categories: list[CategoryCost]
    references: list[Reference]
    reconciliation: Reconciliation | None
    assumptions: list[str]
    catalog: str
    category_key: str
    formats: Counter[str]
    policies: list[PolicyProjection] = field(default_factory=list)
    logged_stacks: list[CostStack] = field(default_factory=list)
    """Each logged category's cost by model."""

    @property
    def cost_per_successful_request(self) -> float | None:
        return self.cost_usd / self.successful if self.successful else None

    @property
    def projected_30d_usd(self) -> float | None:
        """Cost over 30 days at the logged rate; None for logs spanning less than a day."""
        return self.over_30_days(self.cost_usd)

    def over_30_days(self, amount: float) -> float | None:
        """An amount over the logged period, scaled to 30 days (None below a day of logs)."""
        days = self.period.days
        return amount * PROJECTION_DAYS / days if days and days >= 1 else None


@dataclass
class Audit:
    """The audit's report and the priced requests behind it (for ``--per-request`` and policies)."""

    report: AuditReport
    priced: PricedRequests | None
    """None when the audit streamed (``run_audit(keep_requests=False)``)."""
    book: PriceBook
    as_of: datetime


ProgressCallback = Callable[[int], None]
StageCallback = Callable[[str], None]


def price_book(options: AuditOptions) -> PriceBook:
    """The catalog with the user's price file, if any."""
    return PriceBook(load_user_prices(options.prices_path) if options.prices_path else NO_USER_PRICES)


def run_audit(options: AuditOptions, on_progress: ProgressCallback | None = None,
              policies: Sequence[Policy] | None = None, book: PriceBook | None = None,
              on_stage: StageCallback | None = None, *, keep_requests: bool = True,
              on_rows: RowsCallback | None = None) -> Audit:
    """Read, price and summarize the logs, and project the policies: those of the options (files and
    --what-if), or ``policies`` already loaded with ``book``. ``on_stage`` hears what runs once the
    reading is done (a progress bar would otherwise sit full while pricing runs); ``on_rows`` gets
    the per-request rows (``segment_audit.per_request_rows``), a segment at a time.

    Without ``keep_requests`` the audit streams: the logs are read, priced and projected a segment
    at a time (``sources/segments.py``, ``segment_audit.py``), the summaries are taken from the
    segments' columns kept on disk (``spool.py``) and the projections of the segments are added up
    (``simulate/projection.py``), so memory does not grow with the log. Exact and prompt caches are
    replayed over the whole log before the segments are projected (``simulate/cache_pass.py``). A
    semantic cache, an exact cache of bounded size and measurements from a replay store need every
    request at once: those audits keep them, as one segment."""
    stage = on_stage or (lambda name: None)
    book = book or price_book(options)
    policies = load_policies(options, book) if policies is None else policies
    replayed = read_replay_store(options.replay_store) if options.replay_store is not None else None
    reader_config = options.reader
    if any(policy.needs_fingerprints for policy in policies):
        reader_config = dataclasses.replace(reader_config, fingerprint_prompts=True)
    whole = keep_requests or replayed is not None or any(policy.needs_whole_log for policy in policies)
    reader = LogReader(reader_config, on_progress, segment_rows=None if whole else SEGMENT_ROWS)
    hold_for_caches = not whole and any(policy.needs_fingerprints for policy in policies)
    segments = SegmentAudits(book, policies, category_key=options.category_key, as_of=options.as_of,
                             replayed=replayed, keep=keep_requests, on_stage=stage if whole else None, on_rows=on_rows,
                             hold_for_caches=hold_for_caches)
    with Spool(SUMMARY_COLUMNS, on_disk=not whole) as spool, segments:
        for segment in reader.segments(options.paths):
            spool.add(segments.add(segment).requests)
        if segments.count == 0:  # an empty log is one empty segment
            spool.add(segments.add(empty_requests()).requests)
        segments.finish(stage)
        stage("summarizing")
        report = summarize(reader.result, spool.scan(), segments.assumptions, book, options)
    report.logged_stacks = segments.logged_stacks()
    report.policies = segments.policy_projections()
    for projection in report.policies:
        if projection.self_hosted_load is not None:
            projection.fleets = fleet_plans(projection.policy.self_hosted, projection.self_hosted_load,
                                            report.period.days)
            projection.assumptions += fleet_notes(projection.fleets)
    priced = None if segments.kept is None else PricedRequests(segments.kept, segments.assumptions, book.catalog_version)
    return Audit(report=report, priced=priced, book=book, as_of=options.as_of)


def load_policies(options: AuditOptions, book: PriceBook) -> list[Policy]:
    """The policy files and the ``--what-if`` models, validated before any log is read."""
    policies = [load_policy(path, book) for path in options.policy_paths]
    return policies + what_if_policies(options.what_if, options.where, book)


def summarize(read: ReadResult, frame: pl.LazyFrame, pricing_assumptions: Counter[str], book: PriceBook,
              options: AuditOptions) -> AuditReport:
    """The report of the priced requests (``SUMMARY_COLUMNS``), each figure one query over them."""
    billed = pl.col("status").is_in(BILLED_STATUSES)
    unpriced_billed = billed & pl.col("cost_usd").is_null()
    counts = collect(frame.select(
        requests=pl.len(),
        successful=(pl.col("status") == STATUS_OK).sum(),
        billed=billed.sum(),
        estimated=pl.col("tokens_estimated").sum(),
        no_timestamp=pl.col("ts").is_null().sum(),
        total=pl.col("cost_usd").sum(),
        start=pl.col("ts").min(),
        end=pl.col("ts").max(),
        unpriced=unpriced_billed.sum(),
        both_costs=(pl.col("logged_cost_usd").is_not_null() & pl.col("cost_usd").is_not_null()).sum(),
    )).row(0, named=True)
    # the queries below read text columns: skipped when the counts show they would find nothing
    unpriced = _unpriced_models(frame.select(UNPRICED_COLUMNS).filter(unpriced_billed)) if counts["unpriced"] else []
    assumptions = [*read.notes, *(f"{text} ({count} requests)" for text, count in
                                  sorted(pricing_assumptions.items(), key=lambda item: (-item[1], item[0])))]
    if (repeated := repeated_ids_note(frame)) is not None:
        assumptions.insert(len(read.notes), repeated)
    if read.first_implausible_time is not None:
        source, line = read.first_implausible_time
        assumptions.append(
            f"{read.implausible_times} requests have a logged time outside {PLAUSIBLE_FROM.year}-{PLAUSIBLE_UNTIL.year - 1} "
            f"(the first at {source}:{line}): kept out of the period, priced at the prices of {options.as_of:%Y-%m-%d}")
    if counts["no_timestamp"] > read.implausible_times:
        assumptions.append(f"{counts['no_timestamp'] - read.implausible_times} requests have no timestamp: priced at the prices of "
                           f"{options.as_of:%Y-%m-%d}")
    total = float(counts["total"] or 0.0)
    return AuditReport(
        sources=read.sources,
        requests=counts["requests"],
        successful=counts["successful"],
        failed=counts["requests"] - counts["billed"],
        malformed=read.malformed,
        malformed_examples=read.malformed_examples,
        skipped=read.skipped,
        estimated=counts["estimated"],
        unpriced_requests=sum(row.requests for row in unpriced),
        unpriced=unpriced,
        period=Period(start=counts["start"], end=counts["end"]),
        cost_usd=total,
        by_model=_by_model(frame, total),
        categories=_by_category(frame, total),
        references=cheapest_and_priciest(frame, book, options.as_of, book.user_prices.tokenizer_ratios),
        reconciliation=_reconcile(frame) if counts["both_costs"] else None,
        assumptions=assumptions,
        catalog=book.catalog_version,
        category_key=options.category_key,
        formats=read.formats,
    )


def _share(cost: float, total: float) -> float:
    return 100.0 * cost / total if total else 0.0


def _by_model(frame: pl.LazyFrame, total: float) -> list[ModelCost]:
    rows = collect(
        frame
        .filter(pl.col("cost_usd").is_not_null())
        .group_by(model_id=pl.coalesce("model_id", pl.format("{} (logged cost)", pl.col("model").fill_null("no model"))))
        .agg(
            requests=pl.len(),
            input_tokens=pl.col("input_tokens").sum(),
            cache_read_tokens=pl.col("cache_read_tokens").sum(),
            cache_write_tokens=pl.col("cache_write_tokens").sum(),
            output_tokens=pl.col("output_tokens").sum(),
            cost_usd=pl.col("cost_usd").sum(),
            fees_usd=pl.col("fees_usd").sum(),
        )
    ).sort("cost_usd", "model_id", descending=[True, False])
    return [
        ModelCost(model=row["model_id"], requests=row["requests"], input_tokens=row["input_tokens"] or 0,
                  cache_read_tokens=row["cache_read_tokens"] or 0, cache_write_tokens=row["cache_write_tokens"] or 0,
                  output_tokens=row["output_tokens"] or 0, cost_usd=row["cost_usd"],
                  share_pct=_share(row["cost_usd"], total), fees_usd=row["fees_usd"] or 0.0)
        for row in rows.iter_rows(named=True)
    ]


def _by_category(frame: pl.LazyFrame, total: float) -> list[CategoryCost]:
    rows = collect(
        frame.group_by("category").agg(requests=pl.len(), cost_usd=pl.col("cost_usd").sum())
    ).sort("cost_usd", "category", descending=[True, False])
    return [
        CategoryCost(category=row["category"], requests=row["requests"], cost_usd=row["cost_usd"],
                     share_pct=_share(row["cost_usd"], total))
        for row in rows.iter_rows(named=True)
    ]


def _unpriced_models(unpriced: pl.LazyFrame) -> list[UnpricedModel]:
    rows = collect(
        unpriced.group_by("model", "provider", "unpriced_reason")
        .agg(requests=pl.len(), input_tokens=pl.col("input_tokens").sum(), output_tokens=pl.col("output_tokens").sum())
    ).sort("requests", "model", descending=[True, False], nulls_last=True)
    return [
        UnpricedModel(model=row["model"] or "(none)", provider=row["provider"], reason=row["unpriced_reason"],
                      requests=row["requests"], input_tokens=row["input_tokens"] or 0,
                      output_tokens=row["output_tokens"] or 0)
        for row in rows.iter_rows(named=True)
    ]


def _reconcile(frame: pl.LazyFrame) -> Reconciliation | None:
    """Our cost against the cost the log carries (gateways log their own), row by row."""
    both = frame.select(RECONCILED_COLUMNS).filter(
        pl.col("logged_cost_usd").is_not_null() & pl.col("cost_usd").is_not_null()
        & (pl.col("price_context") != LOGGED_CONTEXT)
    )
    gap = (pl.col("cost_usd") - pl.col("logged_cost_usd")).abs()
    scale = pl.max_horizontal(pl.col("cost_usd").abs(), pl.col("logged_cost_usd").abs())
    differs = gap > RECONCILE_TOLERANCE * scale
    sums = collect(both.select(requests=pl.len(), logged=pl.col("logged_cost_usd").sum(),
                               computed=pl.col("cost_usd").sum(), differing=differs.sum())).row(0, named=True)
    if not sums["requests"]:
        return None
    order = ["source", "line", "model", "logged_cost_usd", "cost_usd"]  # (a line may hold several requests)
    examples = collect(both.filter(differs).bottom_k(MAX_EXAMPLES, by=order)).sort(order)
    return Reconciliation(
        requests=sums["requests"],
        logged_usd=float(sums["logged"]),
        computed_usd=float(sums["computed"]),
        differing=sums["differing"],
        examples=[
            CostGap(where=f"{source}:{line}", model=model, logged_usd=logged, computed_usd=computed)
            for source, line, model, logged, computed in examples
            .select("source", "line", "model", "logged_cost_usd", "cost_usd")
            .iter_rows()
        ],
    )
