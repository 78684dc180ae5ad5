#!/usr/bin/env python3
"""Generate the bundled sample request logs in ``sample_logs/``.

The output is fully deterministic: one ``random.Random(SEED)`` drives every
choice, no wall clock or hash randomisation is used, and running the script
twice produces byte-identical files.

Prompts come from MT-Bench (``data/mt_bench``, Apache-2.0, FastChat); answers
are the GPT-4 reference answers where MT-Bench ships one and are synthesised
otherwise. Token counts are estimated with a small stdlib heuristic that is
close to o200k on English text (scaled per provider); they are internally
consistent but not exact tokenizer output. The loggers clip long request strings
(as LiteLLM does) so that the whole set stays under ~8 MB; usage always counts the
full prompt.

Usage::

    python scripts/make_sample_logs.py [--out-dir sample_logs]

The generators live in ``scripts/samplegen/``, one module per file they write (``openai_app``,
``anthropic_app``, ``gateway``, ``batch``, ``readme``) beside what they share (``common``,
``prompts``, ``traffic``).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from samplegen.anthropic_app import build_anthropic
from samplegen.batch import build_anthropic_batch, build_openai_batch
from samplegen.common import REPO, SEED, Json
from samplegen.gateway import build_gateway
from samplegen.openai_app import build_openai
from samplegen.prompts import EXTRACT_HEADER, _join
from samplegen.readme import render_readme, write_lines
from samplegen.traffic import Planner, build_features, load_questions


def generate(out_dir: Path) -> Json:
    """Write every sample file under ``out_dir`` and return the counts the README documents."""
    rng = random.Random(SEED)
    questions = load_questions()
    features = build_features()
    planner = Planner(rng, questions)

    openai_lines, openai_stats = build_openai(rng, planner, features)
    anthropic_lines, anthropic_stats = build_anthropic(rng, planner, features)
    gateway_lines, gateway_stats = build_gateway(rng, planner, features)
    # The nightly batch pipeline sends only the extractor's instruction block: a batch input file is the
    # request itself, so unlike the app logs it cannot be clipped and must stay small.
    batch_extractor = replace(features["doc-extractor"], system=_join(EXTRACT_HEADER))
    batch_in, batch_out, openai_batch_stats = build_openai_batch(rng, questions, batch_extractor)
    claude_batch, anthropic_batch_stats = build_anthropic_batch(rng, questions, features["mtbench-eval"])

    write_lines(out_dir / "app-openai.jsonl", openai_lines)
    write_lines(out_dir / "app-anthropic.jsonl", anthropic_lines)
    write_lines(out_dir / "litellm-gateway.jsonl", gateway_lines)
    write_lines(out_dir / "batch" / "openai-batch-input.jsonl", batch_in)
    write_lines(out_dir / "batch" / "openai-batch-output.jsonl", batch_out)
    write_lines(out_dir / "batch" / "anthropic-batch-results.jsonl", claude_batch)
    stats = {
        "app-openai.jsonl": openai_stats,
        "app-anthropic.jsonl": anthropic_stats,
        "litellm-gateway.jsonl": gateway_stats,
        "batch/openai-batch-*.jsonl": openai_batch_stats,
        "batch/anthropic-batch-results.jsonl": anthropic_batch_stats,
    }
    (out_dir / "README.md").write_text(render_readme(stats), encoding="utf-8", newline="\n")
    return stats


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "sample_logs")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out_dir), indent=2))


if __name__ == "__main__":
    main()
