"""The short answer a name question asks for, taken verbatim from a quoted sentence.

"Who …?", "Which company …?", "What organisation …?" are answered first by a name: the candidates
are the capitalised phrases of the candidate sentences that the question does not already say,
scored by a logistic model (`qa.picker.AnswerModel.span`, fitted by `eval/fit_answerer.py`) on
how the passages support each: the picker's score of the best sentence holding it, how many of
the top passages and sentences name it, whether a title names it, its shape.

    >>> [p.text for p in name_phrases("Shares of Alphabet rose after Sundar Pichai spoke in New York.")]
    ['Shares of Alphabet', 'Sundar Pichai', 'New York']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.intent import read_intent
from qa.picker import Candidate
from qa.text import analyze, fold
from qa.types import Hit

SPAN_FEATURES = ("best_logit", "passages", "sentences", "in_title", "one_word", "long", "in_question",
                 "person_asked", "person_shaped", "first_in_sentence", "acronym", "joined", "bias_thing",
                 "body_passages")
_NAME = re.compile(r"(?:[A-Z][\w'’&.\-]*|[A-Z]{2,})(?:\s+(?:(?:of|and|the|de|al|for|&)\s+)?(?:[A-Z][\w'’&.\-]*|\d+))*")
_ASKS_NAME = re.compile(r"^\s*(?:(?:according to [^,]+,\s*)?(?:who|whom|whose|which|what)\b)", re.I)
_ASKS_PERSON = re.compile(r"^\s*(?:according to [^,]+,\s*)?(?:who|whom|whose)\b|\b(?:which|what) (?:person|individual|"
                          r"executive|ceo|founder|player|athlete|politician|official|commander|general|author|"
                          r"reporter|journalist|figure|man|woman)\b", re.I)
_STOP_START = {"the", "a", "an", "this", "that", "these", "those", "in", "on", "at", "but", "and", "it", "he", "she",
               "they", "we", "i", "his", "her", "their", "its", "when", "while", "after", "before", "as", "if",
               "for", "with", "from", "by", "to", "of", "so", "yet", "also", "however", "meanwhile", "still", "is",
               "once", "how", "what", "why", "who", "where", "which", "current", "former", "ceo", "cto", "cfo",
               "chair", "president", "qb", "mr", "mrs", "ms", "dr", "sir", "last", "next", "every", "each", "all",
               "both", "many", "some", "our", "your", "my", "top", "best", "here", "there", "today"}


@dataclass(frozen=True)
class Phrase:
    text: str
    start: int  # offset in its sentence


def name_phrases(sentence: str) -> list[Phrase]:
    """Runs of capitalised words (joined by "of", "and", "the", "&"), a leading function word dropped."""
    out = []
    for m in _NAME.finditer(sentence):
        text, start = re.split(r"[’']s\b", m.group())[0].rstrip(".’'"), m.start()
        words = text.split()
        while words and words[0].lower() in _STOP_START:
            start += len(words[0]) + 1
            words = words[1:]
        while words and words[-1].lower() in ("of", "and", "the", "for", "&", "de", "al"):
            words = words[:-1]
        if words:
            out.append(Phrase(" ".join(words), start))
    return out


def asks_name(question: str) -> bool:
    """"Who …?", "Which company …?", "What is the name of …?": a question a name answers; not "What
    did readers say …?" or "Which date …?"."""
    text = re.sub(r"^\s*according to [^,]+,\s*", "", question, flags=re.I)
    if re.match(r"^\s*(?:who|whom|whose)\b", text, re.I):
        return True
    if re.match(r"^\s*what(?:'s| is| was) the name of\b", text, re.I):
        return True
    m = re.match(r"^\s*(?:which|what)\s+(\w+)", text, re.I)
    return m is not None and m[1].lower() not in _NOT_A_NAME


_NOT_A_NAME = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
               "should", "might", "may", "date", "day", "year", "month", "time", "number", "amount", "percentage",
               "proportion", "kind", "type", "sort", "happened", "happens", "about", "if", "else"}


@dataclass(frozen=True)
class SpanCandidate:
    text: str
    sentence: int  # index among the candidate sentences holding it with the best picker score


def span_candidates(question: str, hits: Sequence[Hit], sentences: Sequence[Candidate],
                    logits: np.ndarray, passages: int = 5) -> tuple[list[SpanCandidate], np.ndarray]:
    """Name phrases of the candidate sentences, and one row of `SPAN_FEATURES` for each."""
    q_terms = set(analyze(question))
    person = float(_ASKS_PERSON.search(question) is not None)
    found: dict[str, dict] = {}
    readers = read_intent(question).comments
    for i, s in enumerate(sentences):
        if hits[s.hit].chunk.kind == "comment" and not readers:
            continue  # a reader's remark never supplies the short answer to a question about the news
        for p in name_phrases(s.text):
            key = " ".join(re.findall(r"\w+", fold(p.text)))
            if not key or len(key) < 2:
                continue
            entry = found.setdefault(key, {"text": p.text, "best": i, "sentences": 0, "first": 0.0})
            entry["sentences"] += 1
            if logits[i] > logits[entry["best"]]:
                entry["best"], entry["text"] = i, p.text
            if p.start == 0:
                entry["first"] = 1.0
    for h in range(min(passages, len(hits))):  # a title names what its article is about
        mine = [i for i, s in enumerate(sentences) if s.hit == h]
        if not mine:
            continue
        quote = max(mine, key=lambda i: logits[i])
        for p in name_phrases(hits[h].chunk.title):
            key = " ".join(re.findall(r"\w+", fold(p.text)))
            if key and len(key) >= 2 and key not in found:
                found[key] = {"text": p.text, "best": quote, "sentences": 0, "first": 0.0}
    if not found:
        return [], np.zeros((0, len(SPAN_FEATURES)), dtype=np.float32)
    texts = [fold(f"{h.chunk.title} {h.chunk.text}") for h in hits[:passages]]
    bodies = [fold(h.chunk.text) for h in hits[:passages]]
    titles = [fold(h.chunk.title) for h in hits[:passages]]
    cands, rows = [], []
    for e in found.values():
        pattern = re.compile(rf"\b{re.escape(fold(e['text']))}\b")
        terms = set(analyze(e["text"]))
        words = e["text"].split()
        if terms and terms <= q_terms:
            continue  # what the question already names is not what it asks for
        in_body = sum(bool(pattern.search(t)) for t in bodies)
        if (not in_body and len(words) > 3) or len(words) > 5:
            continue  # a title's run of capitals ("Best Golf Betting Sites and Apps") names nothing the text says
        rows.append([
            float(logits[e["best"]]),
            float(sum(bool(pattern.search(t)) for t in texts)),
            float(e["sentences"]),
            float(any(pattern.search(t) for t in titles)),
            float(len(words) == 1),
            float(len(words) >= 4),
            len(terms & q_terms) / len(terms) if terms else 1.0,
            person,
            person * float(2 <= len(words) <= 3 and all(w[:1].isupper() for w in words)),
            e["first"],
            float(e["text"].isupper()),
            float(bool(re.search(r"\s(?:and|&)\s", e["text"]))),
            1.0 - person,
            float(in_body),
        ])
        cands.append(SpanCandidate(e["text"], e["best"]))
    return cands, np.array(rows, dtype=np.float32).reshape(-1, len(SPAN_FEATURES))
