"""What a replay store says, per category: quality deltas, output-length ratios, escalation rates.

Everything is read back from the store, so a report covers every run so far, and ``audit --replay``
can match stored calls to the requests a policy moves: a stored candidate counts for a request
when it was logged at the same place (file and byte offset) and sent to the model the policy now
routes it to.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from routecost.quality import Interval, Quality, quality, ratio_interval, share_interval, unmeasured
from routecost.replay.checks import (
    CHECK,
    CheckCall,
    JudgeCheck,
    category_flips,
    is_flip,
    judge_check,
    unmeasured_reason,
)
from routecost.replay.client import turns
from routecost.replay.judge import (
    CANDIDATE,
    CANDIDATE_FIRST,
    LOGGED,
    LOGGED_FIRST,
    PAIRWISE,
    RUBRIC,
    RUBRIC_CANDIDATE,
    RUBRIC_LOGGED,
    TIE,
    UNPARSED,
    pairwise_outcome,
    rubric_outcome,
)
from routecost.replay.store import CallRecord, ReplayStore, request_digest
from routecost.sources.texts import TextRef, read_texts


@dataclass(frozen=True)
class Judged:
    """One candidate's result: ``candidate``, ``logged``, ``tie`` or ``unparsed``, and its paired score."""

    outcome: str
    score: float | None
    mode: str
    flipped: bool = False
    """Pairwise: the two orders named opposite winners (the verdict followed the position)."""


@dataclass(frozen=True)
class CategoryResult:
    category: str
    sampled: int
    answered: int
    failed: int
    quality: Quality
    output_ratios: dict[str, Interval]
    """Candidate output tokens over logged output tokens, per target model (ratio of sums)."""
    escalation: Interval | None
    """For cascades: the share of judged first tries whose answer lost to the logged one (None when
    the judge's verdicts are not trusted)."""
    cost_usd: float
    judge_failed: int = 0
    """Judge calls that failed (after their retries): their requests have no verdict yet."""
    errors: tuple[str, ...] = ()
    """The first distinct errors of the category's failed calls (credentials redacted)."""

    @property
    def escalation_rate(self) -> float | None:
        return None if self.escalation is None else self.escalation.point


@dataclass(frozen=True)
class JudgeConfig:
    model: str
    template: str


@dataclass(frozen=True)
class Verdicts:
    """One judge's results (under one template): each judged candidate's, and the judge's checks."""

    judged: dict[str, Judged]
    check: JudgeCheck | None

    @property
    def unmeasured(self) -> str | None:
        return unmeasured_reason(self.check) if self.judged else None


def verdicts(records: Iterable[CallRecord], config: JudgeConfig | None = None) -> Verdicts:
    """The verdicts of one judge and template (by default the one that judged the most candidates)."""
    records = list(records)
    judge_rows = [record for record in records if record.kind == "judge" and record.ok]
    if config is None:
        counts = Counter(JudgeConfig(record.model, record.template or "") for record in judge_rows)
        if not counts:
            return Verdicts({}, None)
        config = counts.most_common(1)[0][0]
    judged = _judged([record for record in judge_rows
                      if record.model == config.model and record.template == config.template])
    pairs = [verdict for verdict in judged.values() if verdict.mode == PAIRWISE and verdict.outcome != UNPARSED]
    checks = [CheckCall(record.candidate_key or "", record.position or "", record.verdict, record.score)
              for record in records
              if record.kind == CHECK and record.ok and record.model == config.model
              and record.template == config.template]
    mode = next(iter(judged.values())).mode if judged else PAIRWISE
    return Verdicts(judged, judge_check(checks, mode, len(pairs), sum(verdict.flipped for verdict in pairs)))


def _judged(chosen: Sequence[CallRecord]) -> dict[str, Judged]:
    by_candidate: dict[str, dict[str, CallRecord]] = defaultdict(dict)
    logged_scores: dict[str, float | None] = {}
    for record in chosen:
        if record.position == RUBRIC_LOGGED:
            logged_scores[record.request] = record.score
        elif record.candidate_key is not None and record.position is not None:
            by_candidate[record.candidate_key][record.position] = record
    results: dict[str, Judged] = {}
    for candidate_key, positions in by_candidate.items():
        if LOGGED_FIRST in positions or CANDIDATE_FIRST in positions:
            first, second = positions.get(LOGGED_FIRST), positions.get(CANDIDATE_FIRST)
            if first is None or second is None:
                continue  # the other order is still to come
            outcome = pairwise_outcome(first.verdict, second.verdict)
            results[candidate_key] = Judged(outcome, {CANDIDATE: 1.0, LOGGED: -1.0, TIE: 0.0}.get(outcome), PAIRWISE,
                                            is_flip(first.verdict, second.verdict))
            continue
        scored = positions.get(RUBRIC_CANDIDATE)
        if scored is None or scored.request not in logged_scores:
            continue
        logged = logged_scores[scored.request]
        outcome = rubric_outcome(scored.score, logged)
        results[candidate_key] = Judged(outcome, None if outcome == UNPARSED else scored.score - logged,  # type: ignore[operator]
                                         RUBRIC)
    return results


MAX_ERRORS = 2


def summarize(candidates: Sequence[CallRecord], judge: Verdicts, escalating: set[str],
              spend: Mapping[str, float], sampled: Mapping[str, int], width: float,
              failed_judgments: Sequence[CallRecord] = ()) -> list[CategoryResult]:
    """Per category: the candidates' results. ``escalating`` holds the keys of cascade first tries;
    ``spend`` is the replay's cost per category, ``sampled`` how many requests each had drawn;
    ``failed_judgments`` the judge calls that failed. Under a judge that failed its checks (or whose
    verdicts in the category follow the order), quality is unmeasured and no escalation rate is read
    from its verdicts."""
    judged = judge.judged
    judge_failures: dict[str, list[CallRecord]] = defaultdict(list)
    for record in failed_judgments:
        judge_failures[record.category or "uncategorized"].append(record)
    by_category: dict[str, list[CallRecord]] = defaultdict(list)
    for record in candidates:
        by_category[record.category or "uncategorized"].append(record)
    results = []
    for category in sorted(set(by_category) | set(sampled) | set(judge_failures)):
        records = by_category.get(category, [])
        failures = [record for record in records if not record.ok] + judge_failures.get(category, [])
        answered = [record for record in records if record.ok]
        verdicts = [judged[record.key] for record in answered if record.key in judged]
        scores = [verdict.score for verdict in verdicts if verdict.score is not None]
        unparsed = sum(verdict.outcome == UNPARSED for verdict in verdicts)
        tried = [judged[record.key] for record in answered if record.key in escalating and record.key in judged]
        tried = [verdict for verdict in tried if verdict.outcome != UNPARSED]
        measured = quality(scores, unparsed, width, judge_mode=verdicts[0].mode if verdicts else None)
        pairs = [verdict for verdict in verdicts if verdict.mode == PAIRWISE and verdict.outcome != UNPARSED]
        distrust = judge.unmeasured or category_flips(len(pairs), sum(verdict.flipped for verdict in pairs))
        if distrust and measured.n:
            measured, tried = unmeasured(measured, distrust), []
        results.append(CategoryResult(
            category=category, sampled=sampled.get(category, len(records)), answered=len(answered),
            failed=len(records) - len(answered), quality=measured, output_ratios=_output_ratios(answered),
            escalation=share_interval(sum(verdict.outcome == LOGGED for verdict in tried), len(tried)) if tried else None,
            cost_usd=spend.get(category, 0.0),
            judge_failed=len(judge_failures.get(category, [])),
            errors=tuple(dict.fromkeys(record.error for record in failures if record.error))[:MAX_ERRORS],
        ))
    return results


@dataclass(frozen=True)
class EndpointResult:
    """The calls stored for one endpoint: how many, how many failed, and the first errors."""

    name: str
    calls: int
    failed: int
    errors: tuple[str, ...]


def by_endpoint(records: Iterable[CallRecord], endpoint_of: Mapping[str, str]) -> list[EndpointResult]:
    """Per endpoint (``endpoint_of`` names each model's), its calls: a wrong key or URL shows here
    once, rather than in every category."""
    grouped: dict[str, list[CallRecord]] = defaultdict(list)
    for record in records:
        grouped[endpoint_of.get(record.model, record.model)].append(record)
    return [EndpointResult(name, len(calls), sum(not call.ok for call in calls),
                           tuple(dict.fromkeys(call.error for call in calls if call.error))[:MAX_ERRORS])
            for name, calls in sorted(grouped.items())]


def _output_ratios(answered: Sequence[CallRecord]) -> dict[str, Interval]:
    pairs: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for record in answered:
        if record.output_tokens is not None and record.logged_output_tokens:
            pairs[record.model].append((record.output_tokens, record.logged_output_tokens))
    return {model: ratio_interval(values) for model, values in pairs.items()}


def spend_by_category(records: Iterable[CallRecord]) -> dict[str, float]:
    costs: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.cost_usd is not None:
            costs[record.category or "uncategorized"].append(record.cost_usd)
    return {category: usd_total(values) for category, values in costs.items()}


USD_DIGITS = 12
"""Money sums are rounded to a nano-cent: below any price, above float noise (0.1 + 0.2 is 0.3 here,
whatever order a resumed run read its calls in)."""


def usd_total(values: Iterable[float]) -> float:
    return round_usd(math.fsum(values))


def round_usd(amount: float) -> float:
    return round(amount, USD_DIGITS)


@dataclass(frozen=True)
class Measured:
    """What replay measured for one policy, matched to its requests."""

    categories: dict[str, CategoryResult]
    output_ratios: dict[tuple[str, str], Interval]
    escalation_rates: dict[str, Interval]
    check: JudgeCheck | None


def _found_by_content(stored: StoredReplay, frame: pl.DataFrame, taken: set[CallRecord]) -> dict[int, CallRecord]:
    """Stored candidates not found where they were logged, matched by the request's content: only
    rows of the same logged model, target and output length are read back and digested."""
    waiting = [record for record in stored.candidates.values() if record not in taken]
    wanted = {(record.logged_model, record.target_model, record.logged_output_tokens) for record in waiting}
    if not wanted:
        return {}
    by_request = {(record.request, record.target_model): record for record in waiting}
    keys = pl.struct(pl.col("model_id").cast(pl.String), "routed_model", pl.col("output_tokens").cast(pl.Int64))
    shortlist = frame.filter(keys.is_in([{"model_id": model, "routed_model": target, "output_tokens": tokens}
                                         for model, target, tokens in wanted]))
    found: dict[int, CallRecord] = {}
    for row, text in zip(shortlist.iter_rows(named=True), read_texts(TextRef.of(shortlist)), strict=True):
        if text is None:
            continue
        digest = request_digest(text.system, turns(text.messages), str(row["model_id"]))
        record = by_request.pop((digest, row["routed_model"]), None)
        if record is not None:
            found[row["index"]] = record
    return found


@dataclass(frozen=True)
class StoredReplay:
    """A store's candidate calls, by where their request was logged and the model they went to, and
    its judgments: read once, matched to each policy's moved requests."""

    candidates: dict[tuple[str, int, str], CallRecord]
    judge: Verdicts


def read_stored(store: ReplayStore) -> StoredReplay:
    records = list(store.records())
    candidates = {(record.source, record.byte_offset, record.target_model): record
                  for record in records
                  if record.kind == "candidate" and record.source is not None and record.byte_offset is not None}
    return StoredReplay(candidates, verdicts(records))


def measured_for_policy(stored: StoredReplay, priced: pl.DataFrame, rows: pl.DataFrame, width: float) -> Measured:
    """The stored calls for the requests this policy moves (``rows``: category, escalate_to and the
    target calls are filed under, per priced request), to the models it moves them to: found where the request was
    logged (file and offset), else by its content, as ``replay`` finds them (a log moved or
    compressed since)."""
    sources = {source: os.path.abspath(source) for source in priced["source"].unique().drop_nulls().to_list()}
    frame = priced.select(
        "source", "offset", "format", "request_source", "request_offset", "model_id", "output_tokens",
        path=pl.col("source").replace_strict(sources, default=None),
    ).hstack(rows.select(pl.col("category", "escalate_to").cast(pl.String), routed_model="filed_target")).with_row_index(
    ).filter(pl.col("offset").is_not_null())
    places = list(stored.candidates)
    where = pl.DataFrame(places, schema={"path": pl.String(), "offset": frame.schema["offset"],
                                         "routed_model": pl.String()}, orient="row").with_row_index("stored")
    logged_there = frame.join(where, on=["path", "offset", "routed_model"])
    found = {index: stored.candidates[places[position]]
             for index, position in logged_there.select("index", "stored").iter_rows()}
    found |= _found_by_content(stored, frame.filter(~pl.col("index").is_in(list(found))), set(found.values()))
    chosen = frame.filter(pl.col("index").is_in(list(found)))
    matched = [dataclasses.replace(found[index], category=category)
               for index, category in chosen.select("index", "category").iter_rows()]
    escalating = {found[index].key for index in chosen.filter(pl.col("escalate_to").is_not_null())["index"]}
    results = summarize(matched, stored.judge, escalating, {}, {}, width)
    return Measured(
        categories={result.category: result for result in results},
        output_ratios={(result.category, model): ratio for result in results
                       for model, ratio in result.output_ratios.items()},
        escalation_rates={result.category: result.escalation for result in results
                          if result.escalation is not None},
        check=stored.judge.check,
    )

