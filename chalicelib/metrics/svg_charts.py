"""Small inline SVG charts for the HTML report: no library, no external asset.

A value of None is a gap (a line breaks, a bar is absent): a missing figure
must not look like a zero.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36
AXIS, GRID, MUTED = "#5b6472", "#e3e7ee", "#8a93a3"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    color: str
    dashed: bool = False


def nice_step(span: float, ticks: int = 4) -> float:
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


# Steps a person reads on a time axis: 1 s ... 1 min ... 1 h ... 1 day.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def nice_time_step(span: float, ticks: int = 4) -> float:
    raw = max(span, 1e-9) / ticks
    for step in TIME_STEPS:
        if raw <= step:
            return step
    return 86400 * math.ceil(raw / 86400)


def _bounds(values: list[float], zero_based: bool, unit: str = "count") -> tuple[float, float, float]:
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if zero_based:
        low = min(0.0, low)
    if high == low:
        high, low = high + 1, (low - 1 if not zero_based or low > 0 else low)
    step = nice_time_step(high - low) if unit == "seconds" else nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _label(value: float, unit: str) -> str:
    if unit == "seconds":
        return duration(value)
    if unit == "percent":
        return f"{value:g} %"
    if abs(value) >= 10000:
        return f"{value / 1000:g}k"
    return f"{value:,.{0 if float(value).is_integer() else 1}f}"


def duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min" + (f" {rest:02d} s" if rest else "")
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")


def _frame(title: str, body: list[str], y_ticks: list[tuple[float, str]], x_labels: list[tuple[float, str]],
           legend: list[Series] | None = None) -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    for y, text in y_ticks:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{AXIS}">{escape(text)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" '
                 f'stroke="{AXIS}"/>')
    for x, text in x_labels:
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                     f'fill="{AXIS}">{escape(text)}</text>')
    parts += body
    for index, series in enumerate(legend or []):
        x = LEFT + 8 + index * 200
        dash = ' stroke-dasharray="6 4"' if series.dashed else ""
        parts.append(f'<line x1="{x}" x2="{x + 22}" y1="{TOP + 2}" y2="{TOP + 2}" stroke="{series.color}" '
                     f'stroke-width="2.5"{dash}/>')
        parts.append(f'<text x="{x + 28}" y="{TOP + 6}" font-size="11" fill="{AXIS}">'
                     f'{escape(series.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _empty(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 80" role="img" aria-label="'
            f'{escape(title)}" class="chart"><title>{escape(title)}</title><text x="{WIDTH / 2}" y="44" '
            f'text-anchor="middle" font-size="13" fill="{MUTED}">No figures for this period yet</text></svg>')


def _x_positions(count: int) -> list[float]:
    inner = WIDTH - LEFT - RIGHT
    if count == 1:
        return [LEFT + inner / 2]
    return [LEFT + 12 + i * (inner - 24) / (count - 1) for i in range(count)]


def _x_labels(labels: list[str], xs: list[float]) -> list[tuple[float, str]]:
    every = max(1, math.ceil(len(labels) / 12))
    return [(xs[i], labels[i]) for i in range(0, len(labels), every)]


def line_chart(title: str, labels: list[str], series: list[Series], unit: str = "count",
               zero_based: bool = False) -> str:
    known = [v for s in series for v in s.values if v is not None]
    if not known:
        return _empty(title)
    low, high, step = _bounds(known, zero_based, unit)
    plot_top, plot_bottom = TOP + 16, HEIGHT - BOTTOM

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (high - low) * (plot_bottom - plot_top)

    xs = _x_positions(len(labels))
    body = []
    for line in series:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        segment: list[str] = []
        points = []
        for i, value in enumerate(line.values[:len(xs)]):
            if value is None:
                if len(segment) > 1:
                    body.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="2.5"{dash} '
                                f'points="{" ".join(segment)}"/>')
                segment = []
                continue
            segment.append(f"{xs[i]:.1f},{y_of(value):.1f}")
            points.append((xs[i], y_of(value), value, labels[i] if i < len(labels) else ""))
        if len(segment) > 1:
            body.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="2.5"{dash} '
                        f'points="{" ".join(segment)}"/>')
        if not line.dashed:
            for x, y, value, label in points:
                body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{line.color}">'
                            f'<title>{escape(label)}: {escape(_label(value, unit))}</title></circle>')
    ticks = []
    value = low
    while value <= high + step / 2:
        ticks.append((y_of(value), _label(value, unit)))
        value += step
    return _frame(title, body, ticks, _x_labels(labels, xs), series if len(series) > 1 else None)


def bar_chart(title: str, labels: list[str], values: list[float | None], color: str,
              unit: str = "count") -> str:
    known = [v for v in values if v is not None]
    if not known:
        return _empty(title)
    low, high, step = _bounds(known, zero_based=True, unit=unit)
    plot_top, plot_bottom = TOP + 4, HEIGHT - BOTTOM

    def y_of(value: float) -> float:
        return plot_bottom - (value - low) / (high - low) * (plot_bottom - plot_top)

    xs = _x_positions(len(labels))
    width = max(2.0, (WIDTH - LEFT - RIGHT - 24) / max(1, len(labels)) * 0.7)
    body = []
    for x, value, label in zip(xs, values, labels, strict=False):
        if value is None:
            continue
        top = y_of(max(value, 0))
        body.append(f'<rect x="{x - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
                    f'height="{max(0.0, y_of(0) - top):.1f}" fill="{color}" rx="1.5">'
                    f'<title>{escape(label)}: {escape(_label(value, unit))}</title></rect>')
    ticks = []
    value = low
    while value <= high + step / 2:
        ticks.append((y_of(value), _label(value, unit)))
        value += step
    return _frame(title, body, ticks, _x_labels(labels, xs))


def hbar_chart(title: str, items: list[tuple[str, float]], color: str) -> str:
    if not items:
        return _empty(title)
    row, label_width = 30, 300
    height = TOP + row * len(items) + 8
    top_value = max(v for _label, v in items) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = TOP + i * row
        short = label if len(label) <= 44 else label[:43] + "…"
        length = (WIDTH - label_width - 70) * value / top_value
        parts.append(f'<text x="{label_width - 10}" y="{y + 15}" text-anchor="end" font-size="12" '
                     f'fill="{AXIS}">{escape(short)}<title>{escape(label)}</title></text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{max(1.5, length):.1f}" height="18" '
                     f'fill="{color}" rx="2"/>')
        parts.append(f'<text x="{label_width + max(1.5, length) + 6:.1f}" y="{y + 16}" font-size="12" '
                     f'fill="#1d2430">{escape(_label(value, "count"))}</text>')
    parts.append("</svg>")
    return "".join(parts)
