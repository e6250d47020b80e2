"""Request parsing and response building shared by the sandbox handlers.

Validation errors use the messages of Pydantic v2, the library that the 422 format of the real
API suggests (``field.path: error; field.path: error``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import BodyPartReader, web

DEFAULT_PAGE_SIZE = 32
FACES_MAX_PAGE_SIZE = 100
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Largest selfie the sandbox accepts, twice the 5 MB that the API docs recommend."""
MAX_REQUEST_ID_BYTES = 1024

_INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*")
# Standard hyphenated form, or the 32 hex digits without hyphens that Pydantic also accepts.
_UUID = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)
_encode = msgspec.json.Encoder().encode


class ApiError(Exception):
    """An error that the handler returns to the client as the JSON error envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> web.Response:
    """Build an error response: ``{"responseType": "error", "message": ..., "data": null}``."""
    body = _encode({"responseType": "error", "message": message, "data": None})
    return web.Response(status=status, body=body, content_type="application/json")


def success_response(message: str, data: Any) -> web.Response:
    """Build a 200 response in the current envelope."""
    body = _encode({"responseType": "success", "message": message, "data": data})
    return web.Response(body=body, content_type="application/json")


def flat_response(data: Any) -> web.Response:
    """Build a 200 response in the older flat shape, whose whole body is the data object."""
    return web.Response(body=_encode(data), content_type="application/json")


def unprocessable(errors: list[str]) -> ApiError:
    """Build the 422 error for a list of ``field.path: error`` strings."""
    return ApiError(422, "; ".join(errors))


def pagination(total: int, page: int, page_size: int) -> dict[str, Any]:
    """Build the PaginationInfo object for ``total`` items.

    An empty result has ``currentPage`` and ``totalPages`` 0, as in every empty example of the
    docs. A page past the last one keeps its number and has no next page.
    """
    if total == 0:
        return {
            "total": 0,
            "currentPage": 0,
            "totalPages": 0,
            "hasNextPage": False,
            "hasPreviousPage": False,
            "page_size": page_size,
        }
    total_pages = -(-total // page_size)
    return {
        "total": total,
        "currentPage": page,
        "totalPages": total_pages,
        "hasNextPage": page < total_pages,
        "hasPreviousPage": page > 1,
        "page_size": page_size,
    }


def _parse_int_query(
    query: Mapping[str, str], name: str, default: int, maximum: int | None, errors: list[str]
) -> int:
    """Return the integer query parameter ``name``, or append its error to ``errors``."""
    raw = query.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        errors.append(
            f"query.{name}: Input should be a valid integer, unable to parse string as an integer"
        )
        return default
    value = int(raw)
    if value < 1:
        errors.append(f"query.{name}: Input should be greater than or equal to 1")
    elif maximum is not None and value > maximum:
        errors.append(f"query.{name}: Input should be less than or equal to {maximum}")
    return value


def parse_required_int(query: Mapping[str, str], name: str, errors: list[str]) -> int | None:
    """Return the required integer query parameter ``name``, or append its error to ``errors``."""
    raw = query.get(name)
    if raw is None:
        errors.append(f"query.{name}: Field required")
        return None
    if not _INTEGER.fullmatch(raw):
        errors.append(
            f"query.{name}: Input should be a valid integer, unable to parse string as an integer"
        )
        return None
    return int(raw)


def parse_page_query(
    query: Mapping[str, str], *, max_page_size: int, default_page_size: int = DEFAULT_PAGE_SIZE
) -> tuple[int, int, list[str]]:
    """Return ``(page, page_size, errors)`` from the query string.

    ``errors`` lists every invalid parameter, so the caller can add body errors before
    returning one 422.
    """
    errors: list[str] = []
    page = _parse_int_query(query, "page", 1, None, errors)
    page_size = _parse_int_query(query, "page_size", default_page_size, max_page_size, errors)
    return page, page_size, errors


def canonical_request_id(value: str) -> str:
    """Return ``value`` as a lower-case hyphenated UUID, or raise a 400 ``ApiError``."""
    if not _UUID.fullmatch(value):
        truncated = value if len(value) <= 64 else value[:64] + "..."
        raise ApiError(400, f"request_id {truncated!r} is not a valid UUID.")
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class SelfieForm:
    """Fields of a face search upload. ``None`` marks a missing field."""

    file: bytes | None
    request_id: str | None


async def _read_part(part: BodyPartReader, limit: int, name: str) -> bytes:
    """Read a multipart part, raising a 413 ``ApiError`` once it exceeds ``limit`` bytes."""
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise ApiError(
                413, f"Multipart field {name!r} is larger than the sandbox limit of {limit} bytes."
            )
    return bytes(data)


async def read_selfie_form(request: web.Request) -> SelfieForm:
    """Read the ``file`` and ``request_id`` fields of a multipart face search body.

    A body that is not multipart counts as having no fields. The first occurrence of a field
    wins and any other part is skipped. Raises a 400 ``ApiError`` for a malformed body and a
    413 one for an oversized field.
    """
    if not request.content_type.startswith("multipart/"):
        return SelfieForm(file=None, request_id=None)

    file: bytes | None = None
    request_id: str | None = None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                await part.release()
            elif part.name == "file" and file is None:
                file = await _read_part(part, MAX_UPLOAD_BYTES, "file")
            elif part.name == "request_id" and request_id is None:
                raw = await _read_part(part, MAX_REQUEST_ID_BYTES, "request_id")
                request_id = raw.decode("utf-8", errors="replace")
            else:
                await part.release()
    except ValueError as exc:
        raise ApiError(400, f"Malformed multipart body: {exc}") from exc
    return SelfieForm(file=file, request_id=request_id)


class RequestBody:
    """The body of one request, read at most once.

    The chaos layer reads a face search upload or a JSON body to build the request identity
    before the handler runs, and aiohttp can stream a body only once, so both read it through
    this object. A body is read either as a selfie form or as raw content, never both.
    """

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._form: SelfieForm | None = None
        self._content: bytes | None = None
        self._error: ApiError | web.HTTPException | None = None

    async def selfie_form(self) -> SelfieForm:
        """Return the fields of a multipart face search body, reading it on the first call.

        Raises the same error on every call when the body is malformed or too large.
        """
        if self._error is not None:
            raise self._error
        if self._form is None:
            try:
                self._form = await read_selfie_form(self._request)
            except (ApiError, web.HTTPException) as exc:
                self._error = exc
                raise
        return self._form

    async def content(self) -> bytes:
        """Return the raw body, reading it on the first call.

        Raises the same ``HTTPException`` on every call when the body is larger than the
        application's ``client_max_size``.
        """
        if self._error is not None:
            raise self._error
        if self._content is None:
            try:
                self._content = await self._request.read()
            except web.HTTPException as exc:
                self._error = exc
                raise
        return self._content
