"""Read and validate a policy file; every problem is reported as ``file:line:column: problem``.

Validation catches what would otherwise give a silently wrong projection: unknown keys, models
that are neither in the price catalog nor in the user's price file, regexes the engine rejects,
conditions that can never be true, and rules that can never be reached.
"""

from __future__ import annotations

import re
from typing import Any

from routecost.categories import METADATA_PREFIX, UNCATEGORIZED
from routecost.errors import UsageError
from routecost.gate.thresholds import parse_gate_block
from routecost.policy.conditions import (
    ALWAYS,
    COUNT_FIELDS,
    MODES,
    STATUSES,
    TEXT_COLUMNS,
    VALUE_FIELDS,
    AnyOf,
    Bound,
    Clause,
    Condition,
    Not,
    TextMatch,
    ValueIn,
    keywords_regex,
    regex_problem,
)
from routecost.policy.model import (
    KEEP,
    BatchRule,
    Cascade,
    CategoryRule,
    ExactCache,
    Policy,
    PromptCache,
    Route,
    SemanticCache,
)
from routecost.policy.self_hosted import parse_self_hosted, tier_named
from routecost.policy.trim import parse_trim
from routecost.prices.catalog import PriceBook, Unpriced
from routecost.prices.provider_choice import CHEAPEST, cheapest_seller
from routecost.prices.self_hosted import SelfHostedTier
from routecost.yamlfile import KeyPath, YamlDocument, load_yaml, parse_yaml

POLICY_KEYS = ("name", "description", "categories", "routes", "cascades", "cache", "batch", "trim", "self_hosted", "gate")
CACHE_KEYS = ("exact", "semantic", "prompt")
EXACT_KEYS = ("ttl", "when", "max_entries", "include")
EXACT_INCLUDES = ("streaming", "sampled", "tools")
SEMANTIC_KEYS = ("threshold", "ttl", "when", "false_hit_rate")
PROMPT_KEYS = ("when", "ttl", "breakpoints")
BREAKPOINTS = ("system", "history", "prompt")
WRITE_TTLS = ("5m", "1h")
BATCH_WINDOW_S = 24 * 3600.0
"""The batch APIs' completion window (OpenAI, Anthropic, Google, Bedrock all promise results within
24 hours): a request that cannot wait that long cannot be batched."""
BATCH_KEYS = ("when", "max_delay")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CATEGORY_KEYS = ("name", "when", "from")
ROUTE_KEYS = ("when", "to", "share")
CASCADE_KEYS = ("when", "try", "escalate_to", "escalate_rate")
COMPARISONS = ("lt", "lte", "gt", "gte", "eq")
TEXT_MATCH_KEYS = ("regex", "keywords")
FROM_FIELDS = ("metadata.<key>", "tag.<key>", "user", "model", "provider")


def load_policy(path: str, book: PriceBook) -> Policy:
    return PolicyParser(load_yaml(path), book).policy()


def parse_policy(text: str, name: str, book: PriceBook) -> Policy:
    return PolicyParser(parse_yaml(text, name), book).policy()


class PolicyParser:
    def __init__(self, document: YamlDocument, book: PriceBook) -> None:
        self.document = document
        self.book = book
        self.notes: list[str] = []
        self.tiers: tuple[SelfHostedTier, ...] = ()

    def fail(self, key_path: KeyPath, problem: str) -> UsageError:
        return self.document.error(key_path, problem)

    def policy(self) -> Policy:
        data = self.document.data
        if not isinstance(data, dict):
            raise self.fail((), "a policy file is a YAML mapping with `name`, `categories`, `routes`, `cascades`")
        self.document.check_keys((), data, POLICY_KEYS)
        self.tiers, tier_notes = parse_self_hosted(self.document, data.get("self_hosted"))
        self.notes += tier_notes
        categories = self._categories(data.get("categories", []))
        names = {rule.name for rule in categories} | {UNCATEGORIZED}
        open_ended = not categories or any(rule.from_field for rule in categories)
        category_names = None if open_ended else names
        cache = self._mapping(("cache",), data.get("cache", {}), CACHE_KEYS)
        policy = Policy(
            name=self._text(("name",), data.get("name", self.document.path)),
            description=self._text(("description",), data.get("description", "")),
            categories=categories,
            routes=self._routes(data.get("routes", []), category_names),
            cascades=self._cascades(data.get("cascades", []), category_names),
            trim=parse_trim(self, data.get("trim"), category_names),
            exact_cache=self._exact_cache(cache.get("exact"), category_names),
            semantic_cache=self._semantic_cache(cache.get("semantic"), category_names),
            prompt_cache=self._prompt_cache(cache.get("prompt"), category_names),
            batch=self._batch(data.get("batch", []), category_names),
            self_hosted=self.tiers,
            source=self.document.path,
            notes=tuple(self.notes),
        )
        self._check_tiers_used(policy)
        if "gate" in data:  # thresholds for `routecost gate`, which reads them itself: checked here
            parse_gate_block(self.document, data["gate"])
        if not policy.levers:
            raise self.fail((), "the policy has no `routes`, `cascades`, `trim`, `cache` or `batch`: it would change "
                                "nothing")
        return policy

    def _mapping(self, key_path: KeyPath, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key_path, f"expected a mapping with {', '.join(allowed)}")
        self.document.check_keys(key_path, value, allowed)
        return value

    def duration(self, key_path: KeyPath, value: Any) -> float:
        """``30s``, ``5m``, ``24h``, ``2d`` as seconds."""
        match = _DURATION.match(value) if isinstance(value, str) else None
        if match is None or float(match.group(1)) <= 0:
            raise self.fail(key_path, "a duration such as 30s, 5m, 24h or 2d")
        return float(match.group(1)) * _SECONDS[match.group(2)]

    def _share(self, key_path: KeyPath, value: Any, low: float = 0.0, high: float = 1.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(key_path, f"a number between {low:g} and {high:g}")
        return float(value)

    def _exact_cache(self, value: Any, category_names: set[str] | None) -> ExactCache | None:
        if value is None:
            return None
        path: KeyPath = ("cache", "exact")
        block = self._mapping(path, value, EXACT_KEYS)
        if "ttl" not in block:
            raise self.fail(path, "an exact cache needs a `ttl` (how long an answer is kept), e.g. 24h")
        includes = block.get("include", [])
        if not isinstance(includes, list) or any(item not in EXACT_INCLUDES for item in includes):
            raise self.fail((*path, "include"), f"a list of: {', '.join(EXACT_INCLUDES)}")
        max_entries = block.get("max_entries")
        if max_entries is not None and (isinstance(max_entries, bool) or not isinstance(max_entries, int)
                                        or max_entries < 1):
            raise self.fail((*path, "max_entries"), "a whole number of entries, at least 1")
        return ExactCache(
            ttl_s=self.duration((*path, "ttl"), block["ttl"]),
            when=self.condition((*path, "when"), block.get("when"), category_names),
            max_entries=max_entries,
            include_streaming="streaming" in includes,
            include_sampled="sampled" in includes,
            include_tools="tools" in includes,
        )

    def _semantic_cache(self, value: Any, category_names: set[str] | None) -> SemanticCache | None:
        if value is None:
            return None
        path: KeyPath = ("cache", "semantic")
        block = self._mapping(path, value, SEMANTIC_KEYS)
        for key in ("threshold", "ttl"):
            if key not in block:
                raise self.fail(path, f"a semantic cache needs `{key}`")
        return SemanticCache(
            threshold=self._share((*path, "threshold"), block["threshold"], -1.0, 1.0),
            ttl_s=self.duration((*path, "ttl"), block["ttl"]),
            when=self.condition((*path, "when"), block.get("when"), category_names),
            false_hit_rate=self._share((*path, "false_hit_rate"), block.get("false_hit_rate", 0.05)),
        )

    def _prompt_cache(self, value: Any, category_names: set[str] | None) -> PromptCache | None:
        if value is None:
            return None
        path: KeyPath = ("cache", "prompt")
        block = self._mapping(path, value or {}, PROMPT_KEYS)
        write_ttl = block.get("ttl", "5m")
        if write_ttl not in WRITE_TTLS:
            raise self.fail((*path, "ttl"), f"Anthropic cache writes last {' or '.join(WRITE_TTLS)}")
        breakpoints = block.get("breakpoints", ["system", "history"])
        if not isinstance(breakpoints, list) or not breakpoints or any(b not in BREAKPOINTS for b in breakpoints):
            raise self.fail((*path, "breakpoints"), f"a list of: {', '.join(BREAKPOINTS)}")
        return PromptCache(
            when=self.condition((*path, "when"), block.get("when"), category_names),
            write_ttl=write_ttl,
            breakpoints=tuple(breakpoint for breakpoint in BREAKPOINTS if breakpoint in breakpoints),
        )

    def _batch(self, value: Any, category_names: set[str] | None) -> tuple[BatchRule, ...]:
        rules: list[BatchRule] = []
        for index, raw in enumerate(self._list("batch", value)):
            path: KeyPath = ("batch", index)
            rule = self.rule(path, raw, BATCH_KEYS)
            max_delay_s = self.duration((*path, "max_delay"), rule.get("max_delay", "24h"))
            if max_delay_s < BATCH_WINDOW_S:
                raise self.fail((*path, "max_delay"), "the batch APIs promise results within 24h, not sooner: "
                                "requests that cannot wait 24h cannot be batched")
            rules.append(BatchRule(
                max_delay_s=max_delay_s,
                when=self.condition((*path, "when"), rule.get("when"), category_names),
            ))
        self.check_reachable("batch", [rule.when.always for rule in rules])
        return tuple(rules)

    def _text(self, key_path: KeyPath, value: Any) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(key_path, "expected text")
        return str(value)

    def _list(self, key: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail((key,), f"`{key}` is a list of rules (each starting with `- `)")
        return value

    def rule(self, key_path: KeyPath, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key_path, f"a rule is a mapping with {', '.join(allowed)}")
        self.document.check_keys(key_path, value, allowed)
        return value

    def check_reachable(self, key: str, matches_everything: list[bool]) -> None:
        """A rule after one that matches everything can never apply."""
        for index, always in enumerate(matches_everything[:-1]):
            if always:
                raise self.fail((key, index + 1), f"unreachable: rule {index + 1} of `{key}` above matches every "
                                                  "request (no `when`), so this rule never applies")

    def _categories(self, value: Any) -> tuple[CategoryRule, ...]:
        rules: list[CategoryRule] = []
        for index, raw in enumerate(self._list("categories", value)):
            path: KeyPath = ("categories", index)
            rule = self.rule(path, raw, CATEGORY_KEYS)
            if "name" in rule and "from" in rule:
                raise self.fail((*path, "from"), "a rule has `name` and `when`, or `from`, not both")
            if "from" in rule:
                rules.append(CategoryRule(name="", from_field=self._from_field((*path, "from"), rule["from"])))
                continue
            if "name" not in rule:
                raise self.fail(path, "a category rule needs a `name` (with a `when`), or `from`")
            rules.append(CategoryRule(name=self._text((*path, "name"), rule["name"]),
                                      when=self.condition((*path, "when"), rule.get("when"), None)))
        self.check_reachable("categories", [rule.from_field is None and rule.when.always for rule in rules])
        return tuple(rules)

    def _from_field(self, key_path: KeyPath, value: Any) -> str:
        if isinstance(value, str) and (
            (value.startswith((METADATA_PREFIX, "tag.")) and value.count(".") >= 1 and not value.endswith("."))
            or value in ("user", "model", "provider")
        ):
            return value
        raise self.fail(key_path, f"`from` takes one of: {', '.join(FROM_FIELDS)}")

    def condition_of(self, value: Any) -> Condition:
        """A standalone ``when`` mapping (no category names to check against)."""
        return self.condition((), value, None)

    def model_id(self, key_path: KeyPath, value: Any) -> str:
        """A model name resolved to its priced id (``keep`` is not a model here)."""
        return self._model(key_path, value, allow_keep=False)

    def _model(self, key_path: KeyPath, value: Any, allow_keep: bool = True) -> str:
        if isinstance(value, dict):
            return self._sold_by(key_path, value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key_path, "expected a model such as openai/gpt-4o-mini" + (" or keep" if allow_keep else ""))
        if (tier := tier_named(self.tiers, value.strip())) is not None:
            return self.book.add_self_hosted(tier).model_id
        if value == KEEP:
            if allow_keep:
                return KEEP
            raise self.fail(key_path, "`keep` is not a model here: name one such as openai/gpt-4o-mini")
        resolved = self.book.model(value.strip())
        if isinstance(resolved, Unpriced):
            raise self.fail(key_path, f"unknown model {value!r}: {resolved.reason}")
        return resolved.model_id

    def _check_tiers_used(self, policy: Policy) -> None:
        """A tier no route or cascade sends requests to is a typo waiting to give 0% savings."""
        for tier in policy.self_hosted:
            if tier.model_id not in policy.target_models:
                raise self.fail(("self_hosted", tier.name), f"no route or cascade sends requests to {tier.model_id}")

    def _sold_by(self, key_path: KeyPath, value: dict[str, Any]) -> str:
        """``{model: NAME, provider: PROVIDER | cheapest[, among: [PROVIDER, ...]]}``: the model as one
        provider sells it (the catalog knows who sells what), or as the one that sells it cheapest
        (``prices/provider_choice.py``), of all its sellers or of those named in ``among``."""
        self.document.check_keys(key_path, value, ("model", "provider", "among"))
        for key in ("model", "provider"):
            if not isinstance(value.get(key), str) or not value[key].strip():
                raise self.fail((*key_path, key), f"`{key}` names a {'model' if key == 'model' else 'provider, or cheapest'}")
        model, provider = value["model"].strip(), value["provider"].strip()
        sellers = self.book.sellers(model)
        if not sellers:
            raise self.fail((*key_path, "model"), f"no provider in the price catalog sells {model!r}")
        names = ", ".join(sorted(seller.provider_id for seller in sellers))
        if provider != CHEAPEST:
            if "among" in value:
                raise self.fail((*key_path, "among"), "`among` goes with `provider: cheapest`")
            named = [seller for seller in sellers if seller.provider_id == provider]
            if not named:
                raise self.fail((*key_path, "provider"), f"{provider!r} does not sell {model!r} (the catalog has: {names})")
            return named[0].model_id
        if "among" in value:
            among = value["among"]
            if not isinstance(among, list) or not among or not all(isinstance(name, str) for name in among):
                raise self.fail((*key_path, "among"), "`among` is a list of providers, such as [groq, together]")
            sellers = [seller for seller in sellers if seller.provider_id in among]
            if not sellers:
                raise self.fail((*key_path, "among"), f"none of these sells {model!r} (the catalog has: {names})")
        chosen, note = cheapest_seller(sellers, self.book)
        self.notes.append(f"{model}: {note}")
        return chosen.model_id

    def _routes(self, value: Any, category_names: set[str] | None) -> tuple[Route, ...]:
        routes: list[Route] = []
        for index, raw in enumerate(self._list("routes", value)):
            path: KeyPath = ("routes", index)
            rule = self.rule(path, raw, ROUTE_KEYS)
            if "to" not in rule:
                raise self.fail(path, "a route needs `to` (a model, or keep)")
            routes.append(Route(to=self._model((*path, "to"), rule["to"]),
                                when=self.condition((*path, "when"), rule.get("when"), category_names),
                                share=self._share((*path, "share"), rule.get("share", 1.0))))
        self.check_reachable("routes", [route.when.always and route.share >= 1 for route in routes])
        return tuple(routes)

    def _cascades(self, value: Any, category_names: set[str] | None) -> tuple[Cascade, ...]:
        cascades: list[Cascade] = []
        for index, raw in enumerate(self._list("cascades", value)):
            path: KeyPath = ("cascades", index)
            rule = self.rule(path, raw, CASCADE_KEYS)
            for key in ("try", "escalate_to", "escalate_rate"):
                if key not in rule:
                    raise self.fail(path, f"a cascade needs `{key}`")
            rate = rule["escalate_rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise self.fail((*path, "escalate_rate"), "a share of requests between 0 and 1")
            cascades.append(Cascade(
                try_model=self._model((*path, "try"), rule["try"], allow_keep=False),
                escalate_to=self._model((*path, "escalate_to"), rule["escalate_to"]),
                escalate_rate=float(rate),
                when=self.condition((*path, "when"), rule.get("when"), category_names),
            ))
        self.check_reachable("cascades", [cascade.when.always for cascade in cascades])
        return tuple(cascades)

    def condition(self, key_path: KeyPath, value: Any, category_names: set[str] | None) -> Condition:
        if value is None:
            return ALWAYS
        if not isinstance(value, dict) or not value:
            raise self.fail(key_path, "`when` is a mapping of conditions, e.g. {category: code}")
        return Condition(tuple(
            clause for key, raw in value.items() for clause in self._clauses((*key_path, key), key, raw, category_names)
        ))

    def _clauses(self, key_path: KeyPath, key: str, value: Any, category_names: set[str] | None) -> list[Clause]:
        if key == "any":
            if not isinstance(value, list) or not value or any(item is None for item in value):
                raise self.fail(key_path, "`any` is a non-empty list of conditions, none of them empty")
            return [AnyOf(tuple(self.condition((*key_path, index), item, category_names)
                                for index, item in enumerate(value)))]
        if key == "not":
            if value is None:
                raise self.fail(key_path, "`not` needs a condition to negate")
            return [Not(self.condition(key_path, value, category_names))]
        if key in COUNT_FIELDS:
            return self._bounds(key_path, key, value)
        if key in TEXT_COLUMNS:
            return [self._text_match(key_path, key, value)]
        if key in VALUE_FIELDS or (key.startswith(METADATA_PREFIX) and len(key) > len(METADATA_PREFIX)):
            return [self._values(key_path, key, value, category_names)]
        allowed = [*VALUE_FIELDS, "metadata.<key>", *COUNT_FIELDS, *TEXT_COLUMNS, "any", "not"]
        raise self.fail(key_path, f"unknown condition {key!r} (expected one of: {', '.join(allowed)})")

    def _values(self, key_path: KeyPath, key: str, value: Any, category_names: set[str] | None) -> ValueIn:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise self.fail(key_path, "never matches: an empty list of values")
        texts = [self._text(key_path, item) for item in values]
        allowed = {"status": STATUSES, "mode": MODES}.get(key)
        if allowed is not None:
            for text in texts:
                if text not in allowed:
                    raise self.fail(key_path, f"never matches: {key} is one of {', '.join(allowed)}, not {text!r}")
        if key == "category" and category_names is not None:
            for text in texts:
                if text not in category_names:
                    raise self.fail(key_path, f"never matches: no category rule assigns {text!r} "
                                              f"(categories: {', '.join(sorted(category_names))})")
        return ValueIn(field=key, values=tuple(texts))

    def _bounds(self, key_path: KeyPath, key: str, value: Any) -> list[Clause]:
        if not isinstance(value, dict) or not value:
            raise self.fail(key_path, f"`{key}` takes bounds such as {{lt: 500}} ({', '.join(COMPARISONS)})")
        self.document.check_keys(key_path, value, COMPARISONS)
        bounds: list[Bound] = []
        for comparison, number in value.items():
            if isinstance(number, bool) or not isinstance(number, int):
                raise self.fail((*key_path, comparison), "a bound is a whole number of tokens")
            bounds.append(Bound(field=key, comparison=comparison, value=number))
        low = max([b.value + (b.comparison == "gt") for b in bounds if b.comparison in ("gt", "gte", "eq")], default=0)
        high = min([b.value - (b.comparison == "lt") for b in bounds if b.comparison in ("lt", "lte", "eq")],
                   default=None)
        if high is not None and (high < low or high < 0):
            raise self.fail(key_path, f"never matches: no token count satisfies {value}")
        return list(bounds)

    def _text_match(self, key_path: KeyPath, key: str, value: Any) -> TextMatch:
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail(key_path, f"`{key}` takes one of {{regex: ...}} or {{keywords: [...]}}")
        self.document.check_keys(key_path, value, TEXT_MATCH_KEYS)
        if "regex" in value:
            pattern = value["regex"]
            if not isinstance(pattern, str) or not pattern:
                raise self.fail((*key_path, "regex"), "a regex is a non-empty string")
            problem = regex_problem(pattern)
            if problem:
                raise self.fail((*key_path, "regex"), f"bad regex: {problem}")
            return TextMatch(field=key, pattern=pattern)  # type: ignore[arg-type]
        keywords = value["keywords"]
        if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) and k for k in keywords):
            raise self.fail((*key_path, "keywords"), "keywords are a non-empty list of words")
        return TextMatch(field=key, pattern=keywords_regex(keywords))  # type: ignore[arg-type]
