"""The user's price file (``--prices FILE``): aliases, custom models and negotiated discounts.

    aliases:                       # logged model name (or glob) -> priced model
      my-gpt4o-deployment: azure/gpt-4o
      claude-default: anthropic/claude-sonnet-4-5
      "ft:gpt-4o-mini-2024-07-18:acme:*": openai/ft:gpt-4o-mini-2024-07-18
    models:                        # models the catalog lacks (self-hosted), USD per million tokens
      acme-llama-3-70b:
        input_mtok: 0.60
        output_mtok: 0.60
        cache_read_mtok: 0.15      # optional; defaults to input_mtok
    discounts:                     # percent off the catalog price, by provider or provider/model
      openai: 10
      anthropic/claude-sonnet-4-5: 20
    tokenizer_ratios:              # tokens per o200k token, by tokenizer family (routing projections)
      anthropic: 1.2
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routecost.tokens import TOKENIZER_DEFAULTS
from routecost.yamlfile import YamlDocument, load_yaml

_MODEL_PRICE_KEYS: dict[str, str] = {
    "input_mtok": "uncached_input",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write_5m",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_mtok": "output",
    "reasoning_mtok": "reasoning",
    "request_price": "request",
}
_TOP_LEVEL_KEYS = ("aliases", "models", "discounts", "tokenizer_ratios")


@dataclass(frozen=True)
class CustomModel:
    """A model priced by the user, in USD per unit for each rate class."""

    name: str
    rates_per_unit: Mapping[str, float]


@dataclass(frozen=True)
class UserPrices:
    aliases: Mapping[str, str] = field(default_factory=dict)
    models: Mapping[str, CustomModel] = field(default_factory=dict)
    discounts: Mapping[str, float] = field(default_factory=dict)
    tokenizer_ratios: Mapping[str, float] = field(default_factory=dict)
    source: str | None = None
    digest: str | None = None
    """The first 12 hex digits of the file's SHA-256: part of the catalog version reports carry."""

    def alias_for(self, model: str) -> str | None:
        """The priced name for a logged model: an exact alias first, then the first matching glob."""
        lowered = model.lower()
        for pattern, target in self.aliases.items():
            if pattern.lower() == lowered:
                return target
        for pattern, target in self.aliases.items():
            if any(char in pattern for char in "*?[") and fnmatch.fnmatchcase(lowered, pattern.lower()):
                return target
        return None

    def custom_model(self, model: str) -> CustomModel | None:
        lowered = model.lower()
        return next((custom for name, custom in self.models.items() if name.lower() == lowered), None)

    def discount_factor(self, provider_id: str, model_id: str) -> float:
        """Multiplier after negotiated discounts: a model's own discount wins over its provider's."""
        percent = self.discounts.get(f"{provider_id}/{model_id}", self.discounts.get(provider_id, 0.0))
        return 1.0 - percent / 100.0


NO_USER_PRICES = UserPrices()


def load_user_prices(path: str) -> UserPrices:
    document = load_yaml(path)
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise document.error((), "a price file is a YAML mapping (aliases, models, discounts, tokenizer_ratios)")
    document.check_keys((), data, _TOP_LEVEL_KEYS)
    return UserPrices(
        aliases=_aliases(document, data.get("aliases", {})),
        models=_models(document, data.get("models", {})),
        discounts=_percentages(document, "discounts", data.get("discounts", {})),
        tokenizer_ratios=_tokenizer_ratios(document, data.get("tokenizer_ratios", {})),
        source=path,
        digest=hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12],
    )


def _mapping(document: YamlDocument, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise document.error((key,), f"`{key}` must be a mapping")
    return value


def _aliases(document: YamlDocument, value: Any) -> dict[str, str]:
    aliases = _mapping(document, "aliases", value)
    for name, target in aliases.items():
        if not isinstance(target, str) or not target.strip():
            raise document.error(("aliases", name), "an alias maps a logged name to a model such as openai/gpt-4o")
    return {name: target.strip() for name, target in aliases.items()}


def _models(document: YamlDocument, value: Any) -> dict[str, CustomModel]:
    models = _mapping(document, "models", value)
    result: dict[str, CustomModel] = {}
    for name, prices in models.items():
        if not isinstance(prices, dict):
            raise document.error(("models", name), "a model entry maps price keys to numbers (input_mtok, ...)")
        document.check_keys(("models", name), prices, _MODEL_PRICE_KEYS)
        for key in ("input_mtok", "output_mtok"):
            if key not in prices:
                raise document.error(("models", name), f"`{key}` is required")
        rates: dict[str, float] = {}
        for key, price in prices.items():
            if not _finite_number(price) or price < 0:
                raise document.error(("models", name, key), "a price is a finite number >= 0")
            per_unit = 1.0 if key == "request_price" else 1_000_000.0
            rates[_MODEL_PRICE_KEYS[key]] = float(price) / per_unit
        result[name] = CustomModel(name=name, rates_per_unit=rates)
    return result


def _percentages(document: YamlDocument, key: str, value: Any) -> dict[str, float]:
    entries = _mapping(document, key, value)
    for name, percent in entries.items():
        if not _finite_number(percent) or not 0 <= percent <= 100:
            raise document.error((key, name), "a discount is a percentage between 0 and 100")
    return {name.lower(): float(percent) for name, percent in entries.items()}


def _tokenizer_ratios(document: YamlDocument, value: Any) -> dict[str, float]:
    entries = _mapping(document, "tokenizer_ratios", value)
    for family, ratio in entries.items():
        if family not in TOKENIZER_DEFAULTS:
            raise document.error(("tokenizer_ratios", family),
                                 f"unknown tokenizer family {family!r} (expected one of: {', '.join(TOKENIZER_DEFAULTS)})")
        if not _finite_number(ratio) or ratio <= 0:
            raise document.error(("tokenizer_ratios", family), "a ratio is a finite number > 0 (tokens per o200k token)")
    return {family: float(ratio) for family, ratio in entries.items()}


def _finite_number(value: Any) -> bool:
    """A YAML number that is not a boolean, NaN or infinite (``.nan`` would make every total NaN)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
