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
from ._models import (
    EventDetails,
    EventListItem,
    EventListPage,
    FaceSearchPage,
    FailedLink,
    ImageItem,
    ImagePage,
    OriginalLink,
    OriginalLinksPage,
    Pagination,
    Ping,
    TimelineDay,
    TimelineDays,
    TimelineHour,
)
from ._pagination import ItemIterator, PageIterator, ProgressCallback
from ._response_cache import CacheStats
from ._retry import RetryPolicy
from ._version import __version__
from .resources.downloads import DownloadFailure, DownloadProgress, DownloadReport
from .resources.faces import Selfie

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
    "DownloadFailure",
    "DownloadProgress",
    "DownloadReport",
    "EventDetails",
    "EventListItem",
    "EventListPage",
    "FaceSearchPage",
    "FailedLink",
    "ImageItem",
    "ImagePage",
    "ItemIterator",
    "MemoryCache",
    "NinePicClient",
    "NinePicError",
    "NotFoundError",
    "OriginalLink",
    "OriginalLinksPage",
    "PageIterator",
    "Pagination",
    "PermissionDeniedError",
    "Ping",
    "ProgressCallback",
    "RateLimitError",
    "ResponseValidationError",
    "RetryPolicy",
    "Selfie",
    "ServerError",
    "TimelineDay",
    "TimelineDays",
    "TimelineHour",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
    "memcached_cache",
    "memory_cache",
    "redis_cache",
]
