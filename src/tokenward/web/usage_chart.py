"""Personal-token requests per day as stacked bars, drawn on the server as SVG (no chart library).

A bar is as tall as the day's requests: allowed below, denied on top. Would-be denials (report
mode) passed, so they are drawn as the upper part of the allowed bar, in their own colour.

The template turns a ``UsageChart`` into ``<rect>`` elements; colours come from the stylesheet
(the Content-Security-Policy allows no inline styles), and the title and description say in
words what the bars show.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["UsageChart", "daily_totals", "usage_chart"]

# Stacked bottom to top: allowed and not flagged, allowed but would be denied, denied.
KINDS = (("allowed", "allowed"), ("would-be-denied", "would be denied"), ("denied", "denied"))

WIDTH, HEIGHT = 640.0, 220.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 48.0, 8.0, 10.0, 28.0


@dataclass(frozen=True)
class Bar:
    kind: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ChartDay:
    date: dt.date
    counts: tuple[int, int, int]
    bars: list[Bar]
    summary: str


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class DateLabel:
    text: str
    x: float
    anchor: str


@dataclass(frozen=True)
class UsageChart:
    width: float
    height: float
    plot_left: float
    plot_right: float
    baseline: float
    days: list[ChartDay]
    ticks: list[Tick]
    date_labels: list[DateLabel]
    totals: tuple[int, int, int]
    description: str

    @property
    def empty(self) -> bool:
        return sum(self.totals) == 0


def daily_totals(
    days: Sequence[dt.date], per_token: Iterable[Mapping[dt.date, Sequence[int]]]
) -> dict[dt.date, tuple[int, int, int]]:
    """Sum every token's ``{day: [allowed, denied, would_be_denied]}`` over the window's days."""
    sums = {day: [0, 0, 0] for day in days}
    for daily in per_token:
        for day, counts in daily.items():
            if day in sums:
                for index in range(3):
                    sums[day][index] += counts[index]
    return {day: (a, d, w) for day, (a, d, w) in sums.items()}


def _scale_top(largest: int) -> int:
    """A round number at or above the busiest day, so the gridlines read easily."""
    if largest <= 4:
        return 4
    magnitude: int = 10 ** int(math.log10(largest))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= largest)


def _total(counts: Sequence[int]) -> int:
    """Requests of a day: would-be denials are among the allowed ones."""
    return counts[0] + counts[1]


def _stacked(counts: Sequence[int]) -> tuple[int, int, int]:
    """The segments of a day's bar in the order of ``KINDS``."""
    allowed, denied, would_be = counts
    would_be = min(would_be, allowed)
    return allowed - would_be, would_be, denied


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe(counts: Sequence[int]) -> str:
    allowed, denied, would_be = counts
    flagged = f" ({would_be} of them would be denied)" if would_be else ""
    return f"{allowed} allowed{flagged}, {denied} denied"


def usage_chart(series: Mapping[dt.date, tuple[int, int, int]]) -> UsageChart:
    days = sorted(series)
    top = _scale_top(max((_total(series[day]) for day in days), default=0))
    baseline = HEIGHT - _BOTTOM
    plot_height = baseline - _TOP
    plot_right = WIDTH - _RIGHT
    slot = (plot_right - _LEFT) / max(len(days), 1)
    bar_width = max(slot * 0.7, 1.0)
    chart_days = []
    for index, day in enumerate(days):
        counts = series[day]
        x = _LEFT + index * slot + (slot - bar_width) / 2
        y, bars = baseline, []
        for (kind, _), count in zip(KINDS, _stacked(counts), strict=True):
            if count:
                height = plot_height * count / top
                y -= height
                bars.append(
                    Bar(kind, round(x, 2), round(y, 2), round(bar_width, 2), round(height, 2))
                )
        chart_days.append(ChartDay(day, counts, bars, f"{day.isoformat()}: {_describe(counts)}"))
    ticks = [
        Tick(value, round(baseline - plot_height * value / top, 2)) for value in (0, top // 2, top)
    ]
    labels = []
    if days:
        labels = [
            DateLabel(days[0].isoformat(), _LEFT, "start"),
            DateLabel(days[-1].isoformat(), plot_right, "end"),
        ]
    totals = (
        sum(series[day][0] for day in days),
        sum(series[day][1] for day in days),
        sum(series[day][2] for day in days),
    )
    busiest = max(days, key=lambda day: _total(series[day]), default=None)
    description = (
        f"{_plural(len(days), 'day')}"
        + (f" from {days[0].isoformat()} to {days[-1].isoformat()}" if days else "")
        + f": {_describe(totals)} personal-token requests in all."
    )
    if busiest is not None and _total(series[busiest]):
        description += f" Busiest day {busiest.isoformat()}: {_describe(series[busiest])}."
    return UsageChart(
        WIDTH, HEIGHT, _LEFT, plot_right, baseline, chart_days, ticks, labels, totals, description
    )
