"""Publication dates: read the ways archives write them, keep them as ISO `YYYY-MM-DD`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
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
MONTH_PATTERN = "|".join(sorted(MONTHS, key=len, reverse=True))  # month names and abbreviations
_DATE_MDY = re.compile(rf"\b({MONTH_PATTERN})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_PATTERN})\.?,?\s+(\d{{4}})\b", re.I)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR_DIGITS = re.compile(r"\d{4}")
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
        y, mo, d = int(m[3]), MONTHS.get(m[1].lower(), 0), int(m[2])
    elif m := _DMY.match(text):
        y, mo, d = int(m[3]), MONTHS.get(m[2].lower(), 0), int(m[1])
    else:
        return None
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return None


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_MONTH = re.compile(rf"^(?:({MONTH_PATTERN})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?|"
                        rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTH_PATTERN})\.?)$", re.I)


def resolve_day(phrase: str, reported: str | None) -> str | None:
    """The ISO day a date phrase of a report names: a whole date as written; a month and day, or a weekday
    ("on Sunday"), as the latest such day not after the report's date ("last Sunday": before it). None
    when it cannot be told.

    `resolve_day('on Thursday', '2025-03-21')` -> `'2025-03-20'`; `resolve_day('March 20', '2025-03-21')`
    -> `'2025-03-20'`."""
    last = re.match(r"\s*last\s", phrase, re.I) is not None  # "last Tuesday": the one before the report's day
    text = re.sub(r"^(?:on|last|this)\s+", "", phrase.strip(), flags=re.I).strip().rstrip(".,")
    found = mentioned_dates(text)
    if whole := parse_date(text) or (found[0] if found else None):
        return whole
    if not reported or parse_date(reported[:10]) is None:
        return None
    day = date.fromisoformat(reported[:10])
    if text.lower() in _WEEKDAY_NAMES:
        back = (day.weekday() - _WEEKDAY_NAMES.index(text.lower())) % 7
        return (day - timedelta(days=back or (7 if last else 0))).isoformat()
    if m := _DAY_MONTH.match(text):
        month = MONTHS.get((m[1] or m[4]).lower().rstrip("."), 0)
        try:
            when = date(day.year, month, int(m[2] or m[3]))
        except ValueError:
            return None
        if when > day:
            try:
                when = when.replace(year=day.year - 1)
            except ValueError:
                return None
        return when.isoformat()
    return None


def spoken_date(iso: str) -> str:
    """`'2025-03-20'` -> `'20 March 2025'`: a date as an answer says it."""
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {d.strftime('%B')} {d.year}"


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
    if not _YEAR_DIGITS.search(question):  # every form below holds a four-digit year
        return []
    found: list[tuple[int, str]] = []
    for pattern, order in ((_DATE_MDY, (3, 1, 2)), (_DATE_DMY, (3, 2, 1)), (_DATE_ISO, (1, 2, 3))):
        for m in pattern.finditer(question):
            y, mo, d = (m[i] for i in order)
            month = int(mo) if mo.isdigit() else MONTHS.get(mo.lower(), 0)
            try:
                found.append((m.start(), date(int(y), month, int(d)).isoformat()))
            except ValueError:
                continue
    return list(dict.fromkeys(iso for _, iso in sorted(found)))


# Calendar spans only: "today" is as often part of a title ("… starting today") and "recently" as
# often a figure of speech ("a company recently reported by TechCrunch") as a time to filter by;
# filtering on them cost MultiHop dev Hits@10 0.983 -> 0.959 (docs/benchmarks.md).
RELATIVE_TIME = re.compile(
    r"\b(?P<p>(?:so far |earlier )?this (?:week|month|year)|(?:in )?the (?:past|last) (?:week|month|year|"
    r"(?:few |two |three |\d+ )(?:days|weeks|months))|last (?:week|month|year)|yesterday)\b", re.I)
_SPANS = {"days": 1, "weeks": 7, "months": 30}
_COUNTS = {"few": 3, "two": 2, "three": 3}


@dataclass(frozen=True)
class Window:
    """A time window read from a question, inclusive ISO dates, and how the answer names it."""

    date_from: str
    date_to: str
    label: str  # "In the week to 1 Dec 2023"


def relative_window(question: str, anchor: str) -> Window | None:
    """The window a question's relative time names, read against `anchor` (the `to` date asked for,
    else the newest date in the archive): "this week" is the 7 days to it, "last month" the calendar
    month before its own, "in the past three months" the 90 days to it. None when the question names
    no such span ("recently" and "now" ask for the latest reports, which state answers lead with).

    `relative_window('What happened this week?', '2023-12-01').date_from` -> `'2023-11-25'`
    """
    m = RELATIVE_TIME.search(question)
    if m is None:
        return None
    phrase = m["p"].lower()
    end = date.fromisoformat(anchor[:10])
    to = format_date(end.isoformat())
    if phrase == "yesterday":
        if end == date.min:  # no day before the calendar's first
            return None
        day = end - timedelta(days=1)
        return Window(day.isoformat(), day.isoformat(), f"On {format_date(day.isoformat())}")
    if phrase.startswith("last ") and phrase.split()[-1] in ("month", "year"):
        if phrase.endswith("month"):
            if end.year == 1 and end.month == 1:
                return None
            last = end.replace(day=1) - timedelta(days=1)
            start = last.replace(day=1)
            return Window(start.isoformat(), last.isoformat(), f"In {last.strftime('%B %Y')}")
        if end.year == 1:
            return None
        return Window(f"{end.year - 1:04d}-01-01", f"{end.year - 1:04d}-12-31", f"In {end.year - 1}")
    if phrase.endswith("this month"):
        start = end.replace(day=1)
    elif phrase.endswith("this year"):
        start = end.replace(month=1, day=1)
    else:
        words = phrase.split()
        unit = words[-1]
        count = 1
        if len(words) >= 2 and (words[-2].isdigit() or words[-2] in _COUNTS):
            count = int(words[-2]) if words[-2].isdigit() else _COUNTS[words[-2]]
        days = {"week": 7, "month": 30, "year": 365}.get(unit, _SPANS.get(unit, 30) * count)
        # a span longer than the calendar before `end` starts at its first day (1 Jan of year 1)
        start = date.fromordinal(max(1, end.toordinal() - (days - 1)))
        return Window(start.isoformat(), end.isoformat(), f"In the {days} days to {to}" if days != 7
                      else f"In the week to {to}")
    return Window(start.isoformat(), end.isoformat(), f"From {format_date(start.isoformat())} to {to}")


def date_bounds(record: dict[str, object]) -> dict[str, str]:
    """The "from"/"to" dates of a question record, as ISO dates; ValueError naming the field otherwise.

    `date_bounds({"question": "…", "to": "2023-12-31"})` -> `{'to': '2023-12-31'}`
    """
    bounds = {}
    for field in ("from", "to"):
        value = record.get(field)
        if value is not None:
            iso = parse_date(value) if isinstance(value, str) else None
            if iso is None:
                raise ValueError(f"'{field}' must be a date written YYYY-MM-DD, got {json.dumps(value)}")
            bounds[field] = iso
    return bounds
