"""Line charts as plain SVG text, for docs/ (matplotlib is not a dependency).

chart = Chart("Latency", "offered load (req/s)", "ms", log_y=True)
chart.add("p99", [(100, 12.0), (400, 48.0)], "#d62728")
chart.hline(50, "goal: p99 50 ms")
svg = page([chart])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 460, 320
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 34, 48


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    color: str
    dashed: bool = False


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    log_y: bool = False
    series: list[Series] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)
    vlines: list[tuple[float, str]] = field(default_factory=list)

    def add(
        self, name: str, points: list[tuple[float, float]], color: str, dashed: bool = False
    ) -> None:
        self.series.append(Series(name, sorted(points), color, dashed))

    def hline(self, y: float, label: str) -> None:
        self.hlines.append((y, label))

    def vline(self, x: float, label: str) -> None:
        self.vlines.append((x, label))


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= value)


class _Frame:
    """Data to pixel coordinates of one chart."""

    def __init__(self, chart: Chart) -> None:
        xs = [x for s in chart.series for x, _ in s.points] + [x for x, _ in chart.vlines]
        ys = [y for s in chart.series for _, y in s.points] + [y for y, _ in chart.hlines]
        self.x_max = _nice_max(max(xs, default=1.0) * 1.05)
        self.log_y = chart.log_y
        if chart.log_y:
            low = min((y for y in ys if y > 0), default=1.0)
            self.y_min = 10 ** math.floor(math.log10(low))
            self.y_max = 10 ** math.ceil(math.log10(max(ys, default=10.0) * 1.01))
        else:
            self.y_min, self.y_max = 0.0, _nice_max(max(ys, default=1.0) * 1.05)

    def px(self, x: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * x / self.x_max

    def py(self, y: float) -> float:
        span = HEIGHT - TOP - BOTTOM
        if self.log_y:
            y = max(y, self.y_min)
            share = math.log10(y / self.y_min) / math.log10(self.y_max / self.y_min)
        else:
            share = (y - self.y_min) / (self.y_max - self.y_min)
        return HEIGHT - BOTTOM - span * share

    def y_ticks(self) -> list[float]:
        if self.log_y:
            count = round(math.log10(self.y_max / self.y_min))
            return [self.y_min * 10**i for i in range(count + 1)]
        return [self.y_max * i / 5 for i in range(6)]

    def x_ticks(self) -> list[float]:
        return [self.x_max * i / 5 for i in range(6)]


def _number(v: float) -> str:
    return f"{v:,.0f}" if v >= 1 or v == 0 else f"{v:g}"


def _el(tag: str, text: str = "", **attrs: object) -> str:
    """One SVG element; `text_anchor=` is written `text-anchor=`, floats to 0.1 px."""
    parts = []
    for key, value in attrs.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f'{key.replace("_", "-")}="{shown}"')
    head = f"<{tag} {' '.join(parts)}"
    return f"{head}>{escape(text)}</{tag}>" if text else f"{head}/>"


def render(chart: Chart, dx: float = 0) -> str:
    f = _Frame(chart)
    right, bottom = float(WIDTH - RIGHT), float(HEIGHT - BOTTOM)
    out = [f'<g transform="translate({dx},0)">']
    out.append(_el("text", chart.title, x=WIDTH / 2, y=20, text_anchor="middle",
                   font_weight="bold"))  # fmt: skip
    for y in f.y_ticks():
        out.append(_el("line", x1=LEFT, x2=right, y1=f.py(y), y2=f.py(y), stroke="#e5e5e5"))
        out.append(_el("text", _number(y), x=LEFT - 6, y=f.py(y) + 4, text_anchor="end"))
    out += [
        _el("text", _number(x), x=f.px(x), y=bottom + 16, text_anchor="middle") for x in f.x_ticks()
    ]
    out.append(_el("rect", x=LEFT, y=TOP, width=right - LEFT, height=bottom - TOP,
                   fill="none", stroke="#888"))  # fmt: skip
    out.append(_el("text", chart.x_label, x=(LEFT + right) / 2, y=HEIGHT - 12,
                   text_anchor="middle"))  # fmt: skip
    middle = (TOP + bottom) / 2
    out.append(_el("text", chart.y_label, x=14, y=middle, text_anchor="middle",
                   transform=f"rotate(-90 14 {middle})"))  # fmt: skip
    for y, label in chart.hlines:
        out.append(_el("line", x1=LEFT, x2=right, y1=f.py(y), y2=f.py(y), stroke="#555",
                       stroke_dasharray="5 4"))  # fmt: skip
        out.append(_el("text", label, x=LEFT + 4, y=f.py(y) - 4, fill="#555"))
    for x, label in chart.vlines:
        out.append(_el("line", x1=f.px(x), x2=f.px(x), y1=TOP, y2=bottom, stroke="#555",
                       stroke_dasharray="5 4"))  # fmt: skip
        out.append(_el("text", label, x=f.px(x) - 4, y=TOP + 12, text_anchor="end",
                       fill="#555"))  # fmt: skip
    for i, s in enumerate(chart.series):
        out += _series(f, s, i)
    out.append("</g>")
    return "\n".join(out)


def _series(f: _Frame, s: Series, index: int) -> list[str]:
    dash = {"stroke_dasharray": "2 3"} if s.dashed else {}
    points = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in s.points)
    out = [_el("polyline", points=points, fill="none", stroke=s.color, stroke_width=2, **dash)]
    out += [_el("circle", cx=f.px(x), cy=f.py(y), r=3, fill=s.color) for x, y in s.points]
    key_x, key_y = float(WIDTH - RIGHT - 92), float(TOP + 20 + 15 * index)
    out.append(_el("line", x1=key_x, x2=key_x + 20, y1=key_y, y2=key_y, stroke=s.color,
                   stroke_width=2, **dash))  # fmt: skip
    out.append(_el("text", s.name, x=key_x + 24, y=key_y + 4))
    return out


def page(charts: list[Chart], note: str = "") -> str:
    """Charts side by side in one SVG document, with an optional note under them."""
    width, height = WIDTH * len(charts), HEIGHT + (22 if note else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    parts += [render(chart, WIDTH * i) for i, chart in enumerate(charts)]
    if note:
        parts.append(f'<text x="8" y="{height - 8}" fill="#444">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
