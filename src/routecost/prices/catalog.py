"""The price book: which priced model a logged model string is, and its rates on a given date.

Model strings come in many spellings (research/log-formats.md §5): dated snapshots, provider
prefixes (``openai/``, ``bedrock/``, ``vertex_ai/``), Bedrock region prefixes, OpenRouter slugs,
Azure deployment names, fine-tunes. They resolve in this order: the user's alias, the user's own
model prices, then the genai-prices catalog with the logged provider, with a LiteLLM-style
``provider/model`` split, and finally with the provider guessed from the model name. What does not
resolve is unpriced, never $0.

Batch, flex and priority prices: the catalog carries them as variants that only apply from their
start date (2026-10-12/14 for most models) and silently falls back to standard prices before it.
Providers gave these discounts long before, so an older batch request is priced at the standard
price of its day times the catalog's own variant/standard ratio (taken at the variant's start),
and a model with no variant at all gets the provider's published factor (``DEFAULT_FACTORS``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cached_property
from pathlib import Path

from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    PriceVariant,
    Provider,
    StartDateConstraint,
    TimeOfDateConstraint,
)

from routecost.errors import UsageError
from routecost.prices.fees import corrected, correction_for, fee_rates
from routecost.prices.rates import TOKEN_RATE_CLASSES, RateCard, flat_card, rate_card, tier_starts
from routecost.prices.self_hosted import SELF_HOSTED, SelfHostedTier
from routecost.prices.userfile import NO_USER_PRICES, CustomModel, UserPrices

STANDARD = "standard"
BATCH = "batch"
FLEX = "flex"
PRIORITY = "priority"

PRICE_CONTEXTS: dict[str, dict[str, str]] = {
    BATCH: {"processing": "batch"},
    FLEX: {"service_tier": "flex"},
    PRIORITY: {"service_tier": "priority"},
}

_HALF_PRICE = dict.fromkeys(TOKEN_RATE_CLASSES, 0.5)
DEFAULT_FACTORS: dict[tuple[str, str], dict[str, float]] = {
    **{
        (provider, BATCH): _HALF_PRICE
        for provider in ("openai", "azure", "anthropic", "aws", "mistral", "groq", "together", "x-ai")
    },
    ("google", BATCH): {**_HALF_PRICE, "cache_read": 1.0},
    ("openai", FLEX): _HALF_PRICE,
    ("azure", FLEX): _HALF_PRICE,
}
"""Published discounts for models the catalog has no variant for: batch APIs are 50% off (Gemini's
batch discount does not stack with its cache discount), OpenAI flex processing is 50% off."""

SELF_HOSTED_PROVIDERS = frozenset(
    {"hosted_vllm", "vllm", "ollama", "ollama_chat", "openai_compatible", "openai_like", "custom_openai",
     "llamacpp", "llama_cpp", "lm_studio", "custom", "self_hosted", "local"}
)
"""Provider names of self-hosted endpoints (compared with ``-`` read as ``_``). genai-prices would
match any provider id containing "openai" to OpenAI's prices (pitfall P6); these are only priced
through the user's price file."""


@dataclass(frozen=True)
class PricedModel:
    """A logged model resolved to something with prices: a catalog model or a user-priced one."""

    model_id: str
    provider_id: str
    info: ModelInfo | None = field(default=None, compare=False)
    custom: CustomModel | None = field(default=None, compare=False)
    discount_factor: float = 1.0

    @cached_property
    def time_of_day_boundaries(self) -> tuple[int, ...]:
        """Seconds after midnight UTC where this model's price changes within a day (off-peak hours)."""
        constraints = [*self._conditional_constraints(), *(v.constraint for v in self._variants())]
        boundaries = {
            _seconds_after_midnight(moment)
            for constraint in constraints
            if isinstance(constraint, TimeOfDateConstraint)
            for moment in (constraint.start_time, constraint.end_time)
        }
        return tuple(sorted(boundaries - {0}))

    @cached_property
    def tier_thresholds(self) -> tuple[int, ...]:
        """Every long-context threshold any of this model's prices has had (over all dates and
        variants): requests on the same side of all of them share a band on every price sheet."""
        return tuple(sorted(set().union(*(tier_starts(prices.__dict__.values()) for prices in self._all_prices()))))

    def _all_prices(self) -> list[ModelPrice]:
        if self.info is None:
            return []
        prices = self.info.prices
        listed = [prices] if isinstance(prices, ModelPrice) else [conditional.prices for conditional in prices]
        return listed + [variant.prices for variant in self._variants()]

    @cached_property
    def date_dependent(self) -> bool:
        """Whether the price depends on the request's date (price changes, dated variants, corrections)."""
        constraints = [*self._conditional_constraints(), *(v.constraint for v in self._variants())]
        return any(isinstance(constraint, StartDateConstraint) for constraint in constraints) or (
            self.info is not None and corrected(self.provider_id, self.info.id))

    def _conditional_constraints(self) -> list[object]:
        if self.info is None or not isinstance(self.info.prices, list):
            return []
        return [conditional.constraint for conditional in self.info.prices]

    def _variants(self) -> list[PriceVariant]:
        return list(self.info.price_variants or ()) if self.info is not None else []


@dataclass(frozen=True)
class Unpriced:
    reason: str


@dataclass(frozen=True)
class PricedCard:
    """Rates for one model, instant and price context, and the assumption made to get them, if any."""

    card: RateCard
    assumption: str | None = None


class PriceBook:
    """Resolves logged models to priced ones and gives their rate cards, caching both."""

    def __init__(self, user_prices: UserPrices = NO_USER_PRICES) -> None:
        self.user_prices = user_prices
        self._snapshot = get_snapshot()
        self._resolved: dict[tuple[str | None, str], PricedModel | Unpriced] = {}
        self._by_id: dict[str, PricedModel] = {}
        self._cards: dict[tuple[str, datetime, str], PricedCard] = {}

    @property
    def catalog_version(self) -> str:
        from importlib.metadata import version

        catalog = f"genai-prices {version('genai-prices')}"
        prices = self.user_prices
        if prices.source is None:
            return catalog
        return f"{catalog} + {Path(prices.source).name}#{prices.digest}"

    def resolve(self, provider_hint: str | None, model: str) -> PricedModel | Unpriced:
        key = (provider_hint, model)
        if key not in self._resolved:
            resolved = self._resolve(provider_hint, model)
            self._resolved[key] = resolved
            if isinstance(resolved, PricedModel):
                self._by_id.setdefault(resolved.model_id, resolved)
        return self._resolved[key]

    def model(self, model_id: str) -> PricedModel | Unpriced:
        """A priced model by its id (``provider/model``, as reports show it) or by any name that resolves."""
        known = self._by_id.get(model_id)
        return known if known is not None else self.resolve(None, model_id)

    def priced_models(self, model_ids: Sequence[str]) -> list[PricedModel]:
        """``model`` for models a user named as targets: one that has no price is a usage error."""
        priced: list[PricedModel] = []
        for model_id in model_ids:
            model = self.model(model_id)
            if isinstance(model, Unpriced):
                raise UsageError(f"{model_id}: {model.reason}")
            priced.append(model)
        return priced

    def catalog_models(self, providers: Collection[str] | None) -> list[PricedModel]:
        """Every model the catalog sells through these providers (all with None; ids as
        ``provider/model``), deprecated ones left out; each can then be looked up by its id (``model``)."""
        models = []
        for provider in self._snapshot.providers:
            if providers is not None and provider.id not in providers:
                continue
            for info in provider.models:
                if info.deprecated:
                    continue
                model = self._catalog_model(provider, info)
                self._by_id.setdefault(model.model_id, model)
                models.append(self._by_id[model.model_id])
        return models

    def sellers(self, model: str) -> list[PricedModel]:
        """Every provider the catalog says sells ``model`` (named bare, or with any provider prefix),
        each as its own priced model: an open-weight model on several hosts, one model on its maker's
        API and on a cloud's."""
        name = model.strip()
        prefix, _, bare = name.partition("/")
        if bare:
            try:
                self._snapshot.find_provider(None, prefix, None)
                name = bare
            except LookupError:  # a slash inside the name (meta-llama/Llama-3.3-70B-Instruct)
                pass
        sellers = []
        for provider in self._snapshot.providers:
            try:
                found, info = self._snapshot.find_provider_model(name, None, provider.id, None)
            except LookupError:
                continue
            if found.id == provider.id and not info.deprecated:  # not a fallback to another provider
                priced = self._catalog_model(found, info)
                sellers.append(self._by_id.setdefault(priced.model_id, priced))
        return sellers

    def add_self_hosted(self, tier: SelfHostedTier) -> PricedModel:
        """A policy's self-hosted tier as a model routes can name (``self_hosted/<name>``), priced at
        its effective rate; two policies of one run may not give one name two different fleets."""
        model = PricedModel(model_id=tier.model_id, provider_id=SELF_HOSTED,
                            custom=CustomModel(name=tier.model_id, rates_per_unit=tier.rates_per_unit))
        known = self._by_id.get(tier.model_id)
        if known is not None and (known.custom is None or known.custom.rates_per_unit != tier.rates_per_unit):
            raise UsageError(f"{tier.model_id} is already a model with other prices (another policy's self-hosted "
                             "tier?): give this tier another name")
        self._by_id[tier.model_id] = model
        return model

    def _resolve(self, provider_hint: str | None, model: str) -> PricedModel | Unpriced:
        name = model.strip()
        hint = provider_hint.strip().lower() if provider_hint else None
        alias = self.user_prices.alias_for(name)
        if alias is not None:
            name, hint = alias, None
        custom = self.user_prices.custom_model(name)
        if custom is not None:
            return PricedModel(model_id=custom.name, provider_id="custom", custom=custom)
        prefix = name.split("/", 1)[0].lower() if "/" in name else None
        self_hosted = next(
            (label for label in (hint, prefix) if label and label.replace("-", "_") in SELF_HOSTED_PROVIDERS), None
        )
        if self_hosted is not None:
            return Unpriced(f"self-hosted provider {self_hosted!r}: price the model in a --prices file")
        for ref, provider_id in _lookup_candidates(name, hint):
            try:
                provider, info = self._snapshot.find_provider_model(ref, None, provider_id, None)
            except LookupError:
                continue
            return self._catalog_model(provider, info)
        if hint == "azure":
            return Unpriced("Azure deployment name not in the catalog: map it with an alias in a --prices file")
        return Unpriced("not in the price catalog: add an alias or a price in a --prices file")

    def _catalog_model(self, provider: Provider, info: ModelInfo) -> PricedModel:
        return PricedModel(
            model_id=f"{provider.id}/{info.id}",
            provider_id=provider.id,
            info=info,
            discount_factor=self.user_prices.discount_factor(provider.id, info.id.lower()),
        )

    def card(self, model: PricedModel, when: datetime, context: str = STANDARD) -> PricedCard:
        """The model's rates at ``when`` (timezone-aware) under a price context (cached: the
        baseline, every policy and every reference ask for the same few cards)."""
        key = (model.model_id, when, context)
        if key not in self._cards:
            self._cards[key] = self._card(model, when, context)
        return self._cards[key]

    def _card(self, model: PricedModel, when: datetime, context: str) -> PricedCard:
        if model.custom is not None:
            return PricedCard(flat_card(model.custom.rates_per_unit))
        priced = self._catalog_card(model, when, context)
        assert model.info is not None
        fees = fee_rates(model.provider_id, model.info.id, when)
        if fees:
            priced = PricedCard(priced.card.with_fees(fees), priced.assumption)
        if model.discount_factor == 1.0:
            return priced
        discount = dict.fromkeys(priced.card.rates, model.discount_factor)
        return PricedCard(priced.card.scaled(discount), priced.assumption)

    def _catalog_card(self, model: PricedModel, when: datetime, context: str) -> PricedCard:
        assert model.info is not None
        info = model.info
        correction = correction_for(model.provider_id, info.id, when)
        standard = rate_card(info.get_prices(when)) if correction is None else flat_card(
            {"uncached_input": correction.input_mtok / 1e6, "cache_read": correction.cache_read_mtok / 1e6,
             "output": correction.output_mtok / 1e6})
        if context == STANDARD:
            return PricedCard(standard)
        if correction is not None:
            factors = DEFAULT_FACTORS.get((model.provider_id, context))
            return PricedCard(standard.scaled(factors or {}),
                              f"{context} requests on {model.model_id}: priced from its {correction.since:%Y-%m-%d} "
                              "price change (not in the catalog)"
                              + (f" with {model.provider_id}'s published {context} discount" if factors else
                                 f"; no {context} discount known"))
        price_context = PRICE_CONTEXTS[context]
        variants = [
            variant for variant in info.price_variants or ()
            if all(price_context.get(key) == value for key, value in variant.when.items())
        ]
        if any(variant.constraint is None or variant.constraint.active(when) for variant in variants):
            return PricedCard(rate_card(info.get_prices(when, price_context)))
        starts = [v.constraint.start_date for v in variants if isinstance(v.constraint, StartDateConstraint)]
        if starts:
            start = _start_of(min(starts))
            ratio = rate_card(info.get_prices(start, price_context)).ratio_to(rate_card(info.get_prices(start)))
            return PricedCard(
                standard.scaled(ratio),
                f"{context} requests before {min(starts)} on {model.model_id}: standard price of their day "
                f"times the catalog's {context}/standard ratio",
            )
        factors = DEFAULT_FACTORS.get((model.provider_id, context))
        if factors is not None:
            return PricedCard(
                standard.scaled(factors),
                f"{context} requests on {model.model_id}: the catalog has no {context} price; "
                f"applied {model.provider_id}'s published {context} discount",
            )
        return PricedCard(standard, f"{context} requests on {model.model_id}: no {context} price known; "
                                    "priced at the standard rate")


def _lookup_candidates(name: str, hint: str | None) -> list[tuple[str, str | None]]:
    """(model ref, provider id) pairs to try in the catalog, most specific first."""
    candidates: list[tuple[str, str | None]] = []
    if hint:
        candidates.append((name, hint))
    if "/" in name:
        candidates.append((name, "litellm"))
    if name.lower().startswith("ft:"):
        candidates.append((name, "openai"))
    candidates.append((name, None))
    if name.startswith("models/"):
        candidates.append((name.removeprefix("models/"), hint))
    if "/models/" in name:  # a Vertex AI resource name: projects/P/locations/L/publishers/google/models/M
        candidates.append((name.rsplit("/models/", 1)[1], hint or "google"))
    return candidates


def _seconds_after_midnight(moment: time) -> int:
    if moment.tzinfo is not None:
        moment = datetime.combine(date(1970, 1, 1), moment).astimezone(UTC).time()
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
