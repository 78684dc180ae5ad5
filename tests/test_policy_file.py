"""Policy files: validation errors located at ``file:line:column``, the semantics of ``when:`` conditions
and category rules on a hand-built frame, ``--what-if``/``--where`` one-off policies, and
``routecost policy check``.

Models named in the tests are in the bundled genai-prices catalog (openai/gpt-4o-mini,
anthropic/claude-haiku-4-5, anthropic/claude-sonnet-4-5); the others are made up so that they resolve nowhere.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from routecost.categories import metadata_value_expr
from routecost.errors import UsageError
from routecost.policy.conditions import METADATA_PREFIX, Condition, EvalContext
from routecost.policy.loader import load_policy, parse_policy
from routecost.policy.model import KEEP, Policy
from routecost.policy.whatif import what_if_policies
from routecost.prices.catalog import PriceBook
from routecost.prices.userfile import load_user_prices

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_POLICIES = sorted((REPO / "policies").glob("*.yaml"))


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook()


def write_yaml(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(path: Path, book: PriceBook) -> str:
    with pytest.raises(UsageError) as caught:
        load_policy(str(path), book)
    return str(caught.value)


# --- validation: every problem is reported at file:line:column ----------------------------------------------

INVALID_POLICIES = [
    pytest.param("""
        name: p
        route:
          - to: keep
        """, 2, 1, "unknown key 'route' (expected one of: name, description, categories, routes, cascades, cache, batch, trim, self_hosted, gate)",
        id="unknown-top-level-key"),
    pytest.param("""
        routes:
          - when: {user: u_1}
            model: openai/gpt-4o-mini
        """, 3, 5, "unknown key 'model' (expected one of: when, to, share)", id="unknown-route-key"),
    pytest.param("""
        categories:
          - name: short
            if: {input_tokens: {lt: 100}}
        routes:
          - to: keep
        """, 3, 5, "unknown key 'if' (expected one of: name, when, from)", id="unknown-category-key"),
    pytest.param("""
        cascades:
          - try: openai/gpt-4o-mini
            escalate_to: keep
            escalate_rate: 0.2
            fallback: keep
        """, 5, 5, "unknown key 'fallback' (expected one of: when, try, escalate_to, escalate_rate)",
        id="unknown-cascade-key"),
    pytest.param("""
        routes:
          - when: {user: u_1, team: growth}
            to: keep
        """, 2, 23, "unknown condition 'team' (expected one of: category, model, provider,",
        id="unknown-condition"),
    pytest.param("""
        routes:
          - when: {input_tokens: {lessthan: 5}}
            to: keep
        """, 2, 27, "unknown key 'lessthan' (expected one of: lt, lte, gt, gte, eq)", id="unknown-bound"),
    pytest.param("""
        routes:
          - when: {user: u_1}
            to: acme/not-a-model
        """, 3, 5, "unknown model 'acme/not-a-model': not in the price catalog", id="unknown-model-in-to"),
    pytest.param("""
        cascades:
          - try: not-a-model
            escalate_to: keep
            escalate_rate: 0.5
        """, 2, 5, "unknown model 'not-a-model'", id="unknown-model-in-try"),
    pytest.param("""
        cascades:
          - try: openai/gpt-4o-mini
            escalate_to: acme/big-model
            escalate_rate: 0.5
        """, 3, 5, "unknown model 'acme/big-model'", id="unknown-model-in-escalate-to"),
    pytest.param("""
        routes:
          - when:
              prompt: {regex: "(abc"}
            to: keep
        """, 3, 16, "`regex: (abc`: bad regex: unclosed group (at character 1)", id="regex-unclosed-group"),
    pytest.param("""
        routes:
          - when:
              system: {regex: "(?<=a)b"}
            to: keep
        """, 3, 16, "`regex: (?<=a)b`: bad regex: look-around, including look-ahead and look-behind, is not supported",
        id="regex-look-behind-python-accepts"),
    pytest.param("""
        routes:
          - when: {prompt: {keywords: []}}
            to: keep
        """, 2, 21, "keywords are a non-empty list of words", id="empty-keywords"),
    pytest.param("""
        routes:
          - when: {user: []}
            to: keep
        """, 2, 12, "never matches: an empty list of values", id="empty-value-list"),
    pytest.param("""
        routes:
          - when: {input_tokens: {gt: 500, lt: 100}}
            to: keep
        """, 2, 12, "never matches: no token count satisfies {'gt': 500, 'lt': 100}",
        id="contradictory-bounds"),
    pytest.param("""
        routes:
          - when: {output_tokens: {eq: 5, gt: 5}}
            to: keep
        """, 2, 12, "never matches: no token count satisfies {'eq': 5, 'gt': 5}", id="eq-outside-bound"),
    pytest.param("""
        routes:
          - when: {input_tokens: {lt: 0}}
            to: keep
        """, 2, 12, "never matches: no token count satisfies {'lt': 0}", id="negative-upper-bound"),
    pytest.param("""
        routes:
          - when: {status: failed}
            to: keep
        """, 2, 12, "never matches: status is one of ok, error, incomplete, cancelled, expired, not 'failed'",
        id="impossible-status"),
    pytest.param("""
        routes:
          - when: {mode: [batch, async]}
            to: keep
        """, 2, 12, "never matches: mode is one of batch, realtime, not 'async'", id="impossible-mode"),
    pytest.param("""
        categories:
          - name: short
            when: {input_tokens: {lt: 100}}
        routes:
          - when: {category: long}
            to: openai/gpt-4o-mini
        """, 5, 12, "never matches: no category rule assigns 'long' (categories: short, uncategorized)",
        id="unassigned-category-in-route"),
    pytest.param("""
        categories:
          - name: short
            when: {input_tokens: {lt: 100}}
        cascades:
          - when: {any: [{user: u_1}, {category: long}]}
            try: openai/gpt-4o-mini
            escalate_to: keep
            escalate_rate: 0.1
        """, 5, 32, "never matches: no category rule assigns 'long'",
        id="unassigned-category-nested-in-cascade"),
    pytest.param("""
        categories:
          - name: short
            from: metadata.size
        routes:
          - to: keep
        """, 3, 5, "a rule has `name` and `when`, or `from`, not both", id="category-name-and-from"),
    pytest.param("""
        routes:
          - to: openai/gpt-4o-mini
          - when: {user: u_1}
            to: keep
        """, 3, 5,
        "unreachable: rule 1 of `routes` above matches every request (no `when`), so this rule never applies",
        id="route-after-catch-all"),
    pytest.param("""
        categories:
          - name: short
            when: {input_tokens: {lt: 100}}
          - name: everything
          - from: metadata.feature
        routes:
          - to: keep
        """, 5, 5, "unreachable: rule 2 of `categories` above matches every request",
        id="category-after-catch-all"),
    pytest.param("""
        cascades:
          - try: openai/gpt-4o-mini
            escalate_to: keep
            escalate_rate: 0.1
          - when: {user: u_1}
            try: openai/gpt-4o-mini
            escalate_to: keep
            escalate_rate: 0.1
        """, 5, 5, "unreachable: rule 1 of `cascades` above matches every request",
        id="cascade-after-catch-all"),
    pytest.param("""
        # a policy that forgot what to do
        name: nothing
        categories:
          - name: all
        """, 2, 1, "the policy has no `routes`, `cascades`, `trim`, `cache` or `batch`: it would change nothing",
        id="no-routes-or-cascades"),
    pytest.param("""
        routes:
          - to: openai/gpt-4o-mini
           - to: keep
        """, 3, 4, "invalid YAML: ", id="invalid-yaml"),
]


@pytest.mark.parametrize(("text", "line", "column", "problem"), INVALID_POLICIES)
def test_invalid_policy_is_reported_at_the_offending_line_and_column(
    tmp_path: Path, book: PriceBook, text: str, line: int, column: int, problem: str
) -> None:
    path = write_yaml(tmp_path, text)
    assert load_error(path, book).startswith(f"{path}:{line}:{column}: {problem}")


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "high", "true", ".nan"])
def test_escalate_rate_must_be_a_share_between_0_and_1(tmp_path: Path, book: PriceBook, rate: str) -> None:
    path = write_yaml(tmp_path, f"""
        cascades:
          - try: openai/gpt-4o-mini
            escalate_to: keep
            escalate_rate: {rate}
        """)
    shown = {"true": "true", ".nan": "nan"}.get(rate, rate)  # the key and the value it was given, named
    assert load_error(path, book) == f"{path}:4:5: `escalate_rate: {shown}`: a share of requests between 0 and 1"


@pytest.mark.parametrize("rate", [0, 1, 0.25])
def test_escalate_rate_bounds_are_inclusive(book: PriceBook, rate: float) -> None:
    text = f"cascades:\n  - {{try: openai/gpt-4o-mini, escalate_to: keep, escalate_rate: {rate}}}\n"
    policy = parse_policy(text, "p.yaml", book)
    assert policy.cascades[0].escalate_rate == rate
    assert (policy.cascades[0].try_model, policy.cascades[0].escalate_to) == ("openai/gpt-4o-mini", KEEP)


def test_keep_is_not_a_cascade_first_try(tmp_path: Path, book: PriceBook) -> None:
    path = write_yaml(tmp_path, """
        cascades:
          - try: keep
            escalate_to: openai/gpt-4o-mini
            escalate_rate: 0.5
        """)
    message = load_error(path, book)
    assert message.startswith(f"{path}:2:5: ")
    assert "`keep` is not a model here" in message


def test_not_without_a_condition_is_rejected_instead_of_never_matching(book: PriceBook) -> None:
    """``not:`` left empty negates "always": the route could never apply, which validation exists to catch."""
    with pytest.raises(UsageError) as caught:
        parse_policy("routes:\n  - when: {not: }\n    to: openai/gpt-4o-mini\n  - to: keep\n", "p.yaml", book)
    assert str(caught.value).startswith("p.yaml:2:12: ")


def test_any_category_is_allowed_when_a_from_rule_assigns_categories(book: PriceBook) -> None:
    policy = parse_policy(textwrap.dedent("""
        categories:
          - name: short
            when: {input_tokens: {lt: 100}}
          - from: tag.category
        routes:
          - when: {category: [coding, short, uncategorized]}
            to: openai/gpt-4o-mini
        """), "p.yaml", book)
    assert policy.routes[0].to == "openai/gpt-4o-mini"


def test_uncategorized_is_always_a_known_category(book: PriceBook) -> None:
    policy = parse_policy(textwrap.dedent("""
        categories:
          - name: short
            when: {input_tokens: {lt: 100}}
        routes:
          - when: {category: uncategorized}
            to: openai/gpt-4o-mini
        """), "p.yaml", book)
    assert len(policy.routes) == 1


# --- models from the user's price file ----------------------------------------------------------------------


def test_price_file_models_and_aliases_are_valid_targets(tmp_path: Path) -> None:
    prices = write_yaml(tmp_path, """
        aliases:
          smart-default: anthropic/claude-sonnet-4-5
        models:
          acme-llama-3-70b: {input_mtok: 0.60, output_mtok: 0.60}
        """, name="prices.yaml")
    policy_path = write_yaml(tmp_path, """
        routes:
          - when: {category: coding}
            to: acme-llama-3-70b
          - to: smart-default
        """)
    without_prices = load_error(policy_path, PriceBook())
    assert without_prices.startswith(f"{policy_path}:3:5: unknown model 'acme-llama-3-70b'")
    policy = load_policy(str(policy_path), PriceBook(load_user_prices(str(prices))))
    assert [route.to for route in policy.routes] == ["acme-llama-3-70b", "anthropic/claude-sonnet-4-5"]


# --- conditions evaluated on requests -----------------------------------------------------------------------

REQUESTS = pl.DataFrame(
    {
        "model": ["gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929", "smart-default", "Acme-Llama-70B"],
        "model_id": ["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "anthropic/claude-haiku-4-5", None],
        "provider": ["openai", "bedrock", None, "hosted_vllm"],
        "status": ["ok", "ok", "error", "incomplete"],
        "mode": ["realtime", "realtime", "batch", "realtime"],
        "user": ["u_1", "u_3", "u_2", None],
        "tags": [["env:prod", "vip"], ["env:dev", "category:coding"], [], None],
        "metadata": [
            '{"feature": "triage", "a": {"b": "deep", "n": 5}}', "{}", None, '{"feature": "search"}'
        ],
        "category": ["coding", "writing", "writing", "search"],
        "input_tokens": [100, 250, 500, 800],
        "output_tokens": [10, 20, None, 300],
        "last_user_message": ["Here is a Traceback (most recent call last)", "Fix my C++ build (again)", None,
                              "write a python function"],
        "system_prompt": ["Reply in JSON.", "Be brief.", None, "You are terse."],
    },
    schema_overrides={"tags": pl.List(pl.String())},
)


def condition_id(value: object) -> str:
    """Test ids: the condition as written (the expected values add nothing)."""
    return value if isinstance(value, str) else ""


def evaluate(policy: Policy, expr: Callable[[EvalContext], pl.Expr]) -> list[Any]:
    """``expr`` on every request, with the columns and context the projection prepares for the policy: the
    metadata keys it reads as ``metadata.<key>`` columns, and the distinct logged models and model ids."""
    frame = REQUESTS.with_columns(
        metadata_value_expr(key).alias(f"{METADATA_PREFIX}{key}") for key in sorted(policy.metadata_keys)
    )
    context = EvalContext(logged_models=tuple(REQUESTS["model"].drop_nulls().unique().sort()),
                          model_ids=tuple(REQUESTS["model_id"].drop_nulls().unique().sort()))
    return frame.select(expr(context)).to_series().to_list()


def one_route(condition: str, book: PriceBook) -> Policy:
    """A policy with one route whose ``when:`` is the given YAML."""
    return parse_policy(f"routes:\n  - when: {condition}\n    to: keep\n", "p.yaml", book)


def when(condition: str, book: PriceBook) -> Condition:
    return one_route(condition, book).routes[0].when


def matches(condition: str, book: PriceBook) -> list[bool]:
    policy = one_route(condition, book)
    return evaluate(policy, policy.routes[0].when.expr)


@pytest.mark.parametrize(("condition", "expected"), [
    ("{user: u_1}", [True, False, False, False]),
    ("{user: [u_1, u_2]}", [True, False, True, False]),
    ("{status: [error, incomplete]}", [False, False, True, True]),
    ("{mode: batch}", [False, False, True, False]),
    ("{category: [coding, search]}", [True, False, False, True]),
    ("{metadata.feature: triage}", [True, False, False, False]),
    ("{metadata.feature: [triage, search]}", [True, False, False, True]),
    ("{metadata.a.b: deep}", [True, False, False, False]),
    ("{metadata.a.n: 5}", [True, False, False, False]),
    ("{metadata.a: deep}", [False, False, False, False]),
    ("{tag: vip}", [True, False, False, False]),
    ("{tag: [vip, 'env:dev']}", [True, True, False, False]),
], ids=condition_id)
def test_value_conditions(book: PriceBook, condition: str, expected: list[bool]) -> None:
    assert matches(condition, book) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("{model: gpt-4o-2024-08-06}", [True, False, False, False]),  # the logged name
    ("{model: smart-default}", [False, False, True, False]),
    ("{model: anthropic/claude-haiku-4-5}", [False, False, True, False]),  # the canonical id
    ("{model: gpt-4o}", [True, False, False, False]),  # the model part of the id
    ("{model: GPT-4o}", [True, False, False, False]),  # names ignore case
    ("{model: 'claude-*'}", [False, True, True, False]),  # a glob on the logged name or the model part
    ("{model: 'acme-llama-??b'}", [False, False, False, True]),  # globs ignore case
    ("{model: 'sonnet*'}", [False, False, False, False]),  # globs are anchored
    ("{model: [gpt-4o, 'claude-haiku-*']}", [True, False, True, False]),
    ("{provider: anthropic}", [False, True, True, False]),  # the provider of the canonical id
    ("{provider: bedrock}", [False, True, False, False]),  # the logged provider
    ("{provider: hosted_vllm}", [False, False, False, True]),  # no canonical id
    ("{provider: [openai, bedrock]}", [True, True, False, False]),
], ids=condition_id)
def test_model_and_provider_conditions(book: PriceBook, condition: str, expected: list[bool]) -> None:
    assert matches(condition, book) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("{input_tokens: {lt: 500}}", [True, True, False, False]),
    ("{input_tokens: {lte: 500}}", [True, True, True, False]),
    ("{input_tokens: {gt: 500}}", [False, False, False, True]),
    ("{input_tokens: {gte: 500}}", [False, False, True, True]),
    ("{input_tokens: {eq: 500}}", [False, False, True, False]),
    ("{input_tokens: {gt: 100, lt: 800}}", [False, True, True, False]),
    ("{output_tokens: {lt: 1000}}", [True, True, False, True]),  # unknown output never matches
    ("{output_tokens: {gte: 0}}", [True, True, False, True]),
], ids=condition_id)
def test_token_bounds(book: PriceBook, condition: str, expected: list[bool]) -> None:
    assert matches(condition, book) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ('{prompt: {regex: "(?i)traceback"}}', [True, False, False, False]),
    ('{prompt: {regex: "traceback"}}', [False, False, False, False]),  # a regex is case-sensitive as written
    ('{prompt: {regex: "^write"}}', [False, False, False, True]),
    ("{prompt: {keywords: [TRACEBACK, Python]}}", [True, False, False, True]),  # keywords ignore case
    ("{prompt: {keywords: [c++, (again)]}}", [False, True, False, False]),  # keywords are literal text
    ("{prompt: {keywords: [.*]}}", [False, False, False, False]),
    ("{system: {keywords: [json, terse]}}", [True, False, False, True]),
    ("{system: {regex: '\\.$'}}", [True, True, False, True]),  # null text never matches
], ids=condition_id)
def test_text_conditions(book: PriceBook, condition: str, expected: list[bool]) -> None:
    assert matches(condition, book) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("{any: [{user: u_2}, {tag: vip}]}", [True, False, True, False]),
    ("{any: [{metadata.feature: search}, {prompt: {keywords: [c++]}}]}", [False, True, False, True]),
    ("{not: {mode: batch}}", [True, True, False, True]),
    ("{not: {metadata.feature: triage}}", [False, True, True, True]),  # a missing value is "not triage"
    ("{not: {any: [{user: u_1}, {status: error}]}}", [False, True, False, True]),
    ("{provider: anthropic, mode: batch}", [False, False, True, False]),  # clauses of a mapping all hold
    ("{category: coding, input_tokens: {lt: 500}, prompt: {keywords: [traceback]}}",
     [True, False, False, False]),
    ("{category: writing, not: {tag: 'env:dev'}}", [False, False, True, False]),
], ids=condition_id)
def test_combined_conditions(book: PriceBook, condition: str, expected: list[bool]) -> None:
    assert matches(condition, book) == expected


def test_only_text_conditions_need_the_prompt_text(book: PriceBook) -> None:
    assert when("{any: [{user: u_1}, {not: {system: {keywords: [json]}}}]}", book).needs_text
    assert not when("{any: [{user: u_1}, {not: {input_tokens: {lt: 5}}}]}", book).needs_text


# --- categories ---------------------------------------------------------------------------------------------


def categories(policy_text: str, book: PriceBook) -> list[str]:
    policy = parse_policy(textwrap.dedent(policy_text), "p.yaml", book)
    return evaluate(policy, lambda context: policy.category_expr(pl.col("category"), context))


def test_first_matching_category_rule_wins_and_unmatched_is_uncategorized(book: PriceBook) -> None:
    assert categories("""
        categories:
          - name: short
            when: {input_tokens: {lt: 200}}
          - name: medium
            when: {input_tokens: {lt: 600}}
        routes:
          - to: keep
        """, book) == ["short", "medium", "medium", "uncategorized"]


def test_from_rule_falls_through_to_the_next_rule_when_the_field_is_absent(book: PriceBook) -> None:
    assert categories("""
        categories:
          - from: metadata.feature
          - from: tag.category
          - name: other
        routes:
          - to: keep
        """, book) == ["triage", "coding", "other", "search"]


def test_category_from_a_logged_field(book: PriceBook) -> None:
    assert categories("""
        categories:
          - from: user
        routes:
          - to: keep
        """, book) == ["u_1", "u_3", "u_2", "uncategorized"]


def test_a_policy_without_categories_keeps_the_logged_category(book: PriceBook) -> None:
    assert categories("routes:\n  - to: keep\n", book) == REQUESTS["category"].to_list()


# --- --what-if MODEL --where CONDITION ----------------------------------------------------------------------


def test_what_if_without_where_sends_all_traffic_to_each_model(book: PriceBook) -> None:
    policies = what_if_policies(["gpt-4o-mini", "anthropic/claude-haiku-4-5"], [], book)
    assert [policy.name for policy in policies] == [
        "what-if openai/gpt-4o-mini", "what-if anthropic/claude-haiku-4-5"]
    assert [[(route.to, route.when.always) for route in policy.routes] for policy in policies] == [
        [("openai/gpt-4o-mini", True)], [("anthropic/claude-haiku-4-5", True)]]


def test_where_conditions_scope_the_route_and_keep_the_rest(book: PriceBook) -> None:
    [policy] = what_if_policies(["gpt-4o-mini"], ["category=coding", "metadata.feature = triage, search",
                                                  "input_tokens<500", "output_tokens>=10"], book)
    assert policy.name == ("what-if openai/gpt-4o-mini where category=coding and "
                           "metadata.feature = triage, search and input_tokens<500 and output_tokens>=10")
    route, rest = policy.routes
    assert (route.to, rest.to, rest.when.always) == ("openai/gpt-4o-mini", KEEP, True)
    assert evaluate(policy, route.when.expr) == [True, False, False, False]
    wider_where = ["category=coding,search", "input_tokens<=800", "output_tokens>10"]
    [wider] = what_if_policies(["gpt-4o-mini"], wider_where, book)
    assert evaluate(wider, wider.routes[0].when.expr) == [False, False, False, True]


@pytest.mark.parametrize(("where", "comparison"), [("<", "lt"), ("<=", "lte"), (">", "gt"), (">=", "gte"),
                                                   (".lt=", "lt"), (".lte=", "lte"), (".gt=", "gt"), (".gte=", "gte")])
def test_where_token_comparisons(book: PriceBook, where: str, comparison: str) -> None:
    """``input_tokens.lt=500`` needs no quoting in a shell (``input_tokens<500`` is a redirect there)."""
    [policy] = what_if_policies(["gpt-4o-mini"], [f"input_tokens{where}500"], book)
    expected = when(f"{{input_tokens: {{{comparison}: 500}}}}", book)
    assert policy.routes[0].when == expected


@pytest.mark.parametrize(("models", "where", "message"), [
    (["gpt-4o-mini"], ["category"], "--where 'category': expected field=value, or field.lt=N (field<N, quoted)"),
    (["gpt-4o-mini"], ["input_tokens<lots"], "--where 'input_tokens<lots': < compares a token count"),
    (["gpt-4o-mini"], ["user=u_1", "user=u_2"],
     "--where: user is given twice; list the values instead: user=a,b"),
    (["gpt-4o-mini"], ["team=growth"], "--where: unknown condition 'team'"),
    (["gpt-4o-mini"], ["status=failed"], "--where: never matches: status is one of"),
    (["gpt-4o-mini"], ["input_tokens>500", "input_tokens<100"], "--where: never matches: no token count satisfies"),
    ([], ["category=coding"], "--where narrows a --what-if: name a model with --what-if"),
    (["acme/not-a-model"], [], "--what-if: unknown model 'acme/not-a-model': not in the price catalog"),
    (["keep"], [], "--what-if: `keep` is not a model here"),
    (["gpt-4o-mini"], ["category=,"], "--where 'category=,'"),
])
def test_what_if_usage_errors(book: PriceBook, models: list[str], where: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        what_if_policies(models, where, book)
    assert str(caught.value).startswith(message)


# --- routecost policy check ---------------------------------------------------------------------------------


def routecost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routecost", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=False)


def test_policy_check_prints_one_ok_line_per_valid_file() -> None:
    assert len(EXAMPLE_POLICIES) >= 3
    result = routecost("policy", "check", *map(str, EXAMPLE_POLICIES))
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert [line.split(": ok: ")[0] for line in lines] == list(map(str, EXAMPLE_POLICIES))
    code_cascade = REPO / "policies" / "code-cascade.yaml"
    assert (f"{code_cascade}: ok: 'code-cascade': 2 category rules, 1 routes, 1 cascades; "
            "sends traffic to: anthropic/claude-haiku-4-5; levers: routing") in lines


def test_policy_check_accepts_price_file_models_with_prices(tmp_path: Path) -> None:
    prices = write_yaml(tmp_path, "models:\n  acme-llama-3-70b: {input_mtok: 0.6, output_mtok: 0.6}\n",
                        name="prices.yaml")
    policy = write_yaml(tmp_path, "name: self-hosted\nroutes:\n  - to: acme-llama-3-70b\n")
    result = routecost("policy", "check", str(policy), "--prices", str(prices))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{policy}: ok: 'self-hosted': 0 category rules, 1 routes, 0 cascades; "
                             "sends traffic to: acme-llama-3-70b; levers: routing\n")


def test_policy_check_reports_an_invalid_file_on_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path, """
        name: typo
        routes:
          - when: {category: coding}
            to: openai/gpt-4o-mni
        """)
    result = routecost("policy", "check", str(EXAMPLE_POLICIES[0]), str(bad))
    assert result.returncode == 2
    assert result.stdout.startswith(f"{EXAMPLE_POLICIES[0]}: ok: ")
    assert result.stderr.startswith(f"routecost: error: {bad}:4:5: unknown model 'openai/gpt-4o-mni'")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_route_share_outside_0_to_1_is_reported(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: p\nroutes:\n  - to: openai/gpt-4o-mini\n    share: 1.5\n", encoding="utf-8")
    assert load_error(policy, PriceBook()) == f"{policy}:4:5: `share: 1.5`: a number between 0 and 1"


def test_two_bounds_on_one_token_field_make_a_range(book: PriceBook) -> None:
    [policy] = what_if_policies(["gpt-4o-mini"], ["input_tokens.gte=100", "input_tokens<500"], book)
    frame = pl.DataFrame({"input_tokens": [99, 100, 499, 500]})
    assert frame.select(policy.routes[0].when.expr(EvalContext())).to_series().to_list() == [False, True, True, False]
