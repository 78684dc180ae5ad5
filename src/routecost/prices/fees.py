"""Published prices the price catalog does not carry yet, each with the day it starts and where it
is published: per-call fees for tool calls a provider bills on top of the tokens (the catalog's own
price wins where it has one: these fill gaps), and price changes the catalog has not caught up with
(these override it from their start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Fee:
    provider: str
    rate_class: str
    usd_per_call: float
    since: datetime
    source: str
    models: str = ".*"
    """A regex on the catalog's model id (without the provider): which of the provider's models."""


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


FEES: tuple[Fee, ...] = (
    Fee("openai", "web_search_preview", 25.00 / 1000, _day("2025-03-11"),
        "openai.com/api/pricing: web search preview on non-reasoning models $25.00 / 1k calls, search content "
        "tokens free (the Chat Completions search models search on every request)",
        models=r"(gpt-4o|gpt-4\.1|chatgpt-4o)"),
    Fee("openai", "web_search_preview", 10.00 / 1000, _day("2025-03-11"),
        "openai.com/api/pricing: web search preview on reasoning models $10.00 / 1k calls"),
    Fee("openai", "code_container", 0.03, _day("2025-03-11"),
        "openai.com/api/pricing: Code Interpreter $0.03 per container"),
    Fee("openai", "web_search", 10.00 / 1000, _day("2025-03-11"),
        "openai.com/api/pricing: web search tool calls $10.00 / 1k calls (search content tokens billed as input)"),
    Fee("openai", "file_search", 2.50 / 1000, _day("2025-03-11"),
        "openai.com/api/pricing: file search tool calls $2.50 / 1k calls"),
    Fee("azure", "file_search", 2.50 / 1000, _day("2025-03-11"),
        "Azure OpenAI pricing: file search tool calls $2.50 / 1k calls"),
    Fee("google", "grounding", 35.00 / 1000, _day("2025-01-01"),
        "ai.google.dev/gemini-api/docs/pricing: Grounding with Google Search $35 / 1,000 grounded prompts "
        "(paid tier, after the daily free allowance)", models=r"gemini-(1\.5|2\.0|2\.5)"),
    *(Fee("perplexity", rate_class, usd / 1000, _day("2025-04-01"),
          "docs.perplexity.ai/getting-started/pricing: request fee per 1,000 requests by search context size "
          "(low, medium; high is the catalog's request fee)", models=models)
      for models, fees in ((r"sonar(-reasoning)?$", {"request_low": 5.0, "request_medium": 8.0}),
                           (r"sonar-(pro|reasoning-pro)$", {"request_low": 6.0, "request_medium": 10.0}))
      for rate_class, usd in fees.items()),
    Fee("anthropic", "web_search", 10.00 / 1000, _day("2025-05-07"),
        "anthropic.com/pricing: web search $10 / 1,000 searches"),
)

FREE_ALLOWANCE_NOTE = {
    "grounding": "Gemini's first 1,500 grounded prompts a day are free on the paid tier; routecost bills every one",
}


def _applies(entry: Fee | PriceCorrection, provider_id: str, model_id: str) -> bool:
    return entry.provider == provider_id and re.match(entry.models, model_id) is not None


def fee_rates(provider_id: str, model_id: str, when: datetime) -> dict[str, float]:
    """The per-call fee of each rate class for a model at an instant (first match wins)."""
    rates: dict[str, float] = {}
    for fee in FEES:
        if fee.since <= when and fee.rate_class not in rates and _applies(fee, provider_id, model_id):
            rates[fee.rate_class] = fee.usd_per_call
    return rates


@dataclass(frozen=True)
class PriceCorrection:
    """A published price change the catalog does not have yet: from ``since`` on, the model's token
    prices are these (USD per million tokens), whatever the catalog says."""

    provider: str
    models: str
    """A regex on the catalog's model id (without the provider)."""
    since: datetime
    until: datetime
    """Where the catalog is right again (its next dated price for the provider): only the gap is corrected."""
    input_mtok: float
    cache_read_mtok: float
    output_mtok: float
    source: str


CORRECTIONS: tuple[PriceCorrection, ...] = (
    PriceCorrection("deepseek", r"deepseek-(chat|reasoner)$", datetime(2025, 9, 29, 16, 0, tzinfo=UTC),
                    _day("2026-08-17"), 0.28, 0.028, 0.42,
                    "api-docs.deepseek.com/quick_start/pricing: DeepSeek-V3.2 serves deepseek-chat and "
                    "deepseek-reasoner at $0.28 input (cache miss), $0.028 cache hit, $0.42 output per 1M tokens "
                    "from 2025-09-29 16:00 UTC; no off-peak discount since 2025-09-05 (the catalog's next DeepSeek "
                    "price change is 2026-08-17)"),
)


def correction_for(provider_id: str, model_id: str, when: datetime) -> PriceCorrection | None:
    """The correction in force for a model at an instant, if any (the latest that has started)."""
    started = [correction for correction in CORRECTIONS
               if correction.since <= when < correction.until and _applies(correction, provider_id, model_id)]
    return max(started, key=lambda correction: correction.since, default=None)


def corrected(provider_id: str, model_id: str) -> bool:
    """Whether a model has corrections (its price then depends on the request's date)."""
    return any(_applies(correction, provider_id, model_id) for correction in CORRECTIONS)
