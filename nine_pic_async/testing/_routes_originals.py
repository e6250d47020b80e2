"""Sandbox handlers of Download Originals and of the media routes its links point at.

Download Originals returns presigned links to ``/media/originals/...`` on the sandbox itself.
The media routes serve those originals and the watermarked previews that image items link to.
They take no API key, as a storage service would not, and return XML errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import msgspec
from aiohttp import web

from ._gallery import EventGallery
from ._http import (
    ApiError,
    RequestBody,
    canonical_request_id,
    flat_response,
    pagination,
    parse_page_query,
    success_response,
    unprocessable,
)
from ._media import PREVIEW_SIZES, MediaStream, storage_error

if TYPE_CHECKING:
    from ._server import Sandbox

logger = logging.getLogger("nine_pic_async.testing")

ORIGINALS_DEFAULT_PAGE_SIZE = 30
ORIGINALS_MAX_PAGE_SIZE = 60
FAILED_LINK_PERIOD = 53
"""Photos whose index is a multiple of 53 fail to get a link and go to ``failed_urls``."""

DownloadMethod = Literal["bib", "selfie", "image_id", "image_ids"]
_METHODS: tuple[str, ...] = get_args(DownloadMethod)
_METHOD_ERROR = "body.method: Input should be 'bib', 'selfie', 'image_id' or 'image_ids'"
_decode_json = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class DownloadRequest:
    """A valid Download Originals body. ``identifier`` is a list only for ``image_ids``."""

    method: DownloadMethod
    identifier: str | list[str]


def parse_download_request(content: bytes) -> tuple[DownloadRequest | None, list[str]]:
    """Return the parsed body and an empty list, or None and its ``body.*`` errors.

    Fields other than ``method`` and ``identifier`` are ignored. ``identifier`` must be a
    string for ``bib``, ``selfie`` and ``image_id`` and a list of strings for ``image_ids``.
    """
    if not content.strip():
        return None, ["body: Field required"]
    try:
        payload = _decode_json(content)
    except msgspec.DecodeError:
        return None, ["body: JSON decode error"]
    if not isinstance(payload, dict):
        return None, ["body: Input should be a valid dictionary or object to extract fields from"]

    errors: list[str] = []
    method = payload.get("method")
    if method is None:
        errors.append("body.method: Field required")
    elif method not in _METHODS:
        errors.append(_METHOD_ERROR)

    identifier = payload.get("identifier")
    if identifier is None:
        errors.append("body.identifier: Field required")
    elif method == "image_ids":
        if not isinstance(identifier, list):
            errors.append("body.identifier: Input should be a valid list")
        else:
            errors += [
                f"body.identifier.{position}: Input should be a valid string"
                for position, item in enumerate(identifier)
                if not isinstance(item, str)
            ]
    elif method in _METHODS and not isinstance(identifier, str):
        errors.append("body.identifier: Input should be a valid string")

    if errors:
        return None, errors
    return DownloadRequest(
        method=cast(DownloadMethod, method), identifier=cast("str | list[str]", identifier)
    ), []


def requested_photos(
    sandbox: Sandbox, event_id: int, gallery: EventGallery, request: DownloadRequest
) -> Sequence[int]:
    """Return the indices of the photos that a download request names, in response order.

    Raises a 400 ``ApiError`` for an invalid selfie ``request_id``, an unknown ``image_id`` or
    an ``image_ids`` list without any known id, and a 404 one for an unknown face search.
    """
    identifier = request.identifier
    if request.method == "bib":
        assert isinstance(identifier, str)
        return gallery.bib(identifier)

    if request.method == "selfie":
        assert isinstance(identifier, str)
        request_id = canonical_request_id(identifier)
        search = sandbox._searches.get((event_id, request_id))
        if search is None:
            raise ApiError(
                404, f"No face search with request_id {request_id} exists for this event."
            )
        return search.photo_indices

    if request.method == "image_id":
        assert isinstance(identifier, str)
        index = gallery.find(identifier)
        if index is None:
            raise ApiError(400, f"image_id {identifier} not found for this event.")
        return (index,)

    assert isinstance(identifier, list)
    if not identifier:
        raise ApiError(400, "identifier must list at least one image_id for method image_ids.")
    # dict.fromkeys drops repeated ids and keeps the order of their first occurrence.
    found = [gallery.find(photo_id) for photo_id in identifier]
    indices = list(dict.fromkeys(index for index in found if index is not None))
    if not indices:
        raise ApiError(400, "None of the requested image_ids exists in this event.")
    return indices


async def handle_original_links(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """Return presigned links to the originals of one page of the requested photos.

    Where the docs are silent, the sandbox chooses the following. Unknown ids in an
    ``image_ids`` list are skipped and repeated ids count once. ``total_images``,
    ``successful_count`` and ``failed_count`` count the photos of this page, as in the docs'
    example where ``total_images`` is 1 and ``pagination.total`` is 47. No feature flag is
    checked, because the docs list none for this endpoint.
    """
    event = sandbox._require_event(request)
    content = await body.content()
    page, page_size, errors = parse_page_query(
        request.query,
        max_page_size=ORIGINALS_MAX_PAGE_SIZE,
        default_page_size=ORIGINALS_DEFAULT_PAGE_SIZE,
    )
    download, body_errors = parse_download_request(content)
    errors += body_errors
    if errors:
        raise unprocessable(errors)
    assert download is not None

    gallery = sandbox._gallery(event)
    photos = requested_photos(sandbox, event.event_id, gallery, download)
    start = (page - 1) * page_size
    presigned_urls: list[dict[str, Any]] = []
    failed_urls: list[dict[str, Any]] = []
    for index in photos[start : start + page_size]:
        photo_id = gallery.image_ids[index]
        if index % FAILED_LINK_PERIOD == 0:
            failed_urls.append(
                {
                    "image_id": photo_id,
                    "error": "Failed to generate URL",
                    "path": f"imgs/{event.event_id}/large/{photo_id}.jpg",
                }
            )
        else:
            url = sandbox._signer.url(
                sandbox.base_url, event.event_id, photo_id, sandbox.link_lifetime
            )
            presigned_urls.append({"url": url, "filename": f"{photo_id}.jpg"})

    identifier = None if download.method == "image_ids" else download.identifier
    message = None
    if not photos:
        message = f"No images found for {download.method} identifier {identifier}"
    data = {
        "presigned_urls": presigned_urls,
        "failed_urls": failed_urls,
        "total_images": len(presigned_urls) + len(failed_urls),
        "successful_count": len(presigned_urls),
        "failed_count": len(failed_urls),
        "identifier": identifier,
        "message": message,
        "pagination": pagination(len(photos), page, page_size),
    }
    if sandbox.legacy_flat:
        return flat_response(data)
    return success_response(message or "Presigned URLs for original photos", data)


def _find_photo(sandbox: Sandbox, request: web.Request) -> tuple[int, str] | None:
    """Return the event id and canonical image id of a media path, or None if unknown."""
    event = sandbox._events.get(int(request.match_info["event_id"]))
    if event is None:
        return None
    gallery = sandbox._gallery(event)
    index = gallery.find(request.match_info["image_id"])
    if index is None:
        return None
    return event.event_id, gallery.image_ids[index]


def _storage_error(request: web.Request, status: int, code: str, message: str) -> web.Response:
    """Log and build an XML error of a media route."""
    logger.debug("Sandbox returns %d %s for GET %s: %s", status, code, request.path, message)
    return storage_error(status, code, message)


def _no_such_key(request: web.Request) -> web.Response:
    return _storage_error(request, 404, "NoSuchKey", "No object exists at this key")


async def handle_media_original(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """Serve an original photo for a valid, unexpired presigned link, without an API key.

    A link is valid while the current time is before its ``expires``. The signature is
    checked first, so a link whose ``expires`` was edited fails as a bad signature.
    """
    expires = request.query.get("expires")
    signature = request.query.get("signature")
    if expires is None or signature is None:
        return _storage_error(
            request, 403, "AccessDenied", "Query parameters expires and signature are required"
        )
    event_id = int(request.match_info["event_id"])
    requested_id = request.match_info["image_id"]
    if not sandbox._signer.is_valid(event_id, requested_id, expires, signature):
        return _storage_error(
            request, 403, "SignatureDoesNotMatch", "The signature does not match this link"
        )
    if not expires.isdigit() or time.time() >= int(expires):
        return _storage_error(request, 403, "AccessDenied", "Request has expired")

    photo = _find_photo(sandbox, request)
    if photo is None:
        return _no_such_key(request)
    return MediaStream("original", photo[0], photo[1], sandbox.original_size)


async def handle_media_preview(
    sandbox: Sandbox, request: web.Request, body: RequestBody
) -> web.StreamResponse:
    """Serve the watermarked ``large`` or ``small`` preview of a photo, without an API key."""
    photo = _find_photo(sandbox, request)
    if photo is None:
        return _no_such_key(request)
    variant: Literal["large", "small"] = (
        "large" if request.match_info["variant"] == "large" else "small"
    )
    return MediaStream(variant, photo[0], photo[1], PREVIEW_SIZES[variant])
