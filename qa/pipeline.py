"""The assembled assistant: settings → embedder, index, retriever, answerer; loaded once."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from qa.answer import (
    Answerer,
    ExtractiveAnswerer,
    answer_state,
    answer_topic,
    prefixed,
    read_state_question,
    read_topic,
    with_holder_disagreements,
    with_toll_disagreements,
)
from qa.config import Settings
from qa.dates import RELATIVE_TIME, ordinal, relative_window
from qa.embed.models import Embedder, load_embedder
from qa.errors import BadQuestion, QAError
from qa.index import IndexReader, live_build, open_index
from qa.rerank import Ranker, default_ranker
from qa.runtime import runtime_for
from qa.search.retrieve import Filters, Mode, Retriever
from qa.text import plural
from qa.types import KINDS, Answer, Hit

log = logging.getLogger(__name__)


def clean_question(question: str, max_chars: int) -> str:
    """Control characters become spaces and whitespace is collapsed; empty or over-long is refused."""
    if not isinstance(question, str):
        raise BadQuestion("The question must be text.")
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestion("The question is empty. Type a question about the archive.")
    if len(text) > max_chars:
        raise BadQuestion(f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
                          "Ask something shorter.")
    return text


@dataclass
class Pipeline:
    settings: Settings
    embedder: Embedder
    index: IndexReader
    retriever: Retriever
    answerer: Answerer
    _loading: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seen: tuple[int, int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, ranker: Ranker | None = None) -> Pipeline:
        """The assistant for `settings`: the given embedder and reranker, else the configured model
        and the shipped reranker fitted on the embedder's runtime (loaded only when `rerank` is on)."""
        if embedder is None:
            runtime, note = runtime_for(settings)  # an index built with torch is searched with torch
            if note:
                log.warning("%s", note)
            embedder = load_embedder(settings.model, settings.batch_size, runtime, settings.device)
        if ranker is None and settings.rerank:
            ranker = default_ranker(embedder.runtime)
        # Sizes and the manifest are checked now, the files' hashes while the model loads: `check`
        # waits for them before the first result leaves.
        index = open_index(settings.index, embedder.model_id, embedder.dim, embedder.fingerprint,
                           verify="background", runtime=embedder.runtime)
        answerer: Answerer = ExtractiveAnswerer(embedder, idf=index.lexical.idf)
        if settings.llm_url:
            from qa.answer import LLMAnswerer

            answerer = LLMAnswerer(settings, fallback=answerer)
        return cls(settings, embedder, index, Retriever(index, embedder, settings, ranker), answerer)

    def search(self, question: str, k: int | None = None, filters: Filters = Filters(),
               mode: Mode = "hybrid") -> list[Hit]:
        query = clean_question(question, self.settings.max_question_chars)
        windowed, _ = self.window(query, filters)
        hits = self.retriever.search(query, k, windowed, mode) if windowed != filters else []
        hits = hits or self.retriever.search(query, k, filters, mode)
        self.index.check()
        return hits

    def newest(self) -> str | None:
        """The newest publication date in the index (ISO), None when nothing is dated."""
        days = self.index.days
        return date.fromordinal(int(days.max())).isoformat() if len(days) and days.max() > 0 else None

    def window(self, query: str, filters: Filters) -> tuple[Filters, str]:
        """The filters narrowed to the time a question names ("this week", "last month", "recently"),
        read against the `to` date asked for, else the newest date in the archive; and its label."""
        if not RELATIVE_TIME.search(query):  # most questions name no span: spare the scan for the newest date
            return filters, ""
        anchor = filters.date_to or self.newest()
        found = relative_window(query, anchor) if anchor else None
        if found is None:
            return filters, ""
        start = max(found.date_from, filters.date_from or found.date_from)
        return replace(filters, date_from=start, date_to=min(found.date_to, anchor or found.date_to)), found.label

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:
        answer: Answer | None = None
        for item in self.ask_stream(question, k, filters):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # ask_stream always ends with the answer
        return answer

    def ask_stream(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Iterator[str | Answer]:
        """As `ask`, with the answer's text so far yielded as a language model writes it (unchecked),
        before the `Answer` itself, which comes last; an extractive answerer yields only the `Answer`."""
        query = clean_question(question, self.settings.max_question_chars)
        windowed, label = self.window(query, filters)
        hits = self.retriever.search(query, k, windowed) if label else []
        if label and not hits:
            label = f"Nothing in the archive is dated {label[0].lower()}{label[1:]}; from all reports"
            windowed = filters
        if not hits:
            hits = self.retriever.search(query, k, filters)
        self.index.check()
        for item in self._answer(query, hits, windowed):
            if isinstance(item, Answer) and label and not item.abstained:
                item = prefixed(item, f"{label}: ")
            if isinstance(item, Answer) and item.abstained and (note := self.undated_note(windowed)):
                item = replace(item, notes=(*item.notes, note))
            yield item

    def undated_note(self, filters: Filters) -> str | None:
        """What a date filter left out because it carries no date: `'The date filter left out 3
        undated documents; ...'`, None when it left out none (or there is no date filter)."""
        if not (filters.date_from or filters.date_to):
            return None
        undated = self.index.days < 0
        if filters.kinds:
            undated &= np.isin(self.index.kinds, [KINDS.index(k) for k in filters.kinds])
        n = len(np.unique(self.index.doc_rows[undated]))
        if not n:
            return None
        return (f"The date filter left out {plural(n, 'undated document')}: {'it carries' if n == 1 else 'they carry'} "
                "no date, so the answer may be there; ask again without the dates to search them.")

    def _answer(self, query: str, hits: list[Hit], filters: Filters) -> Iterator[str | Answer]:
        subject = read_state_question(query)
        topic = read_topic(query)
        if topic is not None and subject is not None and topic.kind != "period" and not topic.history:
            topic = None  # "what happened to X?": who held it; "… in 2023?" is a period; "who has held X?" a timeline
        elif topic is not None:
            subject = None
        if topic is not None and isinstance(self.answerer, ExtractiveAnswerer):
            found = answer_topic(query, topic, hits, self.retriever, filters)
            if found is not None:
                yield found
                return
        if subject is None:
            extractive = isinstance(self.answerer, ExtractiveAnswerer)
            for item in self._reply(query, hits):
                yield with_toll_disagreements(item, hits) if extractive and isinstance(item, Answer) else item
            return
        # Who holds X: the newest reports about X must be read even when older ones match the wording better.
        seen = {h.chunk.chunk_id for h in hits}
        articles = replace(filters, kinds=("article",))
        about = [h for h in self.retriever.search(subject.subject, self.retriever.tuning.subject_passages, articles)
                 if h.chunk.chunk_id not in seen]
        if isinstance(self.answerer, ExtractiveAnswerer):
            found = answer_state(query, subject, hits + about, nearest=len(hits))
            yield with_holder_disagreements(found, subject, hits + about) if found is not None \
                else self.answerer.answer(query, hits)
            return
        newest = sorted(about, key=lambda h: -ordinal(h.chunk.published_at))[:len(hits)]
        # should the model fail, the quoted answer is the latest state, as without a model
        yield from self._reply(query, hits + newest,
                               quoted=lambda: answer_state(query, subject, hits + about, nearest=len(hits)))

    def _reply(self, query: str, hits: list[Hit],
               quoted: Callable[[], Answer | None] | None = None) -> Iterator[str | Answer]:
        stream = getattr(self.answerer, "stream", None)  # the LLM answerer streams; the extractive one answers
        if callable(stream):
            yield from stream(query, hits, quoted)
        else:
            yield self.answerer.answer(query, hits)

    def refresh(self) -> bool:
        """Switch to the build a rebuild has made live since this one was loaded; True if it did.

        Cheap when nothing changed: one stat of `CURRENT`. The loaded build keeps answering until
        the new one is fully loaded and checked; one that fails to load is logged and the loaded
        one kept (until `CURRENT` changes again). Thread-safe: while one thread loads, others
        return False at once and go on with the loaded build.
        """
        pointer = self.settings.index / "CURRENT"
        try:
            stat = pointer.stat()
        except OSError:
            return False
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen == self._seen or not self._loading.acquire(blocking=False):
            return False
        try:
            return self._switch(seen)
        finally:
            self._loading.release()

    def _switch(self, seen: tuple[int, int, int]) -> bool:
        try:
            live = live_build(self.settings.index)
            if live is None or live.name == self.index.build.name:
                self._seen = seen
                return False
            index = open_index(self.settings.index, self.embedder.model_id, self.embedder.dim,
                               self.embedder.fingerprint, runtime=self.embedder.runtime)
        except QAError as exc:
            log.warning("Still answering from %s; the new build did not load: %s", self.index.build, exc)
            self._seen = seen
            return False
        except Exception:  # a server must keep answering whatever a half-written folder does
            log.exception("Still answering from %s; the new build did not load", self.index.build)
            self._seen = seen
            return False
        # The old index is not closed: requests in flight may still read it; it closes when freed.
        retriever = Retriever(index, self.embedder, self.settings, self.retriever.reranker, self.retriever.tuning)
        self.retriever, self.index, self._seen = retriever, index, seen
        for answerer in (self.answerer, getattr(self.answerer, "fallback", None)):
            if isinstance(answerer, ExtractiveAnswerer):
                answerer.idf = index.lexical.idf
        log.info("Switched to %s", index.build)
        return True

    def close(self) -> None:
        self.index.close()
