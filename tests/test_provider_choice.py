"""Provider choice: ``to: {model: NAME, provider: PROVIDER | cheapest}``: the same model as a given
provider sells it, or as the one that sells it cheapest (blended 3:1 input:output).

Published per-million-token prices of gpt-oss-120b (the providers' price pages, as genai-prices 0.2.3
carries them): OpenAI and Azure $0.039 in / $0.18 out, Cerebras $0.35 / $0.75, OVHcloud $0.09 / $0.47,
QuicksilverPro $0.03 / $0.15 (since 2026-10-19; $0.12 / $0.48 before). Blended 3:1: OpenAI
(3 x 0.039 + 0.18) / 4 = $0.07425, Cerebras (3 x 0.35 + 0.75) / 4 = $0.45, OVHcloud $0.185,
QuicksilverPro $0.06. The request below is logged on 2026-11-20, at those prices.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.prices.catalog import PriceBook
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, MTOK, write_jsonl
from tests.test_cli import run
from tests.test_policy_file import load_error
from tests.test_policy_projection import GPT4O, ON_GPT4O, chat_record

REL = 1e-9
# the gpt-4o request of the projection tests (1000 in, 200 out; gpt-oss shares its o200k tokenizer)
ON_CEREBRAS = (1000 * 0.35 + 200 * 0.75) / MTOK
ON_QUICKSILVER = (1000 * 0.03 + 200 * 0.15) / MTOK
ON_OVHCLOUD = (1000 * 0.09 + 200 * 0.47) / MTOK


def projected(tmp_path: Path, to: str) -> tuple[float, list[str], dict[str, float]]:
    """(projected cost, notes, routed shares) of one gpt-4o request routed ``to``."""
    log = write_jsonl(tmp_path / "log.jsonl", [chat_record(GPT4O, 1000, 200) | {"ts": "2026-11-20T12:00:00Z"}])
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"name: hosts\nroutes:\n  - to: {to}\n", encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), as_of=AS_OF,
                                   policy_paths=[str(policy)]))
    [projection] = audit.report.policies
    [category] = projection.categories
    assert category.baseline_cost_usd == pytest.approx(ON_GPT4O, rel=REL)
    return projection.cost_usd, projection.assumptions, category.routed


def test_the_catalog_knows_who_sells_a_model():
    sellers = {model.model_id for model in PriceBook().sellers("gpt-oss-120b")}
    assert {"openai/gpt-oss-120b", "azure/gpt-oss-120b", "cerebras/gpt-oss-120b", "ovhcloud/gpt-oss-120b",
            "quicksilverpro/gpt-oss-120b"} <= sellers
    assert {model.model_id for model in PriceBook().sellers("openai/gpt-oss-120b")} == sellers  # a prefix is dropped
    assert PriceBook().sellers("no-such-model-anywhere") == []


def test_a_named_provider_prices_the_route_at_its_own_rates(tmp_path):
    cost, _, routed = projected(tmp_path, "{model: gpt-oss-120b, provider: cerebras}")
    assert routed == {"cerebras/gpt-oss-120b": 100.0}
    assert cost == pytest.approx(ON_CEREBRAS, rel=REL)


def test_cheapest_picks_the_lowest_blended_price_and_says_what_it_compared(tmp_path):
    cost, notes, routed = projected(tmp_path, "{model: gpt-oss-120b, provider: cheapest}")
    assert routed == {"quicksilverpro/gpt-oss-120b": 100.0}
    assert cost == pytest.approx(ON_QUICKSILVER, rel=REL)
    [note] = [note for note in notes if note.startswith("gpt-oss-120b: provider: cheapest")]
    assert "quicksilverpro/gpt-oss-120b at $0.06 per million tokens, blended 3:1" in note
    assert "azure $0.07425, openai $0.07425, ovhcloud $0.185, cerebras $0.45" in note


def test_cheapest_among_named_providers(tmp_path):
    cost, notes, routed = projected(tmp_path, "{model: gpt-oss-120b, provider: cheapest, among: [cerebras, ovhcloud]}")
    assert routed == {"ovhcloud/gpt-oss-120b": 100.0}
    assert cost == pytest.approx(ON_OVHCLOUD, rel=REL)
    assert any("(cerebras $0.45)" in note for note in notes)


@pytest.mark.parametrize(("to", "problem"), [
    ("{model: gpt-oss-120b, provider: groq-not}",
     "'groq-not' does not sell 'gpt-oss-120b' (the catalog has: azure, cerebras, openai, ovhcloud, quicksilverpro"),
    ("{model: no-such-model-anywhere, provider: cheapest}", "no provider in the price catalog sells 'no-such-model-anywhere'"),
    ("{model: gpt-oss-120b, provider: cheapest, among: [nobody]}", "none of these sells 'gpt-oss-120b'"),
    ("{model: gpt-oss-120b, provider: cerebras, among: [cerebras]}", "`among` goes with `provider: cheapest`"),
    ("{model: gpt-oss-120b, host: cerebras}", "unknown key 'host'"),
])
def test_a_provider_choice_that_cannot_be_made_is_named_with_its_place(tmp_path, to, problem):
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"name: hosts\nroutes:\n  - to: {to}\n", encoding="utf-8")
    error = load_error(policy, PriceBook())
    assert error.startswith(f"{policy}:3:") and problem in error


def test_policy_check_shows_the_choice(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: hosts\nroutes:\n  - to: {model: gpt-oss-120b, provider: cheapest}\n", encoding="utf-8")
    checked = run("policy", "check", str(policy))
    assert checked.returncode == 0, checked.stderr
    assert "sends traffic to: quicksilverpro/gpt-oss-120b" in checked.stdout
    assert "  gpt-oss-120b: provider: cheapest is quicksilverpro/gpt-oss-120b" in checked.stdout
