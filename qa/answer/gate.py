"""Whether a short answer is given: a small calibrated gate over how the answer was found.

The typed reader (`qa.answer.reader`) or the name model proposes a short answer and the sentence it is
read from. Rules written against failures one has read did not carry to archives nobody had read, so
the last word is a tiny logistic model over four clues that mean the same in any archive:

- `model`: the name model found the phrase, not the typed reader (it reads mentions, not the predicate);
- `choices`: how many distinct phrases of the asked kind the top passages offer in sentences that say
  the question's predicate and name its subject: one is a fact; several are a succession, a correction
  or a dispute ("Toomey" then "Hart"; "486" then "502");
- `margin`: the reader's score margin over its nearest rival;
- `tentative`: the answering sentence hedges, plans or corrects ("preliminary figures", "will hand … no
  later than", "about 40,000", "CORRECTION: … said"), in words the question does not use itself.

`eval/fit_gate.py` fits the weights and the threshold leave-one-archive-out on the development archives
(precision first: a wrong short answer costs many right ones) and writes `GATE`. When the gate says no,
nothing is withheld but the phrase: the answering sentence still leads, without "X [n]." before it.

    >>> c = Clues(model=False, choices=1, margin=1.0, tentative=False)
    >>> Gate((0.0,) * len(FEATURES), 0.0, 0.5).admits(c)
    True
    >>> Gate((0.0,) * len(FEATURES), -1.0, 0.5).admits(c)
    False
    >>> choices("Who leads the Iron Dawn brigades?", ["Tal Varesh leads the Iron Dawn brigades.",
    ...                                               "Iron Dawn is led by Oren Malk, a report said."])
    2
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.reader import candidates, expect, question_names, says_predicate
from qa.text import analyze, fold

FEATURES = ("model", "choices", "margin", "tentative")

_TENTATIVE = re.compile(r"\b(?:will|would|could|may|might|expected|expects|plans?|planned|preliminary|provisional|"
                        r"estimated?|estimates|about|around|roughly|approximately|some|nearly|almost|at least|"
                        r"no later than|by the end of|reportedly|allegedly|claimed|claims|unconfirmed|correction|"
                        r"incorrect|corrects?|corrected|denied|denies|rumou?rs?|believed)\b", re.I)


@dataclass(frozen=True)
class Clues:
    """What the gate reads of one short answer (see the module's docstring)."""

    model: bool
    choices: int
    margin: float
    tentative: bool

    def vector(self) -> list[float]:
        return [float(self.model), math.log1p(max(0, self.choices - 1)), max(0.0, min(self.margin, 1.0)),
                float(self.tentative)]


@dataclass(frozen=True)
class Gate:
    """A logistic model over `Clues.vector()`: a short answer is given when its probability of being right
    is at least `threshold`."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, clues: Clues) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, clues.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def admits(self, clues: Clues) -> bool:
        return self.probability(clues) >= self.threshold


OPEN = Gate((0.0,) * len(FEATURES), 0.0, 0.0)  # admits every short answer: what `eval/fit_gate.py` answers with
# Fitted by `python eval/fit_gate.py --write` on every development archive (its report gives each one left out)
GATE = Gate((-1.3052, -0.7694, 1.4916, -0.728), 2.013, 0.8734)
RECORD: list[Clues] | None = None  # when a list, each short answer's clues are appended to it (for fitting)


def admit(clues: Clues) -> bool:
    """Whether the short answer with these `clues` opens the answer."""
    if RECORD is not None:
        RECORD.append(clues)
    return GATE.admits(clues)


def choices(question: str, sentences: Sequence[str]) -> int:
    """How many distinct phrases of the kind `question` asks for the `sentences` offer where they say its
    predicate and name its subject (a phrase the question itself names is not one)."""
    e = expect(question)
    if e is None:
        return 0
    names = question_names(question)
    asked = set(analyze(question))
    found = set()
    for s in sentences:
        said = set(analyze(s))
        if names and not any(n & said for n in names) or not says_predicate(question, s):
            continue
        found |= {fold(text) for text, _, _ in candidates(e.kind, s) if not set(analyze(text)) <= asked}
    return len(found)


def tentative(sentence: str, question: str = "") -> bool:
    """Whether `sentence` hedges, plans, estimates or corrects rather than states; a word the `question`
    says itself ("How many fighters does the institute estimate …?") is what was asked, not a hedge.

    `tentative('About 40,000 civilians are still in the city.')` -> `True`;
    `tentative('The institute estimated 6,000 fighters.', 'How many does it estimate?')` -> `False`;
    `tentative('Reuters quoted an Iraqi official.')` -> `False`
    """
    asked = set(analyze(question))
    return any(not set(analyze(m.group())) & asked for m in _TENTATIVE.finditer(sentence))
