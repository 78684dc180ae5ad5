"""Logs in object storage, read from a real S3-compatible server: moto's, started on 127.0.0.1.

The client side is routecost's own (fsspec and s3fs, credentials and endpoint from the environment
as botocore reads them); only the server is a stand-in for S3.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from routecost import objectstore
from routecost.audit import AuditOptions, run_audit
from routecost.errors import UsageError
from routecost.paths import LOG_SUFFIXES, find_inputs
from routecost.report.json import render as render_json
from routecost.sources.reader import ReaderConfig, read_logs
from routecost.sources.texts import TextRef, read_texts
from tests.conftest import AS_OF, assert_same_values
from tests.servers import S3_REGION, s3_server

s3fs = pytest.importorskip("s3fs", reason="the test extras install s3fs (scripts/install_test_deps.sh)")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
POLICIES = [str(ROOT / "policies" / "code-cascade.yaml"), str(ROOT / "policies" / "by-category.yaml")]
ROUTECOST = [sys.executable, "-m", "routecost"]
BUCKET = "team-logs"
KEY_ID = "AKIAROUTECOSTTEST042"
SECRET = "rc-secret/Zq8v3NfWk2Lx7Hd9Tb4Pm6Yc1Rj5Gs0Ua"
"""A distinctive fake secret access key: it must never appear in anything routecost prints or writes."""
MANY = 2_000


@dataclass
class Store:
    endpoint: str
    fs: Any
    many: Future[None]
    """The upload of ``MANY`` small objects under ``many/``, under way in the background."""

    def url(self, key: str) -> str:
        return f"s3://{BUCKET}/{key}"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """moto's server with the sample logs uploaded as they are (``samples/``, beside a README that is
    not a log) and gzipped (``gzipped/``); ``MANY`` small objects go up under ``many/`` meanwhile.
    Credentials and endpoint are in this process's environment, as botocore reads them."""
    workdir = tmp_path_factory.mktemp("s3")
    with s3_server(workdir) as endpoint, pytest.MonkeyPatch.context() as patch:
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
               "AWS_DEFAULT_REGION": S3_REGION}
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE",
                     "AWS_SHARED_CREDENTIALS_FILE"):
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir(BUCKET)
        uploads: dict[str, bytes] = {}
        for path in sorted(SAMPLES.rglob("*")):
            if path.is_file():
                relative = path.relative_to(SAMPLES).as_posix()
                uploads[f"{BUCKET}/samples/{relative}"] = path.read_bytes()
                if path.suffix == ".jsonl":
                    uploads[f"{BUCKET}/gzipped/{relative}.gz"] = gzip.compress(path.read_bytes())
        fs.pipe(uploads)
        with ThreadPoolExecutor(4) as uploader:  # moto takes ~7 ms a request, whatever the client: the
            # thousands of objects go up while the other tests run (their CPU is this process's, moto's its own)
            many = uploader.submit(put_many, fs)
            yield Store(endpoint, fs, many)
            many.result()


def put_many(fs: Any) -> None:
    """``MANY`` one-record objects in 31 "directories", beside a marker and a manifest that are not logs."""
    line = (SAMPLES / "app-openai.jsonl").read_bytes().splitlines(keepends=True)[0]
    objects = {f"{BUCKET}/many/2026/10/{index % 31 + 1:02d}/part-{index:05d}.jsonl": line for index in range(MANY)}
    objects.update({f"{BUCKET}/many/2026/10/_SUCCESS": b"", f"{BUCKET}/many/manifest.txt": b"not a log\n"})
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda item: fs.pipe_file(*item), objects.items()))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, in its own process, with this process's environment (the store's endpoint
    and credentials among it)."""
    return subprocess.run([*ROUTECOST, *args], capture_output=True, text=True, timeout=300, check=False,
                          env=dict(os.environ))


def json_report(*paths: str, policies: tuple[str, ...] = ()) -> dict[str, Any]:
    """The audit's JSON report, in this process (what ``--format json`` prints)."""
    options = AuditOptions(paths=list(paths), reader=ReaderConfig(workers=1), policy_paths=policies, as_of=AS_OF)
    return json.loads(render_json(run_audit(options).report))


def assert_same_report(remote: Any, local: Any) -> None:
    """Equal, field by field: counts, tokens, names exactly; money and shares to 8 significant digits
    or two nano-dollars. Polars sums floats in parallel, in an order that depends on how the rows are
    chunked, so two reads of the same files may differ in the last bit; a projection's sums are rounded
    to 1e-9 (``simulate/projection.py``), so a last-bit difference at a half nano-dollar moves a rounded
    figure by 1e-9 (seen: 7.764263418 against 7.764263417) and the percentages made from it by about
    1e-8 (11.050830067539431 against 11.050830078995661). One request more or less moves them by far
    more: the cheapest request of the samples is over a millionth of their total."""
    assert_same_values(local, remote, rel=1e-8, abs_tol=2e-9)


def as_local(remote_report: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The remote report with its object URLs named as the same files on disk."""
    return json.loads(json.dumps(remote_report).replace(prefix, f"{SAMPLES}/"))


def test_a_prefix_is_priced_exactly_as_the_same_files_on_disk_with_policies(store):
    local = json_report(str(SAMPLES), policies=tuple(POLICIES))
    remote = json_report(store.url("samples/"), policies=tuple(POLICIES))
    assert remote["sources"] == [store.url(f"samples/{name}") for name in (
        "app-anthropic.jsonl", "app-openai.jsonl", "litellm-gateway.jsonl", "batch/anthropic-batch-results.jsonl",
        "batch/openai-batch-input.jsonl", "batch/openai-batch-output.jsonl")]  # README.md: not a log
    assert remote["requests"] == local["requests"] == 2416
    assert remote["baseline"]["cost_usd"] == local["baseline"]["cost_usd"]
    assert [(row["model"], row["requests"], row["input_tokens"], row["output_tokens"])
            for row in remote["baseline"]["by_model"]] == [
        (row["model"], row["requests"], row["input_tokens"], row["output_tokens"]) for row in local["baseline"]["by_model"]]
    # everything else too, the policies included (code-cascade's prompt regex reads texts back by offset)
    assert_same_report(as_local(remote, store.url("samples/")), local)


def test_gzipped_objects_are_unpacked_on_the_fly_and_priced_the_same(store):
    local = json_report(str(SAMPLES))
    remote = json_report(store.url("gzipped/"))
    assert len(remote["sources"]) == 6 and all(source.endswith(".jsonl.gz") for source in remote["sources"])
    assert remote["baseline"]["cost_usd"] == local["baseline"]["cost_usd"]
    assert_same_report(json.loads(json.dumps(remote).replace(".jsonl.gz", ".jsonl")).get("baseline"),
                       local["baseline"])


def test_globs_match_like_local_globs_and_an_object_two_globs_match_is_read_once(store):
    local = json_report(f"{SAMPLES}/app-*.jsonl", f"{SAMPLES}/*-openai.jsonl")
    remote = json_report(store.url("samples/app-*.jsonl"), store.url("samples/*-openai.jsonl"))
    assert remote["sources"] == [store.url("samples/app-anthropic.jsonl"), store.url("samples/app-openai.jsonl")]
    assert remote["requests"] == local["requests"]
    assert remote["baseline"]["cost_usd"] == local["baseline"]["cost_usd"]
    assert f"{store.url('samples/app-openai.jsonl')} is the same file as {store.url('samples/app-openai.jsonl')}: " \
           "read once" in remote["assumptions"]

    inputs = find_inputs([store.url("**/openai-batch-*.jsonl"), store.url("samples/batch/")])
    assert inputs.files == [store.url("samples/batch/openai-batch-input.jsonl"),
                            store.url("samples/batch/openai-batch-output.jsonl"),
                            store.url("samples/batch/anthropic-batch-results.jsonl")]
    assert len(inputs.notes) == 2  # the two openai ones, reached again by the prefix: read once
    again = find_inputs([store.url("samples/app-openai.jsonl"), f"s3a://{BUCKET}/samples/app-openai.jsonl"])
    assert len(again.files) == 1 and len(again.notes) == 1  # s3a:// names the same objects as s3://


def test_progress_counts_the_bytes_of_every_object_as_listed(store):
    progressed: list[int] = []
    result = read_logs([store.url("samples/"), store.url("gzipped/")], ReaderConfig(workers=1), progressed.append)
    listed = sum(store.fs.size(source.removeprefix("s3://")) for source in result.sources)
    assert sum(progressed) == listed  # compressed bytes for the gzipped ones, as for local files
    assert result.requests.height == 2 * 2416


def test_a_prefix_of_thousands_of_small_objects(store):
    one = run_audit(AuditOptions(paths=[store.url("samples/app-openai.jsonl")], reader=ReaderConfig(workers=1),
                                 as_of=AS_OF))
    first = one.priced.requests.row(0, named=True)["cost_usd"]
    store.many.result()

    audit = run_audit(AuditOptions(paths=[store.url("many/")], reader=ReaderConfig(workers=1), as_of=AS_OF))
    assert len(audit.report.sources) == MANY  # _SUCCESS and manifest.txt are not log files
    assert audit.report.sources[:2] == [store.url("many/2026/10/01/part-00000.jsonl"),
                                        store.url("many/2026/10/01/part-00031.jsonl")]
    assert audit.report.requests == MANY and audit.report.malformed == 0
    assert audit.report.cost_usd == pytest.approx(MANY * first, rel=1e-9)


def test_records_are_read_back_by_offset_from_objects_plain_and_gzipped(store):
    local = read_logs([str(SAMPLES)], ReaderConfig(workers=1)).requests
    for prefix in ("samples/", "gzipped/"):
        remote = read_logs([store.url(prefix)], ReaderConfig(workers=1)).requests
        assert remote["offset"].to_list() == local["offset"].to_list()
        rows = list(range(0, local.height, 97))
        assert read_texts(TextRef.of(remote[rows])) == read_texts(TextRef.of(local[rows]))
        texts = read_texts(TextRef.of(remote[rows]))
        assert sum(text is not None and bool(text.messages) for text in texts) > len(rows) // 2


def test_a_large_object_is_streamed_not_held(store):
    record = (SAMPLES / "app-openai.jsonl").read_bytes().splitlines(keepends=True)[0]
    body = record * math.ceil((32 << 20) / len(record))
    store.fs.pipe_file(f"{BUCKET}/big/32mb.jsonl", body)
    (url,) = find_inputs([store.url("big/32mb.jsonl")]).files
    tracemalloc.start()
    try:
        lines = size = 0
        with objectstore.open_object(url) as handle:
            while line := handle.readline():
                lines += 1
                size += len(line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (lines, size) == (body.count(b"\n"), len(body))
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB while reading a {len(body) / 2**20:.0f} MiB object"


def test_an_object_replaced_while_it_is_read_is_an_error_not_two_versions(store):
    store.fs.pipe_file(f"{BUCKET}/changing.jsonl", b"x" * (3 << 20))
    (url,) = find_inputs([store.url("changing.jsonl")]).files
    with objectstore.open_object(url) as handle:
        handle.read(2 << 20)
        store.fs.pipe_file(f"{BUCKET}/changing.jsonl", b"y" * (3 << 20))
        handle.seek(0)  # a new GET, on condition of the ETag listed
        with pytest.raises(UsageError, match="replaced while it was read"):
            handle.read(10)


@pytest.mark.parametrize(("path", "problem"), [
    ("s3://no-such-bucket-here/logs/", "no such bucket (no-such-bucket-here)"),
    (f"s3://{BUCKET}/samples/nope.jsonl", "no such object or prefix"),
    (f"s3://{BUCKET}/nothing-here/", "no such object or prefix"),
    (f"s3://{BUCKET}/samples/*.parquet", "no objects match this pattern"),
])
def test_a_missing_bucket_object_or_prefix_is_an_error_naming_it(store, path, problem):
    with pytest.raises(UsageError) as raised:
        find_inputs([str(SAMPLES), path])  # other inputs do not excuse it, as for a missing local file
    assert str(raised.value) == f"{path}: {problem}"


def test_on_the_command_line_it_is_one_line_and_exit_2(store):
    store.fs.pipe_file(f"{BUCKET}/notes/readme.txt", b"no logs here\n")
    done = run("audit", str(SAMPLES), store.url("notes/"))
    assert done.returncode == 2
    assert done.stderr == (f"routecost: error: {store.url('notes/')}: no log files under this prefix (looked for "
                           f"{', '.join(LOG_SUFFIXES)})\n")


def test_a_missing_extra_names_the_install_command(store, monkeypatch):
    for url, extra, package in (("gs://bucket/logs/", "gcs", "gcsfs"), ("az://container/logs/", "azure", "adlfs"),
                                (store.url("samples/"), "s3", "s3fs")):
        monkeypatch.setitem(sys.modules, package, None)  # as if not installed
        with pytest.raises(UsageError) as raised:
            find_inputs([url])
        assert str(raised.value) == (f"{url}: reading {url.split(':')[0]}:// needs the {extra} extra "
                                     f"(pip install 'routecost[{extra}]')")


def test_credentials_are_never_printed_nor_written(store, tmp_path):
    out, per_request = tmp_path / "report.json", tmp_path / "requests.csv"
    done = run("audit", store.url("samples/"), "--format", "json", "--out", str(out), "--per-request",
               str(per_request))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["baseline"]["cost_usd"] == json_report(str(SAMPLES))["baseline"]["cost_usd"]
    assert per_request.read_text().count(store.url("samples/")) >= 2416  # each request names its object
    refused = run("audit", f"s3://{KEY_ID}:{SECRET}@{BUCKET}/samples/")
    assert refused.returncode == 2 and "credentials in it" in refused.stderr
    for text in (done.stdout, done.stderr, refused.stdout, refused.stderr,
                 *(path.read_text(encoding="utf-8", errors="replace") for path in tmp_path.rglob("*") if path.is_file())):
        assert SECRET not in text and KEY_ID not in text


def test_a_refused_key_is_access_denied_and_the_secret_stays_out_of_the_error(store, tmp_path, monkeypatch):
    with s3_server(tmp_path, require_auth=True) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        with pytest.raises(UsageError) as raised:
            find_inputs([f"s3://{BUCKET}/samples/"])
    message = str(raised.value)
    assert message.startswith(f"s3://{BUCKET}/samples/: access denied (")
    assert "\n" not in message and SECRET not in message and KEY_ID not in message


def test_errors_a_store_sends_back_are_redacted(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    echoed = OSError(f"denied: {KEY_ID} signed {SECRET} https://x/?X-Amz-Signature=abc123def456&X-Amz-Credential=k%2F1")
    text = objectstore.describe_error(echoed)
    assert SECRET not in text and KEY_ID not in text and "abc123def456" not in text and "k%2F1" not in text
    assert text.startswith("OSError: denied: ")
