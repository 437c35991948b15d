"""Pure metric functions: quote matching, ranks, answer checks, abstention, citations, percentiles.

Nothing here reads files or loads models; every function has a worked example in its docstring
and is tested on hand-made cases.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from qa.cite import MARKER


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

    `contains_answer('Dec. 23', 'On Dec 23, five were killed')` -> `True`;
    `contains_answer('no', 'not known')` -> `False`
    """
    needle = normalise(answer)
    return bool(needle) and f" {needle} " in f" {normalise(text)} "


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
