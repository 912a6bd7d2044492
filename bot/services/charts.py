"""Charts drawn on the server as SVG: no chart library and no third-party request in the page.

Each chart carries a <title> and <desc> (read by screen readers; the page also shows the same
figures as tables with a CSV export), uses the console's colours with enough contrast, and
escapes every label.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

INK, BAR, GRID, BACKGROUND = "#1a1a1a", "#0b5394", "#d0d7de", "#ffffff"
_FONT = "font-family='system-ui, sans-serif' font-size='12'"


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-labelledby='t d'>"
        f"<title id='t'>{escape(title)}</title><desc id='d'>{escape(desc)}</desc>"
        f"<rect width='100%' height='100%' fill='{BACKGROUND}'/>" + "".join(body) + "</svg>"
    )


def bar_chart(
    labels: Sequence[str], values: Sequence[float], title: str, unit: str = "",
    width: int = 720, height: int = 220,
) -> str:
    """Vertical bars, one per label (e.g. per day); every 7th label printed below."""
    left, bottom, top = 40, 28, 12
    top_value = max(max(values, default=0), 1)
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / max(len(values), 1)
    body = [
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 8}' y2='{top + plot_h}' "
        f"stroke='{INK}'/>",
        f"<text x='{left - 6}' y='{top + 10}' text-anchor='end' {_FONT} fill='{INK}'>"
        f"{top_value:g}</text>",
        f"<text x='{left - 6}' y='{top + plot_h}' text-anchor='end' {_FONT} fill='{INK}'>0</text>",
    ]
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top_value
        x = left + n * step + step * 0.15
        body.append(
            f"<rect x='{x:.1f}' y='{top + plot_h - h:.1f}' width='{step * 0.7:.1f}' "
            f"height='{h:.1f}' fill='{BAR}'><title>{escape(label)}: {value:g}{unit}</title></rect>"
        )
        if n % 7 == 0:
            body.append(
                f"<text x='{x:.1f}' y='{height - 8}' {_FONT} fill='{INK}'>{escape(label)}</text>"
            )
    total = sum(values)
    desc = f"{len(values)} søjler, i alt {total:g}{unit}, højest {top_value:g}{unit}."
    return _svg(width, height, title, desc, body)


def heat_map(
    rows: Sequence[str], grid: Sequence[Sequence[int]], title: str, width: int = 720
) -> str:
    """Rows (weekdays) by 24 hours; darker = more."""
    left, top, cell_h = 40, 22, 22
    cell_w = (width - left - 8) / 24
    height = top + cell_h * len(rows) + 6
    most = max((v for row in grid for v in row), default=0) or 1
    body = [
        f"<text x='{left + hour * cell_w + 2:.1f}' y='{top - 8}' {_FONT} fill='{INK}'>{hour}</text>"
        for hour in range(0, 24, 3)
    ]
    for r, (name, row) in enumerate(zip(rows, grid, strict=True)):
        y = top + r * cell_h
        body.append(f"<text x='4' y='{y + 15}' {_FONT} fill='{INK}'>{escape(name)}</text>")
        for hour, value in enumerate(row):
            # From white to the bar colour; an empty hour keeps a faint grid line.
            alpha = 0.08 + 0.92 * value / most if value else 0
            body.append(
                f"<rect x='{left + hour * cell_w:.1f}' y='{y}' width='{cell_w - 1:.1f}' "
                f"height='{cell_h - 2}' fill='{BAR}' fill-opacity='{alpha:.2f}' "
                f"stroke='{GRID}'><title>{escape(name)} kl. {hour}: {value}</title></rect>"
            )
    desc = f"Samtaler pr. time og ugedag; flest i én time: {most}."
    return _svg(width, int(height), title, desc, body)
