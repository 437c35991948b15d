"""Pure metric functions: quote matching, ranks, answer checks, abstention, citations, percentiles.

Nothing here reads files or loads models; every function has a worked example in its docstring
and is tested on hand-made cases.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from qa.answer import MARKER
from qa.dates import mentioned_dates, parse_date
from qa.text import split_sentences


def squash(text: str) -> str:
    """Whitespace removed, as in MultiHop-RAG's fact rule: `squash('a b\\n c')` -> `'abc'`."""
    return "".join(text.split())


def quote_in(quote: str, passage: str) -> bool:
    """The fact rule: the quote, spaces and newlines removed, is a substring of the passage, likewise.

    Case and punctuation count. `quote_in('Al  Qaim\\nfell', 'town of Al Qaim fell.')` -> `True`
    """
    return squash(quote) in squash(passage)


def normalise(text: str) -> str:
    """Case-folded, accents dropped, punctuation and symbols as spaces, whitespace collapsed.

    `normalise('  Al-Walíd’s  “Border” Crossing!')` -> `'al walid s border crossing'`
    """
    decomposed = unicodedata.normalize("NFKD", text)
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        chars.append(" " if unicodedata.category(ch)[0] in "PS" else ch)
    return " ".join("".join(chars).casefold().split())


def contains_answer(answer: str, text: str) -> bool:
    """The normalised answer occurs in the normalised text as whole words; an empty answer never does.

    A whole date matches the same day written any way: `contains_answer('2025-05-25', '25 May 2025')` -> `True`.

    `contains_answer('Dec. 23', 'On Dec 23, five were killed')` -> `True`;
    `contains_answer('no', 'not known')` -> `False`
    """
    needle = normalise(answer)
    if bool(needle) and f" {needle} " in f" {normalise(text)} ":
        return True
    days = mentioned_dates(answer)
    day = parse_date(answer.strip()) or (days[0] if days else None)
    return day is not None and day in mentioned_dates(text)


def answer_correct(answers: Sequence[str], text: str) -> bool | None:
    """Any acceptable answer is in the answer text (its `[n]` markers removed); None when there is
    no gold answer (the question is unanswerable). `answer_correct(['5', 'five'], 'Five died [1].')` -> `True`
    """
    if not answers:
        return None
    plain = MARKER.sub(" ", text)
    return any(contains_answer(a, plain) for a in answers)


def evidence_ranks(quotes: Sequence[str], passages: Sequence[str]) -> list[int | None]:
    """Per quote, the 1-based rank of the first passage that contains it (fact rule), else None.

    `evidence_ranks(['a b', 'zz', 'b'], ['xx', 'A b', 'ab c'])` -> `[3, None, 2]`
    """
    squashed = [squash(p) for p in passages]
    ranks: list[int | None] = []
    for quote in quotes:
        q = squash(quote)
        ranks.append(next((i + 1 for i, p in enumerate(squashed) if q in p), None))
    return ranks


def first_hit(ranks: Sequence[int | None]) -> int | None:
    """Rank of the first passage holding any evidence: `first_hit([3, None, 2])` -> `2`; `[]` -> `None`."""
    found = [r for r in ranks if r is not None]
    return min(found) if found else None


def hit_at(ranks: Sequence[int | None], k: int) -> bool:
    """Some evidence is in the top k: `hit_at([3, None], 2)` -> `False`; `hit_at([3, None], 3)` -> `True`."""
    rank = first_hit(ranks)
    return rank is not None and rank <= k


def reciprocal_rank(ranks: Sequence[int | None], k: int = 10) -> float:
    """1 / rank of the first hit within the top k, else 0: `reciprocal_rank([4, 2])` -> `0.5`."""
    rank = first_hit(ranks)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def recall_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of evidence items found in the top k; None without evidence.

    `recall_at([1, None, 7, 12], 10)` -> `0.5`; `recall_at([], 10)` -> `None`
    """
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def cited_numbers(markers: Sequence[int], known: Sequence[int]) -> list[int]:
    """The distinct `[n]` of the answer that name a real citation, in order of first mention.

    `cited_numbers([2, 1, 2, 9], known=[1, 2, 3])` -> `[2, 1]`
    """
    numbers = set(known)
    return [n for n in dict.fromkeys(markers) if n in numbers]


def passage_supports(passage: str, quotes: Sequence[str], answers: Sequence[str]) -> bool:
    """A cited passage holds a gold quote (fact rule) or a gold answer (normalised, whole words).

    `passage_supports('Five died on Dec. 23.', quotes=['six died'], answers=['five'])` -> `True`
    """
    return any(quote_in(q, passage) for q in quotes) or any(contains_answer(a, passage) for a in answers)


def abstention_scores(unanswerable: Sequence[bool], abstained: Sequence[bool]) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining as a detector of unanswerable questions; None where undefined.

    `abstention_scores([True, True, False, False], [True, False, True, False])` -> `(0.5, 0.5)`;
    with no abstentions precision is None: `abstention_scores([True], [False])` -> `(None, 0.0)`
    """
    both = sum(1 for u, a in zip(unanswerable, abstained, strict=True) if u and a)
    n_abstained, n_unanswerable = sum(map(bool, abstained)), sum(map(bool, unanswerable))
    precision = both / n_abstained if n_abstained else None
    recall = both / n_unanswerable if n_unanswerable else None
    return precision, recall


def mean(values: Sequence[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when none are: `mean([1, None, 0, True])` -> `0.666…`."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def share(parts: Sequence[Sequence[bool]]) -> float | None:
    """Pooled share of True over all the lists (micro average): `share([[True], [False, False]])` -> `0.333…`."""
    flat = [v for part in parts for v in part]
    return sum(flat) / len(flat) if flat else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile, always one of the values: the ⌈p/100·n⌉-th smallest.

    `percentile([5, 1, 3, 2], 50)` -> `2`; `percentile([5, 1, 3, 2], 95)` -> `5`; `percentile([], 50)` -> `None`
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


# Words that carry no content for judging a direct answer: "the Islamic State" and "Islamic State" are
# the same phrase, and a phrase of these alone ("the", "of the") names nothing.
FUNCTION_WORDS = frozenset(
    "a an the of in on at to for from by with and or s its his her their de al el la le du von van der".split())


def content_words(text: str) -> list[str]:
    """The normalised words of `text` that are not function words:
    `content_words('the Vell Valley Authority')` -> `['vell', 'valley', 'authority']`"""
    return [w for w in normalise(text).split() if w not in FUNCTION_WORDS]


def lead(text: str, marks: Sequence[tuple[int, int, int]] | None) -> str:
    """What a person reads first: the answer up to its first `[n]` marker (the answerer's own `marks`
    when it recorded them, else the first `[digits]`), or its first sentence when it has no marker.

    `lead('Reuters [1]. Iraqi officials said [2].', None)` -> `'Reuters '`;
    `lead('No marker here. Islamic State held it.', None)` -> `'No marker here.'`
    """
    if marks is not None:
        first = min((start for start, _, _ in marks), default=None)
    else:
        found = MARKER.search(text)
        first = found.start() if found else None
    if first is not None:
        return text[:first]
    spans = split_sentences(text)
    return text[spans[0][0]:spans[0][1]] if spans else ""


def first_sentence_right(answers: Sequence[str], lead_text: str, abstained: bool) -> bool:
    """An answerable question: not abstained, and some gold answer (normalised, whole words) is in the
    lead. An unanswerable one (no gold answers): the answer abstained.

    `first_sentence_right(['Reuters'], 'Reuters ', False)` -> `True`;
    `first_sentence_right([], 'Reuters ', False)` -> `False`
    """
    if not answers:
        return abstained
    return not abstained and any(contains_answer(a, lead_text) for a in answers)


def direct_right(answers: Sequence[str], direct: str) -> bool:
    """Whether a direct answer phrase is right: a gold answer occurs within it (whole words), or the
    phrase (at least one content word) occurs whole-word within a gold answer and covers at least half
    of that answer's content words. Any direct answer to an unanswerable question is wrong.

    `direct_right(['Islamic State'], 'the Islamic State')` -> `True`;
    `direct_right(['Vell Valley Authority'], 'Valley Authority')` -> `True` (2 of 3 content words);
    `direct_right(['Vell Valley Authority'], 'Authority')` -> `False` (1 of 3);
    `direct_right(['YPG'], 'Islamic State')` -> `False`; `direct_right([], 'Reuters')` -> `False`
    """
    if not answers:
        return False
    if any(contains_answer(a, direct) for a in answers):
        return True
    words = content_words(direct)
    if not words:
        return False
    for gold in answers:
        gold_words = content_words(gold)
        covered = sum(w in set(words) for w in gold_words)
        if contains_answer(direct, gold) and gold_words and covered * 2 >= len(gold_words):
            return True
    return False
