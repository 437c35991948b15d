"""Publication dates: read the ways archives write them, keep them as ISO `YYYY-MM-DD`."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
MONTH_PATTERN = "|".join(sorted(_MONTHS, key=len, reverse=True))  # month names and abbreviations
_DATE_MDY = re.compile(rf"\b({MONTH_PATTERN})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_PATTERN})\.?,?\s+(\d{{4}})\b", re.I)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T\s].*)?$")
_MDY = re.compile(r"^\s*([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\s*$")  # March 14, 2024
_DMY = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\s*$")  # 14 March 2024


def parse_date(text: str | None) -> str | None:
    """`'2023-11-27 08:45:59.000000000Z'` -> `'2023-11-27'`; `'March 14, 2024'` -> `'2024-03-14'`.

    Returns None for anything that is not a whole, valid date.
    """
    if not text or len(text) > 64:
        return None
    if m := _ISO.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _MDY.match(text):
        y, mo, d = int(m[3]), _MONTHS.get(m[1].lower(), 0), int(m[2])
    elif m := _DMY.match(text):
        y, mo, d = int(m[3]), _MONTHS.get(m[2].lower(), 0), int(m[1])
    else:
        return None
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None


def format_date(iso: str | None) -> str:
    """`'2024-03-14'` -> `'14 Mar 2024'`; unknown dates read "undated"."""
    if not iso:
        return "undated"
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {d.strftime('%b')} {d.year}"


def ordinal(iso: str | None) -> int:
    """Day number of an ISO date for range filters; -1 for undated."""
    return date.fromisoformat(iso[:10]).toordinal() if iso else -1


def mentioned_dates(question: str) -> list[str]:
    """ISO dates written in the question, in order, without repeats.

    `mentioned_dates('published on October 13th, 2023, and 5 Nov 2023')` -> `['2023-10-13', '2023-11-05']`
    """
    found: list[tuple[int, str]] = []
    for pattern, order in ((_DATE_MDY, (3, 1, 2)), (_DATE_DMY, (3, 2, 1)), (_DATE_ISO, (1, 2, 3))):
        for m in pattern.finditer(question):
            y, mo, d = (m[i] for i in order)
            month = int(mo) if mo.isdigit() else _MONTHS.get(mo.lower(), 0)
            try:
                found.append((m.start(), date(int(y), month, int(d)).isoformat()))
            except ValueError:
                continue
    return list(dict.fromkeys(iso for _, iso in sorted(found)))
