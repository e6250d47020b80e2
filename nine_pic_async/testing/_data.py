"""Fixed events, photos, sample selfies and face matching for the sandbox.

Everything here is deterministic, so tests can assert exact counts and image ids. Match
counts and the image id of each photo never change. Which photos a selfie matches is stable
for a given Python version, because Python does not promise that ``random.sample`` draws the
same sample across versions.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_API_KEY = "sandbox-key"
DEMO_ORG_ID = 903
DEMO_EVENT_ID = 456
DISABLED_EVENT_ID = 457
"""Event whose ``selfie_search`` and ``bib_search`` flags are off."""

DEFAULT_CONFIDENCE_PERCENTAGE = 90
MAX_RANDOM_MATCHES = 150
"""Upper bound of the match count for a selfie that is not one of the samples."""

_IMAGE_ID_NAMESPACE = uuid.UUID("5b0c4f0e-2f51-4a53-9a8e-3d7f3c2a6e11")
_SELFIES_DIR = Path(__file__).resolve().parent / "selfies"

SAMPLE_SELFIES: dict[str, Path] = {
    name: _SELFIES_DIR / name for name in ("runner.jpg", "cyclist.png", "crowd.jpg", "stranger.png")
}
"""Sample selfie name to the path of the image file shipped with the package."""

SAMPLE_MATCHES: dict[str, int] = {
    "runner.jpg": 87,
    "cyclist.png": 12,
    "crowd.jpg": 1000,
    "stranger.png": 0,
}
"""Sample selfie name to the number of photos it matches in ``DEMO_EVENT_ID``."""

# Keyed by the SHA-256 of the file contents, so that a copy of a sample uploaded from anywhere
# (bytes, a renamed file) gets the documented count.
_SAMPLE_COUNTS_BY_DIGEST: dict[bytes, int] = {
    hashlib.sha256(SAMPLE_SELFIES[name].read_bytes()).digest(): count
    for name, count in SAMPLE_MATCHES.items()
}


@dataclass
class SandboxEvent:
    """One event of the sandbox organisation, with the flags that Event Details returns.

    Tests may change the fields of the object that ``Sandbox.event()`` returns, for example set
    ``selfie_search = False``. The change applies to the next request.
    """

    event_id: int
    name: str | None
    slug: str | None
    date: str | None
    status: str | None
    event_enabled: bool
    bib_search: bool
    selfie_search: bool
    name_search: bool
    video_search: bool
    video_selfie_search: bool
    timeline_search: bool
    photo_count: int
    confidence_percentage: int = DEFAULT_CONFIDENCE_PERCENTAGE

    def details(self) -> dict[str, Any]:
        """Build the ``data`` object of the current Event Details response."""
        return {
            "event_id": self.event_id,
            "event_name": self.name,
            "event_slug": self.slug,
            "event_date": self.date,
            "status": self.status,
            "event_enabled": self.event_enabled,
            "bib_search": self.bib_search,
            "selfie_search": self.selfie_search,
            "name_search": self.name_search,
            "video_search": self.video_search,
            "video_selfie_search": self.video_selfie_search,
            "timeline_search": self.timeline_search,
        }

    def legacy_details(self) -> dict[str, Any]:
        """Build the older flat Event Details body, which predates the video and timeline flags."""
        details = self.details()
        for key in ("video_search", "video_selfie_search", "timeline_search"):
            del details[key]
        return details


def default_events() -> dict[int, SandboxEvent]:
    """Create fresh copies of the sandbox events, keyed by event id."""
    demo = SandboxEvent(
        event_id=DEMO_EVENT_ID,
        name="Mumbai Marathon 2026",
        slug="mumbai-marathon-2026",
        date="2026-01-19T06:00:00",
        status="active",
        event_enabled=True,
        bib_search=True,
        selfie_search=True,
        # False, as in the documented Event Details example: the API has no name search endpoint.
        name_search=False,
        video_search=True,
        video_selfie_search=True,
        timeline_search=True,
        photo_count=3000,
    )
    disabled = SandboxEvent(
        event_id=DISABLED_EVENT_ID,
        name="Delhi Half Marathon",
        slug="delhi-half-marathon",
        date="2026-03-15T05:30:00",
        status="active",
        event_enabled=True,
        bib_search=False,
        selfie_search=False,
        name_search=False,
        video_search=False,
        video_selfie_search=False,
        timeline_search=True,
        photo_count=200,
    )
    return {event.event_id: event for event in (demo, disabled)}


def image_id(event_id: int, index: int) -> str:
    """Return the stable UUID of the photo at ``index`` (capture order) in an event."""
    return str(uuid.uuid5(_IMAGE_ID_NAMESPACE, f"{event_id}/{index}"))


def image_size(index: int) -> tuple[int | None, int | None]:
    """Return the (width, height) in pixels of the photo at ``index``.

    Two of three photos are portrait, one is landscape. Every 250th photo has unknown size
    (``None``), because the API documents ``width`` and ``height`` as nullable.
    """
    if index % 250 == 249:
        return None, None
    if index % 3 == 2:
        return 4860, 3240
    return 3240, 4860


class ImageCatalog:
    """Image items of all events, built on first use and kept, so a page costs a few lookups.

    The URLs point at the sandbox itself (``{base_url}/media/...``), so no response ever
    refers to another host.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._items: dict[tuple[int, int], dict[str, Any]] = {}

    def item(self, event_id: int, index: int) -> dict[str, Any]:
        """Return the ImageItem of one photo as a JSON-ready dict."""
        key = (event_id, index)
        cached = self._items.get(key)
        if cached is not None:
            return cached
        photo_id = image_id(event_id, index)
        width, height = image_size(index)
        media = f"{self._base_url}/media/{event_id}"
        item: dict[str, Any] = {
            "img_url": f"{media}/large/{photo_id}.jpg",
            "height": height,
            "width": width,
            "image_id": photo_id,
            "thumbnail_url": f"{media}/small/{photo_id}.jpg",
            "original_url": None,
        }
        self._items[key] = item
        return item


def match_count(digest: bytes) -> int:
    """Return how many photos of the demo event a selfie with this SHA-256 digest matches.

    The samples return their ``SAMPLE_MATCHES`` count. Any other image returns 1 to
    ``MAX_RANDOM_MATCHES``, derived from the digest.
    """
    sample_count = _SAMPLE_COUNTS_BY_DIGEST.get(digest)
    if sample_count is not None:
        return sample_count
    return 1 + int.from_bytes(digest[:8], "big") % MAX_RANDOM_MATCHES


def match_photos(selfie: bytes, event_id: int, photo_count: int) -> tuple[int, ...]:
    """Return the indices of the photos that a selfie matches in an event, in capture order.

    The count comes from ``match_count`` and is capped at ``photo_count``. The photos are a
    sample drawn by a generator seeded with the digest and the event id.
    """
    digest = hashlib.sha256(selfie).digest()
    count = min(match_count(digest), photo_count)
    if count == 0:
        return ()
    generator = random.Random(digest + event_id.to_bytes(8, "big", signed=True))
    return tuple(sorted(generator.sample(range(photo_count), count)))
