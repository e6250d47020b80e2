"""The code under test: application code that uses nine_pic_async, as you would write it.

`build_album` finds a participant's photos by selfie. It turns the failures a user can do
nothing about into a note, instead of an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nine_pic_async import (
    APIConnectionError,
    NinePicClient,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)


@dataclass
class Album:
    """A participant's photos, or a note that explains why there are none."""

    request_id: str | None
    photo_urls: list[str] = field(default_factory=list)
    note: str | None = None


async def build_album(client: NinePicClient, event_id: int, selfie: bytes) -> Album:
    """Search the event with `selfie` and collect the links of every matching photo."""
    try:
        # check_event=True reads the event's flags first, so no selfie is uploaded (or billed)
        # for an event whose selfie search is off.
        first = await client.faces.search(event_id, selfie, check_event=True)
    except PermissionDeniedError:
        return Album(request_id=None, note="Selfie search is turned off for this event.")
    except (RateLimitError, ServerError, APIConnectionError):
        # The client has retried already.
        return Album(request_id=None, note="Photo search is busy; try again in a minute.")

    images = await client.faces.fetch_all(event_id, first.request_id)
    return Album(request_id=first.request_id, photo_urls=[image.img_url for image in images])
