"""Benchmark: `routecost audit` on N OpenAI-wrapper records against a bare streaming parse.

    .venv/bin/python bench/bench_audit.py [--records 1000000] [--workers N]

Generates (once, cached in bench/out/) N in-house wrapper records around OpenAI Chat Completions
responses, with prompts of realistic length and usage present, then times in one run:

1. the baseline: a bare streaming parse of just the fields the audit needs (msgspec typed structs,
   one line at a time, nothing kept), in its own process;
2. `routecost audit FILE --format json` in its own process;
3. the same audit with the three policies in bench/policies/ (no prompt conditions).

Each command runs ``--runs`` times (3), the three taking turns, and the medians are compared: this
machine kind is shared, and a single run can be a third slower or faster than the next.

It prints the times, the audit's ratio to the parse (the bar: at most 2x), what the policies add
to the audit (the bar: at most 30%), and peak resident memory (summed over worker processes,
sampled every 20 ms; the bar: under 1.5 GB, for the plain audit and with the policies).
"""

from __future__ import annotations

import argparse
import compileall
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgspec

OUT = Path(__file__).parent / "out"
POLICIES = Path(__file__).parent / "policies"
ROUTECOST = str(Path(sys.executable).parent / "routecost")
WORDS = ["the", "a", "customer", "order", "refund", "invoice", "account", "policy", "shipping", "delay", "product", "support", "ticket", "request", "please", "summarize", "classify", "extract", "translate", "explain", "code", "function", "error", "stack", "trace", "latency", "budget", "model", "token", "cache", "route", "batch", "cost", "quality", "report", "table", "chart", "analysis", "data", "record", "field", "value"]
FEATURES = ("support-triage", "doc-extractor", "code-assistant", "blog-writer", "math-tutor", "science-qa")
MODELS = (("gpt-4o", "gpt-4o-2024-08-06"), ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
          ("gpt-4.1", "gpt-4.1-2025-04-14"), ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"))
BASE_EPOCH = 1_790_812_800  # 2026-10-01T00:00:00Z


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words))


def wrapper_log(records: int) -> Path:
    """The benchmark log of ``records`` records in bench/out/, generated the first time."""
    OUT.mkdir(exist_ok=True)
    log = OUT / f"wrapper-{records}.jsonl"
    if not log.exists():
        print(f"generating {records:,} records into {log} ...", flush=True)
        generate(log, records)
    return log


def policy_arguments() -> list[str]:
    """``--policy FILE`` for each policy in bench/policies/."""
    return [argument for policy in sorted(POLICIES.glob("*.yaml")) for argument in ("--policy", str(policy))]


def compile_routecost() -> None:
    """Byte-compile routecost's modules, as installing a package does: an editable install run with
    PYTHONDONTWRITEBYTECODE (as on this machine kind) would otherwise recompile every module in the
    audit process and in each of its readers, and the benchmark would time the compiler."""
    import routecost

    compileall.compile_dir(Path(routecost.__file__).parent, quiet=1)


def save(name: str, results: dict[str, object]) -> None:
    """A run's figures in bench/out/NAME.json, where the README's come from."""
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")


def generate(path: Path, records: int) -> None:
    """Deterministic wrapper records, ~2 KB each: a system prompt and a user turn; one in five
    continues a recent conversation (its messages, the answer, a new user turn) and one in ten
    repeats a recent request word for word, so the cache simulations have prefixes and prompts to find."""
    rng = random.Random(20261122)
    system_prompts = [_text(rng, rng.randint(60, 130)) for _ in range(12)]
    encoder = msgspec.json.Encoder()
    month = 31 * 86_400
    recent: list[tuple[str, list[dict[str, str]]]] = []
    with path.open("wb") as out:
        for index in range(records):
            requested, responded = rng.choice(MODELS)
            messages = [{"role": "system", "content": rng.choice(system_prompts)},
                        {"role": "user", "content": _text(rng, rng.randint(10, 70))}]
            answer = _text(rng, rng.randint(20, 90))
            kind = rng.random()
            if recent and kind < 0.1:
                requested, messages = rng.choice(recent)
                responded = dict(MODELS)[requested]
            elif recent and kind < 0.3:
                requested, earlier = rng.choice(recent)
                responded = dict(MODELS)[requested]
                if len(earlier) < 6:
                    messages = [*earlier, {"role": "assistant", "content": _text(rng, rng.randint(20, 90))},
                                {"role": "user", "content": _text(rng, rng.randint(5, 30))}]
            recent = [*recent[-199:], (requested, messages)]
            created = BASE_EPOCH + index * month // records
            prompt_tokens = rng.randint(300, 3_000)
            completion_tokens = rng.randint(20, 700)
            cached = (prompt_tokens // 128) * 128 if prompt_tokens > 1_024 and rng.random() < 0.4 else 0
            feature = rng.choice(FEATURES)
            record = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{index % 1000:03d}Z",
                "latency_ms": rng.randint(150, 6_000),
                "user_id": f"u_{rng.randint(1, 500):03d}",
                "tags": ["env:prod", f"category:{feature}"],
                "metadata": {"feature": feature, "team": "platform"},
                "request": {"model": requested, "temperature": 0.0, "stream": False, "messages": messages},
                "response": {
                    "id": f"chatcmpl-{index:09d}", "object": "chat.completion", "created": created,
                    "model": responded, "service_tier": "default",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": answer}}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                              "total_tokens": prompt_tokens + completion_tokens,
                              "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                              "completion_tokens_details": {"reasoning_tokens": 0}},
                },
            }
            out.write(encoder.encode(record) + b"\n")


BASELINE = '''
import sys, msgspec
class PromptDetails(msgspec.Struct): cached_tokens: int | None = None; cache_write_tokens: int | None = None
class CompletionDetails(msgspec.Struct): reasoning_tokens: int | None = None
class Usage(msgspec.Struct):
    prompt_tokens: int; completion_tokens: int
    prompt_tokens_details: PromptDetails | None = None; completion_tokens_details: CompletionDetails | None = None
class Response(msgspec.Struct):
    model: str; id: str | None = None; created: int | None = None; usage: Usage | None = None
    service_tier: str | None = None
class Request(msgspec.Struct): model: str | None = None; stream: bool | None = None
class Record(msgspec.Struct):
    response: Response; request: Request | None = None; ts: str | None = None; latency_ms: float | None = None
    user_id: str | None = None; tags: list[str] | None = None; metadata: msgspec.Raw = msgspec.Raw(b"")
decode = msgspec.json.Decoder(Record).decode
count = 0
with open(sys.argv[1], "rb") as lines:
    for line in lines:
        decode(line)
        count += 1
print(count)
'''


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (0 once it is gone)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        pending.extend(int(child) for child in children)
    return total


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """(seconds, peak tree RSS in MiB, stdout) of a command."""
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode()}")
    return elapsed, peak // 1024, stdout.decode()


def repeated(runs: int, commands: list[list[str]]) -> list[list[tuple[float, int, str]]]:
    """Each command run ``runs`` times, the commands taking turns (so that a slow spell of a shared
    machine falls on all of them alike); per command, its runs."""
    results: list[list[tuple[float, int, str]]] = [[] for _ in commands]
    for _ in range(runs):
        for index, command in enumerate(commands):
            results[index].append(run_measured(command))
    return results


def median_run(runs: list[tuple[float, int, str]]) -> tuple[float, int, str]:
    """The run with the median time, with the highest peak memory of all the runs."""
    ordered = sorted(runs, key=lambda run: run[0])
    seconds, _, stdout = ordered[len(ordered) // 2]
    return seconds, max(run[1] for run in runs), stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=None, help="routecost --workers (default: its own)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command; the medians are compared")
    args = parser.parse_args()
    log = wrapper_log(args.records)
    compile_routecost()
    size_gb = log.stat().st_size / 1e9
    audit_command = [ROUTECOST, "audit", str(log), "--format", "json"]
    if args.workers:
        audit_command += ["--workers", str(args.workers)]
    policy_command = audit_command + policy_arguments()
    runs = repeated(args.runs, [[sys.executable, "-c", BASELINE, str(log)], audit_command, policy_command])
    (baseline_s, baseline_mb, _), (audit_s, audit_mb, report), (policies_s, policies_mb, policy_report) = (
        median_run(command_runs) for command_runs in runs
    )
    ratios = sorted(audit[0] / parse[0] for parse, audit in zip(runs[0], runs[1], strict=True))
    requests = json.loads(report)["requests"]
    projected = {policy["name"]: round(policy["savings_pct"], 1) for policy in json.loads(policy_report)["policies"]}
    results = {
        "records": args.records, "file_gb": round(size_gb, 3), "requests_priced": requests, "runs": args.runs,
        "baseline_parse_s": round(baseline_s, 2), "audit_s": round(audit_s, 2),
        "ratio": round(audit_s / baseline_s, 2), "ratios_of_turns": [round(ratio, 2) for ratio in ratios],
        "audit_peak_rss_mb": audit_mb, "baseline_peak_rss_mb": baseline_mb,
        "audit_with_3_policies_s": round(policies_s, 2), "policies_add_pct": round(100 * (policies_s / audit_s - 1), 1),
        "audit_with_3_policies_peak_rss_mb": policies_mb, "policy_savings_pct": projected,
    }
    save(f"audit-{args.records}", results)
    print(f"file: {size_gb:.2f} GB, {args.records:,} records; medians of {args.runs} runs each, taking turns")
    print(f"bare streaming parse of the needed fields: {baseline_s:7.2f} s   peak RSS {baseline_mb:5d} MB")
    print(f"routecost audit:                           {audit_s:7.2f} s   peak RSS {audit_mb:5d} MB")
    print(f"ratio audit / parse: {audit_s / baseline_s:.2f}  (bar: <= 2.0; peak RSS bar: < 1536 MB); "
          f"turn by turn: {', '.join(f'{ratio:.2f}' for ratio in ratios)}")
    print(f"audit with 3 policies:                     {policies_s:7.2f} s   peak RSS {policies_mb:5d} MB")
    print(f"policies add {100 * (policies_s / audit_s - 1):.1f}% to the audit (bar: <= 30%); savings: {projected}")


if __name__ == "__main__":
    main()
