"""A conversation with the archive: each turn is a question, the standalone query searched, and the answer.

The page keeps the turns; `plan` checks a new question and works out what to search, `ask` runs it.
Both raise `QAError`s whose messages the page shows inline.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from qa.answer import Rewrite, rewrite
from qa.dates import format_date, parse_date
from qa.errors import BadQuestion
from qa.pipeline import Pipeline, clean_question
from qa.search.retrieve import Filters
from qa.types import KINDS, Answer, Kind

# Turns a conversation keeps: the page re-sends them with every reply (and every piece of a streamed
# one) and holds them in the server's memory for the session, so older turns are dropped.
MAX_TURNS = 20


@dataclass(frozen=True)
class Options:
    """The page's settings for one question."""

    include_comments: bool = True
    k: int = 5
    date_from: str | None = None  # ISO dates, inclusive; None or "" for open
    date_to: str | None = None
    comments_only: bool = False  # search reader comments only
    outlets: tuple[str, ...] = ()  # only these outlets; () for all
    authors: tuple[str, ...] = ()  # only these authors or commenters; () for all


@dataclass(frozen=True)
class Plan:
    rewrite: Rewrite
    filters: Filters
    overrides_switch: bool = False  # the question asks about readers while "Articles only" is chosen

    @property
    def query(self) -> str:
        return self.rewrite.query

    @property
    def scope(self) -> str:
        """What was searched, in words: `reader comments only · from 1 May 2024`."""
        kinds = set(self.filters.kinds)
        parts = ["articles and reader comments" if kinds == set(KINDS)
                 else "reader comments only" if kinds == {"comment"} else "articles only"]
        if self.filters.date_from:
            parts.append(f"from {format_date(self.filters.date_from)}")
        if self.filters.date_to:
            parts.append(f"to {format_date(self.filters.date_to)}")
        if self.filters.outlets:
            parts.append("from " + " or ".join(self.filters.outlets))
        if self.filters.authors:
            parts.append("by " + " or ".join(self.filters.authors))
        if self.overrides_switch:
            parts.append("the question asks what readers said, so their comments are searched although "
                         "“Articles only” is chosen")
        return " · ".join(parts)


@dataclass(frozen=True)
class Turn:
    question: str
    plan: Plan
    answer: Answer


def add(turns: Sequence[Turn], turn: Turn) -> tuple[list[Turn], int]:
    """The conversation with `turn` added, its oldest turns dropped beyond `MAX_TURNS`; and how many were."""
    kept = [*turns, turn]
    return kept[-MAX_TURNS:], max(0, len(kept) - MAX_TURNS)


def dropped_note(n: int) -> str:
    return (f"This conversation keeps its last {MAX_TURNS} questions; the oldest was dropped (it is no longer "
            "shown or read for follow-ups)." if n else "")


def _date(text: str | None, name: str) -> str | None:
    if not text or not text.strip():
        return None
    iso = parse_date(text.strip())
    if iso is None:
        raise BadQuestion(f"The {name} date {text.strip()!r} is not a date; write it as YYYY-MM-DD.")
    return iso


def plan(question: str, previous: Sequence[Turn], options: Options, max_chars: int) -> Plan:
    """Check the question and the settings; rewrite a follow-up against the earlier turns.

    A question about what readers said searches reader comments only, whatever the comments switch says;
    when the switch is off, the plan's scope says so.
    """
    text = clean_question(question, max_chars)
    date_from, date_to = _date(options.date_from, "start"), _date(options.date_to, "end")
    if date_from and date_to and date_from > date_to:
        raise BadQuestion(f"The date range is empty: {date_from} is after {date_to}.")
    rw = rewrite(text, [t.plan.query for t in previous])
    chosen: tuple[Kind, ...] = (("comment",) if options.comments_only
                                else KINDS if options.include_comments else ("article",))
    kinds: tuple[Kind, ...] = rw.kinds or chosen
    overrides = not options.include_comments and "comment" in kinds
    return Plan(rw, Filters(kinds=kinds, date_from=date_from, date_to=date_to, outlets=_names(options.outlets),
                            authors=_names(options.authors)), overrides)


def _names(names: Sequence[str]) -> tuple[str, ...]:
    """Names with spaces tidied, blanks and repeats dropped: `_names([" Ann  Lee", "", "Ann Lee"])` -> `("Ann Lee",)`"""
    return tuple(dict.fromkeys(n for n in (" ".join(str(x).split()) for x in names) if n))


def split_names(text: str | None) -> tuple[str, ...]:
    """A comma-separated list of names from the page: `split_names("Ann Lee, Bo ,")` -> `("Ann Lee", "Bo")`."""
    return _names((text or "").split(","))


def answer(pipeline: Pipeline, planned: Plan, k: int) -> Turn:
    """Search and answer a planned question."""
    return Turn(planned.rewrite.question, planned, pipeline.ask(planned.query, k=k, filters=planned.filters))


def answer_stream(pipeline: Pipeline, planned: Plan, k: int) -> Iterator[str | Turn]:
    """As `answer`, with a language model's text so far (unchecked) yielded before the `Turn`."""
    for item in pipeline.ask_stream(planned.query, k=k, filters=planned.filters):
        yield item if isinstance(item, str) else Turn(planned.rewrite.question, planned, item)


def ask(pipeline: Pipeline, question: str, previous: Sequence[Turn], options: Options) -> Turn:
    """Answer one question of the conversation: `plan`, then `answer`."""
    return answer(pipeline, plan(question, previous, options, pipeline.settings.max_question_chars), options.k)
