"""The PNG chart of a run: one horizontal bar chart per section, medians with min-max bars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # Agg renders to files and needs no display.

from matplotlib import pyplot
from matplotlib.axes import Axes

from benchmarks._report import Report, Section, describe_machine

LABEL_CHARACTERS = 58
WIDE_SPREAD = 30.0
"""A section whose largest median is this many times its smallest gets a logarithmic axis."""


def write_chart(report: Report, path: Path) -> Path:
    """Draw every section that ran into one PNG at `path` and return `path`."""
    sections = [section for section in report.sections if section.skipped is None]
    if not sections:
        raise ValueError("no section ran, so there is nothing to chart")
    heights = [1.2 + 0.42 * len(section.measurements) for section in sections]
    figure, axes = pyplot.subplots(
        len(sections),
        1,
        figsize=(11, sum(heights) + 1.0),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
        layout="constrained",
    )
    for axis, section in zip(axes[:, 0], sections, strict=True):
        _draw_section(axis, section)
    title = f"nine_pic_async benchmarks, {report.timestamp}: {describe_machine(report.machine)}"
    if report.quick:
        title += " (quick run, not a measurement)"
    figure.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def _draw_section(axis: Axes, section: Section) -> None:
    cases = [_shorten(measurement.case) for measurement in section.measurements]
    medians = [measurement.median for measurement in section.measurements]
    below = [measurement.median - measurement.min for measurement in section.measurements]
    above = [measurement.max - measurement.median for measurement in section.measurements]
    positions = list(range(len(cases)))
    axis.barh(positions, medians, xerr=[below, above], color="#4c72b0", capsize=3)
    axis.set_yticks(positions, cases, fontsize=8)
    axis.invert_yaxis()  # First case on top, as in the tables.
    if min(medians) > 0 and max(medians) / min(medians) > WIDE_SPREAD:
        axis.set_xscale("log")
    # Room on the right for the value labels.
    axis.margins(x=0.12)
    # Every section's first column is its median, with a heading such as "hit median µs".
    axis.set_xlabel(f"{section.columns[0].heading} (bars: min to max)", fontsize=8)
    axis.set_title(section.title, fontsize=9, loc="left")
    axis.tick_params(axis="x", labelsize=8)
    # Each label sits past the end of its min-max bar, so the two never overlap.
    for position, measurement in zip(positions, section.measurements, strict=True):
        axis.annotate(
            f" {_format_number(measurement.median)}",
            (measurement.max, position),
            va="center",
            fontsize=7,
        )


def _format_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _shorten(case: str) -> str:
    if len(case) <= LABEL_CHARACTERS:
        return case
    return case[: LABEL_CHARACTERS - 3] + "..."
