"""A chat-bot-style loop: one client for the whole process, closed on shutdown.

A real bot gets messages from its chat platform. This one reads them from standard input, one
per line as `CHAT_ID COMMAND [ARGUMENT]`, and stops at the end of input:

    /bib BIB        photos tagged with a BIB number
    /selfie PATH    photos that match a selfie (one billed search)
    /more           the next page of the last result in this chat

Messages of different chats are handled concurrently, and those of one chat in order.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    printf '1 /bib 1234\\n1 /more\\n' | python examples/chat_bot.py http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass

from nine_pic_async import FaceSearchPage, ImagePage, NinePicClient, NinePicError, NotFoundError
from nine_pic_async.testing import DEMO_EVENT_ID

logger = logging.getLogger("photo_bot")

PAGE_SIZE = 5


@dataclass
class LastResult:
    """The result `/more` continues: a BIB or a search's request_id, and the last page shown."""

    bib: str | None
    request_id: str | None
    page: int


class PhotoBot:
    """A bot that replies to chat messages with photo links; every chat shares one client."""

    def __init__(self, client: NinePicClient, event_id: int) -> None:
        self.client = client
        self.event_id = event_id
        self.last: dict[str, LastResult] = {}
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, chat_id: str, text: str) -> str:
        """Return the reply to one message; handles one message of a chat at a time."""
        async with self.locks[chat_id]:
            command, _, argument = text.strip().partition(" ")
            try:
                if command == "/bib" and argument:
                    self.last[chat_id] = LastResult(bib=argument, request_id=None, page=0)
                    return await self.next_page(chat_id)
                if command == "/selfie" and argument:
                    found = await self.client.faces.search(
                        self.event_id, argument, page_size=PAGE_SIZE
                    )
                    self.last[chat_id] = LastResult(bib=None, request_id=found.request_id, page=0)
                    return await self.next_page(chat_id)
                if command == "/more" and chat_id in self.last:
                    return await self.next_page(chat_id)
            except ValueError as exc:  # an unreadable selfie, for example
                return f"Sorry, that did not work: {exc}"
            except NotFoundError:
                return "That event or result no longer exists."
            except NinePicError as exc:
                # The client has already retried, so log the error and reply instead of crashing.
                logger.warning("9Pic request failed for chat %s: %s", chat_id, exc)
                return "Photo search is unavailable right now; try again in a minute."
            return "Send /bib NUMBER, /selfie PATH, or /more after a result."

    async def next_page(self, chat_id: str) -> str:
        last = self.last[chat_id]
        number = last.page + 1
        page: ImagePage | FaceSearchPage
        if last.bib is not None:
            page = await self.client.bibs.search(
                self.event_id, last.bib, page=number, page_size=PAGE_SIZE
            )
        else:
            assert last.request_id is not None
            # Page 1 comes from the cache: the search returned it.
            page = await self.client.faces.get(
                self.event_id, last.request_id, page=number, page_size=PAGE_SIZE
            )
        if not page.images:
            return "No more photos."
        last.page = number
        links = " ".join(image.img_url for image in page.images)
        info = page.pagination
        return f"Photos {number}/{info.total_pages} ({info.total} in all): {links}"


def read_messages(
    loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[tuple[str, str] | None]
) -> None:
    """Put each line of standard input on `queue` as (chat id, text), and None at the end.

    Runs in a daemon thread, so that Ctrl+C does not wait for a line that never comes.
    """
    for line in sys.stdin:
        chat_id, _, text = line.strip().partition(" ")
        if chat_id:
            loop.call_soon_threadsafe(queue.put_nowait, (chat_id, text))
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main(base_url: str, event_id: int) -> None:
    # Startup: one client for the process. Its session opens on the first request.
    client = NinePicClient(base_url=base_url)
    bot = PhotoBot(client, event_id)
    queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=read_messages, args=(loop, queue), daemon=True).start()
    handlers: set[asyncio.Task[None]] = set()

    async def answer(chat_id: str, text: str) -> None:
        reply = await bot.handle(chat_id, text)
        print(f"[{chat_id}] {reply}", flush=True)

    try:
        while (message := await queue.get()) is not None:
            task = asyncio.create_task(answer(*message))
            handlers.add(task)
            task.add_done_callback(handlers.discard)
        await asyncio.gather(*handlers)
    finally:
        # Shutdown: cancel what is still in progress, then close the client once.
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the example chat bot on standard input.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--event-id", type=int, default=DEMO_EVENT_ID, help="default: 456")
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.base_url, args.event_id))
