"""Image bytes, presigned links and streamed responses of the sandbox's media routes.

The media routes stand in for the storage service behind the real API: they take no API key,
check the signature of an original's presigned link, and report errors as XML.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlencode

from aiohttp import web

logger = logging.getLogger("nine_pic_async.testing")

DEFAULT_ORIGINAL_SIZE = 256 * 1024
"""Bytes of each original photo that the sandbox serves unless ``original_size`` is set."""
PREVIEW_SIZES: dict[str, int] = {"large": 48 * 1024, "small": 6 * 1024}
"""Bytes of the watermarked previews that ``img_url`` and ``thumbnail_url`` point at."""
MEDIA_CHUNK_SIZE = 64 * 1024
"""Bytes per write when the sandbox streams an image, and per block of generated content."""

_JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
"""Start of image marker and a JFIF APP0 segment, so that type sniffers see a JPEG."""
_JPEG_END = b"\xff\xd9"
MIN_MEDIA_SIZE = len(_JPEG_HEADER) + len(_JPEG_END)

MediaKind = Literal["original", "large", "small"]


def iter_media_chunks(kind: MediaKind, event_id: int, photo_id: str, size: int) -> Iterator[bytes]:
    """Yield the bytes of one image in chunks of at most ``MEDIA_CHUNK_SIZE``.

    The image starts with a JPEG header and ends with the JPEG end marker. The bytes between
    come from SHAKE-256 of the kind, event id, image id and chunk number, so every chunk of
    every image differs and a client that drops or repeats a chunk gets different bytes.
    """
    if size < MIN_MEDIA_SIZE:
        raise ValueError(f"Image size must be at least {MIN_MEDIA_SIZE} bytes, got {size}")
    end_marker_start = size - len(_JPEG_END)
    for number, offset in enumerate(range(0, size, MEDIA_CHUNK_SIZE)):
        length = min(MEDIA_CHUNK_SIZE, size - offset)
        seed = f"{kind}/{event_id}/{photo_id.lower()}/{number}".encode()
        chunk = bytearray(hashlib.shake_256(seed).digest(length))
        if offset == 0:
            chunk[: len(_JPEG_HEADER)] = _JPEG_HEADER
        # The end marker may straddle the last two chunks when the last one has one byte.
        for position in range(max(offset, end_marker_start), offset + length):
            chunk[position - offset] = _JPEG_END[position - end_marker_start]
        yield bytes(chunk)


def original_bytes(event_id: int, image_id: str, size: int = DEFAULT_ORIGINAL_SIZE) -> bytes:
    """Return the bytes that the sandbox serves for an original photo of ``size`` bytes.

    Pass the sandbox's ``original_size`` to compare a downloaded file byte for byte.
    """
    return b"".join(iter_media_chunks("original", event_id, image_id, size))


def preview_bytes(event_id: int, image_id: str, variant: Literal["large", "small"]) -> bytes:
    """Return the bytes of the watermarked ``large`` or ``small`` preview of a photo."""
    return b"".join(iter_media_chunks(variant, event_id, image_id, PREVIEW_SIZES[variant]))


class LinkSigner:
    """Signs and checks presigned links to originals with HMAC-SHA256 and a per-sandbox key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def signature(self, event_id: int, photo_id: str, expires: str) -> str:
        """Return the hex signature of a link, over the ``expires`` value exactly as sent."""
        message = f"{event_id}/{photo_id}/{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def url(self, base_url: str, event_id: int, photo_id: str, lifetime: float) -> str:
        """Build a link to an original that expires ``lifetime`` seconds from now.

        ``expires`` is whole Unix seconds rounded up, so a link lives between ``lifetime``
        and ``lifetime`` + 1 seconds.
        """
        expires = str(math.ceil(time.time() + lifetime))
        query = urlencode(
            {"expires": expires, "signature": self.signature(event_id, photo_id, expires)}
        )
        return f"{base_url}/media/originals/{event_id}/{photo_id}.jpg?{query}"

    def is_valid(self, event_id: int, photo_id: str, expires: str, signature: str) -> bool:
        """Return whether ``signature`` signs this event, image id and ``expires`` value."""
        expected = self.signature(event_id, photo_id, expires)
        return hmac.compare_digest(expected.encode(), signature.encode())


def storage_error(status: int, code: str, message: str) -> web.Response:
    """Build an XML error in the style of an object storage service."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


class MediaStream(web.StreamResponse):
    """A 200 image response whose body is generated chunk by chunk while it is sent.

    Handlers return it unsent, so that the dispatcher can still drop the connection, cut the
    body short or send it whole with ``send()``.
    """

    def __init__(self, kind: MediaKind, event_id: int, photo_id: str, size: int) -> None:
        super().__init__(status=200)
        self.content_type = "image/jpeg"
        self.content_length = size
        self._kind: MediaKind = kind
        self._event_id = event_id
        self._photo_id = photo_id
        self._size = size

    async def send(self, request: web.Request, cut: float | None = None) -> web.StreamResponse:
        """Send the headers and the body, or with ``cut`` only part of the body, then close.

        ``cut`` in [0, 1) is where the body ends, as a fraction of its length. A cut body
        keeps its full ``Content-Length`` and has at least one byte and at most all but one,
        as ``send_truncated`` does for JSON responses.
        """
        limit = self._size if cut is None else 1 + int(cut * (self._size - 1))
        sent = 0
        try:
            await self.prepare(request)
            for chunk in iter_media_chunks(self._kind, self._event_id, self._photo_id, self._size):
                part = chunk[: limit - sent]
                await self.write(part)
                sent += len(part)
                if sent >= limit:
                    break
        except ConnectionError:
            # The client went away mid-download (it cancelled, or its timeout passed).
            logger.debug(
                "media download of %s cut by the client after %d bytes", self._photo_id, sent
            )
            return self
        if cut is None:
            await self.write_eof()
        elif request.transport is not None:
            # close(), unlike abort(), flushes what is already written before closing.
            request.transport.close()
        return self
