"""Charts as inline SVG, drawn here from the numbers.

Why SVG made by the tool rather than a charting library: the HTML report must open anywhere with no
network (a CI artefact, an air-gapped laptop, an email attachment), so nothing may load from a CDN;
bundling a library would add hundreds of kilobytes of JavaScript to every report, tie its rendering
to a script engine, and need a licence review. Four chart kinds (stacked bars, a waterfall,
intervals, a cost/quality curve) are a few hundred lines of plain SVG that render the same in every
browser, print, and can be checked as text. Every mark carries a ``<title>``, the browser's tooltip.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
OTHER_COLOR = "#d4d4d4"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
LABEL_WIDTH = 150
CHART_WIDTH = 760
ROW_HEIGHT = 18
GAIN, LOSS, TOTAL = "#59a14f", "#e15759", "#4e79a7"


def escape(value: str) -> str:
    """Text for HTML and SVG, quotes included (it goes into attributes too)."""
    return html.escape(value, quote=True)


def colors_for(names: Sequence[str]) -> dict[str, str]:
    """A color per name, in order; past the palette, grey."""
    return {name: PALETTE[index] if index < len(PALETTE) else OTHER_COLOR for index, name in enumerate(names)}


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" {FONT}>' + "".join(body) + "</svg>")


def _rect(x: float, y: float, width: float, height: float, color: str, title: str) -> str:
    return (f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(width, 0.0):.2f}" height="{height:.2f}" fill="{color}">'
            f"<title>{escape(title)}</title></rect>")


def _label(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}" font-weight="{weight}" '
            f'dominant-baseline="middle">{escape(text)}</text>')


def legend(colors: dict[str, str]) -> str:
    """The colors as an HTML legend (wraps with the page, unlike SVG text)."""
    items = "".join(f'<span class="key"><i style="background:{color}"></i>{escape(name)}</span>'
                    for name, color in colors.items())
    return f'<div class="legend">{items}</div>'


@dataclass(frozen=True)
class Bar:
    label: str
    parts: dict[str, float]
    """Segment name to value, drawn in this order."""


def stacked_bars(groups: Sequence[tuple[str, Sequence[Bar]]], colors: dict[str, str], money: Callable[[float], str],
                 label: str) -> str:
    """Horizontal bars, grouped (a category's bars side by side), each stacked by segment."""
    largest = max((sum(bar.parts.values()) for _, bars in groups for bar in bars), default=0.0) or 1.0
    scale = (CHART_WIDTH - LABEL_WIDTH - 90) / largest
    body: list[str] = []
    y = 6.0
    for group, bars in groups:
        body.append(_label(0, y + ROW_HEIGHT / 2, group, weight="bold"))
        for bar in bars:
            x = float(LABEL_WIDTH)
            body.append(_label(LABEL_WIDTH - 6, y + ROW_HEIGHT / 2, bar.label, anchor="end"))
            for name, value in bar.parts.items():
                width = value * scale
                body.append(_rect(x, y + 2, width, ROW_HEIGHT - 4, colors.get(name, OTHER_COLOR),
                                  f"{group} · {bar.label} · {name}: {money(value)}"))
                x += width
            body.append(_label(x + 4, y + ROW_HEIGHT / 2, money(sum(bar.parts.values()))))
            y += ROW_HEIGHT
        y += 8
    return _svg(CHART_WIDTH, y, body, label)


def waterfall(start: tuple[str, float], steps: Sequence[tuple[str, float]], end: tuple[str, float],
              money: Callable[[float], str], label: str) -> str:
    """Vertical waterfall: the start total, each step down (a saving) or up, the end total. The axis
    starts near the lowest level (not at 0) when the steps are small beside the totals, so a step of
    a few percent is a bar, not a hairline; the axis says where it starts."""
    columns = [start, *steps, end]
    height, top, bottom = 260.0, 20.0, 40.0
    levels = [start[1], end[1], *(start[1] - sum(delta for _, delta in steps[:index + 1]) for index in range(len(steps)))]
    peak = max(*levels, 1e-12)
    floor = min(levels) * 0.8 if min(levels) > 0.5 * peak else 0.0
    scale = (height - top - bottom) / max(peak - floor, 1e-12)
    width = max(CHART_WIDTH, 110.0 * len(columns))
    slot = width / len(columns)
    body = [f'<line x1="0" y1="{height - bottom:.2f}" x2="{width:.2f}" y2="{height - bottom:.2f}" stroke="#999"/>']
    if floor:
        body.append(_label(2, height - bottom - 4, f"axis from {money(floor)}"))
    level = start[1]
    for index, (name, value) in enumerate(columns):
        x = index * slot + slot * 0.2
        if index in (0, len(columns) - 1):
            low, high, color, shown = floor, value, TOTAL, money(value)
        else:
            low, high = sorted((level, level - value))
            color, shown = (GAIN if value >= 0 else LOSS), f"−{money(value)}" if value >= 0 else f"+{money(-value)}"
            level -= value
        y = height - bottom - (high - floor) * scale
        body.append(_rect(x, y, slot * 0.6, max((high - low) * scale, 1.0), color, f"{name}: {shown}"))
        body.append(_label(x + slot * 0.3, y - 8, shown, anchor="middle"))
        body.append(_label(x + slot * 0.3, height - bottom + 14, name, anchor="middle"))
    return _svg(width, height, body, label)


@dataclass(frozen=True)
class Interval:
    label: str
    estimate: float
    low: float
    high: float
    note: str = ""


def intervals(rows: Sequence[Interval], span: tuple[float, float], label: str) -> str:
    """Horizontal dot-and-whisker rows on a shared axis with a line at zero (no change)."""
    low_end, high_end = span
    plot = CHART_WIDTH - LABEL_WIDTH - 120

    def at(value: float) -> float:
        return LABEL_WIDTH + (min(max(value, low_end), high_end) - low_end) / (high_end - low_end) * plot

    height = 30 + ROW_HEIGHT * 1.4 * len(rows)
    body = [(f'<line x1="{at(0):.2f}" y1="4" x2="{at(0):.2f}" y2="{height - 20:.2f}" stroke="#999" '
            'stroke-dasharray="3 3"/>'),
            _label(at(low_end), height - 10, f"{low_end:+g}", anchor="start"),
            _label(at(0), height - 10, "0 (as logged)", anchor="middle"),
            _label(at(high_end), height - 10, f"{high_end:+g}", anchor="end")]
    for index, row in enumerate(rows):
        y = 12 + index * ROW_HEIGHT * 1.4
        title = f"{row.label}: {row.estimate:+.2f} [{row.low:+.2f}, {row.high:+.2f}] {row.note}".strip()
        color = LOSS if row.high < 0 else GAIN if row.low > 0 else TOTAL
        body += [_label(LABEL_WIDTH - 6, y, row.label, anchor="end"),
                 (f'<line x1="{at(row.low):.2f}" y1="{y:.2f}" x2="{at(row.high):.2f}" y2="{y:.2f}" stroke="{color}" '
                 f'stroke-width="2"><title>{escape(title)}</title></line>'),
                 (f'<circle cx="{at(row.estimate):.2f}" cy="{y:.2f}" r="4" fill="{color}"><title>{escape(title)}</title>'
                 "</circle>"),
                 _label(CHART_WIDTH - 110, y, f"{row.estimate:+.2f} {row.note}".strip())]
    return _svg(CHART_WIDTH, height, body, label)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    kind: str = "curve"
    """``curve`` (joined in x order), ``baseline`` or ``candidate`` (marked)."""


def curve(points: Sequence[Point], x_title: str, y_title: str, x_format: Callable[[float], str],
          label: str, y_format: Callable[[float], str] = lambda value: f"{value:+.2f}") -> str:
    """A line through the ``curve`` points in x order, with the baseline and candidate marked."""
    width, height, left, bottom, top, right = float(CHART_WIDTH), 320.0, 70.0, 44.0, 16.0, 30.0
    xs, ys = [point.x for point in points], [point.y for point in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(ys), max(ys)
    x_pad, y_pad = (x_high - x_low) * 0.05 or 1.0, (y_high - y_low) * 0.1 or 0.1
    x_low, x_high, y_low, y_high = x_low - x_pad, x_high + x_pad, y_low - y_pad, y_high + y_pad

    def at(point: Point) -> tuple[float, float]:
        return (left + (point.x - x_low) / (x_high - x_low) * (width - left - right),
                height - bottom - (point.y - y_low) / (y_high - y_low) * (height - top - bottom))

    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#999"/>',
            _label((left + width - right) / 2, height - 12, x_title, anchor="middle"),
            (f'<text x="14" y="{(top + height - bottom) / 2:.2f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {(top + height - bottom) / 2:.2f})">{escape(y_title)}</text>'),
            _label(left, height - bottom + 14, x_format(x_low + x_pad)),
            _label(width - right, height - bottom + 14, x_format(x_high - x_pad), anchor="end"),
            _label(left - 6, top + 4, y_format(y_high - y_pad), anchor="end"),
            _label(left - 6, height - bottom - 4, y_format(y_low + y_pad), anchor="end")]
    line = sorted((point for point in points if point.kind == "curve"), key=lambda point: point.x)
    if len(line) > 1:
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in map(at, line))
        body.append(f'<polyline points="{path}" fill="none" stroke="{TOTAL}" stroke-width="2"/>')
    for point in points:
        x, y = at(point)
        title = f"{point.label}: {x_title} {x_format(point.x)}, {y_title} {y_format(point.y)}"
        if point.kind == "curve":
            body.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="4" fill="{TOTAL}"><title>{escape(title)}</title></circle>')
        else:
            color = "#333" if point.kind == "baseline" else PALETTE[1]
            body.append(f'<rect x="{x - 6:.2f}" y="{y - 6:.2f}" width="12" height="12" fill="{color}" '
                        f'transform="rotate(45 {x:.2f} {y:.2f})"><title>{escape(title)}</title></rect>')
            body.append(_label(x + 10, y - 10, point.label))
    return _svg(width, height, body, label)
