"""Benchmark: the replay client's own cost, and how throughput follows ``--concurrency``.

    .venv/bin/python bench/bench_replay.py [--requests 3000] [--replayed 400]

The server is bench/llm_server.py in its own process (asyncio, keep-alive), so what is measured in
this process is the client alone.

1. Client overhead at concurrency 16 (the bar: under 5 ms per request): ``ChatClient.complete``
   against a server that answers at once; this process's CPU seconds per request (all its threads),
   and, against a server answering after 50 ms, how far the latency the client sees lies above those
   50 ms (mean and 95th percentile; the server's own handling included).
2. Throughput against a server with 50 ms latency that works on at most 32 requests at once, for
   concurrency 1 to 128: requests per second beside the ideal min(concurrency, 32) / 50 ms.
3. The whole command: ``routecost replay`` on --replayed requests (a candidate call and two
   pairwise judge calls each, every one committed to the SQLite store), wall seconds and calls per
   second, start-up and audit included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_audit import save

from routecost.replay.client import ChatClient, ChatRequest, RetryPolicy
from routecost.replay.endpoints import Endpoint

HERE = Path(__file__).parent
LATENCY_MS = 50.0
REQUEST = ChatRequest(system="You are a helpful assistant.",
                      messages=(("user", "How do I rotate an API key? " * 20),), max_tokens=256, temperature=0.0)


@contextmanager
def server(delay_ms: float = 0.0, capacity: int | None = None) -> Iterator[str]:
    command = [sys.executable, str(HERE / "llm_server.py"), "--delay-ms", str(delay_ms)]
    if capacity:
        command += ["--capacity", str(capacity)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{process.stdout.readline().strip()}/v1"
    finally:
        process.terminate()
        process.wait()


async def send(base_url: str, requests: int, concurrency: int) -> tuple[float, float, list[float]]:
    """(wall seconds, CPU seconds, latencies in ms) of ``requests`` calls after a warm-up."""
    endpoint = Endpoint("bench", base_url)
    async with ChatClient(concurrency, RetryPolicy(retries=0, timeout_s=30)) as client:
        await asyncio.gather(*(client.complete(endpoint, "openai/bench", REQUEST) for _ in range(concurrency * 4)))
        wall, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(client.complete(endpoint, "openai/bench", REQUEST) for _ in range(requests)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    failed = [result.error for result in results if not result.ok]
    if failed:
        raise SystemExit(f"{len(failed)} calls failed: {failed[0]}")
    return wall, cpu, [result.latency_ms for result in results]


def overhead(requests: int) -> dict[str, float]:
    with server() as url:
        wall, cpu, _ = asyncio.run(send(url, requests, 16))
    with server(delay_ms=LATENCY_MS) as url:
        _, _, latencies = asyncio.run(send(url, requests, 16))
    return {"cpu_ms_per_request": cpu / requests * 1000, "requests_per_s_instant_server": requests / wall,
            "added_latency_ms_mean": statistics.fmean(latencies) - LATENCY_MS,
            "added_latency_ms_p95": statistics.quantiles(latencies, n=20)[-1] - LATENCY_MS}


def scaling(capacity: int = 32, delay_ms: float = LATENCY_MS) -> list[dict[str, float]]:
    rows = []
    with server(delay_ms, capacity) as url:
        for concurrency in (1, 2, 4, 8, 16, 32, 64, 128):
            requests = max(40, concurrency * 12)
            wall, _, _ = asyncio.run(send(url, requests, concurrency))
            rows.append({"concurrency": concurrency, "requests_per_s": requests / wall,
                         "ideal_per_s": min(concurrency, capacity) / (delay_ms / 1000)})
    return rows


def write_logs(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            out.write(json.dumps({
                "ts": f"2026-10-{1 + index % 28:02d}T09:{index % 60:02d}:00Z", "metadata": {"category": "support"},
                "request": {"model": "gpt-4o", "temperature": 0.0, "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": f"Question {index}: how do I rotate an API key?"}]},
                "response": {"id": f"chatcmpl-{index}", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": "Settings, then API keys."}}],
                             "usage": {"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340}},
            }) + "\n")


def whole_command(replayed: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work, server() as url:
        folder = Path(work)
        write_logs(folder / "logs.jsonl", replayed)
        (folder / "policy.yaml").write_text(
            "name: cheaper\ncategories:\n  - from: metadata.category\n"
            "routes:\n  - when: {category: support}\n    to: openai/gpt-4o-mini\n", encoding="utf-8")
        (folder / "endpoints.yaml").write_text(
            f"endpoints:\n  - name: bench\n    base_url: {url}\n    providers: [openai]\n    json_mode: prompt\n",
            encoding="utf-8")
        command = [str(Path(sys.executable).parent / "routecost"), "replay", str(folder / "logs.jsonl"),
                   "--policy", str(folder / "policy.yaml"), "--endpoints", str(folder / "endpoints.yaml"),
                   "--store", str(folder / "replay.sqlite"), "--per-category", str(replayed),
                   "--concurrency", "16", "--yes", "--format", "json"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OPENAI_API_KEY": "sk-bench"})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    calls = replayed * 3
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"calls": calls, "wall_s": wall, "calls_per_s": calls / wall, "cpu_ms_per_call": cpu / calls * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--replayed", type=int, default=400)
    args = parser.parse_args()
    client = overhead(args.requests)
    print(f"client at concurrency 16: {client['cpu_ms_per_request']:.2f} ms CPU per request "
          f"({client['requests_per_s_instant_server']:,.0f} requests/s against an instant server); "
          f"latency above the server's {LATENCY_MS:g} ms: mean {client['added_latency_ms_mean']:.2f} ms, "
          f"p95 {client['added_latency_ms_p95']:.2f} ms (bar: under 5 ms)")
    rows = scaling()
    print("throughput against a 50 ms server working on at most 32 requests at once:")
    for row in rows:
        print(f"  concurrency {row['concurrency']:>3.0f}: {row['requests_per_s']:7.1f} requests/s "
              f"(ideal {row['ideal_per_s']:.0f})")
    command = whole_command(args.replayed)
    print(f"routecost replay, {command['calls']:.0f} calls (candidates and pairwise judge calls) at concurrency 16: "
          f"{command['wall_s']:.2f} s, {command['calls_per_s']:.0f} calls/s, "
          f"{command['cpu_ms_per_call']:.2f} ms CPU per call including start-up and the audit")
    save("replay", {"client": client, "scaling": rows, "command": command})


if __name__ == "__main__":
    main()
