"""An asyncio SDK for the 9Pic API: find an event's photos by selfie, BIB or gallery.

async with NinePicClient(api_key="...", org_id=903) as client:
    page = await client.faces.search(456, "selfie.jpg")
    async for image in client.faces.iter_images(456, page.request_id):
        print(image.img_url)
"""

from ._backends import memcached_cache, memory_cache, redis_cache
from ._cache import BytesSerializer, MemoryCache
from ._client import DEFAULT_BASE_URL, NinePicClient
from ._config import Timeout
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    NinePicError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    UnprocessableEntityError,
)
from ._models import EventDetails, FaceSearchPage, ImageItem, Pagination, Ping
from ._response_cache import CacheStats
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BytesSerializer",
    "CacheStats",
    "ClientClosedError",
    "EventDetails",
    "FaceSearchPage",
    "ImageItem",
    "MemoryCache",
    "NinePicClient",
    "NinePicError",
    "NotFoundError",
    "Pagination",
    "PermissionDeniedError",
    "Ping",
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
    "memcached_cache",
    "memory_cache",
    "redis_cache",
]
