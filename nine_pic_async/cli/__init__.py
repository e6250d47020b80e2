"""The `ninepic` command: search, read results, run the sandbox, or watch a demo.

Without an API key (`--api-key` or `NINEPIC_API_KEY`), `search` and `results`
run against a sandbox started in-process, with a notice on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._errors import NinePicError
from .._version import __version__
from ._commands import run_demo, run_download, run_results, run_sandbox, run_search

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors never print an API key given on the command line."""

    secrets: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        for secret in self.secrets:
            message = message.replace(secret, "***")
        super().error(message)


def _secrets_in(argv: Sequence[str]) -> tuple[str, ...]:
    # argparse accepts abbreviations such as --api, so any prefix of --api-key counts.
    found = []
    for position, argument in enumerate(argv):
        option, has_value, value = argument.partition("=")
        if len(option) < 3 or not "--api-key".startswith(option):
            continue
        if has_value:
            found.append(value)
        elif position + 1 < len(argv):
            found.append(argv[position + 1])
    return tuple(secret for secret in found if secret)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ninepic",
        description="Find an event's photos with the 9Pic API, or try it offline with the "
        "built-in sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log each HTTP exchange to stderr",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = commands.add_parser(
        "search", help="search an event's photos with a selfie (a billed face search)"
    )
    search.add_argument("event_id", type=int, metavar="EVENT_ID")
    search.add_argument("selfie", metavar="SELFIE", help="path of a JPEG or PNG selfie")
    search.add_argument("--all", action="store_true", help="print every page, not only the first")
    search.add_argument(
        "--page-size",
        type=int,
        default=32,
        metavar="N",
        help="images per page, 1 to 100 (default: 32)",
    )
    _add_connection_options(search)

    results = commands.add_parser(
        "results", help="read the stored result of an earlier search by its request_id"
    )
    results.add_argument("event_id", type=int, metavar="EVENT_ID")
    results.add_argument("request_id", metavar="REQUEST_ID")
    which = results.add_mutually_exclusive_group()
    which.add_argument(
        "--page", type=int, default=1, metavar="N", help="the page to print (default: 1)"
    )
    which.add_argument("--all", action="store_true", help="print every page")
    results.add_argument(
        "--page-size",
        type=int,
        default=32,
        metavar="N",
        help="images per page, 1 to 100 (default: 32)",
    )
    _add_connection_options(results)

    download = commands.add_parser(
        "download", help="download the original photos of a face search or a BIB to a folder"
    )
    download.add_argument("event_id", type=int, metavar="EVENT_ID")
    selector = download.add_mutually_exclusive_group(required=True)
    selector.add_argument("--selfie", metavar="REQUEST_ID", help="request_id of a face search")
    selector.add_argument("--bib", metavar="BIB", help="a participant's BIB number")
    download.add_argument("--to", required=True, metavar="DIR", help="folder to write into")
    download.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="files downloaded at once (default: 8)",
    )
    _add_connection_options(download)

    sandbox = commands.add_parser(
        "sandbox", help="run the local sandbox server until interrupted (Ctrl+C)"
    )
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    sandbox.add_argument(
        "--port", type=_port, default=8080, help="TCP port, 0 for any free one (default: 8080)"
    )
    sandbox.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay added to every response, in seconds (default: 0)",
    )

    demo = commands.add_parser(
        "demo", help="search the sandbox's demo event with a shipped selfie and page through it"
    )
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--api-key",
        default=None,
        help="9Pic API key (default: $NINEPIC_API_KEY; without one, the embedded sandbox is used)",
    )
    parser.add_argument(
        "--org-id", type=int, default=None, help="organisation id (default: $NINEPIC_ORG_ID)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="API root (default: $NINEPIC_BASE_URL or https://api.9pic.ai)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: expected 0 to 65535")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    _Parser.secrets = _secrets_in(arguments)
    args = build_parser().parse_args(arguments)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "search":
            asyncio.run(run_search(args))
        elif args.command == "results":
            asyncio.run(run_results(args))
        elif args.command == "download":
            return asyncio.run(run_download(args))
        elif args.command == "sandbox":
            asyncio.run(run_sandbox(args))
        else:
            asyncio.run(run_demo(args))
    except KeyboardInterrupt:
        return 130
    except (NinePicError, ValueError, TypeError, OSError) as exc:
        print(f"ninepic: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
