"""Daily charts drawn by the server as SVG: no script and no library in the browser."""

from __future__ import annotations

from collections.abc import Sequence

from imagechat.web.admin.html import esc

WIDTH, HEIGHT = 480, 170
LEFT, BOTTOM, TOP = 48, 22, 10


def human(value: float) -> str:
    """12, 3.4k, 5.6M: short enough for an axis label."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.3g}"


def bar_chart(title: str, days: Sequence[str], values: Sequence[float], *, unit: str = "") -> str:
    """One bar per day, a scale on the left, the first and last day below; every bar has a
    title (its day and value) that browsers show on hover and screen readers read."""
    top = max(values, default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 6, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(values))
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_h * value / top
        x = LEFT + index * step
        y = TOP + plot_h - height
        bars.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{y:.1f}" width="{max(1.0, step * 0.8):.1f}" '
            f'height="{height:.1f}" fill="#2d5be3"><title>{esc(day)}: {esc(human(value))}'
            f"{esc(unit)}</title></rect>"
        )
    grid = "".join(
        f'<line x1="{LEFT}" x2="{WIDTH - 6}" y1="{TOP + plot_h * (1 - f):.1f}" '
        f'y2="{TOP + plot_h * (1 - f):.1f}" stroke="#e6e9ef"/>'
        f'<text x="{LEFT - 6}" y="{TOP + plot_h * (1 - f) + 4:.1f}" text-anchor="end" '
        f'font-size="11" fill="#6b7385">{esc(human(top * f))}</text>'
        for f in (0.0, 0.5, 1.0)
    )
    labels = ""
    if days:
        labels = (
            f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="11" fill="#6b7385">{esc(days[0])}</text>'
            f'<text x="{WIDTH - 6}" y="{HEIGHT - 6}" font-size="11" fill="#6b7385" '
            f'text-anchor="end">{esc(days[-1])}</text>'
        )
    return (
        f'<svg role="img" aria-label="{esc(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" data-chart="{esc(title)}">'
        f"{grid}{''.join(bars)}{labels}</svg>"
    )
