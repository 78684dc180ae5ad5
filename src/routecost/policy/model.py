"""A routing policy: how requests are categorized, and where each category's requests would go.

Categories, routes and cascades are each evaluated first-match-wins. A request in scope of a
cascade is tried on the cheap model first and escalated for a share of requests; other requests
follow the first route that matches them (``keep`` leaves them on the logged model).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from routecost.categories import UNCATEGORIZED, tag_value_expr
from routecost.policy.conditions import ALWAYS, METADATA_PREFIX, Condition, EvalContext

KEEP = "keep"
"""A route target meaning: the model the request was logged on."""


@dataclass(frozen=True)
class CategoryRule:
    """A category: the requests its condition matches, or the value of a logged field (``from``)."""

    name: str
    when: Condition = ALWAYS
    from_field: str | None = None

    def value_expr(self, context: EvalContext) -> pl.Expr:
        """The category this rule gives a request, null where it does not apply."""
        if self.from_field is None:
            return pl.when(self.when.expr(context)).then(pl.lit(self.name))
        if self.from_field.startswith(METADATA_PREFIX):
            return pl.col(self.from_field)
        if self.from_field.startswith("tag."):
            return tag_value_expr(self.from_field.removeprefix("tag."))
        return pl.col(self.from_field).cast(pl.String)


@dataclass(frozen=True)
class Route:
    to: str
    """A priced model id, or ``keep``."""
    when: Condition = ALWAYS


@dataclass(frozen=True)
class Cascade:
    """Try a cheap model first; escalate a share of requests to a stronger one (paying for both)."""

    try_model: str
    escalate_to: str
    escalate_rate: float
    """Share of requests escalated: assumed here, measured by replay."""
    when: Condition = ALWAYS


@dataclass(frozen=True)
class Policy:
    name: str
    categories: tuple[CategoryRule, ...] = ()
    routes: tuple[Route, ...] = ()
    cascades: tuple[Cascade, ...] = ()
    description: str = ""
    source: str | None = None

    @property
    def conditions(self) -> list[Condition]:
        return [
            *(rule.when for rule in self.categories),
            *(route.when for route in self.routes),
            *(cascade.when for cascade in self.cascades),
        ]

    @property
    def needs_text(self) -> bool:
        """Whether any condition reads the prompt text (which must then be read from the logs)."""
        return any(condition.needs_text for condition in self.conditions)

    @property
    def metadata_keys(self) -> set[str]:
        """Metadata keys the policy reads (extracted from the JSON once, into ``metadata.<key>`` columns)."""
        keys = {key for condition in self.conditions for key in condition.metadata_keys}
        return keys | {
            rule.from_field.removeprefix(METADATA_PREFIX)
            for rule in self.categories
            if rule.from_field is not None and rule.from_field.startswith(METADATA_PREFIX)
        }

    @property
    def target_models(self) -> list[str]:
        """Every model the policy may send traffic to (``keep`` excluded)."""
        models = [route.to for route in self.routes]
        models += [model for cascade in self.cascades for model in (cascade.try_model, cascade.escalate_to)]
        return sorted({model for model in models if model != KEEP})

    def category_expr(self, logged_category: pl.Expr, context: EvalContext) -> pl.Expr:
        """First matching category rule; without rules, the category read from the logs."""
        if not self.categories:
            return logged_category
        value = pl.coalesce(*(rule.value_expr(context) for rule in self.categories))
        return pl.when(value.is_null() | (value == "")).then(pl.lit(UNCATEGORIZED)).otherwise(value)
