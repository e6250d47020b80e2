"""The exceptions raised for API and network reasons.

Everything derives from `NinePicError`; programmer mistakes (a bad page size, an
empty selfie) raise `ValueError` or `TypeError` instead, before any request.

    NinePicError
    ├── ClientClosedError
    ├── APIConnectionError          connection refused, reset or dropped
    │   └── APITimeoutError         also a TimeoutError
    ├── ResponseValidationError     a body that is not the documented JSON
    └── APIStatusError              any non-2xx status
        ├── BadRequestError         400
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403
        ├── NotFoundError           404
        ├── UnprocessableEntityError 422
        ├── RateLimitError          429
        └── ServerError             500, 502, 503, 504 and other 5xx
"""

from __future__ import annotations

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "NinePicError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "UnprocessableEntityError",
]


class NinePicError(Exception):
    """Base class of every error the SDK raises for API or network reasons.

    `request_id` is set on errors of `faces.search`: the id the failed search
    was sent with. Pass it as `request_id=` to search again without being
    billed twice if the server had recorded the search.
    """

    request_id: str | None = None


class ClientClosedError(NinePicError, RuntimeError):
    """A request on a `NinePicClient` after `aclose()`."""


class APIConnectionError(NinePicError, OSError):
    """A failure to reach the API or to read its whole response."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __str__(self) -> str:
        return f"{self.message} ({self.method} {self.path})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, {"method": self.method, "path": self.path}))


class APITimeoutError(APIConnectionError, TimeoutError):
    """A request that did not complete within the client's timeout."""


class ResponseValidationError(NinePicError, ValueError):
    """A response body that is not the JSON the API documents.

    Carries the status and the first bytes of the body, so a proxy's HTML page
    or a truncated body is recognisable in the message.
    """

    def __init__(self, message: str, *, status: int, path: str, body_excerpt: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.path = path
        self.body_excerpt = body_excerpt

    def __str__(self) -> str:
        return f"{self.message} (status {self.status}, {self.path}): {self.body_excerpt!r}"

    def __reduce__(self) -> tuple[object, ...]:
        fields = {"status": self.status, "path": self.path, "body_excerpt": self.body_excerpt}
        return (_rebuild, (type(self), self.message, fields))


class APIStatusError(NinePicError):
    """A response with a non-2xx status. `message` is the server's own text.

    `retry_after` is the wait in seconds that a 429 or 503 requested with a
    usable `Retry-After` header, and `None` otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str,
        path: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.status} {self.message} ({self.method} {self.path})"

    def __reduce__(self) -> tuple[object, ...]:
        fields = {
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "retry_after": self.retry_after,
        }
        return (_rebuild, (type(self), self.message, fields))


class BadRequestError(APIStatusError):
    """400: the server rejected the request before doing any work."""


class AuthenticationError(APIStatusError):
    """401: the `X-API-Key` header was missing."""


class PermissionDeniedError(APIStatusError):
    """403: a bad or inactive key, ids outside the key's organisation, or a feature
    that is disabled for the event (check `client.events.details()`)."""


class NotFoundError(APIStatusError):
    """404: the event's configuration or the `request_id` does not exist."""


class UnprocessableEntityError(APIStatusError):
    """422: the request did not match the API's schema (`field.path: error; ...`)."""


class RateLimitError(APIStatusError):
    """429: the API gateway's rate limit; retried after `retry_after` when it is set."""


class ServerError(APIStatusError):
    """5xx: a failure on the server's side; 500, 502, 503 and 504 are retried."""


def _rebuild(cls: type[NinePicError], message: str, fields: dict[str, object]) -> NinePicError:
    # Keyword-only constructors need help to survive pickling (multiprocessing, caches).
    return cls(message, **fields)
