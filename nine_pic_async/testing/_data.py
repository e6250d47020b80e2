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

from .._client import SANDBOX_API_KEY

DEMO_API_KEY = SANDBOX_API_KEY
DEMO_ORG_ID = 903
DEMO_EVENT_ID = 456
DISABLED_EVENT_ID = 457
"""Event whose ``selfie_search`` and ``bib_search`` flags are off."""
EMPTY_EVENT_ID = 1001
"""Event without photos, for the empty results of All Photos, BIB Search and Photo Timeline."""
NO_TIMELINE_EVENT_ID = 1003
"""Event whose ``timeline_search`` flag is off."""

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
    cover_image: str | None = None
    """Cover image URL or path. A value that starts with ``/`` is a path on the sandbox, which
    List Events returns as a URL under ``base_url``. Any other value is returned as is."""

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

    def list_item(self, base_url: str) -> dict[str, Any]:
        """Build the EventListItem of this event for List Events."""
        cover = self.cover_image
        if cover is not None and cover.startswith("/"):
            cover = base_url + cover
        return {
            "event_id": self.event_id,
            "event_name": self.name,
            "event_slug": self.slug,
            "event_date": self.date,
            "status": self.status,
            "cover_image": cover,
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
        cover_image=f"/media/{DEMO_EVENT_ID}/large/{image_id(DEMO_EVENT_ID, 0)}.jpg",
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
    events = [demo, disabled, *(_generated_event(*row) for row in _GENERATED_EVENTS)]
    return {event.event_id: event for event in events}


# Further events of the sandbox organisation, so that List Events has 24 events to paginate
# as in the docs. Columns: event id, name, date, status, photo count, and cover image: "url"
# for the large preview of the first photo, "path" for a storage path, or None.
_GENERATED_EVENTS: tuple[tuple[int, str | None, str | None, str | None, int, str | None], ...] = (
    (1001, "Pune Half Marathon", "2025-12-07T05:00:00", "active", 0, None),
    (1002, "Goa River Night Run", "2026-02-14T20:00:00", "active", 150, "url"),
    (1003, "Chennai Trail 25K", "2026-02-22T05:45:00", "active", 90, "path"),
    (1004, "Bengaluru 10K", "2026-04-26T06:00:00", "draft", 40, None),
    (1005, None, "2026-05-03T06:30:00", "active", 35, "url"),
    (1006, "Hyderabad Cyclothon", "2026-05-17T05:00:00", "active", 64, "path"),
    (1007, "Kolkata Heritage Walk", None, None, 25, None),
    (1008, "Jaipur Pink City Run", "2026-06-07T05:30:00", "draft", 0, None),
    (1009, "Shimla Hill Ultra", "2026-06-21T04:00:00", "active", 120, "url"),
    (1010, "Kochi Backwater Swim", "2026-07-05T07:00:00", "active", 48, "path"),
    (1011, None, None, "draft", 10, None),
    (1012, "Ahmedabad Riverfront 5K", "2026-08-02T06:00:00", "active", 33, "url"),
    (1013, "Lucknow Nawabi Run", "2026-08-16T05:30:00", "active", 72, None),
    (1014, "Mysuru Palace Relay", "2026-09-06T06:15:00", None, 18, "path"),
    (1015, "Nagpur Orange Run", "2026-09-20T06:00:00", "active", 57, "url"),
    (1016, "Chandigarh Lake Triathlon", "2026-10-04T05:00:00", "active", 81, None),
    (1017, "Bhopal Lakes Marathon", "2026-10-18T05:30:00", "draft", 0, None),
    (1018, "Indore Food Run", "2026-11-01T06:00:00", "active", 29, "url"),
    (1019, "Surat Diamond 10K", "2026-11-15T06:00:00", "active", 44, "path"),
    (1020, "Varanasi Ghats Run", "2026-11-29T05:45:00", "active", 66, None),
    (1021, "Mumbai Monsoon Ride", "2026-12-13T06:00:00", "active", 101, "url"),
    (1022, "Delhi Winter 5K", "2026-12-27T07:00:00", "draft", 15, None),
)
_EVENTS_WITHOUT_SLUG = frozenset({1006, 1018})


def _generated_event(
    event_id: int,
    name: str | None,
    date: str | None,
    status: str | None,
    photo_count: int,
    cover: str | None,
) -> SandboxEvent:
    """Create one of the further events, with BIB, selfie and timeline search on, video off."""
    slug = None
    if name is not None and event_id not in _EVENTS_WITHOUT_SLUG:
        slug = name.lower().replace(" ", "-")
    cover_image = None
    if cover == "url":
        cover_image = f"/media/{event_id}/large/{image_id(event_id, 0)}.jpg"
    elif cover == "path":
        cover_image = f"imgs/{event_id}/cover.jpg"
    return SandboxEvent(
        event_id=event_id,
        name=name,
        slug=slug,
        date=date,
        status=status,
        event_enabled=status == "active",
        bib_search=True,
        selfie_search=True,
        name_search=False,
        video_search=False,
        video_selfie_search=False,
        timeline_search=event_id != NO_TIMELINE_EVENT_ID,
        photo_count=photo_count,
        cover_image=cover_image,
    )


def image_id(event_id: int, index: int) -> str:
    """Return the stable UUID of the photo at ``index`` in an event.

    Capture timestamps never decrease with the index, but some photos have none, so All Photos
    lists those last (see ``_gallery.capture_timestamp``).
    """
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


def match_photos(
    selfie: bytes, event_id: int, photo_count: int, *, count: int | None = None
) -> tuple[int, ...]:
    """Return the indices of the photos that a selfie matches in an event, in index order.

    The count is ``count`` when given, else it comes from ``match_count``, and it is capped at
    ``photo_count``. The photos are a sample drawn by a generator seeded with the digest and
    the event id.
    """
    digest = hashlib.sha256(selfie).digest()
    count = min(match_count(digest) if count is None else count, photo_count)
    if count == 0:
        return ()
    generator = random.Random(digest + event_id.to_bytes(8, "big", signed=True))
    return tuple(sorted(generator.sample(range(photo_count), count)))
