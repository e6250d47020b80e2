"""Results of a benchmark run, and their Markdown and JSON forms.

Standard library only, so the writers can be tested without the benchmark dependencies.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Value = float | int | str | None
"""A table cell before formatting; `None` is shown as `-`."""

STATISTICS = ("median", "min", "max")


@dataclass
class Measurement:
    """One case of a section: a sample per round, in the section's unit, and derived figures."""

    case: str
    samples: list[float]
    extra: dict[str, Value] = field(default_factory=dict)
    """Figures shown in other columns, such as a ratio to the baseline, keyed by column key."""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def value(self, key: str) -> Value:
        """Return the median, min or max of the samples, or the extra figure named `key`."""
        if key in STATISTICS:
            return float(getattr(self, key))
        return self.extra.get(key)


@dataclass(frozen=True)
class Column:
    """A column of a section's table: `key` is a statistic or a key of `Measurement.extra`."""

    key: str
    heading: str
    digits: int = 1


@dataclass(frozen=True)
class Target:
    """A goal from the benchmark plan, the figure measured for it, and whether it was met.

    `met` is None when the case did not run (a missing server, for example).
    """

    case: str
    goal: str
    measured: str
    met: bool | None


@dataclass
class Section:
    """The results of one benchmark module, shown as one table."""

    name: str
    """The name that `python -m benchmarks --only` takes."""
    title: str
    description: str
    unit: str
    columns: list[Column]
    measurements: list[Measurement] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    """The reason the section did not run, or None when it ran."""

    def measurement(self, case: str) -> Measurement:
        for measurement in self.measurements:
            if measurement.case == case:
                return measurement
        raise KeyError(f"section {self.name!r} has no case {case!r}")


def statistic_columns(unit: str, digits: int = 1) -> list[Column]:
    """Return the median, min and max columns in `unit`."""
    return [Column(key, f"{key} {unit}", digits) for key in STATISTICS]


def measurements_from(samples: dict[str, list[float]], *, scale: float) -> list[Measurement]:
    """Turn samples in seconds, keyed by case, into measurements in the unit `scale` gives."""
    return [
        Measurement(case, [value * scale for value in values]) for case, values in samples.items()
    ]


def count_of(number: int, noun: str) -> str:
    """Return `1 round` or `5 rounds`: the number and the noun, plural when it is not one."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def ratio(numerator: Measurement, denominator: Measurement) -> float:
    """Return the ratio of two cases' medians."""
    return numerator.median / denominator.median


@dataclass
class Report:
    """A whole run: where it ran, with which versions, and its sections."""

    command: str
    """The command line that produced the report, such as `python -m benchmarks --quick`."""
    timestamp: str
    """UTC time of the run, as `YYYY-MM-DD HH:MM UTC`."""
    quick: bool
    machine: dict[str, str]
    versions: dict[str, str]
    sections: list[Section]

    def to_json(self) -> dict[str, Any]:
        """Build the JSON document: every sample, the statistics and the targets."""
        return {
            "command": self.command,
            "timestamp": self.timestamp,
            "quick": self.quick,
            "machine": self.machine,
            "versions": self.versions,
            "sections": [_section_json(section) for section in self.sections],
        }

    def to_markdown(self) -> str:
        """Render the targets table, then one table per section."""
        lines = ["# Benchmark results", ""]
        lines += _wrap_paragraph(
            f"Taken {self.timestamp} with `{self.command}` "
            f"on {describe_machine(self.machine)}. Each figure is the median over rounds, "
            "with min and max, and cases of a section alternate in every round."
        )
        if self.quick:
            lines += [""]
            lines += _wrap_paragraph(
                "This was a quick run: too few rounds and smaller inputs, to check that the "
                "suite runs. Its figures are not measurements."
            )
        lines += ["", "## Targets", ""]
        lines += render_table(
            ["case", "target", "measured", "met"],
            [
                [target.case, target.goal, target.measured, _met_text(target.met)]
                for section in self.sections
                for target in section.targets
            ],
        )
        for section in self.sections:
            lines += ["", f"## {section.title}", ""]
            lines += _wrap_paragraph(section.description)
            lines.append("")
            if section.skipped is not None:
                lines.append(f"Skipped: {section.skipped}")
                continue
            lines += render_table(
                ["case", *(column.heading for column in section.columns)],
                [
                    [
                        measurement.case,
                        *(
                            format_value(measurement.value(column.key), column.digits)
                            for column in section.columns
                        ),
                    ]
                    for measurement in section.measurements
                ],
            )
            for note in section.notes:
                lines.append("")
                lines += _wrap_paragraph(note)
        return "\n".join(lines) + "\n"


def describe_machine(machine: dict[str, str]) -> str:
    """Return a one-line description such as `x86_64, 2 CPUs (model), Python 3.11.7, Linux`."""
    cpu = f"{machine['cpus']} CPUs"
    if machine.get("cpu_model"):
        cpu += f" ({machine['cpu_model']})"
    return f"{machine['arch']}, {cpu}, Python {machine['python']}, {machine['system']}"


def format_value(value: Value, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return value


def render_table(headings: list[str], rows: list[list[str]]) -> list[str]:
    """Return the lines of a Markdown table; text columns align left, numbers right."""
    numeric = [
        any(row[index] != "-" for row in rows) and all(_looks_numeric(row[index]) for row in rows)
        for index in range(len(headings))
    ]
    lines = [
        _table_line(headings),
        _table_line(["---:" if right else "---" for right in numeric]),
    ]
    lines += [_table_line(row) for row in rows]
    return lines


def write_results(report: Report, directory: Path) -> list[Path]:
    """Write `results.md` and `results.json` into `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / "results.md"
    markdown.write_text(report.to_markdown(), encoding="utf-8")
    document = directory / "results.json"
    document.write_text(
        json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return [markdown, document]


def _section_json(section: Section) -> dict[str, Any]:
    return {
        "name": section.name,
        "title": section.title,
        "description": section.description,
        "unit": section.unit,
        "skipped": section.skipped,
        "columns": [{"key": column.key, "heading": column.heading} for column in section.columns],
        "measurements": [
            {
                "case": measurement.case,
                "median": measurement.median,
                "min": measurement.min,
                "max": measurement.max,
                "samples": measurement.samples,
                **measurement.extra,
            }
            for measurement in section.measurements
        ],
        "targets": [
            {
                "case": target.case,
                "goal": target.goal,
                "measured": target.measured,
                "met": target.met,
            }
            for target in section.targets
        ],
        "notes": section.notes,
    }


def _met_text(met: bool | None) -> str:
    if met is None:
        return "not run"
    return "yes" if met else "**no**"


def _looks_numeric(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def _table_line(cells: list[str]) -> str:
    # A pipe inside a cell would end the cell early.
    escaped = [cell.replace("|", "\\|").replace("\n", " ") for cell in cells]
    return "| " + " | ".join(escaped) + " |"


def _wrap_paragraph(text: str, width: int = 96) -> list[str]:
    """Wrap prose at `width` characters, breaking lines only between words."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines
