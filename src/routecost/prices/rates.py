"""A model's prices as flat per-unit rates, one per kind of billed unit, ready for vectorized math.

genai-prices prices a usage by splitting it into leaves (uncached input = input - cache read -
cache write, ...) and charging each leaf at the price of its most specific priced unit: cache
reads fall back to the input price when a model has no cache-read price, 1-hour writes to the
generic cache-write price, and so on. ``rate_card`` resolves that fallback once per model and
date, so a million requests are priced with a handful of multiplications instead of a million
calls. Long-context tiers are "cliffs": past a threshold of total input tokens, every token of
the request is charged the tier's price; a card keeps one set of rates per band.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from genai_prices.types import ModelPrice, TieredPrices
from genai_prices.units import UnitDef, _get_registry

RATE_CLASSES: dict[str, str] = {
    "uncached_input": "input_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write_5m": "cache_write_5m_tokens",
    "cache_write_1h": "cache_write_1h_tokens",
    "output": "output_tokens",
    "reasoning": "output_reasoning_tokens",
    "web_search": "web_searches",
    "file_search": "storage_searches",
    "request": "requests",
}
"""Each kind of billed unit routecost counts, and the genai-prices usage key it is priced as."""

FEE_RATE_CLASSES = ("grounding", "request_low", "request_medium", "web_search_preview", "code_container")
"""Per-call fees the catalog does not carry (``fees.py``)."""
ALL_RATE_CLASSES = (*RATE_CLASSES, *FEE_RATE_CLASSES)

TOKEN_RATE_CLASSES = ("uncached_input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")


@dataclass(frozen=True)
class RateCard:
    """USD per unit for each rate class, per long-context band.

    Band 0 applies up to ``thresholds[0]`` total input tokens, band 1 above it, and so on.
    """

    thresholds: tuple[int, ...]
    rates: Mapping[str, tuple[float, ...]]

    def rate(self, rate_class: str, band: int = 0) -> float:
        return self.rates[rate_class][band]

    def scaled(self, factors: Mapping[str, float]) -> RateCard:
        """The same card with some classes' rates multiplied (a discount, a batch factor)."""
        return RateCard(
            thresholds=self.thresholds,
            rates={
                rate_class: tuple(rate * factors.get(rate_class, 1.0) for rate in rates)
                for rate_class, rates in self.rates.items()
            },
        )

    def with_fees(self, fees: Mapping[str, float]) -> RateCard:
        """The same card with per-call fees filled in where it has none of its own."""
        rates = dict(self.rates)
        for rate_class, fee in fees.items():
            if not any(rates.get(rate_class, ())):
                rates[rate_class] = (fee,) * (len(self.thresholds) + 1)
        return RateCard(thresholds=self.thresholds, rates=rates)

    def ratio_to(self, other: RateCard) -> dict[str, float]:
        """Per-class ratio of this card's base-band rates to another's (1 where the other is free)."""
        return {
            rate_class: (rates[0] / other.rates[rate_class][0]) if other.rates[rate_class][0] else 1.0
            for rate_class, rates in self.rates.items()
        }


def flat_card(rates_per_unit: Mapping[str, float]) -> RateCard:
    """A card without tiers, from per-unit rates (missing classes fall back like the catalog's)."""
    input_rate = rates_per_unit.get("uncached_input", 0.0)
    cache_write = rates_per_unit.get("cache_write_5m", input_rate)
    output_rate = rates_per_unit.get("output", 0.0)
    resolved = {
        "uncached_input": input_rate,
        "cache_read": rates_per_unit.get("cache_read", input_rate),
        "cache_write_5m": cache_write,
        "cache_write_1h": rates_per_unit.get("cache_write_1h", cache_write),
        "output": output_rate,
        "reasoning": rates_per_unit.get("reasoning", output_rate),
        "web_search": rates_per_unit.get("web_search", 0.0),
        "request": rates_per_unit.get("request", 0.0),
        "file_search": rates_per_unit.get("file_search", 0.0),
        **{rate_class: rates_per_unit.get(rate_class, 0.0) for rate_class in FEE_RATE_CLASSES},
    }
    return RateCard(thresholds=(), rates={rate_class: (rate,) for rate_class, rate in resolved.items()})


def tier_starts(prices: Iterable[object]) -> set[int]:
    """The token counts at which any of these prices steps to another tier."""
    return {tier.start for price in prices if isinstance(price, TieredPrices) for tier in price.tiers}


def rate_card(model_price: ModelPrice) -> RateCard:
    """Per-unit rates of a genai-prices ``ModelPrice``, with its fallbacks and tiers resolved."""
    registry = _get_registry()
    priced = {
        unit.usage_key: price
        for unit in registry.units.values()
        if (price := getattr(model_price, unit.price_key)) is not None
    }
    thresholds = tuple(sorted(tier_starts(priced.values())))
    rates: dict[str, tuple[float, ...]] = {}
    for rate_class, usage_key in RATE_CLASSES.items():
        unit = _most_specific_priced(registry.units[usage_key], priced, registry.ancestor_usage_keys(usage_key))
        if unit is None:
            rates[rate_class] = (0.0,) * (len(thresholds) + 1)
            continue
        price = priced[unit.usage_key]
        rates[rate_class] = tuple(
            float(_price_in_band(price, band_start) / unit.per) for band_start in (-1, *thresholds)
        )
    rates.update((rate_class, (0.0,) * (len(thresholds) + 1)) for rate_class in FEE_RATE_CLASSES)
    return RateCard(thresholds=thresholds, rates=rates)


def _most_specific_priced(
    unit: UnitDef, priced: Mapping[str, Decimal | TieredPrices], ancestors: frozenset[str]
) -> UnitDef | None:
    registry = _get_registry()
    candidates = [registry.units[key] for key in (unit.usage_key, *ancestors) if key in priced]
    return max(candidates, key=lambda candidate: len(candidate.dimensions), default=None)


def _price_in_band(price: Decimal | TieredPrices, band_start: int) -> Decimal:
    """The price that applies when total input is just above ``band_start`` (the tier cliff rule)."""
    if not isinstance(price, TieredPrices):
        return price
    applicable = price.base
    for tier in price.tiers:
        if band_start >= tier.start:
            applicable = tier.price
    return applicable
