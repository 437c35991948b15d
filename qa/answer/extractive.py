"""Answerers: turn retrieved passages into a short answer whose sentences carry `[n]` markers.

The default is extractive: it quotes the sentences of the top passages that best answer the
question, and abstains when none is close enough. Reader comments are quoted as comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple, Protocol

import numpy as np

from qa.answer import gate
from qa.answer.intent import Intent, read_intent
from qa.answer.picker import (
    AnswerModel,
    Candidate,
    Idf,
    default_model,
    question_features,
    sentence_features,
    uniform_idf,
    with_variants,
)
from qa.answer.reader import (
    compositional,
    dateline_end,
    expect,
    kind_fits,
    leading_sentence,
    read,
    says_predicate,
    titled_surname,
)
from qa.answer.reader import near_miss as reader_near_miss
from qa.answer.span import full_name, span_candidates
from qa.answer.verify import Ask, holds, read_ask
from qa.dates import format_date, ordinal
from qa.embed.models import Embedder
from qa.text import analyze, fold, split_sentences
from qa.tuning import TUNING
from qa.types import Answer, Citation, Hit

_OPEN_QUOTES = "“\"‘'«"
ABSTAIN = "The archive does not say."  # how an abstention starts; the LLM answerer asks for it verbatim
SHORTLIST = TUNING.shortlist  # sentences embedded per question (an index without sentence vectors)


class Short(NamedTuple):
    """A short answer: the phrase, the index of the sentence it is read from, whether the name model found
    it (not the typed reader), and its score margin over the nearest rival."""

    text: str
    sentence: int
    model: bool = False
    margin: float = 1.0


class Answerer(Protocol):
    def answer(self, question: str, hits: Sequence[Hit]) -> Answer: ...


def candidate_sentences(hits: Sequence[Hit], passages: int) -> list[Candidate]:
    """Sentences of the top passages, each with its stored vector when the index has one. A sentence
    that occurs in several passages is kept once: where it is not in quotation marks, else where it
    comes first (an earlier comment)."""
    found: dict[str, Candidate] = {}
    order = sorted(range(min(passages, len(hits))),
                   key=lambda i: (hits[i].chunk.doc_id, hits[i].chunk.comment_index or -1, hits[i].chunk.start))
    for i in order:
        text = hits[i].chunk.text
        spans = split_sentences(text)
        stored = hits[i].sentences
        vectors = stored if stored is not None and len(stored) == len(spans) else None
        for j, (s, e) in enumerate(spans):
            sentence = text[s:e]
            if len(re.findall(r"\w+", sentence)) < 3:
                continue
            key = " ".join(re.findall(r"\w+", fold(sentence)))
            candidate = Candidate(i, s, e, sentence, sentence[0] in _OPEN_QUOTES,
                                  None if vectors is None else vectors[j])
            if key not in found or (found[key].quoted and not candidate.quoted):
                found[key] = candidate
    return sorted(found.values(), key=lambda c: (c.hit, c.start))


def shortlist(question: str, sentences: Sequence[Candidate], n: int) -> list[Candidate]:
    """The `n` sentences sharing most terms with the question, in their original order: only
    these are embedded, which keeps answering fast on long passages."""
    if len(sentences) <= n:
        return list(sentences)
    terms = set(analyze(question))
    best = sorted(range(len(sentences)), key=lambda i: (-term_overlap(terms, sentences[i].text), i))[:n]
    return [sentences[i] for i in sorted(best)]


def with_context(question: str, hits: Sequence[Hit], picked: Sequence[Candidate], limit: int) -> list[Candidate]:
    """Add the neighbours a picked sentence needs: the line that introduces it ("From Reuters:"),
    and an adjacent sentence holding question terms the picked ones lack ("Map created by …")."""
    terms = set(analyze(question))
    covered = terms & set().union(*(set(analyze(s.text)) for s in picked))
    out = list(picked)
    have = {(s.hit, s.start) for s in picked}
    for s in picked:
        text = hits[s.hit].chunk.text
        spans = split_sentences(text)
        if (s.start, s.end) not in spans:
            continue
        i = spans.index((s.start, s.end))
        for j in (i - 1, i + 1):
            if not 0 <= j < len(spans) or (s.hit, spans[j][0]) in have or len(out) >= limit:
                continue
            neighbour = text[spans[j][0]:spans[j][1]]
            new = (terms & set(analyze(neighbour))) - covered
            if new or (j == i - 1 and neighbour.endswith(":")):
                out.append(Candidate(s.hit, spans[j][0], spans[j][1], neighbour, False))
                have.add((s.hit, spans[j][0]))
                covered |= new
    return out


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """Share of the question's content terms that the sentence contains."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(analyze(sentence))) / len(question_terms)


class ExtractiveAnswerer:
    """Quote the sentences the fitted picker rates best, or abstain when the fitted check says the
    top passages do not hold what was asked (`qa.answer.picker`, weights in `qa/data/answer.json`)."""

    def __init__(self, embedder: Embedder, max_sentences: int = 3, passages: int = 4,
                 model: AnswerModel | None = None, idf: Idf | None = None) -> None:
        self.embedder = embedder
        self.max_sentences, self.passages = max_sentences, passages
        self._model = model
        self.idf: Idf = idf or uniform_idf

    @property
    def model(self) -> AnswerModel:
        """The fitted picker and abstention check: the shipped one unless another was given."""
        return self._model or default_model()

    def features(self, question: str, hits: Sequence[Hit]) -> tuple[Intent, list[Candidate], np.ndarray]:
        """The question's intent, the candidate sentences that can answer it, and their features."""
        intent = read_intent(question)
        # "when …?" / "how many …?": only a sentence holding a time / a quantity can answer it
        sentences = [s for s in candidate_sentences(hits, self.passages) if intent.fits(s.text)]
        if intent.comments and any(hits[s.hit].chunk.kind == "comment" for s in sentences):
            sentences = [s for s in sentences if hits[s.hit].chunk.kind == "comment"]  # it asks what readers said
        q = self.embedder.embed_query(question)
        missing = [i for i, s in enumerate(sentences) if s.vector is None]
        if missing:  # an index without sentence vectors: embed the sentences that share most with the question
            keep = {id(s) for s in shortlist(question, [sentences[i] for i in missing], SHORTLIST)}
            sentences = [s for s in sentences if s.vector is not None or id(s) in keep]
            todo = [i for i, s in enumerate(sentences) if s.vector is None]
            if todo:
                vectors = self.embedder.embed_documents([sentences[i].text for i in todo])
                for i, v in zip(todo, vectors):
                    sentences[i] = replace(sentences[i], vector=v)
        return intent, sentences, sentence_features(question, intent, q, hits, sentences, self.idf)

    def abstains(self, question: str, intent: Intent, hits: Sequence[Hit], sentences: Sequence[Candidate],
                 x: np.ndarray, logits: np.ndarray) -> bool:
        if not len(logits):
            return True
        qx = question_features(question, intent, hits, sentences, x, logits, self.idf, self.passages)
        return float(self.model.abstain.logit(qx[None])[0]) > self.model.threshold

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        intent, sentences, x = self.features(question, hits)
        logits = self.model.picker.logit(x)
        asked = named_commenters(question, hits)
        if asked:  # "What did AndyFMF say about the hotel?": that reader's comments lead, best first
            theirs = [i for i, s in enumerate(sentences) if hits[s.hit].chunk.kind == "comment"
                      and fold(hits[s.hit].chunk.author or "") in asked]
            if theirs:
                top = sorted(theirs, key=lambda i: -logits[i])[: self.max_sentences]
                return compose(question, hits, sorted((sentences[i] for i in top), key=lambda s: (s.hit, s.start)),
                               intent, None, sentences[top[0]].hit)
        if self.abstains(question, intent, hits, sentences, x, logits):
            return abstention(question, hits)
        best = float(logits.max())
        chosen = [i for i in np.argsort(-logits) if logits[i] >= best - self.model.second][: self.max_sentences]
        ask = None if intent.author else read_ask(question)
        holding = None
        if ask is not None:  # a typed attribute: some quoted sentence must say it, else it is a near miss
            holding = self.holding(question, ask, intent, hits, sentences, logits)
            if holding is None:
                return near_miss(question, f"The passages retrieved do not give {ask.describe()}", hits,
                                 sentences[int(np.argmax(logits))])
            if holding in sentences and sentences.index(holding) not in chosen:
                chosen = [sentences.index(holding)] + chosen[: self.max_sentences - 1]
        reported = [c for c in candidate_sentences(hits, self.passages) if hits[c.hit].chunk.kind == "article"]
        if ask is None and not intent.comments and reader_near_miss(
                question, [c.text for c in reported], [hits[c.hit].chunk.title for c in reported],
                spell=with_variants, reported=[hits[c.hit].chunk.published_at for c in reported]):
            wanted = expect(question)
            missing = "the news outlet" if wanted is not None and wanted.kind == "outlet" else \
                "the group" if wanted is not None and wanted.kind == "group" else "anyone in the role"
            return near_miss(question, f"No passage retrieved names {missing} asked about for that subject",
                             hits, sentences[int(np.argmax(logits))])
        if intent.comments:
            chosen = per_commenter(sentences, hits, logits, 2 * self.model.second) or chosen
        lead = None if intent.author or intent.comments else self.short_answer(question, hits, sentences, logits)
        if lead is not None and ask is not None and holding is not None and lead[0] not in holding.text \
                and sentences[lead[1]] is not holding:
            lead = None  # "who was the prime minister …" is led only by the name beside the office
        if lead is not None and lead[1] not in chosen:
            chosen = [lead[1]] + chosen[: self.max_sentences - 1]
        picked = with_context(question, hits, [sentences[i] for i in chosen], max(len(chosen), self.max_sentences + 1))
        if holding is not None and all((holding.hit, holding.start) != (p.hit, p.start) for p in picked):
            picked.append(holding)
        if intent.comments:
            picked += still_missing(question, sentences, logits, picked, 2 * self.model.second)
        short = (lead[0], sentences[lead[1]].hit) if lead is not None else None
        if lead is not None and not gate.admit(self.clues(question, hits, sentences, lead)):
            short = None  # the gate doubts it: the answering sentence leads without the phrase before it
        first = sentences[lead[1]].hit if lead is not None else holding.hit if holding is not None else \
            sentences[leading_sentence(question, [s.text for s in sentences], logits.tolist())].hit
        return compose(question, hits, sorted(picked, key=lambda s: (s.hit, s.start)), intent, short, first)

    def holding(self, question: str, ask: Ask, intent: Intent, hits: Sequence[Hit],
                sentences: Sequence[Candidate], logits: np.ndarray) -> Candidate | None:
        """The sentence that says what `ask` asks for: the best-rated candidate that does, else a
        sentence of a top passage about the question's subject ("The ministry said two soldiers were
        killed." beside the sentence naming the depot), else None."""
        for i in np.argsort(-logits):
            if holds(ask, sentences[i].text, question):
                return sentences[int(i)]
        for s in candidate_sentences(hits, self.passages):
            text = hits[s.hit].chunk.text
            about = not intent.names or not intent.names.isdisjoint(analyze(f"{hits[s.hit].chunk.title} {text}"))
            if about and holds(ask, s.text, question):
                return s
        return None

    def clues(self, question: str, hits: Sequence[Hit], sentences: Sequence[Candidate], lead: Short) -> gate.Clues:
        """What `qa.answer.gate` reads of the short answer `lead`."""
        said = sentences[lead.sentence].text
        offered = gate.choices(question, [s.text for s in sentences if hits[s.hit].chunk.kind != "comment"])
        return gate.Clues(model=lead.model, choices=offered, margin=lead.margin,
                          tentative=gate.tentative(said, question))

    def short_answer(self, question: str, hits: Sequence[Hit], sentences: Sequence[Candidate],
                     logits: np.ndarray) -> Short | None:
        """The phrase of the expected type that the best sentence stating the question's predicate gives
        (`qa.answer.reader`), with the index of that sentence. Failing that, for a question whose answer is
        spread over several reports, the name the span model rates above its threshold, when the passages
        treat it as the kind of thing asked for; None otherwise."""
        usable = [i for i, s in enumerate(sentences) if hits[s.hit].chunk.kind != "comment"]
        if not usable:
            return None
        lead = read(question, [sentences[i].text for i in usable], [hits[sentences[i].hit].chunk.title for i in usable],
                    [float(logits[i]) for i in usable], spell=with_variants,
                    reported=[hits[sentences[i].hit].chunk.published_at for i in usable])
        if lead is not None:
            surname = titled_surname(lead.text)  # "Mayor Brill" is "Hana Brill" where a report says so
            full = full_name(surname, hits) if surname else lead.text
            return Short(full if full != surname else lead.text, usable[lead.sentence], False, lead.margin)
        e = expect(question)
        model = self.model
        if e is None or e.kind in ("date", "number") or model.span is None:
            return None
        spans, x = span_candidates(question, hits, sentences, logits)
        if not spans:
            return None
        scores = model.span.logit(x)
        best = int(np.argmax(scores))
        if scores[best] <= model.span_threshold:
            return None
        texts = [f"{h.chunk.title}. {h.chunk.text}" for h in hits[:self.passages + 1] if h.chunk.kind == "article"]
        name = full_name(spans[best].text, hits)
        said = sentences[spans[best].sentence].text
        if not compositional(question) and not says_predicate(question, said):
            return None  # a one-fact question: the sentence naming it must say what was asked
        if (at := said.find(spans[best].text)) >= 0 and at < dateline_end(said):
            return None  # where the report was filed is not what it says
        ranked = np.sort(scores)
        margin = float(min(1.0, ranked[-1] - ranked[-2])) if len(ranked) > 1 else 1.0
        return Short(name, spans[best].sentence, True, margin) if kind_fits(e.kind, name, texts) else None


class Writer:
    """Answer text built piece by piece, keeping apart what the answerer writes (its words and
    `[n]` markers) from what it copies from the archive or the question: a `[1]` typed in a reader
    comment stays the comment's text. `w.own('A '); w.mark(1)` -> text `'A [1]'`, marks `((2, 5, 1),)`"""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0
        self.marks: list[tuple[int, int, int]] = []
        self.quoted: list[tuple[int, int]] = []

    def own(self, text: str) -> None:
        self.pieces.append(text)
        self.size += len(text)

    def copy(self, text: str) -> None:
        if text:
            self.quoted.append((self.size, self.size + len(text)))
            self.own(text)

    def mark(self, n: int) -> None:
        self.marks.append((self.size, self.size + len(f"[{n}]"), n))
        self.own(f"[{n}]")

    def answer(self, question: str, citations: tuple[Citation, ...], abstained: bool = False) -> Answer:
        return Answer(question, "".join(self.pieces), citations, abstained,
                      marks=tuple(self.marks), quoted=tuple(self.quoted))


def prefixed(answer: Answer, words: str) -> Answer:
    """The answer with the answerer's own `words` put in front, its marker and quote spans moved along."""
    shift = len(words)
    marks = None if answer.marks is None else tuple((a + shift, b + shift, n) for a, b, n in answer.marks)
    return replace(answer, text=words + answer.text, marks=marks,
                   quoted=tuple((a + shift, b + shift) for a, b in answer.quoted))


def abstention(question: str, hits: Sequence[Hit]) -> Answer:
    w = Writer()
    w.own(f"{ABSTAIN} Nothing retrieved answers “")
    w.copy(question.strip())
    w.own("”" + ("; the nearest passages are listed below." if hits else "."))
    return w.answer(question, tuple(Citation(i + 1, h) for i, h in enumerate(hits)), abstained=True)


def near_miss(question: str, missing: str, hits: Sequence[Hit], nearest: Candidate) -> Answer:
    """The archive speaks of the question's subject but not of what was asked: say so, and quote
    the nearest sentence so the reader sees what it does say."""
    w = Writer()
    w.own(f"{ABSTAIN} {missing}; the nearest says: ")
    w.copy(balance_quotes(" ".join(nearest.text.split())))
    w.own(" ")
    w.mark(nearest.hit + 1)
    citations = tuple(Citation(i + 1, h, ((nearest.start, nearest.end),) if i == nearest.hit else ())
                      for i, h in enumerate(hits))
    return w.answer(question, citations, abstained=True)


def join_quote(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Sentences of one passage as one quotation: adjacent ones joined by a space, a gap shown as " … ",
    and a quotation mark left open or unopened by the cut dropped.

    `join_quote('A b c. D e f. G h i.', [(0, 6), (14, 20)])` -> `'A b c. … G h i.'`
    """
    pieces, last = [], None
    for a, b in sorted(spans):
        piece = " ".join(text[a:b].split())
        if last is not None and text[last:a].strip():
            pieces.append("…")
        pieces.append(piece)
        last = b
    return balance_quotes(" ".join(pieces))


def balance_quotes(quote: str) -> str:
    """Close what the cut left open, open what it left closed: a quote starting mid-speech gets its
    opening mark back. `balance_quotes('under control,” said X.')` -> `'“under control,” said X.'`"""
    quote = quote.strip()
    opened, closed = quote.count("“"), quote.count("”")
    if closed > opened:
        quote = "“" * (closed - opened) + quote
    elif opened > closed:
        quote = quote + "”" * (opened - closed)
    if quote.count('"') % 2:
        quote = quote + '"' if quote.startswith('"') else '"' + quote
    return quote


_EVERY_WRITER = re.compile(r"\bwho (?:wrote|has written|have written|writes|reported) about\b|"
                           r"\bwhich (?:reporters|writers|authors|journalists|correspondents)\b", re.I)


_ABOUT_ARTICLE = re.compile(r"\b(?:article|report|story|piece|post)\s+(?:reporting|reported|saying|that said|"
                            r"about|on|which said|claiming)\b(?:\s+that\b)?", re.I)


def bylines(w: Writer, hits: Sequence[Hit], question: str = "", quoted: Sequence[int] = ()) -> None:
    """The byline of the article the answer quotes (else the top one); for "who wrote about X?",
    every distinct author among the articles retrieved, each with the first article of theirs (it
    has as many answers as writers)."""
    seen: dict[str, int] = {}
    every = _EVERY_WRITER.search(question)
    # "who wrote the article reporting that X …": X describes the article; the words before it do not
    about = _ABOUT_ARTICLE.search(question)
    terms = set(analyze(question[about.end():] if about else question))
    # "who wrote the article reporting that …": the article whose title says most of what the question does
    by_title = sorted(range(len(hits)), key=lambda i: (-len(terms & set(analyze(hits[i].chunk.title))),
                                                        i not in quoted, i))
    for i in (range(len(hits)) if every else by_title):
        h = hits[i]
        if h.chunk.kind == "article" and h.chunk.author and h.chunk.author not in seen:
            seen[h.chunk.author] = i
            if not every:
                break
    for author, i in seen.items():
        w.own("“")
        w.copy(hits[i].chunk.title)
        w.own("” was written by ")
        w.copy(author)
        w.own(" ")
        w.mark(i + 1)
        w.own(".\n")


def named_commenters(question: str, hits: Sequence[Hit]) -> set[str]:
    """The commenters among `hits` whom the question names ("What did AndyFMF say …?"), folded."""
    def spaced(text: str) -> str:
        return " " + " ".join(re.findall(r"[\w\-]+", fold(text))) + " "

    folded = spaced(question)
    names = {fold(h.chunk.author or "").strip() for h in hits if h.chunk.kind == "comment"}
    return {n for n in names if len(n) >= 3 and spaced(n) in folded}


def per_commenter(sentences: Sequence[Candidate], hits: Sequence[Hit], logits: np.ndarray, margin: float,
                  most: int = 3) -> list[int]:
    """For a question about what readers said: the best sentence of each distinct commenter within
    `margin` of the best, best first, at most `most`."""
    best = float(logits.max())
    chosen: list[int] = []
    authors: set[str | None] = set()
    for i in np.argsort(-logits):
        author = hits[sentences[i].hit].chunk.author
        if logits[i] < best - margin or len(chosen) >= most:
            break
        if hits[sentences[i].hit].chunk.kind == "comment" and author not in authors:
            chosen.append(int(i))
            authors.add(author)
    return chosen


def still_missing(question: str, sentences: Sequence[Candidate], logits: np.ndarray, picked: Sequence[Candidate],
                  margin: float, most: int = 2) -> list[Candidate]:
    """Sentences within `margin` of the best that say question terms no picked sentence says: a
    commenter's second sentence ("Its like watching Gale Sayers … run a football.") where the first
    did not say what was asked."""
    terms = set(analyze(question))
    covered = set().union(*(set(analyze(p.text)) for p in picked)) if picked else set()
    have = {(p.hit, p.start) for p in picked}
    best, out = float(logits.max()), list[Candidate]()
    for i in np.argsort(-logits):
        s = sentences[int(i)]
        if logits[i] < best - margin or len(out) >= most:
            break
        new = (terms & set(analyze(s.text))) - covered
        if (s.hit, s.start) not in have and new:
            out.append(s)
            covered |= new
    return out


def compose(question: str, hits: Sequence[Hit], picked: Sequence[Candidate],
            intent: Intent = Intent(), short: tuple[str, int] | None = None, first: int | None = None) -> Answer:
    """Answer text from the picked sentences, grouped by passage, each group ending in `[n]`. The
    passage of the answering sentence (`first`, a hit position) leads; the rest of dated reporting
    says "As of DATE", newest first; comments are quoted as comments."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for s in picked:
        spans.setdefault(s.hit, []).append((s.start, s.end))
    order = sorted(spans, key=lambda i: (i != first, -ordinal(hits[i].chunk.published_at), i))
    dated = {hits[i].chunk.published_at for i in order if hits[i].chunk.kind == "article"} - {None}
    w = Writer()
    if short is not None:
        w.copy(short[0])
        w.own(" ")
        w.mark(short[1] + 1)
        w.own(".\n")
    if intent.author:
        bylines(w, hits, question, order)
    for i in order:
        chunk = hits[i].chunk
        quote = join_quote(chunk.text, spans[i])
        if chunk.kind == "comment":
            w.own("Reader comment by ")
            w.copy(chunk.author or "")
            w.own(": “")
            w.copy(quote.strip(_OPEN_QUOTES + "”’"))
            w.own("” ")
        elif chunk.published_at and (len(dated) > 1 or intent.recent):
            w.own(f"As of {format_date(chunk.published_at)}: ")
            w.copy(quote)
            w.own(" ")
        else:
            w.copy(quote)
            w.own(" ")
        w.mark(i + 1)
        w.own("\n")
    citations = tuple(Citation(i + 1, h, tuple(spans.get(i, ()))) for i, h in enumerate(hits))
    answer = w.answer(question, citations)
    return replace(answer, text=answer.text.removesuffix("\n"), direct=short[0] if short is not None else None)
