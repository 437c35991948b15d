"""The timeline picture of an answer: its dated points on a date axis, as inline SVG made on the server.

Each point links to its source card (`#src-TURN-N`, the same target as the answer's `[n]`), so the page's
click script scrolls to the card. Who-holds answers get a band per holder from each change to the next, in
the holder's colour, and a legend. Every piece of archive text (holder, quoted clause) is escaped here.
Pure: `timeline_svg(points, turn)` -> an HTML string, "" when there is nothing to draw.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from qa.answer import holder_groups
from qa.dates import format_date
from qa.types import TimelinePoint

WIDTH, MARGIN, AXIS_Y = 440, 24, 64
COLOURS = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
NEUTRAL = "#2563eb"
MAX_POINTS = 200  # drawn; a longer timeline shows its latest points
MAX_LEGEND = 8
MAX_STACK = 4  # points drawn one above another for reports of the same day
CHAR_PX = 6.6  # the width of a character of a 12 px date label, about
LABEL_CHARS = 11  # "21 May 2024"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _day(point: TimelinePoint) -> int | None:
    try:
        return date.fromisoformat(point.day[:10]).toordinal()
    except (TypeError, ValueError):
        return None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _anchor(x: float) -> str:
    """A date label near an edge is written inward, so it is not cut off."""
    return "start" if x < LABEL_CHARS * CHAR_PX / 2 else "end" if x > WIDTH - LABEL_CHARS * CHAR_PX / 2 else "middle"


def _extent(x: float, text: str) -> tuple[float, float]:
    """The left and right ends of a date label written at `x`."""
    width, anchor = len(text) * CHAR_PX, _anchor(x)
    left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return left, left + width


def _date_labels(days: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The dates to write under the axis, left to right, none touching another: the first always, and the
    last over any label it would touch but the first."""
    def touches(a: tuple[float, str], b: tuple[float, str]) -> bool:
        return _extent(a[0], format_date(a[1]))[1] + 6 > _extent(b[0], format_date(b[1]))[0]

    kept: list[tuple[float, str]] = []
    for i, label in enumerate(days):
        if i == len(days) - 1:
            while len(kept) > 1 and touches(kept[-1], label):
                kept.pop()
        if not kept or not touches(kept[-1], label):
            kept.append(label)
    return kept


def timeline_svg(points: Sequence[TimelinePoint], turn: int) -> str:
    """The picture of an answer's timeline (turn `turn` of the conversation), or "" with no dated point."""
    dated = sorted(((d, p) for p in points if (d := _day(p)) is not None), key=lambda x: x[0])[-MAX_POINTS:]
    if not dated:
        return ""
    first, last = dated[0][0], dated[-1][0]
    span = max(1, last - first)

    def x(day: int) -> float:
        return WIDTH / 2 if last == first else MARGIN + (day - first) / span * (WIDTH - 2 * MARGIN)

    holders = [p.holder for _, p in dated if p.holder]
    groups = dict(zip(holders, holder_groups(holders))) if holders else {}
    order = list(dict.fromkeys(groups.values()))
    colour = {g: COLOURS[i % len(COLOURS)] for i, g in enumerate(order)}

    def fill(p: TimelinePoint) -> str:
        return colour[groups[p.holder]] if p.holder in groups else NEUTRAL

    parts: list[str] = []
    # holder bands: from each point with a holder to the next such point (the last runs to the axis end)
    held = [(d, p) for d, p in dated if p.holder]
    for i, (d, p) in enumerate(held):
        x0 = x(d)
        x1 = x(held[i + 1][0]) if i + 1 < len(held) else WIDTH - MARGIN / 2
        if x1 > x0:
            parts.append(f'<rect class="qa-band" x="{x0:.1f}" y="{AXIS_Y - 7}" width="{x1 - x0:.1f}" height="14" '
                         f'fill="{fill(p)}" fill-opacity="0.25"><title>{_esc(p.holder)} from '
                         f'{_esc(format_date(p.day))}</title></rect>')
    parts.append(f'<line x1="{MARGIN / 2}" y1="{AXIS_Y}" x2="{WIDTH - MARGIN / 2}" y2="{AXIS_Y}" '
                 'stroke="currentColor" stroke-opacity="0.5"/>')
    stacked: dict[int, int] = {}
    days: list[tuple[float, str]] = []
    for d, p in dated:
        level = min(stacked.get(d, 0), MAX_STACK - 1)  # more reports of one day share the top place
        stacked[d] = level + 1
        cx, cy = x(d), AXIS_Y - 16 * level
        tip = f"{format_date(p.day)} — {p.what} [{p.n}]" + (f" · held by {p.holder}" if p.holder else "")
        parts.append(f'<a class="qa-cite qa-point" href="#src-{int(turn)}-{int(p.n)}" data-n="{int(p.n)}">'
                     f'<title>{_esc(tip)}</title>'
                     f'<circle cx="{cx:.1f}" cy="{cy}" r="6" fill="{fill(p)}" stroke="#fff" stroke-width="1.5"/>'
                     f'<text x="{cx:.1f}" y="{cy - 10}" text-anchor="middle" font-size="12" '
                     f'fill="currentColor">[{int(p.n)}]</text></a>')
        if level == 0:
            days.append((cx, p.day))
    parts += [f'<text class="qa-day" x="{cx:.1f}" y="{AXIS_Y + 22}" text-anchor="{_anchor(cx)}" font-size="12" '
              f'fill="currentColor">{_esc(format_date(day))}</text>' for cx, day in _date_labels(days)]
    legend_y = AXIS_Y + 44
    names: dict[int, str] = {}
    for h in holders:  # a group is named by its longest phrase ("The Iron Dawn Revolutionary Brigades")
        g = groups[h]
        if len(h) > len(names.get(g, "")):
            names[g] = h
    for i, g in enumerate(order[:MAX_LEGEND]):
        y = legend_y + 16 * i
        parts.append(f'<rect x="{MARGIN}" y="{y - 9}" width="10" height="10" fill="{colour[g]}"/>'
                     f'<text class="qa-holder" x="{MARGIN + 16}" y="{y}" font-size="12" '
                     f'fill="currentColor">{_esc(_short(names[g], 80))}</text>')
    min_y = AXIS_Y - 16 * (max(stacked.values()) - 1) - 26
    max_y = legend_y + 16 * (min(len(order), MAX_LEGEND) - 1) + 6 if order else AXIS_Y + 30
    label = (f"Timeline of {len(dated)} dated report{'s' if len(dated) != 1 else ''}, "
             f"{format_date(dated[0][1].day)} to {format_date(dated[-1][1].day)}")
    svg = (f'<svg class="qa-timeline-svg" viewBox="0 {min_y} {WIDTH} {max_y - min_y}" '
           f'width="100%" role="img" aria-label="{_esc(label)}" xmlns="http://www.w3.org/2000/svg">'
           + "".join(parts) + "</svg>")
    return (f'<figure class="qa-timeline"><figcaption>{_esc(label)}; each point opens its source'
            f'</figcaption>{svg}</figure>')
