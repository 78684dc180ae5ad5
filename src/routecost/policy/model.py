"""A routing policy: how requests are categorized, and where each category's requests would go.

Categories, routes and cascades are each evaluated first-match-wins. A request in scope of a
cascade is tried on the cheap model first and escalated for a share of requests; other requests
follow the first route that matches them (``keep`` leaves them on the logged model).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from routecost.categories import or_uncategorized, tag_value_expr
from routecost.policy.conditions import ALWAYS, METADATA_PREFIX, Condition, EvalContext
from routecost.prices.self_hosted import SelfHostedTier

KEEP = "keep"
"""A route target meaning: the model the request was logged on."""
LEVERS = ("routing", "trimming", "exact_cache", "semantic_cache", "prompt_cache", "batching")
"""The cost levers, in the order the report lists their savings."""


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
    share: float = 1.0
    """The share of matching requests this route takes (a fixed, evenly spread subset); the rest go
    on to the next rule."""


@dataclass(frozen=True)
class Cascade:
    """Try a cheap model first; escalate a share of requests to a stronger one (paying for both)."""

    try_model: str
    escalate_to: str
    escalate_rate: float
    """Share of requests escalated: assumed here, measured by replay."""
    when: Condition = ALWAYS


@dataclass(frozen=True)
class TrimRule:
    """Shorter prompts: the system prompt cut to a share of its length or replaced by the team's
    shorter one, the conversation's history capped to its last turns (``simulate/trimming.py``)."""

    when: Condition = ALWAYS
    system_keep: float | None = None
    """Share of the system prompt's tokens kept (``system: 0.4``: 60% shorter)."""
    system_file: str | None = None
    """A file holding the shorter system prompt that replaces the logged one ..."""
    system_text: str | None = None
    """... and its text."""
    history_turns: int | None = None
    """Turns of conversation kept before the current message (a turn: a user message and the replies
    after it)."""


@dataclass(frozen=True)
class ExactCache:
    """A response cache keyed on (routed model, prompt, sampling parameters)."""

    ttl_s: float
    when: Condition = ALWAYS
    max_entries: int | None = None
    include_streaming: bool = False
    include_sampled: bool = False
    """Requests with temperature > 0 (their answers vary) are left out unless opted in."""
    include_tools: bool = False


@dataclass(frozen=True)
class SemanticCache:
    """A cache answering a request with an earlier one whose prompt embeds close enough."""

    threshold: float
    ttl_s: float
    when: Condition = ALWAYS
    false_hit_rate: float = 0.05
    """Share of semantic hits assumed to serve a wrong answer, until replay measures it."""


@dataclass(frozen=True)
class PromptCache:
    """Providers' prefix caches on the routed traffic (automatic for OpenAI and Gemini; at the
    breakpoints, with a 5-minute or 1-hour write, for Anthropic)."""

    when: Condition = ALWAYS
    write_ttl: str = "5m"
    breakpoints: tuple[str, ...] = ("system", "history")


@dataclass(frozen=True)
class BatchRule:
    """Latency-tolerant requests sent to the provider's batch API (about 50% off)."""

    max_delay_s: float
    when: Condition = ALWAYS


@dataclass(frozen=True)
class Policy:
    name: str
    categories: tuple[CategoryRule, ...] = ()
    routes: tuple[Route, ...] = ()
    cascades: tuple[Cascade, ...] = ()
    trim: tuple[TrimRule, ...] = ()
    exact_cache: ExactCache | None = None
    semantic_cache: SemanticCache | None = None
    prompt_cache: PromptCache | None = None
    batch: tuple[BatchRule, ...] = ()
    self_hosted: tuple[SelfHostedTier, ...] = ()
    """Models the team serves itself, which routes and cascades may name (``prices/self_hosted.py``)."""
    description: str = ""
    source: str | None = None
    notes: tuple[str, ...] = ()
    """What loading the policy decided that its reader should see (which provider ``cheapest`` chose)."""

    @property
    def levers(self) -> tuple[str, ...]:
        """The cost levers the policy pulls, in the order savings are attributed to them."""
        present = {
            "routing": bool(self.routes or self.cascades),
            "trimming": bool(self.trim),
            "exact_cache": self.exact_cache is not None,
            "semantic_cache": self.semantic_cache is not None,
            "prompt_cache": self.prompt_cache is not None,
            "batching": bool(self.batch),
        }
        return tuple(lever for lever in LEVERS if present[lever])

    def only(self, lever: str) -> Policy:
        """The same policy pulling one lever alone (the others as logged)."""
        return Policy(
            name=f"{self.name} ({lever} only)",
            categories=self.categories,
            routes=self.routes if lever == "routing" else (),
            cascades=self.cascades if lever == "routing" else (),
            trim=self.trim if lever == "trimming" else (),
            exact_cache=self.exact_cache if lever == "exact_cache" else None,
            semantic_cache=self.semantic_cache if lever == "semantic_cache" else None,
            prompt_cache=self.prompt_cache if lever == "prompt_cache" else None,
            batch=self.batch if lever == "batching" else (),
            self_hosted=self.self_hosted,
        )

    @property
    def conditions(self) -> list[Condition]:
        return [condition for _, condition in self.labelled_conditions]

    @property
    def labelled_conditions(self) -> list[tuple[str, Condition]]:
        """Every clause's condition, named as a reader of the policy file finds it."""
        caches = [(f"cache.{name}", cache.when) for name, cache in
                  (("exact", self.exact_cache), ("semantic", self.semantic_cache), ("prompt", self.prompt_cache))
                  if cache is not None]
        return [
            *((f"categories[{index}] ({rule.name})", rule.when) for index, rule in enumerate(self.categories)),
            *((f"routes[{index}] (to {route.to})", route.when) for index, route in enumerate(self.routes)),
            *((f"cascades[{index}] (try {cascade.try_model})", cascade.when)
              for index, cascade in enumerate(self.cascades)),
            *((f"trim[{index}]", rule.when) for index, rule in enumerate(self.trim)),
            *caches,
            *((f"batch[{index}]", rule.when) for index, rule in enumerate(self.batch)),
        ]

    @property
    def needs_fingerprints(self) -> bool:
        """Whether the policy simulates caches (which compare prompts)."""
        return self.exact_cache is not None or self.prompt_cache is not None

    @property
    def needs_whole_log(self) -> bool:
        """Whether the policy is projected on every request at once, not a segment at a time: a
        semantic cache compares prompts across keys, and an exact cache of bounded size evicts by
        every key's use. (Exact and prompt caches otherwise replay a key at a time over a streamed
        log: ``simulate/cache_pass.py``.)"""
        exact_bounded = self.exact_cache is not None and self.exact_cache.max_entries is not None
        return self.semantic_cache is not None or exact_bounded

    @property
    def needs_text(self) -> bool:
        """Whether the prompt text must be read from the logs: for prompt conditions, and to embed
        prompts for a semantic cache."""
        return self.semantic_cache is not None or any(condition.needs_text for condition in self.conditions)

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
        return or_uncategorized(pl.coalesce(*(rule.value_expr(context) for rule in self.categories)))
