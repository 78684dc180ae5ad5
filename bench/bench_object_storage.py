"""Benchmark: logs in object storage, through moto's S3-compatible server on this machine.

    .venv/bin/python bench/bench_object_storage.py [--records 50000] [--objects 2000]

1. A JSON-lines object of the audit benchmark's records (50,000 records, about 100 MB): streamed
   through routecost's object reader alone (MB/s, the peak of Python allocations while it reads),
   then `routecost audit s3://...` against `routecost audit FILE` of the same file on disk (time and
   peak RSS, one reader process each).
2. A prefix of N one-record objects in 31 "directories": `routecost audit` of it against the same
   tree on disk.

moto answers from the same 2 cores the client runs on, so these are a floor for a real store's
throughput, not a ceiling; they show what routecost adds.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_audit import ROUTECOST, run_measured, save, wrapper_log

BUCKET = "bench-logs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stream_rate(url: str) -> tuple[float, float]:
    """(MB/s, peak MiB of Python allocations) reading the object line by line through routecost."""
    from routecost import objectstore

    objectstore.find_objects(url)
    tracemalloc.start()
    start = time.perf_counter()
    size = 0
    with objectstore.open_object(url) as handle:
        while line := handle.readline():
            size += len(line)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size / 1e6 / elapsed, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--objects", type=int, default=2_000)
    args = parser.parse_args()
    log = wrapper_log(args.records)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.update(env)
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx
        import s3fs

        for _ in range(200):
            try:
                if httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir(BUCKET)
        fs.put_file(str(log), f"{BUCKET}/big/{log.name}")
        url = f"s3://{BUCKET}/big/{log.name}"
        rate, peak_alloc = stream_rate(url)
        print(f"stream: {log.stat().st_size / 1e6:.0f} MB at {rate:.0f} MB/s, peak Python allocations "
              f"{peak_alloc:.1f} MiB", flush=True)
        audit = [ROUTECOST, "audit", "--format", "json", "--workers", "1"]
        remote_s, remote_mb, _ = run_measured([*audit, url], env=env)
        local_s, local_mb, _ = run_measured([*audit, str(log)], env=env)
        print(f"audit: object {remote_s:.2f} s, {remote_mb} MiB peak RSS; file {local_s:.2f} s, {local_mb} MiB",
              flush=True)

        line = log.open("rb").readline()
        names = [f"many/2026/10/{index % 31 + 1:02d}/part-{index:05d}.jsonl" for index in range(args.objects)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda name: fs.pipe_file(f"{BUCKET}/{name}", line), names))
        with tempfile.TemporaryDirectory() as folder:
            for name in names:
                Path(folder, name).parent.mkdir(parents=True, exist_ok=True)
                Path(folder, name).write_bytes(line)
            many_s, many_mb, _ = run_measured([*audit, f"s3://{BUCKET}/many/"], env=env)
            tree_s, _, _ = run_measured([*audit, f"{folder}/many"], env=env)
        print(f"{args.objects} objects: {many_s:.2f} s, {many_mb} MiB; the same tree on disk {tree_s:.2f} s", flush=True)
        save("object_storage", {
            "object_mb": round(log.stat().st_size / 1e6, 1), "stream_mb_per_s": round(rate, 1),
            "stream_peak_python_mib": round(peak_alloc, 2), "audit_object_s": round(remote_s, 2),
            "audit_object_peak_mib": remote_mb, "audit_file_s": round(local_s, 2), "audit_file_peak_mib": local_mb,
            "objects": args.objects, "audit_objects_s": round(many_s, 2), "audit_tree_s": round(tree_s, 2),
        })
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
