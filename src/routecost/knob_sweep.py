"""A policy evaluated across one knob: cost and quality at each value, and one score for the curve.

The knob is a path into the policy file (``cascades.0.escalate_rate``, ``routes.1.share``,
``routes.0.when.input_tokens.lt``, ``cache.semantic.threshold``); each value makes a variant of the
policy, validated like the file itself, and every variant is projected on the same priced requests.

Quality comes from a replay store (``--replay``): a variant's quality is the mean, over all its
priced requests, of the judged delta a request gets where the variant moves it to another model
(its category's measured delta for that move) and 0 where it stays as logged; in a cascade only the
requests that do not escalate keep the cheap model's delta. The range comes from the categories'
95% intervals. A variant that moves requests in a category replay never judged for it has no
quality (it is counted, not guessed).

The curve's score, APGR (average performance gap recovered, after RouteLLM), in dollars: on the
cost/quality plane, the cheapest variant is the weak end and the logged traffic the strong end.
Each point's PGR is (quality - weak quality) / (strong quality - weak quality) and its cost
fraction (cost - weak cost) / (strong cost - weak cost); APGR is the area under the non-decreasing
upper convex hull of the points (and the two ends) over cost fractions 0 to 1, the hull RouterBench's
AIQ integrates: mixing two variants at random reaches any point between them. 0.5 is what randomly
mixing the two ends gives; 1.0 recovers all the quality at the weak end's cost. It needs a quality
gap between the ends.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

import polars as pl
import yaml

from routecost.audit import AuditOptions, ProgressCallback, StageCallback, price_book, run_audit
from routecost.errors import UsageError
from routecost.policy.loader import PolicyParser
from routecost.policy.model import Policy
from routecost.prices.catalog import PriceBook
from routecost.simulate.projection import PolicyProjection
from routecost.yamlfile import YamlDocument, load_yaml


@dataclass(frozen=True)
class SweepPoint:
    value: Any
    candidate: bool
    """The value the policy file has."""
    cost_usd: float
    savings_pct: float
    moved_pct: float
    """Share of priced requests sent to another model (a cascade's first try counts)."""
    quality: float | None
    quality_low: float | None
    quality_high: float | None
    unjudged_moved: int
    """Moved requests in (category, model) pairs replay did not judge."""


@dataclass(frozen=True)
class SweepResult:
    policy: str
    knob: str
    baseline_cost_usd: float
    points: list[SweepPoint]
    apgr: float | None
    apgr_note: str
    replay_store: str | None


def parse_values(text: str) -> list[Any]:
    """``0.1,0.2,0.5`` (YAML scalars: numbers stay numbers) or ``start:stop:step`` (inclusive)."""
    if text.count(":") == 2 and "," not in text:
        parts = [yaml.safe_load(part.strip()) for part in text.split(":")]
        if not all(isinstance(part, int | float) and not isinstance(part, bool) for part in parts):
            raise UsageError(f"--values: {text!r} is not start:stop:step")
        start, stop, step = parts
        if step <= 0 or stop < start:
            raise UsageError(f"--values: {text!r} needs a positive step and stop >= start")
        count = round((stop - start) / step) + 1
        if all(isinstance(part, int) for part in parts):  # whole numbers stay whole (token bounds)
            return [start + index * step for index in range(count)]
        return [round(start + index * step, 10) for index in range(count)]
    values = [yaml.safe_load(part.strip()) for part in text.split(",") if part.strip()]
    if not values:
        raise UsageError("--values: give a comma-separated list or start:stop:step")
    return values


def knob_path(knob: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in knob.split(".") if part]


def current_value(data: Any, path: list[str | int]) -> Any:
    """The knob's value in the policy file (None where it is not set)."""
    node = data
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def with_value(document: YamlDocument, path: list[str | int], value: Any, knob: str) -> YamlDocument:
    """The policy document with the knob set (its parent must exist; the last key may be new)."""
    data = copy.deepcopy(document.data)
    node = data
    for depth, key in enumerate(path[:-1]):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(part) for part in path[:depth + 1])
            raise UsageError(f"{document.path}: --knob {knob}: the policy has no `{where}`") from None
    last = path[-1]
    if isinstance(node, dict):
        node[str(last)] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    else:
        raise UsageError(f"{document.path}: --knob {knob}: cannot set `{last}` there")
    return dataclasses.replace(document, path=f"{document.path} ({knob}={value})", data=data)


def variants(document: YamlDocument, path: list[str | int], knob: str, values: list[Any],
             book: PriceBook) -> list[Policy]:
    """The policy with the knob at each value, each validated like the file."""
    return [dataclasses.replace(PolicyParser(with_value(document, path, value, knob), book).policy(),
                                name=f"{knob}={value}") for value in values]


def with_candidate(values: list[Any], current: Any) -> list[Any]:
    """The values, with the policy's own one added (in order, when all are numbers) if missing."""
    if current is None or current in values:
        return values
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in [*values, current])
    return sorted([*values, current]) if numbers else [*values, current]


def run_sweep(options: AuditOptions, knob: str, values: list[Any],
              on_progress: ProgressCallback | None = None, on_stage: StageCallback | None = None) -> SweepResult:
    """The policy's variants across the knob (its own value always among them), projected on the
    same priced requests."""
    assert len(options.policy_paths) == 1
    document = load_yaml(options.policy_paths[0])
    path = knob_path(knob)
    if not path:
        raise UsageError("--knob: a dotted path into the policy, e.g. cascades.0.escalate_rate")
    current = current_value(document.data, path)
    values = with_candidate(values, current)
    book = price_book(options)
    name = PolicyParser(document, book).policy().name
    audit = run_audit(dataclasses.replace(options, policy_paths=[]), on_progress,
                      policies=variants(document, path, knob, values, book), book=book, on_stage=on_stage)
    projections = audit.report.policies
    logged_model = audit.priced.requests["model_id"]
    points = [_point(value, value == current, projection, logged_model, options.replay_store is not None)
              for value, projection in zip(values, projections, strict=True)]
    baseline = projections[0].baseline_cost_usd if projections else 0.0
    apgr, note = apgr_score(baseline, points)
    return SweepResult(name, knob, baseline, points, apgr, note, options.replay_store)


def _point(value: Any, candidate: bool, projection: PolicyProjection, logged_model: pl.Series,
           judged: bool) -> SweepPoint:
    rows = projection.rows.with_columns(logged_model=logged_model).filter(pl.col("projected_cost_usd").is_not_null())
    moved = rows.filter(pl.col("routed_model").cast(pl.String) != pl.col("logged_model"))
    per_category = moved.group_by(pl.col("category").cast(pl.String)).agg(
        moved=pl.len(), kept_cheap=(1 - pl.col("escalate_rate").fill_null(0.0)).sum())
    priced = rows.height
    quality = low = high = None
    unjudged = 0
    if judged and priced:
        qualities = {row.category: row.quality for row in projection.categories}
        total = total_low = total_high = 0.0
        for category, count, kept_cheap in per_category.iter_rows():
            measured = qualities.get(category)
            if measured is None or measured.delta is None or measured.ci_low is None or measured.ci_high is None:
                unjudged += count
                continue
            total += kept_cheap * measured.delta
            total_low += kept_cheap * measured.ci_low
            total_high += kept_cheap * measured.ci_high
        if not unjudged:
            quality, low, high = total / priced, total_low / priced, total_high / priced
    return SweepPoint(value, candidate, projection.cost_usd, projection.savings_pct,
                      100 * moved.height / priced if priced else 0.0, quality, low, high, unjudged)


def apgr_score(baseline_cost: float, points: list[SweepPoint]) -> tuple[float | None, str]:
    """APGR of the curve (see the module docstring), or None and why not."""
    judged = [(point.cost_usd, point.quality) for point in points if point.quality is not None]
    if not judged:
        return None, "no quality measured: run `routecost replay` for the policy and pass --replay"
    weak_cost, weak_quality = min(judged)
    strong_cost, strong_quality = baseline_cost, 0.0
    if strong_cost - weak_cost <= 0:
        return None, "no variant is cheaper than the logged traffic"
    if strong_quality - weak_quality <= 0:
        return None, "the cheapest variant loses no quality: nothing to recover (every variant is as good as logged)"
    points_on_plane = {((cost - weak_cost) / (strong_cost - weak_cost),
                        (quality - weak_quality) / (strong_quality - weak_quality)) for cost, quality in judged}
    hull = upper_hull(sorted({point for point in points_on_plane if point[0] <= 1.0} | {(0.0, 0.0), (1.0, 1.0)}))
    area, best = 0.0, hull[0][1]
    for (x0, _), (x1, y1) in itertools.pairwise(hull):
        top = max(best, y1)
        area += (x1 - x0) * (best + top) / 2
        best = top
    return area, ""


def upper_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The upper convex hull of points sorted by x (Andrew's monotone chain)."""
    hull: list[tuple[float, float]] = []
    for point in points:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], point) >= 0:
            hull.pop()
        hull.append(point)
    return hull


def _cross(origin: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - origin[0]) * (b[1] - origin[1]) - (a[1] - origin[1]) * (b[0] - origin[0])
