"""Capture times, gallery order, BIB tags and timeline buckets of the sandbox photos.

Each value derives from the event id, the photo count and the event date alone, through
hashes and integer arithmetic, so it is the same in every sandbox and on every Python
version. ``GalleryCache`` builds the indexes of an event on the first request that needs them
and keeps them, so a page request costs a few slices and lookups.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ._data import SandboxEvent, image_id

CAPTURE_SPAN_SECONDS = 8 * 3600
"""Time after the event start over which the capture timestamps of its photos are spread."""
BURST_SIZE = 3
"""Consecutive photos that share one capture second, as in a camera burst."""
UNTIMESTAMPED_PERIOD = 40
"""Every 40th photo (index 39, 79, ...) has no capture timestamp."""
MAX_BIBS_PER_PHOTO = 3

SAMPLE_BIBS: dict[str, int] = {
    "1234": 120,
    "A123": 10,
    "777": 1,
    "99999": 0,
}
"""Sample BIB to the number of photos tagged with it in ``DEMO_EVENT_ID``.

In any event, ``1234`` tags every photo whose index is 3 modulo 25, ``A123`` every photo whose
index is 7 modulo 300, and ``777`` only the photo at index ``photo_count // 2``. No photo
carries ``99999``.
"""

# Numeric BIBs 1001 to 1400 and a few alphanumeric ones, without the planted samples, so that
# the sample counts above are exact.
_BIB_POOL: tuple[str, ...] = tuple(
    bib
    for bib in (
        *(str(number) for number in range(1001, 1401)),
        *(f"A{number}" for number in range(101, 111)),
        *(f"B{number}" for number in range(201, 206)),
        "C7",
    )
    if bib not in SAMPLE_BIBS
)


def event_start(date: str | None) -> int | None:
    """Return the event start in Unix seconds, or None when the date is missing or invalid.

    An ``event_date`` without an offset, as in every example of the docs, is read as UTC.
    """
    if date is None:
        return None
    try:
        start = datetime.fromisoformat(date)
    except ValueError:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    return int(start.timestamp())


def capture_timestamp(start: int | None, index: int, photo_count: int) -> int | None:
    """Return the capture time in Unix seconds of the photo at ``index``, or None.

    Bursts of ``BURST_SIZE`` photos are spread evenly over ``CAPTURE_SPAN_SECONDS`` from the
    event start, so timestamps never decrease with the index. Every ``UNTIMESTAMPED_PERIOD``-th
    photo, and every photo of an event without a date, has no timestamp.
    """
    if start is None or index % UNTIMESTAMPED_PERIOD == UNTIMESTAMPED_PERIOD - 1:
        return None
    bursts = -(-photo_count // BURST_SIZE)
    return start + (index // BURST_SIZE) * CAPTURE_SPAN_SECONDS // bursts


def photo_bibs(event_id: int, index: int, photo_count: int) -> tuple[str, ...]:
    """Return the upper-case BIBs that tag the photo at ``index``: zero to three of them.

    The sample BIBs are planted by the rules in ``SAMPLE_BIBS``. The SHA-256 of the event id and
    index then sets the total number of tags and draws the others from a fixed pool.
    """
    bibs: list[str] = []
    if index % 25 == 3:
        bibs.append("1234")
    if index % 300 == 7:
        bibs.append("A123")
    if index == photo_count // 2:
        bibs.append("777")

    digest = hashlib.sha256(f"bibs/{event_id}/{index}".encode()).digest()
    wanted = digest[0] % (MAX_BIBS_PER_PHOTO + 1)
    for slot in range(MAX_BIBS_PER_PHOTO):
        if len(bibs) >= wanted:
            break
        draw = int.from_bytes(digest[1 + 2 * slot : 3 + 2 * slot], "big")
        bib = _BIB_POOL[draw % len(_BIB_POOL)]
        if bib not in bibs:
            bibs.append(bib)
    return tuple(bibs)


@dataclass(frozen=True)
class EventGallery:
    """Indexes over the photos of one event, built once by ``build_gallery``."""

    image_ids: tuple[str, ...]
    """Image id of each photo, by photo index."""
    capture_times: tuple[int | None, ...]
    """Capture timestamp of each photo in Unix seconds, or None, by photo index."""
    order: tuple[int, ...]
    """Photo indices in gallery order: by capture timestamp ascending with ties in index
    order, then the photos without a timestamp in index order."""
    timestamps: tuple[int, ...]
    """Capture timestamps of the first ``len(timestamps)`` photos of ``order``."""
    indices_by_image_id: dict[str, int]
    bib_photos: dict[str, tuple[int, ...]]
    """Upper-case BIB to the indices of its photos, in gallery order."""
    days: tuple[dict[str, Any], ...]
    """Timeline days as JSON-ready dicts: ``date``, ``total`` and ``hours``, ascending."""

    def find(self, photo_id: str) -> int | None:
        """Return the index of the photo with this image id, or None. Case is ignored."""
        return self.indices_by_image_id.get(photo_id.lower())

    def bib(self, bib: str) -> tuple[int, ...]:
        """Return the photos tagged with ``bib``, compared case-insensitively."""
        return self.bib_photos.get(bib.upper(), ())

    def window(self, start: int, end: int) -> tuple[int, int]:
        """Return the ``order`` positions ``(low, high)`` of the photos captured in [start, end)."""
        low = bisect.bisect_left(self.timestamps, start)
        high = bisect.bisect_left(self.timestamps, end)
        return low, max(low, high)


def build_gallery(event_id: int, photo_count: int, date: str | None) -> EventGallery:
    """Compute the indexes of an event from its id, photo count and date."""
    start = event_start(date)
    image_ids = tuple(image_id(event_id, index) for index in range(photo_count))

    capture_times = tuple(
        capture_timestamp(start, index, photo_count) for index in range(photo_count)
    )
    timestamped: list[tuple[int, int]] = []
    untimestamped: list[int] = []
    for index, timestamp in enumerate(capture_times):
        if timestamp is None:
            untimestamped.append(index)
        else:
            timestamped.append((timestamp, index))
    timestamped.sort()
    order = tuple(index for _, index in timestamped) + tuple(untimestamped)

    bib_photos: dict[str, list[int]] = {}
    for index in order:
        for bib in photo_bibs(event_id, index, photo_count):
            bib_photos.setdefault(bib, []).append(index)

    return EventGallery(
        image_ids=image_ids,
        capture_times=capture_times,
        order=order,
        timestamps=tuple(timestamp for timestamp, _ in timestamped),
        indices_by_image_id={photo_id: index for index, photo_id in enumerate(image_ids)},
        bib_photos={bib: tuple(indices) for bib, indices in bib_photos.items()},
        days=_timeline_days(timestamp for timestamp, _ in timestamped),
    )


def _timeline_days(timestamps: Iterable[int]) -> tuple[dict[str, Any], ...]:
    """Count ascending timestamps per UTC day and hour."""
    hours_by_day: dict[int, dict[int, int]] = {}
    for timestamp in timestamps:
        day, second_of_day = divmod(timestamp, 86400)
        hours = hours_by_day.setdefault(day, {})
        hour = second_of_day // 3600
        hours[hour] = hours.get(hour, 0) + 1

    days = []
    for day in sorted(hours_by_day):
        hours = hours_by_day[day]
        date = datetime.fromtimestamp(day * 86400, timezone.utc).date().isoformat()
        days.append(
            {
                "date": date,
                "total": sum(hours.values()),
                "hours": [{"hour": hour, "count": hours[hour]} for hour in sorted(hours)],
            }
        )
    return tuple(days)


class GalleryCache:
    """Galleries of the events of one sandbox, rebuilt when a test changes the count or date."""

    def __init__(self) -> None:
        self._galleries: dict[int, tuple[tuple[int, str | None], EventGallery]] = {}

    def get(self, event: SandboxEvent) -> EventGallery:
        """Return the gallery of ``event``, building it on first use."""
        key = (event.photo_count, event.date)
        cached = self._galleries.get(event.event_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        gallery = build_gallery(event.event_id, event.photo_count, event.date)
        self._galleries[event.event_id] = (key, gallery)
        return gallery
