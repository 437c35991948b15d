"""Answers over many reports: a timeline of a subject, what happened in a period, where reports disagree and
what readers said, written from the events of `qa.answer.events` and the claims of `qa.answer.claims`, each line quoted
and cited. Pure: no model, no index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from dataclasses import replace as dc_replace
from typing import TYPE_CHECKING

from qa.answer.claims import Claim, Pair, claims_about, contradictions, disagreements
from qa.answer.events import Event, Memo, Topic, event_reports, in_window, merge, names
from qa.answer.extractive import Writer, balance_quotes
from qa.answer.intent import read_intent
from qa.answer.timeline import StateQuestion
from qa.dates import MONTH_PATTERN, format_date, ordinal
from qa.text import plural
from qa.types import Answer, Citation, Hit, TimelinePoint

if TYPE_CHECKING:
    from qa.search.retrieve import Filters, Retriever

MOST_LINES = 30  # dated lines of one timeline; a longer one says how many it left out
POINT_WORDS = 12  # words of a timeline point's clause for the page's picture


class Cites:
    """Citation numbers in order of first use; the hits nobody cited follow, so the nearest stay listed."""

    def __init__(self, hits: Sequence[Hit], w: Writer | None = None) -> None:
        self.hits = hits
        self.order: list[int] = []
        self.spans: dict[int, set[tuple[int, int]]] = {}
        self.w = w or Writer()

    def number(self, hit: int, span: tuple[int, int] | None = None) -> int:
        if hit not in self.order:
            self.order.append(hit)
        if span is not None:
            self.spans.setdefault(hit, set()).add(span)
        return self.order.index(hit) + 1

    def mark(self, hit: int, span: tuple[int, int] | None = None) -> int:
        n = self.number(hit, span)
        self.w.mark(n)
        return n

    def quote(self, text: str) -> None:
        self.w.own("“")
        self.w.copy(balance_quotes(text).strip("“”\""))
        self.w.own("”")

    def answer(self, question: str, nearest: int, timeline: Sequence[TimelinePoint] = ()) -> Answer:
        order = self.order + [i for i in range(min(nearest, len(self.hits))) if i not in self.order]
        citations = tuple(Citation(n + 1, self.hits[i], tuple(sorted(self.spans.get(i, ()))))
                          for n, i in enumerate(order))
        return replace(self.w.answer(question, citations), timeline=tuple(timeline))


def reports_read(hits: Sequence[Hit], topic: Topic) -> int:
    """Distinct reports (articles) among `hits` dated inside the topic's window (any date when it has none)."""
    docs = set()
    for h in hits:
        day = h.chunk.published_at
        if h.chunk.kind != "article":
            continue
        if topic.windowed and (day is None or (topic.date_from and day[:10] < topic.date_from)
                               or (topic.date_to and day[:10] > topic.date_to)):
            continue
        docs.add(h.chunk.doc_id)
    return len(docs)


def _event_line(out: Cites, event: Event, hits: Sequence[Hit]) -> int:
    """`“clause” [1][3]`: the first report's words, a marker for every report of it. The first marker's number."""
    out.quote(event.first.clause)
    out.w.own(" ")
    first = 0
    for hit in event.hits:
        r = next(r for r in event.reports if r.hit == hit)
        n = out.mark(hit, (r.start, r.end))
        first = first or n
    return first


def _point(event: Event, n: int) -> TimelinePoint:
    words = event.first.clause.split()
    what = " ".join(words[:POINT_WORDS]) + (" …" if len(words) > POINT_WORDS else "")
    return TimelinePoint(event.day[:10] if event.day else "", what, n, event.first.holder)


def answer_timeline(question: str, topic: Topic, hits: Sequence[Hit], nearest: int = 5) -> Answer | None:
    """Dated events about the subject, one line each, oldest first (newest first when asked), undated apart;
    a period answer groups them by day and says how many reports were read. None when no report names the
    subject with anything dated."""
    memo: Memo = {}
    events = [e for e in merge(event_reports(topic, hits, memo=memo), hits) if in_window(e, topic) or (
        e.day is None and not topic.windowed)]
    if not events:
        return None
    dated = [e for e in events if e.day]
    undated = [e for e in events if not e.day]
    out = Cites(hits)
    w = out.w
    points: list[TimelinePoint] = []
    n_reports = reports_read(hits, topic)
    shown = dated[-MOST_LINES:]
    if topic.kind == "period":
        span = " – ".join(format_date(d) if d else "…" for d in (topic.date_from, topic.date_to))
        about = topic.subject or "The archive"  # "what did the Courier report in May?": all of it
        w.own(f"{about[:1].upper()}{about[1:]}, {span}: {plural(n_reports, 'report')} read, "
              f"{plural(len(dated), 'development')} dated in the period.")
    else:
        w.own(f"Timeline of {topic.subject} from {plural(n_reports, 'report')}, "
              f"{'newest' if topic.newest_first else 'oldest'} first:")
    if len(dated) > len(shown):
        w.own(f" (the {MOST_LINES} latest of {len(dated)} shown)")
    days: dict[str, list[Event]] = {}
    for e in shown:
        days.setdefault(e.day or "", []).append(e)
    for day in sorted(days, key=ordinal, reverse=topic.newest_first):
        if topic.kind == "period":
            w.own(f"\n{format_date(day)}: ")
            for k, e in enumerate(days[day]):
                w.own("; " if k else "")
                points.append(_point(e, _event_line(out, e, hits)))
        else:
            for e in days[day]:
                w.own(f"\n{format_date(day)} — ")
                points.append(_point(e, _event_line(out, e, hits)))
    if undated:
        w.own("\nUndated reports:")
        for e in undated[:MOST_LINES]:
            w.own("\n– ")
            _event_line(out, e, hits)
    answer = out.answer(question, nearest, sorted(points, key=lambda p: ordinal(p.day)))
    pairs = disagreements(claims_about(topic.about, hits, comments=False, memo=memo), hits)
    return with_disagreements(answer, pairs, hits) if pairs else answer


def _side(out: Cites, c: Claim, hits: Sequence[Hit]) -> None:
    """`20 May 2025, Dessa Times, article “Title”: “…” [3]`: date, outlet, kind and source, the words, the mark."""
    chunk = hits[c.hit].chunk
    w = out.w
    w.own(f"{format_date(c.reported) if c.reported else 'undated'}, ")
    outlet = hits[c.hit].source
    if outlet:
        w.copy(outlet)
        w.own(", ")
    if chunk.kind == "comment":
        w.own("reader comment by ")
        w.copy(chunk.author or "anonymous")
        w.own(" (opinion) under “")
    else:
        w.own("article “")
    w.copy(chunk.title)
    w.own("”: ")
    out.quote(c.clause)
    w.own(" ")
    out.mark(c.hit, (c.start, c.end))


def write_pairs(out: Cites, pairs: Sequence[Pair], hits: Sequence[Hit]) -> None:
    """Each pair on two lines, the newer report first, pairs newest first."""
    for p in pairs:
        a, b = sorted((p.a, p.b), key=lambda c: -ordinal(c.reported))
        out.w.own(f"\n• {p.what}: ")
        _side(out, a, hits)
        out.w.own("\n  vs ")
        _side(out, b, hits)


def with_disagreements(answer: Answer, pairs: Sequence[Pair], hits: Sequence[Hit]) -> Answer:
    """The answer with a "Reports disagree:" part after it: its citations kept (each with the sentences now
    quoted from it added), a hit it did not cite added."""
    if not pairs:
        return answer
    w = Writer()
    w.own(answer.text)
    w.marks = list(answer.marks or ())
    w.quoted = list(answer.quoted)
    citations = {c.n: c for c in answer.citations}
    cited = {c.hit.chunk.chunk_id: c.n for c in answer.citations}
    out = Cites(hits, w)

    def number(hit: int, span: tuple[int, int] | None = None) -> int:
        key = hits[hit].chunk.chunk_id
        if key not in cited:
            cited[key] = len(citations) + 1
            citations[cited[key]] = Citation(cited[key], hits[hit])
        c = citations[cited[key]]
        if span is not None and span not in c.used_sentences:
            citations[c.n] = replace(c, used_sentences=tuple(sorted((*c.used_sentences, span))))
        return c.n

    out.number = number  # type: ignore[method-assign]
    w.own("\nReports disagree:")
    write_pairs(out, pairs, hits)
    done = w.answer(answer.question, tuple(citations[n] for n in sorted(citations)), answer.abstained)
    return replace(answer, text=done.text, citations=done.citations, marks=done.marks, quoted=done.quoted)


_HOLDER_SUBJECT = re.compile(r"\b(?:holds?|held|controls?|controlled|runs|ran|holder|took|taken|captured|seized|"
                             r"retook|recaptured|fell|left|withdrew)\b", re.I)
# what a subject asks to be counted, by the last word of a count claim's `what`
_MEASURES = {"killed": r"toll|dead|deaths?|killed|died|casualt(?:y|ies)|lost|losses|killings?",
             "wounded": r"wounded|injured|injuries|casualt(?:y|ies)", "missing": r"missing|prisoners?|captured",
             "displaced": r"displaced|displacement|fled|homeless", "returned": r"returned|returnees?|returns?"}
_VICTIMS = re.compile(r"\b(civilian|soldier|fighter|troop|child|officer|policem[ae]n|militiam[ae]n|servicem[ae]n|"
                      r"army|military|militia|rebel)(?:s|ren)?\b", re.I)
_SIDES = {"army": "soldier", "military": "soldier", "troop": "soldier", "militia": "fighter", "rebel": "fighter"}


def _asked(subject: str, pair: Pair) -> bool:
    """The pair is about what the subject asks: a toll subject ("civilian deaths in Quarnby") takes only tolls of
    that kind, a who-holds subject only holders; a subject that asks what no claim reads (a date, a reason)
    takes none; a bare subject ("Al Qaim") takes every pair."""
    if pair.a.aspect == "fix":  # a correction: all the words one part of the subject asks about ("the convoy:
        # trucks and patients" has three parts) in its two sentences, else one of them naming the subject
        said = {w[:5] for w in _WORDS.findall(f"{pair.a.clause} {pair.b.clause}".lower())}
        parts = [{w[:5] for w in _WORDS.findall(part) if w not in _ASKING}
                 for part in re.split(r"[:;,]|\band\b", subject)]
        if not any(parts):
            return pair.a.on_subject or pair.b.on_subject
        return any(part and part <= said for part in parts)
    if pair.a.aspect == "count":
        victims, kind = pair.what.rsplit(" ", 1)
        named = {_SIDES.get(m[1].lower(), m[1].lower()).replace("man", "men") for m in _VICTIMS.finditer(subject)}
        if named and re.sub(r"(?:s|ren)$", "", victims) not in named:  # "civilians killed": not soldiers'
            return False
        if re.search(rf"\b(?:{_MEASURES.get(kind, kind)})\b", subject, re.I):
            return True
        return _bare(subject)
    return bool(_HOLDER_SUBJECT.search(subject)) or _bare(subject)


_WORDS = re.compile(r"\b[a-z][a-z'-]{2,}\b")  # lower-case words: what a subject asks about, not its names
_ASKING = set("""the and for from with who what when where which whether why how many much date day days time
number figure figures toll size strength price cost value amount total count rank""".split())
_PLACE_WORDS = set("""the a an of in at on for to by and around near from town city village bridge port pass airfield
airport dam base checkpoint junction district province region area border crossing road hospital station fighting
battle siege war conflict front attack clashes offensive situation""".split())


def _bare(subject: str) -> bool:
    """The subject names a place or a fight and asks nothing of it ("Al Qaim", "the fighting for Tesk in 2025")."""
    words = re.findall(r"[A-Za-z][\w'-]*", re.sub(rf"\b(?:{MONTH_PATTERN})\b", " ", subject, flags=re.I))
    return all(w[0].isupper() or w.lower() in _PLACE_WORDS for w in words)


_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'’-]*)*")
_CALENDAR = re.compile(rf"\b(?:(?:{MONTH_PATTERN})\b|(?:1[89]|20)\d\d\b)", re.I)


def _claimed(subject: str) -> tuple[StateQuestion, list[StateQuestion]]:
    """What claims must be about: the subject without its months and years ("the September 2024 fighting for
    Marrow Junction"), and each of its names when it has several."""
    plain = re.sub(r"\s+", " ", _CALENDAR.sub(" ", subject)).strip()
    names = [m.group() for m in _NAME.finditer(plain)]
    return StateQuestion(plain or subject), [StateQuestion(n) for n in names] if len(names) > 1 else []


def answer_disagreements(question: str, topic: Topic, hits: Sequence[Hit], nearest: int = 5) -> Answer | None:
    """Reports about the subject that state different holders or numbers for the same time, side by side: only
    numbers of what the subject counts when it is one ("the death toll in Tesk", "people displaced in 2024"),
    only holders when it asks who holds a place, none when it asks what no claim states (a date, a reason)."""
    subject, parts = _claimed(topic.subject)
    pairs = [p for p in disagreements(claims_about(subject, hits, fixes=True, parts=parts), hits)
             if _asked(topic.subject, p)]
    if not pairs:
        return None
    out = Cites(hits)
    out.w.own(f"Reports disagree about {topic.subject} ({plural(len(pairs), 'pair')}, newest first):")
    write_pairs(out, pairs, hits)
    return out.answer(question, nearest)


def answer_readers(question: str, topic: Topic, hits: Sequence[Hit], nearest: int = 5) -> Answer | None:
    """Reader comments about the subject grouped by commenter, each labelled opinion; a comment that states
    another holder or number than the article it sits under is flagged with the article's words."""
    subject = topic.about
    comments = [i for i, h in enumerate(hits) if h.chunk.kind == "comment"
                and (not topic.subject or subject_in(topic, f"{h.chunk.title} {h.chunk.text}"))]
    if not comments:
        return None
    flagged = {p.a.hit: p for p in contradictions(claims_about(subject, hits, comments=True, fixes=True), hits)}
    asks_dissent = topic.subject == "" or "disagree" in question.lower() or "contradict" in question.lower()
    if not flagged and not asks_dissent:
        return None  # no comment contradicts its article: the comments are quoted as for any question
    if asks_dissent and flagged:
        comments = [i for i in comments if i in flagged]
    out = Cites(hits)
    w = out.w
    by: dict[str, list[int]] = {}
    for i in comments:
        by.setdefault(hits[i].chunk.author or "anonymous", []).append(i)
    w.own(f"What readers said{' about ' + topic.subject if topic.subject else ''} "
          f"({plural(len(by), 'commenter')}; comments are opinion, not reporting):")
    for author, items in by.items():
        w.own("\n")
        w.copy(author)
        w.own(":")
        for i in items:
            chunk = hits[i].chunk
            w.own("\n– opinion, under “")
            w.copy(chunk.title)
            w.own("”: ")
            out.quote(" ".join(chunk.text.split()[:60]))
            w.own(" ")
            out.mark(i, (0, len(chunk.text)))
            if i in flagged:
                p = flagged[i]
                w.own(f" — contradicts the article ({p.what}): ")
                out.quote(p.b.clause)
                w.own(" ")
                out.mark(p.b.hit, (p.b.start, p.b.end))
    if asks_dissent and not flagged:
        w.own("\nNo comment retrieved states a holder or number that contradicts its article.")
    return out.answer(question, nearest)


def subject_in(topic: Topic, text: str) -> bool:
    return names(text, topic.about)


_HURT_WORDS = {"killed": ("killed", "died", "dead", "death", "deaths", "toll"), "wounded": ("wounded", "injured"),
               "missing": ("missing",)}


def with_toll_disagreements(answer: Answer, hits: Sequence[Hit]) -> Answer:
    """A how-many answer with the reports that give other tolls of what it asks about ("14 vs 20 killed")."""
    if answer.abstained or read_intent(answer.question).expects != "number":
        return answer
    names = " ".join(w for w in answer.question.split()[1:] if w[:1].isupper())
    if not names.strip():
        return answer
    asked = {hurt for hurt, words in _HURT_WORDS.items()
             if any(re.search(rf"\b{w}\b", answer.question, re.I) for w in words)}
    pairs = [p for p in disagreements(claims_about(StateQuestion(names), hits, comments=False), hits)
             if p.a.aspect == "count" and p.what.split()[-1] in asked]
    return with_disagreements(answer, pairs, hits)


def with_holder_disagreements(answer: Answer, subject: StateQuestion, hits: Sequence[Hit]) -> Answer:
    """A who-holds answer with the reports that place another holder at the same time (articles: what readers
    say is asked for apart)."""
    pairs = [p for p in disagreements(claims_about(subject, hits, comments=False), hits) if p.a.aspect == "holder"]
    return with_disagreements(answer, pairs, hits)


def answer_topic(question: str, topic: Topic, hits: Sequence[Hit], retriever: Retriever,
                 filters: Filters) -> Answer | None:
    """The answer to a question about many reports: the passages retrieved for it and for its subject (in
    its window, when it names one) read as a timeline, a period, disagreements or readers' comments; None
    when they hold nothing for it (the caller answers it as any question)."""
    windowed = filters
    if topic.windowed:
        start = max(filter(None, (topic.date_from, filters.date_from)), default=None)
        end = min(filter(None, (topic.date_to, filters.date_to)), default=None)
        windowed = dc_replace(filters, date_from=start, date_to=end)
        hits = [h for h in hits if h.chunk.published_at and (not start or h.chunk.published_at[:10] >= start)
                and (not end or h.chunk.published_at[:10] <= end)]
    if topic.kind == "readers":
        windowed = dc_replace(windowed, kinds=("comment",))
    seen = {h.chunk.chunk_id for h in hits}
    query = topic.subject or question
    about = [] if topic.kind == "readers" else [  # readers: the comments retrieved for the question, as asked
        h for h in retriever.search(query, retriever.tuning.subject_passages * 2, windowed)
        if h.chunk.chunk_id not in seen]
    if topic.kind == "readers":  # the articles the comments sit under, for what they contradict
        docs = {h.chunk.doc_id for h in hits if h.chunk.kind == "comment"}
        about += [h for h in retriever.search(query, retriever.tuning.subject_passages,
                                              dc_replace(windowed, kinds=("article",)))
                  if h.chunk.doc_id in docs and h.chunk.chunk_id not in seen]
    every = list(hits) + about
    if topic.kind == "disagree":
        return answer_disagreements(question, topic, every, len(hits))
    if topic.kind == "readers":
        return answer_readers(question, topic, every, len(hits))
    return answer_timeline(question, topic, every, len(hits))
