"""Scores for answers over many reports: timeline and period answers against gold event lists, disagreement
answers against gold pairs. Pure: an answer and its gold in, counts out.

Gold files (`timelines.jsonl`, `disagreements.jsonl`): `{"id", "question", "type", "events": [{"date", "doc",
"quote"}]}` and `{"id", "subject", "pairs": [[{"doc", "quote"}, {"doc", "quote"}]]}`, `doc` a document title.

- a gold event is *found* when one line of the answer cites a passage of its document and shares at least half
  of its quote's terms; its date is *right* when the line of those sharing the most leads with the gold date
  (written any way: "4 Jun 2023", "4 June 2023", "June 4, 2023", "2023-06-04", after a list mark or "As of");
- *citation precision*: of the markers on an answer's event lines, the share whose passage shares at least
  half of the line's quoted terms (the passage says what the line quotes);
- a gold pair is *found* when one "•"/"vs" pair of the answer's "Reports disagree" part matches both sides,
  in either order; an answer pair matching no gold pair is *unmatched*.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.dates import MONTH_PATTERN, mentioned_dates
from qa.errors import QAError
from qa.text import analyze, fold
from qa.types import Answer

OVERLAP = 0.5  # share of a quote's terms a line must hold to match it
# the date a line leads with, written any way an answer writes one: "4 Jun 2023", "4 June 2023", "June 4, 2023",
# "2023-06-04", after a list mark or "As of"/"On"
_LEAD_DATE = re.compile(rf"^\s*(?:[–•-]\s*)?(?:(?:as of|on)\s+)?(\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTH_PATTERN})\.?,?"
                        rf"\s+\d{{4}}|(?:{MONTH_PATTERN})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
                        r"\d{4}-\d{2}-\d{2})\b", re.I)


def load_gold(path: Path) -> list[dict[str, Any]]:
    """The records of a gold file; QAError naming the line when one is not a timeline or disagreement record."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise QAError(f"{path}:{n}: not JSON.") from None
        if not isinstance(record, dict) or not ({"question", "events"} <= set(record) or
                                                {"subject", "pairs"} <= set(record)):
            raise QAError(f"{path}:{n}: expected a timeline record (question, events) or a disagreement record "
                          "(subject, pairs).")
        out.append(record)
    return out


@dataclass(frozen=True)
class Line:
    text: str
    docs: tuple[str, ...]  # titles of the passages its markers cite, folded
    passages: tuple[str, ...]  # the texts of those passages
    day: str | None  # the ISO date the line leads with


def lines_of(answer: Answer) -> list[Line]:
    """The answer's lines, each with the documents and passages its markers cite."""
    by_n = {c.n: c.hit.chunk for c in answer.citations}
    marks = answer.marks if answer.marks is not None else tuple(
        (m.start(), m.end(), int(m[1])) for m in re.finditer(r"\[(\d+)\]", answer.text))
    out, at = [], 0
    for text in answer.text.split("\n"):
        end = at + len(text)
        ns = [n for a, b, n in marks if at <= a and b <= end and n in by_n]
        lead = _LEAD_DATE.match(text)
        day = mentioned_dates(lead[1])[0] if lead and mentioned_dates(lead[1]) else None
        out.append(Line(text, tuple(fold(by_n[n].title) for n in ns), tuple(by_n[n].text for n in ns), day))
        at = end + 1
    return out


def overlap(quote: str, text: str) -> float:
    """The share of the quote's terms the text holds."""
    terms = set(analyze(quote))
    return len(terms & set(analyze(text))) / len(terms) if terms else 0.0


def overlaps(quote: str, text: str) -> bool:
    return overlap(quote, text) >= OVERLAP


@dataclass(frozen=True)
class TimelineScore:
    events: int
    found: int
    right_date: int
    markers: int
    supported: int


def score_timeline(answer: Answer, gold: dict[str, Any]) -> TimelineScore:
    lines = lines_of(answer)
    found = right = 0
    for event in gold["events"]:
        doc = fold(event["doc"])
        # the line that tells it: of the lines citing its document, the one holding most of its quote
        scored = [(overlap(event["quote"], ln.text), -k, ln) for k, ln in enumerate(lines) if doc in ln.docs]
        best = max(scored, key=lambda x: x[:2], default=None)
        hit = best[2] if best is not None and best[0] >= OVERLAP else None
        if hit is not None:
            found += 1
            right += hit.day == event["date"]
    event_lines = [ln for ln in lines if ln.docs and "“" in ln.text and not ln.text.startswith(("•", "  vs"))]
    markers = sum(len(ln.passages) for ln in event_lines)
    supported = sum(overlaps(_quoted(ln.text), p) for ln in event_lines for p in ln.passages)
    return TimelineScore(len(gold["events"]), found, right, markers, supported)


def _quoted(text: str) -> str:
    return " ".join(re.findall(r"“([^”]*)”", text)) or text


@dataclass(frozen=True)
class PairScore:
    gold: int
    found: int
    unmatched: int  # answer pairs that match no gold pair


def answer_pairs(answer: Answer) -> list[tuple[Line, Line]]:
    """The side-by-side pairs of an answer's "Reports disagree" part."""
    lines = lines_of(answer)
    return [(a, b) for a, b in zip(lines, lines[1:]) if a.text.startswith("•") and b.text.startswith("  vs")]


def _side(side: dict[str, str], line: Line) -> bool:
    return fold(side["doc"]) in line.docs and overlaps(side["quote"], _quoted(line.text))


def score_pairs(answer: Answer, gold: dict[str, Any]) -> PairScore:
    pairs = answer_pairs(answer)
    used: set[int] = set()
    found = 0
    for g in gold["pairs"]:
        for k, (a, b) in enumerate(pairs):
            if (_side(g[0], a) and _side(g[1], b)) or (_side(g[0], b) and _side(g[1], a)):
                found += 1
                used.add(k)
                break
    unmatched = sum(1 for k, (a, b) in enumerate(pairs) if k not in used and not any(
        (_side(g[0], a) and _side(g[1], b)) or (_side(g[0], b) and _side(g[1], a)) for g in gold["pairs"]))
    return PairScore(len(gold["pairs"]), found, unmatched)


def disagreement_question(record: dict[str, Any]) -> str:
    """The question asked for a gold disagreement record: its own, else one about its subject."""
    return str(record.get("question") or f"Where do reports disagree about {record['subject']}?")


def ratio(a: int, b: int) -> str:
    return f"{a} / {b} ({a / b:.3f})" if b else "—"


def summary(timelines: Sequence[TimelineScore], pairs: Sequence[PairScore]) -> dict[str, Any]:
    events = sum(s.events for s in timelines)
    found = sum(s.found for s in timelines)
    return {"events": events, "found": found, "right_date": sum(s.right_date for s in timelines),
            "markers": sum(s.markers for s in timelines), "supported": sum(s.supported for s in timelines),
            "pairs": sum(p.gold for p in pairs), "pairs_found": sum(p.found for p in pairs),
            "unmatched_pairs": sum(p.unmatched for p in pairs)}
