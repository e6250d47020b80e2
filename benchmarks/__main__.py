"""Run the benchmark suite and write its results: `python -m benchmarks [--quick] [--only NAME]`.

Every case talks only to servers it starts on 127.0.0.1: the sandbox and the other HTTP servers
in their own processes, redis-server and memcached when installed. The run prints the Markdown
report and writes `results.md`, `results.json` and `results.png`. A full run of every section
writes them to `benchmarks/results/`, which keeps the latest committed results. A quick run
or a run of some sections writes to `benchmarks/results/scratch/` unless `--output` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from pathlib import Path

from benchmarks._report import Report, Section, write_results
from benchmarks._support import command_line, machine_info, package_versions, utc_now

SECTIONS = ("single_read", "cache_hits", "pagination", "decoding", "shared_cache", "memory")
"""The benchmark modules, in the order they run and appear in the report."""
RESULTS = Path(__file__).resolve().parent / "results"
SCRATCH = RESULTS / "scratch"


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the nine_pic_async benchmarks against servers on loopback.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run few rounds on small inputs, to check that the suite runs",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="NAME",
        help=f"run only this section; repeat for several. One of: {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for results.md, results.json and results.png "
        "(default: benchmarks/results/ for a full run of every section, else its scratch/)",
    )
    parser.add_argument("--no-chart", action="store_true", help="write no PNG chart")
    return parser.parse_args(argv)


def run_section(name: str, quick: bool) -> Section:
    """Import the module of section `name` and run it in a new event loop."""
    module = importlib.import_module(f"benchmarks.{name}")
    print(f"benchmarks: running {name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    section: Section = asyncio.run(module.run(quick))
    print(
        f"benchmarks: {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True
    )
    return section


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    names = [name for name in SECTIONS if args.only is None or name in args.only]
    complete = not args.quick and args.only is None
    output: Path = args.output or (RESULTS if complete else SCRATCH)

    report = Report(
        command=command_line(),
        timestamp=utc_now(),
        quick=args.quick,
        machine=machine_info(),
        versions=package_versions(),
        sections=[run_section(name, args.quick) for name in names],
    )
    paths = write_results(report, output)
    ran = any(section.skipped is None for section in report.sections)
    if not args.no_chart and ran:
        from benchmarks._chart import write_chart

        paths.append(write_chart(report, output / "results.png"))
    elif not args.no_chart:
        print("benchmarks: every section was skipped, so no chart was written", file=sys.stderr)
    print(report.to_markdown(), end="")
    for path in paths:
        print(f"benchmarks: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
