"""The benchmark report writers: well-formed Markdown tables and JSON, from made-up figures."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from benchmarks._report import (
    Column,
    Measurement,
    Report,
    Section,
    Target,
    format_value,
    statistic_columns,
    write_results,
)

# A cell boundary is a pipe that no backslash escapes.
CELL_BOUNDARY = re.compile(r"(?<!\\)\|")


def sample_report() -> Report:
    timed = Section(
        name="timed",
        title="Timed cases",
        description="Two made-up cases, one with a pipe in its name.",
        unit="µs",
        columns=[*statistic_columns("µs"), Column("x_first", "x first", 2)],
        measurements=[
            Measurement("first", [3.0, 1.0, 2.0], {"x_first": 1.0}),
            Measurement("second | piped", [10.0, 30.0, 20.0], {"x_first": None}),
        ],
        targets=[
            Target("first case", "under 5 µs", "2.0 µs", True),
            Target("second case", "under 5 µs", "20.0 µs", False),
        ],
        notes=["A note under the table."],
    )
    skipped = Section(
        name="skipped",
        title="Skipped cases",
        description="A section whose server is missing.",
        unit="µs",
        columns=statistic_columns("µs"),
        targets=[Target("skipped case", "faster", "-", None)],
        skipped="redis-server is not installed.",
    )
    return Report(
        command="python -m benchmarks --quick",
        timestamp="2026-01-01 00:00 UTC",
        quick=True,
        machine={
            "arch": "x86_64",
            "cpus": "2",
            "cpu_model": "Test CPU",
            "python": "3.11.7",
            "system": "Linux",
        },
        versions={"aiohttp": "3.9.0"},
        sections=[timed, skipped],
    )


def markdown_tables(text: str) -> list[list[str]]:
    """Return each block of consecutive lines that start with a pipe."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_markdown_tables_are_rectangular() -> None:
    text = sample_report().to_markdown()
    tables = markdown_tables(text)

    assert len(tables) == 2  # The targets table and the timed section's table.
    for table in tables:
        widths = {len(CELL_BOUNDARY.split(line)) for line in table}
        assert len(widths) == 1, table
        assert re.fullmatch(r"\|( -{3}:? \|)+", table[1]), table[1]
        assert all(line.endswith(" |") for line in table)


def test_markdown_shows_figures_and_outcomes() -> None:
    text = sample_report().to_markdown()
    prose = " ".join(text.split())  # Paragraphs are wrapped, so compare their words.

    assert "| first | 2.0 | 1.0 | 3.0 | 1.00 |" in text
    assert "| second \\| piped | 20.0 | 10.0 | 30.0 | - |" in text
    assert "| first case | under 5 µs | 2.0 µs | yes |" in text
    assert "| second case | under 5 µs | 20.0 µs | **no** |" in text
    assert "| skipped case | faster | - | not run |" in text
    assert "Skipped: redis-server is not installed." in text
    assert "A note under the table." in prose
    assert "This was a quick run" in prose
    assert "on x86_64, 2 CPUs (Test CPU), Python 3.11.7, Linux." in prose


def test_written_files_match_report(tmp_path: Path) -> None:
    report = sample_report()

    paths = write_results(report, tmp_path / "results")

    assert [path.name for path in paths] == ["results.md", "results.json"]
    assert paths[0].read_text(encoding="utf-8") == report.to_markdown()
    document = json.loads(paths[1].read_text(encoding="utf-8"))
    assert document["command"] == "python -m benchmarks --quick"
    assert document["quick"] is True
    assert document["machine"]["cpus"] == "2"
    assert [section["name"] for section in document["sections"]] == ["timed", "skipped"]


def test_json_keeps_samples_and_statistics(tmp_path: Path) -> None:
    paths = write_results(sample_report(), tmp_path)
    document = json.loads(paths[1].read_text(encoding="utf-8"))

    timed, skipped = document["sections"]
    first, second = timed["measurements"]
    assert first["samples"] == [3.0, 1.0, 2.0]
    assert first["median"] == statistics.median(first["samples"])
    assert first["min"] == 1.0
    assert first["max"] == 3.0
    assert first["x_first"] == 1.0
    assert second["case"] == "second | piped"
    assert second["x_first"] is None
    assert [target["met"] for target in timed["targets"]] == [True, False]
    assert skipped["skipped"] == "redis-server is not installed."
    assert skipped["measurements"] == []
    assert skipped["targets"][0]["met"] is None


def test_format_value_cases() -> None:
    assert format_value(None, 2) == "-"
    assert format_value(12345, 1) == "12,345"
    assert format_value(1234.567, 2) == "1,234.57"
    assert format_value(True, 1) == "yes"
    assert format_value("text", 1) == "text"
