"""The assembled assistant: settings → embedder, index, retriever, answerer; loaded once."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from qa.answer import Answerer, ExtractiveAnswerer
from qa.config import Settings
from qa.embed import Embedder, load_embedder
from qa.errors import BadQuestion, QAError
from qa.retrieve import Filters, Mode, Retriever
from qa.store import Index, live_build, open_index
from qa.types import Answer, Hit

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
    index: Index
    retriever: Retriever
    answerer: Answerer
    _loading: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seen: tuple[int, int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Pipeline:
        embedder = embedder or load_embedder(settings.model, settings.batch_size)
        index = open_index(settings.index, embedder.model_id, embedder.dim, embedder.fingerprint)
        answerer: Answerer = ExtractiveAnswerer(embedder)
        if settings.llm_url:
            from qa.llm import LLMAnswerer

            answerer = LLMAnswerer(settings, fallback=answerer)
        return cls(settings, embedder, index, Retriever(index, embedder, settings), answerer)

    def search(self, question: str, k: int | None = None, filters: Filters = Filters(),
               mode: Mode = "hybrid") -> list[Hit]:
        query = clean_question(question, self.settings.max_question_chars)
        return self.retriever.search(query, k, filters, mode)

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:
        query = clean_question(question, self.settings.max_question_chars)
        return self.answerer.answer(query, self.retriever.search(query, k, filters))

    def ask_stream(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Iterator[str | Answer]:
        """As `ask`, with the answer's text so far yielded as a language model writes it (unchecked),
        before the `Answer` itself, which comes last; an extractive answerer yields only the `Answer`."""
        query = clean_question(question, self.settings.max_question_chars)
        hits = self.retriever.search(query, k, filters)
        stream = getattr(self.answerer, "stream", None)
        if callable(stream):
            yield from stream(query, hits)
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
                               self.embedder.fingerprint)
        except QAError as exc:
            log.warning("Still answering from %s; the new build did not load: %s", self.index.build, exc)
            self._seen = seen
            return False
        except Exception:  # a server must keep answering whatever a half-written folder does
            log.exception("Still answering from %s; the new build did not load", self.index.build)
            self._seen = seen
            return False
        # The old index is not closed: requests in flight may still read it; it closes when freed.
        self.retriever, self.index, self._seen = Retriever(index, self.embedder, self.settings), index, seen
        log.info("Switched to %s", index.build)
        return True

    def close(self) -> None:
        self.index.close()
