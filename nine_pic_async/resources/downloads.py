"""Downloading originals to disk: streamed, renamed when complete, resumable.

Each file is streamed to a hidden temporary name next to its final name
(`.{digest of the name}.part`) and renamed only once every byte has arrived. So
an interrupted run leaves no partial file under a final name, and a second run
skips the files that are already there. A link that has expired (the storage
returns 403) is requested again once. A file name that would leave
the destination folder is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from .. import _protocol as protocol
from .._errors import APIConnectionError, APITimeoutError, NinePicError
from .._models import OriginalLink, OriginalLinksPage

if TYPE_CHECKING:
    from .originals import OriginalsResource

logger = logging.getLogger("nine_pic_async.downloads")

CHUNK_BYTES = 64 * 1024
# Original photos are tens of megabytes; a larger body is a broken or hostile server.
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024
_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
MAX_REASON_CHARS = 300
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")

DownloadProgress = Callable[[int, int, int], object]
"""Called as `on_progress(files_done, files_total, bytes_written)` after each file."""


@dataclass(frozen=True)
class DownloadFailure:
    """A file that was not downloaded: its name (or image id) and the reason."""

    name: str
    reason: str

    def __post_init__(self) -> None:
        # Server-sent names and messages can be arbitrarily long.
        object.__setattr__(self, "name", self.name[:MAX_REASON_CHARS])
        object.__setattr__(self, "reason", self.reason[:MAX_REASON_CHARS])


@dataclass
class DownloadReport:
    """The outcome of a download run, file by file."""

    downloaded: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[DownloadFailure] = field(default_factory=list)
    bytes_written: int = 0


def safe_target(dest_dir: Path, filename: str) -> Path:
    """Return where `filename` goes inside `dest_dir`, or raise `ValueError` if it would escape."""
    if (
        not filename
        or filename in {".", ".."}
        or _UNSAFE_NAME.search(filename)
        or filename.startswith(".")
        or os.path.isabs(filename)
    ):
        raise ValueError(f"unsafe file name {filename[:80]!r}")
    target = dest_dir / filename
    if target.resolve().parent != dest_dir.resolve():
        raise ValueError(f"unsafe file name {filename[:80]!r}")
    return target


def url_for_log(url: str) -> str:
    """Return a presigned URL without its query string (the signature) or user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"[:300]


# Names of cloud metadata services; other names are not resolved before the check.
_METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "instance-data"})


def _numeric_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a numeric host means (also in decimal, hex or octal), else None."""
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    address = ipaddress.ip_address(str(found[0][4][0]).split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check_link(url: str) -> None:
    """Raise `ValueError` for a link the client must not fetch.

    Only `https://`, or `http://` to a loopback host (the sandbox), is fetched,
    and never a link-local, unspecified or multicast address (such as a cloud
    metadata service), however the address is written.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        raise ValueError("rejected link: not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise ValueError(
            f"rejected link with scheme {parts.scheme[:20]!r}: only https links are fetched"
        )
    if host.lower() in _METADATA_HOSTS:
        raise ValueError(f"rejected link to the metadata host {host}")
    address = _numeric_address(host)
    if (
        parts.scheme == "http"
        and not (address is not None and address.is_loopback)
        and not (address is None and protocol.is_loopback(host))
    ):
        raise ValueError("rejected plain-http link to a non-loopback host")
    if address is not None and (
        address.is_link_local or address.is_unspecified or address.is_multicast
    ):
        raise ValueError(f"rejected link to the special address {host}")


class _LinkExpiredError(Exception):
    pass


async def download_originals(
    originals: OriginalsResource,
    event_id: int,
    dest_dir: str | os.PathLike[str],
    body: bytes,
    *,
    concurrency: int,
    on_progress: DownloadProgress | None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> DownloadReport:
    """Download every original a selector names into `dest_dir`; see `originals.download`."""
    folder = _check_folder(dest_dir)
    protocol.check_positive_int("concurrency", concurrency)
    protocol.check_positive_int("max_file_bytes", max_file_bytes)
    report = DownloadReport()

    # Links are listed first, page by page, then downloaded. A page is listed again, once
    # for all its files, when its links have expired by the time their files are fetched.
    pages: list[OriginalLinksPage] = []
    async with originals.iter_pages_for_body(event_id, body) as walk:
        async for page in walk:
            pages.append(page)
    folder.mkdir(parents=True, exist_ok=True)

    jobs: list[tuple[int, OriginalLink]] = []
    claimed: set[str] = set()
    for number, page in enumerate(pages, start=1):
        report.failed += [
            DownloadFailure(item.image_id, item.error or "no link was generated")
            for item in page.failed_urls
        ]
        for link in page.presigned_urls:
            if link.filename in claimed:
                report.failed.append(DownloadFailure(link.filename, "duplicate file name"))
                continue
            claimed.add(link.filename)
            jobs.append((number, link))

    relister = _Relister(originals, event_id, body, max_file_bytes)
    slots = asyncio.Semaphore(concurrency)
    total = len(jobs)
    done = 0

    async def fetch(number: int, link: OriginalLink) -> None:
        nonlocal done
        async with slots:
            await _download_one(originals, relister, number, link, folder, report)
        done += 1
        if on_progress is not None:
            on_progress(done, total, report.bytes_written)

    tasks = [asyncio.ensure_future(fetch(number, link)) for number, link in jobs]
    try:
        await asyncio.gather(*tasks)
    finally:
        # On cancellation or an unexpected error, no download may outlive the call.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await relister.aclose()
    return report


def _check_folder(dest_dir: str | os.PathLike[str]) -> Path:
    if not isinstance(dest_dir, (str, os.PathLike)):
        raise TypeError(f"dest_dir must be a path, got {type(dest_dir).__name__}")
    folder = Path(dest_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"dest_dir exists and is not a folder: {str(folder)[:200]!r}")
    return folder


class _Relister:
    """Lists a page of links again at most once per run, however many of its links expired."""

    def __init__(
        self, originals: OriginalsResource, event_id: int, body: bytes, max_file_bytes: int
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self._originals = originals
        self._event_id = event_id
        self._body = body
        self._pages: dict[int, asyncio.Future[OriginalLinksPage]] = {}

    async def aclose(self) -> None:
        """Cancel and await the listings still running."""
        for future in self._pages.values():
            future.cancel()
        await asyncio.gather(*self._pages.values(), return_exceptions=True)

    async def fresh_link(self, number: int, filename: str) -> OriginalLink | None:
        future = self._pages.get(number)
        if future is None:
            future = asyncio.ensure_future(
                self._originals.links_page(self._event_id, self._body, number)
            )
            self._pages[number] = future
        page = await asyncio.shield(future)
        return next((link for link in page.presigned_urls if link.filename == filename), None)


async def _download_one(
    originals: OriginalsResource,
    relister: _Relister,
    number: int,
    link: OriginalLink,
    folder: Path,
    report: DownloadReport,
) -> None:
    try:
        target = safe_target(folder, link.filename)
        if target.is_dir():
            report.failed.append(DownloadFailure(link.filename, "a folder is in the way"))
            return
        if target.exists():
            report.skipped.append(target)
            return
        written = await _download_with_fresh_link(originals, relister, number, link, target)
    except ValueError as exc:
        report.failed.append(DownloadFailure(link.filename, str(exc)))
    except NinePicError as exc:
        report.failed.append(DownloadFailure(link.filename, str(exc)))
    except OSError as exc:
        report.failed.append(DownloadFailure(link.filename, f"cannot write the file: {exc}"))
    else:
        if written is None:
            report.failed.append(DownloadFailure(link.filename, "the link expired"))
            return
        report.downloaded.append(target)
        report.bytes_written += written


async def _download_with_fresh_link(
    originals: OriginalsResource,
    relister: _Relister,
    number: int,
    link: OriginalLink,
    target: Path,
) -> int | None:
    """Download `link` into `target`; return the bytes written, or None if it stays expired."""
    try:
        return await _stream_to_file(originals, link.url, target, relister.max_file_bytes)
    except _LinkExpiredError:
        pass
    fresh = await relister.fresh_link(number, link.filename)
    if fresh is None:
        return None
    try:
        return await _stream_to_file(originals, fresh.url, target, relister.max_file_bytes)
    except _LinkExpiredError:
        return None


async def _stream_to_file(
    originals: OriginalsResource, url: str, target: Path, max_bytes: int
) -> int:
    """Stream `url` into `target` through a temporary file; return the bytes written.

    The temporary name is fixed per file, so a run killed midway leaves at most one
    `.{digest}.part` per file, which the next run overwrites.
    """
    session = await originals.session()
    timeout = originals.download_timeout()
    # A fixed, short name: a rerun replaces a killed run's file, and long names still fit.
    digest = hashlib.sha256(target.name.encode()).hexdigest()[:16]
    temporary = target.with_name(f".{digest}.part")
    shown = url_for_log(url)
    written = 0
    check_link(url)
    try:
        async with session.get(
            url,
            allow_redirects=False,
            timeout=timeout,
            headers={"Accept-Encoding": "identity"},
        ) as response:
            if response.status == 403:
                logger.info("GET %s 403: the link has expired or is invalid", shown)
                raise _LinkExpiredError
            if response.status != 200:
                raise APIConnectionError(
                    f"download failed with status {response.status}", method="GET", path=shown
                )
            # A compressed body is decompressed on the way, so its length is not comparable.
            expected = None if "Content-Encoding" in response.headers else response.content_length
            if expected is not None and expected > max_bytes:
                raise APIConnectionError(
                    f"download of {expected} bytes is over max_file_bytes ({max_bytes})",
                    method="GET",
                    path=shown,
                )
            # O_NOFOLLOW and O_EXCL: never write through a link planted at the temporary name.
            temporary.unlink(missing_ok=True)
            descriptor = os.open(temporary, _TEMPORARY_FLAGS, 0o644)
            with os.fdopen(descriptor, "wb") as file:
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    written += len(chunk)
                    if written > max_bytes:
                        raise APIConnectionError(
                            f"download passed max_file_bytes ({max_bytes})",
                            method="GET",
                            path=shown,
                        )
                    await asyncio.to_thread(file.write, chunk)
            if expected is not None and written != expected:
                raise APIConnectionError(
                    f"download ended after {written} of {expected} bytes", method="GET", path=shown
                )
        os.replace(temporary, target)
        logger.info("GET %s 200 %d bytes", shown, written)
        return written
    except (asyncio.TimeoutError, TimeoutError) as exc:
        raise APITimeoutError("download timed out", method="GET", path=shown) from exc
    except aiohttp.ClientError as exc:
        raise APIConnectionError(
            f"download failed: {type(exc).__name__}", method="GET", path=shown
        ) from None
    finally:
        temporary.unlink(missing_ok=True)


def selector_label(
    selfie: str | uuid.UUID | None,
    bib: str | None,
    image_id: str | None,
    image_ids: Sequence[str] | None,
) -> str:
    """Return a short description of a selector, for messages."""
    if selfie is not None:
        return f"selfie {selfie}"
    if bib is not None:
        return f"BIB {bib}"
    if image_id is not None:
        return f"image {image_id}"
    return f"{len(image_ids or ())} images"
