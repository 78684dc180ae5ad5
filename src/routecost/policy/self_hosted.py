"""A policy's ``self_hosted:`` block: the models a team serves on its own GPUs.

    self_hosted:
      llama-70b:                  # routes name it `self_hosted/llama-70b` (or `llama-70b`)
        gpu: H100 80GB            # optional, for the report
        gpu_hour: 2.49            # USD per GPU per hour
        gpus: 4                   # GPUs per replica
        prefill_tokens_s: 12000   # measured: input tokens a replica reads per second
        decode_tokens_s: 2400     # measured: output tokens per second, over the requests served at once
        utilisation: 0.6          # optional (default 0.5): share of paid GPU time that serves requests
        speculative_decoding: 2.0 # optional decode speed-up
        replicas: 2               # optional: a fixed fleet the team runs (else sized for the peak hour)
"""

from __future__ import annotations

import math
import re
from typing import Any

from routecost.prices.self_hosted import DEFAULT_UTILISATION, SelfHostedTier
from routecost.yamlfile import KeyPath, YamlDocument

TIER_KEYS = ("gpu", "gpu_hour", "gpus", "prefill_tokens_s", "decode_tokens_s", "utilisation",
             "speculative_decoding", "replicas")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def parse_self_hosted(document: YamlDocument, value: Any) -> tuple[tuple[SelfHostedTier, ...], list[str]]:
    """The tiers, and a note for each one whose utilisation is the default."""
    if value is None:
        return (), []
    if not isinstance(value, dict) or not value:
        raise document.error(("self_hosted",), "`self_hosted` maps a tier's name to its GPUs and throughput "
                                               f"({', '.join(TIER_KEYS)})")
    tiers, notes = [], []
    for name, raw in value.items():
        path: KeyPath = ("self_hosted", name)
        if not isinstance(name, str) or not _NAME.match(name):
            raise document.error(path, "a tier's name is letters, digits and . _ : - (routes name it self_hosted/NAME)")
        if not isinstance(raw, dict):
            raise document.error(path, f"a tier is a mapping with {', '.join(TIER_KEYS)}")
        document.check_keys(path, raw, TIER_KEYS)
        tiers.append(_tier(document, path, name, raw))
        if "utilisation" not in raw:
            notes.append(f"self_hosted/{name}: utilisation {DEFAULT_UTILISATION:.0%} assumed (the share of paid GPU "
                         "time that serves requests; set `utilisation` to your fleet's)")
    return tuple(tiers), notes


def _tier(document: YamlDocument, path: KeyPath, name: str, raw: dict[str, Any]) -> SelfHostedTier:
    def number(key: str, problem: str, *, low: float = 0.0, high: float = math.inf, whole: bool = False,
               default: float | None = None, low_included: bool = False) -> float:
        if key not in raw:
            if default is None:
                raise document.error(path, f"a self-hosted tier needs `{key}` ({problem})")
            return default
        given = raw[key]
        if (isinstance(given, bool) or not isinstance(given, int | float) or not math.isfinite(given)
                or not (low <= given if low_included else low < given) or given > high
                or (whole and given != int(given))):
            raise document.error((*path, key), f"`{key}: {given}`: {problem}")
        return float(given)

    gpu = raw.get("gpu", "")
    if not isinstance(gpu, str):
        raise document.error((*path, "gpu"), "`gpu` names the GPU (text, such as H100 80GB)")
    replicas = number("replicas", "a whole number of replicas, at least 1", whole=True, default=0.0)
    return SelfHostedTier(
        name=name,
        gpu=gpu,
        gpu_hour_usd=number("gpu_hour", "USD per GPU per hour, a number above 0"),
        gpus=int(number("gpus", "GPUs per replica, a whole number, at least 1", whole=True)),
        prefill_tokens_s=number("prefill_tokens_s", "input tokens a replica reads per second, above 0"),
        decode_tokens_s=number("decode_tokens_s", "output tokens a replica writes per second, above 0"),
        utilisation=number("utilisation", "a share of the GPU time above 0 and at most 1", high=1.0,
                           default=DEFAULT_UTILISATION),
        speculative_speedup=number("speculative_decoding", "a decode speed-up of at least 1 (2.0 is twice as fast)",
                                   low=1.0, low_included=True, default=1.0),
        replicas=int(replicas) or None,
    )


def tier_named(tiers: tuple[SelfHostedTier, ...], name: str) -> SelfHostedTier | None:
    """The tier a route names, as ``self_hosted/NAME`` or as ``NAME``."""
    return next((tier for tier in tiers if name in (tier.name, tier.model_id)), None)

