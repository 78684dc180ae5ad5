"""Choosing among the providers that sell one model: ``to: {model: NAME, provider: cheapest}``.

The same model is sold by several providers at different prices (an open-weight model on several
hosts; one model on its maker's API and on a cloud's), and in different shapes: one host is cheaper
on input, another on output. Policies are loaded before any log is read, so the providers are
compared at a blended price of three input tokens to one output token (the convention of public
price comparisons; a chat request's prompt is usually several times its answer), at today's
standard rates. The projection then prices the routed requests at the chosen provider's full rate
card, and the choice, with what it was chosen from, is among the policy's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from routecost.errors import UsageError
from routecost.prices.catalog import PriceBook, PricedModel

CHEAPEST = "cheapest"
INPUT_WEIGHT, OUTPUT_WEIGHT = 3, 1


def blended_price(model: PricedModel, book: PriceBook, when: datetime) -> float | None:
    """USD per million tokens, three input to one output; None without both token prices."""
    card = book.card(model, when).card
    input_rate, output_rate = card.rate("uncached_input"), card.rate("output")
    if not input_rate or not output_rate:
        return None
    return (INPUT_WEIGHT * input_rate + OUTPUT_WEIGHT * output_rate) / (INPUT_WEIGHT + OUTPUT_WEIGHT) * 1e6


def cheapest_seller(sellers: Sequence[PricedModel], book: PriceBook,
                    when: datetime | None = None) -> tuple[PricedModel, str]:
    """The seller with the lowest blended price, and a note saying so and what else was compared."""
    when = when or datetime.now(UTC)
    priced = sorted(((price, seller.model_id, seller) for seller in sellers
                     if (price := blended_price(seller, book, when)) is not None), key=lambda item: item[:2])
    if not priced:
        raise UsageError(f"{sellers[0].model_id}: no provider has token prices for it in the catalog")
    price, _, chosen = priced[0]
    others = ", ".join(f"{seller.provider_id} ${amount:.4g}" for amount, _, seller in priced[1:]) or "no other seller"
    return chosen, (f"provider: cheapest is {chosen.model_id} at ${price:.4g} per million tokens, blended 3:1 "
                    f"input:output at the prices of {when:%Y-%m-%d} ({others})")
