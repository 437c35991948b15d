"""Readers' ratings of answers: thumbs up or down with an optional note, kept in the index folder.

`INDEX/feedback.jsonl` holds one JSON object a line, only ever appended to: each rating is one `write`
to a file opened with O_APPEND (so two pages rating at once never interleave), never through a link, and
never anywhere but the index folder. A note is at most `MAX_NOTE_CHARS`; the file stops taking ratings
at `MAX_FILE_BYTES`. `questions` turns the liked answers into a question set `qa eval` reads
(`qa.eval.questions` format): a reader's thumbs-up is a regression question; a thumbs-down needs its
right answer written by hand before it can be one.
"""

from __future__ import annotations

import errno
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.errors import QAError
from qa.types import Answer

FILE = "feedback.jsonl"
MAX_NOTE_CHARS = 1000
MAX_FILE_BYTES = 16 << 20
MAX_FIELD_CHARS = 4000  # of the question and answer kept with a rating
MAX_LINE_BYTES = 256 << 10  # a line longer than this is not one this module wrote
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_lock = threading.Lock()


class FeedbackError(QAError):
    """A rating cannot be kept or read: the message says why and what to do."""


@dataclass(frozen=True)
class Rating:
    liked: bool
    question: str
    answer: str
    note: str = ""
    direct: str | None = None
    abstained: bool = False
    quotes: tuple[tuple[int, str, str], ...] = ()  # (n, document id, the sentence quoted from it)
    time: str = ""

    def record(self) -> dict[str, Any]:
        return {"time": self.time, "rating": "up" if self.liked else "down", "note": self.note,
                "question": self.question, "answer": self.answer, "direct": self.direct,
                "abstained": self.abstained,
                "quotes": [{"n": n, "doc": doc, "quote": quote} for n, doc, quote in self.quotes]}


def _clean(text: str, limit: int) -> str:
    return _CONTROL.sub(" ", text)[:limit]


def rating(answer: Answer, question: str, liked: bool, note: str = "") -> Rating:
    """The rating of one answer; a note over `MAX_NOTE_CHARS` is refused (FeedbackError)."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise FeedbackError(f"The note is {len(note):,} characters; keep it to {MAX_NOTE_CHARS:,} and rate again.")
    quotes = tuple((c.n, c.hit.chunk.doc_id, " ".join(c.hit.chunk.text[a:b].split()))
                   for c in answer.citations for a, b in c.used_sentences)
    return Rating(liked, _clean(question, MAX_FIELD_CHARS), _clean(answer.text, MAX_FIELD_CHARS),
                  _clean(note, MAX_NOTE_CHARS), answer.direct, answer.abstained,
                  tuple((n, _clean(d, 200), _clean(q, 1000)) for n, d, q in quotes[:20]),
                  datetime.now(UTC).isoformat(timespec="seconds"))


def path_in(index_dir: Path) -> Path:
    return Path(index_dir) / FILE


def append(index_dir: Path, r: Rating) -> Path:
    """Add one rating to the index folder's feedback file; FeedbackError when it cannot be kept."""
    folder = Path(index_dir)
    path = path_in(folder)
    line = (json.dumps(r.record(), ensure_ascii=False) + "\n").encode("utf-8")
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with _lock:
        try:
            if not folder.is_dir():
                raise FeedbackError(f"The index folder {folder} is gone; feedback cannot be kept.")
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise FeedbackError(f"The index folder {folder} is read-only, so ratings cannot be kept; "
                                    "serve an index folder this user may write to.") from None
            if exc.errno == errno.ELOOP:
                raise FeedbackError(f"{path} is a link; feedback is only written to a plain file in the "
                                    "index folder. Remove the link.") from None
            raise FeedbackError(f"Cannot open {path} to keep the rating ({exc.strerror or exc}).") from None
        try:
            size = os.fstat(fd).st_size
            if size + len(line) > MAX_FILE_BYTES:
                raise FeedbackError(f"{path} is full ({size:,} bytes); move it aside to keep more ratings.")
            written = os.write(fd, line)
            if written != len(line):  # a disk that filled mid-line: the line is cut, say so
                raise FeedbackError(f"Only part of the rating fitted in {path}; free some disk space.")
            os.fsync(fd)
        except OSError as exc:
            raise FeedbackError(f"Cannot write the rating to {path} ({exc.strerror or exc}).") from None
        finally:
            os.close(fd)
    return path


def read(index_dir: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each rating in the feedback file; a damaged line is a FeedbackError."""
    path = path_in(index_dir)
    if path.is_symlink():
        raise FeedbackError(f"{path} is a link; feedback is only read from a plain file in the index folder.")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FeedbackError(f"No ratings yet: {path} does not exist. Rate answers on the page first.") from None
    except OSError as exc:
        raise FeedbackError(f"Cannot read {path} ({exc.strerror or exc}).") from None
    with f:
        for n, raw in enumerate(f, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise FeedbackError(f"{path}:{n}: the line is over {MAX_LINE_BYTES:,} bytes; not a rating.")
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise FeedbackError(f"{path}:{n}: not a JSON rating (a cut line?); delete that line.") from None
            if (not isinstance(record, dict) or record.get("rating") not in ("up", "down")
                    or not isinstance(record.get("question"), str) or not record["question"].strip()):
                raise FeedbackError(f"{path}:{n}: not a rating (needs \"rating\": up or down and a question).")
            yield n, record


def questions(index_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """The liked answers as question-set records (`qa.eval.questions`), one per distinct question, and how
    many disliked ones were left out. A liked answer's gold is its direct answer when it gave one, else the
    sentences it quoted; a liked abstention is a question the archive cannot answer."""
    out: dict[str, dict[str, Any]] = {}
    disliked = 0
    for n, r in read(index_dir):
        question = " ".join(str(r["question"]).split())
        if r["rating"] == "down":
            disliked += 1
            out.pop(question.lower(), None)  # the latest rating of a question counts
            continue
        quotes = [q for q in r.get("quotes") or [] if isinstance(q, dict)
                  and isinstance(q.get("doc"), str) and isinstance(q.get("quote"), str) and q["quote"].strip()]
        direct = r.get("direct") if isinstance(r.get("direct"), str) and r["direct"].strip() else None
        if r.get("abstained") is True:
            answers, evidence = [], []
        elif direct or quotes:
            answers = [direct] if direct else list(dict.fromkeys(q["quote"] for q in quotes))[:3]
            evidence = [{"doc": q["doc"], "quote": q["quote"]} for q in quotes][:5]
        else:
            continue  # nothing to score against
        record = {"id": f"feedback-{n}", "question": question, "answers": answers, "evidence": evidence,
                  "type": "feedback"}
        out[question.lower()] = record
    return list(out.values()), disliked
