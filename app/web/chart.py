"""A small server-side bar chart as an inline SVG string.

The page's content security policy forbids ``style`` attributes, so everything here is drawn
with SVG presentation attributes (``fill``, ``stroke``, ``font-size``, ``text-anchor``). The
chart is ``role="img"`` named by its ``<title>`` and described by its ``<desc>``; the page
must still show the same figures as a table, since the bars themselves are not read out.
Every piece of text is XML-escaped here, so the result may be put into a page unescaped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

# GOV.UK Design System colours: text, secondary text, mid grey (borders), blue.
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
GRID = "#b1b4b6"
BAR = "#1d70b8"
FONT = "GDS Transport, arial, sans-serif"  # GOV.UK Frontend's; SVG text does not inherit it

_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

# Room around the plot for the axis titles, tick labels, month labels and bar values.
_LEFT = 64
_RIGHT = 16
_TOP = 28
_BOTTOM = 72
_LINE = 16  # line height of a wrapped label


def nice_ceiling(value: int, ticks: int = 4) -> tuple[int, int]:
    """The axis top and tick step for a largest value: a step of 1, 2 or 5 times a power of
    ten (whole numbers only, since the chart counts things), about ``ticks`` steps high."""
    if value <= 0:
        return 1, 1
    raw = value / ticks
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step), step


def _fmt(number: float) -> str:
    # Coordinates with at most one decimal place: enough on screen, short in the page.
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, content: str, **attrs: str) -> str:
    lines = content.split("\n")
    extra = "".join(f" {name.replace('_', '-')}={quoteattr(v)}" for name, v in attrs.items())
    if len(lines) == 1:
        return f'<text x="{_fmt(x)}" y="{_fmt(y)}"{extra}>{escape(content)}</text>'
    spans = "".join(
        f'<tspan x="{_fmt(x)}" dy="{0 if i == 0 else _LINE}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{_fmt(x)}" y="{_fmt(y)}"{extra}>{spans}</text>'


def bar_chart(
    data: Sequence[tuple[str, int]],
    *,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    chart_id: str = "chart",
    width: int = 720,
    height: int = 340,
) -> str:
    """An SVG bar chart of ``(label, value)`` pairs, one bar each, in the order given.

    Each bar has its value printed above it (zero included); a label may hold a newline to
    wrap onto a second line. ``chart_id`` prefixes the ids of the title and description, so
    it must be unique on the page. Values must be whole numbers, zero or more.
    """
    if not _ID.fullmatch(chart_id):
        raise ValueError(f"chart_id {chart_id!r}: a letter, then letters, digits, '_' or '-'")
    if any(value < 0 for _, value in data):
        raise ValueError("bar values must be zero or more")
    plot_left, plot_right = _LEFT, width - _RIGHT
    plot_top, plot_bottom = _TOP, height - _BOTTOM
    plot_height = plot_bottom - plot_top
    top, step = nice_ceiling(max((value for _, value in data), default=0))

    def y_of(value: float) -> float:
        return plot_bottom - plot_height * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{FONT}" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    # Grid lines and the value axis's tick labels.
    for tick in range(0, top + 1, step):
        y = y_of(tick)
        parts.append(
            f'<line x1="{plot_left}" y1="{_fmt(y)}" x2="{plot_right}" y2="{_fmt(y)}" '
            f'stroke="{GRID if tick else TEXT}" stroke-width="1"/>'
        )
        parts.append(
            _text(
                plot_left - 8,
                y + 5,
                str(tick),
                fill=SECONDARY_TEXT,
                font_size="14",
                text_anchor="end",
            )
        )
    parts.append(
        f'<line x1="{plot_left}" y1="{plot_top}" x2="{plot_left}" y2="{plot_bottom}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    # Bars, each with its value above it and its label below the axis.
    slot = (plot_right - plot_left) / max(len(data), 1)
    bar_width = slot * 0.6
    for index, (label, value) in enumerate(data):
        centre = plot_left + slot * index + slot / 2
        bar_top = y_of(value)
        parts.append(
            f'<rect class="app-chart__bar" x="{_fmt(centre - bar_width / 2)}" '
            f'y="{_fmt(bar_top)}" width="{_fmt(bar_width)}" '
            f'height="{_fmt(plot_bottom - bar_top)}" fill="{BAR}" '
            f'data-label={quoteattr(label)} data-value="{value}"/>'
        )
        parts.append(
            _text(
                centre,
                bar_top - 6,
                str(value),
                fill=TEXT,
                font_size="14",
                font_weight="bold",
                text_anchor="middle",
            )
        )
        parts.append(
            _text(centre, plot_bottom + 20, label, fill=TEXT, font_size="13", text_anchor="middle")
        )
    # Axis titles: the value axis's reads bottom to top, beside the tick labels.
    middle = (plot_top + plot_bottom) / 2
    parts.append(
        f'<text x="0" y="0" transform="translate(18 {_fmt(middle)}) rotate(-90)" '
        f'fill="{TEXT}" font-size="14" text-anchor="middle">{escape(y_label)}</text>'
    )
    parts.append(
        _text(
            (plot_left + plot_right) / 2,
            height - 10,
            x_label,
            fill=TEXT,
            font_size="14",
            text_anchor="middle",
        )
    )
    parts.append("</svg>")
    return "".join(parts)
