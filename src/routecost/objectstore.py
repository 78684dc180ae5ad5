"""Logs in object storage: ``s3://``, ``gs://`` and ``az://`` (``abfs://``) objects, prefixes and
globs, listed and read through fsspec.

A prefix is listed like a directory (the objects under it, at any depth, with a log-file suffix, in
the order a walk of the same tree on disk gives); a glob is expanded by the store's own listing
(``**`` across "directories"; a prefix it matches is listed in turn). Each object is streamed, never
held whole, behind a buffered, seekable binary file: the reader sees what it sees for a local file
(gzip unpacked on the fly, by content; a record read back by its byte offset). On S3 an object is one
GET from the current position on, its bytes arriving as they are read, on condition (``If-Match``)
that it is still the version listed: an object replaced while it is read is an error, never two
versions mixed. Small objects are fetched a few ahead while the one before is parsed, so a prefix of
thousands of them does not wait a round trip each. Google Cloud Storage and Azure are read with
fsspec's own ranged reads, the next block fetched in the background.

Credentials come only from the environment and each store's standard chain (botocore's for S3:
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and
``~/.aws``, instance and container roles; ``AWS_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL_S3`` for an
S3-compatible server). routecost reads none from its command line or a URL, stores none, and
redacts what a store's error could echo before it is shown.

Kept free of heavy imports (``paths.py`` consults it): fsspec and the store's package are imported
when a remote path is first named; a missing one is a one-line error naming the extra to install.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, NoReturn, cast

from routecost.errors import UsageError

_SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure"}
"""URL schemes read as object storage, and the store each names."""


@dataclass(frozen=True)
class _Store:
    package: str
    """The fsspec implementation's module (in the store's extra)."""
    extra: str


_STORES = {"s3": _Store("s3fs", "s3"), "gcs": _Store("gcsfs", "gcs"), "azure": _Store("adlfs", "azure")}
BLOCK_BYTES = 8 << 20
"""Google Cloud Storage and Azure: bytes per ranged read; at most two such blocks of an object are
held (the one being read and the next, fetched in the background)."""
BUFFER_BYTES = 1 << 20
"""The buffered reader's buffer: what one read from the stream asks for."""
_GLOB_CHARS = "*?["


def scheme(path: str) -> str | None:
    """The object-storage scheme a path starts with (``s3``, ``gs``, ...), or None."""
    head, separator, _ = path.partition("://")
    return head.lower() if separator and head.lower() in _SCHEMES else None


def is_remote(path: str) -> bool:
    return scheme(path) is not None


@dataclass(frozen=True)
class _Object:
    filesystem: Any
    path: str
    """The object's path as its filesystem names it (``bucket/key``)."""
    size: int | None
    etag: str | None


_objects: dict[str, _Object] = {}
"""Every object listed in this process, by the URL it is read under (sizes for the progress bar,
and the filesystem to read it back with)."""
_listings: dict[str, list[str]] = {}
"""The objects each remote path named: listed once a run (the progress bar asks before the reader,
which takes them: ``read_ahead``)."""
_filesystems: dict[tuple[Any, ...], Any] = {}


def find_objects(url: str) -> list[str]:
    """The objects a remote path names, as URLs in sorted order: the object itself, every log file
    under a prefix (``is_log_file``), or a glob's matches (a prefix among them listed for log files).
    A missing bucket, object or prefix, an empty one, a glob matching nothing, access denied: a
    one-line ``UsageError`` naming the URL."""
    if url not in _listings:
        _listings[url] = _list(url)
    return _listings[url]


def _list(url: str) -> list[str]:
    from routecost.paths import LOG_SUFFIXES, is_log_file

    filesystem, root = _filesystem(url)
    prefix = f"{scheme(url)}://"

    def log_files(directory: str) -> dict[str, dict[str, Any]]:
        found = filesystem.find(directory, detail=True)
        return {name: info for name, info in found.items()
                if info.get("type") != "directory" and is_log_file(name.rsplit("/", 1)[-1])}

    filesystem.invalidate_cache()  # fsspec keeps listings: a long-lived process must see today's objects
    with _store_errors(url, "cannot list"):
        if any(char in root for char in _GLOB_CHARS):
            found: dict[str, dict[str, Any]] = {}
            for name, info in sorted(filesystem.glob(root, detail=True).items()):
                found.update(log_files(name) if info.get("type") == "directory" else {name: info})
            if not found:
                raise UsageError(f"{url}: no objects match this pattern")
        else:
            try:
                info = filesystem.info(root)
            except FileNotFoundError:
                _missing(url, filesystem, root)
            if info.get("type") == "directory":
                found = log_files(root)
                if not found:
                    raise UsageError(f"{url}: no log files under this prefix (looked for {', '.join(LOG_SUFFIXES)})")
            else:
                found = {root: info}
    urls = []
    for name, info in sorted(found.items(), key=lambda item: _walk_order(item[0])):
        object_url = prefix + name
        _objects[object_url] = _Object(filesystem, name, info.get("size"), info.get("ETag") or info.get("etag"))
        urls.append(object_url)
    return urls


def _walk_order(name: str) -> list[tuple[int, str]]:
    """A sort key that puts object names in the order ``os.walk`` visits the same tree on disk: in
    each "directory", its objects by name, then its sub-directories by name."""
    *directories, base = name.split("/")
    return [(1, directory) for directory in directories] + [(0, base)]


def _missing(url: str, filesystem: Any, root: str) -> NoReturn:
    """Not found: say whether the bucket (container) is missing or only the object or prefix."""
    bucket = root.split("/", 1)[0]
    try:
        bucket_exists = bool(filesystem.exists(bucket)) if "/" in root else False
    except Exception:  # noqa: BLE001 - only to choose the wording
        bucket_exists = True
    what = "no such object or prefix" if bucket_exists else f"no such bucket ({bucket})"
    raise UsageError(f"{url}: {what}")


def object_identity(url: str) -> tuple[str, str]:
    """What makes two URLs the same object: the store and the object's path as its filesystem names
    it (``s3a://`` is ``s3://``, ``abfs://c@account.dfs.core.windows.net/k`` is ``az://c/k``)."""
    known = _objects.get(url)
    store = _SCHEMES[scheme(url) or ""]
    return (store, known.path) if known is not None else (store, url.partition("://")[2].rstrip("/"))


def object_size(url: str) -> int:
    """An object's size in bytes, as its listing gave it (0 when the store did not say)."""
    known = _objects.get(url)
    if known is None:
        find_objects(url)
        known = _objects[url]
    return int(known.size or 0)


PREFETCH_OBJECTS = 16
"""While one object is read, up to this many small ones after it are fetched, concurrently."""
PREFETCH_MAX_BYTES = 2 << 20
"""The largest object fetched ahead (whole); a larger one is streamed when its turn comes."""
_plan: list[str] = []
"""Objects about to be read, in their order (``read_ahead``)."""
_plan_index: dict[str, int] = {}
"""Where each object not yet opened stands in ``_plan``; it leaves when it is opened."""
_plan_next = 0
"""The first object in ``_plan`` not yet considered for fetching ahead."""
_prefetched: dict[str, Future[bytes]] = {}


def read_ahead(sources: Sequence[str]) -> None:
    """The reader is about to read these sources in this order: from now on, opening one of its
    objects fetches the next small ones (a prefix of thousands of small objects costs a round trip
    per object; fetched ``PREFETCH_OBJECTS`` at a time, the waits overlap)."""
    global _plan_next
    _prefetched.clear()
    _listings.clear()  # the reader has taken them: a later run in this process lists afresh
    _plan[:] = [url for url in sources if url in _objects]
    _plan_index.clear()
    _plan_index.update((url, index) for index, url in enumerate(_plan))
    _plan_next = 0


def _prefetch_after(url: str) -> None:
    """Opening a planned object: fetch the small ones after it, up to ``PREFETCH_OBJECTS`` ahead."""
    global _plan_next
    index = _plan_index.pop(url, None)
    if index is None:
        return
    _plan_next = max(_plan_next, index + 1)
    while _plan_next < min(len(_plan), index + 1 + PREFETCH_OBJECTS) and len(_prefetched) < PREFETCH_OBJECTS:
        following = _plan[_plan_next]
        _plan_next += 1
        known = _objects[following]
        if (following in _plan_index and known.size is not None and known.size <= PREFETCH_MAX_BYTES
                and not following.lower().endswith(".parquet")):  # (polars reads Parquet from the store itself)
            store = _SCHEMES[scheme(following) or ""]
            _prefetched[following] = asyncio.run_coroutine_threadsafe(_fetch_whole(known, store),
                                                                      known.filesystem.loop)


def _result(fetched: Future[bytes]) -> bytes | None:
    """A prefetched object's bytes; None if fetching failed (it is read again, streamed, and a lasting
    failure is reported from there)."""
    try:
        return fetched.result()
    except Exception:  # noqa: BLE001 - any failure: read it again
        return None


async def _fetch_whole(known: _Object, store: str) -> bytes:
    """A small object's bytes (on S3 on condition it is still the listed version)."""
    if store != "s3":
        return cast(bytes, await known.filesystem._cat_file(known.path))
    bucket, key, version = known.filesystem.split_path(known.path)
    conditions = {"IfMatch": known.etag} if known.etag else {}
    if version:
        conditions["VersionId"] = version
    response = await known.filesystem._call_s3("get_object", Bucket=bucket, Key=key, **conditions)
    body = response["Body"]
    try:
        return cast(bytes, await body.read())
    finally:
        body.close()


def open_object(url: str) -> io.BufferedReader:
    """An object's bytes as a buffered, seekable binary file, streamed (never held whole)."""
    known = _objects.get(url)
    if known is None:  # not listed in this process: list it now (its size, ETag and filesystem)
        find_objects(url)
        known = _objects[url]
    _prefetch_after(url)
    fetched = _prefetched.pop(url, None)
    data = None if fetched is None else _result(fetched)
    if data is not None:
        return io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]
    raw: _Stream = _S3Stream(known, url) if _SCHEMES[scheme(url) or ""] == "s3" else _BlockStream(known, url)
    return io.BufferedReader(raw, buffer_size=BUFFER_BYTES)


class _Stream(io.RawIOBase):
    """An object as a raw binary stream whose every failure is a one-line, redacted ``UsageError``."""

    def __init__(self, known: _Object, url: str) -> None:
        self._object = known
        self._url = url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _call(self, action: Callable[[], int]) -> int:
        with _store_errors(self._url, "cannot read"):
            return int(action())


class _BlockStream(_Stream):
    """Google Cloud Storage and Azure: fsspec's own file, ranged reads of ``BLOCK_BYTES``, the next
    block fetched in the background."""

    def __init__(self, known: _Object, url: str) -> None:
        super().__init__(known, url)
        with _store_errors(url, "cannot read"):
            self._handle = known.filesystem.open(known.path, "rb", block_size=BLOCK_BYTES, cache_type="background",
                                                 cache_options={"maxblocks": 2})

    def readinto(self, buffer: Any) -> int:
        return self._call(lambda: self._handle.readinto(buffer))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._call(lambda: self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def close(self) -> None:
        if not self.closed:
            try:
                self._handle.close()
            finally:
                super().close()


SKIP_BYTES = 1 << 20
"""A seek at most this far ahead reads on through the open response instead of starting another."""
READ_RETRIES = 2
"""A response broken off mid-object (a reset connection, a timeout) is resumed from where it stopped."""


class _S3Stream(_Stream):
    """An S3 object read as one streaming GET from the current position on (``Range: bytes=N-``,
    ``If-Match`` the listed ETag): one request for a whole object however large, its bytes arriving
    as they are read (the connection's flow control holds the rest at the server). A seek back, or
    far ahead (reading a record back by its offset), starts another GET there."""

    def __init__(self, known: _Object, url: str) -> None:
        super().__init__(known, url)
        self._bucket, self._key, version = known.filesystem.split_path(known.path)
        self._version = {"VersionId": version} if version else {}
        self._position = 0
        self._body: Any = None

    def readinto(self, buffer: Any) -> int:
        from fsspec.asyn import sync

        view = memoryview(buffer).cast("B")
        size = self._object.size
        if not view or (size is not None and self._position >= size):
            return 0
        for attempt in range(READ_RETRIES + 1):
            with _store_errors(self._url, "cannot read"):
                if self._body is None:  # the request itself (s3fs retries it): its failure is final
                    self._body = self._get()
                try:
                    data = cast(bytes, sync(self._object.filesystem.loop, self._body.read, len(view)))
                    break
                except Exception:
                    self._drop()
                    if attempt == READ_RETRIES:
                        raise
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def _get(self) -> Any:
        """The object's bytes from the current position on, on condition it is still the listed version."""
        conditions = {"IfMatch": self._object.etag} if self._object.etag else {}
        response = self._object.filesystem.call_s3("get_object", Bucket=self._bucket, Key=self._key,
                                                   Range=f"bytes={self._position}-", **conditions, **self._version)
        return response["Body"]

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._position + offset
        else:
            target = (self._object.size or 0) + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if self._body is not None and 0 < target - self._position <= SKIP_BYTES:
            skip = bytearray(target - self._position)
            while self._position < target and self.readinto(memoryview(skip)[: target - self._position]):
                pass
        if target != self._position:
            self._drop()
            self._position = target
        return target

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            try:
                self._drop()
            finally:
                super().close()

    def _drop(self) -> None:
        """Close the response (on the store's event loop, where its connection lives)."""
        body, self._body = self._body, None
        loop = self._object.filesystem.loop
        if body is not None and not sys.is_finalizing() and loop.is_running():  # (at exit the loop may be gone)
            from fsspec.asyn import sync

            with suppress(Exception):  # a response already broken off: nothing left to close
                sync(loop, _close, body, timeout=10)


async def _close(body: Any) -> None:
    body.close()


def _filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for a URL (one per store and account, built once per environment) and
    the path it names there."""
    name = scheme(url)
    assert name is not None
    _refuse_credentials(url, name)
    store = _STORES[_SCHEMES[name]]
    try:
        from fsspec.core import url_to_fs

        importlib.import_module(store.package)
    except ImportError:
        raise UsageError(f"{url}: reading {name}:// needs the {store.extra} extra "
                         f"(pip install 'routecost[{store.extra}]')") from None
    environment = tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith(_ENV_PREFIXES)))
    with _store_errors(url, "cannot connect"):
        filesystem, path = url_to_fs(url, skip_instance_cache=True)
        key = (type(filesystem), repr(sorted(filesystem.storage_options.items())), environment)
        filesystem = _filesystems.setdefault(key, filesystem)
    return filesystem, path


_ENV_PREFIXES = ("AWS_", "GOOGLE_", "GCLOUD_", "CLOUDSDK_", "GCSFS_", "AZURE_")
"""The environment a store's credential chain reads: a change (in tests) builds a new filesystem."""
_URL_SECRET = re.compile(r"^[^:/?#]+://[^/?#]*:|[?&](?:sig|signature|x-amz-[a-z-]+|token|sv)=", re.IGNORECASE)
"""``scheme://user:secret@...`` (a colon where the bucket or container is named, which no bucket name
has; a secret may hold ``/``), or a signed or SAS query string."""


def _refuse_credentials(url: str, name: str) -> None:
    """A URL carrying a secret (``user:secret@``, a signed or SAS query) is refused without being echoed."""
    if _URL_SECRET.search(url):
        raise UsageError(f"{name}://[redacted]: a URL with credentials in it is refused (and not shown); routecost "
                         "reads credentials only from the environment and the store's standard credential chain")


@contextmanager
def _store_errors(url: str, doing: str) -> Iterator[None]:
    """A store's failure as one line naming the URL, redacted; a replaced object said as such."""
    try:
        yield
    except UsageError:
        raise
    except FileNotFoundError:
        raise UsageError(f"{url}: no such object or prefix") from None
    except PermissionError as error:
        raise UsageError(f"{url}: access denied ({describe_error(error)})") from None
    except Exception as error:  # noqa: BLE001 - botocore, aiohttp, google-auth, azure-core: each their own
        if type(error).__name__ == "FileExpired" or "pre-condition" in str(error):  # If-Match failed
            raise UsageError(f"{url}: replaced while it was read (its ETag changed): read it again once it is "
                             "complete") from None
        hint = _HINTS.get(type(error).__name__, "")
        raise UsageError(f"{url}: {doing}: {describe_error(error)}{hint}") from None


_HINTS = {
    "NoCredentialsError": " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an "
                          "instance or container role applies)",
    "EndpointConnectionError": " (for an S3-compatible server, is AWS_ENDPOINT_URL right?)",
}


_SIGNED = re.compile(
    r"(?i)\b((?:x-amz-)?(?:signature|credential|security-token)|sig|skoid|sktid)=[^&\s\"'<>]+"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
)
"""Signed-URL parameters (S3's ``X-Amz-*``, Azure's SAS ``sig``) and AWS access key ids."""
_SECRET_NAMES = re.compile(r"(?i)key|secret|token|password|connection_string|sas|credential")


def describe_error(error: BaseException) -> str:
    """An error's type and first line with every credential taken out: the values of the
    environment's secret-looking variables, signed-URL parameters, AWS key ids, and anything
    else shaped like a credential."""
    from routecost.replay.client import REDACTED, redact

    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    secrets = [value for key, value in os.environ.items()
               if key.startswith(_ENV_PREFIXES) and _SECRET_NAMES.search(key) and len(value) >= 8]
    text = redact(text, secrets)
    text = _SIGNED.sub(lambda match: match.group(1) + "=" + REDACTED if match.group(1) else REDACTED, text)
    name = type(error).__name__
    return f"{name}: {text}" if text else name
