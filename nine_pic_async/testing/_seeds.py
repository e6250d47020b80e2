"""Inputs that tests seed a sandbox with: their own events, selfies and stored searches.

``Sandbox.add_event``, ``add_selfie`` and ``add_search`` check their arguments with the
functions here, so a mistake in a test fails where it is made, with a message that names the
value, and not later as an unexpected response.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Union

from ._data import match_photos
from ._gallery import EventGallery

SeedSelfie = Union[str, "os.PathLike[str]", bytes]
"""A selfie to seed: the path of an image file, or its bytes."""

MAX_SEEDED_PHOTO_COUNT = 100_000
"""Largest ``photo_count`` of an added event.

The sandbox builds an index of every photo of an event on the first request that needs it,
so a larger event would make that request slow.
"""

_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SELFIE_SIDE = 8
"""Width and height in pixels of the images that ``make_selfie`` draws."""


def make_selfie(label: str) -> bytes:
    """Return a small PNG image that differs for every ``label``, for use as a test selfie.

    The sandbox matches a selfie by the SHA-256 of its bytes, so two labels give two people,
    and the same label gives the same bytes in every run. The image is a valid 8x8 PNG whose
    colour comes from the label, and which carries the label in a ``tEXt`` chunk.
    """
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    red, green, blue = hashlib.sha256(label.encode()).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * _SELFIE_SIDE  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", _SELFIE_SIDE, _SELFIE_SIDE, 8, 2, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"tEXt", b"Comment\x00" + label.encode("latin-1", "replace")),
            _png_chunk(b"IDAT", zlib.compress(row * _SELFIE_SIDE)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)


def read_seed_selfie(selfie: SeedSelfie) -> bytes:
    """Return the bytes of a selfie to seed, or raise ``ValueError`` for one the client rejects.

    The client uploads only JPEG and PNG images that are not empty, so a selfie seeded in any
    other format could never be searched with.
    """
    if isinstance(selfie, (bytes, bytearray)):
        data = bytes(selfie)
    elif isinstance(selfie, (str, os.PathLike)):
        data = Path(selfie).read_bytes()
    else:
        raise TypeError(f"selfie must be a path or bytes, got {type(selfie).__name__}")
    if not (data.startswith(_JPEG_SIGNATURE) or data.startswith(_PNG_SIGNATURE)):
        raise ValueError(
            "selfie must be a JPEG or PNG image, because the client uploads no other format; "
            "make one with nine_pic_async.testing.make_selfie(label)"
        )
    return data


def check_new_event(event_id: int, photo_count: int, known_ids: Sequence[int]) -> None:
    """Raise ``ValueError`` unless an event with these values may be added."""
    if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id < 1:
        raise ValueError(f"event_id must be a positive int, got {event_id!r}")
    if event_id in known_ids:
        raise ValueError(
            f"sandbox event {event_id} already exists; change it through "
            f"sandbox.event({event_id}), or remove it first with sandbox.remove_event()"
        )
    if (
        isinstance(photo_count, bool)
        or not isinstance(photo_count, int)
        or not 0 <= photo_count <= MAX_SEEDED_PHOTO_COUNT
    ):
        raise ValueError(
            f"photo_count must be an int from 0 to {MAX_SEEDED_PHOTO_COUNT}, got {photo_count!r}"
        )


def seeded_photos(
    gallery: EventGallery,
    event_id: int,
    *,
    matches: int | None,
    image_ids: Sequence[str] | None,
    digest_source: bytes,
) -> tuple[int, ...]:
    """Return the indices of the photos a seeded selfie or search matches, in index order.

    Exactly one of ``matches`` (a count of photos, drawn from ``digest_source`` as a search
    with that selfie draws them) and ``image_ids`` (the photos themselves) must be given.
    Raises ``ValueError`` for a count over the event's photos and ``KeyError`` for an unknown
    image id.
    """
    if (matches is None) == (image_ids is None):
        raise ValueError("pass exactly one of matches= (a number of photos) and image_ids=")
    photo_count = len(gallery.image_ids)
    if matches is not None:
        if isinstance(matches, bool) or not isinstance(matches, int) or matches < 0:
            raise ValueError(f"matches must be an int of 0 or more, got {matches!r}")
        if matches > photo_count:
            raise ValueError(
                f"matches={matches} is more than the {photo_count} photos of sandbox event "
                f"{event_id}"
            )
        return match_photos(digest_source, event_id, photo_count, count=matches)

    assert image_ids is not None
    if isinstance(image_ids, str):
        raise TypeError("image_ids must be a list of image ids, not one string")
    indices = set()
    for photo_id in image_ids:
        index = gallery.find(photo_id)
        if index is None:
            raise KeyError(f"Unknown image_id {photo_id!r} in sandbox event {event_id}")
        indices.add(index)
    return tuple(sorted(indices))
