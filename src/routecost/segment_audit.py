"""One segment of the logs audited: priced, projected under each policy, and added to the others.

``audit.run_audit`` hands every segment the reader finishes to ``SegmentAudits``. What the report
needs of the segments is kept as sums that add up (the pricing assumptions, each policy's category
totals, each category's cost by model for the charts); the requests themselves are kept only by an
audit that asks for them, which has a single segment. The per-request rows (``--per-request``) go
to their writer one segment at a time.

A policy with an exact or prompt cache cannot project a segment on its own (a cache is warmed by
earlier requests, in any segment): a streamed audit with such policies holds its priced segments on
disk, records what the caches need of them, and projects every segment once the caches are replayed
over the whole log (``finish``, ``simulate/cache_pass.py``).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Self, TypeVar

import polars as pl

from routecost.categories import with_category
from routecost.errors import UsageError
from routecost.policy.model import Policy
from routecost.prices.catalog import PriceBook
from routecost.prices.pricing import PricedRequests, price_requests
from routecost.simulate.cache_pass import CacheAnswers, CachePass
from routecost.simulate.latency import LatencyCounts, added_model_latencies, by_category, model_latencies
from routecost.simulate.projection import CostStack, PolicyProjection, added_projections
from routecost.simulate.routing import (
    MeasuredRatios,
    PolicyInputs,
    policy_base,
    prepare_inputs,
    project_policy,
    projected_variants,
    routing_rows,
)
from routecost.spool import Spool
from routecost.tokens import estimate_missing_usage

if TYPE_CHECKING:
    from routecost.replay.results import StoredReplay

QUALITY_CI_WIDTH = 0.2
"""The interval width ``n_for_width`` is computed for in the audit's quality figures."""

StageCallback = Callable[[str], None]
RowsCallback = Callable[[pl.DataFrame], None]
Part = TypeVar("Part")
PolicyCaches = dict[tuple[str, ...], CacheAnswers]
"""A policy's cache answers, by the levers of each variant projected (``projected_variants``)."""


@dataclasses.dataclass(frozen=True)
class Replayed:
    """A replay store's measurements, and where they came from (named in the notes)."""

    path: str
    stored: StoredReplay


class SegmentAudits:
    def __init__(self, book: PriceBook, policies: Sequence[Policy], *, category_key: str, as_of: datetime,
                 replayed: Replayed | None, keep: bool, on_stage: StageCallback | None = None,
                 on_rows: RowsCallback | None = None, hold_for_caches: bool = False) -> None:
        """``hold_for_caches``: the policies' exact and prompt caches are replayed over the whole log
        before any segment is projected (``finish``)."""
        self._book, self._policies, self._replayed, self._keep = book, policies, replayed, keep
        self._category_key, self._as_of = category_key, as_of
        self._stage = on_stage or (lambda name: None)
        self._on_rows = on_rows
        self.count = 0
        self._requests_before = 0
        self.assumptions: Counter[str] = Counter()
        self._projections = [SegmentSum(added_projections) for _ in policies]
        self._logged_costs = SegmentSum(added_cost_sums)
        self._policy_costs = [(SegmentSum(added_cost_sums), SegmentSum(added_cost_sums)) for _ in policies]
        self._latencies = [SegmentSum(LatencyCounts.added) for _ in policies]
        self._model_latencies = SegmentSum(added_model_latencies)
        self.kept: pl.DataFrame | None = None
        """The priced requests, when kept."""
        self._held = HeldSegments(policies) if hold_for_caches else None

    def add(self, segment: pl.DataFrame) -> PricedRequests:
        self._stage("pricing")
        requests = with_category(estimate_missing_usage(segment), self._category_key)
        del segment
        priced = price_requests(requests, self._book, self._as_of)
        self.assumptions.update(priced.assumptions)
        requests = priced.requests
        self._logged_costs.add(cost_sums(requests["category"], requests["model_id"], requests["cost_usd"]))
        self._model_latencies.add(model_latencies(requests))
        if self._held is not None:
            self._held.hold(requests, self._requests_before)
        else:
            self._add_projections(requests, self._project(requests, self._requests_before))
        self.count += 1
        self._requests_before += requests.height
        if self._keep:
            self.kept = requests
        return priced

    def finish(self, on_stage: StageCallback | None = None) -> None:
        """Project the held segments, once their caches are replayed over the whole log."""
        if self._held is None:
            return
        stage = on_stage or (lambda name: None)
        stage("replaying caches")
        caches = self._held.answers(self._requests_before)
        for number, (requests, first_position) in enumerate(self._held.segments(), start=1):
            stage(f"projecting segment {number} of {self.count}")
            self._add_projections(requests, self._project(requests, first_position, caches))
        self._held.close()

    def _add_projections(self, requests: pl.DataFrame, projections: list[PolicyProjection]) -> None:
        if self._on_rows is not None:
            self._on_rows(per_request_rows(requests, projections))
        for index, projection in enumerate(projections):
            logged, projected = _policy_costs(requests, projection.rows)
            self._policy_costs[index][0].add(logged)
            self._policy_costs[index][1].add(projected)
            window = max((rule.max_delay_s for rule in projection.policy.batch), default=None)
            self._latencies[index].add(LatencyCounts.of(requests, projection.rows, window))
            self._projections[index].add(projection if self._keep else dataclasses.replace(projection, rows=pl.DataFrame()))

    def _project(self, requests: pl.DataFrame, first_position: int,
                 caches: Sequence[PolicyCaches] | None = None) -> list[PolicyProjection]:
        if not self._policies:
            return []
        count = len(self._policies)
        self._stage(f"projecting {count} {'policy' if count == 1 else 'policies'}")
        inputs = prepare_inputs(requests, self._policies, first_position=first_position)
        return [project_one(inputs, policy, requests, self._book, self._as_of, self._replayed,
                            caches[index] if caches is not None else None)
                for index, policy in enumerate(self._policies)]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self._held is not None:
            self._held.close()

    def logged_stacks(self) -> list[CostStack]:
        return cost_stacks(self._logged_costs.total)

    def policy_projections(self) -> list[PolicyProjection]:
        """Each policy's projection of every segment, with each category's cost by model, as logged
        and under the policy."""
        projections = []
        for parts, (logged, projected), latencies in zip(self._projections, self._policy_costs, self._latencies,
                                                          strict=True):
            projection = parts.total
            projection.logged_stacks = cost_stacks(logged.total)
            projection.projected_stacks = cost_stacks(projected.total)
            latency = by_category(latencies.total, self._model_latencies.total)
            projection.categories = [dataclasses.replace(category, latency=latency.get(category.category))
                                     for category in projection.categories]
            projections.append(projection)
        return projections


class SegmentSum(Generic[Part]):
    """A sum over the segments, added up as each segment comes. Kept apart, each segment's small
    frames would pin memory far beyond their size (measured: 4.6 MB a segment of 100,000 requests
    under three policies, against a few hundred KB of frames; 1 GB over a 20M-request audit)."""

    def __init__(self, added: Callable[[Sequence[Part]], Part]) -> None:
        self._added = added
        self._total: Part | None = None

    def add(self, part: Part) -> None:
        self._total = part if self._total is None else self._added([self._total, part])

    @property
    def total(self) -> Part:
        if self._total is None:
            raise ValueError("no segment added")  # an empty log is one empty segment: never raised
        return self._total


class HeldSegments:
    """A streamed audit's priced segments, held on disk, and what the policies' exact and prompt
    caches need of them (``simulate/cache_pass.py``), recorded once for each routing a projected
    variant of a policy has: the policy's own and, for its caches alone, none."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="routecost-caches-"))  # owner-only
        self._segments = Spool(None, on_disk=True)
        self._cached = [policy for policy in policies if policy.needs_fingerprints]
        self._variants = [(index, variant) for index, policy in enumerate(policies)
                          for variant in projected_variants(policy) if variant.needs_fingerprints]
        self._policies = len(policies)
        self._passes: dict[tuple[int, bool], CachePass] = {}
        for index, variant in self._variants:
            routed = _routes(variant)
            if (index, routed) not in self._passes:
                policy = policies[index] if routed else dataclasses.replace(policies[index], routes=(), cascades=())
                self._passes[index, routed] = CachePass(policy, self._directory / f"{index}-{'routed' if routed else 'kept'}")
        self._first_positions: list[int] = []

    def hold(self, requests: pl.DataFrame, first_position: int) -> None:
        """Hold a segment whose first request is the ``first_position``-th of the log."""
        inputs = prepare_inputs(requests, self._cached, first_position=first_position)
        for cache_pass in self._passes.values():
            cache_pass.record(policy_base(inputs, cache_pass.policy))
        self._segments.add(requests)
        self._first_positions.append(first_position)

    def answers(self, requests: int) -> list[PolicyCaches]:
        """Each policy's cache answers, by variant, over the ``requests`` requests held."""
        caches: list[PolicyCaches] = [{} for _ in range(self._policies)]
        for index, variant in self._variants:
            caches[index][tuple(variant.levers)] = self._passes[index, _routes(variant)].answers(variant, requests)
        return caches

    def segments(self) -> Iterator[tuple[pl.DataFrame, int]]:
        """The segments held, in order, each with the position of its first request in the log."""
        yield from zip(self._segments.frames(), self._first_positions, strict=True)

    def close(self) -> None:
        self._segments.close()
        shutil.rmtree(self._directory, ignore_errors=True)


def _routes(policy: Policy) -> bool:
    return bool(policy.routes or policy.cascades)


def project_one(inputs: PolicyInputs, policy: Policy, priced: pl.DataFrame, book: PriceBook, as_of: datetime,
                replayed: Replayed | None, caches: PolicyCaches | None = None) -> PolicyProjection:
    """The policy's projection; with replay data, using the output-length ratios and escalation rates
    measured for the requests it moves, with the quality delta beside the costs."""
    from routecost.replay.checks import unmeasured_reason
    from routecost.replay.results import measured_for_policy

    measured = (measured_for_policy(replayed.stored, priced, routing_rows(inputs, policy), QUALITY_CI_WIDTH)
                if replayed else None)
    ratios = MeasuredRatios(output=measured.output_ratios, escalation=measured.escalation_rates) if measured else None
    projection = project_policy(inputs, policy, book, as_of, tokenizer_ratios=book.user_prices.tokenizer_ratios,
                                measured=ratios, caches=caches)
    if measured is None or replayed is None:
        return projection
    if not measured.categories:
        projection.assumptions.append(f"replay: {replayed.path} holds no calls for this policy's moved requests")
        return projection
    projection.categories = [
        dataclasses.replace(category, quality=result.quality, escalation_measured=result.escalation_rate)
        if (result := measured.categories.get(category.category)) is not None else category
        for category in projection.categories
    ]
    judged = sum(result.quality.n for result in measured.categories.values())
    projection.assumptions.append(
        f"replay ({replayed.path}): quality from {judged} judged requests; output-length ratios measured for "
        f"{len(measured.output_ratios)} (category, model) pairs, assumed elsewhere; the 95% intervals of measured "
        "ratios and escalation rates are the projection's low-high range"
    )
    projection.assumptions.append(f"replay: {measured.check.summary()}" if measured.check else
                                  f"replay: {unmeasured_reason(None)}: quality unmeasured")
    return projection


def read_replay_store(path: str) -> Replayed:
    """What a replay store holds, read once for every policy an audit projects."""
    from routecost.replay.results import read_stored
    from routecost.replay.store import ReplayStore

    if not Path(path).exists():
        raise UsageError(f"{path}: no replay store there (run `routecost replay` first)")
    with ReplayStore(path) as store:
        return Replayed(path, read_stored(store))


def per_request_rows(priced: pl.DataFrame, projections: Sequence[PolicyProjection]) -> pl.DataFrame:
    """Every request with its baseline cost and, per policy, its category, routed model and projected
    cost (columns prefixed with the policy's name)."""
    frame = priced
    for projection in projections:
        frame = frame.hstack(projection.rows.select(pl.all().name.prefix(f"{projection.name}.")))
    return frame


def cost_sums(category: pl.Series, model: pl.Series, cost: pl.Series) -> pl.DataFrame:
    """Cost by category and model (unpriced requests left out): what ``cost_stacks`` adds up."""
    return (pl.DataFrame({"category": category.cast(pl.String), "model": model.cast(pl.String), "cost": cost})
            .filter(pl.col("cost").is_not_null()).group_by("category", "model").agg(pl.col("cost").sum()))


def added_cost_sums(sums: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """``cost_sums`` of several segments as one."""
    return pl.concat(sums, how="vertical").group_by("category", "model").agg(pl.col("cost").sum())


def cost_stacks(sums: pl.DataFrame) -> list[CostStack]:
    """Per category (dearest first), the cost by model (dearest first), from ``cost_sums``."""
    frame = sums.sort("cost", "model", descending=[True, False])
    stacks: dict[str, dict[str, float]] = {name: {} for name in frame.group_by("category").agg(pl.col("cost").sum())
              .sort("cost", "category", descending=[True, False])["category"]}
    for name, model_id, amount in frame.iter_rows():
        stacks[name][model_id or "unknown"] = amount
    return [CostStack(name, by_model) for name, by_model in stacks.items()]


def _policy_costs(requests: pl.DataFrame, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A policy's categories as logged, by logged model, and as projected, by the model each request is
    routed to, a cascade's escalations drawn on the models they go to."""
    category = rows["category"].cast(pl.String)
    escalated = rows["escalated_cost_usd"]
    logged = cost_sums(category, requests["model_id"], requests["cost_usd"])
    projected = cost_sums(pl.concat([category, category]),
                          pl.concat([rows["routed_model"].cast(pl.String), rows["escalate_to"].cast(pl.String)]),
                          pl.concat([rows["projected_cost_usd"] - escalated, escalated.replace(0.0, None)]))
    return logged, projected
