"""``routecost scout``: the catalog models that would cut each category's cost, at the logs' own mix.

For every category the logs hold, every chat model the catalog sells through the providers the team
uses (or others it names) is priced on the category's own requests, by the same counterfactual rules
as a route (``simulate/references.py``): their input carried over by tokenizer, their output as
logged, at the prices of each request's day. A model is a candidate when it cuts the category's cost
by at least ``min_cut_pct`` and its context window holds the category's largest request. The best
candidates become a ready policy, one route per category, to replay before trusting: a cheaper model
is not a good one until the judge says so.

Run again later with the last report, it says what changed since: models the catalog did not sell
then, and price changes of the models both runs considered.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from routecost.audit import Audit
from routecost.errors import UsageError
from routecost.prices.catalog import PriceBook, PricedModel
from routecost.prices.pricing import CATALOG_PRICED, billed_expr
from routecost.simulate.references import traffic_costs_on

DEFAULT_MIN_CUT_PCT = 30.0
TOP_CANDIDATES = 3
NOT_CHAT = ("embed", "tts", "whisper", "transcribe", "image", "dall-e", "moderation", "audio", "realtime",
            "computer-use", "search", "rerank", "babbage", "davinci", "curie", "ada")
"""Name parts of catalog models that are not chat models (embeddings, speech, images, legacy
completions): priced per token too, so they would look like cheap candidates."""
MTOK = 1_000_000


@dataclass(frozen=True)
class Rates:
    """A model's standard rates at the audit's date, in USD per million tokens (what a re-run compares)."""

    input: float
    output: float


@dataclass(frozen=True)
class Candidate:
    model: str
    cost_usd: float
    """The category's logged traffic on this model."""
    cut_pct: float
    rates: Rates


@dataclass(frozen=True)
class CategoryScout:
    category: str
    requests: int
    """Billed requests priced from the catalog (the ones a route can move)."""
    cost_usd: float
    largest_request_tokens: int
    candidates: list[Candidate]


@dataclass
class ScoutReport:
    categories: list[CategoryScout]
    providers: list[str]
    considered: dict[str, Rates]
    """Every model priced, with its rates."""
    min_cut_pct: float
    as_of: datetime
    catalog: str
    category_key: str
    unsized: int = 0
    """Models left out because the catalog gives no context window (nothing says a request fits)."""
    changes: list[str] = field(default_factory=list)
    """What changed since the previous report, when one was given."""


def scout(audit: Audit, *, providers: Collection[str] = (), min_cut_pct: float = DEFAULT_MIN_CUT_PCT,
          previous: Mapping[str, Any] | None = None) -> ScoutReport:
    """The candidates of every category; ``providers`` adds to those the logs use (``all``: every one)."""
    assert audit.priced is not None, "scout needs the priced requests"
    book = audit.book
    movable = audit.priced.requests.filter(CATALOG_PRICED & billed_expr())
    used = sorted({model_id.split("/", 1)[0] for model_id in movable["model_id"].unique().to_list()})
    chosen = sorted(set(used) | set(providers))
    models = [model for model in book.catalog_models(None if "all" in chosen else chosen) if _is_chat(model)]
    rates = {model.model_id: rates for model in models if (rates := _rates(book, model, audit.as_of)) is not None}
    sized = {model.model_id: model.info.context_window for model in models
             if model.model_id in rates and model.info is not None and model.info.context_window}
    categories = [
        _category(name, group, sized, rates, book, audit.as_of, min_cut_pct)
        for (name,), group in movable.group_by("category", maintain_order=True)
    ]
    categories.sort(key=lambda row: (-row.cost_usd, row.category))
    report = ScoutReport(categories=categories, providers=chosen, considered={model: rates[model] for model in sized},
                         min_cut_pct=min_cut_pct, as_of=audit.as_of, catalog=audit.report.catalog,
                         category_key=audit.report.category_key, unsized=len(rates) - len(sized))
    if previous is not None:
        report.changes = changes_since(previous, report)
    return report


def _category(name: str, requests: pl.DataFrame, sized: Mapping[str, int], rates: Mapping[str, Rates],
              book: PriceBook, as_of: datetime, min_cut_pct: float) -> CategoryScout:
    cost = float(requests["cost_usd"].sum())
    largest = int(requests.select((pl.col("input_tokens").fill_null(0) + pl.col("output_tokens").fill_null(0)).max())
                  .item() or 0)
    fitting = sorted(model for model, window in sized.items() if window >= largest)
    costs = traffic_costs_on(requests, fitting, book, as_of, book.user_prices.tokenizer_ratios) if fitting else {}
    candidates = sorted(
        (Candidate(model, amount, 100.0 * (1 - amount / cost), rates[model]) for model, amount in costs.items()
         if cost > 0 and amount <= cost * (1 - min_cut_pct / 100)),
        key=lambda candidate: (candidate.cost_usd, candidate.model),
    )
    return CategoryScout(name, requests.height, cost, largest, candidates)


def _is_chat(model: PricedModel) -> bool:
    name = model.model_id.lower()
    return not any(part in name for part in NOT_CHAT)


def _rates(book: PriceBook, model: PricedModel, as_of: datetime) -> Rates | None:
    """The model's standard input and output rates; None for a model without both (not a chat model)."""
    card = book.card(model, as_of).card
    input_rate, output_rate = card.rate("uncached_input"), card.rate("output")
    if not input_rate or not output_rate:
        return None
    return Rates(round(input_rate * MTOK, 6), round(output_rate * MTOK, 6))


def ready_policy(report: ScoutReport, name: str) -> str:
    """A policy routing each category with a candidate to its best one (``routecost policy check``
    accepts it as written); the others keep their models."""
    lines = [
        f"# Written by `routecost scout` on {report.as_of:%Y-%m-%d} ({report.catalog}): per category, the catalog",
        f"# model that cuts its cost most (at least {report.min_cut_pct:g}%) at the logs' token mix. Replay it before",
        "# trusting it:  routecost replay LOGS --policy THIS_FILE",
        f"name: {name}",
        "categories:",
        f"  - from: metadata.{report.category_key}",
        f"  - from: tag.{report.category_key}",
        "routes:",
    ]
    for row in report.categories:
        if not row.candidates:
            continue
        best, *others = row.candidates[:TOP_CANDIDATES]
        lines.append(f"  - when: {{category: {json.dumps(row.category)}}}   # -{best.cut_pct:.0f}%"
                     + (f"; also {', '.join(f'{other.model} -{other.cut_pct:.0f}%' for other in others)}"
                        if others else ""))
        lines.append(f"    to: {best.model}")
    lines += ["  - to: keep", ""]
    return "\n".join(lines)


def read_previous(path: Path) -> dict[str, Any]:
    """A report an earlier ``scout --format json`` wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a scout report ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("considered"), dict):
        raise UsageError(f"{path}: not a scout report (no `considered` models; write one with --format json)")
    return data


def changes_since(previous: Mapping[str, Any], report: ScoutReport) -> list[str]:
    """New models, and price changes of the models both reports considered; candidates that appeared."""
    before: Mapping[str, Any] = previous["considered"]
    changes = [f"new in the catalog: {model}" for model in sorted(set(report.considered) - set(before))]
    for model, rates in sorted(report.considered.items()):
        old = before.get(model)
        if not isinstance(old, dict):
            continue
        for label, now, then in (("input", rates.input, old.get("input_per_mtok")),
                                 ("output", rates.output, old.get("output_per_mtok"))):
            if isinstance(then, int | float) and abs(now - then) > 1e-9:
                changes.append(f"price change: {model} {label} ${then:g} -> ${now:g} per million tokens")
    was = {(row["category"], candidate["model"]) for row in previous.get("categories", [])
           for candidate in row.get("candidates", [])}
    changes += [f"new candidate for {row.category}: {candidate.model} (-{candidate.cut_pct:.0f}%)"
                for row in report.categories for candidate in row.candidates[:TOP_CANDIDATES]
                if (row.category, candidate.model) not in was]
    return changes
