"""Question sets: the JSON Lines format, its loader, and the MultiHop-RAG converter.

One question per line:
`{"id": "q01", "question": "...", "answers": ["..."], "evidence": [{"doc": "...", "quote": "..."}],
"type": "factual", "kind": "article", "answer_type": "person"}`. Empty `answers` marks a question the
archive cannot answer; such a question has no evidence. `kind` (`article`/`comment`), `answer_type` (what
kind of thing the answer is: one of ANSWER_TYPES), the `from`/`to` window and `note` (a remark for the
reader of the set, e.g. which of two disagreeing figures is the gold one; not scored) are optional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.dates import date_bounds, mentioned_dates, parse_date
from qa.errors import QAError
from qa.types import KINDS, Kind

FIELDS = ("id", "question", "answers", "evidence", "type", "kind", "from", "to", "answer_type", "note")
ANSWER_TYPES = ("person", "organisation", "place", "outlet", "date", "number", "title", "weapon", "holder",
                "description", "yes_no", "comment", "none")
# The answer types that ask for a name, a date or a number: where a direct answer is expected.
NAMED_TYPES = frozenset(ANSWER_TYPES[:9])
MULTIHOP_NULL = "null_query"


class QuestionSetError(QAError):
    """A question set cannot be read: the message names the file, the line and the field."""


@dataclass(frozen=True)
class Evidence:
    """A verbatim quote that supports the answer, and the document (id or title) it comes from."""

    doc: str
    quote: str


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # acceptable answers; empty: the archive cannot answer it
    evidence: tuple[Evidence, ...]
    type: str
    kind: Kind | None = None
    date_from: str | None = None  # ask as the archive stood in this window ("from"/"to", ISO dates)
    date_to: str | None = None
    answer_type: str | None = None  # one of ANSWER_TYPES, when the set says

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(e.quote for e in self.evidence)

    def record(self) -> dict[str, Any]:
        """The JSON object of one line; `kind` only when set."""
        out = asdict(self)
        out["answers"], out["evidence"] = list(self.answers), [asdict(e) for e in self.evidence]
        for key in ("kind", "answer_type"):
            if out[key] is None:
                del out[key]
        for key, field in (("date_from", "from"), ("date_to", "to")):
            value = out.pop(key)
            if value is not None:
                out[field] = value
        return out


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be non-empty text, got {json.dumps(value, ensure_ascii=False)}")
    return value.strip()


def parse_question(record: Any) -> Question:
    """Validate one decoded line. Raises ValueError saying which field is wrong and how."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
    missing = [f for f in FIELDS[:5] if f not in record]
    if missing:
        raise ValueError(f"missing field {missing[0]!r}")
    answers, evidence = record["answers"], record["evidence"]
    if not isinstance(answers, list):
        raise ValueError("'answers' must be a list of strings (empty when the archive cannot answer)")
    if not isinstance(evidence, list):
        raise ValueError("'evidence' must be a list of {\"doc\": ..., \"quote\": ...} objects")
    items = []
    for i, item in enumerate(evidence, start=1):
        if not isinstance(item, dict) or set(item) != {"doc", "quote"}:
            raise ValueError(f"evidence {i} must be an object with exactly 'doc' and 'quote'")
        items.append(Evidence(_text(item["doc"], f"evidence {i} 'doc'"), _text(item["quote"], f"evidence {i} 'quote'")))
    if items and not answers:
        raise ValueError("a question with no answers (unanswerable) cannot have evidence")
    kind = record.get("kind")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    answer_type = record.get("answer_type")
    if answer_type is not None and answer_type not in ANSWER_TYPES:
        raise ValueError(f"'answer_type' must be one of {', '.join(ANSWER_TYPES)}, got "
                         f"{json.dumps(answer_type, ensure_ascii=False)}")
    if "note" in record:  # for the reader of the set (which of disagreeing figures is gold, and why); not scored
        _text(record["note"], "'note'")
    window = date_bounds(record)
    return Question(
        date_from=window.get("from"), date_to=window.get("to"),
        id=_text(record["id"], "'id'"),
        question=_text(record["question"], "'question'"),
        answers=tuple(_text(a, f"answer {i}") for i, a in enumerate(answers, start=1)),
        evidence=tuple(items),
        type=_text(record["type"], "'type'"),
        kind=kind,
        answer_type=answer_type,
    )


def load_questions(path: Path) -> list[Question]:
    """Read a question set; a bad line is a QuestionSetError naming `FILE:LINE` and the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuestionSetError(f"No question set at {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"Cannot read question set {path}: {exc}") from None
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = parse_question(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QuestionSetError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno}).") from None
        except ValueError as exc:
            raise QuestionSetError(f"{path}:{n}: {exc}.") from None
        if question.id in first_line:
            raise QuestionSetError(f"{path}:{n}: id {question.id!r} is already used on line {first_line[question.id]}.")
        first_line[question.id] = n
        questions.append(question)
    if not questions:
        raise QuestionSetError(f"{path} holds no questions; write one JSON object per line (see eval/README.md).")
    return questions


def write_questions(questions: Iterable[Question], path: Path) -> int:
    """Write a question set as JSON Lines; returns the number written."""
    lines = [json.dumps(q.record(), ensure_ascii=False) for q in questions]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def multihop_question(item: Any, number: int) -> Question:
    """One MultiHop-RAG query in our format: the facts become evidence quotes, the titles their docs.
    A null query ("Insufficient information.") becomes an unanswerable question with no evidence."""
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, got {type(item).__name__}")
    try:
        qtype = _text(item["question_type"], "'question_type'")
        evidence = item["evidence_list"]
        if not isinstance(evidence, list):
            raise ValueError("'evidence_list' must be a list")
        null = qtype == MULTIHOP_NULL
        return Question(
            id=f"mh-{number:04d}",
            question=_text(item["query"], "'query'"),
            answers=() if null else (_text(item["answer"], "'answer'"),),
            evidence=() if null else tuple(
                Evidence(_text(e["title"], "evidence 'title'"), _text(e["fact"], "evidence 'fact'")) for e in evidence
            ),
            type=qtype,
            kind=None if null else "article",
            answer_type=None if null else answer_form(item["answer"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing or malformed field {exc}") from None


_ORG_WORDS = re.compile(r"\b(?:inc|corp|corporation|company|co|ltd|llc|group|bank|fund|foundation|university|"
                        r"association|league|agency|network|studios?|labs?|technologies|motors|airlines|"
                        r"entertainment|media|partners|capital|holdings|systems|games)\b\.?", re.I)
_OUTLET_WORDS = re.compile(r"\b(?:news|times|post|journal|press|wire|guardian|telegraph|verge|techcrunch|wired|"
                           r"engadget|reuters|bbc|cnn|fortune|forbes|bloomberg|mashable|gizmodo|polygon|insider|"
                           r"express|sun|independent|radar|globe|daily|review|today)\b", re.I)


_CHOICES = {"before", "after", "consistent", "inconsistent", "same", "different", "similar", "increase", "decrease",
            "increased", "decreased", "higher", "lower", "more", "less", "both", "neither", "earlier", "later",
            "positive", "negative", "true", "false", "insufficient information"}


def answer_form(answer: str) -> str:
    """The answer type a MultiHop gold answer has, read from its form alone (the benchmark labels none):
    yes/no, a date, a number, a news outlet (an outlet word), a person (two to four capitalised words with
    no company word), else an organisation. A label of the data, never of what the answerer said."""
    text = answer.strip()
    if text.lower() in ("yes", "no"):
        return "yes_no"
    if text.lower() in _CHOICES:
        return "description"  # "Before", "Consistent": a choice the question offers, not a name
    if parse_date(text) or mentioned_dates(text):
        return "date"
    if re.fullmatch(r"[$£€]?\s?\d[\d,.]*\s?(?:%|percent|million|billion|thousand)?", text, re.I):
        return "number"
    if _OUTLET_WORDS.search(text):
        return "outlet"
    words = text.split()
    if 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words) and not _ORG_WORDS.search(text):
        return "person"
    return "organisation"


def load_json(path: Path, missing: str, unreadable: str, error: type[QAError] = QAError) -> Any:
    """A whole JSON file; `error(missing)` when it is absent, `error(unreadable: reason)` when it is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{unreadable}: {exc}") from None


def multihop_questions(path: Path) -> list[Question]:
    """`queries_dev.json` (a JSON array) → questions `mh-0001`, `mh-0002`, … in file order."""
    items = load_json(path, f"No MultiHop-RAG queries at {path}.", f"Cannot read {path} as JSON", QuestionSetError)
    if not isinstance(items, list) or not items:
        raise QuestionSetError(f"{path}: expected a non-empty JSON array of MultiHop-RAG queries.")
    questions = []
    for number, item in enumerate(items, start=1):
        try:
            questions.append(multihop_question(item, number))
        except ValueError as exc:
            raise QuestionSetError(f"{path}: query {number}: {exc}.") from None
    return questions
